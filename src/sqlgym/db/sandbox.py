"""Agent SQL is untrusted: an authorizer per purpose, hard limits, and bounds on steps, time and memory.

Modes:
- ``read``: SELECT only (plus PRAGMAs that can only read, like table_info); what agent queries run under.
- ``write``: ``read`` plus INSERT/UPDATE/DELETE on user tables and SAVEPOINT; for workload DML,
  which always runs inside a savepoint that is rolled back.
- ``admin``: the library's own statements (build, CREATE INDEX it generated, ANALYZE, dbstat).
Every mode denies ATTACH/DETACH (which also covers ``VACUUM INTO``) and ``load_extension``.
``read`` and ``write`` are the *agent* modes; ``run(..., deterministic=True)`` is their deterministic
flavour, for SQL that is measured or compared: it also denies the functions in
``guards.NONDETERMINISTIC_FUNCTIONS`` (random, randomblob, changes, last_insert_rowid, sqlite_version,
current_timestamp, ...). Date/time functions that read the clock cannot be seen by the authorizer
(it never sees arguments): :func:`sqlgym.db.guards.nondeterministic_reason` finds them statically.

Bounds on one agent statement (modes ``read`` and ``write``). SQLite stops a statement only between
VM steps (the progress handler every ``PROGRESS_EVERY`` steps, ``sqlite3_interrupt`` at jumps, that is
once a row), so a statement is bounded by bounding both its steps and the work of a step:
- steps: the caller's VM-step ``budget`` (deterministic: it is the cost model's currency);
- wall time: ``deadline_s`` (``AGENT_DEADLINE_S`` for the agent's own SQL), checked by the progress
  handler on every 4th call (the clock and the heap cost 130 ns a call, 1% of 1,000 steps; one call
  in four costs 0.3%), by a watchdog thread that calls ``interrupt()`` (a run of slow steps between
  two handler calls is cut at the next row), and by the replaced string functions before each call.
  It raises ``DeadlineExceeded``, a ``BudgetExceeded``: wall time is machine-dependent, so callers
  turn it into an invalid action, never into a cost or a reward;
- the work of a step: ``AGENT_LIMITS``: strings and blobs of 250 KB (a connection raises it to the
  largest value it stores), LIKE/GLOB patterns of 100 characters, 127 function arguments, programs
  of at most 2,688 VM instructions (straight-line code, which no interrupt reaches, is at most that
  many steps, each linear in 250 KB); at most ``MAX_HEAVY_CALLS`` LIKE/GLOB call sites (each is
  O(pattern x text) in one step); linear replacements for instr, replace and trim
  (:mod:`sqlgym.db.guards`); json_patch (quadratic in keys) denied. ``like``/``glob`` stay SQLite's:
  overriding them would disable the LIKE optimisation and change plans and measured costs;
- memory: SQLite's heap may grow by ``STATEMENT_MEMORY`` during the statement. The progress handler
  checks ``apsw.memory_used()``; as the backstop for a burst between two checks (a row of many large
  values is computed in one stretch), ``apsw.hard_heap_limit`` is set to the usage at the start plus
  that allowance plus ``HEAP_SLACK`` for the statement and restored after (the soft limit SQLite
  lowers with it too). It is relative to current usage, so the deserialized databases every env holds
  never count against it, and nested or concurrent statements (threads) add their allowances; the
  one thing it could break is *another thread's* SQLite work allocating more than the headroom
  while an agent statement runs: set ``HEAP_BACKSTOP = False`` in such a process (the handler check
  and the row caps remain). Agent statements reset SQLite's memory and malloc-size high-water marks
  (to tell a memory stop from a program over the instruction limit, which SQLite reports as out of
  memory too). Rows kept in Python are capped in cells and bytes (:func:`keep_rows`);
- disk: ``PRAGMA temp_store = MEMORY`` while the agent's own SQL runs (a statement with a deadline),
  so its sorts, temporary B-trees and statement journals stay in memory, under the memory bound,
  and never reach a temp file. The library's statements and the workload the meter measures keep
  SQLite's default, which sorts a third faster (see ``_temp_store``).

Worst cases measured on the development machine (2 shared cores) over the hostile table of
tests/test_hostile.py with the default deadline of 1 s: 2.3 s of wall time (a sort of a cross join,
which SQLite does in one step after its input ran up to the deadline; straight-line JSON parses
and text-to-number conversions of 250 KB values take 1.5-2 s), 0.7 GB peak RSS (a row of 850
values of 250 KB, in SQLite and again in Python), no temp file.
"""

from __future__ import annotations

import os
import threading
import time

import apsw

from sqlgym.db import guards
from sqlgym.errors import SqlgymError

READ_PRAGMAS = frozenset({"table_info", "table_xinfo", "index_list", "index_info", "index_xinfo", "foreign_key_list"})
DENIED_FUNCTIONS = frozenset({"load_extension", "fts3_tokenizer"})
AGENT_DENIED_FUNCTIONS = frozenset({"json_patch", "jsonb_patch"})  # O(keys^2) inside one VM step
HEAVY_FUNCTIONS = frozenset({"like", "glob"})  # O(pattern x text) inside one VM step
NONDETERMINISTIC_FUNCTIONS = guards.NONDETERMINISTIC_FUNCTIONS
READ_OPS = frozenset({apsw.SQLITE_SELECT, apsw.SQLITE_READ, apsw.SQLITE_RECURSIVE, apsw.SQLITE_FUNCTION})
WRITE_OPS = READ_OPS | {apsw.SQLITE_INSERT, apsw.SQLITE_UPDATE, apsw.SQLITE_DELETE, apsw.SQLITE_SAVEPOINT}
ALWAYS_DENIED = frozenset({apsw.SQLITE_ATTACH, apsw.SQLITE_DETACH})
AGENT_MODES = frozenset({"read", "write"})

# Limits on every sandboxed connection (the library's own statements run under these).
LIMITS = {
    apsw.SQLITE_LIMIT_ATTACHED: 0,
    apsw.SQLITE_LIMIT_LENGTH: 5_000_000,  # largest string or blob (randomblob(1e12) fails fast)
    apsw.SQLITE_LIMIT_SQL_LENGTH: 100_000,
    apsw.SQLITE_LIMIT_EXPR_DEPTH: 200,
}
# Limits while an agent statement runs: they bound the work of one VM step and of a program.
AGENT_LIMITS = {
    **LIMITS,
    apsw.SQLITE_LIMIT_LENGTH: 250_000,
    apsw.SQLITE_LIMIT_LIKE_PATTERN_LENGTH: 100,
    apsw.SQLITE_LIMIT_FUNCTION_ARG: 127,
    apsw.SQLITE_LIMIT_VDBE_OP: 5_000,  # SQLite grows programs by doubling: 2,688 instructions at most
}


def _defaults(limits) -> dict:
    conn = apsw.Connection(":memory:")
    try:
        return {limit: conn.limit(limit, -1) for limit in limits}
    finally:
        conn.close()


# what the library's statements run under again after an agent statement: SQLite's defaults
LIMITS.update({k: v for k, v in _defaults(AGENT_LIMITS).items() if k not in LIMITS})
MAX_HEAVY_CALLS = 8  # LIKE/GLOB call sites in one agent statement
STATEMENT_MEMORY = 256 << 20  # bytes SQLite's heap may grow by during one agent statement
HEAP_SLACK = 32 << 20  # the hard heap limit sits this far above the handler's check
HEAP_BACKSTOP = True  # arm apsw.hard_heap_limit around agent statements (see the module docstring)
MAX_KEPT_CELLS = 2_000_000  # cells of result rows kept in Python by one statement
MAX_KEPT_BYTES = 64 << 20  # bytes of text and blobs in those rows
AGENT_DEADLINE_S = 1.0  # wall-time deadline for one agent statement, where the caller asks for one
PROGRESS_EVERY = 1000  # VM steps between progress-handler calls
CHECK_MASK = 3  # the handler reads the clock and the heap on every 4th call (4,000 steps, ~50 us)
# A no-op for SQLite, only another key in apsw's statement cache (see run()); PERSISTENT would also
# do, but it keeps statements out of lookaside memory, and measured statements are re-prepared often.
DETERMINISTIC_PREPARE_FLAGS = apsw.SQLITE_PREPARE_NORMALIZE

_INF = float("inf")
_monotonic = time.monotonic
_memory_used = apsw.memory_used


class AgentSQLError(SqlgymError, ValueError):
    """Agent SQL that the sandbox refused or stopped; an observation for the agent, never a crash.

    A ``ValueError`` too, so code that caught ``ValueError`` (ReadOnlyDatabase.run's old error for
    several statements) keeps working.
    """


class BudgetExceeded(AgentSQLError):
    """A statement ran past its VM-step budget and was interrupted."""


class DeadlineExceeded(BudgetExceeded):
    """A statement ran past its wall-time deadline. Machine-dependent: an invalid action, never a cost."""


class MemoryBudgetExceeded(BudgetExceeded):
    """A statement used more memory than one statement may (SQLite's heap, or rows kept in Python)."""


class NonDeterministicSQL(AgentSQLError):
    """SQL whose result could differ between runs or machines, where only deterministic SQL may run."""


def keep_rows(cur, max_rows: int | None) -> tuple[list[tuple], int]:
    """Iterate ``cur``: (its first ``max_rows`` rows, total rows), within the caps on what is kept."""
    kept: list[tuple] = []
    total = cells = size = 0
    limit = -1 if max_rows is None else max_rows
    for row in cur:
        total += 1
        if total <= limit or limit < 0:
            kept.append(row)
            cells += len(row)
            for v in row:
                if v.__class__ is str or v.__class__ is bytes:
                    size += len(v)
            if size > MAX_KEPT_BYTES or cells > MAX_KEPT_CELLS:
                raise MemoryBudgetExceeded(
                    f"the result is too large to keep (more than {MAX_KEPT_CELLS:,} values or {MAX_KEPT_BYTES >> 20} MiB "
                    f"of text and blobs in the first {len(kept):,} rows)")
    return kept, total


class _Watchdog:
    """One daemon thread per process: interrupts a connection whose statement is past its deadline.

    Needed because the progress handler runs only every PROGRESS_EVERY steps, and a step can be slow;
    ``sqlite3_interrupt`` is seen at the next jump (every row). Idle (blocked on an event) while no
    statement has a deadline.
    """

    TICK = 0.02

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget every armed statement and the thread (a forked child has neither)."""
        self._armed: dict[int, Sandbox] = {}
        self._wake = threading.Event()
        self._idle = False
        self._thread: threading.Thread | None = None

    def arm(self, sb: Sandbox) -> None:
        self._armed[id(sb)] = sb
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="sqlgym-sql-watchdog", daemon=True)
            self._thread.start()
        if self._idle:
            self._wake.set()

    def disarm(self, sb: Sandbox) -> None:
        with sb._stop_lock:
            self._armed.pop(id(sb), None)

    def _loop(self) -> None:
        while True:
            self._idle = True
            if not self._armed:
                self._wake.wait()
                self._wake.clear()
                continue
            self._idle = False
            time.sleep(self.TICK)
            now = _monotonic()
            for key, sb in list(self._armed.items()):
                if now > sb._deadline:
                    with sb._stop_lock:
                        if self._armed.get(key) is sb and now > sb._deadline:
                            sb._stopped = "deadline"
                            sb.conn.interrupt()
                            del self._armed[key]


_WATCHDOG = _Watchdog()
os.register_at_fork(after_in_child=_WATCHDOG.reset)

_heap_lock = threading.Lock()
_heap = {"depth": 0, "hard": 0, "soft": 0}


def _heap_arm(allowance: int) -> None:
    with _heap_lock:
        if _heap["depth"] == 0:
            _heap["hard"], _heap["soft"] = apsw.hard_heap_limit(-1), apsw.soft_heap_limit(-1)
            limit = _memory_used() + allowance
        else:
            limit = apsw.hard_heap_limit(-1) + allowance
        if _heap["hard"] > 0:
            limit = min(limit, _heap["hard"])  # never looser than a limit the process set itself
        apsw.hard_heap_limit(limit)
        _heap["depth"] += 1


def _heap_disarm(allowance: int) -> None:
    with _heap_lock:
        _heap["depth"] -= 1
        if _heap["depth"] == 0:
            apsw.hard_heap_limit(_heap["hard"])  # also resets the soft limit SQLite lowered with it
            apsw.soft_heap_limit(_heap["soft"])
        else:
            apsw.hard_heap_limit(max(1, apsw.hard_heap_limit(-1) - allowance))


class Sandbox:
    """Installs the authorizer, limits, bounds and replaced functions on one connection; ``mode`` switches purpose."""

    def __init__(self, conn: apsw.Connection):
        self.conn = conn
        self.mode = "admin"
        self.budget: int | None = None
        self.deterministic = False
        self.agent_limits = dict(AGENT_LIMITS)  # a connection may raise LENGTH to its largest stored value
        self._ticks = 0
        self._max_ticks = _INF
        self._deadline = _INF
        self._deadline_s: float | None = None
        self._mem_cap = _INF
        self._stopped: str | None = None
        self._refused: AgentSQLError | None = None
        self._heavy = 0
        self._limits: dict | None = None
        self._stop_lock = threading.Lock()
        self._heap_armed = False
        self._temp_in_memory = False
        self._apply(LIMITS)
        conn.authorizer = self._authorize
        conn.set_progress_handler(self._progress, PROGRESS_EVERY)
        guards.install_linear_functions(conn, self._check_deadline)

    @property
    def prepare_flags(self) -> int:
        """Flags to prepare the current statement with (the deterministic flavour has its own cache key)."""
        return DETERMINISTIC_PREPARE_FLAGS if self.deterministic else 0

    def set_agent_limit(self, limit: int, value: int) -> None:
        """Change one of this connection's agent limits (e.g. LENGTH up to its largest stored value)."""
        self.agent_limits[limit] = value
        self._limits = None
        self._apply(self.agent_limits if self.mode in AGENT_MODES else LIMITS)

    def _apply(self, limits: dict) -> None:
        if self._limits is not limits:
            for limit, value in limits.items():
                self.conn.limit(limit, value)
            self._limits = limits

    def _temp_store(self, memory: bool) -> None:
        """temp_store=MEMORY for the agent's own SQL (runs with a deadline), SQLite's default otherwise.

        In memory, SQLite's sorter allocates each record on its own instead of in page-sized blocks:
        CREATE INDEX is a third slower and the workload's sorts 5-10%, so the library's statements and
        the workload the meter measures keep the default. A rewrite reaches the meter only after
        ``check_rewrite`` ran it, in memory and under the memory bound, on the same bindings.
        Switched lazily: consecutive statements of one kind pay nothing.
        """
        if self._temp_in_memory is not memory:
            mode, self.mode = self.mode, "admin"
            try:
                self.conn.execute("PRAGMA temp_store = MEMORY" if memory else "PRAGMA temp_store = DEFAULT")
                self._temp_in_memory = memory
            except apsw.SQLError:  # "cannot be changed from within a transaction" (with a temp table open)
                pass
            finally:
                self.mode = mode

    def _authorize(self, op, p1, p2, dbname, trigger):
        if op in ALWAYS_DENIED:
            # sqlite3_deserialize() runs "ATTACH x AS main" internally; only restore() sets this mode
            return apsw.SQLITE_OK if self.mode == "restore" and p1 == "x" else apsw.SQLITE_DENY
        if op == apsw.SQLITE_FUNCTION:
            name = (p2 or "").lower()
            if name in DENIED_FUNCTIONS:
                return apsw.SQLITE_DENY
            return self._authorize_call(name) if self.mode in AGENT_MODES else apsw.SQLITE_OK
        if self.mode == "admin":
            return apsw.SQLITE_OK
        if op == apsw.SQLITE_PRAGMA:
            return apsw.SQLITE_OK if (p1 or "").lower() in READ_PRAGMAS else apsw.SQLITE_DENY  # all take a name, none sets
        if op in (apsw.SQLITE_INSERT, apsw.SQLITE_UPDATE, apsw.SQLITE_DELETE) and (p1 or "").lower().startswith("sqlite_"):
            return apsw.SQLITE_DENY
        allowed = WRITE_OPS if self.mode == "write" else READ_OPS
        return apsw.SQLITE_OK if op in allowed else apsw.SQLITE_DENY

    def _authorize_call(self, name: str) -> int:
        """A function call site in an agent statement (the authorizer sees each one at prepare)."""
        if name in AGENT_DENIED_FUNCTIONS:
            self._refused = AgentSQLError(f"{name}() is not available to agent SQL (its cost is quadratic)")
            return apsw.SQLITE_DENY
        if self.deterministic and name in NONDETERMINISTIC_FUNCTIONS:
            self._refused = NonDeterministicSQL(f"{name}() is not deterministic; SQL that is measured or compared must be")
            return apsw.SQLITE_DENY
        if name in HEAVY_FUNCTIONS:
            self._heavy += 1
            if self._heavy > MAX_HEAVY_CALLS:
                self._refused = AgentSQLError(f"more than {MAX_HEAVY_CALLS} LIKE/GLOB in one statement")
                return apsw.SQLITE_DENY
        return apsw.SQLITE_OK

    def _progress(self) -> bool:
        t = self._ticks = self._ticks + 1
        if t > self._max_ticks:
            self._stopped = "steps"
            return True
        if t & CHECK_MASK:
            return False
        if _monotonic() > self._deadline:
            self._stopped = "deadline"
            return True
        if _memory_used() > self._mem_cap:
            self._stopped = "memory"
            return True
        return False

    def _check_deadline(self) -> None:
        """Called by the replaced string functions before each call."""
        if _monotonic() > self._deadline:
            self._stopped = "deadline"
            raise self._stop_error()

    def _stop_error(self) -> BudgetExceeded:
        if self._stopped == "deadline":
            return DeadlineExceeded(f"stopped at its wall-time deadline of {self._deadline_s:g} s")
        if self._stopped == "memory":
            return MemoryBudgetExceeded(f"stopped after using more than {STATEMENT_MEMORY >> 20} MiB of memory")
        return BudgetExceeded(f"stopped after about {self._ticks * PROGRESS_EVERY:,} VM steps (budget {self.budget:,})")

    def disarm(self) -> None:
        """Lift the current run's step, time and memory bounds (for the library's cleanup inside ``fn``)."""
        _WATCHDOG.disarm(self)
        self._max_ticks = self._deadline = self._mem_cap = _INF
        if self._heap_armed:
            _heap_disarm(STATEMENT_MEMORY + HEAP_SLACK)
            self._heap_armed = False

    def run(self, mode: str, budget: int | None, fn, *args, deadline_s: float | None = None,
            deterministic: bool = False):
        """Call ``fn(*args)`` under ``mode`` with a VM-step ``budget`` and, if given, a wall-time ``deadline_s``.

        Stops become ``BudgetExceeded`` (steps), ``DeadlineExceeded`` (time), ``MemoryBudgetExceeded``
        (memory); refusals the sandbox can explain become ``AgentSQLError``/``NonDeterministicSQL``.
        ``deterministic`` (agent modes only) denies non-deterministic functions. The authorizer runs when
        a statement is prepared, and apsw caches prepared statements by text and flags, so ``fn`` must
        prepare with ``prepare_flags``: a statement prepared without the check is then never reused.
        """
        agent = mode in AGENT_MODES
        if mode != "restore":  # deserialize() needs no statement, and must not run one
            self._temp_store(agent and deadline_s is not None)
        saved = (self.mode, self.budget, self.deterministic, self._max_ticks, self._deadline, self._mem_cap,
                 self._deadline_s, self._ticks, self._heavy, self._heap_armed)
        self.mode, self.budget, self.deterministic = mode, budget, deterministic and agent
        self._ticks = self._heavy = 0
        self._stopped = self._refused = None
        self._max_ticks = _INF if budget is None else budget // PROGRESS_EVERY
        self._deadline_s = deadline_s
        self._deadline = _INF if deadline_s is None else _monotonic() + deadline_s
        self._apply(self.agent_limits if agent else LIMITS)
        self._heap_armed = False
        if agent:
            self._mem_cap = _memory_used() + STATEMENT_MEMORY
            if HEAP_BACKSTOP:
                _heap_arm(STATEMENT_MEMORY + HEAP_SLACK)
                self._heap_armed = True
                apsw.memory_high_water(True)  # to tell a memory stop from a program too large, below
                apsw.status(apsw.SQLITE_STATUS_MALLOC_SIZE, True)
        else:
            self._mem_cap = _INF
        if deadline_s is not None:
            _WATCHDOG.arm(self)
        try:
            return fn(*args)
        except apsw.InterruptError:
            if self._stopped is None:
                raise  # someone else's interrupt()
            raise self._stop_error() from None
        except apsw.NoMemError:
            if not agent:
                raise
            # the largest request is recorded even when it fails; a program too big requests nothing
            peak = apsw.memory_high_water() + apsw.status(apsw.SQLITE_STATUS_MALLOC_SIZE)[1]
            if self._heap_armed and peak + HEAP_SLACK < self._mem_cap:
                # SQLite reports a program over SQLITE_LIMIT_VDBE_OP as out of memory, at prepare
                raise AgentSQLError("the statement is too large: it compiles to more VM instructions than agent SQL "
                                    "may have (a few thousand)") from None
            raise MemoryBudgetExceeded(f"stopped after using more than {STATEMENT_MEMORY >> 20} MiB of memory") from None
        except (apsw.AuthError, apsw.SQLError):  # a denied function is an SQLError "not authorized"
            if self._refused is None:
                raise
            raise self._refused from None
        finally:
            if deadline_s is not None:
                _WATCHDOG.disarm(self)
            if self._heap_armed:
                _heap_disarm(STATEMENT_MEMORY + HEAP_SLACK)
            (self.mode, self.budget, self.deterministic, self._max_ticks, self._deadline, self._mem_cap,
             self._deadline_s, self._ticks, self._heavy, self._heap_armed) = saved
            self._apply(self.agent_limits if self.mode in AGENT_MODES else LIMITS)
