"""Procedural index-tuning scenarios: ``generate(n)`` is a pure function of ``n``.

A generated scenario is made in one direction, each stage reading only what the earlier ones made,
from one ``random.Random(f"sqlgym-index-{n}")`` (string seeds are hashed with SHA-512, so the
result is the same in every process and on every platform):

1. **Design.** ``split_of(n)`` fixes the split, and the split fixes what may be drawn: train and
   validation never see ``HELD_OUT_FAMILIES`` or ``HELD_OUT_ARCHETYPES``; most test scenarios are
   forced to contain one, so a test score measures generalisation rather than memory.
2. **Schema.** An archetype (``chain``, ``star``, ``snowflake``) and a small domain vocabulary give
   2-8 tables with plausible names. Dimension tables are small (500-5,000 rows); the "big" tables
   (chain children, the star's fact table) have 8,000-30,000 rows and are where every SELECT filters.
3. **Workload.** 1-4 query template families, 2-5 statements. Each template picks a big table and
   columns by *role* (a high-cardinality key, a category, a date, a measure, a foreign key) and binds
   every parameter to real column values or to windows inside a date column's range.
4. **Traps and limits.** Sometimes an index that no read uses sits on a table with heavy writes
   (dropping it is right); a storage budget, an index count and a width limit.
5. **Spec.** Everything becomes the plain dict a curated YAML file would hold, validated by
   ``scenario_from_dict``.

Headroom comes by construction: the first statement always comes from an *anchor* family (a
selective predicate on a big table) and is the hottest one; no index the scenario ships touches a
column any SELECT reads; and the storage budget and index count always leave room for the anchor's
fix next to the shipped indexes (sizes estimated from column widths). So the greedy reference ends
clearly below the baseline; ``tests/test_generator.py`` measures that on real databases.

The modules follow the stages, each importing only the ones before it: ``vocab`` (names, domains,
columns by role) -> ``schema`` (stage 2) -> ``templates`` (one query template per family) ->
``workload`` (stages 1 and 3-5, and ``generate``).
"""

from __future__ import annotations

from sqlgym.scenarios.generator.templates import TEMPLATES
from sqlgym.scenarios.generator.vocab import ANCHORS, ARCHETYPES, FAMILIES
from sqlgym.scenarios.generator.workload import generate

__all__ = ["ANCHORS", "ARCHETYPES", "FAMILIES", "TEMPLATES", "generate"]
