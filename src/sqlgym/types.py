"""Frozen records shared by the layers (db -> envs -> rewards -> adapters)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class QueryCost:
    """SQLite's own counters for one statement; ``cost`` is what rewards use."""

    vm_steps: int
    page_reads: int
    fullscan_steps: int = 0
    sorts: int = 0
    autoindex: int = 0

    PAGE_WEIGHT = 15  # a page read costs about 15 VM steps of wall time (docs/architecture.md, "The cost meter")

    @property
    def cost(self) -> int:
        return self.vm_steps + self.PAGE_WEIGHT * self.page_reads


@dataclass(frozen=True)
class IndexSpec:
    """An index as the agent or a scenario asks for it."""

    table: str
    columns: tuple[str, ...]
    unique: bool = False
    where: str | None = None
    name: str | None = None

    def key(self) -> tuple:
        """Identity of the index regardless of its name."""
        return (self.table, self.columns, self.unique, self.where)


@dataclass(frozen=True)
class Measurement:
    """Workload cost of one database state: visible and hidden bindings, storage."""

    cost: float
    hidden_cost: float | None  # measured at the end of an episode only (None before)
    storage_bytes: int
    n_indexes: int


@dataclass(frozen=True)
class Transition:
    """Everything a reward may look at: the state before and after one action, and the action."""

    action_type: str
    valid: bool
    before: Measurement
    after: Measurement
    baseline: Measurement
    reference: Measurement
    terminal: bool
    step: int
    error: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    # indexes the action created that no workload query's plan uses (for the wrong-index penalty)
    unused_new_indexes: tuple[str, ...] = ()
    best_performance: float = 0.0  # best performance points reached before this step (milestones)


@dataclass(frozen=True)
class AnswerTransition:
    """One text-to-SQL step, as rewards see it (no SQL text, no database: just what happened)."""

    action_type: str  # "" when the action did not parse
    valid: bool
    step: int
    terminal: bool
    kind: str  # the question's kind: answerable / clarification / unanswerable
    correct: bool = False  # terminal and right (EX match, abstention or clarify-then-answer as the kind needs)
    ran: bool = False  # this step's answer SQL executed without error
    row_f1: float = 0.0  # this step's answer rows against the gold rows (0 when not an answer)
    repeated: bool = False  # the same action was taken earlier in the episode
    first_clarify: bool = False  # the episode's first clarify action
