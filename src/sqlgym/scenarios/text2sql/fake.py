"""Realistic values for the generated business databases: names, places, dates, prices.

Every function takes a ``numpy.random.Generator`` so a database is a pure function of its seed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np

FIRST_NAMES = (
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Oliver", "Sophia", "Elijah", "Isabella", "James", "Mia", "William",
    "Amelia", "Benjamin", "Harper", "Lucas", "Evelyn", "Henry", "Abigail", "Theodore", "Emily", "Jack", "Ella",
    "Levi", "Elizabeth", "Alexander", "Camila", "Jackson", "Luna", "Mateo", "Sofia", "Daniel", "Avery", "Michael",
    "Mila", "Mason", "Aria", "Sebastian", "Scarlett", "Ethan", "Penelope", "Logan", "Layla", "Owen", "Chloe",
    "Samuel", "Victoria", "Jacob", "Madison", "Asher", "Eleanor", "Aiden", "Grace", "John", "Nora", "Joseph",
    "Riley", "Wyatt", "Zoey", "David", "Hannah", "Leo", "Hazel", "Luke", "Lily", "Julian", "Ellie", "Hudson",
    "Violet", "Grayson", "Lillian", "Matthew", "Zoe", "Ezra", "Stella", "Gabriel", "Aurora", "Carter", "Natalie",
    "Isaac", "Emilia", "Jayden", "Everly", "Luca", "Leah", "Anthony", "Aubrey", "Dylan", "Willow", "Lincoln",
    "Addison", "Thomas", "Lucy", "Maverick", "Audrey", "Elias", "Bella", "Josiah", "Nova", "Charles", "Brooklyn",
)
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
    "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker",
    "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson",
    "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Gomez", "Phillips", "Evans", "Turner",
    "Diaz", "Parker", "Cruz", "Edwards", "Collins", "Reyes", "Stewart", "Morris", "Morales", "Murphy", "Cook",
    "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper", "Peterson", "Bailey", "Reed", "Kelly", "Howard", "Ramos",
    "Kim", "Cox", "Ward", "Richardson", "Watson", "Brooks", "Chavez", "Wood", "James", "Bennett", "Gray", "Mendoza",
)
CITIES = (  # (city, state): a skewed handful dominate, as real customer bases do
    ("Springfield", "IL"), ("Portland", "OR"), ("Austin", "TX"), ("Madison", "WI"), ("Boulder", "CO"),
    ("Raleigh", "NC"), ("Tucson", "AZ"), ("Albany", "NY"), ("Salem", "MA"), ("Dayton", "OH"), ("Eugene", "OR"),
    ("Fresno", "CA"), ("Reno", "NV"), ("Boise", "ID"), ("Omaha", "NE"), ("Tulsa", "OK"),
)
STREETS = ("Main St", "Oak Ave", "Maple Dr", "Cedar Ln", "Pine St", "Elm St", "Lake Rd", "Hill St", "Park Ave",
           "River Rd", "Sunset Blvd", "Church St", "Mill Rd", "Forest Dr", "Spring St", "Washington Ave")


def zipf_weights(k: int, s: float = 1.1) -> np.ndarray:
    """Weights for k categories where a few are common and most are rare."""
    w = 1.0 / np.arange(1, k + 1) ** s
    return w / w.sum()


def pick(rng: np.random.Generator, values: Sequence, n: int,
         weights: Sequence[float] | np.ndarray | None = None) -> list:
    """n draws from ``values`` (uniform, or with relative ``weights``)."""
    p = None if weights is None else np.asarray(weights, dtype=float) / float(np.sum(weights))
    return [values[int(i)] for i in rng.choice(len(values), size=n, p=p)]


def skewed(rng: np.random.Generator, values: Sequence, n: int, s: float = 1.1) -> list:
    """n draws where the first values are the most common (zipf-like)."""
    return pick(rng, values, n, zipf_weights(len(values), s))


def person_names(rng: np.random.Generator, n: int) -> list[tuple[str, str]]:
    """n (first, last) pairs, distinct where possible."""
    pairs = [(f, last) for f in FIRST_NAMES for last in LAST_NAMES]
    order = rng.permutation(len(pairs))
    return [pairs[int(order[i % len(pairs)])] for i in range(n)]


def emails(names: Sequence[tuple[str, str]], domains: Sequence[str] = ("mail.com", "inbox.org", "post.net")) -> list[str]:
    """first.last@domain, made unique with a number where two people share a name."""
    seen: dict[str, int] = {}
    out = []
    for i, (first, last) in enumerate(names):
        base = f"{first}.{last}".lower()
        seen[base] = seen.get(base, 0) + 1
        suffix = "" if seen[base] == 1 else str(seen[base])
        out.append(f"{base}{suffix}@{domains[i % len(domains)]}")
    return out


def phones(rng: np.random.Generator, n: int) -> list[str]:
    return [f"555-{int(a):03d}-{int(b):04d}" for a, b in zip(rng.integers(100, 1000, n), rng.integers(0, 10000, n))]


def addresses(rng: np.random.Generator, n: int) -> list[str]:
    return [f"{int(num)} {STREETS[int(s)]}" for num, s in zip(rng.integers(1, 9999, n), rng.integers(0, len(STREETS), n))]


def cities(rng: np.random.Generator, n: int) -> list[tuple[str, str]]:
    return skewed(rng, CITIES, n, 0.9)


def dates(rng: np.random.Generator, n: int, start: str, end: str, *, sort: bool = False) -> list[str]:
    """n ISO dates between ``start`` and ``end`` inclusive."""
    lo, hi = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    days = rng.integers(0, (hi - lo).days + 1, size=n)
    if sort:
        days = np.sort(days)
    return [(lo + dt.timedelta(days=int(d))).isoformat() for d in days]


def days_after(rng: np.random.Generator, base: Sequence[str], low: int, high: int) -> list[str]:
    """For each ISO date in ``base``, a date between ``low`` and ``high`` days later."""
    return [(dt.date.fromisoformat(b) + dt.timedelta(days=int(d))).isoformat()
            for b, d in zip(base, rng.integers(low, high + 1, len(base)))]


def money(rng: np.random.Generator, n: int, median: float, spread: float = 0.6, low: float = 0.5) -> list[float]:
    """Log-normal prices around ``median``, rounded to cents, never below ``low``."""
    vals = np.exp(np.log(median) + spread * rng.standard_normal(n))
    return [round(max(low, float(v)), 2) for v in vals]


def with_nulls(rng: np.random.Generator, values: Sequence, fraction: float) -> list:
    """Replace a ``fraction`` of the values with NULL (missing data, as real tables have)."""
    mask = rng.random(len(values)) < fraction
    return [None if m else v for v, m in zip(values, mask)]


def iso_days(start: str, offsets: np.ndarray) -> list[str]:
    """ISO dates ``offsets`` days after ``start`` (vectorised; for many rows at once)."""
    days = np.datetime64(start, "D") + np.asarray(offsets, dtype=np.int64).astype("timedelta64[D]")
    return days.astype(str).tolist()


def iso_times(start: str, seconds: np.ndarray) -> list[str]:
    """'YYYY-MM-DD HH:MM:SS' timestamps ``seconds`` after midnight of ``start`` (vectorised)."""
    stamps = np.datetime64(start, "s") + np.asarray(seconds, dtype=np.int64).astype("timedelta64[s]")
    return np.char.replace(stamps.astype(str), "T", " ").tolist()


def seasonal_days(rng: np.random.Generator, n: int, start: str, end: str,
                  month_weights: Sequence[float] | None = None,
                  weekday_weights: Sequence[float] | None = None) -> np.ndarray:
    """n day offsets from ``start`` (up to ``end`` inclusive), more likely in heavier months (Jan..Dec)
    and weekdays (Mon..Sun); returned sorted."""
    days = np.arange((dt.date.fromisoformat(end) - dt.date.fromisoformat(start)).days + 1)
    stamps = np.datetime64(start, "D") + days.astype("timedelta64[D]")
    w = np.ones(len(days))
    if month_weights is not None:
        w *= np.asarray(month_weights, dtype=float)[stamps.astype("datetime64[M]").astype(int) % 12]
    if weekday_weights is not None:
        w *= np.asarray(weekday_weights, dtype=float)[(stamps.astype(np.int64) + 3) % 7]  # 1970-01-01 was a Thursday
    return np.sort(rng.choice(days, size=n, p=w / w.sum()))


def mask_nulls(rng: np.random.Generator, values: Sequence, fraction: float) -> list:
    """Alias of ``with_nulls`` for column lists built with numpy (values converted to Python scalars)."""
    return with_nulls(rng, [v.item() if isinstance(v, np.generic) else v for v in values], fraction)
