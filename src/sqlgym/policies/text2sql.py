"""Text-to-SQL baselines: ``gold`` (an upper bound that reads the gold SQL), ``schema-heuristic``
(reads only what the env shows: table and column names, a few values) and ``random``.
"""

from __future__ import annotations

import re

import numpy as np

from sqlgym.policies.base import Policy, action
from sqlgym.scenarios.text2sql.question import Question
from sqlgym.sqltext import parse


class TextPolicy(Policy):
    """Base for text-to-SQL policies: ``reset(question, seed)`` gets the Question being asked."""

    def reset(self, question: Question, seed: int | None = None) -> None:
        self.question = question
        self.plan = []
        self.rng = np.random.default_rng(seed)

    def act(self, observation: str, info: dict) -> str:
        return self.plan.pop(0) if self.plan else action("abstain", reason=f"{self.name} has nothing to say")


class GoldPolicy(TextPolicy):
    """Answers with the gold SQL; clarifies first when the question needs it; abstains when it must.

    ``explore=True`` first describes the tables the gold reads and runs the gold as a query, which
    makes expert trajectories in the shape a learning agent's take (for SFT warm-up).
    """

    name = "gold"

    def __init__(self, explore: bool = False):
        self.explore = explore

    def reset(self, question: Question, seed: int | None = None) -> None:
        super().reset(question, seed)
        q = question
        if q.kind == "unanswerable":
            self.plan = [action("abstain", reason="the database does not hold the data this question needs")]
            return
        if q.kind == "clarification":
            self.plan.append(action("clarify", question="What exactly should the answer contain?"))
        if self.explore:
            try:
                tables = sorted(parse(q.sql).tables) if q.sql is not None else []  # parse refuses None too
            except ValueError:
                tables = []
            self.plan += [action("describe", table=t) for t in tables]
            self.plan.append(action("query", sql=q.sql))
        self.plan.append(action("answer", sql=q.sql))


STOP = frozenset("""a an the of in on at to for from by with and or is are was were be been do does did how many much what
which who whom whose when where why list give show find tell me all each every per their its his her our we us
that this these those than then there as any some have has had number total average mean name names count not no
most least more less top highest lowest first last only also both between over under into out did get""".split())
VAGUE = ("best", "top", "popular", "busiest", "biggest", "good", "active", "loyal", "recent", "longest", "important",
         "successful", "struggling", "valuable", "favorite", "favourite", "worst", "frequent")
AGGREGATES = (("average", "AVG"), ("mean", "AVG"), ("total", "SUM"), ("sum", "SUM"), ("highest", "MAX"),
              ("maximum", "MAX"), ("largest", "MAX"), ("lowest", "MIN"), ("minimum", "MIN"), ("smallest", "MIN"))


def _words(text: str) -> list[str]:
    return [w.lower() for w in re.findall(r"[A-Za-z]+", text)]


def _stem(w: str) -> str:
    for suffix in ("ies", "es", "s"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            return w[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return w


NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}
DESCENDING = ("most", "highest", "top", "largest", "biggest", "longest", "expensive", "latest", "oldest", "best")
ASCENDING = ("least", "lowest", "fewest", "smallest", "cheapest", "shortest", "earliest", "youngest")
DATE_HINTS = ("date", "_on", "_at", "time", "day")


def _col_words(col: str) -> set[str]:
    return {_stem(x) for x in _words(col.replace("_", " "))}


class SchemaHeuristicPolicy(TextPolicy):
    """Matches the question's words against what it has looked up; never reads the gold.

    Describes every table, then looks at the distinct values of the best-matching table's text
    columns. Clarifies when the question uses a vague superlative without a number; abstains when
    most content words match nothing in the schema; otherwise writes one SELECT over the
    best-matching table: COUNT or an aggregate, GROUP BY for "each X", equality filters on values
    named in the question, a year filter, and ORDER BY ... LIMIT for "the five most ...".
    """

    name = "schema-heuristic"
    MAX_VALUE_QUERIES = 4
    last_lookup: str | None  # the column of the value lookup in flight (unset until the first one)

    def reset(self, question: Question, seed: int | None = None) -> None:
        super().reset(question, seed)
        self.schema: dict[str, list[tuple[str, str]]] = {}
        self.values: dict[str, set[str]] = {}  # column -> distinct values seen
        self.pending: list[str] = []
        self.lookups: list[str] | None = None
        self.clarify = "no"  # "no" -> "asked" -> "done"
        self.text = question.question + (f" {question.evidence}" if question.evidence else "")

    def act(self, observation: str, info: dict) -> str:
        self._read(observation)
        if not self.schema and not self.pending:
            m = re.search(r"^Tables: (.+)$", observation, re.M)
            self.pending = [t.strip() for t in m.group(1).split(",")] if m else []
        if self.pending:
            return action("describe", table=self.pending.pop(0))
        if self.clarify == "asked":  # fold the reply into the question
            self.clarify = "done"
            if "stands as asked" not in observation:
                self.text += " " + observation.splitlines()[0]
        if self.clarify == "no" and any(v in _words(self.text) for v in VAGUE) and not re.search(r"\d", self.text):
            self.clarify = "asked"
            return action("clarify", question="What exactly do you mean?")
        if not self.schema:
            return action("abstain", reason="no schema")
        table = self._table()
        if self.lookups is None and "Tables:" in observation:  # multi-turn: look values up first
            text_cols = [c for c, t in self.schema[table] if t == "TEXT" and not c.endswith(("name", "email", "_id"))]
            self.lookups = text_cols[: self.MAX_VALUE_QUERIES]
        if self.lookups:
            col = self.lookups.pop(0)
            self.last_lookup = col
            return action("query", sql=f'SELECT DISTINCT "{col}" FROM "{table}" LIMIT 20')
        return self._answer(table)

    def _read(self, obs: str) -> None:
        """Learn tables (describe output or CREATE TABLE text) and column values (lookup results)."""
        m = re.match(r"Table (\w+) \(", obs)
        if m:
            cols = re.findall(r"^  (\w+) (\w*)", obs, re.M)
            self.schema[m.group(1)] = [(c, t.upper()) for c, t in cols]
        for t, body in re.findall(r"CREATE TABLE \"?(\w+)\"?\s*\((.*?)\);", obs, re.S):
            cols = re.findall(r"^\s*\"?(\w+)\"?\s+(INTEGER|REAL|TEXT|NUMERIC|[A-Z]+)", body, re.M | re.I)
            self.schema[t] = [(c, ty.upper()) for c, ty in cols if c.upper() not in ("FOREIGN", "PRIMARY", "UNIQUE")]
        col = getattr(self, "last_lookup", None)
        if col and not obs.startswith("Error"):
            lines = obs.splitlines()
            self.values[col] = {ln.strip() for ln in lines[2:] if ln.strip() and not ln.startswith("(")}
            self.last_lookup = None

    def _words_of_question(self) -> list[str]:
        return [_stem(w) for w in _words(self.text) if w not in STOP and len(w) > 2]

    def _table(self) -> str:
        words = set(self._words_of_question())
        return max(self.schema, key=lambda t: (len(words & ({_stem(x) for x in _words(t.replace("_", " "))} |
                                                             set().union(*(_col_words(c) for c, _ in self.schema[t])))),
                                               -len(t)))

    def _answer(self, table: str) -> str:
        words = self._words_of_question()
        known = set().union(*(_col_words(t) | set().union(*(_col_words(c) for c, _ in cols))
                              for t, cols in self.schema.items()))
        known |= {_stem(w) for vals in self.values.values() for v in vals for w in _words(v)}
        content = [w for w in words if not w[0].isdigit()]
        if content and sum(w in known for w in content) / len(content) < 0.3:
            return action("abstain", reason="the schema does not seem to hold this")
        cols = self.schema[table]
        types = dict(cols)
        qwords, low = set(words), self.text.lower()
        where = self._filters(cols, low)
        numeric = [c for c, t in cols if t in ("INTEGER", "REAL") and c != "id" and not c.endswith("_id")]
        num_match = [c for c in numeric if _col_words(c) & qwords]
        group = None
        m = re.search(r"\b(?:each|per|every|by)\s+(\w+)", low)
        if m:
            target = _stem(m.group(1))
            group = next((c for c, _ in cols if target in _col_words(c) and c != "id"), None)
        agg = None
        if "how many" in low or "number of" in low:
            agg = "COUNT(*)"
        else:
            for word, fn in AGGREGATES:
                if word in _words(low) and num_match:
                    agg = f'{fn}("{num_match[0]}")'
                    break
        if agg and group:
            return action("answer", sql=f'SELECT "{group}", {agg} FROM "{table}"{where} GROUP BY "{group}"')
        if agg:
            return action("answer", sql=f'SELECT {agg} FROM "{table}"{where}')
        shown = [c for c, _ in cols if _col_words(c) & qwords and c != "id" and c not in where]
        shown = shown or [c for c, _ in cols if "name" in c] or [cols[0][0]]
        select = ", ".join(f'"{c}"' for c in shown[:3])
        order = ""
        direction = "DESC" if any(w in _words(low) for w in DESCENDING) else "ASC" if any(
            w in _words(low) for w in ASCENDING) else None
        if direction and (num_match or numeric):
            limit = next((NUMBERS[w] for w in _words(low) if w in NUMBERS), None)
            digits = re.search(r"\b(?:top|first)\s+(\d+)", low)
            limit = int(digits.group(1)) if digits else (limit or 1)
            key = (num_match or [c for c in numeric if types[c] == "REAL"] or numeric)[0]
            order = f' ORDER BY "{key}" {direction} LIMIT {limit}'
        distinct = "DISTINCT " if "distinct" in low or "different" in low else ""
        return action("answer", sql=f'SELECT {distinct}{select} FROM "{table}"{where}{order}')

    def _filters(self, cols, low: str) -> str:
        """Equality on values named in the question; a year on the first date-like column."""
        conds = []
        for c, vals in self.values.items():
            if c not in dict(cols):
                continue
            hits = [v for v in vals if len(v) >= 3 and re.search(r"\b" + re.escape(v.lower()) + r"\b", low)]
            if hits:
                value = max(hits, key=len).replace("'", "''")
                conds.append(f"\"{c}\" = '{value}'")
        m = re.search(r"'([^']+)'|\"([^\"]+)\"", self.text)
        text_cols = [c for c, t in cols if t == "TEXT" and c != "id"]
        if m and text_cols and not conds:
            conds.append(f"\"{text_cols[0]}\" = '{(m.group(1) or m.group(2)).replace(chr(39), chr(39) * 2)}'")
        year = re.search(r"\b(19|20)\d\d\b", low)
        dates = [c for c, _ in cols if any(h in c for h in DATE_HINTS)]
        if year and dates:
            conds.append(f"strftime('%Y', \"{dates[0]}\") = '{year.group(0)}'")
        return (" WHERE " + " AND ".join(conds)) if conds else ""


class RandomTextPolicy(TextPolicy):
    """Uniformly random actions over the tables it was shown (seeded)."""

    name = "random"

    def act(self, observation: str, info: dict) -> str:
        m = re.search(r"^Tables: (.+)$", observation, re.M)
        if m:
            self.tables = [t.strip() for t in m.group(1).split(",")]
        tables = getattr(self, "tables", None) or ["t"]
        t = tables[int(self.rng.integers(len(tables)))]
        kind = ("describe", "sample", "query", "answer", "clarify", "abstain")[int(self.rng.integers(6))]
        if kind == "describe":
            return action("describe", table=t)
        if kind == "sample":
            return action("sample", table=t, n=int(self.rng.integers(1, 6)))
        if kind in ("query", "answer"):
            return action(kind, sql=f'SELECT COUNT(*) FROM "{t}"' if self.rng.random() < 0.5 else f'SELECT * FROM "{t}" LIMIT 5')
        return action(kind)


TEXT_POLICIES = {"gold": GoldPolicy, "schema-heuristic": SchemaHeuristicPolicy, "random": RandomTextPolicy}
