"""Built-in benchmarks as scenarios: ``benchmark://tpch?sf=0.01`` (TPC-H at any small scale factor).

The data is generated offline by ``tpchgen-cli`` (the ``tpch`` extra: ``pip install 'sqlgym-rl[tpch]'``),
a Rust port of the spec's dbgen, and loaded into a SQLite file with the spec's primary keys only (no
other index, no foreign-key clause), then ANALYZE. The file is built once per scale factor under
``$SQLGYM_CACHE_DIR/tpch/sf<sf>/``; from there it is a user database like any other
(``sqlgym.db.userdb``), its workload the 22 queries of ``sqlgym.scenarios.tpch`` with parameters drawn
as qgen draws them. Statistics are kept fresh (ANALYZE after every index change), as the benchmark's
database would be run.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import apsw

from sqlgym.db.reference import cache_dir
from sqlgym.db.userdb import from_sqlite
from sqlgym.errors import ConfigError, ScenarioError
from sqlgym.scenarios.sources import parse_options
from sqlgym.scenarios.spec import Scenario
from sqlgym.scenarios.tpch import NATIONS, QUERIES, REGIONS, statements

TPCH_OPTIONS: dict[str, type] = {"sf": float, "seed": int, "draws": int, "visible": float, "max_indexes": int,
                                 "max_columns": int, "budget": float, "statistics": str, "max_bytes": int}
TPCH_DEFAULTS: dict[str, Any] = {"sf": 0.01, "seed": 0, "draws": 4, "visible": 0.5, "max_indexes": 8, "max_columns": 3,
                                 "budget": 1.0, "statistics": "analyze", "max_bytes": None}
MIN_SF, MAX_SF = 0.01, 1.0
# spec 1.4: the tables, their columns (types as the spec declares them) and primary keys
TPCH_SCHEMA: dict[str, tuple[tuple[tuple[str, str], ...], tuple[str, ...]]] = {
    "region": ((("r_regionkey", "INTEGER"), ("r_name", "CHAR(25)"), ("r_comment", "VARCHAR(152)")), ("r_regionkey",)),
    "nation": ((("n_nationkey", "INTEGER"), ("n_name", "CHAR(25)"), ("n_regionkey", "INTEGER"),
                ("n_comment", "VARCHAR(152)")), ("n_nationkey",)),
    "part": ((("p_partkey", "INTEGER"), ("p_name", "VARCHAR(55)"), ("p_mfgr", "CHAR(25)"), ("p_brand", "CHAR(10)"),
              ("p_type", "VARCHAR(25)"), ("p_size", "INTEGER"), ("p_container", "CHAR(10)"),
              ("p_retailprice", "DECIMAL(15,2)"), ("p_comment", "VARCHAR(23)")), ("p_partkey",)),
    "supplier": ((("s_suppkey", "INTEGER"), ("s_name", "CHAR(25)"), ("s_address", "VARCHAR(40)"),
                  ("s_nationkey", "INTEGER"), ("s_phone", "CHAR(15)"), ("s_acctbal", "DECIMAL(15,2)"),
                  ("s_comment", "VARCHAR(101)")), ("s_suppkey",)),
    "partsupp": ((("ps_partkey", "INTEGER"), ("ps_suppkey", "INTEGER"), ("ps_availqty", "INTEGER"),
                  ("ps_supplycost", "DECIMAL(15,2)"), ("ps_comment", "VARCHAR(199)")), ("ps_partkey", "ps_suppkey")),
    "customer": ((("c_custkey", "INTEGER"), ("c_name", "VARCHAR(25)"), ("c_address", "VARCHAR(40)"),
                  ("c_nationkey", "INTEGER"), ("c_phone", "CHAR(15)"), ("c_acctbal", "DECIMAL(15,2)"),
                  ("c_mktsegment", "CHAR(10)"), ("c_comment", "VARCHAR(117)")), ("c_custkey",)),
    "orders": ((("o_orderkey", "INTEGER"), ("o_custkey", "INTEGER"), ("o_orderstatus", "CHAR(1)"),
                ("o_totalprice", "DECIMAL(15,2)"), ("o_orderdate", "DATE"), ("o_orderpriority", "CHAR(15)"),
                ("o_clerk", "CHAR(15)"), ("o_shippriority", "INTEGER"), ("o_comment", "VARCHAR(79)")), ("o_orderkey",)),
    "lineitem": ((("l_orderkey", "INTEGER"), ("l_partkey", "INTEGER"), ("l_suppkey", "INTEGER"),
                  ("l_linenumber", "INTEGER"), ("l_quantity", "DECIMAL(15,2)"), ("l_extendedprice", "DECIMAL(15,2)"),
                  ("l_discount", "DECIMAL(15,2)"), ("l_tax", "DECIMAL(15,2)"), ("l_returnflag", "CHAR(1)"),
                  ("l_linestatus", "CHAR(1)"), ("l_shipdate", "DATE"), ("l_commitdate", "DATE"),
                  ("l_receiptdate", "DATE"), ("l_shipinstruct", "CHAR(25)"), ("l_shipmode", "CHAR(10)"),
                  ("l_comment", "VARCHAR(44)")), ("l_orderkey", "l_linenumber")),
}


def from_uri(scenario_id: str) -> Scenario:
    """``benchmark://tpch?sf=0.01[&seed=..&draws=..&visible=..&max_indexes=..]`` -> its scenario."""
    parts = urlsplit(scenario_id)
    if parts.netloc != "tpch" or parts.path not in ("", "/"):
        raise ScenarioError(f"{scenario_id!r}: unknown benchmark {parts.netloc!r}; known: benchmark://tpch?sf=0.01")
    return tpch(**parse_options(parts.query, TPCH_OPTIONS, scenario_id))


def tpch_id(options: dict[str, Any]) -> str:
    """The canonical id (options other than the defaults, in a fixed order; ``sf`` always)."""
    query = "&".join(f"{k}={options[k]:g}" if isinstance(options[k], float) else f"{k}={options[k]}"
                     for k in TPCH_OPTIONS if k == "sf" or options.get(k) != TPCH_DEFAULTS[k])
    return f"benchmark://tpch?{query}"


def tpch(**options: Any) -> Scenario:
    """SQLIndex-v0 on TPC-H at scale factor ``sf`` (see the module docstring); options as in ``TPCH_OPTIONS``."""
    o = {**TPCH_DEFAULTS, **options}
    sf = o["sf"]
    if not (isinstance(sf, (int, float)) and MIN_SF <= sf <= MAX_SF):
        raise ConfigError(f"benchmark://tpch: sf must be a scale factor in [{MIN_SF:g}, {MAX_SF:g}], not {sf!r} "
                          "(below 0.01, dbgen's partsupp repeats primary keys: too few suppliers)")
    if not (isinstance(o["draws"], int) and 1 <= o["draws"] <= 50):
        raise ConfigError(f"benchmark://tpch: draws (parameter sets per query) must be in 1..50, not {o['draws']!r}")
    path = tpch_database(float(sf))
    return from_sqlite(path, statements(float(sf), o["seed"], o["draws"]), visible=o["visible"], seed=o["seed"],
                       max_indexes=o["max_indexes"], max_columns=o["max_columns"], budget=o["budget"],
                       statistics=o["statistics"], max_bytes=o["max_bytes"], max_steps=20 + len(QUERIES),
                       scenario_id=tpch_id(o), difficulty="benchmark",
                       description=(f"TPC-H at scale factor {sf:g}: the 22 decision-support queries, each with "
                                    f"{o['draws']} parameter draws, on tables with their primary keys only."))


def tpchgen() -> str:
    """The ``tpchgen-cli`` executable, or a ConfigError that names the extra to install."""
    found = shutil.which("tpchgen-cli") or shutil.which("tpchgen-cli", path=os.path.dirname(sys.executable))
    if not found:
        raise ConfigError("benchmark://tpch generates its data with tpchgen-cli, which is not installed: "
                          "pip install 'sqlgym-rl[tpch]' (or pip install tpchgen-cli)")
    return found


def tpch_database(sf: float) -> Path:
    """The SQLite file of TPC-H at ``sf``, generated and loaded on first use, then cached."""
    root = cache_dir() / "tpch" / f"sf{sf:g}"
    path = root / "tpch.db"
    if path.is_file():
        return path
    exe = tpchgen()
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        try:
            subprocess.run([exe, "tbl", "--scale-factor", f"{sf:g}", "--output-dir", tmp, "--quiet",
                            "--num-threads", "2"], check=True, capture_output=True, text=True)
        except subprocess.CalledProcessError as e:
            raise ConfigError(f"tpchgen-cli failed at sf {sf:g}: {(e.stderr or e.stdout or '').strip()[-500:]}") from None
        db = Path(tmp) / "tpch.db"
        _load(db, Path(tmp))
        os.replace(db, path)
    return path


def _load(db: Path, tbl_dir: Path) -> None:
    conn = apsw.Connection(str(db))
    try:
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        for table, (cols, pk) in TPCH_SCHEMA.items():
            body = ", ".join(f"{name} {ctype} NOT NULL" + (" PRIMARY KEY" if pk == (name,) else "") for name, ctype in cols)
            key = f", PRIMARY KEY ({', '.join(pk)})" if len(pk) > 1 else ""
            conn.execute(f"CREATE TABLE {table} ({body}{key})")
            kinds = [int if t == "INTEGER" else float if t.startswith("DECIMAL") else str for _, t in cols]
            marks = ", ".join("?" for _ in cols)
            with open(tbl_dir / f"{table}.tbl", newline="") as f, conn:
                rows = ([k(v) for k, v in zip(kinds, row)] for row in csv.reader(f, delimiter="|", quoting=csv.QUOTE_NONE))
                conn.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
        names = [r[0] for r in conn.execute("SELECT n_name FROM nation ORDER BY n_nationkey")]
        regions = [r[0] for r in conn.execute("SELECT r_name FROM region ORDER BY r_regionkey")]
        if tuple(names) != NATIONS or tuple(regions) != REGIONS:
            raise ScenarioError(f"tpchgen-cli's nations or regions are not the spec's: {names}, {regions}")
        conn.execute("ANALYZE")
    finally:
        conn.close()


__all__ = ["TPCH_DEFAULTS", "from_uri", "tpch", "tpch_database", "tpch_id", "tpchgen"]
