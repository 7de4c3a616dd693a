"""BFCL's memory category (corpus BFCL-memory) from the pinned wheel, scored like BFCL's own agentic checker."""

from __future__ import annotations

import importlib
import json
import zipfile

import pytest

from adapter_support import by_role
from opentoollab.benchmark.scoring.items import item_of
from opentoollab.benchmark.scoring.memory import final_answer
from opentoollab.benchmark.scoring.parity import load_official
from opentoollab.benchmark.scoring.score import Prediction, score, score_item
from opentoollab.datasets.sources import get_source
from opentoollab.datasets.store import Store
from opentoollab.format.jsonl import iter_samples
from wheel_support import fetched_store


@pytest.fixture(scope="module")
def store(bfcl_wheel, tmp_path_factory) -> Store:
    return fetched_store(tmp_path_factory.mktemp("memory"), bfcl_wheel, "BFCL-memory")


@pytest.fixture(scope="module")
def samples(store) -> dict[str, list]:
    return {subset: list(iter_samples(store.processed_dir("BFCL-memory") / f"{subset}.jsonl"))
            for subset in ("memory_kv", "memory_rec_sum")}


@pytest.fixture(scope="module")
def official(bfcl_wheel):
    load_official(bfcl_wheel)  # the pinned wheel on sys.path (sha256 verified first)
    return importlib.import_module("bfcl_eval.eval_checker.agentic_eval.agentic_checker").agentic_checker


def _wheel_lines(wheel, name):
    return [json.loads(line) for line in zipfile.ZipFile(wheel).read(f"bfcl_eval/data/{name}").decode().splitlines() if line.strip()]


def test_both_offline_backends_convert_every_question(store, samples, bfcl_wheel):
    manifest = store.manifest("BFCL-memory")
    assert {s: (r["in"], r["out"]) for s, r in manifest["subsets"].items()} == {"memory_kv": (155, 155), "memory_rec_sum": (155, 155)}
    questions = _wheel_lines(bfcl_wheel, "BFCL_v4_memory.json")
    answers = {a["id"]: a["ground_truth"] for a in _wheel_lines(bfcl_wheel, "possible_answer/BFCL_v4_memory.json")}
    for question, sample in zip(questions, samples["memory_kv"]):
        own = sample[1]["content"]
        assert own["source_id"] == question["id"].replace("memory", "memory_kv")  # BFCL's id for the kv backend
        assert own["bfcl_memory"]["answers"] == answers[question["id"]]
        assert by_role(sample, "user") == [{"role": "user", "content": question["question"][0][0]["content"]}]
        assert not by_role(sample, "tool_call_ground_truth")
    first = samples["memory_rec_sum"][0]
    assert [t["name"] for t in by_role(first, "candidate_tools")[0]["content"]][:2] == ["memory_append", "memory_clear"]
    assert first[1]["content"]["bfcl_memory"]["prereq"][0] == "memory_rec_sum_prereq_0-customer-0"
    system = by_role(first, "system")[0]["content"]
    assert system.startswith("You are a general customer support assistant") and "{'answer': A short" in system
    assert set(get_source("BFCL-memory").evaluation_subsets) == {"memory_kv", "memory_rec_sum"}


def _variants(answers: list[str]) -> list:
    gold = answers[0]
    return [gold, f"{{'answer': '{gold}', 'context': 'from memory'}}", gold.upper(), f"It is {gold}.",
            f"It is {gold.replace(' ', '-')}!", f"x{gold}x", gold[:-1] if len(gold) > 1 else "?", "I do not know",
            [f"{{'answer': '{gold}'}}"], answers[-1] + " (or so)", gold.replace(" ", "  "), f"({gold})", f"{gold}s"]


def test_verdicts_equal_bfcl_agentic_checker(samples, official):
    agree, total, right = 0, 0, 0
    for subset, items in samples.items():
        for sample in items:
            answers = sample[1]["content"]["bfcl_memory"]["answers"]
            item = item_of(sample)
            for text in _variants(answers):
                ours = score_item(item, {"result": text})[0]["valid"]
                theirs = official(text, answers)["valid"]
                total += 1
                agree += ours == theirs
                right += theirs
    assert agree == total == 310 * 13
    assert 0 < right < total


def test_final_answer_is_the_last_message_that_is_not_a_call(samples):
    sample = samples["memory_kv"][0]
    steps = [[["archival_memory_key_search(query='name')"], "{'answer': 'Michael', 'context': 'stored'}"]]
    assert final_answer({"result": steps}) == "{'answer': 'Michael', 'context': 'stored'}"
    rows, summary = score([sample], [Prediction("memory_kv_0-customer-0", 1, {"id": "memory_kv_0-customer-0", "result": steps})])
    assert rows[0]["valid"] and summary["categories"]["BFCL-memory/memory_kv"]["accuracy"] == 1.0
    only_calls = score_item(item_of(sample), {"result": [["core_memory_list_keys()"]]})[0]
    assert only_calls["error_type"] == "agentic:no_last_message"


def test_decontamination_reads_both_backends(store):
    from opentoollab.trainer.decontaminate import known_evaluation_sets

    names = {s.name for s in known_evaluation_sets(store)[0]}
    assert {"BFCL-memory/memory_kv", "BFCL-memory/memory_rec_sum"} <= names
