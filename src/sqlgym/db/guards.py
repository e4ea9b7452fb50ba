"""What the sandbox cannot get from SQLite's own limits: linear-time string functions, and a static
check for SQL whose result depends on more than the data.

Linear functions. SQLite's ``instr``, ``replace`` and two-argument ``trim``/``ltrim``/``rtrim`` compare
every position of their first argument with (every character of) the second, O(n*m) inside one VM
step, where neither the progress handler nor ``sqlite3_interrupt`` can stop them (a 400 KB ``instr``
takes a second, a 50 KB ``trim`` set twelve). :func:`install_linear_functions` replaces them, on a
sandboxed connection, with Python versions that are linear (``str.find``, ``str.count`` and
``str.replace`` are linear in CPython >= 3.10; ``trim`` scans with a set), check the statement's
deadline before they start, and refuse a ``replace`` result over SQLite's length limit before
building it. Results are SQLite's, value for value: numbers are turned into text by SQLite itself, and
the rare argument these versions do not handle themselves (a blob that is not UTF-8 text mixed with
text) goes to the built-in on a private connection if it is small. VM-step counts do not change (the
call is one opcode either way), nor do plans: none of them is special to the planner, unlike
``like``/``glob``, which stay SQLite's (overriding them would disable the LIKE optimisation).

Non-determinism. :func:`nondeterministic_reason` says why a statement's result could change between
runs or machines although the data did not: a call to a non-deterministic function (``random``,
``randomblob``, ``changes``, ``total_changes``, ``last_insert_rowid``, ``sqlite_version``...), or a
date/time function that reads the clock (no time value; 'now', or 'subsec' as the time value) or
the machine's time zone ('localtime', 'utc'). The authorizer can deny functions by name (the
sandbox's ``deterministic`` flavour does) but never sees arguments, so the clock and zone are
found statically, from sqlglot's tree. The check is sound for everything the SQL text computes: an
argument of a date/time function must be built from literals that are none of those words,
parameters, columns, numbers, arithmetic, nested date/time calls, and concatenations holding a
character that none of those words has. A column of a CTE or derived table could hold a computed
'now', so a date/time function over columns is refused when the statement has either. What is left
is data that literally contains 'now': the scenario's databases never do.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable
from typing import Any, cast

import apsw
import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

# -- non-determinism -----------------------------------------------------------------------------

NONDETERMINISTIC_FUNCTIONS = frozenset({
    "random", "randomblob", "changes", "total_changes", "last_insert_rowid",
    "sqlite_version", "sqlite_source_id", "sqlite_compileoption_get", "sqlite_compileoption_used",
    "current_date", "current_time", "current_timestamp",
})
DATE_FUNCTIONS = frozenset({"date", "time", "datetime", "julianday", "unixepoch", "strftime", "timediff"})
CLOCK_WORDS = frozenset({"now", "subsec", "subsecond"})  # as a time value: the current time
ZONE_WORDS = frozenset({"localtime", "utc"})  # as a modifier: the machine's time zone
_WORDS = CLOCK_WORDS | ZONE_WORDS
_WORD_CHARS = frozenset("".join(_WORDS))
_SAFE_WRAPPERS = (exp.Paren, exp.Neg, exp.Cast, exp.TryCast)
_ARITHMETIC = (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod)
_LITERAL_RE = re.compile(r"'((?:[^']|'')*)'")


@functools.cache
def _typed_names() -> dict[type, str]:
    """sqlglot node classes that stand for the functions above (sqlglot parses some into typed nodes)."""
    out: dict[type, str] = {}
    for name in sorted(NONDETERMINISTIC_FUNCTIONS | DATE_FUNCTIONS):
        for args in ("", "a", "a, b", "a, b, c"):
            try:
                node = sqlglot.parse_one(f"SELECT {name}({args})", read="sqlite").expressions[0]
            except (SqlglotError, IndexError):
                continue
            if not isinstance(node, exp.Anonymous):
                out.setdefault(type(node), name)
    for cls, name in ((exp.CurrentTimestamp, "current_timestamp"), (exp.CurrentDate, "current_date"),
                      (exp.CurrentTime, "current_time")):
        out[cls] = name  # the keywords, and what sqlglot puts in for strftime's missing time value
    out.pop(exp.TsOrDsToTimestamp, None)  # a wrapper sqlglot adds around strftime's argument
    return out


def _function_name(node: Any) -> str | None:
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    return _typed_names().get(type(node))


def _args(node: Any) -> list[Any]:
    return [a for a in node.iter_expressions() if not isinstance(a, exp.Identifier)]


def _unwrap(node: Any) -> Any:
    while isinstance(node, exp.TsOrDsToTimestamp) or isinstance(node, exp.Paren):
        node = node.this
    return node


def _word(node: Any) -> str | None:
    if isinstance(node, exp.Literal) and node.is_string:
        w = str(node.this).strip().lower()
        return w if w in _WORDS else None
    return None


def _concat_parts(node: Any) -> list[Any]:
    if isinstance(node, exp.DPipe):
        return _concat_parts(node.left) + _concat_parts(node.right)
    if isinstance(node, exp.Concat):
        return [p for a in node.expressions for p in _concat_parts(a)]
    return [node]


def _unsafe_arg(node: Any, state: dict) -> str | None:
    """Why ``node``, as a date/time argument, might be one of the clock or zone words (None: it cannot)."""
    node = _unwrap(node)
    if isinstance(node, exp.Literal):
        w = _word(node)
        return f"'{w}'" if w else None
    if isinstance(node, (exp.Null, exp.Boolean, exp.Placeholder, exp.Parameter)):
        return None
    if isinstance(node, exp.Column):
        ident = node.args.get("this")
        if isinstance(ident, exp.Identifier) and ident.quoted and str(ident.this).strip().lower() in _WORDS:
            return f'"{ident.this}"'  # SQLite reads a double-quoted name that is no column as a string
        state.setdefault("columns", []).append(str(node.table or "").lower())  # its qualifier ("" if none)
        return None
    if isinstance(node, _SAFE_WRAPPERS):
        return _unsafe_arg(node.this, state)
    if isinstance(node, _ARITHMETIC):
        return _unsafe_arg(node.left, state) or _unsafe_arg(node.right, state)
    if isinstance(node, (exp.DPipe, exp.Concat)):
        parts = [_unwrap(p) for p in _concat_parts(node)]
        marked = any(isinstance(p, exp.Literal) and p.is_string
                     and any(not c.isspace() and c.lower() not in _WORD_CHARS for c in str(p.this)) for p in parts)
        if not marked:
            return f"a concatenation ({node.sql('sqlite')[:60]})"
        for p in parts:
            if not (isinstance(p, exp.Literal) and p.is_string):
                why = _unsafe_arg(p, state)
                if why:
                    return why
        return None
    name = _function_name(node)
    if name in DATE_FUNCTIONS:
        return _date_reason(node, name, state)
    return f"a computed value ({node.sql('sqlite')[:60]})"


def _date_reason(node: Any, name: str, state: dict) -> str | None:
    args = [_unwrap(a) for a in _args(node)]
    if isinstance(node, exp.TimeToStr):  # strftime(format, time value, modifiers...)
        args = [a for a in args if a is not node.args.get("format")]
    elif name == "strftime" and args:
        args = args[1:]
    if not args or any(isinstance(a, (exp.CurrentTimestamp, exp.CurrentDate, exp.CurrentTime)) for a in args):
        return f"{name}() without a time value reads the clock"
    for i, a in enumerate(args):
        w = _word(a)
        if w in ZONE_WORDS or (w in CLOCK_WORDS and (i == 0 or w == "now")):
            return f"{name}() with '{w}' depends on the {'clock' if w in CLOCK_WORDS else 'time zone'}"
        why = _unsafe_arg(a, state) if w is None else None
        if why:
            return f"{name}() over {why} might read the clock"
    return None


def _derived_sources(tree: Any) -> set[str]:
    """Names under which computed rows can be read: CTEs, and aliased subqueries or VALUES in a FROM or JOIN."""
    names = {str(c.alias_or_name).lower() for c in tree.find_all(exp.CTE)}
    for node in tree.find_all(exp.Subquery, exp.Values):
        alias = node.alias_or_name if isinstance(node, exp.Subquery) else node.alias
        if alias:
            names.add(str(alias).lower())
        elif isinstance(node.parent, (exp.From, exp.Join)):
            names.add("(unnamed)")
    return names


def nondeterministic_reason(sql: str) -> str | None:
    """Why ``sql`` might return different rows on another run or machine with the same data, or None.

    Static (sqlglot): non-deterministic functions, and date/time functions whose arguments could be
    'now', 'subsec', 'localtime' or 'utc'. SQL that sqlglot cannot parse is judged on its string
    literals and called names alone.
    """
    try:
        trees = [t for t in sqlglot.parse(sql, read="sqlite") if t is not None]
    except (SqlglotError, RecursionError, ValueError):
        return _lexical_reason(sql)
    for tree in trees:
        derived = _derived_sources(tree)
        for node in tree.walk():
            if not isinstance(node, exp.Func):
                continue
            name = _function_name(node)
            if name in NONDETERMINISTIC_FUNCTIONS:
                if isinstance(node.parent, exp.TsOrDsToTimestamp):
                    return "strftime() without a time value reads the clock"
                return f"{name}() is not deterministic"
            if name in DATE_FUNCTIONS:
                state: dict = {}
                why = _date_reason(node, name, state)
                if why:
                    return why
                # a column of a base table holds stored data; one of a CTE, a subquery or VALUES in FROM
                # may have been computed ('now'): a qualifier names its source, a bare name might be either
                if derived and any(q in derived or not q for q in state.get("columns", [])):
                    return f"{name}() over a column of a CTE or subquery, which might hold 'now'"
    return None


def _lexical_reason(sql: str) -> str | None:
    lowered = sql.lower()
    for name in NONDETERMINISTIC_FUNCTIONS:
        if re.search(rf"\b{name}\b", lowered):
            return f"{name}() is not deterministic"
    for m in _LITERAL_RE.finditer(sql):
        if m.group(1).strip().lower() in _WORDS:
            return f"'{m.group(1).strip()}' may read the clock or the time zone"
    return None


# -- linear string functions ---------------------------------------------------------------------

_SMALL = 10_000_000  # n*m a built-in may take (a few ms) when an argument needs SQLite's own conversion
_local = threading.local()


def _builtin(sql: str, args: tuple, length: int):
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = _local.conn = apsw.Connection(":memory:")
    conn.limit(apsw.SQLITE_LIMIT_LENGTH, length)
    row = conn.execute(sql, args).fetchone()
    return None if row is None else row[0]


def _text(v, length: int):
    """``v`` as SQLite's text of it: str, or None for NULL, or bytes that are not UTF-8."""
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return _builtin("SELECT CAST(? AS TEXT)", (v,), length)
    try:
        return bytes(v).decode("utf-8")
    except UnicodeDecodeError:
        return bytes(v)


def _too_costly(name: str) -> apsw.Error:
    return apsw.TooBigError(f"{name}() on a blob that is not UTF-8 text this large is not supported")


def _utf8_len(s: str) -> int:
    return len(s) if s.isascii() else len(s.encode("utf-8", "surrogatepass"))


def install_linear_functions(conn: apsw.Connection, check: Callable[[], None]) -> None:
    """Replace instr, replace and two-argument trim/ltrim/rtrim on ``conn`` (see the module docstring).

    ``check()`` runs before each call and raises to stop the statement (the sandbox's deadline).
    """

    def length() -> int:
        return conn.limit(apsw.SQLITE_LIMIT_LENGTH, -1)

    def instr(x, y):
        check()
        if x is None or y is None:
            return None
        if isinstance(x, bytes) and isinstance(y, bytes):
            return x.find(y) + 1
        tx, ty = _text(x, length()), _text(y, length())
        if isinstance(tx, str) and isinstance(ty, str):
            return tx.find(ty) + 1
        if len(tx) * len(ty) <= _SMALL:
            return _builtin("SELECT instr(?, ?)", (x, y), length())
        raise _too_costly("instr")

    def replace(x, y, z):
        check()
        if x is None or y is None:
            return None
        n = length()
        tx, ty = _text(x, n), _text(y, n)
        if isinstance(tx, str) and isinstance(ty, str):
            if ty[:1] in ("", "\x00"):  # SQLite tests the pattern's first byte: empty or NUL leaves X alone
                return tx
            tz = _text(z, n)
            if tz is None:
                return None
            if isinstance(tz, str):
                count = tx.count(ty)
                if count and len(tz) > len(ty):
                    grow = count * (_utf8_len(tz) - _utf8_len(ty))
                    if _utf8_len(tx) + grow > n:
                        raise apsw.TooBigError("string or blob too big")
                return tx.replace(ty, tz)
        if len(tx) * max(1, len(ty)) <= _SMALL:
            return _builtin("SELECT replace(?, ?, ?)", (x, y, z), n)
        raise _too_costly("replace")

    def trimmer(name: str, left: bool, right: bool):
        def trim(x, y):
            check()
            if x is None or y is None:
                return None
            n = length()
            tx, ty = _text(x, n), _text(y, n)
            if not (isinstance(tx, str) and isinstance(ty, str)):
                if len(tx) * len(ty) <= _SMALL:
                    return _builtin(f"SELECT {name}(?, ?)", (x, y), n)
                raise _too_costly(name)
            chars = set(ty.split("\x00", 1)[0])  # SQLite reads the set as a C string
            if len(chars) <= 32:  # str.strip scans the set for each character: fine when it is small
                s = "".join(chars)
                return tx.strip(s) if left and right else tx.lstrip(s) if left else tx.rstrip(s)
            i, j = 0, len(tx)
            if left:
                while i < j and tx[i] in chars:
                    i += 1
            if right:
                while j > i and tx[j - 1] in chars:
                    j -= 1
            return tx[i:j]
        return trim

    conn.create_scalar_function("instr", cast(Any, instr), 2, deterministic=True)
    conn.create_scalar_function("replace", cast(Any, replace), 3, deterministic=True)
    for name, left, right in (("trim", True, True), ("ltrim", True, False), ("rtrim", False, True)):
        conn.create_scalar_function(name, cast(Any, trimmer(name, left, right)), 2, deterministic=True)
