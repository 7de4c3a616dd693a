"""An online-shop toolkit: catalogue search, cart, coupons, checkout from a wallet, orders (stateful).

State (``self.state``, loaded from the config): ``today`` (ISO date; coupons expire relative to it,
there is no wall clock), ``currency``, ``balance_cents`` (the customer's wallet), ``products``
(``{"id", "name", "category", "price_cents", "stock", "rating"}``), ``cart`` (``{"product_id",
"quantity"}``), ``coupon`` (code or null), ``orders`` and ``next_order`` (new orders get
``ORD-<next_order>``). Money is kept in integer cents and shown as numbers with two decimals, so
results are exact. Stock is checked when adding to the cart and again at checkout; checkout takes
the total from the balance and the items from stock; cancelling a not yet shipped order restocks
and refunds. ``seed_config(seed)`` builds a varied deterministic store; ``default_config()`` is
``seed_config(0)``. ``COUPONS`` is a fixed table; which codes are valid depends on ``today``.

May import: the standard library and ``opentoollab.tools.base``.
"""

from __future__ import annotations

import random
import re
from datetime import date, timedelta
from typing import Any, ClassVar

from .base import Toolkit, ToolError, ToolkitError, clone

FIRST_ORDER = 5001
MAX_QUANTITY = 99
MAX_ORDERS = 2_000
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# code → rule. percent_off or amount_off_cents; min_subtotal_cents; category (only those items count); validity.
COUPONS: dict[str, dict[str, Any]] = {
    "SAVE10": {"percent_off": 10, "valid_from": "2025-01-01", "expires": "2025-12-31",
               "description": "10% off your order"},
    "WELCOME5": {"amount_off_cents": 500, "min_subtotal_cents": 2500, "valid_from": "2024-01-01",
                 "expires": "2026-12-31", "description": "$5 off orders of $25 or more"},
    "SPRING20": {"percent_off": 20, "valid_from": "2025-03-01", "expires": "2025-05-31",
                 "description": "20% off everything in spring 2025"},
    "SUMMER15": {"percent_off": 15, "valid_from": "2025-06-01", "expires": "2025-08-31",
                 "description": "15% off everything in summer 2025"},
    "BOOKWORM25": {"percent_off": 25, "category": "books", "valid_from": "2025-01-01", "expires": "2025-09-30",
                   "description": "25% off books"},
    "TECH30": {"amount_off_cents": 3000, "min_subtotal_cents": 15000, "category": "electronics",
               "valid_from": "2025-09-01", "expires": "2025-12-31",
               "description": "$30 off electronics when they total $150 or more"},
    "HOLIDAY2024": {"percent_off": 25, "valid_from": "2024-11-15", "expires": "2024-12-31",
                    "description": "25% off for the 2024 holidays"},
}


def money(cents: int) -> float | int:
    """Integer cents as a number of currency units: 1999 → 19.99, 2500 → 25."""
    return cents // 100 if cents % 100 == 0 else cents / 100


def _product_view(product: dict[str, Any]) -> dict[str, Any]:
    return {"id": product["id"], "name": product["name"], "category": product["category"],
            "price": money(product["price_cents"]), "stock": product["stock"], "rating": product.get("rating")}


# ---------------------------------------------------------------------------------- seeding
_CATALOGUE: dict[str, tuple[tuple[str, int], ...]] = {  # category → (name, typical price in dollars)
    "electronics": (("Wireless Earbuds", 79), ("USB-C Charger 65W", 35), ("Bluetooth Speaker", 59),
                    ("Noise-Cancelling Headphones", 249), ("Mechanical Keyboard", 119), ("Wireless Mouse", 29),
                    ("4K Webcam", 99), ("Portable SSD 1TB", 109), ("Smart Watch", 199), ("E-Reader", 139)),
    "kitchen": (("Chef's Knife 8in", 69), ("Cast Iron Skillet", 39), ("French Press", 29), ("Electric Kettle", 45),
                ("Bamboo Cutting Board", 19), ("Stand Mixer", 299), ("Ceramic Mug Set", 32), ("Rice Cooker", 89)),
    "books": (("The Pragmatic Programmer", 45), ("Dune", 12), ("Sapiens", 22), ("The Name of the Wind", 14),
              ("Atomic Habits", 18), ("Project Hail Mary", 17), ("The Hobbit", 11), ("Educated", 16)),
    "outdoors": (("Camping Tent 2-Person", 179), ("Hiking Backpack 40L", 119), ("Insulated Water Bottle", 29),
                 ("Trekking Poles", 59), ("Sleeping Bag", 89), ("Headlamp", 25), ("Camping Stove", 49)),
    "office": (("Desk Lamp LED", 39), ("Notebook A5 Dotted", 12), ("Gel Pens 12-Pack", 9), ("Monitor Stand", 49),
               ("Whiteboard 60x90cm", 65), ("Paper Shredder", 79), ("Desk Organizer", 24)),
    "toys": (("Building Blocks Set", 49), ("Puzzle 1000 Pieces", 19), ("Remote Control Car", 59), ("Plush Bear", 15),
             ("Strategy Board Game", 44), ("Stunt Kite", 29)),
    "clothing": (("Rain Jacket", 119), ("Wool Socks 3-Pack", 24), ("Running Shoes", 129), ("Cotton T-Shirt", 18),
                 ("Fleece Hoodie", 55), ("Baseball Cap", 22)),
}


def seed_config(seed: int) -> dict[str, Any]:
    """A deterministic store for a seed: a 2025 'today', 14-28 products, a wallet and 0-3 past orders."""
    rng = random.Random(seed)
    today = date(2025, 1, 1) + timedelta(days=rng.randrange(365))
    products = []
    for category in sorted(_CATALOGUE):
        for name, typical in rng.sample(_CATALOGUE[category], rng.randint(2, 4)):
            dollars = max(1, typical * rng.randint(80, 120) // 100)
            cents = dollars * 100 + rng.choice((99, 99, 49, 0, 95)) - 100
            stock = 0 if rng.random() < 0.12 else rng.choice((1, 2, 3, 5, 8, 12, 20, 35))
            products.append({"name": name, "category": category, "price_cents": cents, "stock": stock,
                             "rating": rng.randint(30, 50) / 10})
    rng.shuffle(products)
    products = [{"id": f"P-{101 + index}", **product} for index, product in enumerate(products)]
    orders = []
    for offset in range(rng.randint(0, 3)):
        items = []
        for product in rng.sample(products, rng.randint(1, 3)):
            items.append({"product_id": product["id"], "name": product["name"], "quantity": rng.randint(1, 2),
                          "unit_price_cents": product["price_cents"]})
        subtotal = sum(i["quantity"] * i["unit_price_cents"] for i in items)
        orders.append({"id": f"ORD-{FIRST_ORDER + offset}", "items": items, "subtotal_cents": subtotal,
                       "discount_cents": 0, "total_cents": subtotal, "coupon": None,
                       "placed_on": (today - timedelta(days=rng.randint(1, 40))).isoformat(),
                       "status": rng.choice(("placed", "shipped", "shipped", "delivered", "delivered"))})
    return {"today": today.isoformat(), "currency": "USD", "balance_cents": rng.randint(8, 60) * 1000,
            "products": products, "cart": [], "coupon": None, "orders": orders,
            "next_order": FIRST_ORDER + len(orders)}


# ---------------------------------------------------------------------------------- toolkit
class Shop(Toolkit):
    """An online store with a cart, coupons, a wallet balance and orders (stateful across calls)."""

    name: ClassVar[str] = "shop"
    description: ClassVar[str] = ("An online store: search the catalogue, manage a cart, apply coupons, check out "
                                  "paying from the wallet balance, and follow or cancel orders.")

    @classmethod
    def default_config(cls) -> dict[str, Any]:
        return seed_config(0)

    def setup(self) -> None:
        if not isinstance(self.config, dict):
            raise ToolkitError("shop config must be a JSON object with 'products', 'balance_cents' and 'today'")
        state = clone(self.config)  # the state evolves; self.config stays the initial one
        for key, default in (("today", "2025-03-14"), ("currency", "USD"), ("balance_cents", 0), ("products", []),
                             ("cart", []), ("coupon", None), ("orders", [])):
            state.setdefault(key, default)
        if not isinstance(state["today"], str) or not _DATE.match(state["today"]):
            raise ToolkitError(f"bad shop config: today must be YYYY-MM-DD, got {state['today']!r}")
        if not isinstance(state["balance_cents"], int):
            raise ToolkitError("bad shop config: balance_cents must be an integer")
        self._products: dict[str, dict[str, Any]] = {}
        for product in state["products"]:
            if not isinstance(product, dict) or not isinstance(product.get("id"), str) \
                    or not isinstance(product.get("price_cents"), int) or not isinstance(product.get("stock"), int):
                raise ToolkitError(f"bad shop config: product {product!r} needs 'id', integer 'price_cents' and 'stock'")
            product.setdefault("name", product["id"])
            product.setdefault("category", "other")
            self._products[product["id"]] = product
        for line in state["cart"]:
            if not isinstance(line, dict) or line.get("product_id") not in self._products \
                    or not isinstance(line.get("quantity"), int):
                raise ToolkitError(f"bad shop config: cart line {line!r} needs a known 'product_id' and a 'quantity'")
        if state["coupon"] is not None and state["coupon"] not in COUPONS:
            raise ToolkitError(f"bad shop config: unknown coupon {state['coupon']!r}")
        if "next_order" not in state:
            numbers = [int(o["id"][4:]) for o in state["orders"] if re.fullmatch(r"ORD-\d+", str(o.get("id")))]
            state["next_order"] = max(numbers, default=FIRST_ORDER - 1) + 1
        self.state = state

    # ------------------------------------------------------------------ helpers
    def _product(self, product_id: str) -> dict[str, Any]:
        product = self._products.get(product_id.strip().upper())
        if product is None:
            raise ToolError(f"no product with id {product_id!r}")
        return product

    def _order(self, order_id: str) -> dict[str, Any]:
        key = order_id.strip().upper()
        for order in self.state["orders"]:
            if order["id"] == key:
                return order
        raise ToolError(f"no order with id {order_id!r}")

    def _line(self, product_id: str) -> dict[str, Any] | None:
        return next((line for line in self.state["cart"] if line["product_id"] == product_id), None)

    def _coupon_problem(self, code: str) -> str | None:
        rule = COUPONS[code]
        today = self.state["today"]
        if today < rule["valid_from"]:
            return f"coupon {code} is not valid yet (from {rule['valid_from']})"
        if today > rule["expires"]:
            return f"coupon {code} expired on {rule['expires']}"
        return None

    def _totals(self) -> dict[str, Any]:
        """Lines, subtotal, discount (with the reason when a coupon gives none) and total, in cents."""
        lines, subtotal, eligible = [], 0, 0
        code = self.state["coupon"]
        category = COUPONS[code].get("category") if code else None
        for line in self.state["cart"]:
            product = self._products[line["product_id"]]
            amount = product["price_cents"] * line["quantity"]
            subtotal += amount
            if category is None or product["category"] == category:
                eligible += amount
            lines.append({"product_id": product["id"], "name": product["name"], "quantity": line["quantity"],
                          "unit_price": money(product["price_cents"]), "line_total": money(amount),
                          "in_stock": product["stock"]})
        discount, note = 0, None
        if code:
            rule = COUPONS[code]
            note = self._coupon_problem(code)
            if note is None and eligible == 0:
                note = f"coupon {code} applies only to {category}; the cart has none"
            elif note is None and eligible < rule.get("min_subtotal_cents", 0):
                note = (f"coupon {code} needs {money(rule['min_subtotal_cents'])} of eligible items; "
                        f"the cart has {money(eligible)}")
            elif note is None:
                discount = (eligible * rule["percent_off"] + 50) // 100 if "percent_off" in rule \
                    else min(rule["amount_off_cents"], eligible)
        return {"lines": lines, "subtotal": subtotal, "discount": discount, "total": subtotal - discount,
                "coupon": code, "coupon_note": note}

    def _cart_view(self) -> dict[str, Any]:
        totals = self._totals()
        view = {"items": totals["lines"], "item_count": sum(line["quantity"] for line in self.state["cart"]),
                "subtotal": money(totals["subtotal"]), "coupon": totals["coupon"],
                "discount": money(totals["discount"]), "total": money(totals["total"]),
                "balance": money(self.state["balance_cents"]), "currency": self.state["currency"]}
        if totals["coupon_note"]:
            view["coupon_note"] = totals["coupon_note"]
        return view

    @staticmethod
    def _order_view(order: dict[str, Any]) -> dict[str, Any]:
        return {"id": order["id"], "status": order["status"], "placed_on": order.get("placed_on"),
                "items": [{"product_id": i["product_id"], "name": i["name"], "quantity": i["quantity"],
                           "unit_price": money(i["unit_price_cents"])} for i in order["items"]],
                "subtotal": money(order["subtotal_cents"]), "discount": money(order["discount_cents"]),
                "total": money(order["total_cents"]), "coupon": order.get("coupon")}

    # ------------------------------------------------------------------ catalogue
    def search_products(self, keyword: str | None = None, category: str | None = None,
                        max_price: float | None = None, in_stock_only: bool = False) -> dict[str, Any]:
        """Search the catalogue. All given filters must match; with no filters, every product is listed.

        Args:
            keyword: Words that must all appear in the product name or category (case-insensitive), e.g. "wireless".
            category: Only this category: electronics, kitchen, books, outdoors, office, toys or clothing.
            max_price: Only products costing at most this much (in the store's currency, e.g. 49.99).
            in_stock_only: True to leave out products that are sold out.
        """
        words = keyword.lower().split() if keyword else []
        wanted = category.strip().lower() if category else None
        limit = round(max_price * 100) if max_price is not None else None
        found = []
        for product in self.state["products"]:
            if wanted is not None and product["category"] != wanted:
                continue
            if limit is not None and product["price_cents"] > limit:
                continue
            if in_stock_only and product["stock"] <= 0:
                continue
            text = (product["name"] + " " + product["category"]).lower()
            if all(word in text for word in words):
                found.append(_product_view(product))
        return {"products": found, "count": len(found), "currency": self.state["currency"]}

    def get_product_details(self, product_id: str) -> dict[str, Any]:
        """Details of one product: name, category, price, units in stock, rating, and how many are in your cart.

        Args:
            product_id: The product's id, e.g. "P-104".
        """
        product = self._product(product_id)
        line = self._line(product["id"])
        return {**_product_view(product), "in_cart": line["quantity"] if line else 0,
                "currency": self.state["currency"]}

    # ------------------------------------------------------------------ cart
    def add_to_cart(self, product_id: str, quantity: int = 1) -> dict[str, Any]:
        """Put a product in the cart (adds to any quantity already there). Fails if not enough are in stock.

        Args:
            product_id: The product's id, e.g. "P-104".
            quantity: How many units to add (1 to 99).
        """
        product = self._product(product_id)
        if not 1 <= quantity <= MAX_QUANTITY:
            raise ToolError(f"quantity must be between 1 and {MAX_QUANTITY}")
        line = self._line(product["id"])
        wanted = quantity + (line["quantity"] if line else 0)
        if product["stock"] <= 0:
            raise ToolError(f"{product['name']} ({product['id']}) is out of stock")
        if wanted > product["stock"]:
            raise ToolError(f"only {product['stock']} of {product['name']} ({product['id']}) in stock"
                            + (f"; {line['quantity']} already in the cart" if line else ""))
        if wanted > MAX_QUANTITY:
            raise ToolError(f"at most {MAX_QUANTITY} units of one product per order")
        if line:
            line["quantity"] = wanted
        else:
            self.state["cart"].append({"product_id": product["id"], "quantity": wanted})
        return {"added": {"product_id": product["id"], "name": product["name"], "quantity": quantity},
                "cart": self._cart_view()}

    def remove_from_cart(self, product_id: str, quantity: int | None = None) -> dict[str, Any]:
        """Take a product out of the cart, entirely or some units of it.

        Args:
            product_id: The product's id, e.g. "P-104".
            quantity: How many units to remove; leave out to remove the product completely.
        """
        product = self._product(product_id)
        line = self._line(product["id"])
        if line is None:
            raise ToolError(f"{product['name']} ({product['id']}) is not in the cart")
        if quantity is not None and quantity < 1:
            raise ToolError("quantity must be at least 1")
        if quantity is None or quantity >= line["quantity"]:
            self.state["cart"].remove(line)
            removed = line["quantity"]
        else:
            line["quantity"] -= quantity
            removed = quantity
        return {"removed": {"product_id": product["id"], "name": product["name"], "quantity": removed},
                "cart": self._cart_view()}

    def view_cart(self) -> dict[str, Any]:
        """The cart: items, subtotal, coupon discount, total to pay, and the wallet balance."""
        return self._cart_view()

    def apply_coupon(self, code: str) -> dict[str, Any]:
        """Apply a coupon code to the cart (one coupon per order; a new code replaces the previous one).

        Args:
            code: The coupon code, e.g. "SAVE10".
        """
        key = code.strip().upper()
        if key not in COUPONS:
            raise ToolError(f"unknown coupon code {code!r}")
        problem = self._coupon_problem(key)
        if problem:
            raise ToolError(problem)
        if not self.state["cart"]:
            raise ToolError("the cart is empty: add products before applying a coupon")
        previous = self.state["coupon"]
        self.state["coupon"] = key
        totals = self._totals()
        if totals["coupon_note"]:
            self.state["coupon"] = previous
            raise ToolError(totals["coupon_note"])
        return {"applied": key, "description": COUPONS[key]["description"], "replaced": previous,
                "cart": self._cart_view()}

    def get_wallet_balance(self) -> dict[str, Any]:
        """The customer's wallet balance, which pays for orders."""
        return {"balance": money(self.state["balance_cents"]), "currency": self.state["currency"]}

    # ------------------------------------------------------------------ orders
    def checkout(self) -> dict[str, Any]:
        """Place an order for everything in the cart, paying from the wallet balance. Empties the cart.

        Fails if the cart is empty, an item no longer has enough stock, or the balance is too low.
        """
        if not self.state["cart"]:
            raise ToolError("the cart is empty")
        if len(self.state["orders"]) >= MAX_ORDERS:
            raise ToolError("too many orders")
        for line in self.state["cart"]:
            product = self._products[line["product_id"]]
            if line["quantity"] > product["stock"]:
                raise ToolError(f"only {product['stock']} of {product['name']} ({product['id']}) in stock now; "
                                f"the cart has {line['quantity']}")
        totals = self._totals()
        if totals["total"] > self.state["balance_cents"]:
            raise ToolError(f"insufficient balance: the order costs {money(totals['total'])} but the wallet has "
                            f"{money(self.state['balance_cents'])}")
        items = []
        for line in self.state["cart"]:
            product = self._products[line["product_id"]]
            product["stock"] -= line["quantity"]
            items.append({"product_id": product["id"], "name": product["name"], "quantity": line["quantity"],
                          "unit_price_cents": product["price_cents"]})
        applied = totals["coupon"] if totals["discount"] else None
        order = {"id": f"ORD-{self.state['next_order']}", "items": items, "subtotal_cents": totals["subtotal"],
                 "discount_cents": totals["discount"], "total_cents": totals["total"], "coupon": applied,
                 "placed_on": self.state["today"], "status": "placed"}
        self.state["next_order"] += 1
        self.state["orders"].append(order)
        self.state["balance_cents"] -= totals["total"]
        self.state["cart"], self.state["coupon"] = [], None
        result = {"order": self._order_view(order), "balance": money(self.state["balance_cents"])}
        if totals["coupon"] and not applied:
            result["coupon_note"] = totals["coupon_note"]
        return result

    def list_orders(self) -> dict[str, Any]:
        """All of the customer's orders, newest first, with status and total."""
        orders = [{"id": o["id"], "status": o["status"], "placed_on": o.get("placed_on"), "total": money(o["total_cents"]),
                   "items": sum(i["quantity"] for i in o["items"])} for o in reversed(self.state["orders"])]
        return {"orders": orders, "count": len(orders)}

    def get_order_status(self, order_id: str) -> dict[str, Any]:
        """Status and contents of one order (placed, shipped, delivered or cancelled).

        Args:
            order_id: The order's id, e.g. "ORD-5002".
        """
        return self._order_view(self._order(order_id))

    def cancel_purchase(self, order_id: str) -> dict[str, Any]:
        """Cancel an order that has not shipped yet: items go back to stock and the total is refunded to the wallet.

        Args:
            order_id: The order's id, e.g. "ORD-5002".
        """
        order = self._order(order_id)
        if order["status"] != "placed":
            raise ToolError(f"order {order['id']} is {order['status']} and can no longer be cancelled")
        for item in order["items"]:
            product = self._products.get(item["product_id"])
            if product is not None:
                product["stock"] += item["quantity"]
        order["status"] = "cancelled"
        self.state["balance_cents"] += order["total_cents"]
        return {"cancelled": order["id"], "refunded": money(order["total_cents"]),
                "balance": money(self.state["balance_cents"])}
