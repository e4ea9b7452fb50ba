"""A regional department store chain: stores, staff, products, customers, orders and supplier deliveries."""

from __future__ import annotations

import bisect
import datetime as dt

import numpy as np

from sqlgym.scenarios.text2sql import fake

SEED = 47
DESCRIPTION = ("A regional department store chain with stores in several cities: the staff at each store and the "
               "department they work in, the product range with its suppliers, customers, sales orders with their "
               "lines, and supplier deliveries to the stores. Sales cover 2023 and 2024.")

SCHEMA = """
CREATE TABLE stores (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    city TEXT NOT NULL,
    state TEXT NOT NULL,
    address TEXT NOT NULL,
    opened_on TEXT NOT NULL,
    store_format TEXT NOT NULL,    -- 'flagship', 'standard', 'outlet'
    floors INTEGER NOT NULL        -- number of sales floors
);
CREATE TABLE staff (
    id INTEGER PRIMARY KEY,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    store_id INTEGER NOT NULL REFERENCES stores(id),
    department TEXT,               -- department worked in (as products.department); NULL for store-wide roles
    role TEXT NOT NULL,            -- 'store manager', 'department manager', 'sales associate', 'cashier', 'stock clerk'
    manager_id INTEGER REFERENCES staff(id),  -- direct manager; NULL for store managers
    hire_date TEXT NOT NULL,
    hourly_wage REAL NOT NULL,
    full_time INTEGER NOT NULL     -- 1 full-time, 0 part-time
);
CREATE TABLE products (
    id INTEGER PRIMARY KEY,
    sku TEXT NOT NULL,
    name TEXT NOT NULL,
    department TEXT NOT NULL,      -- 'Womenswear', 'Menswear', 'Kids', 'Home', 'Beauty', 'Electronics', 'Shoes', 'Sports'
    category TEXT NOT NULL,        -- sub-category within the department
    brand TEXT NOT NULL,
    supplier TEXT NOT NULL,        -- company that supplies the product
    price REAL NOT NULL,           -- current shelf price
    unit_cost REAL NOT NULL,       -- what the chain pays the supplier per unit
    launched_on TEXT NOT NULL,     -- first day on sale
    discontinued INTEGER NOT NULL  -- 1 if no longer reordered
);
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    city TEXT NOT NULL,
    state TEXT NOT NULL,
    birth_year INTEGER,
    joined_on TEXT NOT NULL,       -- date the customer signed up for a store account
    loyalty_tier TEXT NOT NULL     -- 'standard', 'silver', 'gold', 'platinum'
);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    store_id INTEGER NOT NULL REFERENCES stores(id),
    customer_id INTEGER REFERENCES customers(id),  -- NULL for a sale to a shopper without an account
    staff_id INTEGER NOT NULL REFERENCES staff(id),  -- employee who rang up the sale
    order_date TEXT NOT NULL,
    channel TEXT NOT NULL,         -- 'in store' or 'click and collect'
    payment_method TEXT NOT NULL,  -- 'credit card', 'debit card', 'cash', 'store card', 'gift card'
    status TEXT NOT NULL           -- 'completed' or 'returned' (whole order refunded)
);
CREATE TABLE order_items (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders(id),
    product_id INTEGER NOT NULL REFERENCES products(id),
    quantity INTEGER NOT NULL,
    unit_price REAL NOT NULL,      -- shelf price at the time of sale, before discount
    discount REAL NOT NULL         -- fraction taken off the line, e.g. 0.2 = 20% off
);
CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY,        -- one shipment of one product from its supplier to a store
    store_id INTEGER NOT NULL REFERENCES stores(id),
    product_id INTEGER NOT NULL REFERENCES products(id),
    ordered_on TEXT NOT NULL,
    delivered_on TEXT,             -- NULL while still in transit
    quantity INTEGER NOT NULL,
    unit_cost REAL NOT NULL,
    damaged_units INTEGER NOT NULL -- units that arrived damaged
);
"""

# (city, state) from fake.CITIES, store name, format, floors, opened
STORES = (
    ("Springfield", "IL", "Springfield Plaza", "flagship", 4, "1998-04-18"),
    ("Portland", "OR", "Pearl District", "flagship", 5, "2001-09-08"),
    ("Austin", "TX", "Austin Congress Ave", "standard", 3, "2006-03-25"),
    ("Madison", "WI", "Madison Square", "standard", 3, "2009-10-03"),
    ("Boulder", "CO", "Boulder Pearl St", "standard", 2, "2012-05-12"),
    ("Raleigh", "NC", "Raleigh Crossing", "standard", 3, "2015-08-29"),
    ("Tucson", "AZ", "Tucson Outlet", "outlet", 1, "2018-11-10"),
    ("Eugene", "OR", "Eugene Outlet", "outlet", 1, "2021-04-17"),
    ("Reno", "NV", "Reno Riverside", "standard", 2, "2023-06-03"),
)
# department -> (categories with median price, brands, suppliers)
DEPARTMENTS = {
    "Womenswear": ({"Dresses": 68, "Tops": 32, "Jeans": 58, "Outerwear": 120, "Knitwear": 55},
                   ("Maple & Thread", "Lune", "Harbor Lane"), ("Coastline Apparel", "Verde Textiles")),
    "Menswear": ({"Shirts": 45, "Trousers": 55, "Suits": 260, "Outerwear": 135, "Knitwear": 60},
                 ("Harbor Lane", "Stonegate", "Fenwick"), ("Coastline Apparel", "Northline Clothing")),
    "Home": ({"Bedding": 75, "Kitchen": 40, "Tableware": 30, "Decor": 35, "Bath": 22},
             ("Hearth & Co", "Linden Home", "Ovenly"), ("Brightwater Home Goods", "Oakridge Imports")),
    "Beauty": ({"Fragrance": 72, "Skincare": 34, "Makeup": 24, "Haircare": 18},
               ("Lumiere", "Petal", "Aurelia"), ("Glow Distribution",)),
    "Shoes": ({"Sneakers": 85, "Boots": 130, "Sandals": 45, "Formal Shoes": 110},
              ("Stride", "Fenwick", "Trailmark"), ("Summit Footwear", "Northline Clothing")),
    "Kids": ({"Babywear": 22, "Girls": 26, "Boys": 26, "Toys": 28},
             ("Little Acorn", "Playwell"), ("Tiny Steps Ltd", "Verde Textiles")),
    "Electronics": ({"Headphones": 90, "Small Appliances": 75, "Smart Home": 110, "Cameras": 340},
                    ("Voltra", "Sonique", "Kestrel"), ("Pacific Electronics", "Kestrel Direct")),
    "Sports": ({"Activewear": 42, "Fitness Equipment": 65, "Outdoor": 95, "Cycling": 120},
               ("Trailmark", "Peakform"), ("Summit Footwear", "Peakform Supply")),
}
ITEMS = {
    "Dresses": ("Wrap Dress", "Midi Dress", "Shirt Dress", "Slip Dress"), "Tops": ("Blouse", "Tee", "Tank Top"),
    "Jeans": ("Skinny Jeans", "Wide-Leg Jeans", "Straight Jeans"), "Outerwear": ("Trench Coat", "Puffer Jacket",
    "Wool Coat", "Rain Jacket"), "Knitwear": ("Cardigan", "Crew Sweater", "Turtleneck"),
    "Shirts": ("Oxford Shirt", "Linen Shirt", "Flannel Shirt"), "Trousers": ("Chinos", "Dress Trousers", "Cargo Pants"),
    "Suits": ("Two-Piece Suit", "Blazer", "Tuxedo"), "Bedding": ("Duvet Cover", "Sheet Set", "Pillow Pair", "Throw"),
    "Kitchen": ("Saucepan", "Knife Block", "Mixing Bowls", "Kettle"), "Tableware": ("Dinner Set", "Glass Set",
    "Serving Platter"), "Decor": ("Vase", "Candle", "Picture Frame", "Cushion"), "Bath": ("Towel Set", "Bath Mat",
    "Robe"), "Fragrance": ("Eau de Parfum", "Eau de Toilette", "Cologne"), "Skincare": ("Moisturiser", "Serum",
    "Cleanser", "Sunscreen"), "Makeup": ("Lipstick", "Mascara", "Foundation", "Eyeshadow Palette"),
    "Haircare": ("Shampoo", "Conditioner", "Hair Oil"), "Sneakers": ("Running Shoe", "Court Sneaker", "Slip-On"),
    "Boots": ("Chelsea Boot", "Hiking Boot", "Ankle Boot"), "Sandals": ("Slide", "Strappy Sandal", "Espadrille"),
    "Formal Shoes": ("Oxford Shoe", "Loafer", "Pump"), "Babywear": ("Romper", "Sleepsuit", "Bib Set"),
    "Girls": ("Party Dress", "Leggings", "Hoodie"), "Boys": ("Joggers", "Graphic Tee", "Parka"),
    "Toys": ("Building Set", "Plush Bear", "Puzzle", "Board Game"), "Headphones": ("Wireless Earbuds",
    "Over-Ear Headphones", "Sport Earphones"), "Small Appliances": ("Toaster", "Blender", "Coffee Maker", "Hair Dryer"),
    "Smart Home": ("Smart Speaker", "Smart Bulb Kit", "Video Doorbell"), "Cameras": ("Mirrorless Camera",
    "Action Camera", "Instant Camera"), "Activewear": ("Yoga Leggings", "Training Top", "Track Jacket"),
    "Fitness Equipment": ("Dumbbell Set", "Yoga Mat", "Kettlebell", "Resistance Bands"),
    "Outdoor": ("Tent", "Backpack", "Sleeping Bag"), "Cycling": ("Bike Helmet", "Bike Lights", "Cycling Jersey"),
}
SUPPLIER_LEAD_DAYS = {  # typical days from ordering to delivery
    "Coastline Apparel": 9, "Verde Textiles": 14, "Northline Clothing": 11, "Brightwater Home Goods": 7,
    "Oakridge Imports": 19, "Glow Distribution": 5, "Summit Footwear": 10, "Tiny Steps Ltd": 8,
    "Pacific Electronics": 12, "Kestrel Direct": 4, "Peakform Supply": 16,
}
COLOURS = ("Black", "Navy", "Ivory", "Sage", "Rust", "Grey", "Blush", "Classic")  # clothing and shoes
LINES = ("Classic", "Essential", "Premium", "Pro", "Signature")  # everything else
ROLE_WAGE = {"store manager": 38.0, "department manager": 26.0, "sales associate": 16.5, "cashier": 15.5,
             "stock clerk": 16.0}
PAYMENTS = ("credit card", "debit card", "cash", "store card", "gift card")
FIRST_DAY, LAST_DAY = dt.date(2023, 1, 1), dt.date(2024, 12, 31)
BLACK_FRIDAYS = ("2023-11-24", "2024-11-29")


def _iso_days(base: dt.date, offsets) -> list[str]:
    return [(base + dt.timedelta(days=int(d))).isoformat() for d in offsets]


def rows(rng: np.random.Generator) -> dict[str, list[tuple]]:
    dept_names = tuple(DEPARTMENTS)
    stores = [(i + 1, name, city, state, fake.addresses(rng, 1)[0], opened, fmt, floors)
              for i, (city, state, name, fmt, floors, opened) in enumerate(STORES)]
    store_open = [dt.date.fromisoformat(s[5]) for s in stores]

    # staff: a store manager, department managers, associates, cashiers and stock clerks per store
    staff: list[tuple] = []
    people = iter(fake.person_names(rng, 400))
    for sid, s in enumerate(stores, start=1):
        size = {"flagship": 1.6, "standard": 1.0, "outlet": 0.7}[s[6]]
        lo = max((store_open[sid - 1] - dt.timedelta(days=120)).isoformat(), "2008-01-01")
        mgr_hire = fake.dates(rng, 1, lo, max(s[5], "2020-12-31"))[0]

        def add(role, dept, manager, hired):
            f, last = next(people)
            wage = fake.money(rng, 1, ROLE_WAGE[role], 0.1, low=12.0)[0]
            full = int(role in ("store manager", "department manager") or rng.random() < 0.55)
            staff.append((len(staff) + 1, f, last, sid, dept, role, manager, hired, wage, full))
            return len(staff)

        boss = add("store manager", None, None, mgr_hire)
        depts = dept_names if s[6] != "outlet" else dept_names[:6]
        for d in depts:
            dm = add("department manager", d, boss, fake.dates(rng, 1, lo, max(s[5], "2022-12-31"))[0])
            for _ in range(max(1, int(round(size * rng.choice((1, 1, 2, 2, 3)))))):
                add("sales associate", d, dm, fake.dates(rng, 1, lo, "2024-10-31")[0])
        for _ in range(max(2, int(round(size * 3)))):
            add("cashier", None, boss, fake.dates(rng, 1, lo, "2024-10-31")[0])
        for _ in range(max(1, int(round(size * 2)))):
            add("stock clerk", None, boss, fake.dates(rng, 1, lo, "2024-10-31")[0])

    # products
    products, names_used = [], set()
    n_prod = 240
    dept_pick = fake.skewed(rng, dept_names, n_prod, 0.5)
    launched = fake.dates(rng, n_prod, "2018-01-01", "2024-09-30")
    for i, d in enumerate(sorted(dept_pick, key=dept_names.index)):
        cats, brands, suppliers = DEPARTMENTS[d]
        cat = fake.skewed(rng, tuple(cats), 1, 0.6)[0]
        brand = fake.pick(rng, brands, 1)[0]
        supplier = fake.pick(rng, suppliers, 1, (3, 2)[:len(suppliers)])[0]
        item = fake.pick(rng, ITEMS[cat], 1)[0]
        words = COLOURS if d in ("Womenswear", "Menswear", "Kids", "Shoes") else LINES
        name = f"{brand} {fake.pick(rng, words, 1)[0]} {item}"
        while name in names_used:  # product names are unique
            name = f"{brand} {fake.pick(rng, words, 1)[0]} {fake.pick(rng, ITEMS[cat], 1)[0]}"
        names_used.add(name)
        price = fake.money(rng, 1, cats[cat], 0.45, low=4.0)[0]
        price = round(float(np.floor(price)) + 0.99 if price > 10 else price, 2)
        cost = round(price * float(rng.uniform(0.35, 0.6)), 2)
        disc = int(rng.random() < 0.08)
        sku = f"{d[:3].upper()}-{10000 + i * 37 % 9000:05d}"
        products.append((i + 1, sku, name, d, cat, brand, supplier, price, cost, launched[i], disc))
    prod_launch = np.array([dt.date.fromisoformat(p[9]).toordinal() for p in products])

    # customers live mostly near a store
    n_cust = 700
    names = fake.person_names(rng, n_cust + 400)[400:]
    store_city_w = np.array([5, 4, 3, 2.5, 1.5, 2, 1.5, 1, 1.2])
    home = rng.choice(len(stores), size=n_cust, p=store_city_w / store_city_w.sum())
    elsewhere = rng.random(n_cust) < 0.08
    other = fake.cities(rng, n_cust)
    mails = fake.with_nulls(rng, fake.emails(names), 0.15)
    tels = fake.with_nulls(rng, fake.phones(rng, n_cust), 0.35)
    born = rng.normal(1982, 14, n_cust).clip(1940, 2006).astype(int)
    born_null = rng.random(n_cust) < 0.3
    joined = [a if rng.random() < 0.75 else b for a, b in zip(fake.dates(rng, n_cust, "2015-01-01", "2022-12-31"),
                                                               fake.dates(rng, n_cust, "2023-01-01", "2024-11-30"))]
    tiers = fake.pick(rng, ("standard", "silver", "gold", "platinum"), n_cust, (60, 25, 11, 4))
    customers = []
    for i, (f, last) in enumerate(names):
        city, state = other[i] if elsewhere[i] else (stores[home[i]][2], stores[home[i]][3])
        customers.append((i + 1, f, last, mails[i], tels[i], city, state, None if born_null[i] else int(born[i]),
                          joined[i], tiers[i]))

    # orders: seasonal (November-December peak), each at the customer's home store most of the time
    n_orders = 1700
    days = np.arange((LAST_DAY - FIRST_DAY).days + 1)
    month = np.array([(FIRST_DAY + dt.timedelta(days=int(d))).month for d in days])
    weekday = np.array([(FIRST_DAY + dt.timedelta(days=int(d))).weekday() for d in days])
    w = np.where(month == 12, 2.2, np.where(month == 11, 1.6, np.where(np.isin(month, (1, 2)), 0.7, 1.0)))
    w = w * np.where(weekday >= 5, 1.6, 1.0) * (1 + 0.15 * (days >= 366))
    ordinal = days + FIRST_DAY.toordinal()
    black_friday = np.zeros(len(days), dtype=bool)
    for friday in BLACK_FRIDAYS:  # the weekend sale: Friday to Monday
        start = dt.date.fromisoformat(friday).toordinal()
        black_friday |= (ordinal >= start) & (ordinal <= start + 3)
    w = np.where(black_friday, w * 5, w)
    odays = np.sort(rng.choice(days, size=n_orders, p=w / w.sum()))
    spend_w = fake.zipf_weights(n_cust, 0.7)[rng.permutation(n_cust)]
    cust = rng.choice(n_cust, size=n_orders, p=spend_w)
    anonymous = rng.random(n_orders) < 0.22
    at_home = rng.random(n_orders) < 0.85
    rand_store = rng.choice(len(stores), size=n_orders, p=store_city_w / store_city_w.sum())
    channel = fake.pick(rng, ("in store", "click and collect"), n_orders, (82, 18))
    pay = fake.pick(rng, PAYMENTS, n_orders, (45, 25, 12, 13, 5))
    status = fake.pick(rng, ("completed", "returned"), n_orders, (94, 6))
    crew_by_store = {}  # store -> (hire dates, ids) of the staff who ring up sales, by hire date
    for sid in range(1, len(stores) + 1):
        crew = sorted((s[7], s[0]) for s in staff
                      if s[3] == sid and s[5] in ("cashier", "sales associate", "department manager"))
        crew_by_store[sid] = ([h for h, _ in crew], [i for _, i in crew])
    u_staff = rng.random(n_orders)
    orders = []
    for k in range(n_orders):
        day = FIRST_DAY + dt.timedelta(days=int(odays[k]))
        iso = day.isoformat()
        st = int(home[cust[k]]) if at_home[k] and not anonymous[k] else int(rand_store[k])
        while store_open[st] > day:  # the Reno store only trades from its opening day
            st = int(rng.integers(0, len(stores) - 1))
        hires, ids = crew_by_store[st + 1]
        n_hired = max(1, bisect.bisect_right(hires, iso))
        cid = None if anonymous[k] or joined[cust[k]] > iso else int(cust[k]) + 1
        p = pay[k]
        if cid is None and p == "store card":  # a store card needs an account
            p = "credit card"
        orders.append((k + 1, st + 1, cid, ids[int(u_staff[k] * n_hired)], iso,
                       "in store" if cid is None else channel[k], p, status[k]))

    # order lines: popular products sell far more; a product is only sold once launched
    pop = fake.zipf_weights(n_prod, 0.6)[rng.permutation(n_prod)]
    n_lines = rng.choice((1, 1, 1, 2, 2, 3, 4), size=n_orders)
    line_order = np.repeat(np.arange(n_orders), n_lines)
    line_day = odays[line_order] + FIRST_DAY.toordinal()
    line_prod = rng.choice(n_prod, size=len(line_order), p=pop)
    for early in np.flatnonzero(prod_launch[line_prod] > line_day):  # not yet on sale: pick a launched product
        ok = pop * (prod_launch <= line_day[early])
        line_prod[early] = rng.choice(n_prod, p=ok / ok.sum())
    line_qty = rng.choice((1, 1, 1, 1, 2, 2, 3), size=len(line_order))
    line_disc = rng.choice((0.0, 0.0, 0.0, 0.0, 0.0, 0.1, 0.1, 0.2, 0.3), size=len(line_order))
    line_disc = np.where(black_friday[line_day - FIRST_DAY.toordinal()], np.maximum(line_disc, 0.25), line_disc)
    items: list[tuple] = []
    seen: set[tuple[int, int]] = set()
    for j in range(len(line_order)):
        key = (int(line_order[j]), int(line_prod[j]))
        if key in seen:  # the same product twice in one order: one line is enough
            continue
        seen.add(key)
        price = products[key[1]][7]
        items.append((len(items) + 1, key[0] + 1, key[1] + 1, int(line_qty[j]) if price < 60 else 1, price,
                      float(line_disc[j])))

    # deliveries: restocking of each store, bigger for flagships; the latest are still in transit
    n_del = 560
    d_store = rng.choice(len(stores), size=n_del, p=store_city_w / store_city_w.sum())
    d_prod = rng.choice(n_prod, size=n_del, p=(pop * 0.6 + 0.4 / n_prod))
    d_days = np.sort(rng.integers(0, len(days), size=n_del))
    deliveries = []
    for k in range(n_del):
        st, pi = int(d_store[k]), int(d_prod[k])
        ordered = max(FIRST_DAY + dt.timedelta(days=int(d_days[k])), store_open[st] - dt.timedelta(days=20),
                      dt.date.fromisoformat(products[pi][9]) - dt.timedelta(days=20))
        lead = max(2, int(round(SUPPLIER_LEAD_DAYS[products[pi][6]] * float(np.exp(0.3 * rng.standard_normal())))))
        arrived = ordered + dt.timedelta(days=lead)
        delivered = arrived.isoformat() if arrived <= LAST_DAY else None
        qty = int(rng.choice((6, 12, 12, 24, 24, 36, 48))) * (2 if stores[st][6] == "flagship" else 1)
        cost = round(products[pi][8] * float(rng.uniform(0.95, 1.05)), 2)
        damaged = int(rng.binomial(qty, 0.01)) if delivered else 0
        deliveries.append((k + 1, st + 1, pi + 1, ordered.isoformat(), delivered, qty, cost, damaged))
    deliveries.sort(key=lambda r: (r[3], r[1], r[2]))
    deliveries = [(n + 1, *r[1:]) for n, r in enumerate(deliveries)]

    return {"stores": stores, "staff": staff, "products": products, "customers": customers, "orders": orders,
            "order_items": items, "deliveries": deliveries}
