"""ACEBench adapter on the reference copy in ../shared/benchmarks/ACEBench (both languages, every category)."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from adapter_support import by_role, cli_process, run
from opentoollab.datasets.fetch import sha256_file
from opentoollab.datasets.sources import get_source
from opentoollab.datasets.sources.acebench import CATEGORIES, SHA256
from opentoollab.datasets.store import Store


@pytest.fixture(scope="module")
def ace(shared):
    return shared / "benchmarks" / "ACEBench"


@pytest.fixture(scope="module")
def result(ace, tmp_path_factory):
    return run("ACEBench", ace, tmp_path_factory.mktemp("ace"))


def _raw(ace, language, category, answers=False):
    folder = ace / "data_all" / f"data_{language}" / ("possible_answer" if answers else "")
    return [json.loads(line) for line in (folder / f"data_{category}.json").read_text("utf-8").splitlines() if line.strip()]


def test_every_item_of_both_languages_converts(ace, result):
    source = get_source("ace-bench")
    assert source.name == "ACEBench" and set(source.evaluation_subsets) == set(source.subsets) and len(source.subsets) == 34
    counts = {s: (r["in"], r["out"], r["rejected"]) for s, r in result.manifest["subsets"].items()}
    for language in ("en", "zh"):
        for category in CATEGORIES:
            n = len(_raw(ace, language, category))
            assert counts[f"{language}_{category}"] == (n, n, 0)
    assert result.manifest["totals"]["in"] == 2040 and result.rejects == []
    assert counts["en_normal_multi_turn_user_adjust"][0] == 123 and counts["zh_normal_multi_turn_user_switch"][0] == 101


def test_dialogue_text_becomes_messages_exactly(ace, result):
    for language in ("en", "zh"):
        for category in CATEGORIES:
            if category.startswith("agent"):
                continue
            for raw, sample in zip(_raw(ace, language, category), result.samples[f"{language}_{category}"]):
                rebuilt = [f"{'user' if m['role'] == 'user' else 'system'}: {m['content']}" for m in sample
                           if m["role"] in ("user", "assistant")]
                # same text, speaker by speaker (an empty "system:" line continues on the next line)
                assert "".join("".join(rebuilt).split()) == "".join(raw["question"].split()), raw["id"]
                assert sample[1]["content"]["source_id"] == raw["id"]
    adjust = result.samples["en_normal_multi_turn_user_adjust"][0]
    assert [m["role"] for m in adjust][-5:] == ["system", "user", "assistant", "user", "tool_call_ground_truth"]


def test_ground_truth_is_the_first_acceptable_answer_and_the_whole_answer_is_kept(ace, result):
    suffixed = 0
    for language in ("en", "zh"):
        for category in (c for c in CATEGORIES if c.startswith("normal")):
            answers = _raw(ace, language, category, answers=True)
            for answer, sample in zip(answers, result.samples[f"{language}_{category}"]):
                truth = answer["ground_truth"]
                first = truth[0] if isinstance(truth, list) else truth
                calls = by_role(sample, "tool_call_ground_truth")[0]["content"]
                assert [c["parameters"] for c in calls] == [{k: [v] for k, v in p.items()} for p in first.values()]
                for key, call in zip(first, calls):
                    suffixed += key != call["name"]
                    assert call["name"] == key or call["name"] == re.sub(r"_\d+$", "", key)
                assert sample[1]["content"]["acebench"] == {"category": category, "answer": truth,
                                                            **sample[1]["content"]["acebench"]}
    assert suffixed > 400  # ACEBench numbers repeated calls of one API: name_1, name_2
    special = result.samples["en_special_incomplete"][0]
    assert by_role(special, "tool_call_ground_truth")[0]["content"] == []
    assert special[1]["content"]["acebench"]["answer"] == _raw(ace, "en", "special_incomplete", True)[0]["ground_truth"]
    assert "irrelevance" in result.samples["zh_special_irrelevant"][3][1]["content"]["tags"]


def test_system_prompt_is_acebench_own_without_the_api_list(ace, result):
    for subset, samples in result.samples.items():
        for sample in samples:
            system = by_role(sample, "system")
            assert len(system) == 1, sample[0]
            text = system[0]["content"]
            assert "{function}" not in text and "{time}" not in text and "{profile}" not in text
            assert "API Specifications:" not in text and "API Description:" not in text
    special = by_role(result.samples["en_special_error_param"][0], "system")[0]["content"]
    assert 'There is incorrect value (value) for the parameters (key)' in special
    first_time = _raw(ace, "zh", "normal_atom_bool")[0]["time"]
    assert first_time and first_time in by_role(result.samples["zh_normal_atom_bool"][0], "system")[0]["content"]
    preference = by_role(result.samples["en_normal_preference"][0], "system")[0]["content"]
    assert "Character Profile:\n{'basic_features': {'UserName': 'John Doe'" in preference
    travel = next(s for s in result.samples["en_agent_multi_turn"] if "Travel" in s[1]["content"]["acebench"]["involved_classes"])
    assert by_role(travel, "system")[0]["content"].startswith("The current time is July 15, 2024")


def test_agent_items_keep_what_the_evaluation_needs(ace, result):
    raw = _raw(ace, "en", "agent_multi_step")
    answers = _raw(ace, "en", "agent_multi_step", answers=True)
    for entry, answer, sample in zip(raw, answers, result.samples["en_agent_multi_step"]):
        own = sample[1]["content"]["acebench"]
        assert own["initial_config"] == entry["initial_config"] and own["involved_classes"] == entry["involved_classes"]
        assert own["answer"] == answer["ground_truth"] and own["mile_stone"] == answer["mile_stone"]
        assert by_role(sample, "user") == [{"role": "user", "content": entry["question"]}]
        assert not by_role(sample, "tool_call_ground_truth")
        assert [t["name"] for t in by_role(sample, "candidate_tools")[0]["content"]] == [f["name"] for f in entry["function"]]
    assert "user-simulator-instructions" in result.samples["zh_agent_multi_turn"][0][1]["content"]["tags"]


def test_broken_records_are_rejected_with_reasons(ace, tmp_path):
    folder = tmp_path / "copy" / "data_all" / "data_en"
    shutil.copytree(ace / "data_all" / "data_en", folder)
    path = folder / "data_normal_atom_bool.json"
    lines = path.read_text("utf-8").splitlines()
    lines[1] = lines[1][:300]  # truncated
    record = json.loads(lines[2])
    record["id"] = "normal_atom_bool_unknown"  # no answer with this id
    lines[2] = json.dumps(record)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    answers = folder / "possible_answer" / "data_normal_similar_api.json"
    first, *rest = answers.read_text("utf-8").splitlines()
    bad = json.loads(first)
    bad["ground_truth"] = {"not_a_declared_api": {}}
    answers.write_text("\n".join([json.dumps(bad), *rest]) + "\n", encoding="utf-8")
    out = run("ACEBench", tmp_path / "copy", tmp_path / "data", subsets=["en_normal_atom_bool", "en_normal_similar_api"])
    reasons = sorted(r["reason"] for r in out.rejects)
    assert len(reasons) == 3 and out.manifest["totals"]["out"] == 97
    assert "line 2 is not JSON" in reasons[0] or any("is not JSON" in r for r in reasons)
    assert any("no possible answer with id 'normal_atom_bool_unknown'" in r for r in reasons)
    assert any("'not_a_declared_api', which is not among the record's functions" in r for r in reasons)
    assert {(r["source_file"], r["location"]) for r in out.rejects} >= {("data_all/data_en/data_normal_atom_bool.json", 2)}


def test_pinned_checksums_are_those_of_the_pinned_commit(ace):
    assert "e6db74b735ead22c24f27367606a9408573b848f" in (ace / "PROVENANCE.md").read_text("utf-8")
    source = get_source("ACEBench")
    assert source.github_commit == "e6db74b735ead22c24f27367606a9408573b848f"
    assert set(source.github_paths) == set(SHA256) and len(SHA256) == 97  # 70 data/prompt files + 27 agent files
    for path, digest in SHA256.items():
        assert sha256_file(ace / path) == digest, path


def test_cli_process_and_decontamination_covers_acebench(ace, tmp_path, result):
    from opentoollab.format.jsonl import write_samples
    from opentoollab.trainer.mix import build_mix

    output = cli_process("ACEBench", ace, tmp_path / "data")
    assert "ACEBench: in 2040 = out 2040 + rejected 0" in output
    question = by_role(result.samples["zh_normal_single_turn_single_function"][5], "user")[-1]["content"]
    english = by_role(result.samples["en_normal_atom_number"][7], "user")[0]["content"]
    training = [[{"role": "id", "content": f"Mine_train_{n}"}, {"role": "candidate_tools", "content": []},
                 {"role": "user", "content": text},
                 {"role": "assistant", "content": "ok"}]
                for n, text in enumerate([question, "Tell me a joke about otters, please, a long one.",
                                          english.upper() + " Thanks!"])]
    path = tmp_path / "train.jsonl"
    write_samples(path, training)
    mix, manifest = build_mix(str(path), Store(tmp_path / "data"))
    removed = {r["id"]: r for r in manifest["removed"] if r["step"] == "decontaminate"}
    assert set(removed) == {"Mine_train_0", "Mine_train_2"}
    assert removed["Mine_train_0"]["eval_id"].startswith("ACEBench_zh_normal_single_turn_single_function_")
    assert {f"ACEBench/{s}" for s in get_source("ACEBench").subsets} <= set(manifest["decontamination"]["against"])
