"""`benchmark run -d ACEBench/…` against a local OpenAI-compatible server that replays ACEBench's answers."""

from __future__ import annotations

import json
import sys

import pytest
from click.testing import CliRunner

from adapter_support import run as process_corpus
from openai_server import serve
from opentoollab.cli.benchmark import benchmark
from opentoollab.datasets.store import Store
from opentoollab.format.jsonl import iter_samples
from test_acebench_scoring import call_text, gold_calls


@pytest.fixture(scope="module")
def ace(shared):
    return shared / "benchmarks" / "ACEBench"


@pytest.fixture(scope="module")
def store(ace, tmp_path_factory):
    root = tmp_path_factory.mktemp("ace_run")
    process_corpus("ACEBench", ace, root, subsets=["en_normal_atom_bool", "en_normal_similar_api",
                                                     "en_special_irrelevant", "en_agent_multi_step"])
    return Store(root)


def _raw(ace, category):
    folder = ace / "data_all" / "data_en"
    entries = [json.loads(line) for line in (folder / f"data_{category}.json").read_text("utf-8").splitlines() if line.strip()]
    answers = [json.loads(line) for line in (folder / "possible_answer" / f"data_{category}.json").read_text("utf-8").splitlines() if line.strip()]
    return entries, answers


def test_run_sends_tools_and_system_and_scores_with_acebench_rules(ace, store, tmp_path):
    entries, answers = [], []
    for category in ("normal_atom_bool", "normal_similar_api", "special_irrelevant"):
        e, a = _raw(ace, category)
        entries += e
        answers += a
    raw = {entry["id"]: (entry, answer["ground_truth"]) for entry, answer in zip(entries, answers)}
    by_user = {}
    for path in store.subset_files("ACEBench"):
        for sample in iter_samples(path):
            users = [m["content"] for m in sample if m["role"] == "user"]
            by_user[users[-1]] = raw.get(sample[1]["content"]["source_id"])
    seen = []

    def answer(path, body):
        messages = body["messages"]
        seen.append(body)
        entry, truth = by_user[messages[-1]["content"]]
        if isinstance(truth, str):  # special_irrelevant: ACEBench's expected reply
            return 200, {"choices": [{"message": {"role": "assistant", "content": truth}}]}
        calls = gold_calls(entry, truth)
        return 200, {"choices": [{"message": {"role": "assistant", "content": None, "tool_calls": [
            {"id": f"c{i}", "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}
            for i, (name, args) in enumerate(calls)]}}]}

    out = tmp_path / "run"
    with serve(answer) as url:
        result = CliRunner().invoke(benchmark, [
            "run", "-d", "ACEBench/en_normal_atom_bool,ACEBench/en_normal_similar_api,ACEBench/en_special_irrelevant",
            "--model", "replay", "--base-url", url, "--out", str(out), "--data-dir", str(store.root), "-q", "-j", "2"])
    assert result.exit_code == 0, result.output
    assert len(seen) == 150 and all(body["messages"][0]["role"] == "system" for body in seen)
    assert all(body.get("tools") for body in seen)
    summary = json.loads((out / "summary.json").read_text())
    figures = summary["acebench"]["en"]["categories"]
    # what ACEBench's own evaluation gives for the same answers written as its call text
    sys.path.insert(0, str(ace))
    try:
        import eval_main
    finally:
        sys.path.remove(str(ace))
    eval_main.OUTPUT_PATH = str(tmp_path / "official")
    eval_main.convert_result_to_excel = lambda *args, **kwargs: None
    for category in ("normal_atom_bool", "normal_similar_api"):
        e, a = _raw(ace, category)
        results = [{"id": x["id"], "result": call_text(gold_calls(x, y["ground_truth"]))} for x, y in zip(e, a)]
        assert figures[category]["accuracy"] == eval_main.normal_single_turn_eval(results, e, a, category, "m", None)
    assert figures["special_irrelevant"]["accuracy"] == 1.0
    assert "ACEBench (en)" in result.output and "similar_api" in result.output


def test_agent_items_are_refused_with_a_clear_reason(store, tmp_path):
    with serve(lambda path, body: (200, {"choices": [{"message": {"role": "assistant", "content": "hi"}}]})) as url:
        result = CliRunner().invoke(benchmark, ["run", "-d", "ACEBench/en_agent_multi_step", "--model", "m", "--base-url", url,
                                                "--out", str(tmp_path / "a"), "--data-dir", str(store.root), "-q", "--limit", "2"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    run_info = json.loads((tmp_path / "a" / "run.json").read_text())
    assert run_info["failed"] == 2 and "ACEBench's scenario classes" in run_info["failures"][0]["error"]
