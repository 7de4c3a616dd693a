"""Hand-written unified samples covering what BFCL lacks (shared by the render and prepare tests)."""

from __future__ import annotations

WEATHER = {"name": "get_weather", "description": "Current weather of a city.",
           "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "City name"},
                                                           "unit": {"type": "string", "enum": ["c", "f"], "x-note": "hidden"}},
                          "required": ["city"]}}
FLIGHT = {"name": "find_flight", "description": "Find a flight between two cities.",
          "parameters": {"type": "object", "properties": {"origin": {"type": "string", "description": "From"},
                                                          "dest": {"type": "string", "description": "To"},
                                                          "max_stops": {"type": "integer", "description": "Stops"}},
                         "required": ["origin", "dest"]}}
BOOK = {"name": "book", "description": "Book a flight by id.",
        "parameters": {"type": "object", "properties": {"flight_id": {"type": "string", "description": "Id"}},
                       "required": ["flight_id"]}}


def head(n: int, tools: list) -> list:
    return [{"role": "id", "content": f"EDGE_cases_{n}"}, {"role": "candidate_tools", "content": tools}]


CASES = {
    # parallel independent calls + a dependent wave using a link; string and object results; non-ASCII
    "waves_links": head(0, [WEATHER, FLIGHT, BOOK]) + [
        {"role": "system", "content": "Du bist ein hilfreicher Assistent. 你好"},
        {"role": "user", "content": "Wetter in Zürich und München, dann buche den Flug ZRH→MUC."},
        {"role": "assistant", "content": "Ich schaue nach."},
        {"role": "tool_call", "content": [
            {"name": "get_weather", "parameters": {"city": "Zürich"}, "depend_on": []},
            {"name": "get_weather", "parameters": {"city": "München", "unit": "c"}, "depend_on": []},
            {"name": "find_flight", "parameters": {"origin": "ZRH", "dest": "MUC"}, "depend_on": []},
            {"name": "book", "parameters": {"flight_id": "<link>find_flight.0.flights.0.id</link>"},
             "depend_on": ["find_flight.0"]}]},
        {"role": "tool_response", "content": {
            "get_weather.0": "sonnig, 21 °C",
            "get_weather.1": {"temp": 19, "sky": "bewölkt"},
            "find_flight.0": {"flights": [{"id": "LX1234", "price": 99.5}]},
            "book.0": {"status": "ok", "ref": "Q7"}}},
        {"role": "assistant", "content": "Erledigt: Zürich sonnig, München bewölkt; Flug LX1234 gebucht."},
    ],
    # no system, single calls only, multi-turn with text between, empty assistant content
    "multi_turn_single": head(1, [WEATHER]) + [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "tool_call", "content": [{"name": "get_weather", "parameters": {"city": "Paris"}, "depend_on": []}]},
        {"role": "tool_response", "content": {"get_weather.0": {"temp": 18}}},
        {"role": "assistant", "content": "18 degrees in Paris."},
        {"role": "user", "content": "And in Rome, in fahrenheit?"},
        {"role": "tool_call", "content": [{"name": "get_weather", "parameters": {"city": "Rome", "unit": "f"}, "depend_on": []}]},
        {"role": "tool_response", "content": {"get_weather.1": "75F"}},
        {"role": "assistant", "content": ""},
    ],
    # hidden thoughts before a call and before the answer
    "hidden_thoughts": head(2, [WEATHER]) + [
        {"role": "user", "content": "Is it warm in Oslo?"},
        {"role": "assistant", "content": "I need the weather first.", "hidden": True},
        {"role": "tool_call", "content": [{"name": "get_weather", "parameters": {"city": "Oslo"}, "depend_on": []}]},
        {"role": "tool_response", "content": {"get_weather.0": {"temp": 4}}},
        {"role": "assistant", "content": "4 degrees is cold.", "hidden": True},
        {"role": "assistant", "content": "No, it is 4 °C in Oslo."},
    ],
    # tools change mid-dialogue
    "tools_change": head(3, [WEATHER]) + [
        {"role": "user", "content": "Weather in Lima?"},
        {"role": "tool_call", "content": [{"name": "get_weather", "parameters": {"city": "Lima"}, "depend_on": []}]},
        {"role": "tool_response", "content": {"get_weather.0": {"temp": 22}}},
        {"role": "assistant", "content": "22 °C."},
        {"role": "candidate_tools", "content": [WEATHER, FLIGHT]},
        {"role": "user", "content": "Find a flight Lima to Cusco."},
        {"role": "tool_call", "content": [{"name": "find_flight", "parameters": {"origin": "LIM", "dest": "CUZ"}, "depend_on": []}]},
        {"role": "tool_response", "content": {"find_flight.0": {"flights": []}}},
        {"role": "assistant", "content": "No flights found."},
    ],
    # ground truth with candidate lists ("" = may be omitted), system present
    "ground_truth": head(4, [FLIGHT]) + [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Flight from Oslo to Rome, any stops."},
        {"role": "tool_call_ground_truth", "content": [
            {"name": "find_flight", "parameters": {"origin": ["OSL", "Oslo"], "dest": ["FCO", "Rome"], "max_stops": [""]},
             "depend_on": []}]},
    ],
    # no tools at all: plain chat
    "no_tools": [{"role": "id", "content": "EDGE_cases_5"}, {"role": "candidate_tools", "content": []},
                 {"role": "user", "content": "Say hi in Japanese."},
                 {"role": "assistant", "content": "こんにちは！"},
                 {"role": "user", "content": "And in Greek?"},
                 {"role": "assistant", "content": "Γειά σου!"}],
}
