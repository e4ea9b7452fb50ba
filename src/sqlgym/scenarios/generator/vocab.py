"""The generator's vocabulary: archetypes, template families, domains, and columns by role.

Plain data and word helpers; the later stages (schema, templates, workload) read from here.
"""

from __future__ import annotations

from typing import Any

# --- what a scenario is made of --------------------------------------------------------------------
ARCHETYPES = ("chain", "star", "snowflake")
FAMILIES = ("point", "eq_range", "eq_sort", "group", "join", "write", "or_pair", "join_group")
# Families whose statement is selective on a big table: one of them always leads the workload.
ANCHORS = ("point", "eq_range", "eq_sort", "join", "or_pair")
FORCE_HELD_OUT = 0.6  # share of test scenarios made to contain a held-out family or archetype

DIM_ROWS = (500, 5_000)
BIG_ROWS = (8_000, 30_000)

# --- domains --------------------------------------------------------------------------------------
# Chains read parent -> child; the first table is a small dimension, the rest are big.
CHAIN_DOMAINS = (
    ("shop", ("regions", "customers", "orders", "order_lines", "returns")),
    ("product analytics", ("tenants", "accounts", "sessions", "events", "event_tags")),
    ("community", ("authors", "posts", "comments", "votes", "flags")),
    ("inventory", ("warehouses", "bins", "stock_moves", "move_lines", "audits")),
    ("project tracker", ("projects", "tasks", "task_events", "attachments", "reviews")),
)
CHAIN_BIG_ROWS = 60_000  # rows shared by a chain's big tables, so long chains stay quick to build
# Star domains: a fact table and its dimensions, each dimension with the parent a snowflake adds.
STAR_DOMAINS = (
    ("sales", (("customers", "segments"), ("products", "brands"), ("stores", "regions"), ("promotions", "campaigns"))),
    ("events", (("users", "plans"), ("devices", "vendors"), ("pages", "sites"), ("referrers", "networks"))),
    ("tickets", (("customers", "accounts"), ("agents", "teams"), ("products", "product_lines"), ("queues", "departments"))),
    ("shipments", (("carriers", "carrier_groups"), ("warehouses", "regions"), ("customers", "countries"), ("routes", "zones"))),
)

# Columns by role. Each entry: name -> (SQL type, generator). Categories are what people filter and
# group by; "wide" ones have enough distinct values to make an equality selective on its own.
KEYS: dict[str, tuple[str, dict[str, Any]]] = {
    "email": ("TEXT", {"kind": "text", "prefix": "user", "unique": True}),
    "sku": ("TEXT", {"kind": "text", "prefix": "SKU-", "unique": True}),
    "tracking_no": ("TEXT", {"kind": "text", "prefix": "TN", "unique": True}),
    "serial_no": ("TEXT", {"kind": "text", "prefix": "SN", "unique": True}),
    "ref": ("TEXT", {"kind": "text", "prefix": "R-", "unique": True}),
    "external_id": ("INTEGER", {"kind": "int", "low": 1_000_000, "high": 99_999_999}),
    "code": ("TEXT", {"kind": "text", "prefix": "C", "unique": True}),
}
KEY_BY_TABLE = {"customers": "email", "users": "email", "accounts": "email", "authors": "email",
                "products": "sku", "shipments": "tracking_no", "devices": "serial_no", "agents": "email"}
GENERIC_KEYS = ("ref", "external_id", "code")
CATEGORIES: dict[str, tuple[str, dict[str, Any]]] = {
    "status": ("TEXT", {"kind": "choice", "values": ["new", "active", "pending", "closed", "archived"],
                        "weights": [2, 6, 2, 3, 1]}),
    "country": ("TEXT", {"kind": "choice", "values": ["us", "de", "fr", "jp", "br", "in", "gb", "ca", "es", "it", "nl", "se"],
                         "weights": [12, 6, 5, 5, 4, 4, 4, 3, 2, 2, 1, 1]}),
    "channel": ("TEXT", {"kind": "choice", "values": ["web", "app", "store", "phone", "partner"], "weights": [8, 6, 3, 2, 1]}),
    "tier": ("TEXT", {"kind": "choice", "values": ["free", "basic", "pro", "enterprise"], "weights": [10, 5, 3, 1]}),
    "priority": ("INTEGER", {"kind": "int", "low": 1, "high": 5}),
    "category": ("TEXT", {"kind": "text", "prefix": "cat", "cardinality": 40, "dist": "zipf", "s": 0.8}),
    "team": ("TEXT", {"kind": "text", "prefix": "team", "cardinality": 30}),
    "city": ("TEXT", {"kind": "text", "prefix": "city", "cardinality": 250, "dist": "zipf", "s": 0.7}),
    "label": ("TEXT", {"kind": "text", "prefix": "lbl", "cardinality": 400}),
    "batch": ("INTEGER", {"kind": "int", "low": 1, "high": 600}),
}
WIDE_CATEGORIES = ("city", "label", "batch")
DATES = ("created_at", "updated_at", "opened_at", "placed_at", "event_date")
MEASURES: dict[str, tuple[str, dict[str, Any]]] = {
    "amount": ("REAL", {"kind": "real", "dist": "lognormal", "mean": 3.0, "sigma": 1.0}),
    "price": ("REAL", {"kind": "real", "low": 1, "high": 500}),
    "quantity": ("INTEGER", {"kind": "int", "low": 1, "high": 20}),
    "score": ("INTEGER", {"kind": "int", "low": 0, "high": 100}),
    "duration_ms": ("INTEGER", {"kind": "int", "low": 10, "high": 60_000}),
}


# --- words -----------------------------------------------------------------------------------------
def singular(name: str) -> str:
    """orders -> order, categories -> category."""
    if name.endswith("ies"):
        return name[:-3] + "y"
    return name[:-1] if name.endswith("s") else name


def words(name: str) -> str:
    """An identifier as words: order_lines -> order lines."""
    return name.replace("_", " ")


def with_article(noun: str) -> str:
    """a customer, an order."""
    return ("an " if noun[0] in "aeiou" else "a ") + noun


def alias(name: str, taken: str = "") -> str:
    """A table alias from the initials of its words (order_lines -> ol), distinct from ``taken``."""
    a = "".join(w[0] for w in name.split("_"))
    return a + "2" if a == taken else a

