"""JSON actions: parse, check shape, and say exactly what is wrong (as text for the agent)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from sqlgym.errors import SqlgymError


class InvalidAction(SqlgymError):
    """Raised inside an env for bad agent input; the env turns it into an observation."""


@dataclass(frozen=True)
class Field:
    type: type | tuple[type, ...]
    required: bool = True


@dataclass(frozen=True)
class Action:
    type: str
    payload: dict[str, Any]


_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.S)


def parse_action(action: str | dict, schema: dict[str, dict[str, Field]]) -> Action:
    """``{"action_type": ..., "payload": {...}}`` as JSON text or a dict -> Action, or InvalidAction."""
    if isinstance(action, str):
        m = _FENCE.match(action)
        text = m.group(1) if m else action
        try:
            action = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as e:
            raise InvalidAction(f"the action is not valid JSON ({e}); send {{\"action_type\": ..., \"payload\": {{...}}}}") from None
    if not isinstance(action, dict):
        raise InvalidAction("the action must be a JSON object with 'action_type' and 'payload'")
    kind = action.get("action_type")
    if not isinstance(kind, str) or kind not in schema:
        raise InvalidAction(f"unknown action_type {kind!r}; valid: {', '.join(schema)}")
    payload = action.get("payload", {})
    if payload is None:
        payload = {}
    if not isinstance(payload, dict):
        raise InvalidAction("'payload' must be a JSON object")
    fields = schema[kind]
    unknown = set(payload) - set(fields)
    if unknown:
        raise InvalidAction(f"{kind}: unknown payload fields {sorted(unknown)}; allowed: {sorted(fields) or 'none'}")
    for name, f in fields.items():
        if name not in payload:
            if f.required:
                raise InvalidAction(f"{kind}: payload needs {name!r}")
            continue
        value = payload[name]
        if not isinstance(value, f.type) or (isinstance(value, bool) and f.type is not bool and bool not in _as_tuple(f.type)):
            raise InvalidAction(f"{kind}: {name!r} must be {_type_name(f.type)}")
    return Action(kind, payload)


def _as_tuple(t) -> tuple:
    return t if isinstance(t, tuple) else (t,)


def _type_name(t) -> str:
    names = {str: "a string", list: "a list", bool: "true or false", int: "an integer", dict: "an object"}
    return " or ".join(names.get(x, x.__name__) for x in _as_tuple(t))


INDEX_ACTIONS: dict[str, dict[str, Field]] = {
    "list_tables": {},
    "describe_table": {"table": Field(str)},
    "list_queries": {},
    "inspect_query": {"query_id": Field(str)},
    "analyze_indexes": {},
    "analyze_statistics": {"table": Field(str), "refresh": Field(bool, False)},
    "create_index": {"table": Field(str), "columns": Field(list), "unique": Field(bool, False),
                     "where": Field(str, False), "name": Field(str, False)},
    "drop_index": {"name": Field(str)},
    "rewrite_query": {"query_id": Field(str), "new_sql": Field(str)},
    "submit_report": {"summary": Field(str, False)},
}
