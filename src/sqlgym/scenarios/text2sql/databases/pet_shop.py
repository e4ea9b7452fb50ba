"""A neighbourhood pet shop: animals for sale, supplies, customers, staff and orders."""

from __future__ import annotations

import numpy as np

from sqlgym.scenarios.text2sql import fake

SEED = 11
DESCRIPTION = "A neighbourhood pet shop that sells animals and supplies to local customers."

SCHEMA = """
CREATE TABLE employees (
    id INTEGER PRIMARY KEY,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    role TEXT NOT NULL,            -- 'manager', 'cashier', 'groomer', 'animal care'
    hire_date TEXT NOT NULL,
    hourly_wage REAL NOT NULL
);
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    email TEXT,
    city TEXT NOT NULL,
    state TEXT NOT NULL,
    joined_on TEXT NOT NULL,
    loyalty_member INTEGER NOT NULL  -- 1 if in the loyalty programme
);
CREATE TABLE products (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    category TEXT NOT NULL,        -- 'food', 'toy', 'habitat', 'grooming', 'health'
    species TEXT NOT NULL,         -- which animal it is for
    brand TEXT NOT NULL,
    price REAL NOT NULL,
    stock INTEGER NOT NULL
);
CREATE TABLE pets (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    species TEXT NOT NULL,
    breed TEXT,
    birth_date TEXT NOT NULL,
    price REAL NOT NULL,
    arrived_on TEXT NOT NULL,
    customer_id INTEGER REFERENCES customers(id),  -- NULL while unsold
    sold_on TEXT
);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    employee_id INTEGER NOT NULL REFERENCES employees(id),
    order_date TEXT NOT NULL,
    payment_method TEXT NOT NULL,  -- 'card', 'cash', 'gift card'
    status TEXT NOT NULL           -- 'completed', 'refunded'
);
CREATE TABLE order_items (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders(id),
    product_id INTEGER NOT NULL REFERENCES products(id),
    quantity INTEGER NOT NULL,
    unit_price REAL NOT NULL
);
"""

SPECIES = ("dog", "cat", "fish", "bird", "rabbit", "hamster", "reptile")
BREEDS = {
    "dog": ("Labrador", "Beagle", "Poodle", "Bulldog", "Dachshund", "Corgi", "Border Collie"),
    "cat": ("Siamese", "Maine Coon", "Persian", "Tabby", "Bengal", "Ragdoll"),
    "fish": ("Goldfish", "Betta", "Guppy", "Angelfish"),
    "bird": ("Budgie", "Cockatiel", "Canary", "Lovebird"),
    "rabbit": ("Holland Lop", "Netherland Dwarf", "Rex"),
    "hamster": ("Syrian", "Dwarf", "Roborovski"),
    "reptile": ("Leopard Gecko", "Corn Snake", "Bearded Dragon"),
}
PET_PRICE = {"dog": 650, "cat": 300, "fish": 8, "bird": 60, "rabbit": 70, "hamster": 25, "reptile": 120}
PET_NAMES = ("Bella", "Max", "Luna", "Charlie", "Lucy", "Cooper", "Daisy", "Milo", "Bailey", "Rocky", "Coco",
             "Buddy", "Nala", "Oscar", "Pepper", "Simba", "Ziggy", "Mochi", "Biscuit", "Kiwi", "Nemo", "Sunny")
CATEGORIES = ("food", "toy", "habitat", "grooming", "health")
BRANDS = ("Purely Pets", "TailWag", "NatureBite", "Whisker Co", "AquaLife", "FeatherFine", "HappyHutch")
ITEMS = {"food": ("Kibble", "Treats", "Pellets", "Flakes"), "toy": ("Ball", "Chew Rope", "Feather Wand", "Tunnel"),
         "habitat": ("Cage", "Tank", "Bed", "Hutch"), "grooming": ("Brush", "Shampoo", "Nail Clipper"),
         "health": ("Vitamins", "Flea Drops", "Dental Sticks")}
CATEGORY_PRICE = {"food": 18, "toy": 9, "habitat": 70, "grooming": 14, "health": 22}


def rows(rng: np.random.Generator) -> dict[str, list[tuple]]:
    n_emp, n_cust, n_prod, n_pets, n_orders = 12, 600, 120, 320, 2400

    roles = ["manager"] * 2 + fake.pick(rng, ("cashier", "groomer", "animal care"), n_emp - 2, (5, 2, 3))
    emp_names = fake.person_names(rng, n_emp)
    hired = fake.dates(rng, n_emp, "2015-03-01", "2023-06-30")
    wages = [round(w + (8 if r == "manager" else 0), 2) for w, r in zip(fake.money(rng, n_emp, 17, 0.15), roles)]
    employees = [(i + 1, f, last, roles[i], hired[i], wages[i]) for i, (f, last) in enumerate(emp_names)]

    names = fake.person_names(rng, n_cust)
    mails = fake.with_nulls(rng, fake.emails(names), 0.12)
    places = fake.cities(rng, n_cust)
    joined = fake.dates(rng, n_cust, "2019-01-01", "2024-10-31")
    loyal = (rng.random(n_cust) < 0.35).astype(int)
    customers = [(i + 1, f, last, mails[i], places[i][0], places[i][1], joined[i], int(loyal[i]))
                 for i, (f, last) in enumerate(names)]

    products = []
    for i in range(n_prod):
        cat = fake.skewed(rng, CATEGORIES, 1, 0.7)[0]
        sp = fake.skewed(rng, SPECIES, 1, 1.0)[0]
        item = fake.pick(rng, ITEMS[cat], 1)[0]
        brand = fake.pick(rng, BRANDS, 1)[0]
        price = fake.money(rng, 1, CATEGORY_PRICE[cat], 0.4, low=1.5)[0]
        products.append((i + 1, f"{brand} {sp.title()} {item}", cat, sp, brand, price, int(rng.integers(0, 80))))

    pets = []
    species = fake.skewed(rng, SPECIES, n_pets, 0.8)
    arrived = fake.dates(rng, n_pets, "2023-01-01", "2024-11-30", sort=True)
    for i, sp in enumerate(species):
        breed = fake.pick(rng, BREEDS[sp], 1)[0] if rng.random() > 0.08 else None
        born = fake.days_after(rng, [arrived[i]], -400, -40)[0]
        price = fake.money(rng, 1, PET_PRICE[sp], 0.25, low=3)[0]
        sold = rng.random() < 0.7
        buyer = int(rng.integers(1, n_cust + 1)) if sold else None
        sold_on = fake.days_after(rng, [arrived[i]], 1, 90)[0] if sold else None
        pets.append((i + 1, fake.pick(rng, PET_NAMES, 1)[0], sp, breed, born, price, arrived[i], buyer, sold_on))

    order_cust = [int(c) + 1 for c in rng.choice(n_cust, size=n_orders, p=fake.zipf_weights(n_cust, 0.6))]
    cashiers = [e[0] for e in employees if e[3] in ("cashier", "manager")]
    odates = fake.dates(rng, n_orders, "2023-01-01", "2024-11-30", sort=True)
    pay = fake.pick(rng, ("card", "cash", "gift card"), n_orders, (7, 2, 1))
    status = fake.pick(rng, ("completed", "refunded"), n_orders, (24, 1))
    orders = [(i + 1, order_cust[i], int(rng.choice(cashiers)), odates[i], pay[i], status[i]) for i in range(n_orders)]

    items: list[tuple] = []
    popular = fake.zipf_weights(n_prod, 0.8)
    for o in range(n_orders):
        for p in rng.choice(n_prod, size=int(rng.integers(1, 5)), replace=False, p=popular):
            qty = int(rng.choice((1, 1, 1, 2, 2, 3, 4)))
            items.append((len(items) + 1, o + 1, int(p) + 1, qty, products[int(p)][5]))

    return {"employees": employees, "customers": customers, "products": products, "pets": pets,
            "orders": orders, "order_items": items}
