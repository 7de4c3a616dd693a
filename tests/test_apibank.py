"""API-Bank adapter on the real slice in ../shared/samples/api_bank: every layout, counts, chains, quirks."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from adapter_support import by_role, run
from opentoollab.datasets.fetch import read_provenance
from opentoollab.format.sample import resolve_links
from opentoollab.datasets.sources import get_source

REPO = __import__("pathlib").Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def origin(shared):
    return shared / "samples/api_bank"


@pytest.fixture(scope="module")
def result(origin, tmp_path_factory):
    return run("apibank", origin, tmp_path_factory.mktemp("api_bank"))


def _raw(origin, rel):
    return json.loads((origin / rel).read_text("utf-8"))


def _find(result, subset, source_id):
    return next(s for s in result.samples[subset] if s[1]["content"]["source_id"] == source_id)


def _calls(sample):
    return [c for m in by_role(sample, "tool_call") for c in m["content"]]


def test_every_record_of_every_layout_converts(origin, result):
    expected = {p.stem: len(_raw(origin, p.relative_to(origin))) for p in origin.rglob("*.json")}
    for folder in ("level-1-given-desc", "level-2-toolsearcher"):
        expected[folder] = len(list((origin / "lv1-lv2-samples" / folder).glob("*.jsonl")))
    got = {subset: row["in"] for subset, row in result.manifest["subsets"].items()}
    assert got == expected
    assert result.manifest["totals"]["rejected"] == 0 and result.rejects == []
    assert sum(expected.values()) == result.manifest["totals"]["out"] == 328
    assert all(s[1]["content"]["license"] == "Apache-2.0" for s in result.all())


def test_level_3_chain_links_and_toolsearcher_dependencies(origin, result):
    raw = _raw(origin, "test-data/level-3.json")[0]
    sample = _find(result, "level-3", 0)
    calls = _calls(sample)
    assert [c["name"] for c in calls] == [a["api_name"] for a in raw["apis"]]
    assert calls[1] == {"name": "QueryMeeting", "parameters": {"user_name": "John"}, "depend_on": ["ToolSearcher.0"]}
    assert calls[3]["parameters"] == {
        "content": "Meeting with the client will be held at Room 1. Please be there on time.",
        "time": "<link>QueryMeeting.0.meetings.0.meeting_time</link>",
        "location": "<link>QueryMeeting.0.meetings.0.meeting_location</link>",
        "recipient": "john@example.com"}
    assert calls[3]["depend_on"] == ["ToolSearcher.1", "QueryMeeting.0"]
    assert calls[4]["parameters"]["time"] == "<link>QueryMeeting.0.meetings.1.meeting_time</link>"
    results = {k: v for m in by_role(sample, "tool_response") for k, v in m["content"].items()}
    for call, api in zip(calls, raw["apis"]):
        assert resolve_links(call["parameters"], results) == api["input"]
    assert results["QueryMeeting.0"] == raw["apis"][1]["output"]["output"]  # the echo wrapper is unwrapped
    # found tools join the candidates right after the search that found them
    tools = by_role(sample, "candidate_tools")
    assert [[t["name"] for t in m["content"]] for m in tools] == [
        ["ToolSearcher"], ["ToolSearcher", "QueryMeeting"], ["ToolSearcher", "QueryMeeting", "EmailReminder"]]
    assert sample[3] == {"role": "user", "content": raw["requirement"].strip()} and sample[-1]["content"] == raw["response"]


def test_dialogue_with_toolsearcher_list_result_and_token_link(result):
    sample = _find(result, "level-2-toolsearcher", "AddAgenda-level-3-1")
    roles = [m["role"] for m in sample]
    assert roles[:6] == ["id", "meta", "candidate_tools", "user", "assistant", "tool_call"]
    assert [t["name"] for t in sample[2]["content"]] == ["ToolSearcher"]
    assert [t["name"] for t in by_role(sample, "candidate_tools")[1]["content"]] == ["ToolSearcher", "GetUserToken", "AddAgenda"]
    add = _calls(sample)[2]
    assert add == {"name": "AddAgenda", "depend_on": ["ToolSearcher.0", "GetUserToken.0"], "parameters": {
        "token": "<link>GetUserToken.0.token</link>", "content": "Meeting with Client A",
        "time": "2023-07-15 14:00:00", "location": "Client"}}
    tool = by_role(sample, "candidate_tools")[1]["content"][2]
    assert tool["parameters"]["properties"]["time"] == {
        "description": "The time for agenda. Format: %Y-%m-%d %H:%M:%S", "type": "string", "x-original-type": "str"}
    assert tool["response"] == {"status": {"description": "success or failed", "type": "string", "x-original-type": "str"}}


def test_dialogue_tools_come_from_the_test_data_catalog_or_are_derived(result):
    calc = _find(result, "level-1-given-desc", "Calculator-level-1-1")
    assert by_role(calc, "tool_response")[0]["content"] == {"Calculator.0": 33.0}
    assert calc[2]["content"][0]["description"].startswith("This API provides basic arithmetic operations")
    music = _find(result, "level-1-given-desc", "PlayMusic-level-1-1")
    assert music[2]["content"] == [{"name": "PlayMusic", "description": "",
                                    "parameters": {"type": "object", "properties": {"music_name": {"type": "string"}}},
                                    "x-derived-from-calls": True}]
    assert result.manifest["counters"]["apibank_tools_derived"] == 2  # PlayMusic, ModifyReminder


def test_test_data_api_point_becomes_ground_truth_after_its_history(origin, result):
    raw = _raw(origin, "test-data/level-2-api.json")[1]
    sample = _find(result, "level-2-api", "QueryHistoryToday-level-3-3.jsonl#1")
    assert [m["role"] for m in sample] == ["id", "meta", "candidate_tools", "system", "user", "assistant", "tool_call",
                                          "tool_response", "candidate_tools", "tool_call_ground_truth"]
    assert sample[3]["content"] == "The current year is 2023."
    assert sample[-1]["content"] == [{"name": "QueryHistoryToday", "parameters": {"date": ["10-06"]}, "depend_on": ["ToolSearcher.0"]}]
    assert "'date': {'type': 'str'" in raw["input"]  # the found definition arrives as a Python repr


def test_response_point_and_undeclared_token_api_from_the_catalog(result):
    sample = _find(result, "level-1-response", "ModifyRegistration-QueryHealthData-CancelRegistration-level-2-2.jsonl#1")
    assert sample[-1] == {"role": "assistant", "content": "Your appointment has been modified successfully."}
    reminder = _find(result, "level-2-api", "QueryReminder-level-3-1.jsonl#0")  # calls GetUserToken, declared nowhere in it
    assert "GetUserToken" in [t["name"] for t in reminder[2]["content"]]
    assert result.manifest["counters"]["apibank_undeclared_tools_added_from_catalog"] > 0


def test_loose_call_syntax_quirks(result):
    meeting = next(s for s in result.samples["level-1-api"] if "QueryMeeting" in str(s[-1]["content"]))
    assert meeting[-1]["content"][0]["parameters"]["attendees"] == [["John Smith", "Jane Doe"]]
    fitness = next(s for s in result.samples["lv3-train"] if s[-1]["role"] == "tool_call_ground_truth"
                   and s[-1]["content"][0]["name"] == "FitnessClassAPI")
    assert fitness[-1]["content"][0]["parameters"] == {"location": ["New York"]}
    assert result.manifest["counters"]["apibank_loose_call_syntax"] > 0


def test_lv3_training_time_and_non_ascii(origin, result):
    raw = _raw(origin, "training-data/lv3-train.json")
    first = result.samples["lv3-train"][0]
    assert first[3] == {"role": "system", "content": "The current time is 2034-04-15 10:00:00."}
    assert first[4] == {"role": "user", "content": "Find a cardiologist in Los Angeles for a check-up appointment."}
    level3 = _raw(origin, "test-data/level-3.json")  # non-ASCII text arrives \u-escaped in these files
    index = next(i for i, r in enumerate(level3) if re.search(r"[^\x00-\x7f]", json.dumps(r, ensure_ascii=False)))
    text = json.dumps(_find(result, "level-3", index), ensure_ascii=False)
    for char in set(re.findall(r"[^\x00-\x7f]", json.dumps(level3[index], ensure_ascii=False))):
        assert char in text
    assert len(raw) == len(result.samples["lv3-train"])


def test_repr_with_unescaped_apostrophes_still_declares_the_found_tool(result):
    sample = next(s for s in result.samples["lv3-response-train"] if "EquipmentRecommendation" in str(_calls(s)))
    tool = next(t for m in by_role(sample, "candidate_tools") for t in m["content"] if t["name"] == "EquipmentRecommendation")
    assert tool["parameters"]["properties"]["budget"]["type"] == "number"


def test_icl_keeps_its_demonstration_as_system(result):
    sample = result.samples["level-3-batch-inf-icl"][0]
    assert sample[3]["role"] == "system" and "Example:" in sample[3]["content"]
    assert "The current" not in result.samples["level-3-batch-inf"][0][3]["content"]


def test_bad_records_are_rejected_with_location_and_reason(origin, tmp_path):
    folder = tmp_path / "raw" / "test-data"
    folder.mkdir(parents=True)
    records = _raw(origin, "test-data/level-1-api.json")[:3]
    records[1]["expected_output"] = "API-Request: [ModifyRegistration(appointment_id='3456"
    records[2]["expected_output"] = "API-Request: [NoSuchApi(x='1')]"
    (folder / "level-1-api.json").write_text(json.dumps(records), "utf-8")
    (folder / "level-2-api.json").write_text('[{"instruction": "x",', "utf-8")
    bad = run("API-Bank", tmp_path / "raw", tmp_path / "data")
    assert bad.manifest["totals"] == {"in": 4, "out": 1, "rejected": 3, "samples": 1}
    reasons = {(r["source_file"], r["location"]): r["reason"] for r in bad.rejects}
    assert "unbalanced" in reasons[("test-data/level-1-api.json", 1)] or "cannot read" in reasons[("test-data/level-1-api.json", 1)]
    assert "NoSuchApi" in reasons[("test-data/level-1-api.json", 2)]
    assert "not valid JSON" in reasons[("test-data/level-2-api.json", 0)]


def test_cli_process_from_the_slice_and_deal_from_a_single_file(origin, tmp_path):
    command = [sys.executable, "datasets", "process", "API-Bank", "--from", str(origin), "--data-dir", str(tmp_path), "-q"]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "in 328 = out 328 + rejected 0" in done.stdout
    one = origin / "lv1-lv2-samples/level-1-given-desc/GetToday-level-1-1.jsonl"
    done = subprocess.run([sys.executable, "datasets", "deal", "api_bank", "--from", str(one), "--data-dir",
                           str(tmp_path / "d2"), "-q"], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    provenance = read_provenance(tmp_path / "d2/downloaded/API-Bank")
    assert provenance["kind"] == "local" and list(provenance["files"]) == [one.name]
    assert "in 1 = out 1" in done.stdout


def test_registry_names():
    assert get_source("API-Bank").name == get_source("apibank").name == get_source("api_bank").name == "API-Bank"
