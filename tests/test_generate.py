"""The offline generator: determinism, validity, re-execution, categories, checks, resume, CLI, mixing."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from opentoollab.cli.datasets import datasets
from opentoollab.datasets.generate.engine import build_sample, replay
from opentoollab.datasets.generate.recipe import CATEGORIES, Recipe, RecipeError, make_recipe
from opentoollab.datasets.generate.run import run_generation
from opentoollab.format.validate import validate_sample
from opentoollab.tag.tagging import tag_sample

# tag categories that must follow from a generator category (structure, not meta)
IMPLIED = {"parallel": {"parallel", "parallel_multiple"}, "multiple": {"multiple"}, "single": {"single"},
           "dependent": {"dependent"}, "multi_step": {"multi_step"}, "multi_turn": {"multi_turn"},
           "miss_func": {"miss_func"}, "no_tool": {"no_call"}, "long_context": {"long_context"}}


def lines(path: Path) -> list:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


@pytest.fixture(scope="module")
def run_1000(tmp_path_factory):
    out = tmp_path_factory.mktemp("gen")
    manifest = run_generation(make_recipe({"n": 1000, "seed": 1}), out, workers=2, progress=False)
    return out, manifest, lines(out / "offline.jsonl")


def test_same_seed_same_bytes_whatever_the_worker_count(tmp_path):
    recipe = make_recipe({"n": 150, "seed": 7})
    run_generation(recipe, tmp_path / "a", workers=1, progress=False)
    run_generation(recipe, tmp_path / "b", workers=2, progress=False)
    run_generation(recipe.with_overrides(seed=8), tmp_path / "c", workers=2, progress=False)
    a, b, c = (hashlib.sha256((tmp_path / d / "offline.jsonl").read_bytes()).hexdigest() for d in "abc")
    assert a == b != c
    text = (tmp_path / "a" / "offline.jsonl").read_text("utf-8")
    assert "/tmp" not in text and "otl-episode" not in text  # no temp paths leak into samples


def test_every_sample_is_valid_verified_and_reexecutes(run_1000):
    _out, manifest, samples = run_1000
    assert manifest["totals"] == {**manifest["totals"], "requested": 1000, "out": len(samples)}
    assert len(samples) >= 995
    for sample in samples:
        assert validate_sample(sample) == [], sample[0]
        record = tag_sample(sample)
        assert record["valid"], (sample[0], record["problems"][:2])
        assert replay(sample) == [], sample[0]


def test_every_category_in_both_languages_and_tagged_as_such(run_1000):
    _out, manifest, samples = run_1000
    seen = {(c, s[1]["content"]["language"]) for s in samples for c in s[1]["content"]["categories"]}
    assert {c for c, _ in seen} == set(CATEGORIES)
    assert all((c, lang) in seen for c in CATEGORIES for lang in ("en", "zh")), sorted(set(CATEGORIES) - {c for c, l in seen if l == "zh"})
    for sample in samples:
        found = set(tag_sample(sample)["categories"])
        for category in sample[1]["content"]["categories"]:
            if category in IMPLIED:
                assert found & IMPLIED[category], (sample[0]["content"], category, found)
        assert sample[-1]["role"] == "assistant"  # every trajectory closes with a reply
    assert manifest["diversity"]["distinct_call_patterns"] > 100
    assert manifest["dependency_depth"]["max"] >= 2


def test_dependent_links_resolve_to_the_recorded_results(run_1000):
    from opentoollab.format.sample import assign_call_ids, resolve_links

    checked = 0
    for sample in run_1000[2]:
        if "dependent" not in sample[1]["content"]["categories"]:
            continue
        results = {}
        ids = assign_call_ids(sample)
        for index, message in enumerate(sample):
            if message["role"] == "tool_response":
                results.update(message["content"])
            if message["role"] == "tool_call":
                for call in message["content"]:
                    if any("<link>" in json.dumps(v) for v in call["parameters"].values()):
                        assert call["depend_on"]
                        resolve_links(call["parameters"], results)  # raises when a link points nowhere
                        checked += 1
        assert ids
    assert checked > 50


def test_replay_catches_a_tampered_result(run_1000):
    sample = json.loads(json.dumps(next(s for s in run_1000[2] if "dependent" in s[1]["content"]["categories"])))
    response = next(m for m in sample if m["role"] == "tool_response")
    key = next(iter(response["content"]))
    response["content"][key] = {"tampered": True}
    assert replay(sample) and key in replay(sample)[0]


def test_checks_refuse_samples_into_rejects_and_counts_add_up(tmp_path):
    def odd(sample):
        return "odd id" if sample[1]["content"]["source_id"] % 2 else None

    manifest = run_generation(make_recipe({"n": 40, "seed": 3}), tmp_path, workers=1, checks=[("parity", odd)], progress=False)
    rejects = lines(tmp_path / "offline.rejects.jsonl")
    kept = lines(tmp_path / "offline.jsonl")
    assert manifest["totals"]["out"] + manifest["totals"]["rejected"] == 40
    assert {r["k"] for r in rejects} == set(range(1, 40, 2)) and all(r["reason"] == "parity: odd id" for r in rejects)
    assert [s[1]["content"]["source_id"] for s in kept] == list(range(0, 40, 2))


def test_a_killed_run_resumes_to_the_same_bytes(tmp_path):
    recipe = make_recipe({"n": 120, "seed": 5})
    run_generation(recipe, tmp_path / "whole", workers=1, progress=False)
    calls = {"n": 0}

    def crash(sample):
        calls["n"] += 1
        if calls["n"] == 70:
            raise KeyboardInterrupt
        return None

    with pytest.raises(KeyboardInterrupt):
        run_generation(recipe, tmp_path / "killed", workers=1, checks=[("crash", crash)], progress=False)
    assert (tmp_path / "killed" / "offline.jsonl.partial").exists()
    manifest = run_generation(recipe, tmp_path / "killed", workers=1, progress=False)
    assert manifest["run"]["resumed_from"] == 50  # two chunks of 25 were complete
    assert (tmp_path / "killed" / "offline.jsonl").read_bytes() == (tmp_path / "whole" / "offline.jsonl").read_bytes()


def test_near_duplicate_detection_keeps_at_least_95_percent(run_1000):
    from opentoollab.trainer.dedup import NearDeduper, user_turns

    deduper = NearDeduper()
    kept = sum(deduper.check("\n".join(user_turns(s)), s[0]["content"]) is None for s in run_1000[2])
    assert kept >= 0.95 * len(run_1000[2])


def test_recipe_fields_are_checked():
    with pytest.raises(RecipeError, match="unknown recipe field"):
        make_recipe({"categories": {"single": 1}, "colour": "blue"})
    with pytest.raises(RecipeError, match="categories: unknown"):
        make_recipe({"categories": {"single": 1, "telepathy": 2}})
    with pytest.raises(RecipeError, match="toolkits"):
        make_recipe({"toolkits": ["files", "rocket"]})
    only = make_recipe({"n": 30, "categories": ["miss_param"], "toolkits": ["shop"], "languages": {"zh": 1}})
    sample = build_sample(only, 0)
    assert sample[1]["content"]["categories"][0] == "miss_param" and sample[1]["content"]["language"] == "zh"
    assert Recipe().sha256() == Recipe(n=5).sha256() != Recipe(seed=1).sha256()


def test_cli_generates_registers_and_prepare_renders_it_beside_toolace(tmp_path, shared):
    data = ["--data-dir", str(tmp_path)]
    result = CliRunner().invoke(datasets, ["generate", "--n", "60", "--seed", "2", "-q", *data], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    processed = tmp_path / "processed" / "generated" / "offline.jsonl"
    assert len(processed.read_text("utf-8").splitlines()) == 60
    assert "in 60 = out 60 + rejected 0" in result.output
    result = CliRunner().invoke(datasets, ["process", "ToolACE", "--from", str(shared / "samples" / "toolace"), "-q", *data],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    from opentoollab.cli.trainer import trainer

    out = tmp_path / "prepared"
    result = CliRunner().invoke(trainer, ["prepare", "-q", "--datasets=ToolACE,generated", "--model=Qwen2.5",
                                          "--out", str(out), *data], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    rows = lines(out / "train.jsonl")
    skipped = lines(out / "skipped.jsonl")
    generated_rows = [r for r in rows if r["id"].startswith("generated_")]
    assert len(generated_rows) + sum(1 for r in rows if r["id"].startswith("ToolACE_")) == len(rows)
    # only miss_func samples are skipped: a tool list that changes mid-dialogue is not expressible in one template
    assert len(generated_rows) + len(skipped) == 60 and {s["reason"] for s in skipped} <= {"tools_change"}
    assert all("<|im_start|>assistant" in r["text"] for r in generated_rows)
    assert sum("<tool_call>" in r["text"] for r in generated_rows) >= 50


def test_cli_bad_recipe_is_one_line(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("categories: {single: 1, telepathy: 1}\n")
    result = CliRunner().invoke(datasets, ["generate", "--recipe", str(recipe), "--data-dir", str(tmp_path)])
    assert result.exit_code == 2 and "telepathy" in result.output and "Traceback" not in result.output
