"""TPC-H's 22 queries in SQLite's dialect, with substitution parameters drawn as the spec's qgen draws them.

Pure data and a seeded generator: the database is ``sqlgym.db.benchmarks``' business. Each query is
written here with Python ``{placeholders}`` where the spec (TPC-H 3.0.1, section 2.4) has substitution
parameters; :func:`statements` fills them with draws made by ``random.Random(f"sqlgym-tpch-{seed}-q{n}")``
and returns literal SQL, as an application would log it, which the user-database path
(``sqlgym.scenarios.querylog``) turns back into templates and bindings.

Adaptations to SQLite, none of which changes a query's result:

- ``date 'x' + interval 'n' month`` -> ``date('x', '+n months')``; ``- interval 'n' day`` likewise
  (dates are stored as ISO text, so comparisons are text comparisons, which order ISO dates);
- ``extract(year from d)`` -> ``CAST(strftime('%Y', t.d) AS INTEGER)``, the column qualified by its table
  (sqlgym's determinism check refuses a date function over a bare column in a query with a derived
  table, which could hold a computed 'now');
- ``substring(c from 1 for 2)`` -> ``substr(c, 1, 2)``;
- Q13's derived-column list ``c_orders (c_custkey, c_count)`` -> column aliases inside the subquery;
- Q15's view ``revenue0`` (create, query, drop) -> a CTE of the same name;
- the row counts the spec asks for (Q2 100, Q3 10, Q10 20, Q18 100, Q21 100) -> ``LIMIT``;
- DECIMAL columns hold SQLite REAL (floating point), so sums may differ from exact decimal
  arithmetic in the last digits.

Every query can be adapted; none is left out here. Whether each fits the per-statement VM-step budget
at a scale factor is measured when the scenario is made (a query that does not is left out with a
warning; see the README's TPC-H table).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from typing import Any

# spec 4.2.3: nations (key order) and the region of each
NATIONS = ("ALGERIA", "ARGENTINA", "BRAZIL", "CANADA", "EGYPT", "ETHIOPIA", "FRANCE", "GERMANY", "INDIA", "INDONESIA",
           "IRAN", "IRAQ", "JAPAN", "JORDAN", "KENYA", "MOROCCO", "MOZAMBIQUE", "PERU", "CHINA", "ROMANIA",
           "SAUDI ARABIA", "VIETNAM", "RUSSIA", "UNITED KINGDOM", "UNITED STATES")
NATION_REGION = (0, 1, 1, 1, 4, 0, 3, 3, 2, 2, 4, 4, 2, 4, 0, 0, 0, 1, 2, 3, 4, 2, 3, 3, 1)
REGIONS = ("AFRICA", "AMERICA", "ASIA", "EUROPE", "MIDDLE EAST")
# spec 4.2.2.13: the word lists of P_TYPE, P_CONTAINER, C_MKTSEGMENT, L_SHIPMODE and P_NAME
TYPE_1 = ("STANDARD", "SMALL", "MEDIUM", "LARGE", "ECONOMY", "PROMO")
TYPE_2 = ("ANODIZED", "BURNISHED", "PLATED", "POLISHED", "BRUSHED")
TYPE_3 = ("TIN", "NICKEL", "BRASS", "STEEL", "COPPER")
CONTAINER_1 = ("SM", "LG", "MED", "JUMBO", "WRAP")
CONTAINER_2 = ("CASE", "BOX", "BAG", "JAR", "PKG", "PACK", "CAN", "DRUM")
SEGMENTS = ("AUTOMOBILE", "BUILDING", "FURNITURE", "MACHINERY", "HOUSEHOLD")
SHIPMODES = ("REG AIR", "AIR", "RAIL", "SHIP", "TRUCK", "MAIL", "FOB")
COLORS = tuple("""almond antique aquamarine azure beige bisque black blanched blue blush brown burlywood burnished
chartreuse chiffon chocolate coral cornflower cornsilk cream cyan dark deep dim dodger drab firebrick floral forest
frosted gainsboro ghost goldenrod green grey honeydew hot indian ivory khaki lace lavender lawn lemon light lime linen
magenta maroon medium metallic midnight mint misty moccasin navajo navy olive orange orchid pale papaya peach peru pink
plum powder puff purple red rose rosy royal saddle salmon sandy seashell sienna sky slate smoke snow spring steel tan
thistle tomato turquoise violet wheat white yellow""".split())
Q13_WORD_1 = ("special", "pending", "unusual", "express")
Q13_WORD_2 = ("packages", "requests", "accounts", "deposits")

QUERIES: dict[int, str] = {
    1: """SELECT l_returnflag, l_linestatus, sum(l_quantity) AS sum_qty, sum(l_extendedprice) AS sum_base_price,
  sum(l_extendedprice * (1 - l_discount)) AS sum_disc_price,
  sum(l_extendedprice * (1 - l_discount) * (1 + l_tax)) AS sum_charge, avg(l_quantity) AS avg_qty,
  avg(l_extendedprice) AS avg_price, avg(l_discount) AS avg_disc, count(*) AS count_order
FROM lineitem
WHERE l_shipdate <= date('1998-12-01', '-{delta} days')
GROUP BY l_returnflag, l_linestatus
ORDER BY l_returnflag, l_linestatus""",
    2: """SELECT s_acctbal, s_name, n_name, p_partkey, p_mfgr, s_address, s_phone, s_comment
FROM part, supplier, partsupp, nation, region
WHERE p_partkey = ps_partkey AND s_suppkey = ps_suppkey AND p_size = {size} AND p_type LIKE '%{type}'
  AND s_nationkey = n_nationkey AND n_regionkey = r_regionkey AND r_name = '{region}'
  AND ps_supplycost = (
    SELECT min(ps_supplycost) FROM partsupp, supplier, nation, region
    WHERE p_partkey = ps_partkey AND s_suppkey = ps_suppkey AND s_nationkey = n_nationkey
      AND n_regionkey = r_regionkey AND r_name = '{region}')
ORDER BY s_acctbal DESC, n_name, s_name, p_partkey
LIMIT 100""",
    3: """SELECT l_orderkey, sum(l_extendedprice * (1 - l_discount)) AS revenue, o_orderdate, o_shippriority
FROM customer, orders, lineitem
WHERE c_mktsegment = '{segment}' AND c_custkey = o_custkey AND l_orderkey = o_orderkey
  AND o_orderdate < '{date}' AND l_shipdate > '{date}'
GROUP BY l_orderkey, o_orderdate, o_shippriority
ORDER BY revenue DESC, o_orderdate
LIMIT 10""",
    4: """SELECT o_orderpriority, count(*) AS order_count
FROM orders
WHERE o_orderdate >= '{date}' AND o_orderdate < date('{date}', '+3 months')
  AND EXISTS (SELECT * FROM lineitem WHERE l_orderkey = o_orderkey AND l_commitdate < l_receiptdate)
GROUP BY o_orderpriority
ORDER BY o_orderpriority""",
    5: """SELECT n_name, sum(l_extendedprice * (1 - l_discount)) AS revenue
FROM customer, orders, lineitem, supplier, nation, region
WHERE c_custkey = o_custkey AND l_orderkey = o_orderkey AND l_suppkey = s_suppkey AND c_nationkey = s_nationkey
  AND s_nationkey = n_nationkey AND n_regionkey = r_regionkey AND r_name = '{region}'
  AND o_orderdate >= '{date}' AND o_orderdate < date('{date}', '+1 year')
GROUP BY n_name
ORDER BY revenue DESC""",
    6: """SELECT sum(l_extendedprice * l_discount) AS revenue
FROM lineitem
WHERE l_shipdate >= '{date}' AND l_shipdate < date('{date}', '+1 year')
  AND l_discount BETWEEN {discount} - 0.01 AND {discount} + 0.01 AND l_quantity < {quantity}""",
    7: """SELECT supp_nation, cust_nation, l_year, sum(volume) AS revenue
FROM (
  SELECT n1.n_name AS supp_nation, n2.n_name AS cust_nation, CAST(strftime('%Y', lineitem.l_shipdate) AS INTEGER) AS l_year,
    l_extendedprice * (1 - l_discount) AS volume
  FROM supplier, lineitem, orders, customer, nation n1, nation n2
  WHERE s_suppkey = l_suppkey AND o_orderkey = l_orderkey AND c_custkey = o_custkey
    AND s_nationkey = n1.n_nationkey AND c_nationkey = n2.n_nationkey
    AND ((n1.n_name = '{nation1}' AND n2.n_name = '{nation2}') OR (n1.n_name = '{nation2}' AND n2.n_name = '{nation1}'))
    AND l_shipdate BETWEEN '1995-01-01' AND '1996-12-31'
) AS shipping
GROUP BY supp_nation, cust_nation, l_year
ORDER BY supp_nation, cust_nation, l_year""",
    8: """SELECT o_year, sum(CASE WHEN nation = '{nation}' THEN volume ELSE 0 END) / sum(volume) AS mkt_share
FROM (
  SELECT CAST(strftime('%Y', orders.o_orderdate) AS INTEGER) AS o_year, l_extendedprice * (1 - l_discount) AS volume,
    n2.n_name AS nation
  FROM part, supplier, lineitem, orders, customer, nation n1, nation n2, region
  WHERE p_partkey = l_partkey AND s_suppkey = l_suppkey AND l_orderkey = o_orderkey AND o_custkey = c_custkey
    AND c_nationkey = n1.n_nationkey AND n1.n_regionkey = r_regionkey AND r_name = '{region}'
    AND s_nationkey = n2.n_nationkey AND o_orderdate BETWEEN '1995-01-01' AND '1996-12-31' AND p_type = '{type}'
) AS all_nations
GROUP BY o_year
ORDER BY o_year""",
    9: """SELECT nation, o_year, sum(amount) AS sum_profit
FROM (
  SELECT n_name AS nation, CAST(strftime('%Y', orders.o_orderdate) AS INTEGER) AS o_year,
    l_extendedprice * (1 - l_discount) - ps_supplycost * l_quantity AS amount
  FROM part, supplier, lineitem, partsupp, orders, nation
  WHERE s_suppkey = l_suppkey AND ps_suppkey = l_suppkey AND ps_partkey = l_partkey AND p_partkey = l_partkey
    AND o_orderkey = l_orderkey AND s_nationkey = n_nationkey AND p_name LIKE '%{color}%'
) AS profit
GROUP BY nation, o_year
ORDER BY nation, o_year DESC""",
    10: """SELECT c_custkey, c_name, sum(l_extendedprice * (1 - l_discount)) AS revenue, c_acctbal, n_name, c_address,
  c_phone, c_comment
FROM customer, orders, lineitem, nation
WHERE c_custkey = o_custkey AND l_orderkey = o_orderkey AND o_orderdate >= '{date}'
  AND o_orderdate < date('{date}', '+3 months') AND l_returnflag = 'R' AND c_nationkey = n_nationkey
GROUP BY c_custkey, c_name, c_acctbal, c_phone, n_name, c_address, c_comment
ORDER BY revenue DESC
LIMIT 20""",
    11: """SELECT ps_partkey, sum(ps_supplycost * ps_availqty) AS value
FROM partsupp, supplier, nation
WHERE ps_suppkey = s_suppkey AND s_nationkey = n_nationkey AND n_name = '{nation}'
GROUP BY ps_partkey
HAVING sum(ps_supplycost * ps_availqty) > (
  SELECT sum(ps_supplycost * ps_availqty) * {fraction} FROM partsupp, supplier, nation
  WHERE ps_suppkey = s_suppkey AND s_nationkey = n_nationkey AND n_name = '{nation}')
ORDER BY value DESC""",
    12: """SELECT l_shipmode,
  sum(CASE WHEN o_orderpriority = '1-URGENT' OR o_orderpriority = '2-HIGH' THEN 1 ELSE 0 END) AS high_line_count,
  sum(CASE WHEN o_orderpriority <> '1-URGENT' AND o_orderpriority <> '2-HIGH' THEN 1 ELSE 0 END) AS low_line_count
FROM orders, lineitem
WHERE o_orderkey = l_orderkey AND l_shipmode IN ('{shipmode1}', '{shipmode2}') AND l_commitdate < l_receiptdate
  AND l_shipdate < l_commitdate AND l_receiptdate >= '{date}' AND l_receiptdate < date('{date}', '+1 year')
GROUP BY l_shipmode
ORDER BY l_shipmode""",
    13: """SELECT c_count, count(*) AS custdist
FROM (
  SELECT c_custkey AS c_custkey, count(o_orderkey) AS c_count
  FROM customer LEFT OUTER JOIN orders ON c_custkey = o_custkey AND o_comment NOT LIKE '%{word1}%{word2}%'
  GROUP BY c_custkey
) AS c_orders
GROUP BY c_count
ORDER BY custdist DESC, c_count DESC""",
    14: """SELECT 100.00 * sum(CASE WHEN p_type LIKE 'PROMO%' THEN l_extendedprice * (1 - l_discount) ELSE 0 END)
  / sum(l_extendedprice * (1 - l_discount)) AS promo_revenue
FROM lineitem, part
WHERE l_partkey = p_partkey AND l_shipdate >= '{date}' AND l_shipdate < date('{date}', '+1 month')""",
    15: """WITH revenue0 (supplier_no, total_revenue) AS (
  SELECT l_suppkey, sum(l_extendedprice * (1 - l_discount)) FROM lineitem
  WHERE l_shipdate >= '{date}' AND l_shipdate < date('{date}', '+3 months')
  GROUP BY l_suppkey)
SELECT s_suppkey, s_name, s_address, s_phone, total_revenue
FROM supplier, revenue0
WHERE s_suppkey = supplier_no AND total_revenue = (SELECT max(total_revenue) FROM revenue0)
ORDER BY s_suppkey""",
    16: """SELECT p_brand, p_type, p_size, count(DISTINCT ps_suppkey) AS supplier_cnt
FROM partsupp, part
WHERE p_partkey = ps_partkey AND p_brand <> '{brand}' AND p_type NOT LIKE '{type}%'
  AND p_size IN ({sizes})
  AND ps_suppkey NOT IN (SELECT s_suppkey FROM supplier WHERE s_comment LIKE '%Customer%Complaints%')
GROUP BY p_brand, p_type, p_size
ORDER BY supplier_cnt DESC, p_brand, p_type, p_size""",
    17: """SELECT sum(l_extendedprice) / 7.0 AS avg_yearly
FROM lineitem, part
WHERE p_partkey = l_partkey AND p_brand = '{brand}' AND p_container = '{container}'
  AND l_quantity < (SELECT 0.2 * avg(l_quantity) FROM lineitem WHERE l_partkey = p_partkey)""",
    18: """SELECT c_name, c_custkey, o_orderkey, o_orderdate, o_totalprice, sum(l_quantity)
FROM customer, orders, lineitem
WHERE o_orderkey IN (SELECT l_orderkey FROM lineitem GROUP BY l_orderkey HAVING sum(l_quantity) > {quantity})
  AND c_custkey = o_custkey AND o_orderkey = l_orderkey
GROUP BY c_name, c_custkey, o_orderkey, o_orderdate, o_totalprice
ORDER BY o_totalprice DESC, o_orderdate
LIMIT 100""",
    19: """SELECT sum(l_extendedprice * (1 - l_discount)) AS revenue
FROM lineitem, part
WHERE (p_partkey = l_partkey AND p_brand = '{brand1}' AND p_container IN ('SM CASE', 'SM BOX', 'SM PACK', 'SM PKG')
    AND l_quantity >= {quantity1} AND l_quantity <= {quantity1} + 10 AND p_size BETWEEN 1 AND 5
    AND l_shipmode IN ('AIR', 'AIR REG') AND l_shipinstruct = 'DELIVER IN PERSON')
  OR (p_partkey = l_partkey AND p_brand = '{brand2}' AND p_container IN ('MED BAG', 'MED BOX', 'MED PKG', 'MED PACK')
    AND l_quantity >= {quantity2} AND l_quantity <= {quantity2} + 10 AND p_size BETWEEN 1 AND 10
    AND l_shipmode IN ('AIR', 'AIR REG') AND l_shipinstruct = 'DELIVER IN PERSON')
  OR (p_partkey = l_partkey AND p_brand = '{brand3}' AND p_container IN ('LG CASE', 'LG BOX', 'LG PACK', 'LG PKG')
    AND l_quantity >= {quantity3} AND l_quantity <= {quantity3} + 10 AND p_size BETWEEN 1 AND 15
    AND l_shipmode IN ('AIR', 'AIR REG') AND l_shipinstruct = 'DELIVER IN PERSON')""",
    20: """SELECT s_name, s_address
FROM supplier, nation
WHERE s_suppkey IN (
    SELECT ps_suppkey FROM partsupp
    WHERE ps_partkey IN (SELECT p_partkey FROM part WHERE p_name LIKE '{color}%')
      AND ps_availqty > (
        SELECT 0.5 * sum(l_quantity) FROM lineitem
        WHERE l_partkey = ps_partkey AND l_suppkey = ps_suppkey AND l_shipdate >= '{date}'
          AND l_shipdate < date('{date}', '+1 year')))
  AND s_nationkey = n_nationkey AND n_name = '{nation}'
ORDER BY s_name""",
    21: """SELECT s_name, count(*) AS numwait
FROM supplier, lineitem l1, orders, nation
WHERE s_suppkey = l1.l_suppkey AND o_orderkey = l1.l_orderkey AND o_orderstatus = 'F'
  AND l1.l_receiptdate > l1.l_commitdate
  AND EXISTS (SELECT * FROM lineitem l2 WHERE l2.l_orderkey = l1.l_orderkey AND l2.l_suppkey <> l1.l_suppkey)
  AND NOT EXISTS (SELECT * FROM lineitem l3 WHERE l3.l_orderkey = l1.l_orderkey AND l3.l_suppkey <> l1.l_suppkey
    AND l3.l_receiptdate > l3.l_commitdate)
  AND s_nationkey = n_nationkey AND n_name = '{nation}'
GROUP BY s_name
ORDER BY numwait DESC, s_name
LIMIT 100""",
    22: """SELECT cntrycode, count(*) AS numcust, sum(c_acctbal) AS totacctbal
FROM (
  SELECT substr(c_phone, 1, 2) AS cntrycode, c_acctbal
  FROM customer
  WHERE substr(c_phone, 1, 2) IN ({codes})
    AND c_acctbal > (SELECT avg(c_acctbal) FROM customer WHERE c_acctbal > 0.00 AND substr(c_phone, 1, 2) IN ({codes}))
    AND NOT EXISTS (SELECT * FROM orders WHERE o_custkey = c_custkey)
) AS custsale
GROUP BY cntrycode
ORDER BY cntrycode""",
}


def _month(rng: random.Random, first: tuple[int, int], last: tuple[int, int]) -> str:
    """The first day of a month drawn uniformly from ``first`` to ``last`` (year, month), both included."""
    n = (last[0] - first[0]) * 12 + last[1] - first[1]
    k = first[1] - 1 + rng.randint(0, n)
    return dt.date(first[0] + k // 12, k % 12 + 1, 1).isoformat()


def _year(rng: random.Random) -> str:
    return f"{rng.randint(1993, 1997)}-01-01"


def _brand(rng: random.Random) -> str:
    return f"Brand#{rng.randint(1, 5)}{rng.randint(1, 5)}"


def _quoted(values) -> str:
    return ", ".join(f"'{v}'" if isinstance(v, str) else str(v) for v in values)


def _q8(rng: random.Random, sf: float) -> dict[str, Any]:
    n = rng.randrange(len(NATIONS))
    return {"nation": NATIONS[n], "region": REGIONS[NATION_REGION[n]],
            "type": f"{rng.choice(TYPE_1)} {rng.choice(TYPE_2)} {rng.choice(TYPE_3)}"}


# spec 2.4.<n>.3: how each query's substitution parameters are drawn
DRAWS: dict[int, Callable[[random.Random, float], dict[str, Any]]] = {
    1: lambda r, sf: {"delta": r.randint(60, 120)},
    2: lambda r, sf: {"size": r.randint(1, 50), "type": r.choice(TYPE_3), "region": r.choice(REGIONS)},
    3: lambda r, sf: {"segment": r.choice(SEGMENTS), "date": f"1995-03-{r.randint(1, 31):02d}"},
    4: lambda r, sf: {"date": _month(r, (1993, 1), (1997, 10))},
    5: lambda r, sf: {"region": r.choice(REGIONS), "date": _year(r)},
    6: lambda r, sf: {"date": _year(r), "discount": r.randint(2, 9) / 100, "quantity": r.randint(24, 25)},
    7: lambda r, sf: dict(zip(("nation1", "nation2"), r.sample(NATIONS, 2))),
    8: _q8,
    9: lambda r, sf: {"color": r.choice(COLORS)},
    10: lambda r, sf: {"date": _month(r, (1993, 2), (1995, 1))},
    11: lambda r, sf: {"nation": r.choice(NATIONS), "fraction": f"{0.0001 / sf:.10f}"},
    12: lambda r, sf: dict(zip(("shipmode1", "shipmode2"), r.sample(SHIPMODES, 2)), date=_year(r)),
    13: lambda r, sf: {"word1": r.choice(Q13_WORD_1), "word2": r.choice(Q13_WORD_2)},
    14: lambda r, sf: {"date": _month(r, (1993, 1), (1997, 12))},
    15: lambda r, sf: {"date": _month(r, (1993, 1), (1997, 10))},
    16: lambda r, sf: {"brand": _brand(r), "type": f"{r.choice(TYPE_1)} {r.choice(TYPE_2)}",
                       "sizes": _quoted(r.sample(range(1, 51), 8))},
    17: lambda r, sf: {"brand": _brand(r), "container": f"{r.choice(CONTAINER_1)} {r.choice(CONTAINER_2)}"},
    18: lambda r, sf: {"quantity": r.randint(312, 315)},
    19: lambda r, sf: {"quantity1": r.randint(1, 10), "quantity2": r.randint(10, 20), "quantity3": r.randint(20, 30),
                       "brand1": _brand(r), "brand2": _brand(r), "brand3": _brand(r)},
    20: lambda r, sf: {"color": r.choice(COLORS), "date": _year(r), "nation": r.choice(NATIONS)},
    21: lambda r, sf: {"nation": r.choice(NATIONS)},
    22: lambda r, sf: {"codes": _quoted(str(c) for c in r.sample(range(10, 35), 7))},
}


def statements(sf: float, seed: int = 0, draws: int = 4, queries: tuple[int, ...] = tuple(QUERIES)) -> list[str]:
    """``draws`` instances of each query, its parameters drawn by ``seed`` (each query from its own stream, so
    one query's draws never depend on another's); each statement starts with ``-- name: q<n>``."""
    out = []
    for n in queries:
        rng = random.Random(f"sqlgym-tpch-{seed}-q{n}")
        for _ in range(draws):
            out.append(f"-- name: q{n}\n" + QUERIES[n].format(**DRAWS[n](rng, sf)))
    return out


__all__ = ["COLORS", "DRAWS", "NATIONS", "QUERIES", "REGIONS", "statements"]
