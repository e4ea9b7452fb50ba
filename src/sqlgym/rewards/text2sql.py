"""Text-to-SQL rewards: execution match by default; optional shaping parts, each logged by name.

``"ex"`` (the default) is 1 for a correct episode and 0 otherwise. ``"shaped"`` adds small parts
for training: a runnable answer, partial row F1, a step cost, a repeat penalty, a right or wrong
abstention and clarification, and an invalid-action penalty. Their weights keep the total of any
incorrect episode below 0.3, so shaping can never pay as much as being right.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlgym.rewards.compose import Composite
from sqlgym.types import AnswerTransition


def correct(t: AnswerTransition) -> float:
    """1 when the episode ends right: EX match, a justified abstention, or clarify-then-answer."""
    return float(t.terminal and t.correct)


def invalid(t: AnswerTransition) -> float:
    """-1 for an action that did not parse or was refused as malformed."""
    return -float(not t.valid)


def runs(t: AnswerTransition) -> float:
    """1 when the submitted answer's SQL ran without error."""
    return float(t.action_type == "answer" and t.ran)


def partial_rows(t: AnswerTransition) -> float:
    """F1 of the answer's rows against the gold's (partial credit for a near miss)."""
    return t.row_f1 if t.action_type == "answer" else 0.0


def step_cost(t: AnswerTransition) -> float:
    return -1.0


def repeat(t: AnswerTransition) -> float:
    """-1 for repeating an earlier action exactly."""
    return -float(t.repeated)


def abstention(t: AnswerTransition) -> float:
    """+1 for abstaining on an unanswerable question, -1 for abstaining on one that has an answer."""
    if t.action_type != "abstain" or not t.valid:
        return 0.0
    return 1.0 if t.kind == "unanswerable" else -1.0


def clarification(t: AnswerTransition) -> float:
    """+1 for the first clarify on an ambiguous question, -1 for asking when nothing is ambiguous."""
    if t.action_type != "clarify" or not t.valid or t.repeated:
        return 0.0
    if t.kind == "clarification":
        return 1.0 if t.first_clarify else 0.0
    return -1.0


PARTS = {"correct": correct, "invalid": invalid, "runs": runs, "row_f1": partial_rows, "step_cost": step_cost,
         "repeat": repeat, "abstention": abstention, "clarification": clarification}
PRESETS: dict[str, dict[str, float]] = {
    "ex": {"correct": 1.0},
    "shaped": {"correct": 1.0, "invalid": 0.05, "runs": 0.05, "row_f1": 0.1, "step_cost": 0.01, "repeat": 0.05,
               "abstention": 0.1, "clarification": 0.1},
}


def text2sql_reward(weights: str | Mapping[str, float] = "ex") -> Composite:
    """A preset name (``"ex"``, ``"shaped"``) or ``{part: weight}`` over :data:`PARTS`."""
    from sqlgym.errors import unknown_name

    if isinstance(weights, str):
        if weights not in PRESETS:
            raise unknown_name("reward", weights, sorted(PRESETS))
        weights = PRESETS[weights]
    unknown = [k for k in weights if k not in PARTS]
    if unknown:
        raise unknown_name("reward part", unknown[0], sorted(PARTS))
    return Composite((name, float(w), PARTS[name]) for name, w in weights.items())
