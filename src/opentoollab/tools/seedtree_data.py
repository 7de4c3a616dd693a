"""Builders of the seed tree's structured files: csv and xlsx tables, json and jsonl records, yaml configs,
and the SQLite database (``data/company.db``).

A builder takes ``(world, rng, *args)`` and returns ``(content, info)`` (``seedtree_world.Made``); the
info of a table holds its ``columns``, ``rows`` and ``first_row`` for the manifest. The layout that puts
each builder at its paths is in ``opentoollab.tools.seedtree``.

May import: the standard library, ``opentoollab.tools.seedtree_world``, ``opentoollab.tools.seedtree_formats``.
"""

from __future__ import annotations

import json
import sqlite3
from functools import lru_cache
from typing import Any

from .seedtree_formats import csv_text, xlsx, yaml_text
from .seedtree_world import DEPARTMENTS, TRIPS, Made, Rng, World, region_totals, sales, trip_keys, world


# ---------------------------------------------------------------------------------- tables, records and configs
_STATUSES = ["todo", "in progress", "blocked", "review", "done"]


def _table_info(header: list[str], rows: list[list[Any]]) -> dict[str, Any]:
    return {"columns": list(header), "rows": len(rows), "first_row": list(rows[0]) if rows else []}


def tasks(w: World, r: Rng, index: int) -> Made:
    name = w.projects[index]
    verbs = ["Design", "Implement", "Test", "Document", "Review", "Deploy", "Benchmark", "Refactor"]
    nouns = ["login flow", "export job", "settings page", "audit log", "rate limiter", "search API",
             "email templates", "data model", "CI pipeline", "error handling", "monitoring alerts"]
    header = ["id", "title", "owner", "status", "priority", "estimate_hours", "due_date"]
    rows = []
    for number in range(r.int(10, 18)):
        rows.append([f"{name[:3].upper()}-{number + 1}", f"{r.choice(verbs)} {r.choice(nouns)}",
                     w.person(r)["name"], r.choice(_STATUSES), r.choice(["low", "medium", "high", "critical"]),
                     r.int(1, 40), w.date(r.int(0, 364))])
    return csv_text(header, rows), _table_info(header, rows)


def project_config(w: World, r: Rng, index: int) -> Made:
    name = w.projects[index]
    config = {
        "service": {"name": f"{name}-core", "version": f"{r.int(1, 4)}.{r.int(0, 12)}.{r.int(0, 30)}",
                    "environment": r.choice(["staging", "production"]), "replicas": r.int(1, 6),
                    "port": r.choice([8000, 8080, 9000, 3000])},
        "database": {"host": f"db-{name}.internal.{w.domain}", "port": 5432, "name": f"{name}_db",
                     "pool_size": r.int(5, 30)},
        "features": r.sample(["dark_mode", "beta_export", "audit_log", "sso", "webhooks", "multi_currency"], 3),
        "owners": [p["email"] for p in r.sample(w.people, 2)],
    }
    return yaml_text(config) + "\n", {"keys": list(config)}


def budget(w: World, r: Rng, index: int) -> Made:
    categories = ["Salaries", "Contractors", "Cloud hosting", "Software licences", "Hardware", "Travel", "Training"]
    header = ["category", "planned", "actual", "variance"]
    rows = []
    for category in r.sample(categories, r.int(5, 7)):
        planned = r.int(5, 120) * 1000
        actual = planned + r.int(-15, 20) * 500
        rows.append([category, planned, actual, actual - planned])
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    monthly = [[month, r.int(8, 40) * 1000 + r.int(0, 999)] for month in months]
    sheets = [("Budget", header, rows), ("Monthly", ["month", "spend"], monthly)]
    return xlsx(sheets), {"sheets": {"Budget": _table_info(header, rows),
                                      "Monthly": _table_info(["month", "spend"], monthly)},
                           "columns": header, "rows": len(rows), "first_row": rows[0]}


def sales_quarter(w: World, r: Rng, quarter: int) -> Made:
    header = ["date", "region", "sku", "product", "units", "unit_price", "revenue"]
    rows = [row for row in sales(w.seed) if (int(row[0][5:7]) - 1) // 3 + 1 == quarter]
    info = _table_info(header, rows)
    info["total_revenue"] = round(sum(int(round(row[6] * 100)) for row in rows) / 100, 2)
    return csv_text(header, rows), info


def sales_summary(w: World, r: Rng) -> Made:
    totals = region_totals(w)
    by_region = [[region, units, cents / 100] for region, (units, cents) in totals.items()]
    quarters: dict[int, list[int]] = {q: [0, 0] for q in range(1, 5)}
    for row in sales(w.seed):
        q = (int(row[0][5:7]) - 1) // 3 + 1
        quarters[q][0] += 1
        quarters[q][1] += int(round(row[6] * 100))
    by_quarter = [[f"Q{q}", count, cents / 100] for q, (count, cents) in quarters.items()]
    sheets = [("By region", ["region", "units", "revenue"], by_region),
              ("By quarter", ["quarter", "transactions", "revenue"], by_quarter)]
    return xlsx(sheets), {"sheets": {name: _table_info(h, rows) for name, h, rows in sheets},
                           "columns": sheets[0][1], "rows": len(by_region), "first_row": by_region[0]}


def kpi(w: World, r: Rng) -> Made:
    data = {"year": w.year, "company": w.company,
            "kpis": {"revenue_growth_pct": r.int(-5, 30), "customer_satisfaction": r.int(70, 98) / 10,
                     "net_promoter_score": r.int(10, 70), "churn_rate_pct": r.int(10, 90) / 10,
                     "active_customers": r.int(800, 12000)},
            "monthly_active_users": [{"month": f"{w.year}-{m:02d}", "users": r.int(1000, 9000)} for m in range(1, 13)]}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n", {"keys": list(data)}


def employees_csv(w: World, r: Rng) -> Made:
    header = ["id", "name", "email", "department", "title", "city", "hire_date", "salary"]
    rows = [[p["id"], p["name"], p["email"], p["department"], p["title"], p["city"], p["hire_date"], p["salary"]]
            for p in w.people]
    return csv_text(header, rows), _table_info(header, rows)


def _inventory_rows(w: World, r: Rng, warehouses: list[str]) -> list[list[Any]]:
    rows = []
    for product in w.products:
        for warehouse in warehouses:
            if r.chance(0.7):
                rows.append([product["sku"], product["name"], product["category"], warehouse, r.int(0, 400),
                             r.choice([10, 20, 25, 50]), round(product["price"] * 0.6, 2)])
    return rows


def inventory_csv(w: World, r: Rng) -> Made:
    header = ["sku", "name", "category", "warehouse", "quantity", "reorder_level", "unit_cost"]
    rows = _inventory_rows(w, r, [f"WH-{city[0][:3].upper()}" for city in w.cities[:3]])
    info = _table_info(header, rows)
    info["low_stock"] = sorted({row[0] for row in rows if row[4] < row[5]})
    return csv_text(header, rows), info


def inventory_xlsx(w: World, r: Rng, year: int) -> Made:
    header = ["sku", "name", "category", "quantity", "unit_cost"]
    sheets = []
    for city in w.cities[:2]:
        rows = [[row[0], row[1], row[2], row[4], row[6]]
                for row in _inventory_rows(w, r, [city[0]])]
        sheets.append((city[0], header, rows))
    return xlsx(sheets), {"sheets": {name: _table_info(h, rows) for name, h, rows in sheets},
                           "columns": header, "rows": len(sheets[0][2]), "first_row": sheets[0][2][0] if sheets[0][2] else [],
                           "year": year}


def products_json(w: World, r: Rng) -> Made:
    products = [{**p, "tags": r.sample(["bestseller", "new", "eco", "sale", "limited", "bundle"], r.int(0, 2)),
                 "in_stock": r.chance(0.8), "rating": r.int(30, 50) / 10} for p in w.products]
    return json.dumps({"products": products, "currency": "USD"}, indent=2, ensure_ascii=False) + "\n", {
        "keys": ["products", "currency"], "count": len(products)}


def customers_jsonl(w: World, r: Rng) -> Made:
    lines = [json.dumps(c, ensure_ascii=False) for c in w.customers]
    return "\n".join(lines) + "\n", {"records": len(lines), "fields": list(w.customers[0])}


def _orders(w: World) -> list[dict[str, Any]]:
    return _orders_of(w.seed)


@lru_cache(maxsize=64)
def _orders_of(seed: int) -> list[dict[str, Any]]:
    w = world(seed)
    r = Rng(seed, "orders")
    orders = []
    for number in range(60):
        items = []
        for product in r.sample(w.products, r.int(1, 4)):
            items.append({"sku": product["sku"], "quantity": r.int(1, 5), "unit_price": product["price"]})
        cents = sum(item["quantity"] * int(round(item["unit_price"] * 100)) for item in items)
        orders.append({"order_id": 90001 + number, "customer_id": r.choice(w.customers)["id"],
                       "date": w.date(r.int(0, 363)), "status": r.choice(["paid", "shipped", "delivered",
                                                                           "delivered", "cancelled", "refunded"]),
                       "items": items, "total": cents / 100})
    orders.sort(key=lambda order: (order["date"], order["order_id"]))
    return orders


def orders_jsonl(w: World, r: Rng) -> Made:
    orders = _orders(w)[:40]
    return "".join(json.dumps(o, ensure_ascii=False) + "\n" for o in orders), {
        "records": len(orders), "fields": list(orders[0])}


def exchange_rates(w: World, r: Rng) -> Made:
    rates = {"EUR": r.int(850, 950) / 1000, "GBP": r.int(740, 820) / 1000, "JPY": r.int(10500, 15500) / 100,
             "CNY": r.int(6700, 7300) / 1000, "CAD": r.int(1280, 1390) / 1000, "AUD": r.int(1390, 1560) / 1000,
             "SGD": r.int(1310, 1390) / 1000, "CHF": r.int(860, 960) / 1000}
    data = {"base": "USD", "date": w.date(r.int(0, 363)), "rates": rates}
    return json.dumps(data, indent=2) + "\n", {"keys": list(data), "rates": rates}


def weather(w: World, r: Rng, city_index: int) -> Made:
    city, country, base = w.cities[city_index]
    header = ["date", "city", "temp_min_c", "temp_max_c", "precipitation_mm", "humidity_pct", "condition"]
    rows = []
    start = r.int(0, 330)
    for day in range(r.int(21, 31)):
        low = base + r.int(-6, 4)
        rain = r.int(0, 25) if r.chance(0.35) else 0
        condition = "rain" if rain > 5 else r.choice(["sunny", "cloudy", "partly cloudy", "windy"])
        rows.append([w.date(start + day), city, low, low + r.int(3, 11), rain, r.int(35, 95), condition])
    info = _table_info(header, rows)
    info["city"] = city
    return csv_text(header, rows), info


def sensors(w: World, r: Rng, day: int) -> Made:
    lines = []
    for minute in range(0, 24 * 60, r.choice([30, 40, 60])):
        sensor = r.choice(["temp-01", "temp-02", "humidity-01", "co2-01"])
        value = {"temp": r.int(180, 260) / 10, "humi": r.int(30, 70), "co2-": r.int(400, 1400)}[sensor[:4]]
        lines.append(json.dumps({"timestamp": f"{w.date(day)}T{minute // 60:02d}:{minute % 60:02d}:00Z",
                                 "sensor": sensor, "value": value}))
    return "\n".join(lines) + "\n", {"records": len(lines), "fields": ["timestamp", "sensor", "value"]}


def itinerary(w: World, r: Rng) -> Made:
    trips = []
    for key in trip_keys(w):
        place, activities = TRIPS[key]
        trips.append({"destination": place, "nights": r.int(2, 6), "transport": r.choice(["flight", "train", "car"]),
                      "highlights": r.sample(activities, 2)})
    data = {"traveller": w.people[0]["name"], "year": w.year, "trips": trips}
    return yaml_text(data) + "\n", {"keys": list(data)}


def deploys(w: World, r: Rng) -> Made:
    lines = []
    for number in range(r.int(8, 15)):
        lines.append(json.dumps({"deploy_id": number + 1, "service": f"{r.choice(w.projects)}-core",
                                 "version": f"{r.int(1, 3)}.{r.int(0, 9)}.{r.int(0, 20)}",
                                 "date": w.date(r.int(0, 363)),
                                 "by": w.person(r, "Engineering")["email"],
                                 "result": r.choice(["success", "success", "success", "rolled_back", "failed"])}))
    return "\n".join(lines) + "\n", {"records": len(lines), "fields": ["deploy_id", "service", "version", "date",
                                                                      "by", "result"]}


def app_yaml(w: World, r: Rng) -> Made:
    data = {"app": {"name": w.company, "debug": False, "timezone": r.choice(["UTC", "Europe/Berlin", "Asia/Shanghai",
                                                                                 "America/Toronto"]),
                    "language": r.choice(["en", "zh-CN", "de"])},
            "server": {"host": "0.0.0.0", "port": r.choice([8080, 8443, 5000]), "workers": r.int(2, 16)},
            "cache": {"backend": "redis", "ttl_seconds": r.choice([60, 300, 900, 3600])},
            "allowed_origins": [f"https://{w.domain}", f"https://app.{w.domain}"]}
    return yaml_text(data) + "\n", {"keys": list(data)}


def db_yaml(w: World, r: Rng) -> Made:
    data = {"default": {"engine": "postgresql", "host": f"db.internal.{w.domain}", "port": 5432,
                        "user": "app", "password": "${DB_PASSWORD}", "pool": {"min": 2, "max": r.int(10, 40)}},
            "replicas": [{"host": f"replica-{i}.internal.{w.domain}", "weight": r.int(1, 5)} for i in range(1, 3)],
            "migrations": {"directory": "migrations/", "auto_apply": r.chance(0.5)}}
    return yaml_text(data) + "\n", {"keys": list(data)}


def logging_yaml(w: World, r: Rng) -> Made:
    data = {"version": 1, "root": {"level": r.choice(["INFO", "WARNING", "DEBUG"]), "handlers": ["console", "file"]},
            "handlers": {"console": {"class": "logging.StreamHandler"},
                         "file": {"class": "logging.handlers.RotatingFileHandler", "filename": "logs/app.log",
                                  "maxBytes": 10485760, "backupCount": r.int(3, 10)}}}
    return yaml_text(data) + "\n", {"keys": list(data)}


def settings(w: World, r: Rng) -> Made:
    data = {"theme": r.choice(["light", "dark", "system"]), "notifications": {"email": r.chance(0.7),
            "push": r.chance(0.5), "digest": r.choice(["daily", "weekly", "never"])},
            "locale": r.choice(["en-US", "en-GB", "zh-CN", "de-DE"]), "items_per_page": r.choice([10, 25, 50, 100]),
            "shortcuts": {"search": "Ctrl+K", "new_note": "Ctrl+N"}}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n", {"keys": list(data)}


def feature_flags(w: World, r: Rng) -> Made:
    flags = {name: {"enabled": r.chance(0.5), "rollout_pct": r.choice([0, 10, 25, 50, 100])}
             for name in ["new_checkout", "ai_search", "dark_mode", "bulk_export", "beta_dashboard", "sso_login"]}
    enabled = [name for name, flag in flags.items() if flag["enabled"]]
    return json.dumps({"flags": flags}, indent=2) + "\n", {"keys": ["flags"], "enabled": enabled}


def old_sales(w: World, r: Rng, year: int) -> Made:
    header = ["month", "region", "revenue", "orders"]
    rows = [[f"{year}-{m:02d}", region, r.int(8000, 60000) + r.int(0, 99) / 100, r.int(40, 400)]
            for m in range(1, 13) for region in w.regions[:3]]
    return csv_text(header, rows), _table_info(header, rows)


def backup_json(w: World, r: Rng, year: int) -> Made:
    data = {"backup_of": "config/settings.json", "created": f"{year}-{r.int(1, 12):02d}-{r.int(1, 28):02d}",
            "settings": {"theme": "light", "locale": "en-US", "items_per_page": 25}}
    return json.dumps(data, indent=2) + "\n", {"keys": list(data)}


# ---------------------------------------------------------------------------------- the database
_DB_SCHEMA: dict[str, tuple[list[tuple[str, str]], str]] = {  # table → ([(column, declaration)], constraints)
    "departments": ([("id", "INTEGER PRIMARY KEY"), ("name", "TEXT NOT NULL UNIQUE"), ("budget", "INTEGER NOT NULL"),
                     ("location", "TEXT")], ""),
    "employees": ([("id", "INTEGER PRIMARY KEY"), ("name", "TEXT NOT NULL"), ("email", "TEXT UNIQUE"),
                   ("department_id", "INTEGER REFERENCES departments(id)"), ("title", "TEXT"), ("city", "TEXT"),
                   ("hire_date", "TEXT"), ("salary", "INTEGER")], ""),
    "products": ([("id", "INTEGER PRIMARY KEY"), ("sku", "TEXT UNIQUE"), ("name", "TEXT NOT NULL"),
                  ("category", "TEXT"), ("price", "REAL NOT NULL"), ("stock", "INTEGER DEFAULT 0")], ""),
    "customers": ([("id", "INTEGER PRIMARY KEY"), ("name", "TEXT NOT NULL"), ("email", "TEXT"), ("city", "TEXT"),
                   ("country", "TEXT"), ("signup_date", "TEXT"), ("tier", "TEXT")], ""),
    "orders": ([("id", "INTEGER PRIMARY KEY"), ("customer_id", "INTEGER REFERENCES customers(id)"),
                ("order_date", "TEXT"), ("status", "TEXT"), ("total", "REAL")], ""),
    "order_items": ([("order_id", "INTEGER REFERENCES orders(id)"), ("product_id", "INTEGER REFERENCES products(id)"),
                     ("quantity", "INTEGER NOT NULL"), ("unit_price", "REAL NOT NULL")],
                    ", PRIMARY KEY (order_id, product_id)"),
}


def database(w: World, r: Rng) -> Made:
    departments = list(DEPARTMENTS)
    product_ids = {p["sku"]: i + 1 for i, p in enumerate(w.products)}
    orders = _orders(w)
    data: dict[str, list[tuple]] = {
        "departments": [(i + 1, name, r.int(10, 200) * 5000, r.choice(w.cities)[0])
                        for i, name in enumerate(departments)],
        "employees": [(p["id"], p["name"], p["email"], departments.index(p["department"]) + 1, p["title"], p["city"],
                       p["hire_date"], p["salary"]) for p in w.people],
        "products": [(i + 1, p["sku"], p["name"], p["category"], p["price"], r.int(0, 300))
                     for i, p in enumerate(w.products)],
        "customers": [(c["id"], c["name"], c["email"], c["city"], c["country"], c["signup_date"], c["tier"])
                      for c in w.customers],
        "orders": [(o["order_id"], o["customer_id"], o["date"], o["status"], o["total"]) for o in orders],
        "order_items": [(o["order_id"], product_ids[item["sku"]], item["quantity"], item["unit_price"])
                        for o in orders for item in o["items"]],
    }
    connection = sqlite3.connect(":memory:")
    try:
        for name, (columns, constraints) in _DB_SCHEMA.items():
            declared = ", ".join(f"{column} {declaration}" for column, declaration in columns)
            connection.execute(f"CREATE TABLE {name} ({declared}{constraints})")
            marks = ", ".join("?" * len(columns))
            connection.executemany(f"INSERT INTO {name} VALUES ({marks})", data[name])
        connection.commit()
        blob = bytes(connection.serialize())
    finally:
        connection.close()
    tables = {name: {"columns": [column for column, _ in _DB_SCHEMA[name][0]], "rows": len(data[name]),
                     "first_row": list(data[name][0])} for name in sorted(_DB_SCHEMA)}
    return blob, {"tables": tables}
