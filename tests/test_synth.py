"""LLM pipelines end to end against a scripted local model: button, toolace, sandbox-agents.

Every sample must pass the format's validation and carry its provenance; sandbox-agents' calls
must have really run (re-executing them in a fresh episode gives the recorded results); injected
verify/contamination checks reject with reasons; a rerun is byte-identical and asks nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from opentoollab.datasets.synth import get_pipeline, pipeline_names
from opentoollab.datasets.synth.sandbox import environment_config
from opentoollab.format.jsonl import iter_samples
from opentoollab.format.sample import assign_call_ids, resolve_links
from opentoollab.format.validate import validate_sample
from opentoollab.tools import Episode
from scripted_llm import ScriptedLLM
from synth_helpers import SANDBOX_RECIPE, TOOLACE_RECIPE, glaive_file, run

@pytest.fixture()
def glaive(tmp_path, shared) -> Path:
    return glaive_file(tmp_path, shared)


def check_samples(path: Path, pipeline: str) -> list[list]:
    samples = list(iter_samples(path))
    assert samples
    for k, sample in enumerate(samples):
        assert validate_sample(sample) == [], sample[0]
        assert sample[0]["content"] == f"{pipeline}_{pipeline}_{k}"  # the subset is the output file's stem
        meta = sample[1]["content"]
        assert meta["source"] == pipeline and meta["subset"] == pipeline and meta["categories"]
        generator = meta["generator"]
        assert generator["name"] == pipeline and generator["model"] == "test-model" and generator["seed"] == 0
        assert len(generator["recipe_sha256"]) == 64
        steps = get_pipeline(pipeline).steps
        model_steps = [s.name for s in steps if s.uses_model]
        assert set(generator["steps"]) <= set(model_steps) and generator["steps"]
        for info in generator["steps"].values():
            assert info["version"] and len(info["cache_key"].removeprefix("digest:")) == 64
    return samples


def test_registry_lists_the_three_pipelines():
    assert pipeline_names() == ["button", "toolace", "sandbox-agents"]
    with pytest.raises(ValueError, match="known: button"):
        get_pipeline("nope")


def test_button_end_to_end(tmp_path, glaive):
    llm = ScriptedLLM()
    with llm.serve() as url:
        manifest = run("button", tmp_path, url, input_path=glaive)
    samples = check_samples(tmp_path / "button.jsonl", "button")
    # 3 chats → 6 scenarios (1 expansion each) → 12 atomic tasks → 6 sequential + 6 parallel-sequential
    assert len(samples) == 12 and manifest["samples"]["out"] == 12
    steps = manifest["steps"]
    assert steps["scenario_extractor"]["requests"] == 3 and steps["scenario_expander"]["records_out"] == 6
    assert steps["sequential_task_generator"]["not_applicable"] == 6 == steps["para_seq_task_generator"]["computed"]
    assert manifest["usage"]["requests"] == sum(s["requests"] for s in steps.values()) == len(llm.requests)
    for sample in samples:
        meta = sample[1]["content"]
        assert meta["simulated"] is True
        assert "composition_task_filter" in meta["generator"]["steps"]
    # the scripted assistant feeds the first result into the second call: a link + depend_on
    dependent = [s for s in samples if "dependent" in s[1]["content"]["categories"]]
    assert len(dependent) == 12
    second = [m for m in dependent[0] if m["role"] == "tool_call"][1]["content"][0]
    assert second["parameters"]["x"] == "<link>lookup_value.0.value</link>" and second["depend_on"] == ["lookup_value.0"]
    # structured output requested with each step's schema
    extractor = next(body for stem, body in llm.requests if stem == "scenario_extractor")
    assert extractor["response_format"]["type"] == "json_schema"
    assert (tmp_path / "button.failures.jsonl").read_text() == ""


def test_toolace_end_to_end(tmp_path):
    llm = ScriptedLLM()
    with llm.serve() as url:
        manifest = run("toolace", tmp_path, url, n=2, recipe=TOOLACE_RECIPE)
    samples = check_samples(tmp_path / "toolace.jsonl", "toolace")
    steps = manifest["steps"]
    # 2 domains × 4 APIs → 8 APIs, evolved, grouped 3 + 1 per domain → 4 dialogues
    assert steps["api_adaptation"]["computed"] == 8 == steps["api_evolution"]["computed"]
    assert steps["toolset_sampler"]["records_out"] == 4 == len(samples)
    # the scripted target model reproduces each first call: every sample is "easy" → complicated, regenerated
    assert steps["self_guided_complication"]["computed"] == 4 == steps["dialog_regeneration"]["computed"]
    assert steps["dlv_judge"]["computed"] == 4 and steps["dlv_rules"]["dropped"] == 0
    assert {tuple(s[1]["content"]["generator"]["steps"]) for s in samples} == {(
        "api_speciation", "api_adaptation", "api_evolution", "dialog_generation", "complexity_evaluator",
        "self_guided_complication", "dialog_regeneration", "dlv_judge")}
    assert all(s[1]["content"]["simulated"] for s in samples)
    # the regenerated dialogue is the one kept: its user follows the complication guidance
    regenerated = [b for stem, b in llm.requests if stem == "dialog_generation.user" and "Follow this guidance" in
                   b["messages"][0]["content"]]
    assert len(regenerated) >= 4


def test_toolace_dual_layer_verification_drops(tmp_path):
    judge = {"n": 0}

    def picky_judge(body):
        judge["n"] += 1
        verdict = {"hallucinated": [{"call": "x.0", "parameter": "amount", "reason": "made up"}]} if judge["n"] == 1 \
            else {"hallucinated": []}
        return {"role": "assistant", "content": json.dumps({**verdict, "consistent": True, "reason": "r"})}

    def verify(sample):  # layer 1 flags dialogues whose first call is to a tool whose name ends in _0
        first = next(m for m in sample if m["role"] == "tool_call")["content"][0]["name"]
        return [{"rule": "test_rule", "path": "$", "message": "flagged"}] if first.endswith("_0") else []

    llm = ScriptedLLM({"dlv_judge": picky_judge})
    with llm.serve() as url:
        manifest = run("toolace", tmp_path, url, n=2, recipe=TOOLACE_RECIPE, verify=verify)
    steps = manifest["steps"]
    assert steps["dlv_rules"]["dropped"] >= 1 and steps["dlv_judge"]["dropped"] == 1
    assert steps["dlv_judge"]["requests"] == steps["dlv_rules"]["records_out"]  # the judge never sees rule failures
    assert manifest["samples"]["out"] == steps["dlv_judge"]["records_out"]
    rows = [json.loads(line) for line in (tmp_path / "toolace.failures.jsonl").read_text().splitlines()]
    filtered = [r for r in rows if r["kind"] == "filtered"]
    assert {r["step"] for r in filtered} == {"dlv_rules", "dlv_judge"}
    assert any("test_rule" in r["reason"] for r in filtered) and any("hallucinated" in r["reason"] for r in filtered)


def test_sandbox_agents_execute_for_real(tmp_path):
    llm = ScriptedLLM()
    with llm.serve() as url:
        manifest = run("sandbox-agents", tmp_path, url, n=6, recipe=SANDBOX_RECIPE)
    samples = check_samples(tmp_path / "sandbox-agents.jsonl", "sandbox-agents")
    assert len(samples) == 6 == manifest["samples"]["out"]
    # the assistant got the environment's tools in the OpenAI request
    sent = next(body for stem, body in llm.requests if stem == "agent_dialogue.assistant")
    assert sent["tools"][0]["type"] == "function"
    seen = set()
    for sample in samples:
        meta = sample[1]["content"]
        assert "simulated" not in meta
        environment = meta["environment"]
        seen.update(meta["categories"])
        # re-execute every call in a fresh episode rebuilt from meta.environment: identical results
        results: dict = {}
        ids = assign_call_ids(sample)
        with Episode(environment["toolkits"], environment_config(environment["toolkits"], environment["seed"])) as ep:
            for index, message in enumerate(sample):
                if message["role"] == "tool_call":
                    for cid, call in zip(ids[index], message["content"]):
                        results[cid] = ep.call(call["name"], resolve_links(call["parameters"], results))
                elif message["role"] == "tool_response":
                    assert message["content"] == {cid: results[cid] for cid in message["content"]}
    assert {"miss_func", "multi_turn", "dependent"} <= seen
    miss_func = next(s for s in samples if "miss_func" in s[1]["content"]["categories"])
    tool_lists = [m["content"] for m in miss_func if m["role"] == "candidate_tools"]
    assert len(tool_lists) == 2 and len(tool_lists[1]) == len(tool_lists[0]) + 1


@pytest.mark.parametrize("style", ["problems", "reason"])
def test_verify_and_contamination_reject_with_reasons(tmp_path, glaive, style):
    def verify(sample):  # everything made from the first chat; tag's problem dicts, or one reason string
        if not sample[1]["content"]["source_id"].startswith("0."):
            return [] if style == "problems" else None
        problem = {"rule": "no_lisbon", "path": "$", "message": "mentions Lisbon"}
        return [problem] if style == "problems" else "no_lisbon at $: mentions Lisbon"

    def contamination(sample):  # everything made from the second chat
        return "overlaps BFCL simple_7" if sample[1]["content"]["source_id"].startswith("1.") else None

    with ScriptedLLM().serve() as url:
        manifest = run("button", tmp_path, url, input_path=glaive, verify=verify, contamination=contamination)
    samples = check_samples(tmp_path / "button.jsonl", "button")  # ids stay contiguous after rejections
    assert manifest["samples"]["rejected"] == {"verify": 4, "contamination": 4}
    assert len(samples) == 4 and all(s[1]["content"]["source_id"].startswith("2.") for s in samples)
    rows = [json.loads(line) for line in (tmp_path / "button.failures.jsonl").read_text().splitlines()]
    assert {r["kind"] for r in rows} == {"verify", "contamination"}
    assert any(r["message"].startswith("no_lisbon") for r in rows)
    assert all(r["message"] == "overlaps BFCL simple_7" for r in rows if r["kind"] == "contamination")


def test_rerun_asks_nothing_and_writes_the_same_bytes(tmp_path, glaive):
    llm = ScriptedLLM()
    with llm.serve() as url:
        run("button", tmp_path, url, input_path=glaive)
        first = (tmp_path / "button.jsonl").read_bytes()
        llm.reset()
        manifest = run("button", tmp_path, url, input_path=glaive)
    assert llm.requests == [] and manifest["usage"]["requests"] == 0
    assert (tmp_path / "button.jsonl").read_bytes() == first
    assert all(s["cache_hits"] == s["records_in"] - s["not_applicable"] and s["computed"] == 0
               for s in manifest["steps"].values())


def test_dry_run_counts_requests_without_asking(tmp_path, glaive):
    llm = ScriptedLLM()
    with llm.serve() as url:
        before = run("button", tmp_path, url, input_path=glaive, dry_run=True)
        assert llm.requests == [] and not (tmp_path / "button.jsonl").exists()
        steps = before["steps"]
        assert steps["scenario_extractor"]["requests"] == 3 and steps["scenario_extractor"]["requests_exact"]
        # downstream counts are estimates from the steps' fan-out (3 → 6 scenarios → 12 tasks)
        assert steps["atom_task_generator"]["requests"] == 6 and not steps["atom_task_generator"]["requests_exact"]
        assert steps["multi_turn_conversation_generator"]["requests"] > 0
        run("button", tmp_path, url, input_path=glaive)
        llm.reset()
        after = run("button", tmp_path, url, input_path=glaive, dry_run=True)
    assert llm.requests == []
    assert all(s["requests"] == 0 for s in after["steps"].values())


def test_unknown_step_params_and_missing_input_fail_early(tmp_path):
    with ScriptedLLM().serve() as url:
        with pytest.raises(ValueError, match="unknown steps"):
            run("button", tmp_path, url, recipe={"params": {"scenario_extracter": {}}})
        with pytest.raises(ValueError, match="input file"):
            run("button", tmp_path, url)
        with pytest.raises(ValueError, match="subset"):
            run("toolace", tmp_path, url, recipe={"subset": "bad subset"})
        with pytest.raises(ValueError, match="no input file"):
            run("sandbox-agents", tmp_path, url, input_path=tmp_path / "x.jsonl")
        with pytest.raises(ValueError, match="cannot skip"):
            run("button", tmp_path, url, recipe={"skip_steps": ["function_generator"]})


def test_recipe_skips_steps_and_names_the_subset(tmp_path, glaive):
    llm = ScriptedLLM()
    with llm.serve() as url:
        manifest = run("button", tmp_path, url, input_path=glaive,
                       recipe={"skip_steps": ["scenario_expander"], "subset": "glaive_v1", "temperature": 0.7,
                               "params": {"atom_task_generator": {"compositions": ["sequential"]}}})
    assert "scenario_expander" not in manifest["steps"] and "scenario_expander" not in llm.by_step()
    samples = list(iter_samples(tmp_path / "button.jsonl"))
    assert [s[0]["content"] for s in samples] == [f"button_glaive_v1_{k}" for k in range(6)]
    assert manifest["steps"]["para_seq_task_generator"]["not_applicable"] == 6
    assert all(body.get("temperature") == 0.7 for _, body in llm.requests)
