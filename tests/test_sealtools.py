"""Seal-Tools adapter on the real slice in ../shared/samples/seal_tools: counts, nested-call links, rejects."""

from __future__ import annotations

import json

import pytest

from adapter_support import by_role, call_ids, cli_process, run
from opentoollab.datasets.sources import get_source


@pytest.fixture(scope="module")
def origin(shared):
    return shared / "samples/seal_tools"


@pytest.fixture(scope="module")
def result(origin, tmp_path_factory):
    return run("Seal-Tools", origin, tmp_path_factory.mktemp("seal"))


def _lines(origin, name):
    return [json.loads(line) for line in (origin / "Seal-Tools_Dataset" / name).read_text("utf-8").splitlines() if line.strip()]


def _find(result, subset, source_id):
    return next(s for s in result.samples[subset] if s[1]["content"]["source_id"] == source_id)


def test_counts_every_record_converts(result):
    assert {s: (r["in"], r["out"], r["rejected"]) for s, r in result.manifest["subsets"].items()} == {
        "dev": (60, 60, 0), "test_in_domain": (60, 60, 0), "test_out_domain": (60, 60, 0)}
    assert result.rejects == [] and result.manifest["counters"]["sealtools_nested_values"] == 3
    assert set(get_source("Seal-Tool").evaluation_subsets) == {"dev", "test_in_domain", "test_out_domain"}
    assert get_source("sealtools").name == "Seal-Tools"


def test_user_text_is_the_query_itself_and_values_are_not_rewritten(origin, result):
    for subset in ("dev", "test_in_domain"):
        for raw, sample in zip(_lines(origin, f"{subset}.jsonl"), result.samples[subset]):
            assert by_role(sample, "user") == [{"role": "user", "content": raw["query"]}]
            assert sample[1]["content"]["source_id"] == raw["id"]
    logic = _find(result, "test_in_domain", "test_in_domain-easy-18")
    assert logic[3]["content"] == 'Check if the logic expression "(p AND q) OR r" is true or false.'
    income = _find(result, "test_in_domain", "test_in_domain-easy-1")
    assert income[-1]["content"][0]["parameters"] == {"revenue": [0.2907590418481535], "expenses": ["40.7"]}  # a string stays one


def test_dependent_chain_field_by_field(origin, result):
    raw = next(r for r in _lines(origin, "dev.jsonl") if r["id"] == "dev-difficult-200")
    sample = _find(result, "dev", "dev-difficult-200")
    assert [m["role"] for m in sample] == ["id", "meta", "candidate_tools", "user", "tool_call_ground_truth"]
    calls = sample[-1]["content"]
    assert [c["name"] for c in calls] == [c["api"] for c in raw["calling"]]
    assert calls[0] == {"name": "getPlantingInstructions", "parameters": {"crop_name": ["Tomatoes"], "soil_type": ["loam"]}, "depend_on": []}
    assert calls[1]["depend_on"] == []
    # API_call_1 is the first label of searchCrop (labels 1-5), i.e. its first declared response field
    search = next(t for t in sample[2]["content"] if t["name"] == "searchCrop")
    first_field = list(search["response"])[0]
    assert len(search["response"]) == len(raw["calling"][1]["responses"]) == 5
    assert calls[2] == {"name": "getAvailableResources", "depend_on": ["searchCrop.0"],
                        "parameters": {"location": [f"<link>searchCrop.0.{first_field}</link>"], "resource_type": ["timber"]}}
    assert call_ids(sample) == ["getPlantingInstructions.0", "searchCrop.0", "getAvailableResources.0"]
    assert sample[1]["content"]["tags"] == ["candidate-tools-are-the-answer", "difficulty:difficult"]
    assert [t["name"] for t in sample[2]["content"]] == [c["api"] for c in raw["calling"]]


def test_api_call_n_response_spelling_links_too(result):
    sample = _find(result, "dev", "dev-difficult-207")
    calls = sample[-1]["content"]
    assert calls[1]["parameters"]["text"] == ["<link>getLanguageEvolution.0.evolution</link>"]
    assert calls[2]["depend_on"] == ["getLanguageEvolution.0"]


def test_tools_from_tool_jsonl(result):
    sample = _find(result, "dev", "dev-easy-0")
    tool = sample[2]["content"][0]
    assert tool["name"] == "getHealthWorkforce" and tool["parameters"]["required"] == ["location"]
    assert tool["parameters"]["properties"]["location"]["type"] == "string"
    assert tool["parameters"]["properties"]["location"]["x-original-type"] == "str"
    assert tool["response"]["occupation_salary"]["type"] == "number" and tool["x-field"] == "Public Health/Health Workforce"


def test_bad_records_are_rejected_with_reasons(origin, tmp_path):
    folder = tmp_path / "raw" / "Seal-Tools_Dataset"
    folder.mkdir(parents=True)
    (folder / "tool.jsonl").write_bytes((origin / "Seal-Tools_Dataset/tool.jsonl").read_bytes())
    rows = _lines(origin, "dev.jsonl")[:3]
    rows[1]["calling"][0]["api"] = "noSuchApi"
    rows[2]["calling"][0]["parameters"]["message"] = "API_call_7"
    (folder / "dev.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n{broken\n", "utf-8")
    bad = run("Seal-Tools", tmp_path / "raw", tmp_path / "data")
    assert bad.manifest["totals"] == {"in": 4, "out": 1, "rejected": 3, "samples": 1}
    reasons = bad.reasons()
    assert "'noSuchApi' is not in tool.jsonl" in reasons[0] and "names no response of an earlier call" in reasons[1]
    assert "not JSON" in reasons[2]


def test_cli_process(origin, tmp_path):
    assert "in 180 = out 180 + rejected 0" in cli_process("Seal-Tools", origin, tmp_path)
