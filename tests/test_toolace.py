"""ToolACE adapter on the real record quoted in ../shared/samples/toolace (and variants cut from it)."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import pytest

from adapter_support import by_role, run, write_json
from opentoollab.datasets.sources import get_source

REPO = __import__("pathlib").Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def origin(shared):
    return shared / "samples/toolace"


@pytest.fixture(scope="module")
def record(origin):
    return json.loads((origin / "toolace_record_quoted_in_doc.json").read_text("utf-8"))[0]


@pytest.fixture(scope="module")
def sample(origin, tmp_path_factory):
    result = run("ToolACE", origin, tmp_path_factory.mktemp("toolace"))
    assert result.manifest["totals"] == {"in": 1, "out": 1, "rejected": 0, "samples": 1}
    return result.samples["train"][0]


def test_roles_in_order(sample, record):
    roles = [m["role"] for m in sample]
    assert roles == ["id", "meta", "candidate_tools", "system", "user", "tool_call", "tool_response", "assistant", "user",
                     "assistant", "user", "tool_call", "tool_response", "assistant"]
    texts = [m["content"] for m in sample if m["role"] in ("user", "assistant")]
    assert texts == [t["value"] for t in record["conversations"] if not t["value"].startswith("[") and t["from"] != "tool"]


def test_tools_from_the_system_prompt_become_json_schema(sample):
    tools = sample[2]["content"]
    assert [t["name"] for t in tools] == ["GetCompetitions", "Get Manager Placeholder Image", "Search Competition API",
                                          "Get Category Image"]
    assert tools[1]["parameters"] == {"type": "object", "x-original-type": "dict", "properties": {
        "sport": {"description": "The name of the sport for which the manager placeholder image is required.", "type": "string"}},
        "required": ["sport"]}
    assert tools[3]["parameters"]["properties"]["slug"]["default"] == "france"
    assert all(set(t) == {"name", "description", "parameters"} for t in tools)  # the stray top-level required: null is gone


def test_system_keeps_the_prompt_text_not_the_list_or_the_format(sample):
    system = sample[3]["content"]
    assert system.startswith("You are an expert in composing functions.")
    assert "GetCompetitions" not in system and "NO other text" not in system and "Here is a list" not in system


def test_calls_with_spaces_results_and_no_false_link(sample):
    calls = by_role(sample, "tool_call")
    assert calls[1]["content"] == [{"name": "Get Manager Placeholder Image", "parameters": {"sport": "football"}, "depend_on": []}]
    response = by_role(sample, "tool_response")[1]["content"]
    assert list(response) == ["Get Manager Placeholder Image.0"]
    assert response["Get Manager Placeholder Image.0"]["sport_name"] == "football"  # equal, but the user said it first
    assert by_role(sample, "tool_response")[0]["content"]["GetCompetitions.0"]["competitions"][2]["name"] == "Liga 1 Peru"


def _variant(tmp_path, record, conversations):
    changed = copy.deepcopy(record)
    changed["conversations"] = conversations
    return write_json(tmp_path / "raw" / "data.json", [changed])


def test_trailing_call_becomes_ground_truth_and_parallel_results_match_by_name(record, tmp_path):
    turns = record["conversations"]
    parallel = [turns[0], {"from": "assistant", "value": '[GetCompetitions(), Search Competition API(name="Liga 1")]'},
                {"from": "tool", "value": json.dumps([{"name": "Search Competition API", "results": {"id": 3}},
                                                      {"name": "GetCompetitions", "results": {"n": 3}}])},
                turns[3], turns[6], turns[7]]
    result = run("ToolACE", _variant(tmp_path, record, parallel).parent, tmp_path / "data")
    sample = result.samples["train"][0]
    assert by_role(sample, "tool_response")[0]["content"] == {"GetCompetitions.0": {"n": 3}, "Search Competition API.0": {"id": 3}}
    assert sample[-1] == {"role": "tool_call_ground_truth", "content": [
        {"name": "Get Manager Placeholder Image", "parameters": {"sport": ["football"]}, "depend_on": []}]}


def test_several_calls_with_spaced_names_parse(record, tmp_path):
    """Issue 15, item 5: a call list whose names hold spaces and which holds several calls (one argument is `from`)."""
    changed = copy.deepcopy(record)
    tools = [{"name": "Get Weather Forecast", "description": "Forecast for a city.", "parameters": {
                 "type": "dict", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}}, "required": ["city"]}},
             {"name": "Currency Converter", "description": "Convert money.", "parameters": {
                 "type": "dict", "properties": {"amount": {"type": "number"}, "from": {"type": "string"}, "to": {"type": "string"}},
                 "required": ["amount", "from", "to"]}}]
    start = changed["system"].index("invoke:\n") + len("invoke:\n")
    end = changed["system"].index(". \nShould you")
    changed["system"] = changed["system"][:start] + json.dumps(tools) + changed["system"][end:]
    changed["conversations"] = [
        {"from": "user", "value": "Weather in Berlin for 3 days, and 100.5 EUR in JPY?"},
        {"from": "assistant", "value": '[Get Weather Forecast(city="Berlin", days=3), '
                                       'Currency Converter(amount=100.5, from="EUR", to="JPY")]'}]
    result = run("ToolACE", write_json(tmp_path / "raw" / "data.json", [changed]).parent, tmp_path / "data")
    assert result.manifest["totals"] == {"in": 1, "out": 1, "rejected": 0, "samples": 1}
    assert result.samples["train"][0][-1] == {"role": "tool_call_ground_truth", "content": [
        {"name": "Get Weather Forecast", "parameters": {"city": ["Berlin"], "days": [3]}, "depend_on": []},
        {"name": "Currency Converter", "parameters": {"amount": [100.5], "from": ["EUR"], "to": ["JPY"]}, "depend_on": []}]}


@pytest.mark.parametrize("value, reason", [
    ('[Get Manager Placeholder Image(sport="football"]', "unparsable"),
    ('[Get Player Photo(id="7")]', "not among the declared tools"),
])
def test_bad_calls_are_rejected(record, tmp_path, value, reason):
    turns = copy.deepcopy(record["conversations"])
    turns[7]["value"] = value
    result = run("ToolACE", _variant(tmp_path, record, turns), tmp_path / "data")
    assert result.manifest["totals"]["rejected"] == 1
    assert reason in result.rejects[0]["reason"] and result.rejects[0]["location"] == 0


def test_cli_and_registry(origin, tmp_path):
    assert get_source("tool-ace").name == "ToolACE"
    done = subprocess.run([sys.executable, "datasets", "process", "toolace", "--from", str(origin), "--data-dir", str(tmp_path), "-q"],
                          cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "in 1 = out 1 + rejected 0" in done.stdout
