"""Scenarios as data: curated YAML shipped in the package, a procedural generator, and scenarios read
from an existing SQLite file and its workload (:func:`from_sqlite`)."""

from sqlgym.scenarios.sources import from_sqlite

__all__ = ["from_sqlite"]
