"""The text contract shared by training and evaluation: chat messages in, a JSON list of actions out.

``plan`` mode: the model answers with one JSON list of actions, ``[{"action_type": ..., "payload":
{...}}, ...]``; :func:`parse_plan` reads it back, tolerating code fences and text around the list,
and :func:`render_plan` writes the same format for SFT targets. Nothing here raises on model output.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.S)
MAX_ACTIONS = 64
MAX_TRIES = 64  # JSON decodes attempted per output: parsing stays linear-ish on pathological text


def messages(system: str, user: str) -> list[dict[str, str]]:
    """A two-message chat prompt."""
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def completion_text(completion: Any) -> str:
    """The text of a TRL completion: a string, or conversational ``[{"role": "assistant", "content": ...}]``."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list):
        return "".join(m.get("content") or "" for m in completion if isinstance(m, dict) and m.get("role") == "assistant")
    if isinstance(completion, dict):
        return str(completion.get("content") or "")
    return ""


def render_plan(actions: Sequence[dict[str, Any] | str]) -> str:
    """Actions (dicts or JSON strings) -> the plan text a model should write: a JSON list, one action per line."""
    items = [json.loads(a) if isinstance(a, str) else a for a in actions]
    return "[\n" + ",\n".join(json.dumps(a) for a in items) + "\n]"


def parse_plan(text: str) -> tuple[list[Any] | None, str | None]:
    """Model text -> (list of actions, None), (salvaged actions, note) or (None, why it is not a plan).

    Reads the first JSON list of actions in the text (inside a code fence if there is one); a single
    action object counts as a list of one. When no list parses (typically a plan cut off at the
    token limit), the complete ``{"action_type": ...}`` objects before the break are kept, in order.
    Elements are passed on as they are: the env judges each action and answers a bad one with an
    observation and a small penalty.
    """
    if not isinstance(text, str) or not text.strip():
        return None, "empty output"
    m = _FENCE.search(text)
    body = m.group(1) if m else text
    decoder = json.JSONDecoder()
    start, tries = body.find("["), 0
    while start != -1 and tries < MAX_TRIES:
        tries += 1
        try:
            value, _ = decoder.raw_decode(body, start)
        except (json.JSONDecodeError, RecursionError):
            value = None
        if isinstance(value, list) and (not value or any(isinstance(v, dict) for v in value)):
            return [_plain(v) for v in value[:MAX_ACTIONS]], None
        start = body.find("[", start + 1)
    found: list[Any] = []
    pos, tries = body.find("{"), 0
    while pos != -1 and len(found) < MAX_ACTIONS and tries < MAX_TRIES * 4:
        tries += 1
        try:
            value, end = decoder.raw_decode(body, pos)
        except (json.JSONDecodeError, RecursionError):
            value, end = None, pos + 1
        if isinstance(value, dict) and "action_type" in value:
            found.append(_plain(value))
        else:
            end = pos + 1
        pos = body.find("{", end)
    if found:
        return found, f"salvaged {len(found)} action(s) from output that is not one JSON list"
    return None, "no JSON list of actions found"


def has_json(text: str) -> bool:
    """Whether any JSON object or list decodes somewhere in the text (the first rung of the format reward)."""
    if not isinstance(text, str):
        return False
    decoder = json.JSONDecoder()
    tries = 0
    for i, ch in enumerate(text):
        if ch in "[{":
            tries += 1
            try:
                decoder.raw_decode(text, i)
                return True
            except (json.JSONDecodeError, RecursionError):
                pass
            if tries >= MAX_TRIES:
                break
    return False


def _plain(action: Any) -> Any:
    """An ``action_type`` that is not a string (a list, an object) as its JSON text: the env rejects it as an
    unknown action either way, and ``parse_action`` would otherwise fail hashing it."""
    if isinstance(action, dict) and not isinstance(action.get("action_type", ""), str):
        return {**action, "action_type": json.dumps(action["action_type"])}
    return action
