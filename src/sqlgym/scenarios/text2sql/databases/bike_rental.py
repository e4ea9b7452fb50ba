"""A city bike rental scheme: docking stations, bikes, members on plans, rentals, repairs and payments."""

from __future__ import annotations

import numpy as np

from sqlgym.scenarios.text2sql import fake

SEED = 37
DESCRIPTION = ("A city bike rental shop with docking stations around town: members on different plans rent "
               "classic, electric and cargo bikes; bikes are repaired by the shop's mechanics. "
               "Rentals from 2023-06-01 to 2024-11-30.")

SCHEMA = """
CREATE TABLE stations (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    neighborhood TEXT NOT NULL,
    capacity INTEGER NOT NULL,     -- number of docks
    has_charger INTEGER NOT NULL,  -- 1 if the docks can charge electric bikes
    opened_on TEXT NOT NULL
);
CREATE TABLE bikes (
    id INTEGER PRIMARY KEY,
    bike_type TEXT NOT NULL,       -- 'classic', 'electric', 'cargo' (cargo bikes are electric-assisted)
    model TEXT NOT NULL,
    purchased_on TEXT NOT NULL,
    purchase_price REAL NOT NULL,
    status TEXT NOT NULL,          -- 'active', 'in repair', 'retired'
    retired_on TEXT                -- NULL unless retired
);
CREATE TABLE plans (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    billing TEXT NOT NULL,         -- 'none' (pay per ride), 'monthly', 'annual'
    fee REAL NOT NULL,             -- membership fee per billing period
    included_minutes INTEGER NOT NULL,  -- free minutes per ride
    unlock_fee REAL NOT NULL,      -- charged per ride
    per_minute_rate REAL NOT NULL  -- charged for each minute beyond the included minutes
);
CREATE TABLE members (
    id INTEGER PRIMARY KEY,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    email TEXT,
    birth_year INTEGER,
    plan_id INTEGER NOT NULL REFERENCES plans(id),
    joined_on TEXT NOT NULL,
    cancelled_on TEXT              -- NULL while the membership is active
);
CREATE TABLE rentals (
    id INTEGER PRIMARY KEY,
    member_id INTEGER NOT NULL REFERENCES members(id),
    bike_id INTEGER NOT NULL REFERENCES bikes(id),
    start_station_id INTEGER NOT NULL REFERENCES stations(id),
    end_station_id INTEGER REFERENCES stations(id),  -- NULL if the bike was never returned
    start_time TEXT NOT NULL,      -- 'YYYY-MM-DD HH:MM:SS', local time
    end_time TEXT,                 -- NULL if the bike was never returned
    distance_km REAL               -- GPS distance; only electric and cargo bikes have GPS (NULL for classic)
);
CREATE TABLE maintenance (
    id INTEGER PRIMARY KEY,
    bike_id INTEGER NOT NULL REFERENCES bikes(id),
    reported_on TEXT NOT NULL,
    resolved_on TEXT,              -- NULL while the repair is open
    issue TEXT NOT NULL,           -- 'flat tire', 'brakes', 'chain', 'gears', 'lights', 'battery', 'frame damage'
    mechanic TEXT NOT NULL,        -- first name of the mechanic who did the work
    cost REAL                      -- parts and labour; NULL while open
);
CREATE TABLE payments (
    id INTEGER PRIMARY KEY,
    member_id INTEGER NOT NULL REFERENCES members(id),
    rental_id INTEGER REFERENCES rentals(id),  -- the ride paid for; NULL for membership fees
    paid_at TEXT NOT NULL,         -- 'YYYY-MM-DD HH:MM:SS'
    payment_type TEXT NOT NULL,    -- 'ride fee', 'membership fee', 'lost bike fee'
    method TEXT NOT NULL,          -- 'card', 'apple pay', 'google pay'
    amount REAL NOT NULL
);
"""

START = "2023-06-01"  # day 0 of the integer day offsets below
END_DAY = 548          # 2024-11-30
NEIGHBORHOODS = ("Downtown", "University", "Riverside", "Old Town", "Midtown", "Harbor", "Eastside", "Hillcrest")
LANDMARKS = ("Union Station", "City Hall", "Central Library", "Main St & 3rd Ave", "Campus Green", "Science Quad",
             "Riverside Park", "Waterfront Promenade", "Market Square", "Old Town Plaza", "Convention Center",
             "Midtown Mall", "Harbor Ferry Terminal", "Fishermen's Wharf", "Eastside Community Center",
             "Hillcrest Hospital", "Art Museum", "Stadium North", "Elm St & 5th Ave", "Oak Ave & 12th St",
             "Medical School", "Student Union", "Boathouse", "Courthouse", "Tech Park", "Lakeview Terrace",
             "Brewery District", "Farmers Market", "Memorial Bridge", "Botanical Garden", "Pine St & 8th Ave",
             "Greyhound Depot", "Sunset Pier", "Maple Dr & 2nd Ave", "Hillcrest Reservoir", "Cedar Ln Library")
STATION_HOOD = (0, 0, 0, 0, 1, 1, 2, 2, 0, 3, 4, 4, 5, 5, 6, 7, 3, 4, 0, 6, 1, 1, 2, 3, 4, 7, 3, 3, 2, 7, 6, 6, 5,
                4, 7, 1)
PLANS = ((1, "Pay As You Go", "none", 0.0, 0, 1.0, 0.25), (2, "Monthly", "monthly", 17.0, 45, 0.0, 0.15),
         (3, "Annual", "annual", 139.0, 45, 0.0, 0.15), (4, "Student", "annual", 69.0, 30, 0.0, 0.15),
         (5, "Corporate", "annual", 99.0, 60, 0.0, 0.10))
MODELS = {"classic": (("Urban 3", 520), ("Urban 7", 640)), "electric": (("VoltRide E1", 1850), ("VoltRide E2", 2300)),
          "cargo": (("HaulPro Cargo", 3900),)}
MECHANICS = ("Dmitri", "Priya", "Sam", "Keiko", "Marcus")
ISSUES = {  # issue: (weight, median cost, only for e-bikes)
    "flat tire": (30, 18.0, False), "brakes": (20, 35.0, False), "chain": (14, 25.0, False),
    "gears": (10, 40.0, False), "lights": (9, 22.0, False), "battery": (12, 180.0, True),
    "frame damage": (5, 150.0, False),
}
HOUR_W = np.array([1, 0.5, 0.3, 0.2, 0.3, 1, 3, 7, 10, 6, 4, 4.5, 5.5, 5, 4.5, 5, 7, 10, 8, 5.5, 4, 3, 2, 1.5])
MONTH_W = (0.45, 0.5, 0.75, 0.9, 1.1, 1.25, 1.35, 1.35, 1.2, 0.95, 0.7, 0.5)
WEEKDAY_W = (1.0, 1.05, 1.05, 1.1, 1.15, 0.95, 0.8)


def _days(day_offsets) -> list[str]:
    return fake.iso_days(START, day_offsets)


def rows(rng: np.random.Generator) -> dict[str, list[tuple]]:
    n_bikes, n_members, n_rentals = 260, 580, 3300

    # stations: most opened before the data starts, three during it
    n_st = len(LANDMARKS)
    opened = rng.integers(-1600, -60, n_st)
    opened[[31, 33, 35]] = [95, 260, 410]
    capacity = rng.choice([12, 15, 15, 19, 19, 23, 27, 31], size=n_st)
    capacity[:4] += 12
    charger = (rng.random(n_st) < 0.45).astype(int)
    charger[:4] = 1
    op_s = _days(opened)
    stations = [(i + 1, LANDMARKS[i], NEIGHBORHOODS[STATION_HOOD[i]], int(capacity[i]), int(charger[i]), op_s[i])
                for i in range(n_st)]

    # bikes
    btype = np.array(fake.pick(rng, ("classic", "electric", "cargo"), n_bikes, (60, 33, 7)))
    model_i = (rng.random(n_bikes) < 0.45).astype(int)
    model_i[btype == "cargo"] = 0
    bought = rng.integers(-900, -20, n_bikes)
    late = rng.random(n_bikes) < 0.15
    bought[late] = rng.integers(0, 480, int(late.sum()))
    retired = rng.random(n_bikes) < 0.06
    retired &= bought < 200
    first_ok = np.maximum(bought, 0) + 60
    retire_day = np.where(retired, first_ok + (rng.random(n_bikes) * (END_DAY - 3 - first_ok)).astype(int), 10**6)
    status = np.where(retired, "retired", "active").astype(object)
    in_repair = ~retired & (rng.random(n_bikes) < 0.07)
    status[in_repair] = "in repair"
    plans = list(PLANS)

    # members
    names = fake.person_names(rng, n_members)
    email = fake.with_nulls(rng, fake.emails(names, ("gmail.com", "icloud.com", "proton.me", "outlook.com")), 0.09)
    plan_of = rng.choice(5, size=n_members, p=[0.36, 0.13, 0.3, 0.14, 0.07])
    birth = 1998 - np.round(np.abs(rng.normal(0, 11, n_members))).astype(int) + rng.integers(-6, 8, n_members)
    birth[plan_of == 3] = rng.integers(1999, 2007, int((plan_of == 3).sum()))  # students
    birth_l = fake.with_nulls(rng, birth.tolist(), 0.16)
    joined = np.sort(rng.integers(-1000, END_DAY - 20, n_members))
    quit_ = rng.random(n_members) < 0.14
    cancel_day = np.where(quit_, np.minimum(np.maximum(joined, 0) + rng.integers(30, 500, n_members), END_DAY), 10**6)
    quit_ &= cancel_day < END_DAY
    cancel_day[~quit_] = 10**6
    joined_s, cancel_s = _days(joined), _days(np.where(quit_, cancel_day, 0))
    members = [(i + 1, f, last, email[i], birth_l[i], int(plan_of[i]) + 1, joined_s[i],
                cancel_s[i] if quit_[i] else None) for i, (f, last) in enumerate(names)]

    # rentals: seasonal days, commuter-peak hours, a few heavy riders, popular downtown stations
    day = fake.seasonal_days(rng, n_rentals, START, "2024-11-30", MONTH_W, WEEKDAY_W)
    activity = fake.zipf_weights(n_members, 0.75)[rng.permutation(n_members)]
    member = rng.choice(n_members, size=n_rentals, p=activity)
    bike_w = np.where(btype == "electric", 2.2, np.where(btype == "cargo", 0.6, 1.0))
    bike = rng.choice(n_bikes, size=n_rentals, p=bike_w / bike_w.sum())
    st_w = fake.zipf_weights(n_st, 0.8)
    start_st = rng.choice(n_st, size=n_rentals, p=st_w)
    end_st = rng.choice(n_st, size=n_rentals, p=st_w)
    for _ in range(40):  # redraw whatever is inconsistent with the day: not yet joined, bike not owned, ...
        bad_m = (joined[member] > day) | (cancel_day[member] <= day)
        bad_b = (np.maximum(bought[bike], -1) >= day) | (retire_day[bike] <= day)
        bad_s, bad_e = opened[start_st] > day, opened[end_st] > day
        if not (bad_m.any() or bad_b.any() or bad_s.any() or bad_e.any()):
            break
        member[bad_m] = rng.choice(n_members, size=int(bad_m.sum()), p=activity)
        bike[bad_b] = rng.choice(n_bikes, size=int(bad_b.sum()), p=bike_w / bike_w.sum())
        start_st[bad_s] = rng.choice(n_st, size=int(bad_s.sum()), p=st_w)
        end_st[bad_e] = rng.choice(n_st, size=int(bad_e.sum()), p=st_w)
    ok = ~((joined[member] > day) | (cancel_day[member] <= day) | (np.maximum(bought[bike], -1) >= day)
           | (retire_day[bike] <= day) | (opened[start_st] > day) | (opened[end_st] > day))
    day, member, bike, start_st, end_st = day[ok], member[ok], bike[ok], start_st[ok], end_st[ok]
    n = len(day)
    round_trip = rng.random(n) < 0.1
    end_st[round_trip] = start_st[round_trip]
    secs = day * 86400 + rng.choice(24, size=n, p=HOUR_W / HOUR_W.sum()) * 3600 + rng.integers(0, 3600, n)
    order = np.argsort(secs, kind="stable")
    secs, member, bike, start_st, end_st, round_trip = (secs[order], member[order], bike[order], start_st[order],
                                                        end_st[order], round_trip[order])
    ebike = btype[bike] != "classic"
    minutes = np.exp(np.log(np.where(round_trip, 32.0, 13.0)) + 0.7 * rng.standard_normal(n)) * np.where(ebike, 1.1, 1)
    dur = np.clip(np.round(minutes * 60), 70, 6 * 3600).astype(int)
    # a few bikes were never returned after their last ride: written off as retired a week later
    last_of = np.full(n_bikes, -1)
    last_of[bike] = np.arange(n)  # later rentals overwrite earlier ones
    cand = np.flatnonzero((status == "active") & (last_of >= 0))
    cand = cand[secs[last_of[cand]] < (END_DAY - 30) * 86400]
    gone = rng.choice(cand, size=9, replace=False)
    lost = np.zeros(n, dtype=bool)
    lost[last_of[gone]] = True
    retired[gone] = True
    status[gone] = "retired"
    retire_day[gone] = secs[last_of[gone]] // 86400 + 7
    dist = np.round(dur / 60 * np.where(btype[bike] == "cargo", 0.22, 0.3) * np.exp(0.2 * rng.standard_normal(n)), 2)
    start_s, end_s = fake.iso_times(START, secs), fake.iso_times(START, secs + dur)
    models, prices = [], []
    for t, mi in zip(btype, model_i):
        name, base = MODELS[t][mi]
        models.append(name)
        prices.append(float(base))
    bought_s, retire_s = _days(bought), _days(np.where(retired, retire_day, 0))
    bikes = [(i + 1, str(btype[i]), models[i], bought_s[i], prices[i], str(status[i]),
              retire_s[i] if retired[i] else None) for i in range(n_bikes)]

    rentals = [(i + 1, int(member[i]) + 1, int(bike[i]) + 1, int(start_st[i]) + 1,
                None if lost[i] else int(end_st[i]) + 1, start_s[i], None if lost[i] else end_s[i],
                float(dist[i]) if ebike[i] and not lost[i] else None) for i in range(n)]

    # maintenance: more repairs for busier bikes; 'in repair' bikes have one open ticket
    rides = np.bincount(bike, minlength=n_bikes)
    n_fix = rng.poisson(0.4 + rides / 9)
    mb = np.repeat(np.arange(n_bikes), n_fix)
    lo = np.maximum(bought[mb], 0) + 5
    hi = np.minimum(retire_day[mb], END_DAY - 1)
    mb, lo, hi = mb[hi > lo], lo[hi > lo], hi[hi > lo]
    rep = lo + (rng.random(len(mb)) * (hi - lo)).astype(int)
    open_b = np.flatnonzero(in_repair)
    mb = np.concatenate([mb, open_b])
    last_day = np.where(last_of[open_b] >= 0, secs[np.maximum(last_of[open_b], 0)] // 86400, 0)
    rep = np.concatenate([rep, np.maximum(END_DAY - rng.integers(0, 20, len(open_b)), last_day)])
    n_m = len(mb)
    is_e = btype[mb] != "classic"
    issue_names = list(ISSUES)
    w = np.array([[ISSUES[k][0] * (is_e_i or not ISSUES[k][2]) for k in issue_names] for is_e_i in (False, True)], float)
    issue = np.where(is_e, rng.choice(len(issue_names), size=n_m, p=w[1] / w[1].sum()),
                     rng.choice(len(issue_names), size=n_m, p=w[0] / w[0].sum()))
    retired_last = np.zeros(n_m, dtype=bool)
    for b in np.flatnonzero(retired & ~np.isin(np.arange(n_bikes), gone)):  # retired: last repair was frame damage
        idx = np.flatnonzero(mb == b)
        if len(idx):
            j = idx[np.argmax(rep[idx])]
            issue[j], retired_last[j] = issue_names.index("frame damage"), True
    is_open = np.r_[np.zeros(n_m - len(open_b), dtype=bool), np.ones(len(open_b), dtype=bool)]
    fix_days = np.round(rng.exponential(3.0, n_m)).astype(int)
    resolved = np.minimum(rep + fix_days, END_DAY)
    cost = np.round(np.array([ISSUES[issue_names[i]][1] for i in issue]) * np.exp(0.45 * rng.standard_normal(n_m)), 2)
    mech = np.array(fake.skewed(rng, MECHANICS, n_m, 0.6))
    order = np.lexsort((mb, rep))
    rep_s, res_s = _days(rep[order]), _days(resolved[order])
    maintenance = [(j + 1, int(mb[i]) + 1, rep_s[j], None if is_open[i] else res_s[j], issue_names[issue[i]],
                    str(mech[i]), None if is_open[i] else float(cost[i])) for j, i in enumerate(order)]

    # payments: ride fees (unlock + minutes beyond the included ones), lost-bike fees, membership fees
    plan = plan_of[member]
    inc = np.array([p[4] for p in PLANS])[plan]
    unlock = np.array([p[5] for p in PLANS])[plan]
    rate = np.array([p[6] for p in PLANS])[plan]
    billed_min = np.ceil(dur / 60)
    fee = np.round(unlock + rate * np.maximum(billed_min - inc, 0), 2)
    method_p = np.array([0.62, 0.24, 0.14])
    methods = ("card", "apple pay", "google pay")
    pay = []  # (seconds, member, rental, type, amount)
    for i in np.flatnonzero((fee > 0) & ~lost):
        pay.append((int(secs[i] + dur[i]), int(member[i]), i + 1, "ride fee", float(fee[i])))
    for i in np.flatnonzero(lost):
        pay.append((int(secs[i] + 86400 * 3), int(member[i]), i + 1, "lost bike fee", 250.0))
    for mi in range(n_members):
        billing, price = PLANS[plan_of[mi]][2], PLANS[plan_of[mi]][3]
        if billing == "none":
            continue
        step = 30 if billing == "monthly" else 365
        d = int(joined[mi])
        while d <= END_DAY and d < cancel_day[mi]:
            if d >= 0:
                pay.append((d * 86400 + 9 * 3600, mi, None, "membership fee", price))
            d += step
    pay.sort(key=lambda p: (p[0], p[1]))
    when = fake.iso_times(START, np.array([p[0] for p in pay]))
    meth = rng.choice(3, size=len(pay), p=method_p)
    member_method = rng.choice(3, size=n_members, p=method_p)  # most people always pay the same way
    sticky = rng.random(len(pay)) < 0.85
    payments = [(j + 1, p[1] + 1, p[2], when[j], p[3],
                 methods[int(member_method[p[1]]) if sticky[j] else int(meth[j])], p[4]) for j, p in enumerate(pay)]

    return {"stations": stations, "bikes": bikes, "plans": plans, "members": members, "rentals": rentals,
            "maintenance": maintenance, "payments": payments}
