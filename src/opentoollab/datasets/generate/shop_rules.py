"""Which shop coupons a cart can take, read from the shop toolkit's own table (so programs never guess).

May import: ``opentoollab.tools``.
"""

from __future__ import annotations

from typing import Any

from ...tools.shop import COUPONS


def valid_coupons(state: dict[str, Any], cart: dict[str, Any]) -> list[str]:
    """Codes valid on the shop's today whose minimum subtotal and category the cart meets."""
    today = state.get("today", "")
    subtotal_cents = round(cart.get("subtotal", 0) * 100)
    categories = {p["id"]: p["category"] for p in state.get("products", [])}
    in_cart = {categories.get(item["product_id"]) for item in cart.get("items", [])}
    codes = []
    for code, rule in sorted(COUPONS.items()):
        if not rule.get("valid_from", "") <= today <= rule.get("expires", "9999"):
            continue
        if subtotal_cents < rule.get("min_subtotal_cents", 0):
            continue
        if rule.get("category") and rule["category"] not in in_cart:
            continue
        codes.append(code)
    return codes
