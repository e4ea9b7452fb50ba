"""Scenarios whose data is read, not generated: ``sqlite:///abs/path.db?workload=...`` and ``benchmark://tpch?sf=...``.

Reading a SQLite file needs SQLite, which this layer does not import (scenarios are pure data;
``docs/architecture.md``). The makers live in ``sqlgym.db`` and are named here by entry-point strings,
loaded on first use, as the task registry names its parts: the id's scheme picks the maker, and
``load_scenario`` stays the one way from an id to a scenario.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from sqlgym.errors import ConfigError, ScenarioError
from sqlgym.scenarios.spec import Scenario

SQLITE_PREFIX = "sqlite://"
BENCHMARK_PREFIX = "benchmark://"
# scheme -> "module:function" taking the parsed id (path, options) and returning a Scenario
MAKERS = {"sqlite": "sqlgym.db.userdb:from_uri", "benchmark": "sqlgym.db.benchmarks:from_uri"}
FROM_SQLITE = "sqlgym.db.userdb:from_sqlite"
# query-string options of a sqlite:// id, with their types (from_sqlite's keyword arguments)
SQLITE_OPTIONS: dict[str, type] = {"workload": str, "visible": float, "budget": float, "max_indexes": int,
                                   "max_columns": int, "seed": int, "sample": float, "max_bytes": int,
                                   "bindings": int, "max_steps": int, "statistics": str}


def is_source_id(scenario_id: str) -> bool:
    return scenario_id.startswith((SQLITE_PREFIX, BENCHMARK_PREFIX))


def _load(entry: str):
    module, _, attr = entry.partition(":")
    return getattr(importlib.import_module(module), attr)


def parse_options(query: str, allowed: dict[str, type], where: str) -> dict[str, Any]:
    """A query string as typed keyword arguments; an unknown or repeated key is a ScenarioError."""
    out: dict[str, Any] = {}
    for key, values in parse_qs(query, keep_blank_values=True, strict_parsing=False).items():
        if key not in allowed:
            raise ScenarioError(f"{where}: unknown option {key!r}; options: {', '.join(allowed)}")
        if len(values) != 1:
            raise ScenarioError(f"{where}: option {key!r} is given {len(values)} times")
        try:
            out[key] = allowed[key](values[0])
        except ValueError:
            raise ScenarioError(f"{where}: option {key}={values[0]!r} must be {allowed[key].__name__}") from None
    return out


def parse_sqlite_id(scenario_id: str) -> tuple[str, dict[str, Any]]:
    """``sqlite:///abs/path.db?workload=/abs/queries.sql&seed=1`` -> (path, from_sqlite's keyword arguments)."""
    parts = urlsplit(scenario_id)
    if parts.scheme != "sqlite" or parts.netloc or not parts.path.startswith("/"):
        raise ScenarioError(f"{scenario_id!r}: a SQLite scenario id is sqlite:///<absolute path>?workload=<absolute "
                            "path> (three slashes, then the path)")
    options = parse_options(parts.query, SQLITE_OPTIONS, scenario_id)
    if not options.get("workload"):
        raise ScenarioError(f"{scenario_id!r}: name the workload: ?workload=/abs/queries.sql (a .sql or .csv file)")
    if not Path(options["workload"]).is_absolute():
        raise ScenarioError(f"{scenario_id!r}: the workload path must be absolute, not {options['workload']!r}")
    return unquote(parts.path), options


def sqlite_id(path: str | Path, workload: str, options: dict[str, Any] | None = None) -> str:
    """The id that loads this file and workload again (options in a fixed order, defaults left out)."""
    query = "workload=" + quote(str(workload), safe="/")
    for key in SQLITE_OPTIONS:
        if key != "workload" and options and options.get(key) is not None:
            query += f"&{key}={quote(str(options[key]), safe='/')}"
    return f"sqlite://{quote(str(path), safe='/')}?{query}"


def load_source(scenario_id: str) -> Scenario:
    """The scenario of a ``sqlite://`` or ``benchmark://`` id."""
    scheme = scenario_id.partition("://")[0]
    if scheme not in MAKERS:
        raise ConfigError(f"unknown scenario scheme {scheme!r}; known: {', '.join(MAKERS)}")
    return _load(MAKERS[scheme])(scenario_id)


def from_sqlite(path: str | Path, workload: str | Path | Sequence[str], **options: Any) -> Scenario:
    """A SQLIndex-v0 scenario on an existing SQLite file and a workload someone else wrote.

    ``workload`` is a ``.sql`` file of logged statements with their literal values (``-- weight: N``
    before a statement counts it N times), a ``sql,calls`` CSV as ``pg_stat_statements`` exports, or
    a list of statements. Options: ``visible`` (fraction of each template's observed bindings the agent
    sees, default 0.5), ``budget`` (index storage as a fraction of the tables' bytes), ``max_indexes``,
    ``max_columns``, ``seed`` (deals bindings into visible and hidden), ``sample`` (keep this fraction of
    each table's rows: for files over the size limit), ``max_bytes`` (the size limit), ``bindings``
    (distinct bindings kept per template), ``max_steps``, ``statistics`` (``"file"``: the file's
    statistics as they are, the default; ``"analyze"``: fresh ANALYZE at the start and after every
    index change). See ``sqlgym.db.userdb.from_sqlite``.

    The file is opened read-only and copied into memory once; it is never written.
    """
    return _load(FROM_SQLITE)(path, workload, **options)

__all__ = ["BENCHMARK_PREFIX", "SQLITE_PREFIX", "from_sqlite", "is_source_id", "load_source", "parse_options",
           "parse_sqlite_id", "sqlite_id"]
