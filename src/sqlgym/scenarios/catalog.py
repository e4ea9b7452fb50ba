"""Find scenarios by id: ``easy/point_lookup`` (curated YAML), ``generator://index/<n>``, or a file or
benchmark (``sqlite:///abs/path.db?workload=/abs/queries.sql``, ``benchmark://tpch?sf=0.01``; see
``sqlgym.scenarios.sources``)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from numbers import Integral

import yaml

from sqlgym.errors import ConfigError, ScenarioError, ScenarioNotFound
from sqlgym.scenarios.sources import is_source_id, load_source
from sqlgym.scenarios.spec import Scenario, fingerprint, scenario_from_dict

GENERATOR_PREFIX = "generator://index/"
DEFAULT_COUNTS = {"train": 500, "validation": 100, "test": 200}


@lru_cache(maxsize=1)
def _curated() -> dict[str, Scenario]:
    out = {}
    for f in sorted(resources.files("sqlgym.scenarios.curated").iterdir(), key=lambda p: p.name):
        if f.name.endswith(".yaml"):
            try:
                s = scenario_from_dict(yaml.safe_load(f.read_text()))
            except yaml.YAMLError as e:
                raise ScenarioError(f"curated/{f.name}: not valid YAML: {e}") from None
            except ScenarioError as e:
                raise ScenarioError(f"curated/{f.name}: {e}") from None
            out[s.id] = s
    return out


def curated_ids() -> list[str]:
    return list(_curated())


def load_scenario(scenario_id: str) -> Scenario:
    """The validated spec for a curated id, ``generator://index/<n>``, ``sqlite://...`` or ``benchmark://...``.

    >>> load_scenario("easy/point_lookup").difficulty
    'easy'
    """
    if not isinstance(scenario_id, str):
        raise ConfigError(f"a scenario id is a string such as 'easy/point_lookup', not {scenario_id!r}")
    if is_source_id(scenario_id):
        return load_source(scenario_id)
    if scenario_id.startswith(GENERATOR_PREFIX):
        tail = scenario_id[len(GENERATOR_PREFIX):]
        if not tail.isdigit():
            raise ScenarioNotFound(scenario_id, curated_ids())
        from sqlgym.scenarios.generator import generate

        return generate(int(tail))
    try:
        return _curated()[scenario_id]
    except KeyError:
        raise ScenarioNotFound(scenario_id, curated_ids()) from None


def list_scenarios(split: str | None = None, n: int | None = None) -> list[str]:
    """Scenario ids of a split: ``curated`` (all hand-written), or generated ``train``/``validation``/``test``.

    With ``split=None`` the curated ids. Generated splits return the first ``n`` ids of that split
    (defaults: train 500, validation 100, test 200).
    """
    if split in (None, "curated"):
        return curated_ids()
    if not isinstance(split, str) or split not in DEFAULT_COUNTS:
        from sqlgym.errors import unknown_name

        raise unknown_name("split", str(split), ["curated", *DEFAULT_COUNTS])
    from sqlgym.scenarios.splits import split_of

    if n is not None and (isinstance(n, bool) or not isinstance(n, Integral)):
        raise ConfigError(f"n must be a whole number >= 0, not {n!r}")
    count = DEFAULT_COUNTS[split] if n is None else int(n)
    if count < 0:
        raise ConfigError(f"n must be >= 0, got {count}")
    out: list[str] = []
    i = 0
    while len(out) < count:
        if split_of(i) == split:
            out.append(f"{GENERATOR_PREFIX}{i}")
        i += 1
    return out



def list_for_task(split: str | None, n: int | None, dataset: str = "sqlgym") -> list[str]:
    """The task registry's lister (``dataset`` is for text-to-SQL tasks; scenarios have none)."""
    return list_scenarios(split, n)


def load_for_task(scenario_id: str, dataset: str = "sqlgym") -> Scenario:
    return load_scenario(scenario_id)


__all__ = ["GENERATOR_PREFIX", "curated_ids", "fingerprint", "list_for_task", "list_scenarios", "load_for_task",
           "load_scenario"]
