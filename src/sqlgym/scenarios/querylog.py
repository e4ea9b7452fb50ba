"""A workload someone else wrote: logged statements with literal values, made into templates and bindings.

An application logs ``SELECT ... WHERE email = 'a@b.c'``; a scenario measures a template
``SELECT ... WHERE email = :p1`` over parameter bindings. :func:`read_workload` reads the statements
(a ``.sql`` file, a ``sql,calls`` CSV as ``pg_stat_statements`` exports, or a list of strings),
:func:`templates` normalises them with sqlglot (literals -> named parameters) and merges identical
templates, and :func:`split_bindings` deals the observed literal tuples into visible and hidden ones.

Pure data (no database): whether a statement's tables and columns exist is for ``sqlgym.db.userdb``,
which checks every template against the file with SQLite itself.

Which literals become parameters: those of WHERE, HAVING, JOIN ... ON, SET, VALUES, LIMIT and OFFSET,
and any literal compared with something (``CASE WHEN nation = 'BRAZIL'`` in a projection): the values
an application fills in. Other literals of the projection, ORDER BY and GROUP BY stay in the template:
``ORDER BY 1`` names a column by position, and a parameter there would be a constant.
"""

from __future__ import annotations

import csv
import hashlib
import io
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlglot import exp

from sqlgym.errors import ConfigError, SQLParseError
from sqlgym.sqltext import parse

# string literals, quoted identifiers and comments, where a ';' does not end a statement (SQLite's lexer rules)
_OPAQUE = re.compile(r"""'(?:[^']|'')*'?|"(?:[^"]|"")*"?|`[^`]*`?|\[[^\]]*\]?|--[^\n]*|/\*.*?(?:\*/|\Z)""", re.S)
_WEIGHT = re.compile(r"--\s*weight\s*[:=]\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*$", re.I | re.M)
_NAME = re.compile(r"--\s*name\s*[:=]\s*([A-Za-z0-9_.#-]{1,40})\s*$", re.I | re.M)
_START = re.compile(r"^\s*(SELECT|WITH|INSERT|UPDATE|DELETE|REPLACE|VALUES)\b", re.I)
_INT = re.compile(r"[0-9]+")
_MARK = re.compile(r":(sqlgym[0-9]+)\b")
_CLAUSES = (exp.Where, exp.Having, exp.Join, exp.Values, exp.Limit, exp.Offset, exp.Fetch)
_NOT_VALUES = (exp.Order, exp.Group, exp.Select, exp.Window)
_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Like, exp.ILike, exp.Glob, exp.In, exp.Between,
                exp.NullSafeEQ, exp.NullSafeNEQ, exp.Is)
MAX_TRIES = 8  # statement ends tried per line that starts a statement, when a piece does not parse


@dataclass(frozen=True)
class Logged:
    """One workload statement as it was logged: its text, how often it ran, where it came from."""

    sql: str
    weight: float = 1.0
    where: str = ""  # "queries.sql:12", for warnings
    name: str | None = None  # a "-- name: X" comment before it: the template's id


@dataclass
class Template:
    """Statements identical up to their literals: one query of the scenario."""

    sql: str  # with :p1, :p2 ... in place of the literals
    weight: float
    bindings: dict[tuple, dict[str, Any]] = field(default_factory=dict)  # literal tuple -> binding, first seen first
    name: str | None = None
    first: str = ""  # the first statement's text and place, for messages
    where: str = ""


@dataclass
class Rejected:
    """A piece of the workload that is not a usable statement, and why."""

    where: str
    text: str
    why: str

    def __str__(self) -> str:
        text = " ".join(self.text.split())
        return f"{self.where}: {self.why}: {text[:100]}{'...' if len(text) > 100 else ''}"


# -- reading ---------------------------------------------------------------------------------------
def read_workload(workload: str | Path | Sequence[str]) -> tuple[list[Logged], list[Rejected], str]:
    """(statements, pieces that are not statements, a label for the source).

    ``workload`` is a path to a ``.sql`` file (statements separated by ``;``, a ``-- weight: N`` line
    before a statement counts it N times, ``-- name: X`` names its template), a path to a ``.csv``
    with columns ``sql`` (or ``query``) and ``calls`` (the weight), or a list of statement strings.
    Lines that are not SQL (a log's timestamps, messages) are left out and reported.
    """
    if isinstance(workload, (str, Path)) and not _looks_like_sql(str(workload)):
        path = Path(workload).expanduser()
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError as e:
            raise ConfigError(f"cannot read the workload {str(path)!r}: {e.strerror or e}") from None
        if path.suffix.lower() == ".csv":
            logged, bad = _from_csv(text, path.name)
        else:
            logged, bad = _from_sql(text, path.name)
        return logged, bad, str(path)
    if isinstance(workload, (str, bytes)) or not isinstance(workload, Iterable):
        raise ConfigError("workload must be a path to a .sql or .csv file, or a list of SQL statements")
    logged, bad = [], []
    items = list(workload)
    for i, sql in enumerate(items):
        if not isinstance(sql, str):
            raise ConfigError(f"workload[{i}] must be a SQL string, not {type(sql).__name__}")
        got, junk = _from_sql(sql, f"workload[{i}]")
        logged += got
        bad += junk
    return logged, bad, f"(a list of {len(items)} statements)"


def _looks_like_sql(s: str) -> bool:
    return "\n" in s or bool(_START.match(s))


def _pieces(text: str) -> list[tuple[int, str]]:
    """(line number, text) of the pieces between ';' outside literals, identifiers and comments."""
    masked = _OPAQUE.sub(lambda m: m.group().replace(";", " "), text)
    out, start = [], 0
    for i, ch in enumerate(masked):
        if ch == ";":
            out.append((text.count("\n", 0, start) + 1, text[start:i]))
            start = i + 1
    out.append((text.count("\n", 0, start) + 1, text[start:]))
    return [(line, piece) for line, piece in out if piece.strip()]


def _weight(piece: str) -> float:
    found = _WEIGHT.findall(piece)
    return float(found[-1]) if found else 1.0


def _from_sql(text: str, label: str) -> tuple[list[Logged], list[Rejected]]:
    logged: list[Logged] = []
    bad: list[Rejected] = []
    for line, piece in _pieces(text):
        weight, name = _weight(piece), (_NAME.findall(piece) or [None])[-1]
        body = _strip_comments(piece)
        if not body.strip():
            continue  # only comments
        where = f"{label}:{line + body[:len(body) - len(body.lstrip())].count(chr(10))}"
        if _parses(body):
            logged.append(Logged(body.strip(), weight, where, name))
            continue
        stmts, junk = _carve(piece.split("\n"), line, label)
        for i, (at, sql) in enumerate(stmts):
            logged.append(Logged(sql, weight if i == 0 else 1.0, at, name if i == 0 else None))
        bad += junk
    return logged, bad


def _strip_comments(piece: str) -> str:
    """``piece`` with its comments blanked out (newlines kept, so offsets and line numbers stay)."""
    return _OPAQUE.sub(lambda m: re.sub(r"[^\n]", " ", m.group()) if m.group().startswith(("--", "/*")) else m.group(),
                       piece)


def _parses(sql: str) -> bool:
    try:
        parse(sql)
        return True
    except SQLParseError:
        return False


def _carve(lines: list[str], first_line: int, label: str) -> tuple[list[tuple[str, str]], list[Rejected]]:
    """Statements in a piece that does not parse as one: each starts on a line that starts a statement
    and ends where the longest run of lines that parses ends; other lines are junk."""
    starts = [k for k, s in enumerate(lines) if _START.match(_strip_comments(s))]
    stmts: list[tuple[str, str]] = []
    bad: list[Rejected] = []
    i = 0
    while i < len(lines):
        line = _strip_comments(lines[i])
        if not _START.match(line):
            if line.strip():
                bad.append(Rejected(f"{label}:{first_line + i}", line, "not SQL"))
            i += 1
            continue
        found = None
        for end in ([k for k in starts if k > i][:MAX_TRIES] + [len(lines)])[:MAX_TRIES + 1]:
            for stop in range(end, max(i, end - 30), -1):
                sql = _strip_comments("\n".join(lines[i:stop]))
                if _parses(sql):
                    found = (stop, sql)
                    break
            if found:
                break
        if found is None:
            bad.append(Rejected(f"{label}:{first_line + i}", line, f"does not parse ({_parse_error(line)})"))
            i += 1
        else:
            stmts.append((f"{label}:{first_line + i}", found[1].strip()))
            i = found[0]
    return stmts, bad


def _parse_error(sql: str) -> str:
    try:
        parse(sql)
    except SQLParseError as e:
        return str(e)
    return "parses"


def _from_csv(text: str, label: str) -> tuple[list[Logged], list[Rejected]]:
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return [], []
    head = [h.strip().lower() for h in rows[0]]
    sql_col = next((head.index(h) for h in ("sql", "query", "statement") if h in head), None)
    if sql_col is None:
        raise ConfigError(f"{label}: a CSV workload needs a header row with a 'sql' (or 'query') column and, "
                          f"optionally, 'calls'; the header is {rows[0]}")
    calls_col = next((head.index(h) for h in ("calls", "count", "weight") if h in head), None)
    logged: list[Logged] = []
    bad: list[Rejected] = []
    for n, row in enumerate(rows[1:], start=2):
        where = f"{label}:{n}"
        if len(row) <= sql_col or not row[sql_col].strip():
            if any(c.strip() for c in row):
                bad.append(Rejected(where, ",".join(row), "no SQL in the 'sql' column"))
            continue
        weight = 1.0
        if calls_col is not None:
            try:
                weight = float(row[calls_col])
            except (IndexError, ValueError):
                bad.append(Rejected(where, ",".join(row), "the 'calls' column is not a number"))
                continue
            if not weight > 0:
                continue  # never called: nothing to measure
        got, junk = _from_sql(row[sql_col], where)
        logged += [Logged(g.sql, weight, where, g.name) for g in got]
        bad += junk
    return logged, bad


# -- normalising -----------------------------------------------------------------------------------
def _value(lit: exp.Literal) -> Any:
    text = str(lit.this)
    if lit.is_string:
        return text
    if _INT.fullmatch(text):
        return int(text)
    if text.lower().startswith("0x"):
        return int(text, 16)
    return float(text)


def _is_value(node: exp.Expression) -> bool:
    """Whether a literal sits where an application fills in a value (see the module docstring)."""
    child: Any = node.parent if isinstance(node.parent, exp.Neg) else node
    if isinstance(child.parent, _COMPARISONS) or isinstance(child.parent, exp.Tuple) and isinstance(
            child.parent.parent, exp.In):
        return True  # compared with something: CASE WHEN nation = 'BRAZIL' in a projection too
    child = node
    parent = node.parent
    while parent is not None:
        if isinstance(parent, _CLAUSES):
            return True
        if isinstance(parent, exp.Update) and child.arg_key == "expressions":
            return True  # SET a = 5
        if isinstance(parent, _NOT_VALUES):
            return False
        child, parent = parent, parent.parent
    return False


def normalize(sql: str) -> tuple[str, tuple, str]:
    """(template SQL, literal values in order, kind) of one statement; raises ``SQLParseError``.

    >>> normalize("SELECT id FROM users WHERE email = 'a@b.c' AND age > -5 ORDER BY 1")[:2]
    ('SELECT id FROM users WHERE email = :p1 AND age > :p2 ORDER BY 1', ('a@b.c', -5))
    """
    facts = parse(sql)
    tree = facts.tree.copy()
    values: dict[str, Any] = {}
    for lit in [n for n in tree.walk(bfs=False) if isinstance(n, exp.Literal) and _is_value(n)]:
        value = _value(lit)
        node: exp.Expression = lit
        if isinstance(lit.parent, exp.Neg) and not lit.is_string:
            node, value = lit.parent, -value
        mark = f"sqlgym{len(values)}"
        values[mark] = value
        node.replace(exp.Placeholder(this=mark))
    text = tree.sql(dialect="sqlite", comments=False)
    order = [m for m in _MARK.findall(text) if m in values]  # parameters named in the order they appear
    names = {m: f"p{i + 1}" for i, m in enumerate(dict.fromkeys(order))}
    text = _MARK.sub(lambda m: ":" + names.get(m.group(1), m.group(1)), text)
    return text, tuple(values[m] for m in names), facts.kind


def templates(logged: Sequence[Logged]) -> tuple[list[Template], list[Rejected]]:
    """Merge statements into templates (weight = sum of the statements' weights), first seen first."""
    out: dict[str, Template] = {}
    bad: list[Rejected] = []
    cache: dict[str, tuple[str, tuple, str]] = {}
    for s in logged:
        try:
            if s.sql not in cache:
                cache[s.sql] = normalize(s.sql)
            sql, values, kind = cache[s.sql]
        except SQLParseError as e:
            bad.append(Rejected(s.where, s.sql, f"does not parse ({e})"))
            continue
        if kind not in ("select", "dml"):
            bad.append(Rejected(s.where, s.sql, "not a SELECT, INSERT, UPDATE or DELETE (transactions, DDL and "
                                                "PRAGMAs are not measured)"))
            continue
        t = out.get(sql)
        if t is None:
            t = out[sql] = Template(sql, 0.0, name=s.name, first=s.sql, where=s.where)
        t.weight += s.weight
        if values not in t.bindings:
            t.bindings[values] = {f"p{i + 1}": v for i, v in enumerate(values)}
    return list(out.values()), bad


def template_ids(ts: Sequence[Template]) -> list[str]:
    """``s1``, ``s2``, ... in order of first appearance, or the ``-- name:`` given (made unique)."""
    ids: list[str] = []
    for i, t in enumerate(ts):
        base = t.name or f"s{i + 1}"
        name, k = base, 2
        while name in ids:
            name, k = f"{base}_{k}", k + 1
        ids.append(name)
    return ids


def split_bindings(bindings: Sequence[dict[str, Any]], visible: float, seed: int, key: str,
                   most: int) -> tuple[tuple[dict[str, Any], ...], tuple[dict[str, Any], ...]]:
    """(visible, hidden) bindings: at most ``most`` distinct ones, drawn and dealt by ``seed`` alone.

    ``visible`` is the fraction the agent sees; the rest only the terminal reward measures. Both
    sets are non-empty: a template logged with one binding uses it for both (nothing is held out),
    and ``visible=1`` holds nothing out either.
    """
    rng = random.Random(f"sqlgym-user-{seed}-{hashlib.sha256(key.encode()).hexdigest()[:16]}")
    pool = list(bindings)
    if len(pool) > most:
        pool = rng.sample(pool, most)
    else:
        rng.shuffle(pool)
    if len(pool) == 1 or visible >= 1:
        return tuple(pool), tuple(pool)
    n = min(len(pool) - 1, max(1, round(visible * len(pool))))
    return tuple(pool[:n]), tuple(pool[n:])


__all__ = ["Logged", "Rejected", "Template", "normalize", "read_workload", "split_bindings", "template_ids",
           "templates"]
