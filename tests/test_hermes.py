"""Hermes function-calling v1 adapter on the four real records of the dataset card (../shared/samples)."""

from __future__ import annotations

import copy
import json

import pytest

from adapter_support import by_role, cli_process, run, write_json



@pytest.fixture(scope="module")
def slice_dir(shared):
    return shared / "samples" / "hermes_function_calling_v1"


@pytest.fixture(scope="module")
def records(slice_dir):
    return json.loads((slice_dir / "hermes_records_from_dataset_card.json").read_text("utf-8"))


@pytest.fixture(scope="module")
def result(slice_dir, tmp_path_factory):
    return run("Hermes", slice_dir, tmp_path_factory.mktemp("hermes"))


def test_every_card_record_converts(result):
    assert result.manifest["totals"] == {"in": 4, "out": 4, "rejected": 0, "samples": 4}
    # The card's file is not named like a hub config: subsets come from each record's content.
    assert {k: len(v) for k, v in result.samples.items()} == {"function_calling": 2, "json_mode": 2}


def test_tool_use_record_python_repr_tools_call_and_structured_response(result, records):
    sample = result.samples["function_calling"][0]
    assert [m["role"] for m in sample] == ["id", "meta", "candidate_tools", "system", "user", "tool_call",
                                           "tool_response", "assistant"]
    meta = sample[1]["content"]
    assert meta["source_id"] == "753d8365-0e54-43b1-9514-3f9b819fd31c"
    assert meta["tags"] == ["category:E-commerce Platforms", "subcategory:Kayak", "task:Flight Search"]
    (tool,) = sample[2]["content"]  # parsed from a Python repr inside <tools> in the system prompt
    assert tool["name"] == "search_flights"
    assert tool["parameters"]["properties"]["class"]["enum"] == ["economy", "business", "first"]
    assert tool["parameters"]["properties"]["departure_date"]["format"] == "date"
    assert tool["parameters"]["required"] == ["departure_city", "destination_city", "departure_date", "return_date", "class"]
    system = by_role(sample, "system")[0]["content"]
    assert "<tools>\n[" not in system and "search_flights" not in system
    assert system.startswith("You are a function calling AI model.") and "<tool_call>" in system
    (call,) = by_role(sample, "tool_call")[0]["content"]
    assert call == {"name": "search_flights", "depend_on": [], "parameters": {
        "departure_city": "Los Angeles", "destination_city": "Auckland", "departure_date": "2023-07-10",
        "return_date": "2023-07-24", "class": "economy", "flexible_cancellation": True}}  # Python True → JSON true
    response = by_role(sample, "tool_response")[0]["content"]
    assert list(response) == ["search_flights.0"]
    flights = response["search_flights.0"]
    assert [f["flight_number"] for f in flights["flights"]] == ["AA118", "UA796", "NZ6"]
    assert flights["return_flights"][2]["price"] == "$1020"
    assert sample[-1]["content"] == records[0]["conversations"][4]["value"]


def test_extraction_record_literal_backslash_n_and_name_inside_arguments(result):
    sample = result.samples["function_calling"][1]
    (tool,) = sample[2]["content"]  # real JSON in this record's <tools> block
    assert tool["name"] == "ExpertQAExtractor"
    assert tool["parameters"]["properties"]["application_questions"] == {"type": "array", "items": {"type": "string"}}
    # The record ends on its call (no tool turn): the call is the expected answer.
    assert sample[-1]["role"] == "tool_call_ground_truth"
    (call,) = sample[-1]["content"]
    assert call["name"] == "ExpertQAExtractor"
    (questions,) = call["parameters"]["queries"]  # single-quoted strings inside a double-quoted dict
    assert len(questions) == 3 and questions[2].startswith("In what ways can the concept of marking nodes")
    tags = sample[1]["content"]["tags"]
    assert {"repaired:literal-backslash-n", "repaired:name-inside-arguments", "undeclared-arguments"} <= set(tags)
    counters = result.manifest["counters"]
    assert counters["hermes_literal_backslash_n_repaired"] == 1 and counters["hermes_name_inside_arguments_repaired"] == 1


def test_json_mode_records_keep_the_schema_prompt_and_answer(result, records):
    for sample, record in zip(result.samples["json_mode"], records[2:]):
        assert [m["role"] for m in sample] == ["id", "meta", "candidate_tools", "system", "user", "assistant"]
        assert sample[2]["content"] == []
        assert sample[3]["content"] == record["conversations"][0]["value"]
        assert "json-mode" in sample[1]["content"]["tags"]
    answer = json.loads(result.samples["json_mode"][0][-1]["content"])
    assert answer["movieId"] == "INTSTL_2014" and len(answer["cast"]) == 4


def test_hub_layout_names_subsets_by_config(records, tmp_path):
    hub = tmp_path / "hub"
    write_json(hub / "func-calling-singleturn.json", [records[1]])
    write_json(hub / "func-calling.json", [records[0]])
    write_json(hub / "json-mode-singleturn.json", [records[2]])
    write_json(hub / "json-mode-agentic.json", [records[3]])
    write_json(hub / "unrelated.json", [records[0]])  # ignored: the hub files are there
    result = run("hermes-fc-v1", hub, tmp_path / "data")
    assert {k: len(v) for k, v in result.samples.items()} == {
        "func_calling_singleturn": 1, "func_calling": 1, "json_mode_agentic": 1, "json_mode_singleturn": 1}
    assert result.samples["func_calling"][0][0]["content"] == "Hermes_func_calling_0"
    only = run("Hermes", hub, tmp_path / "only", subsets=["func_calling"])
    assert list(only.samples) == ["func_calling"] and only.manifest["totals"]["in"] == 1


def _stock_record(records):
    """The card's own inference example (get_stock_fundamentals, TSLA), laid out as a row; the second call and its
    response (AAPL) are added here to exercise parallel calls answered in one tool turn."""
    row = copy.deepcopy(records[0])
    tools = ("[{'type': 'function', 'function': {'name': 'get_stock_fundamentals', 'description': 'Get fundamental data "
             "for a given stock symbol using yfinance API.', 'parameters': {'type': 'object', 'properties': {'symbol': "
             "{'type': 'string'}}, 'required': ['symbol']}}}]")
    system = row["conversations"][0]["value"]
    start, end = system.index("<tools>\n") + len("<tools>\n"), system.index("\n</tools>")
    row["conversations"][0]["value"] = system[:start] + tools + system[end:]
    tsla = ("<tool_response>\n{\"name\": \"get_stock_fundamentals\", \"content\": {'symbol': 'TSLA', 'company_name': "
            "'Tesla, Inc.', 'market_cap': 611384164352, 'dividend_yield': None, 'eps': 4.3}}\n</tool_response>\n")
    row["conversations"][1:] = [
        {"from": "human", "value": "Fetch the stock fundamentals data for Tesla (TSLA) and Apple (AAPL)"},
        {"from": "gpt", "value": "<tool_call>\n{'arguments': {'symbol': 'TSLA'}, 'name': 'get_stock_fundamentals'}\n"
                                 "</tool_call>\n<tool_call>\n{'arguments': {'symbol': 'AAPL'}, 'name': "
                                 "'get_stock_fundamentals'}\n</tool_call>\n"},
        {"from": "tool", "value": tsla + tsla.replace("TSLA", "AAPL").replace("Tesla, Inc.", "Apple Inc.")},
        {"from": "gpt", "value": "Tesla pays no dividend."},
    ]
    return row


def test_parallel_calls_and_python_repr_results(records, tmp_path):
    result = run("Hermes", write_json(tmp_path / "func-calling.json", [_stock_record(records)]), tmp_path / "data")
    sample = result.samples["func_calling"][0]
    calls = by_role(sample, "tool_call")[0]["content"]
    assert [c["parameters"]["symbol"] for c in calls] == ["TSLA", "AAPL"]
    response = by_role(sample, "tool_response")[0]["content"]
    assert response["get_stock_fundamentals.0"]["company_name"] == "Tesla, Inc."
    assert response["get_stock_fundamentals.1"]["company_name"] == "Apple Inc."
    assert response["get_stock_fundamentals.0"]["dividend_yield"] is None  # Python None → JSON null


def test_bad_records_are_rejected_with_reasons(records, tmp_path):
    def variant(gpt=None, tool=None):
        row = copy.deepcopy(records[0])
        if gpt is not None:
            row["conversations"][2]["value"] = gpt
        if tool is not None:
            row["conversations"][3]["value"] = tool
        return row

    call = records[0]["conversations"][2]["value"]
    rows = [
        variant(gpt=call[: len(call) // 2]),  # truncated call: no closing tag
        variant(gpt=call.replace("'name': 'search_flights'", "'name': 'book_hotel'")),
        variant(gpt="<tool_call>\n{'arguments': {'departure_city': 'Los Ang\n</tool_call>\n"),
        variant(gpt="I will not call anything."),  # the tool turn then answers no call
        variant(gpt=call + "Let me know."),
    ]
    result = run("Hermes", write_json(tmp_path / "func-calling.json", rows), tmp_path / "data")
    assert result.manifest["totals"]["rejected"] == 5
    reasons = result.reasons()
    assert "without its pair" in reasons[0]
    assert "'book_hotel', which is not among the declared tools" in reasons[1]
    assert "neither JSON nor a Python literal" in reasons[2]
    assert "a tool response from 'search_flights', which was not called" in reasons[3]
    assert "text after a <tool_call> block" in reasons[4]


def test_cli_process_from_the_slice(slice_dir, tmp_path):
    assert "Hermes: in 4 = out 4 + rejected 0" in cli_process("Hermes", slice_dir, tmp_path)
