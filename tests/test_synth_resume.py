"""What the step cache promises: crash and resume, prompt edits, bad servers, bounded concurrency, no secrets.

Requests are counted on the scripted server (tests/scripted_llm.py), never inferred from the client.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
from collections import Counter
from importlib import resources

import pytest

from opentoollab.format.jsonl import iter_samples
from opentoollab.format.validate import validate_sample
from opentoollab.llm import Client
from scripted_llm import ScriptedLLM, digest, say
from synth_helpers import SANDBOX_RECIPE, client_for, glaive_file, run

BUTTON_STEPS = ["scenario_extractor", "scenario_expander", "atom_task_generator", "sequential_task_generator",
                "para_seq_task_generator", "composition_task_filter", "function_generator",
                "multi_turn_conversation_generator"]


@pytest.fixture()
def glaive(tmp_path, shared):
    return glaive_file(tmp_path, shared)


@pytest.fixture()
def ctrl_c():
    """Ctrl-C raises KeyboardInterrupt here even when the test process was started with SIGINT ignored
    (background jobs of non-interactive shells are)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def interrupt_after(k: int):
    """A fault hook that presses Ctrl-C (SIGINT to this process) when the k-th request arrives."""
    def fault(number, stem, body):
        if number == k:
            os.kill(os.getpid(), signal.SIGINT)
        return None
    return fault


@pytest.mark.parametrize("pipeline, kill_at", [("button", 40), ("button", 100), ("sandbox-agents", 17)])
def test_killed_run_resumes_with_zero_repeated_requests(tmp_path, glaive, ctrl_c, pipeline, kill_at):
    kwargs = {"input_path": glaive} if pipeline == "button" else {"n": 6, "recipe": SANDBOX_RECIPE}
    reference = ScriptedLLM()
    with reference.serve() as url:
        run(pipeline, tmp_path / "reference", url, **kwargs)
    total = len(reference.requests)
    assert total > kill_at

    llm = ScriptedLLM(fault=interrupt_after(kill_at))
    with llm.serve() as url:
        with pytest.raises(KeyboardInterrupt):
            run(pipeline, tmp_path, url, **kwargs)
        assert not (tmp_path / f"{pipeline}.jsonl").exists()  # nothing half-written
        answered = llm.bodies()
        assert kill_at <= len(answered) < total
        llm.fault = None
        manifest = run(pipeline, tmp_path, url, **kwargs)
    resumed = llm.bodies()[len(answered):]
    assert not set(resumed) & set(answered), "a request answered before the kill was asked again"
    assert len(answered) + len(resumed) == total
    assert manifest["failures"]["total"] == 0
    assert (tmp_path / f"{pipeline}.jsonl").read_bytes() == (tmp_path / "reference" / f"{pipeline}.jsonl").read_bytes()


def test_prompt_edit_recomputes_only_that_step_and_later(tmp_path, glaive):
    llm = ScriptedLLM()
    with llm.serve() as url:
        run("button", tmp_path, url, input_path=glaive)
        first = llm.by_step()
        llm.reset()
        prompts = tmp_path / "prompts"
        prompts.mkdir()
        original = resources.files("opentoollab.datasets.synth").joinpath("prompts", "atom_task_generator.txt")
        (prompts / "atom_task_generator.txt").write_text(original.read_text("utf-8") + "Prefer tasks with dates.\n")
        manifest = run("button", tmp_path, url, input_path=glaive, recipe={"prompts_dir": str(prompts)})
    second = llm.by_step()
    edited = BUTTON_STEPS.index("atom_task_generator")
    assert all(second[step] == 0 for step in BUTTON_STEPS[:edited])
    assert all(second[step] == first[step] > 0 for step in BUTTON_STEPS[edited:])
    assert manifest["steps"]["scenario_expander"]["cache_hits"] == 3
    edited_prompt = next(b for stem, b in llm.requests if stem == "atom_task_generator")
    assert "Prefer tasks with dates." in edited_prompt["messages"][-1]["content"]


def test_a_parameter_change_recomputes_that_step_and_same_outputs_stop_there(tmp_path, glaive):
    """The scripted function generator answers the same functions whatever its prompt says: the step is
    asked again (its key changed), but its outputs are the same, so the dialogues downstream are cache hits."""
    llm = ScriptedLLM()
    with llm.serve() as url:
        run("button", tmp_path, url, input_path=glaive)
        llm.reset()
        run("button", tmp_path, url, input_path=glaive, recipe={"params": {"function_generator": {"max_functions": 4}}})
    assert llm.by_step() == {"function_generator": 12}


def faulty_server() -> ScriptedLLM:
    """The first request of six steps goes wrong, each in its own way; everything else is answered."""
    seen: Counter = Counter()

    def fault(number, stem, body):
        seen[stem] += 1
        if seen[stem] > 1:
            return None
        if stem == "scenario_expander":
            return 200, {"choices": [{"message": {"content": "Sure! Scenarios: a bank, a shop"}}]}
        if stem == "atom_task_generator":
            return 200, b"<html>502 Bad Gateway</html>"
        if stem == "sequential_task_generator":
            return 500, {"error": "CUDA out of memory"}
        if stem == "para_seq_task_generator":
            time.sleep(3.0)  # far past the client's timeout, which itself leaves a loaded machine room to answer
            return None
        if stem == "composition_task_filter":
            return 200, {"choices": [{"message": {"content": "I'm sorry, but I can't help with that."}}]}
        if stem == "function_generator":
            return 200, {"choices": [{"message": {"content": json.dumps({"functions": [{"name": "bad name!"}]})}}]}
        return None

    tolerant = {"scenario_extractor": lambda b: {"role": "assistant", "content": 'Here you go:\n```json\n'
                                                 f'{{"scenario": "Trip {digest(b["messages"])}",}}\n```'}}
    return ScriptedLLM(tolerant, fault=fault)


def test_bad_server_run_completes_and_records_every_failure(tmp_path, glaive):
    llm = faulty_server()
    with llm.serve() as url:
        client = client_for(url, max_concurrency=2)
        client.retries, client.timeout = 0, 1.0
        manifest = run("button", tmp_path, url, input_path=glaive, client=client)
    expected = {"bad_json": 1, "malformed": 1, "http": 1, "timeout": 1, "refusal": 1, "invalid": 1}
    assert manifest["failures"]["by_kind"] == expected
    per_step = {name: s["failures"] for name, s in manifest["steps"].items() if s["failures"]}
    assert per_step == {"scenario_expander": {"bad_json": 1}, "atom_task_generator": {"malformed": 1},
                        "sequential_task_generator": {"http": 1}, "para_seq_task_generator": {"timeout": 1},
                        "composition_task_filter": {"refusal": 1}, "function_generator": {"invalid": 1}}
    rows = [json.loads(line) for line in (tmp_path / "button.failures.jsonl").read_text().splitlines()]
    assert Counter(r["kind"] for r in rows) == expected
    assert all(r["step"] and r["record"] and len(r["key"]) == 64 and r["message"] for r in rows)
    raw = {r["kind"]: r["raw"] for r in rows}
    assert "I'm sorry" in raw["refusal"] and "bad name!" in raw["invalid"] and "a bank" in raw["bad_json"]
    samples = list(iter_samples(tmp_path / "button.jsonl"))
    assert samples and len(samples) == manifest["samples"]["out"] < 12
    assert all(validate_sample(s) == [] for s in samples)
    # the tolerant reader took the fenced answer with a trailing comma
    assert manifest["steps"]["scenario_extractor"]["failures"] == {}

    # the next run (healthy server) retries exactly the failed records, and nothing answered before
    healthy = ScriptedLLM(faulty_server().handlers)
    with healthy.serve() as url:
        manifest = run("button", tmp_path, url, input_path=glaive)
    assert manifest["failures"]["total"] == 0 and manifest["samples"]["out"] == 12
    retried = {name: s["computed"] for name, s in manifest["steps"].items()}
    assert retried["scenario_extractor"] == 0
    assert retried["scenario_expander"] == 1 and retried["atom_task_generator"] == 1 + 2  # + the new scenario's


def test_recorded_failures_can_be_left_alone(tmp_path, glaive):
    with faulty_server().serve() as url:
        client = client_for(url)
        client.retries = 0
        run("button", tmp_path, url, input_path=glaive, client=client)
    llm = ScriptedLLM()
    with llm.serve() as url:
        manifest = run("button", tmp_path, url, input_path=glaive, recipe={"retry_failures": False})
    assert llm.requests == []  # failures stay failures, nothing else is missing
    assert manifest["failures"]["total"] >= 5
    assert all(r["message"].startswith("(recorded earlier") for r in
               map(json.loads, (tmp_path / "button.failures.jsonl").read_text().splitlines()) if r["kind"] != "filtered")


def test_concurrency_limit_is_respected_across_load_balanced_servers(tmp_path, glaive):
    llm = ScriptedLLM(delay=0.02)
    with llm.serve() as url_a, llm.serve() as url_b:
        client = Client.from_options([url_a, url_b], "test-model", max_concurrency=3, timeout=5)
        run("button", tmp_path, url_a, input_path=glaive, client=client)
    assert 2 <= llm.max_inflight <= 3
    assert all(e["requests"] > 20 for e in client.stats()["endpoints"])


def test_secrets_never_reach_cache_manifest_or_outputs(tmp_path, glaive, monkeypatch):
    secret = "sk-test-SECRET-4242"
    with ScriptedLLM().serve() as url:
        manifest = run("button", tmp_path, url, input_path=glaive, client=client_for(url, api_key=secret))
        monkeypatch.setenv("OPENAI_API_KEY", secret)
        run("button", tmp_path / "env", url, input_path=glaive, client=client_for(url))
    assert secret not in json.dumps(manifest)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name.startswith("cache.sqlite") for p in files)
    for path in files:
        assert secret.encode() not in path.read_bytes(), path


def test_the_sandbox_never_simulates(tmp_path):
    """No tool agent exists for real environments: a scripted 'tool' step would never be asked."""
    llm = ScriptedLLM({"agent_dialogue.tool": lambda b: say({"result": "SIMULATED"})})
    with llm.serve() as url:
        run("sandbox-agents", tmp_path, url, n=4, recipe=SANDBOX_RECIPE)
    assert "agent_dialogue.tool" not in {stem for stem, _ in llm.requests}
    assert "SIMULATED" not in (tmp_path / "sandbox-agents.jsonl").read_text()


def test_cache_survives_a_copy_and_other_paths(tmp_path, glaive):
    """Keys hold content, not positions or paths: a copied cache and a moved input still hit."""
    llm = ScriptedLLM()
    with llm.serve() as url:
        run("button", tmp_path / "a", url, input_path=glaive)
        shutil.copytree(tmp_path / "a", tmp_path / "b")
        moved = tmp_path / "elsewhere" / "chats.jsonl"
        moved.parent.mkdir()
        lines = glaive.read_text().splitlines(keepends=True)
        moved.write_text("".join(reversed(lines)))  # other order, other path
        llm.reset()
        run("button", tmp_path / "b", url, input_path=moved)
    assert llm.requests == []
