"""JSON actions, declared once: name, fields, types and help, from which everything else is made.

An :class:`ActionSet` validates an agent's action (and says exactly what is wrong, as text for the
agent), writes the one-line help an env shows at reset and puts in its docstring, the lines of the
plan-mode prompt, and the typed, documented methods of the tools classes TRL drives
(``sqlgym.integrations``). Adding a field here adds it everywhere.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import apsw

from sqlgym.errors import SqlgymError


class InvalidAction(SqlgymError):
    """Raised inside an env for bad agent input; the env turns it into an observation."""


# What agent input can make SQLite or sqlglot raise inside an action: an observation, never an exception.
# (SqlgymError covers the sandbox's AgentSQLError family: step budget, deadline, memory, non-determinism.)
AGENT_ERRORS = (apsw.Error, SqlgymError, RecursionError, ValueError, TypeError, OverflowError)


def failure_text(e: BaseException) -> str:
    """The error text an agent sees when its action made SQLite or sqlglot fail."""
    first = str(e).splitlines()[0] if str(e) else ""
    return f"the action failed: {type(e).__name__}: {first}".rstrip(": ")


@dataclass(frozen=True)
class Field:
    """One payload field. ``shown`` overrides how the help line writes it (default ``name`` or ``name?``)."""

    name: str
    type: type | tuple[type, ...]
    help: str
    required: bool = True
    default: Any = None  # what a tools method passes when the model leaves it out
    shown: str | None = None

    @property
    def label(self) -> str:
        return self.shown or (self.name if self.required else self.name + "?")


@dataclass(frozen=True)
class ActionSpec:
    """One action: its fields, a help sentence (tools docstring), what it returns, an optional note for the
    help line and, when it belongs in plan-mode prompts, the hint shown there."""

    name: str
    help: str
    fields: tuple[Field, ...] = ()
    returns: str = "What the tool returned."
    note: str = ""
    plan_hint: str | None = None

    def signature(self) -> str:
        """``create_index{table, columns, unique?}`` as the env's help line writes it."""
        inner = "{" + ", ".join(f.label for f in self.fields) + "}" if self.fields else ""
        return self.name + inner + (f" ({self.note})" if self.note else "")

    def plan_line(self) -> str:
        """``- create_index {"table": str, "columns": [str, ...]}: hint`` (required fields, or all when none is)."""
        shown = [f for f in self.fields if f.required] or list(self.fields)
        body = ", ".join(f'"{f.name}": {_plan_type(f.type)}' for f in shown)
        return f"- {self.name} {{{body}}}" + (f": {self.plan_hint}" if self.plan_hint else "")


@dataclass(frozen=True)
class Action:
    type: str
    payload: dict[str, Any]


_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.S)


class ActionSet:
    """The actions of one environment, in order."""

    def __init__(self, *specs: ActionSpec):
        self.specs: dict[str, ActionSpec] = {s.name: s for s in specs}

    def __iter__(self) -> Iterator[str]:  # like a mapping: the names
        return iter(self.specs)

    def __len__(self) -> int:
        return len(self.specs)

    def __contains__(self, name: object) -> bool:
        return name in self.specs

    def __getitem__(self, name: str) -> ActionSpec:
        return self.specs[name]

    @property
    def names(self) -> list[str]:
        return list(self.specs)

    def help_line(self) -> str:
        return ", ".join(s.signature() for s in self.specs.values())

    def plan_lines(self) -> str:
        return "\n".join(s.plan_line() for s in self.specs.values() if s.plan_hint is not None)

    def parse(self, action: Any) -> Action:
        """``{"action_type": ..., "payload": {...}}`` as JSON text or a dict -> Action, or InvalidAction."""
        if isinstance(action, str):
            m = _FENCE.match(action)
            text = m.group(1) if m else action
            try:
                action = json.loads(text)
            except (ValueError, RecursionError) as e:
                raise InvalidAction(f"the action is not valid JSON ({e}); send {{\"action_type\": ..., \"payload\": {{...}}}}") from None
        if not isinstance(action, Mapping):
            raise InvalidAction("the action must be a JSON object with 'action_type' and 'payload'")
        kind = action.get("action_type")
        if not isinstance(kind, str) or kind not in self.specs:
            raise InvalidAction(f"unknown action_type {_short(kind)}; valid: {', '.join(self.specs)}")
        payload = action.get("payload", {})
        if payload is None:
            payload = {}
        if not isinstance(payload, Mapping):
            raise InvalidAction("'payload' must be a JSON object")
        fields = {f.name: f for f in self.specs[kind].fields}
        unknown = [k for k in payload if k not in fields]
        if unknown:
            raise InvalidAction(f"{kind}: unknown payload fields {sorted(map(_short, unknown))}; allowed: {sorted(fields) or 'none'}")
        for name, f in fields.items():
            if name not in payload:
                if f.required:
                    raise InvalidAction(f"{kind}: payload needs {name!r}")
                continue
            value = payload[name]
            types = _as_tuple(f.type)
            if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
                raise InvalidAction(f"{kind}: {name!r} must be {_type_name(f.type)}")
        return Action(kind, dict(payload))


def parse_action(action: Any, actions: ActionSet) -> Action:
    return actions.parse(action)


def _short(x: object) -> str:
    text = repr(x)
    return text if len(text) <= 60 else text[:57] + "..."


def _as_tuple(t) -> tuple:
    return t if isinstance(t, tuple) else (t,)


def _type_name(t) -> str:
    names = {str: "a string", list: "a list", bool: "true or false", int: "an integer", dict: "an object"}
    return " or ".join(names.get(x, x.__name__) for x in _as_tuple(t))


def _plan_type(t) -> str:
    return {str: "str", list: "[str, ...]", bool: "bool", int: "int"}.get(t, getattr(t, "__name__", str(t)))


TABLE = Field("table", str, "Name of the table.")

INDEX_ACTIONS = ActionSet(
    ActionSpec("list_tables", "List the tables with their row, column and index counts.",
               returns="A table of table names and sizes."),
    ActionSpec("describe_table", "Show a table's columns, types, keys and indexes.", (TABLE,),
               returns="The table's columns and indexes."),
    ActionSpec("list_queries", "List the workload's statements with their weights and share of the total cost.",
               returns="One line per statement: id, kind, weight, weighted cost, share, SQL."),
    ActionSpec("inspect_query", "Show a statement's SQL, its query plan and SQLite's measured counters.",
               (Field("query_id", str, 'Id of the statement, as list_queries shows it (for example "q1").'),),
               returns="The SQL, an example binding, the plan and the measured cost."),
    ActionSpec("analyze_indexes", "List the existing indexes with their size and the statements that use them.",
               returns="The indexes, storage used and budget."),
    ActionSpec("analyze_statistics", "Show a table's column statistics and what the planner believes (sqlite_stat1).",
               (TABLE, Field("refresh", bool, "Run ANALYZE on the table first.", False, False)),
               returns="Distinct and null counts per column, and the planner's statistics."),
    ActionSpec("create_index", "Create an index and measure the workload's new cost.",
               (Field("table", str, "Table to index."),
                Field("columns", list, "Column names in index order (equality filters first, then one range or sort column)."),
                Field("unique", bool, "Make it a UNIQUE index.", False, False),
                Field("where", str, "Optional condition for a partial index, for example \"status = 'open'\".", False),
                Field("name", str, "Optional index name (letters, digits and _); one is made up otherwise.", False)),
               returns="The index made, its size, and the workload cost before and after.",
               plan_hint="columns in order (equality filters first, then one range or sort column)"),
    ActionSpec("drop_index", "Drop an index and measure the workload's new cost.",
               (Field("name", str, "Name of the index, as analyze_indexes shows it."),),
               returns="The workload cost before and after.", plan_hint=""),
    ActionSpec("rewrite_query", "Replace a query by an equivalent one; accepted only if it returns the same rows on every binding.",
               (Field("query_id", str, "Id of the query to rewrite."),
                Field("new_sql", str, "The new SELECT, with the same named parameters.")),
               returns="Whether the rewrite was accepted, and the workload cost before and after.",
               plan_hint="the same rows, cheaper"),
    ActionSpec("submit_report", "Finish: submit a short report of what was changed and why. Ends the episode.",
               (Field("summary", str, "One or two sentences.", False, "", shown="summary"),),
               returns="The final workload cost.", plan_hint="last; ends the episode"),
)

TEXT2SQL_ACTIONS = ActionSet(
    ActionSpec("describe", "Show a table's columns, types, keys and row count.", (TABLE,),
               returns="One line per column."),
    ActionSpec("sample", "Show the first rows of a table.",
               (TABLE, Field("n", int, "How many rows, 1 to 5.", False, 3, shown="n<=5")),
               returns="The rows as a text table."),
    ActionSpec("query", "Run one read-only SQLite SELECT and see at most 20 rows of its result.",
               (Field("sql", str, "The SELECT statement."),), returns="The rows and the total count, or the error."),
    ActionSpec("answer", "Submit the SELECT whose result answers the question. Ends the episode.",
               (Field("sql", str, "The SELECT statement."),), returns="How many rows it returned.",
               note="ends the episode", plan_hint="one SQLite SELECT whose result answers the question; ends the episode"),
    ActionSpec("clarify", "Ask what an ambiguous question means.",
               (Field("question", str, "What you need to know.", False, shown="question"),),
               returns="The asker's reply.", plan_hint="when the question is ambiguous; put it before your answer"),
    ActionSpec("abstain", "Decline to answer because the database does not hold what the question needs. Ends the episode.",
               (Field("reason", str, "Why it cannot be answered.", False, shown="reason"),), returns="A confirmation.",
               note="ends the episode; right when the database cannot answer",
               plan_hint="when the database does not hold what the question needs; ends the episode"),
)
