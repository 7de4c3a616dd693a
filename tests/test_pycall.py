"""opentoollab.format.pycall on the call and repr quirks of the real ToolACE and API-Bank slices (../shared/samples)."""

from __future__ import annotations

import json
import re

import pytest

from opentoollab.format.pycall import (
    CallSyntaxError,
    bracket_end,
    looks_like_calls,
    parse_api_request,
    parse_calls,
    parse_loose_call,
    parse_python_value,
    parse_result,
)


@pytest.fixture(scope="module")
def toolace(shared):
    return json.loads((shared / "samples/toolace/toolace_record_quoted_in_doc.json").read_text("utf-8"))[0]


@pytest.fixture(scope="module")
def api_bank(shared):
    def load(rel):
        return json.loads((shared / "samples/api_bank" / rel).read_text("utf-8"))
    return load


def _lines(records, prefix="API-Request:"):
    return [line for r in records for line in r["input"].split("\n") if line.startswith(prefix)]


def test_toolace_names_with_spaces_are_restored(toolace):
    names = [f["name"] for f in json.loads(re.search(r"invoke:\n(\[.*\])\. \n", toolace["system"], re.S).group(1))]
    turn = next(t["value"] for t in toolace["conversations"] if t["value"].startswith("[Get Manager"))
    assert parse_calls(turn, names) == [{"name": "Get Manager Placeholder Image", "arguments": {"sport": "football"}}]
    # without the declared names the name is still found (it runs up to the opening parenthesis)
    assert parse_calls(turn)[0]["name"] == "Get Manager Placeholder Image"
    assert parse_calls("[GetCompetitions()]", names) == [{"name": "GetCompetitions", "arguments": {}}]


def test_parallel_calls_with_spaces_and_call_like_text_inside_strings():
    text = '[Search Competition API(name="Copa (A), Liga(B)=x"), Get Category Image(slug="intl"), GetCompetitions()]'
    calls = parse_calls(text, ["Search Competition API", "Get Category Image", "GetCompetitions"])
    assert [c["name"] for c in calls] == ["Search Competition API", "Get Category Image", "GetCompetitions"]
    assert calls[0]["arguments"] == {"name": "Copa (A), Liga(B)=x"}


def test_several_calls_with_spaced_names_and_keyword_argument_names():
    # issue 15, item 5: spaced names AND several calls AND `from=` (a Python keyword) as an argument name
    text = '[Get Weather Forecast(city="Berlin", days=3), Currency Converter(amount=100.5, from="EUR", to="JPY")]'
    expected = [{"name": "Get Weather Forecast", "arguments": {"city": "Berlin", "days": 3}},
                {"name": "Currency Converter", "arguments": {"amount": 100.5, "from": "EUR", "to": "JPY"}}]
    assert parse_calls(text, ["Get Weather Forecast", "Currency Converter"]) == expected
    assert parse_calls(text) == expected  # names found without the declarations too
    # keyword-like text inside strings and dict keys is left alone; every keyword position is restored
    calls = parse_calls('[f(a="from=1, class=2", b={"class": 1}, lambda=[1, 2]), g(import=true, x=None)]')
    assert calls == [{"name": "f", "arguments": {"a": "from=1, class=2", "b": {"class": 1}, "lambda": [1, 2]}},
                     {"name": "g", "arguments": {"import": True, "x": None}}]


def test_a_declared_name_with_parentheses_needs_the_declaration():
    name = "Stock Quote (Deprecated)"
    assert parse_calls(f'[{name}(symbol="AAPL")]', [name]) == [{"name": name, "arguments": {"symbol": "AAPL"}}]


def test_nested_values_json_spellings_and_non_ascii():
    calls = parse_calls("[f(a=[1, (2, 3)], b={'k': true, 'n': null}, c=-1.5, d='北京 café', e={'x'})]")
    assert calls[0]["arguments"] == {"a": [1, [2, 3]], "b": {"k": True, "n": None}, "c": -1.5, "d": "北京 café", "e": ["x"]}


@pytest.mark.parametrize("text", [
    "[f(1)]",                                   # positional: the parameter name is unknown
    "[f(x=y)]",                                 # a name is not a literal
    "[f(x=__import__('os').system('true'))]",   # never evaluated
    "[f(x=1]",                                  # unbalanced
    "[f(**{'a': 1})]",
    "[f(a=1, a=2)]",
    "[1, 2]",
])
def test_refused_call_text(text):
    with pytest.raises(CallSyntaxError):
        parse_calls(text)


def test_every_api_request_of_the_real_test_data_parses(api_bank):
    lines = _lines(api_bank("test-data/level-1-response.json")) + _lines(api_bank("test-data/level-3-batch-inf-response.json"))
    assert len(lines) > 100
    strict = loose = 0
    for line in lines:
        try:
            calls, result = parse_api_request(line)
            strict += 1
        except CallSyntaxError:
            calls, result = parse_api_request(line, loose=True)
            loose += 1
        assert len(calls) == 1 and result is not None
        assert calls[0]["name"] == line[len("API-Request: ["):].split("(", 1)[0]
    assert strict > 0 and loose > 0


def test_api_request_history_line_with_a_python_repr_result(api_bank):
    record = api_bank("test-data/level-1-response.json")[1]
    line = next(line for line in record["input"].split("\n") if line.startswith("API-Request: [QueryHealthData"))
    calls, result = parse_api_request(line)
    assert calls == [{"name": "QueryHealthData", "arguments": {
        "user_id": "J46801", "start_time": "2023-03-05 00:00:00", "end_time": "2023-03-12 00:00:00"}}]
    assert parse_result(result) == [{"time": "2023-03-11 14:20:00", "blood_pressure": [140, 90],
                                     "triglycerides": 130, "heart_rate": 85}]


def test_api_bank_wrapper_repr_with_none_and_plain_text_result(api_bank):
    record = api_bank("test-data/level-3-batch-inf.json")[1]
    line = _lines([record])[0]
    _calls, result = parse_api_request(line)
    assert parse_result(result)["exception"] is None
    assert parse_result("success") == "success"  # not a literal: kept as text


def test_quoted_list_repr_inside_quotes_reads_as_the_list(api_bank):
    target = next(r["expected_output"] for r in api_bank("test-data/level-1-api.json") if "attendees='[" in r["expected_output"])
    with pytest.raises(CallSyntaxError):
        parse_api_request(target)
    calls, result = parse_api_request(target, loose=True)
    assert result is None
    assert calls[0]["name"] == "QueryMeeting"
    assert calls[0]["arguments"]["attendees"] == ["John Smith", "Jane Doe"]
    assert calls[0]["arguments"]["token"] == "a9s8d7f6g5h4j3k2l1"


def test_unquoted_values_read_as_text(api_bank):
    target = next(r["output"] for r in api_bank("training-data/lv3-train.json") if "location=New York)" in r["output"])
    assert parse_loose_call(target.split(": ", 1)[1]) == {"name": "FitnessClassAPI", "arguments": {"location": "New York"}}
    assert parse_loose_call("[Calc(price=2000.0, n=2, flag=True)]")["arguments"] == {"price": 2000.0, "n": 2, "flag": True}


def test_unescaped_apostrophes_and_bare_type_names_in_reprs(api_bank):
    records = api_bank("training-data/lv3-response-train.json")
    line = next(line for line in _lines(records) if "'The user's preferences" in line)
    result = parse_result(parse_api_request(line)[1])
    assert isinstance(result, dict) and result["name"] == "EquipmentRecommendation"
    assert result["input_parameters"]["preferences"]["description"] == "The user's preferences for the fitness equipment."
    line = next(line for line in _lines(records) if "'type': str," in line)
    text = parse_api_request(line)[1]
    assert parse_result(text) == text.strip()  # strictly not a literal
    assert parse_result(text, bare_names=True)["input_parameters"]["location"]["type"] == "str"


def test_python_value_prefers_json_and_refuses_code():
    assert parse_python_value('{"a": [1, 2]}') == {"a": [1, 2]}
    assert parse_python_value("{'a': (1, 2), 'b': None, 'c': True}") == {"a": [1, 2], "b": None, "c": True}
    for text in ("__import__('os')", "[1, 2", "foo", "lambda: 1"):
        with pytest.raises(CallSyntaxError):
            parse_python_value(text)


def test_bracket_helpers():
    assert bracket_end("[f(a=']')]->x") == len("[f(a=']')]")
    assert bracket_end("[f(a=1)") == -1
    assert looks_like_calls("[GetCompetitions()]")
    assert not looks_like_calls("[1] Here are the results.")
    assert not looks_like_calls("Sure, here you go.")
