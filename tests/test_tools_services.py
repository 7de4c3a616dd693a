"""The service toolkits (math, calendar, notes, tickets, shop): declarations, behaviour, state, determinism."""

from __future__ import annotations

import json
import time

import jsonschema_rs
import pytest

from opentoollab.tools import Episode, ToolkitError, get_toolkit
from opentoollab.tools import calendar as calendar_module
from opentoollab.tools import notes as notes_module
from opentoollab.tools import shop as shop_module
from opentoollab.tools import tickets as tickets_module

SERVICES = ["math", "calendar", "notes", "tickets", "shop"]
STATEFUL = {"calendar": calendar_module, "notes": notes_module, "tickets": tickets_module, "shop": shop_module}
# Names of BFCL's multi-turn functions: an episode may hold the bfcl toolkit too, so none may be reused.
BFCL_NAMES = {
    "cat", "cd", "cp", "diff", "du", "echo", "find", "grep", "ls", "mkdir", "mv", "pwd", "rm", "rmdir", "sort", "tail",
    "touch", "wc", "absolute_value", "add", "divide", "imperial_si_conversion", "logarithm", "max_value", "mean",
    "min_value", "multiply", "percentage", "power", "round_number", "si_unit_conversion", "square_root",
    "standard_deviation", "subtract", "sum_values", "add_contact", "delete_message", "get_message_stats", "get_user_id",
    "list_users", "message_get_login_status", "message_login", "search_messages", "send_message", "view_messages_sent",
    "authenticate_twitter", "comment", "follow_user", "get_tweet", "get_tweet_comments", "get_user_stats",
    "get_user_tweets", "list_all_following", "mention", "post_tweet", "posting_get_login_status", "retweet",
    "search_tweets", "unfollow_user", "close_ticket", "create_ticket", "edit_ticket", "get_ticket", "get_user_tickets",
    "logout", "resolve_ticket", "ticket_get_login_status", "ticket_login", "add_to_watchlist", "cancel_order",
    "filter_stocks_by_price", "fund_account", "get_account_info", "get_available_stocks", "get_current_time",
    "get_order_details", "get_order_history", "get_stock_info", "get_symbol_by_name", "get_transaction_history",
    "get_watchlist", "notify_price_change", "place_order", "remove_stock_from_watchlist", "trading_get_login_status",
    "trading_login", "trading_logout", "withdraw_funds", "authenticate_travel", "book_flight", "cancel_booking",
    "compute_exchange_rate", "contact_customer_support", "get_all_credit_cards", "get_booking_history",
    "get_budget_fiscal_year", "get_credit_card_balance", "get_flight_cost", "get_nearest_airport_by_city",
    "list_all_airports", "purchase_insurance", "register_credit_card", "retrieve_invoice", "set_budget_limit",
    "travel_get_login_status", "verify_traveler_information",
}


def kit(name: str, config=None):
    return get_toolkit(name)(config)


def ok(result):
    assert not (isinstance(result, dict) and "error" in result), result
    return result


def error(result) -> str:
    assert isinstance(result, dict) and set(result) == {"error"}, result
    return result["error"]


# ---------------------------------------------------------------------------------- declarations
@pytest.mark.parametrize("name", SERVICES)
def test_declarations_are_valid_json_schema_with_every_parameter_described(name):
    cls = get_toolkit(name)
    assert cls.name == name and cls.description
    tools = cls.tools()
    assert [t["name"] for t in tools] == cls.tool_names() and len(tools) >= 8
    for tool in tools:
        assert tool["description"] and not tool["description"].startswith("Args"), tool["name"]
        parameters = tool["parameters"]
        assert parameters["type"] == "object"
        assert jsonschema_rs.meta.is_valid(parameters), tool["name"]
        jsonschema_rs.validator_for(parameters)
        for parameter, schema in parameters["properties"].items():
            assert schema.get("description"), f"{name}.{tool['name']}: {parameter} has no description"
            assert "type" in schema, f"{name}.{tool['name']}: {parameter} has no type"
        assert set(parameters.get("required", [])) <= set(parameters["properties"])


def test_tool_names_are_unique_and_distinct_from_bfcl():
    names = [tool for service in SERVICES for tool in get_toolkit(service).tool_names()]
    assert len(names) == len(set(names))
    assert not set(names) & BFCL_NAMES
    with Episode(SERVICES) as episode:  # an episode with all of them builds (no duplicate tool)
        assert len(episode.tools()) == len(names)
        assert episode.call("sum_numbers", {"numbers": [1, 2]}) == {"sum": 3, "count": 2}


@pytest.mark.parametrize("name, tool, arguments", [
    ("math", "calculate_mean", {"numbers": "1,2,3"}),
    ("math", "calculate_mean", {"numbers": [1, "2"]}),
    ("math", "round_to_digits", {"value": 1.5, "decimals": 1.5}),
    ("math", "sum_numbers", {}),
    ("calendar", "days_between", {"start_date": "2025-01-01", "end_date": 20250102}),
    ("calendar", "create_event", {"title": "x", "date": "2030-01-01", "start_time": "09:00", "end_time": "10:00",
                                  "attendees": "Sam"}),
    ("notes", "create_note", {"title": "x", "tags": "work"}),
    ("notes", "read_note", {"note_id": "note-1", "extra": True}),
    ("tickets", "update_ticket_status", {"ticket_id": "TCK-1001", "status": "done"}),
    ("tickets", "open_ticket", {"title": "x", "description": "y", "priority": "critical"}),
    ("shop", "add_to_cart", {"product_id": "P-101", "quantity": "2"}),
    ("shop", "add_to_cart", {"product_id": "P-101", "quantity": True}),
])
def test_wrong_arguments_are_error_results_and_change_nothing(name, tool, arguments):
    toolkit = kit(name)
    before = toolkit.snapshot()
    assert error(toolkit.call(tool, arguments))
    assert toolkit.snapshot() == before


def test_unknown_tool_is_a_toolkit_error():
    with pytest.raises(ToolkitError):
        kit("math").call("eval", {"expression": "1+1"})


# ---------------------------------------------------------------------------------- seeds, replay
@pytest.mark.parametrize("name", sorted(STATEFUL))
def test_seed_config_is_deterministic_varied_and_the_default(name):
    module = STATEFUL[name]
    configs = [module.seed_config(seed) for seed in range(20)]
    assert [json.dumps(module.seed_config(seed), sort_keys=True) for seed in range(20)] == \
        [json.dumps(c, sort_keys=True) for c in configs]
    assert len({json.dumps(c, sort_keys=True) for c in configs}) == 20
    assert get_toolkit(name).default_config() == module.seed_config(0)
    assert kit(name).snapshot() == kit(name, module.seed_config(0)).snapshot()
    json.loads(json.dumps(configs[3], allow_nan=False))  # plain JSON


def _script(name: str, toolkit) -> list[tuple[str, dict]]:
    """A call sequence that exercises state for each toolkit (ids taken from the seeded state)."""
    state = toolkit.snapshot()
    if name == "calendar":
        today = state["today"]
        return [("create_event", {"title": "Review", "date": today, "start_time": "21:00", "end_time": "22:00"}),
                ("create_event", {"title": "Clash", "date": today, "start_time": "21:30", "end_time": "21:45"}),
                ("list_events", {"start_date": today, "end_date": today}),
                ("update_event", {"event_id": state["events"][0]["id"], "title": "Renamed"}),
                ("delete_event", {"event_id": state["events"][-1]["id"]}),
                ("find_free_slots", {"date": today, "duration_minutes": 45})]
    if name == "notes":
        return [("create_note", {"title": "Todo", "body": "call mom", "tags": ["#Personal"]}),
                ("append_to_note", {"note_id": state["notes"][0]["id"], "text": "more"}),
                ("search_notes", {"query": "mom"}), ("tag_note", {"note_id": "note-1", "add_tags": ["x"]}),
                ("delete_note", {"note_id": "note-2"}), ("list_notes", {})]
    if name == "tickets":
        return [("open_ticket", {"title": "Broken", "description": "It broke", "priority": "high"}),
                ("update_ticket_status", {"ticket_id": state["tickets"][0]["id"], "status": "in_progress"}),
                ("add_ticket_comment", {"ticket_id": "TCK-1002", "text": "Looking into it"}),
                ("list_tickets", {"status": "open"}), ("list_support_agents", {})]
    if name == "shop":
        available = [p["id"] for p in state["products"] if p["stock"] > 0]
        return [("add_to_cart", {"product_id": available[0], "quantity": 1}),
                ("add_to_cart", {"product_id": available[1], "quantity": 1}),
                ("apply_coupon", {"code": "WELCOME5"}), ("view_cart", {}), ("checkout", {}),
                ("cancel_purchase", {"order_id": f"ORD-{state['next_order']}"}), ("list_orders", {})]
    raise AssertionError(name)


@pytest.mark.parametrize("name", sorted(STATEFUL))
@pytest.mark.parametrize("seed", [0, 1, 7, 123])
def test_replaying_calls_from_the_same_config_gives_identical_results(name, seed):
    config = STATEFUL[name].seed_config(seed)
    frozen = json.dumps(config, sort_keys=True)
    runs = []
    for _ in range(2):
        toolkit = kit(name, config)
        script = _script(name, toolkit)
        results = [toolkit.call(tool, arguments) for tool, arguments in script]
        runs.append((json.dumps(results, sort_keys=True), json.dumps(toolkit.snapshot(), sort_keys=True)))
        assert toolkit.snapshot() != config  # the state evolved ...
        assert json.dumps(toolkit.config, sort_keys=True) == frozen  # ... but not the config
    assert runs[0] == runs[1]
    assert json.dumps(config, sort_keys=True) == frozen  # the caller's config is untouched


# ---------------------------------------------------------------------------------- math
def test_math_results_are_rounded_stably():
    math = kit("math")
    assert math.call("sum_numbers", {"numbers": [0.1, 0.2]}) == {"sum": 0.3, "count": 2}
    assert math.call("multiply_numbers", {"numbers": [2, 3.5, 4]}) == {"product": 28, "count": 3}
    assert math.call("calculate_mean", {"numbers": [1, 2, 4]}) == {"mean": 2.333333333, "count": 3}
    assert math.call("calculate_median", {"numbers": [5, 1, 4, 2]}) == {"median": 3, "count": 4}
    assert math.call("calculate_mode", {"numbers": [1, 2, 2, 3, 3]}) == {"modes": [2, 3], "frequency": 2}
    assert math.call("calculate_variance", {"numbers": [2, 4, 4, 4, 5, 5, 7, 9]})["variance"] == 4.571428571
    assert math.call("calculate_stdev", {"numbers": [2, 4, 4, 4, 5, 5, 7, 9], "population": True})["stdev"] == 2
    assert math.call("calculate_percentile", {"numbers": [1, 2, 3, 4], "percentile": 90})["value"] == 3.7
    assert math.call("find_min_max", {"numbers": [3, -1, 8]}) == {"min": -1, "max": 8, "range": 9, "count": 3}
    assert math.call("round_to_digits", {"value": 2.675, "decimals": 2}) == {"rounded": 2.68}
    assert math.call("round_to_digits", {"value": 1250, "decimals": -2}) == {"rounded": 1300}
    assert math.call("compute_power", {"base": 2, "exponent": 10}) == {"result": 1024}
    assert math.call("compute_square_root", {"value": 2}) == {"square_root": 1.414213562}
    assert math.call("compute_logarithm", {"value": 1000}) == {"logarithm": 3, "base": 10}
    assert math.call("compute_logarithm", {"value": 8, "base": 2})["logarithm"] == 3
    assert math.call("percent_change", {"old_value": 80, "new_value": 100}) == {"change": 20, "percent_change": 25}
    assert math.call("solve_linear_equation", {"a": 3, "b": 2, "c": 11}) == {"x": 3}
    assert math.call("compound_interest", {"principal": 1000, "annual_rate_percent": 5, "years": 10})["final_amount"] == 1647.01
    assert math.call("divide_numbers", {"dividend": 1, "divisor": 3}) == {"quotient": 0.3333333333}


def test_math_unit_conversion():
    math = kit("math")
    assert math.call("convert_units", {"value": 1, "from_unit": "inches", "to_unit": "cm"})["value"] == 2.54
    assert math.call("convert_units", {"value": 5, "from_unit": "km", "to_unit": "mi"})["value"] == 3.106855961
    assert math.call("convert_units", {"value": 212, "from_unit": "F", "to_unit": "celsius"})["value"] == 100
    assert math.call("convert_units", {"value": 0, "from_unit": "C", "to_unit": "K"})["value"] == 273.15
    assert math.call("convert_units", {"value": 2, "from_unit": "lbs", "to_unit": "kg"})["value"] == 0.90718474
    assert math.call("convert_units", {"value": 1, "from_unit": "gal", "to_unit": "L"})["value"] == 3.785411784
    assert math.call("convert_units", {"value": 90, "from_unit": "minutes", "to_unit": "h"})["value"] == 1.5
    assert "unknown unit" in error(math.call("convert_units", {"value": 1, "from_unit": "furlong", "to_unit": "m"}))
    assert "cannot convert" in error(math.call("convert_units", {"value": 1, "from_unit": "kg", "to_unit": "m"}))
    assert "absolute zero" in error(math.call("convert_units", {"value": -500, "from_unit": "F", "to_unit": "C"}))


@pytest.mark.parametrize("tool, arguments, message", [
    ("divide_numbers", {"dividend": 1, "divisor": 0}, "division by zero"),
    ("calculate_mean", {"numbers": []}, "empty"),
    ("calculate_variance", {"numbers": [3]}, "at least two"),
    ("percent_change", {"old_value": 0, "new_value": 3}, "division by zero"),
    ("solve_linear_equation", {"a": 0, "b": 1, "c": 2}, "no solution"),
    ("compute_square_root", {"value": -4}, "negative"),
    ("compute_logarithm", {"value": 10, "base": 1}, "base"),
    ("compute_power", {"base": 10, "exponent": 400}, "too large"),
    ("compute_power", {"base": 0, "exponent": -1}, "division by zero"),
    ("calculate_percentile", {"numbers": [1], "percentile": 101}, "between 0 and 100"),
    ("calculate_mean", {"numbers": [10**400, 1]}, "too large"),
    ("round_to_digits", {"value": 10**400}, "too large"),
])
def test_math_failures_are_error_results(tool, arguments, message):
    assert message in error(kit("math").call(tool, arguments))


# ---------------------------------------------------------------------------------- calendar
CAL = {"today": "2025-03-14", "events": [
    {"id": "evt-1", "title": "Standup", "date": "2025-03-17", "start": "09:00", "end": "09:30", "location": "Zoom",
     "attendees": ["Sam"]},
    {"id": "evt-2", "title": "Lunch with Priya", "date": "2025-03-17", "start": "12:00", "end": "13:00"},
]}


def test_calendar_dates():
    cal = kit("calendar", CAL)
    assert cal.call("get_current_date", {}) == {"date": "2025-03-14", "weekday": "Friday"}
    assert cal.call("weekday_of", {"date": "2025-12-25"})["weekday"] == "Thursday"
    assert cal.call("days_between", {"start_date": "2025-03-14", "end_date": "2025-04-14"}) == \
        {"days": 31, "weeks": 4, "remaining_days": 3, "business_days": 21}
    assert cal.call("add_to_date", {"date": "2025-01-31", "months": 1}) == {"date": "2025-02-28", "weekday": "Friday"}
    assert cal.call("add_to_date", {"date": "2024-02-29", "years": 1, "weeks": -1})["date"] == "2025-02-21"
    assert "not a real calendar date" in error(cal.call("weekday_of", {"date": "2025-02-30"}))
    assert "YYYY-MM-DD" in error(cal.call("weekday_of", {"date": "14/03/2025"}))


def test_calendar_events_conflicts_and_free_slots():
    cal = kit("calendar", CAL)
    created = ok(cal.call("create_event", {"title": "Dentist", "date": "2025-03-17", "start_time": "14:00",
                                           "end_time": "15:00", "location": "Clinic"}))["created"]
    assert created["id"] == "evt-3"
    clash = error(cal.call("create_event", {"title": "Call", "date": "2025-03-17", "start_time": "9:15", "end_time": "10:00"}))
    assert "conflict" in clash and "evt-1" in clash
    assert "past" in error(cal.call("create_event", {"title": "Old", "date": "2025-03-13", "start_time": "09:00",
                                                       "end_time": "10:00"}))
    assert "later than" in error(cal.call("create_event", {"title": "X", "date": "2025-03-20", "start_time": "10:00",
                                                             "end_time": "09:00"}))
    listed = cal.call("list_events", {"start_date": "2025-03-17", "end_date": "2025-03-17"})
    assert [e["id"] for e in listed["events"]] == ["evt-1", "evt-2", "evt-3"]
    assert cal.call("list_events", {"keyword": "priya"})["count"] == 1
    assert cal.call("find_free_slots", {"date": "2025-03-17", "duration_minutes": 60})["free_slots"] == [
        {"start": "09:30", "end": "12:00", "minutes": 150}, {"start": "13:00", "end": "14:00", "minutes": 60},
        {"start": "15:00", "end": "17:00", "minutes": 120}]
    assert len(cal.call("find_free_slots", {"date": "2025-03-17", "duration_minutes": 61})["free_slots"]) == 2
    assert "conflict" in error(cal.call("update_event", {"event_id": "evt-3", "start_time": "12:30"}))
    moved = ok(cal.call("update_event", {"event_id": "evt-3", "date": "2025-03-18"}))
    assert moved["changed"] == ["date"] and moved["updated"]["start"] == "14:00"
    assert ok(cal.call("delete_event", {"event_id": "evt-1"}))["deleted"] == "evt-1"
    assert "no event" in error(cal.call("get_event", {"event_id": "evt-1"}))
    assert [e["id"] for e in cal.snapshot()["events"]] == ["evt-2", "evt-3"]
    assert cal.call("create_event", {"title": "Next", "date": "2025-03-20", "start_time": "09:00",
                                     "end_time": "10:00"})["created"]["id"] == "evt-4"


# ---------------------------------------------------------------------------------- notes
def test_notes_lifecycle():
    notes = kit("notes", {"notes": []})
    assert ok(notes.call("create_note", {"title": "Groceries", "body": "eggs\nmilk", "tags": ["#Shopping"]})
              )["created"]["id"] == "note-1"
    assert notes.call("create_note", {"title": "Ideas", "tags": ["work", "ideas"]})["created"]["id"] == "note-2"
    assert notes.call("search_notes", {"query": "MILK eggs"})["count"] == 1
    assert notes.call("search_notes", {"tag": "work"})["notes"][0]["id"] == "note-2"
    assert "query, a tag" in error(notes.call("search_notes", {}))
    notes.call("append_to_note", {"note_id": "note-1", "text": "bread"})
    assert notes.call("read_note", {"note_id": "note-1"}) == {"id": "note-1", "title": "Groceries",
                                                              "body": "eggs\nmilk\nbread", "tags": ["shopping"]}
    assert notes.call("tag_note", {"note_id": "note-1", "add_tags": ["Urgent"], "remove_tags": ["shopping"]}) == \
        {"id": "note-1", "tags": ["urgent"]}
    assert "has no tag" in error(notes.call("tag_note", {"note_id": "note-1", "remove_tags": ["nope"]}))
    assert "invalid tag" in error(notes.call("create_note", {"title": "x", "tags": ["a b c!"]}))
    assert notes.call("update_note", {"note_id": "note-2", "body": "new"})["updated"]["preview"] == "new"
    assert notes.call("list_note_tags", {}) == {"tags": [{"tag": "ideas", "notes": 1}, {"tag": "urgent", "notes": 1},
                                                         {"tag": "work", "notes": 1}]}
    notes.call("delete_note", {"note_id": "note-1"})
    assert "no note" in error(notes.call("read_note", {"note_id": "note-1"}))
    assert notes.call("create_note", {"title": "Third"})["created"]["id"] == "note-3"  # ids are never reused
    assert [n["id"] for n in notes.call("list_notes", {})["notes"]] == ["note-2", "note-3"]


# ---------------------------------------------------------------------------------- tickets
def test_ticket_workflow_and_illegal_transitions():
    desk = kit("tickets", {"agents": ["alice", "bob"], "current_user": "alice", "tickets": []})
    opened = ok(desk.call("open_ticket", {"title": "VPN drops", "description": "Every hour", "priority": "high"}))
    assert opened["opened"]["id"] == "TCK-1001" and opened["opened"]["status"] == "open"
    assert desk.call("open_ticket", {"title": "B", "description": "b"})["opened"]["priority"] == "medium"
    assert "unknown agent" in error(desk.call("assign_ticket", {"ticket_id": "TCK-1001", "assignee": "zed"}))
    assert desk.call("assign_ticket", {"ticket_id": "tck-1001", "assignee": "Bob"})["assignee"] == "bob"
    illegal = error(desk.call("update_ticket_status", {"ticket_id": "TCK-1001", "status": "resolved"}))
    assert "from open to resolved" in illegal and "in_progress" in illegal
    ok(desk.call("update_ticket_status", {"ticket_id": "TCK-1001", "status": "in_progress"}))
    assert "needs a resolution" in error(desk.call("update_ticket_status", {"ticket_id": "TCK-1001", "status": "resolved"}))
    assert desk.call("update_ticket_status", {"ticket_id": "TCK-1001", "status": "resolved",
                                              "resolution": "Router replaced"})["status"] == "resolved"
    assert desk.call("update_ticket_status", {"ticket_id": "TCK-1001", "status": "in_progress"})["resolution"] is None
    ok(desk.call("add_ticket_comment", {"ticket_id": "TCK-1001", "text": "Still dropping"}))
    closed = ok(desk.call("close_ticket_with_resolution", {"ticket_id": "TCK-1001", "resolution": "Firmware update"}))
    assert closed == {"id": "TCK-1001", "previous_status": "in_progress", "status": "closed", "resolution": "Firmware update"}
    assert "closed is final" in error(desk.call("update_ticket_status", {"ticket_id": "TCK-1001", "status": "open"}))
    assert "closed" in error(desk.call("add_ticket_comment", {"ticket_id": "TCK-1001", "text": "hi"}))
    ticket = desk.call("view_ticket", {"ticket_id": "TCK-1001"})
    assert ticket["comments"] == [{"author": "alice", "text": "Still dropping"}] and ticket["assignee"] == "bob"
    assert [t["id"] for t in desk.call("list_tickets", {"status": "open"})["tickets"]] == ["TCK-1002"]
    assert desk.call("list_tickets", {"assignee": "unassigned"})["count"] == 1
    assert desk.call("list_tickets", {"keyword": "vpn"})["count"] == 1
    assert desk.call("change_ticket_priority", {"ticket_id": "TCK-1002", "priority": "urgent"})["previous_priority"] == "medium"


# ---------------------------------------------------------------------------------- shop
SHOP = {"today": "2025-04-10", "balance_cents": 10000, "products": [
    {"id": "P-101", "name": "Wireless Mouse", "category": "electronics", "price_cents": 2999, "stock": 3},
    {"id": "P-102", "name": "Dune", "category": "books", "price_cents": 1200, "stock": 10},
    {"id": "P-103", "name": "Stand Mixer", "category": "kitchen", "price_cents": 29900, "stock": 1},
    {"id": "P-104", "name": "Headlamp", "category": "outdoors", "price_cents": 2500, "stock": 0},
], "orders": [{"id": "ORD-5001", "status": "shipped", "items": [], "subtotal_cents": 0, "discount_cents": 0,
               "total_cents": 0}]}


def test_shop_search_cart_and_stock():
    shop = kit("shop", SHOP)
    assert [p["id"] for p in shop.call("search_products", {"keyword": "mouse"})["products"]] == ["P-101"]
    assert shop.call("search_products", {"max_price": 29.99, "in_stock_only": True})["count"] == 2
    assert shop.call("search_products", {"category": "Books"})["products"][0]["price"] == 12
    assert "out of stock" in error(shop.call("add_to_cart", {"product_id": "P-104"}))
    ok(shop.call("add_to_cart", {"product_id": "P-101", "quantity": 2}))
    assert "only 3" in error(shop.call("add_to_cart", {"product_id": "P-101", "quantity": 2}))
    assert "no product" in error(shop.call("add_to_cart", {"product_id": "P-999"}))
    assert shop.call("get_product_details", {"product_id": "p-101"})["in_cart"] == 2
    cart = shop.call("remove_from_cart", {"product_id": "P-101", "quantity": 1})["cart"]
    assert cart["items"][0]["quantity"] == 1 and cart["total"] == 29.99


def test_shop_coupons_checkout_balance_and_cancel():
    shop = kit("shop", SHOP)
    assert "empty" in error(shop.call("checkout", {}))
    ok(shop.call("add_to_cart", {"product_id": "P-102", "quantity": 2}))
    assert "unknown coupon" in error(shop.call("apply_coupon", {"code": "FREE"}))
    assert "expired on 2024-12-31" in error(shop.call("apply_coupon", {"code": "HOLIDAY2024"}))
    assert "not valid yet" in error(shop.call("apply_coupon", {"code": "SUMMER15"}))
    assert "needs 25" in error(shop.call("apply_coupon", {"code": "WELCOME5"}))
    applied = ok(shop.call("apply_coupon", {"code": "spring20"}))
    assert applied["cart"]["discount"] == 4.8 and applied["cart"]["total"] == 19.2
    ok(shop.call("add_to_cart", {"product_id": "P-103"}))
    assert "insufficient balance" in error(shop.call("checkout", {}))
    shop.call("remove_from_cart", {"product_id": "P-103"})
    order = ok(shop.call("checkout", {}))
    assert order["order"]["id"] == "ORD-5002" and order["order"]["total"] == 19.2 and order["balance"] == 80.8
    state = shop.snapshot()
    assert state["cart"] == [] and state["coupon"] is None and state["products"][1]["stock"] == 8
    assert shop.call("get_order_status", {"order_id": "ORD-5002"})["status"] == "placed"
    assert shop.call("list_orders", {})["orders"][0]["id"] == "ORD-5002"
    assert shop.call("cancel_purchase", {"order_id": "ORD-5002"}) == {"cancelled": "ORD-5002", "refunded": 19.2,
                                                                     "balance": 100}
    assert shop.snapshot()["products"][1]["stock"] == 10
    assert "can no longer be cancelled" in error(shop.call("cancel_purchase", {"order_id": "ORD-5002"}))
    assert "shipped" in error(shop.call("cancel_purchase", {"order_id": "ORD-5001"}))
    assert shop.call("get_wallet_balance", {}) == {"balance": 100, "currency": "USD"}


def test_shop_checkout_rechecks_stock_and_category_coupons():
    shop = kit("shop", {**SHOP, "today": "2025-10-01"})
    ok(shop.call("add_to_cart", {"product_id": "P-102"}))
    assert "only to electronics" in error(shop.call("apply_coupon", {"code": "TECH30"}))
    assert ok(shop.call("apply_coupon", {"code": "SAVE10"}))["cart"]["discount"] == 1.2
    shop.state["products"][1]["stock"] = 0  # sold out elsewhere meanwhile
    assert "in stock now" in error(shop.call("checkout", {}))


def test_bad_configs_are_toolkit_errors():
    for name, config in [("calendar", {"today": "March 14"}), ("notes", {"notes": [{"title": "no id"}]}),
                         ("tickets", {"tickets": [{"id": "TCK-1", "status": "pending"}]}),
                         ("shop", {"products": [{"id": "P-1", "price_cents": 1.5, "stock": 1}]}),
                         ("shop", {"coupon": "NOPE"})]:
        with pytest.raises(ToolkitError):
            kit(name, config)


# ---------------------------------------------------------------------------------- speed
def test_setup_and_calls_are_fast():
    configs = {name: module.seed_config(5) for name, module in STATEFUL.items()}
    start = time.perf_counter()
    for _ in range(200):
        for name, config in configs.items():
            kit(name, config)
    per_setup = (time.perf_counter() - start) / (200 * len(configs))
    assert per_setup < 0.001, f"{per_setup * 1e6:.0f} µs per setup"


def test_unknown_ids_are_named_as_the_caller_wrote_them():
    """The shared lookup reports the id as given (tickets match case- and space-insensitively)."""
    assert kit("tickets").call("view_ticket", {"ticket_id": " tck-9999"}) == {"error": "no ticket with id ' tck-9999'"}
    assert kit("notes").call("read_note", {"note_id": "note-999"}) == {"error": "no note with id 'note-999'"}
    assert kit("calendar").call("get_event", {"event_id": "evt-999"}) == {"error": "no event with id 'evt-999'"}
