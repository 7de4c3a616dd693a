"""ToolAlpaca adapter on the real slice in ../shared/samples/toolalpaca: OpenAPI tools, golden answers, rejects."""

from __future__ import annotations

import copy
import json

import pytest

from adapter_support import by_role, cli_process, run, write_json
from opentoollab.datasets.sources import get_source


@pytest.fixture(scope="module")
def origin(shared):
    return shared / "samples/toolalpaca"


@pytest.fixture(scope="module")
def result(origin, tmp_path_factory):
    return run("ToolAlpaca", origin, tmp_path_factory.mktemp("toolalpaca"))


def _apis(origin, name):
    return json.loads((origin / "data" / name).read_text("utf-8"))


def _find(result, subset, source_id):
    return next(s for s in result.samples[subset] if s[1]["content"]["source_id"] == source_id)


def test_counts_one_sample_per_instruction(origin, result):
    assert {s: (r["in"], r["out"], r["rejected"]) for s, r in result.manifest["subsets"].items()} == {
        "eval_simulated": (30, 29, 1), "eval_real": (38, 32, 6)}
    for subset in ("eval_simulated", "eval_real"):
        assert result.manifest["subsets"][subset]["in"] == sum(len(a["Instructions"]) for a in _apis(origin, f"{subset}.json"))
    assert get_source("tool-alpaca").evaluation_subsets == ("eval_simulated", "eval_real")


def test_rejects_name_the_action_that_is_not_a_function(result):
    reasons = {r["location"]: r["reason"] for r in result.rejects}
    assert "'getDetails' is not a function of this API (ToolAlpaca's ask-the-user step" in reasons["2.Instructions[0]"]
    # AviationAPI's spec nests /preferred-routes/search, /vatsim/..., /weather/... inside another path: not functions
    assert sorted(k for k in reasons if k.startswith("2.Instructions")) == [f"2.Instructions[{i}]" for i in (0, 10, 5, 6, 7, 8, 9)]
    assert "'weather_metar_get' is not a function" in reasons["2.Instructions[8]"]


def test_user_text_is_the_instruction_and_golden_answer_is_ground_truth(origin, result):
    api = _apis(origin, "eval_simulated.json")[0]
    for index, instruction in enumerate(api["Instructions"]):
        sample = _find(result, "eval_simulated", f"Axolotl#{index}")
        assert [m["role"] for m in sample] == ["id", "meta", "candidate_tools", "user", "tool_call_ground_truth"]
        assert sample[3]["content"] == instruction
        answer = [{"name": a["Action"], "parameters": {k: [v] for k, v in json.loads(a["Action_Input"]).items()}, "depend_on": []}
                  for a in api["Golden_Answers"][index]]
        assert sample[4]["content"] == answer
    parallel = _find(result, "eval_simulated", "Axolotl#6")[4]["content"]
    assert [c["parameters"]["size"] for c in parallel] == [["small"], ["medium"], ["large"]]
    assert parallel[0]["parameters"]["gender"] == [""]


def test_tools_from_the_openapi_spec(result):
    sample = _find(result, "eval_simulated", "Axolotl#1")
    tools = {t["name"]: t for t in sample[2]["content"]}
    assert list(tools) == ["getRandomAxolotlImage", "searchAxolotlImages", "getAxolotlFacts"]
    assert tools["searchAxolotlImages"]["parameters"]["properties"]["size"] == {
        "description": "The size of the axolotl ('small', 'medium', 'large')", "type": "string", "enum": ["small", "medium", "large"]}
    assert tools["getRandomAxolotlImage"]["response"]["url"] == {"description": "The URL of the axolotl image", "type": "string"}
    anime = {t["name"]: t for t in _find(result, "eval_simulated", "AniAPI#0")[2]["content"]}
    sync = anime["synchronizeTracking"]["parameters"]  # path parameter + JSON request body
    assert list(sync["properties"]) == ["animeId", "trackingService", "progress"] and sync["required"] == ["animeId"]
    nager = {t["name"]: t for t in _find(result, "eval_real", "Nager.Date#0")[2]["content"]}
    offset = nager["PublicHolidayIsTodayPublicHoliday"]["parameters"]["properties"]["offset"]
    assert offset["maximum"] == 12 and offset["default"] == 0 and offset["type"] == "integer"


def test_placeholder_chain_depends_on_the_earlier_call(result):
    sample = _find(result, "eval_simulated", "AniAPI#0")
    assert sample[-1]["content"] == [
        {"name": "searchAnime", "parameters": {"query": ["Attack on Titan"]}, "depend_on": []},
        {"name": "getCastAndCrew", "parameters": {"animeId": ["${animeId from searchAnime}"]}, "depend_on": ["searchAnime.0"]}]
    assert "placeholder-values" in sample[1]["content"]["tags"]
    # "${start date of a month}" with a stray quote after it: repaired to a string, no dependency
    report = _find(result, "eval_simulated", "AbuseIPDB#3")[-1]["content"][0]
    assert report["parameters"]["startDate"] == ["${start date of a month}"] and report["depend_on"] == []
    assert result.manifest["counters"]["toolalpaca_placeholder_values"] == 13


def test_training_instances_become_trajectories(origin, tmp_path):
    """train_data.json is not in the slice: an eval API element given Instances in the layout of ToolAlpaca's README."""
    api = copy.deepcopy(_apis(origin, "eval_simulated.json")[0])
    api["Instances"] = [{
        "input": "Show me a random axolotl.",
        "output": "Here is one: https://x.org/a.png",
        "Final Thought": "I have the picture.",
        "intermediate_steps": [[["getRandomAxolotlImage", "{}",
                                 "Thought: I should fetch a random image.\nAction: getRandomAxolotlImage\nAction Input: {}"],
                                "{\"url\": \"https://x.org/a.png\", \"flag\": \"true\"}"]]}]
    got = run("ToolAlpaca", write_json(tmp_path / "raw" / "data" / "train_data.json", [api]).parent.parent, tmp_path / "data")
    sample = got.samples["train"][0]
    assert [m["role"] for m in sample[3:]] == ["user", "assistant", "tool_call", "tool_response", "assistant", "assistant"]
    assert sample[4] == {"role": "assistant", "content": "I should fetch a random image.", "hidden": True}
    assert by_role(sample, "tool_response")[0]["content"] == {"getRandomAxolotlImage.0": {"url": "https://x.org/a.png", "flag": "true"}}
    assert sample[-1] == {"role": "assistant", "content": "Here is one: https://x.org/a.png"}


def test_cli_process(origin, tmp_path):
    assert "in 68 = out 61 + rejected 7" in cli_process("ToolAlpaca", origin, tmp_path)
