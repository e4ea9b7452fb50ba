"""Shared fixtures: a private cache directory per test session, and a small scenario built in code."""

from __future__ import annotations

import os

import pytest

from sqlgym.scenarios.spec import scenario_from_dict

TINY = {
    "id": "test/tiny",
    "difficulty": "easy",
    "description": "Looking up customers and their orders is slow.",
    "seed": 7,
    "tables": [
        {"name": "customers", "rows": 3000, "columns": [
            {"name": "id", "type": "INTEGER", "gen": {"kind": "serial"}},
            {"name": "email", "type": "TEXT", "gen": {"kind": "text", "prefix": "c", "unique": True}},
            {"name": "country", "type": "TEXT", "gen": {"kind": "choice", "values": ["us", "de", "fr", "jp"]}},
        ]},
        {"name": "orders", "rows": 12000, "columns": [
            {"name": "id", "type": "INTEGER", "gen": {"kind": "serial"}},
            {"name": "customer_id", "type": "INTEGER", "gen": {"kind": "fk", "table": "customers", "dist": "zipf", "s": 0.7}},
            {"name": "status", "type": "TEXT", "gen": {"kind": "choice", "values": ["new", "paid", "done"], "weights": [1, 2, 7]}},
            {"name": "amount", "type": "REAL", "gen": {"kind": "real", "low": 1, "high": 500}},
            {"name": "note", "type": "TEXT", "gen": {"kind": "text", "prefix": "n", "cardinality": 50}},
        ]},
    ],
    "indexes": [{"name": "ix_orders_note", "table": "orders", "columns": ["note"]}],
    "queries": [
        {"id": "q1", "sql": "SELECT id, country FROM customers WHERE email = :e", "params": {"e": {"column": "customers.email"}}},
        {"id": "q2", "sql": "SELECT o.id, o.amount FROM orders o WHERE o.customer_id = :c AND o.status = :s",
         "params": {"c": {"column": "orders.customer_id"}, "s": {"values": ["paid", "done"]}}},
        {"id": "q3", "sql": "SELECT status, COUNT(*) FROM orders WHERE amount > :a GROUP BY status ORDER BY status",
         "params": {"a": {"real": [100, 400]}}},
        {"id": "w1", "sql": "INSERT INTO orders(customer_id, status, amount, note) VALUES (:c, 'new', 9.5, 'n1')",
         "weight": 5, "params": {"c": {"int": [1, 3000]}}},
    ],
    "constraints": {"storage_budget": 1.0, "max_indexes": 4, "max_columns": 3},
    "max_steps": 12,
}


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory):
    old = os.environ.get("SQLGYM_CACHE_DIR")
    os.environ["SQLGYM_CACHE_DIR"] = str(tmp_path_factory.mktemp("sqlgym-cache"))
    yield
    if old is None:
        os.environ.pop("SQLGYM_CACHE_DIR", None)
    else:
        os.environ["SQLGYM_CACHE_DIR"] = old


@pytest.fixture(scope="session")
def tiny():
    return scenario_from_dict(TINY)


@pytest.fixture
def db(tiny):
    from sqlgym.db.runtime import runtime_for
    from sqlgym.db.sqlite import Database

    d = Database(runtime_for(tiny).snapshot, tiny)
    yield d
    d.close()
