"""TaskBench adapter on the real slice in ../shared/samples/taskbench: counts, dependency chains, request-only samples."""

from __future__ import annotations

import json
import shutil

import pytest

from adapter_support import by_role, cli_process, run
from opentoollab.datasets.sources import get_source


@pytest.fixture(scope="module")
def origin(shared):
    return shared / "samples/taskbench"


@pytest.fixture(scope="module")
def result(origin, tmp_path_factory):
    return run("TaskBench", origin, tmp_path_factory.mktemp("taskbench"))


def _lines(path):
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def _find(result, subset, source_id):
    return next(s for s in result.samples[subset] if s[1]["content"]["source_id"] == source_id)


def test_counts_and_the_one_request_converted_from_data_json(result):
    assert {s: (r["in"], r["out"], r["rejected"]) for s, r in result.manifest["subsets"].items()} == {
        "huggingface": (20, 20, 0), "multimedia": (20, 20, 0), "dailylifeapis": (35, 34, 1)}
    assert result.rejects[0]["reason"] == "request 13590101 is converted from data.json (with its calls)"
    assert result.rejects[0]["source_file"] == "data_dailylifeapis/user_requests.json"
    assert get_source("task-bench").evaluation_subsets == ("huggingface", "multimedia", "dailylifeapis")


def test_user_text_is_the_request_itself(origin, result):
    graphs = _lines(origin / "data_dailylifeapis/data.json")
    for raw, sample in zip(graphs, result.samples["dailylifeapis"]):
        assert by_role(sample, "user") == [{"role": "user", "content": raw["instruction"]}]
    requests = _lines(origin / "data_huggingface/user_requests.json")
    for raw, sample in zip(requests, result.samples["huggingface"]):
        assert by_role(sample, "user") == [{"role": "user", "content": raw["user_request"]}]
        assert sample[1]["content"]["tags"] == ["request-only"] and sample[-1]["role"] == "user"
    assert len(result.samples["huggingface"][0][2]["content"]) == 23  # the whole domain's tools


def test_dependent_chain_field_by_field(origin, result):
    raw = next(r for r in _lines(origin / "data_dailylifeapis/data.json") if r["id"] == "17286260")
    sample = _find(result, "dailylifeapis", "17286260")
    assert [m["role"] for m in sample] == ["id", "meta", "candidate_tools", "user", "tool_call_ground_truth"]
    assert raw["task_links"] == [{"source": "software_management", "target": "set_alarm"}]
    assert sample[-1]["content"] == [
        {"name": "software_management", "parameters": {"software": ["example_software"], "instruction": ["install"]}, "depend_on": []},
        {"name": "set_alarm", "parameters": {"time": ["08:00"]}, "depend_on": ["software_management.0"]}]  # later → earlier
    assert sample[1]["content"]["tags"] == ["graph:chain"]


def test_argument_names_kept_as_written_and_tools_typed(result):
    sample = _find(result, "dailylifeapis", "13364607")
    assert sample[-1]["content"][0]["parameters"] == {"bill_type": ["electricity"]}  # the tool declares 'bill'
    assert "undeclared-arguments" in sample[1]["content"]["tags"]
    weather = next(t for t in sample[2]["content"] if t["name"] == "get_weather")
    assert weather["parameters"]["properties"]["date"] == {"description": "The date to get the weather for",
                                                           "type": "string", "x-original-type": "date"}


def test_resource_graph_node_references_become_links_in_dependency_order(origin, tmp_path):
    """No huggingface data.json is in the slice: a record in TaskBench's resource layout, with nodes out of order."""
    folder = tmp_path / "raw" / "data_multimedia"
    folder.mkdir(parents=True)
    shutil.copy(origin / "data_multimedia/tool_desc.json", folder)
    record = {"id": "1", "type": "dag", "user_request": "Download https://x.org/a.mp4, take its audio, reduce the noise.",
              "task_nodes": json.dumps([{"task": "Audio Noise Reduction", "arguments": ["<node-1>"]},
                                        {"task": "Video-to-Audio", "arguments": ["<node-2>"]},
                                        {"task": "Video Downloader", "arguments": ["https://x.org/a.mp4"]}]),
              "task_links": [{"source": "Video-to-Audio", "target": "Audio Noise Reduction"},
                             {"source": "Video Downloader", "target": "Video-to-Audio"}]}
    (folder / "data.json").write_text(json.dumps(record) + "\n", "utf-8")
    got = run("TaskBench", tmp_path / "raw", tmp_path / "data")
    assert got.manifest["counters"]["taskbench_nodes_reordered"] == 1
    calls = got.samples["multimedia"][0][-1]["content"]
    assert calls == [
        {"name": "Video Downloader", "parameters": {"url": ["https://x.org/a.mp4"]}, "depend_on": []},
        {"name": "Video-to-Audio", "parameters": {"video": ["<link>Video Downloader.0</link>"]}, "depend_on": ["Video Downloader.0"]},
        {"name": "Audio Noise Reduction", "parameters": {"audio": ["<link>Video-to-Audio.0</link>"]}, "depend_on": ["Video-to-Audio.0"]}]


def test_bad_graphs_are_rejected(origin, tmp_path):
    folder = tmp_path / "raw" / "data_dailylifeapis"
    folder.mkdir(parents=True)
    shutil.copy(origin / "data_dailylifeapis/tool_desc.json", folder)
    rows = _lines(origin / "data_dailylifeapis/data.json")[:4]
    rows[1]["task_nodes"][0]["task"] = "teleport"
    rows[2]["task_links"] = [{"source": "nowhere", "target": rows[2]["task_nodes"][0]["task"]}]
    rows[3]["task_nodes"] = "[{not json"
    (folder / "data.json").write_text("\n".join(json.dumps(r) for r in rows) + "\n", "utf-8")
    bad = run("TaskBench", tmp_path / "raw", tmp_path / "data")
    assert bad.manifest["totals"] == {"in": 4, "out": 1, "rejected": 3, "samples": 1}
    assert "'teleport' is not in tool_desc.json" in bad.reasons()[0]
    assert "must each name exactly one task node" in bad.reasons()[1] and "not JSON" in bad.reasons()[2]


def test_cli_process(origin, tmp_path):
    assert "in 75 = out 74 + rejected 1" in cli_process("TaskBench", origin, tmp_path)
