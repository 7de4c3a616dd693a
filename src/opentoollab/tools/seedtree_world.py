"""The shared facts of one seed that every file of its tree draws on, and the random streams.

``Rng`` is a random stream keyed by strings (each file has its own: ``Rng(seed, path)``); ``world(seed)``
is the seed's ``World`` (company, year, people, cities, projects, products, regions, customers), kept
consistent across files; ``sales(seed)`` is its year of sales transactions (``region_totals`` sums them)
and ``trip_keys`` its trips. ``Made`` is what every file builder returns (``seedtree_data``,
``seedtree_documents``, ``seedtree_images``).

May import: the standard library only.
"""

from __future__ import annotations

import datetime as dt
import random
from functools import lru_cache
from typing import Any


# ---------------------------------------------------------------------------------- randomness
class Rng:
    """A random stream keyed by strings; only ``random()`` is used (its sequence is stable across Pythons)."""

    def __init__(self, *key: object) -> None:
        self._random = random.Random("/".join(str(part) for part in key)).random

    def random(self) -> float:
        return self._random()

    def int(self, low: int, high: int) -> int:
        """An integer in [low, high]."""
        return low + int(self._random() * (high - low + 1))

    def choice(self, items: Any) -> Any:
        return items[int(self._random() * len(items))]

    def sample(self, items: Any, k: int) -> list:
        """k distinct items (in draw order)."""
        n = len(items)
        k = min(k, n)
        if n > 4 * k:  # few from many: draw indexes, redraw repeats
            picked: list[int] = []
            while len(picked) < k:
                index = int(self._random() * n)
                if index not in picked:
                    picked.append(index)
            return [items[index] for index in picked]
        pool = list(items)
        return [pool.pop(int(self._random() * len(pool))) for _ in range(k)]

    def shuffled(self, items: Any) -> list:
        return self.sample(items, len(items))

    def chance(self, p: float) -> bool:
        return self._random() < p

    def money(self, low: float, high: float) -> float:
        """A price with two decimals (exact via integer cents)."""
        return self.int(int(low * 100), int(high * 100)) / 100


# ---------------------------------------------------------------------------------- the builders' contract
# A builder takes (world, rng, *args) and returns (content, info): content is str (UTF-8 text) or bytes;
# info holds facts for the manifest (columns, rows, keywords...).
Made = tuple[Any, dict[str, Any]]


# ---------------------------------------------------------------------------------- the world of a seed
_EN_FIRST = ["Alice", "Bruno", "Chloe", "Daniel", "Elena", "Farid", "Grace", "Hugo", "Isabel", "Jonas", "Kavya",
             "Liam", "Maya", "Nikolai", "Olivia", "Pedro", "Quinn", "Rosa", "Samir", "Tara", "Umar", "Vera",
             "Wendy", "Xavier", "Yusuf", "Zoe", "Aaron", "Beatriz", "Connor", "Dana"]
_EN_LAST = ["Andersen", "Baker", "Castillo", "Dubois", "Evans", "Fischer", "Garcia", "Hughes", "Ivanova", "Jensen",
            "Kowalski", "Larsen", "Moreau", "Novak", "Okafor", "Patel", "Quinlan", "Rossi", "Schmidt", "Tanaka",
            "Usman", "Varga", "Whitaker", "Yilmaz", "Zimmerman", "Becker", "Costa", "Nakamura"]
_ZH_NAMES = [("王伟", "wang.wei"), ("李娜", "li.na"), ("张敏", "zhang.min"), ("刘洋", "liu.yang"),
             ("陈静", "chen.jing"), ("杨帆", "yang.fan"), ("赵磊", "zhao.lei"), ("黄丽", "huang.li"),
             ("周杰", "zhou.jie"), ("吴芳", "wu.fang"), ("徐强", "xu.qiang"), ("孙悦", "sun.yue"),
             ("马超", "ma.chao"), ("朱琳", "zhu.lin"), ("胡斌", "hu.bin"), ("郭婷", "guo.ting")]
_COMPANIES = [("Northwind Analytics", "northwind.example"), ("Bluefin Robotics", "bluefin.example"),
              ("Cedar & Pine Outfitters", "cedarpine.example"), ("Lumen Health Labs", "lumenhealth.example"),
              ("Orbital Freight", "orbitalfreight.example"), ("Maple Leaf Software", "mapleleaf.example"),
              ("Silverline Energy", "silverline.example"), ("Harbor Coffee Roasters", "harborcoffee.example")]
DEPARTMENTS = {
    "Engineering": ["Software Engineer", "Senior Engineer", "QA Analyst", "DevOps Engineer", "Engineering Manager"],
    "Sales": ["Account Executive", "Sales Manager", "Sales Representative"],
    "Marketing": ["Marketing Specialist", "Content Writer", "Marketing Manager"],
    "Finance": ["Accountant", "Financial Analyst", "Controller"],
    "Operations": ["Operations Coordinator", "Logistics Analyst", "Warehouse Lead"],
    "Customer Support": ["Support Agent", "Support Lead"],
    "Human Resources": ["HR Generalist", "Recruiter"],
}
_CITIES = [("Berlin", "Germany", 10), ("Toronto", "Canada", 8), ("Singapore", "Singapore", 27),
           ("Austin", "USA", 21), ("Lisbon", "Portugal", 17), ("Shanghai", "China", 17), ("Shenzhen", "China", 23),
           ("Nairobi", "Kenya", 19), ("Melbourne", "Australia", 15), ("Oslo", "Norway", 6),
           ("Mexico City", "Mexico", 17),
           ("Seoul", "South Korea", 13), ("Dublin", "Ireland", 10), ("Cape Town", "South Africa", 17)]
_PRODUCTS = [("Wireless Mouse", "Electronics", 18, 35), ("Mechanical Keyboard", "Electronics", 60, 140),
             ("USB-C Hub", "Electronics", 25, 60), ("27-inch Monitor", "Electronics", 180, 320),
             ("Noise-Cancelling Headphones", "Electronics", 120, 280), ("Webcam HD", "Electronics", 40, 90),
             ("Standing Desk", "Furniture", 280, 520), ("Ergonomic Chair", "Furniture", 190, 420),
             ("Bookshelf", "Furniture", 70, 160), ("Desk Lamp", "Furniture", 22, 55),
             ("Notebook A5", "Stationery", 3, 9), ("Gel Pens (12 pack)", "Stationery", 6, 14),
             ("Sticky Notes", "Stationery", 2, 6), ("Whiteboard Markers", "Stationery", 5, 12),
             ("Espresso Beans 1kg", "Grocery", 18, 32), ("Green Tea 100g", "Grocery", 6, 15),
             ("Oat Milk 1L", "Grocery", 2, 4), ("Dark Chocolate Bar", "Grocery", 2, 5),
             ("Hiking Backpack", "Outdoor", 60, 150), ("Water Bottle", "Outdoor", 12, 30),
             ("Camping Tent", "Outdoor", 120, 340), ("Trail Running Shoes", "Outdoor", 80, 160),
             ("Yoga Mat", "Fitness", 20, 60), ("Dumbbell Set", "Fitness", 45, 120),
             ("Resistance Bands", "Fitness", 10, 28),
             ("Smart Watch", "Electronics", 150, 380), ("Portable Charger", "Electronics", 20, 55),
             ("Coffee Grinder", "Kitchen", 35, 110), ("Chef Knife", "Kitchen", 40, 150),
             ("Cast Iron Pan", "Kitchen", 30, 75)]
_PROJECTS = ["apollo", "borealis", "cascade", "driftwood", "ember", "fjord", "granite", "halcyon", "indigo",
             "juniper", "kestrel", "lumen", "mosaic", "nimbus", "orchid", "polaris"]
_PROJECT_GOALS = [
    ("migrate the billing service to a new payment provider", ["payments", "webhooks", "invoices"]),
    ("build a mobile app for field technicians", ["offline sync", "push notifications", "barcode scanning"]),
    ("replace the legacy data warehouse with a lakehouse", ["ingestion", "dbt models", "dashboards"]),
    ("launch a customer self-service portal", ["single sign-on", "ticket history", "knowledge base"]),
    ("automate warehouse inventory forecasting", ["demand model", "reorder alerts", "supplier API"]),
    ("redesign the company website", ["accessibility", "page speed", "localisation"]),
    ("roll out a new internal search engine", ["indexing", "relevance tuning", "access control"]),
    ("cut cloud infrastructure costs by 20%", ["rightsizing", "spot instances", "storage tiers"]),
]


_REGIONS = ["North", "South", "East", "West", "Central"]


class World:
    """The shared facts of one seed: company, people, projects, products, year (consistent across files)."""

    def __init__(self, seed: int) -> None:
        r = Rng(seed, "world")
        self.seed = seed
        self.company, self.domain = r.choice(_COMPANIES)
        self.year = r.int(2021, 2024)
        english = [f"{first} {last}" for first in _EN_FIRST for last in _EN_LAST]
        names = [(name, name.lower().replace(" ", ".")) for name in r.sample(english, 18)]
        names += r.sample(_ZH_NAMES, 8)
        names = r.shuffled(names)
        departments = list(DEPARTMENTS)
        self.cities = r.sample(_CITIES, 6)
        self.people: list[dict[str, Any]] = []
        for index, (name, handle) in enumerate(names):
            department = departments[index % len(departments)] if index < 14 else r.choice(departments)
            city = r.choice(self.cities)
            hired = dt.date(self.year - r.int(0, 8), r.int(1, 12), r.int(1, 28))
            self.people.append({
                "id": 101 + index, "name": name, "email": f"{handle}@{self.domain}", "department": department,
                "title": r.choice(DEPARTMENTS[department]), "city": city[0], "country": city[1],
                "hire_date": hired.isoformat(), "salary": r.int(42, 165) * 1000})
        self.projects = r.sample(_PROJECTS, 3)
        self.project_goals = r.sample(_PROJECT_GOALS, 3)
        chosen = r.sample(_PRODUCTS, 22)
        self.products: list[dict[str, Any]] = []
        for index, (name, category, low, high) in enumerate(chosen):
            self.products.append({"sku": f"{category[:3].upper()}-{1000 + 17 * index + r.int(0, 9)}", "name": name,
                                  "category": category, "price": r.money(low, high)})
        self.regions = r.sample(_REGIONS, 4)
        self.customers = []
        for index in range(30):
            city = r.choice(_CITIES)
            first, last = r.choice(_EN_FIRST), r.choice(_EN_LAST)
            self.customers.append({"id": 5001 + index, "name": f"{first} {last}",
                                   "email": f"{first.lower()}{r.int(1, 99)}@mail.example", "city": city[0],
                                   "country": city[1], "signup_date": self.date(r.int(0, 360), self.year - 1),
                                   "tier": r.choice(["free", "free", "basic", "pro", "enterprise"])})

    def date(self, day: int, year: int | None = None) -> str:
        return _iso_date(year or self.year, day)

    def person(self, r: Rng, department: str | None = None) -> dict[str, Any]:
        pool = [p for p in self.people if department is None or p["department"] == department] or self.people
        return r.choice(pool)


@lru_cache(maxsize=8192)
def _iso_date(year: int, day: int) -> str:
    """The ISO date ``day`` days after 1 January of ``year``."""
    return (dt.date(year, 1, 1) + dt.timedelta(days=day)).isoformat()


@lru_cache(maxsize=64)
def world(seed: int) -> World:
    return World(seed)


@lru_cache(maxsize=64)
def sales(seed: int) -> list[list[Any]]:
    """The year's sales transactions: [date, region, sku, product, units, unit_price, revenue], by date."""
    w = world(seed)
    r = Rng(seed, "sales")
    rows = []
    for _ in range(140):
        day = r.int(0, 363)
        product = r.choice(w.products)
        units = r.int(1, 40)
        price = product["price"]
        rows.append([w.date(day), r.choice(w.regions), product["sku"], product["name"], units, price,
                     round(units * int(round(price * 100)) / 100, 2)])
    rows.sort(key=lambda row: (row[0], row[2], row[1], row[4]))
    return rows


def region_totals(w: World) -> dict[str, list[Any]]:
    totals: dict[str, list[Any]] = {region: [0, 0] for region in sorted(w.regions)}
    for row in sales(w.seed):
        totals[row[1]][0] += row[4]
        totals[row[1]][1] += int(round(row[6] * 100))
    return totals


TRIPS = {
    "kyoto": ("Kyoto", ["Fushimi Inari shrine at sunrise", "Arashiyama bamboo grove", "Nishiki market food tour",
                        "Tea ceremony in Gion", "Day trip to Nara"]),
    "lisbon": ("Lisbon", ["Tram 28 through Alfama", "Belém tower and pastéis de nata", "Sintra palaces",
                          "Sunset at Miradouro da Senhora do Monte", "Fado dinner"]),
    "yunnan": ("Yunnan", ["Dali old town", "Erhai lake by bike", "Lijiang ancient town", "Tiger Leaping Gorge hike",
                          "Kunming flower market"]),
    "iceland": ("Iceland", ["Golden Circle drive", "Blue Lagoon", "Skógafoss waterfall", "Glacier hike",
                            "Northern lights tour"]),
}


def trip_keys(w: World) -> list[str]:
    return Rng(w.seed, "trips").sample(sorted(TRIPS), 2)
