"""MTU-Bench adapter on the real slice in ../shared/samples/mtu_bench: all five settings, last lines, quirks."""

from __future__ import annotations

import json

import pytest

from adapter_support import by_role, cli_process, run
from opentoollab.datasets.sources import get_source
from opentoollab.format.sample import first_candidates

SETTINGS = ("S-S", "S-M", "M-S", "M-M", "OOD")


@pytest.fixture(scope="module")
def origin(shared):
    return shared / "samples/mtu_bench"


@pytest.fixture(scope="module")
def raw(origin):
    return {s: [json.loads(line) for line in (origin / f"MTU-Eval/benchmark/{s}_eval.jsonl").read_text("utf-8").splitlines()]
            for s in SETTINGS}


@pytest.fixture(scope="module")
def result(origin, tmp_path_factory):
    return run("mtu_bench", origin, tmp_path_factory.mktemp("mtu"))


def _by_line(result, subset):
    """sample per 1-based line of the subset's file (rejected lines absent)."""
    rejected = {r["location"] for r in result.rejects if r["subset"] == subset}
    lines = sorted(set(range(1, 1 + result.manifest["subsets"][subset]["in"])) - rejected)
    return dict(zip(lines, result.samples[subset]))


def test_counts_and_reject_reasons(raw, result):
    assert {s: row["in"] for s, row in result.manifest["subsets"].items()} == {s: len(raw[s]) for s in SETTINGS}
    assert {s: row["out"] for s, row in result.manifest["subsets"].items()} == {"S-S": 23, "S-M": 3, "M-S": 22, "M-M": 10, "OOD": 20}
    assert sorted((r["subset"], r["location"], r["reason"]) for r in result.rejects) == [
        ("S-S", 18, "the prompt's tool list is the unfilled template placeholder ['api_descriptions']: no tools are given"),
        ("S-S", 24, "answer: call to 'ReserveRoundtripFlights', which is not among the declared tools")]
    source = get_source("MTU-Bench")
    assert set(source.evaluation_subsets) == set(SETTINGS) and not source.infer_links
    assert all(s[1]["content"]["license"] == "Apache-2.0" for s in result.all())


def test_last_dialogue_of_every_file_is_present(raw, result):
    for subset in SETTINGS:
        last = result.samples[subset][-1]
        assert last[1]["content"]["source_id"] == raw[subset][-1]["id"], subset
    mm = result.samples["M-M"]
    assert [s[1]["content"]["source_id"] for s in mm] == [r["id"] for r in raw["M-M"]]  # M-M_2_0..2 included


def test_answers_are_byte_faithful_ground_truth(raw, result):
    for subset in SETTINGS:
        for line, sample in _by_line(result, subset).items():
            answer = raw[subset][line - 1]["answer"]
            expected = [(name.strip(), json.loads(args) if isinstance(args, str) else args)
                        for name, args in answer.items() if name.strip()]
            truth = sample[-1]
            assert truth["role"] == "tool_call_ground_truth"
            got = [(c["name"], first_candidates(c["parameters"])) for c in truth["content"]]
            assert json.dumps(got) == json.dumps(expected), (subset, line)


def test_no_call_markers_become_empty_ground_truth(raw, result):
    counters = result.manifest["counters"]
    markers = [(s, i) for s in SETTINGS for i, r in enumerate(raw[s]) if not any(k.strip() for k in r["answer"])]
    assert counters["mtubench_no_call_empty_object"] == sum(1 for s in SETTINGS for r in raw[s] if r["answer"] == {})
    assert counters["mtubench_no_call_empty_name"] == sum(1 for s in SETTINGS for r in raw[s] if r["answer"] == {"": {}}) == 10
    empty = [s for s in result.all() if s[-1]["content"] == []]
    assert len(empty) == len(markers) == 16 and all("no-call" in s[1]["content"]["tags"] for s in empty)


def test_multi_multi_stray_space_chained_value_and_unanswered_history(result):
    sample = _by_line(result, "M-M")[7]  # M-M_1_3
    assert sample[1]["content"]["source_id"] == "M-M_1_3"
    calls = by_role(sample, "tool_call")
    assert [c["content"][0]["name"] for c in calls] == ["get_current_temperature", "adjust_room_temperature"]
    assert calls[1]["content"][0]["depend_on"] == ["get_current_temperature.0"]
    assert by_role(sample, "tool_response") == []  # M-M history has no results: none are invented
    assert sample[-1]["content"] == [
        {"name": "get_current_temperature", "parameters": {"location": ["living room"]}, "depend_on": []},
        {"name": "adjust_room_temperature", "depend_on": ["get_current_temperature.1"],
         "parameters": {"temperature": ["get_current_temperature.temperature"], "location": ["bedroom"]}}]
    assert result.manifest["counters"]["mtubench_api_name_spaces_stripped"] == 2


def test_multi_single_history_keeps_real_observations_and_thoughts(result):
    sample = _by_line(result, "M-S")[7]  # M-S_2_3
    roles = [m["role"] for m in sample]
    assert roles.count("tool_call") == roles.count("tool_response") == 3
    responses = by_role(sample, "tool_response")
    assert responses[1]["content"] == {"searchAttraction.1": {"phone": "01223420060"}}
    thoughts = [m for m in sample if m.get("hidden")]
    assert len(thoughts) == 3 and thoughts[0]["content"].startswith("The user wants information about Milton Country Park")
    assert sample[3] == {"role": "system", "content": "Today is Monday, January 4, 2024."}
    assert by_role(sample, "user")[-1]["content"] == "Ok, I would like it booked for 2 people for 3 nights starting on Wednesday please."
    assert result.manifest["counters"]["mtubench_observations_without_action_dropped"] == 9


def test_tool_list_spellings(result):
    ss = _by_line(result, "S-S")[1]
    find = ss[2]["content"][1]
    assert find["name"] == "FindRestaurants" and find["parameters"]["required"] == ["cuisine", "city"]
    assert find["parameters"]["properties"]["price_range"] == {"default": "dontcare"}
    assert "restaurant_name" in find["response"]
    mm = _by_line(result, "M-M")[1]
    play = next(t for t in mm[2]["content"] if t["name"] == "play_music")
    assert play["parameters"]["properties"]["volume"] == {"type": "number", "x-original-type": "float",
                                                          "description": "The volume at which the music should be played."}
    ood = _by_line(result, "OOD")[5]
    assert all(t.get("x-shared-parameter-pool") for t in ood[2]["content"])
    assert "name_store" in ood[2]["content"][0]["parameters"]["properties"]
    assert ood[-1]["content"][0]["parameters"]["name_store"] == ["bertuccis"]
    ends_with_assistant = _by_line(result, "OOD")[7]
    assert ends_with_assistant[-2] == {"role": "assistant", "content": "Sure thing what city?"}


def test_two_apis_under_one_name_keep_the_one_the_answer_fits(result):
    sm = _by_line(result, "S-M")[2]
    weather = next(t for t in sm[2]["content"] if t["name"] == "GetWeather")
    assert len(weather["x-other-definitions"]) == 1 and "duplicate-tool-name" in sm[1]["content"]["tags"]
    assert result.manifest["counters"]["mtubench_same_name_tools_merged"] == 3


def test_cli_process_as_a_user_runs_it(origin, tmp_path):
    out = cli_process("MTU-Bench", origin, tmp_path)
    assert "MTU-Bench: in 80 = out 78 + rejected 2" in out
