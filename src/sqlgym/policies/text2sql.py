"""Text-to-SQL baselines: ``gold`` (an upper bound that reads the gold SQL), ``schema-heuristic``
(reads only what the env shows: table and column names, a few values) and ``random``.
"""

from __future__ import annotations

import re

import numpy as np

from sqlgym.policies.base import Policy, action
from sqlgym.scenarios.text2sql import Question
from sqlgym.sqltext import parse


class TextPolicy(Policy):
    """Base for text-to-SQL policies: ``reset(question, seed)`` gets the Question being asked."""

    def reset(self, question: Question, seed: int | None = None) -> None:  # type: ignore[override]
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
                tables = sorted(parse(q.sql).tables)
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


class SchemaHeuristicPolicy(TextPolicy):
    """Matches the question's words against table and column names it has looked up; never reads gold.

    Clarifies when the question uses a vague superlative without a number, abstains when most of
    its content words match nothing in the schema, and otherwise answers with COUNT / an aggregate
    / the matching columns of the best-matching table, filtered on a quoted or capitalised value.
    """

    name = "schema-heuristic"

    def reset(self, question: Question, seed: int | None = None) -> None:
        super().reset(question, seed)
        self.schema: dict[str, list[tuple[str, str]]] = {}
        self.pending: list[str] = []
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
        return self._answer()

    def _read(self, obs: str) -> None:
        """Learn tables from describe output (``Table t (n rows)`` + column lines) or CREATE TABLE text."""
        m = re.match(r"Table (\w+) \(", obs)
        if m:
            cols = re.findall(r"^  (\w+) (\w*)", obs, re.M)
            self.schema[m.group(1)] = [(c, t.upper()) for c, t in cols]
        for t, body in re.findall(r"CREATE TABLE \"?(\w+)\"?\s*\((.*?)\);", obs, re.S):
            cols = re.findall(r"^\s*\"?(\w+)\"?\s+(INTEGER|REAL|TEXT|NUMERIC|[A-Z]+)", body, re.M | re.I)
            self.schema[t] = [(c, ty.upper()) for c, ty in cols if c.upper() not in ("FOREIGN", "PRIMARY", "UNIQUE")]

    def _answer(self) -> str:
        words = [_stem(w) for w in _words(self.text) if w not in STOP and len(w) > 2]
        if not self.schema:
            return action("abstain", reason="no schema")
        tokens = {t: {_stem(x) for x in _words(t.replace("_", " "))} |
                  {_stem(x) for c, _ in cols for x in _words(c.replace("_", " "))} for t, cols in self.schema.items()}
        known = set().union(*tokens.values())
        content = [w for w in words if not w[0].isdigit()]
        matched = [w for w in content if w in known]
        if content and len(matched) / len(content) < 0.34:
            return action("abstain", reason="the schema does not seem to hold this")
        table = max(self.schema, key=lambda t: (len(set(words) & tokens[t]), -len(t)))
        cols = self.schema[table]
        colmatch = [c for c, _ in cols if {_stem(x) for x in _words(c.replace("_", " "))} & set(words)]
        where = self._filter(cols)
        low = self.text.lower()
        if "how many" in low or "number of" in low:
            return action("answer", sql=f'SELECT COUNT(*) FROM "{table}"{where}')
        for word, fn in AGGREGATES:
            if word in _words(low):
                numeric = [c for c in colmatch if dict(cols)[c] in ("INTEGER", "REAL") and not c.endswith("id")]
                if numeric:
                    return action("answer", sql=f'SELECT {fn}("{numeric[0]}") FROM "{table}"{where}')
        shown = [c for c in colmatch if c != "id"] or [c for c, _ in cols if "name" in c] or [cols[0][0]]
        select = ", ".join(f'"{c}"' for c in shown[:3])
        return action("answer", sql=f'SELECT {select} FROM "{table}"{where}')

    def _filter(self, cols) -> str:
        """A WHERE clause from a quoted value in the question, on the first text column."""
        m = re.search(r"'([^']+)'|\"([^\"]+)\"", self.text)
        text_cols = [c for c, t in cols if t == "TEXT" and c != "id"]
        if not m or not text_cols:
            return ""
        value = (m.group(1) or m.group(2)).replace("'", "''")
        return f" WHERE \"{text_cols[0]}\" = '{value}'"


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
