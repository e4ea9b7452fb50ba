"""A dog boarding kennel: owners, their dogs and breeds, kennel runs, staff, stays and extra services."""

from __future__ import annotations

import numpy as np

from sqlgym.scenarios.text2sql import fake

SEED = 23
DESCRIPTION = ("A dog boarding kennel: owners board their dogs in kennel runs for a few nights and staff "
               "provide extra services (walks, grooming, medication, training) during the stay. "
               "Data as of 2024-12-15.")

SCHEMA = """
CREATE TABLE owners (
    id INTEGER PRIMARY KEY,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    city TEXT NOT NULL,
    state TEXT NOT NULL,
    registered_on TEXT NOT NULL
);
CREATE TABLE breeds (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    size_class TEXT NOT NULL,      -- 'toy', 'small', 'medium', 'large', 'giant'
    breed_group TEXT NOT NULL      -- kennel club group: 'sporting', 'hound', 'working', 'terrier', 'toy', 'non-sporting', 'herding'
);
CREATE TABLE dogs (
    id INTEGER PRIMARY KEY,
    owner_id INTEGER NOT NULL REFERENCES owners(id),
    name TEXT NOT NULL,
    breed_id INTEGER REFERENCES breeds(id),  -- NULL for mixed breed
    sex TEXT NOT NULL,             -- 'M' or 'F'
    birth_date TEXT,               -- NULL when unknown (e.g. rescues)
    weight_kg REAL NOT NULL,
    is_neutered INTEGER NOT NULL,  -- 1 if spayed/neutered
    rabies_vaccine_expires TEXT,   -- NULL if no vaccination record on file
    registered_on TEXT NOT NULL
);
CREATE TABLE kennel_runs (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL,            -- e.g. 'N07': wing letter and number
    wing TEXT NOT NULL,            -- 'North', 'South', 'Garden'
    size TEXT NOT NULL,            -- 'small', 'standard', 'large', 'suite'
    nightly_rate REAL NOT NULL,
    has_outdoor_access INTEGER NOT NULL  -- 1 if the run opens onto a private yard
);
CREATE TABLE staff (
    id INTEGER PRIMARY KEY,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    role TEXT NOT NULL,            -- 'manager', 'receptionist', 'kennel assistant', 'groomer', 'vet tech', 'trainer'
    hire_date TEXT NOT NULL,
    left_on TEXT,                  -- NULL while still employed
    hourly_wage REAL NOT NULL
);
CREATE TABLE stays (
    id INTEGER PRIMARY KEY,
    dog_id INTEGER NOT NULL REFERENCES dogs(id),
    run_id INTEGER NOT NULL REFERENCES kennel_runs(id),
    booked_on TEXT NOT NULL,
    check_in TEXT NOT NULL,
    check_out TEXT NOT NULL,       -- (planned) departure date; nights = days between check_in and check_out
    status TEXT NOT NULL,          -- 'completed', 'checked in' (there now), 'booked' (future), 'cancelled'
    boarding_fee REAL              -- nights x the run's nightly rate, 10% off stays of 14+ nights; NULL if cancelled
);
CREATE TABLE treatments (
    id INTEGER PRIMARY KEY,
    stay_id INTEGER NOT NULL REFERENCES stays(id),
    staff_id INTEGER NOT NULL REFERENCES staff(id),
    service TEXT NOT NULL,         -- 'extra walk', 'playgroup', 'bath', 'nail trim', 'full groom', 'medication', 'vet check', 'training session'
    performed_on TEXT NOT NULL,
    charge REAL NOT NULL
);
"""

TODAY = "2024-12-15"
START = "2023-01-01"  # day 0 of the integer day offsets used below
TODAY_DAY = 714        # 2024-12-15 as an offset from START

BREEDS = (  # (name, size_class, group), most popular first
    ("Labrador Retriever", "large", "sporting"), ("French Bulldog", "small", "non-sporting"),
    ("Golden Retriever", "large", "sporting"), ("German Shepherd", "large", "herding"),
    ("Poodle", "medium", "non-sporting"), ("Dachshund", "small", "hound"), ("Beagle", "medium", "hound"),
    ("Rottweiler", "large", "working"), ("Bulldog", "medium", "non-sporting"),
    ("Pembroke Welsh Corgi", "small", "herding"), ("Australian Shepherd", "medium", "herding"),
    ("Yorkshire Terrier", "toy", "toy"), ("Cavalier King Charles Spaniel", "small", "toy"),
    ("Boxer", "large", "working"), ("Shih Tzu", "toy", "toy"), ("Border Collie", "medium", "herding"),
    ("Siberian Husky", "large", "working"), ("Miniature Schnauzer", "small", "terrier"),
    ("Bernese Mountain Dog", "giant", "working"), ("Cocker Spaniel", "medium", "sporting"),
    ("Great Dane", "giant", "working"), ("Chihuahua", "toy", "toy"), ("Jack Russell Terrier", "small", "terrier"),
    ("Whippet", "medium", "hound"), ("Newfoundland", "giant", "working"), ("Basset Hound", "medium", "hound"),
)
SIZE_KG = {"toy": 3.5, "small": 9.0, "medium": 18.0, "large": 32.0, "giant": 55.0}
DOG_NAMES = ("Bella", "Max", "Luna", "Charlie", "Lucy", "Cooper", "Daisy", "Milo", "Bailey", "Rocky", "Sadie",
             "Buddy", "Molly", "Tucker", "Stella", "Bear", "Zoey", "Duke", "Rosie", "Teddy", "Maggie", "Winston",
             "Penny", "Murphy", "Coco", "Louie", "Ruby", "Jack", "Nala", "Finn", "Willow", "Ollie", "Pepper",
             "Gus", "Hazel", "Bentley", "Lola", "Oscar", "Piper", "Moose", "Ginger", "Zeus", "Biscuit", "Scout")
RUN_RATE = {"small": 38.0, "standard": 48.0, "large": 58.0, "suite": 85.0}
# service: (weight, median charge, role that performs it)
SERVICES = {
    "extra walk": (30, 12.0, "kennel assistant"), "playgroup": (22, 15.0, "kennel assistant"),
    "bath": (16, 28.0, "groomer"), "nail trim": (10, 15.0, "groomer"), "medication": (9, 6.0, "vet tech"),
    "full groom": (7, 65.0, "groomer"), "training session": (4, 45.0, "trainer"), "vet check": (2, 55.0, "vet tech"),
}


def _runs() -> list[tuple]:
    layout = (("North", "N", ("small",) * 6 + ("standard",) * 8), ("South", "S", ("standard",) * 6 + ("large",) * 8),
              ("Garden", "G", ("large",) * 3 + ("suite",) * 5))
    out: list[tuple] = []
    for wing, letter, sizes in layout:
        for k, size in enumerate(sizes):
            outdoor = int(wing == "Garden" or (wing == "South" and k % 2 == 0))
            rate = RUN_RATE[size] + (6.0 if outdoor and size != "suite" else 0.0)
            out.append((len(out) + 1, f"{letter}{k + 1:02d}", wing, size, rate, outdoor))
    return out


def rows(rng: np.random.Generator) -> dict[str, list[tuple]]:
    n_owners = 460

    # owners
    names = fake.person_names(rng, n_owners)
    emails = fake.with_nulls(rng, fake.emails(names, ("gmail.com", "yahoo.com", "outlook.com")), 0.14)
    phones = fake.with_nulls(rng, fake.phones(rng, n_owners), 0.05)
    places = fake.cities(rng, n_owners)
    own_reg = np.sort(rng.integers(-730, 640, n_owners))  # 2021-01-01 .. 2024-10
    own_reg_s = fake.iso_days(START, own_reg)
    owners = [(i + 1, f, last, emails[i], phones[i], places[i][0], places[i][1], own_reg_s[i])
              for i, (f, last) in enumerate(names)]

    breeds = [(i + 1, n, s, g) for i, (n, s, g) in enumerate(BREEDS)]

    # dogs: most owners have one dog, a few have several
    per_owner = np.minimum(rng.geometric(0.65, n_owners), 5)
    owner_of = np.repeat(np.arange(n_owners), per_owner)
    n_dogs = len(owner_of)
    breed_idx = rng.choice(len(BREEDS), size=n_dogs, p=fake.zipf_weights(len(BREEDS), 0.9))
    mixed = rng.random(n_dogs) < 0.12
    sizes = np.array([BREEDS[b][1] for b in breed_idx])
    sizes[mixed] = rng.choice(["small", "medium", "large"], size=int(mixed.sum()), p=[0.3, 0.45, 0.25])
    median_kg = np.array([SIZE_KG[s] for s in sizes])
    weight = np.round(median_kg * np.exp(0.18 * rng.standard_normal(n_dogs)), 1)
    dog_reg = own_reg[owner_of] + (rng.random(n_dogs) < 0.3) * rng.integers(0, 400, n_dogs)
    dog_reg = np.minimum(dog_reg, 690)
    age_days = np.round(np.exp(np.log(4.5 * 365) + 0.6 * rng.standard_normal(n_dogs))).astype(int)
    birth = fake.with_nulls(rng, fake.iso_days(START, dog_reg - np.clip(age_days, 90, 16 * 365)), 0.07)
    rabies = fake.with_nulls(rng, fake.iso_days(START, TODAY_DAY + rng.integers(-300, 1095, n_dogs)), 0.09)
    sex = rng.choice(["M", "F"], size=n_dogs)
    neutered = (rng.random(n_dogs) < 0.82).astype(int)
    dname = fake.skewed(rng, DOG_NAMES, n_dogs, 0.5)
    dog_reg_s = fake.iso_days(START, dog_reg)
    dogs = [(i + 1, int(owner_of[i]) + 1, dname[i], None if mixed[i] else int(breed_idx[i]) + 1, str(sex[i]),
             birth[i], float(weight[i]), int(neutered[i]), rabies[i], dog_reg_s[i]) for i in range(n_dogs)]

    # stays: each dog boards a skewed number of times with gaps between visits
    runs = _runs()
    n_runs = len(runs)
    run_size = np.array([r[3] for r in runs])
    rate = np.array([r[4] for r in runs])
    per_year = np.exp(np.log(2.0) + 0.9 * rng.standard_normal(n_dogs))  # boarding habit of each dog
    first_day = np.maximum(dog_reg, 0)
    k = rng.poisson(per_year * (TODAY_DAY + 75 - first_day) / 365 + 1) + 1
    dog_of = np.repeat(np.arange(n_dogs), k)
    m = len(dog_of)
    nights = np.clip(np.round(np.exp(np.log(3.6) + 0.75 * rng.standard_normal(m))), 1, 42).astype(int)
    gaps = np.round(rng.exponential(365 / per_year[dog_of])).astype(int) + 1
    first = np.r_[True, dog_of[1:] != dog_of[:-1]]
    step = gaps + np.r_[0, nights[:-1]]
    step[first] = gaps[first]
    grp = np.cumsum(first) - 1
    cum = np.cumsum(step)
    check_in = first_day[dog_of] + cum - cum[np.flatnonzero(first)][grp] + gaps[first][grp]
    # fewer stays in the quiet months (Jan-Mar, Oct-Nov): thin them out
    month = (np.datetime64(START, "D") + check_in.astype("timedelta64[D]")).astype("datetime64[M]").astype(int) % 12
    keep_p = np.array([0.55, 0.5, 0.7, 0.85, 0.9, 1.0, 1.0, 1.0, 0.85, 0.7, 0.8, 1.0])[month]
    keep = (check_in <= TODAY_DAY + 75) & (rng.random(m) < keep_p)
    dog_of, nights, check_in = dog_of[keep], nights[keep], check_in[keep]
    order = np.argsort(check_in, kind="stable")
    dog_of, nights, check_in = dog_of[order], nights[order], check_in[order]
    m = len(dog_of)
    check_out = check_in + nights
    lead = np.minimum(np.round(np.exp(np.log(21) + 0.8 * rng.standard_normal(m))).astype(int), 200)
    booked = np.maximum(check_in - lead, dog_reg[dog_of])
    booked = np.minimum(booked, np.minimum(check_in, TODAY_DAY))
    cancelled = rng.random(m) < np.where(check_in > TODAY_DAY, 0.04, 0.065)

    # kennel runs: size by the dog, some owners pay for a suite; no two live stays share a run
    want = np.where(np.isin(sizes[dog_of], ["toy", "small"]), "small",
                    np.where(np.isin(sizes[dog_of], ["large", "giant"]), "large", "standard"))
    want[rng.random(m) < 0.1] = "suite"
    fallback = {"small": ("standard",), "standard": ("large", "small"), "large": ("suite",), "suite": ("large",)}
    free_from = np.full(n_runs, -10**6)
    run_of = np.zeros(m, dtype=int)
    tie = rng.random((m, n_runs))
    for i in range(m):
        ok = free_from <= check_in[i]
        chosen = -1
        for size in (want[i],) + fallback[want[i]]:
            cand = ok & (run_size == size)
            if cand.any():
                chosen = int(np.argmax(np.where(cand, tie[i], -1.0)))
                break
        if chosen < 0:  # full: the booking was turned into a cancellation at the first-choice size
            chosen = int(np.argmax(np.where(run_size == want[i], tie[i], -1.0)))
            cancelled[i] = True
        run_of[i] = chosen
        if not cancelled[i]:
            free_from[chosen] = check_out[i]
    fee = np.round(nights * rate[run_of] * np.where(nights >= 14, 0.9, 1.0), 2)
    status = np.where(check_out <= TODAY_DAY, "completed", np.where(check_in <= TODAY_DAY, "checked in", "booked"))
    status[cancelled] = "cancelled"
    ci_s, co_s, bk_s = fake.iso_days(START, check_in), fake.iso_days(START, check_out), fake.iso_days(START, booked)
    stays = [(i + 1, int(dog_of[i]) + 1, int(run_of[i]) + 1, bk_s[i], ci_s[i], co_s[i], str(status[i]),
              None if cancelled[i] else float(fee[i])) for i in range(m)]

    # staff
    roles = (["manager"] * 2 + ["receptionist"] * 2 + ["kennel assistant"] * 6 + ["groomer"] * 3
             + ["vet tech"] * 2 + ["trainer"] * 2)
    n_staff = len(roles)
    snames = fake.person_names(rng, n_staff)
    hire = rng.integers(-2200, -30, n_staff)
    left = np.full(n_staff, 10**6)
    hire[[6, 11]] = [420, 510]   # a kennel assistant and a groomer who joined in 2024
    left[[7, 12]] = [380, 555]   # ... replacing two who left
    base_wage = {"manager": 27.0, "receptionist": 16.5, "kennel assistant": 15.5, "groomer": 19.5,
                 "vet tech": 22.0, "trainer": 21.0}
    wage = [round(base_wage[r] * float(np.exp(0.07 * z)), 2) for r, z in zip(roles, rng.standard_normal(n_staff))]
    hire_s, left_s = fake.iso_days(START, hire), fake.iso_days(START, np.where(left > 10**5, 0, left))
    staff = [(i + 1, f, last, roles[i], hire_s[i], None if left[i] > 10**5 else left_s[i], wage[i])
             for i, (f, last) in enumerate(snames)]
    staff_role = np.array(roles)

    # treatments during live stays, up to today
    live = np.flatnonzero(~cancelled & (check_in <= TODAY_DAY))
    n_tr = rng.poisson(np.minimum(nights[live], 14) * 0.26)
    st = np.repeat(live, n_tr)
    t = len(st)
    svc_names = list(SERVICES)
    svc = rng.choice(len(svc_names), size=t, p=np.array([SERVICES[s][0] for s in svc_names]) / 100)
    last_day = np.minimum(check_out[st] - 1, TODAY_DAY)
    when = check_in[st] + (rng.random(t) * (last_day - check_in[st] + 1)).astype(int)
    who = np.zeros(t, dtype=int)
    role_weights = {r: fake.zipf_weights(int((staff_role == r).sum()), 0.7) for r in set(roles)}
    pending = np.ones(t, dtype=bool)
    for _ in range(30):  # draw a staff member of the right role, redraw if not employed that day
        for s_i, s in enumerate(svc_names):
            sel = np.flatnonzero(pending & (svc == s_i))
            pool = np.flatnonzero(staff_role == SERVICES[s][2])
            who[sel] = pool[rng.choice(len(pool), size=len(sel), p=role_weights[SERVICES[s][2]])]
        pending = (hire[who] > when) | (left[who] <= when)
        if not pending.any():
            break
    median = np.array([SERVICES[svc_names[s]][1] for s in svc])
    charge = np.round(median * np.exp(0.12 * rng.standard_normal(t)), 2)
    order = np.lexsort((st, when))
    when_s = fake.iso_days(START, when[order])
    treatments = [(j + 1, int(st[i]) + 1, int(who[i]) + 1, svc_names[svc[i]], when_s[j], float(charge[i]))
                  for j, i in enumerate(order)]

    return {"owners": owners, "breeds": breeds, "dogs": dogs, "kennel_runs": runs, "staff": staff,
            "stays": stays, "treatments": treatments}
