"""`benchmark run` on τ²-bench: the agent + simulated-user loop in τ²-bench's own domains, scored by the scorer.

A scripted OpenAI-compatible server on 127.0.0.1 plays both sides: as the agent it replays the task's expected
assistant actions as tool calls (then says the task's communicate info), as the user it opens with its
reference, performs the expected user actions (telecom) when asked, and ends with ``###STOP###``. The
conversations come out of the real loop, so the tool answers are τ²-bench's; their rewards are compared with
τ²-bench's own evaluators imported from the pinned wheel.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from openai_server import serve
from opentoollab.cli.benchmark import benchmark
from opentoollab.format.jsonl import iter_samples
from opentoollab.tools.bfcl_runtime import sandboxed
from opentoollab.tools.tau2_runtime import WHEEL, Tau2Runtime
from wheel_support import fetched_store, pinned_wheel

pytest.importorskip("loguru", reason="τ²-bench's libraries: pip install -e '.[tau2]'")

REFERENCE = re.compile(r"my reference is (\S+)\.")
USER_KEY = "user-secret-key-123"
# tasks per domain (airline, retail: DB + communicate checked; telecom: env assertions on the user's phone)
PICKED = {"airline": 2, "retail": 2, "telecom": 2}
READS = ("get_", "find_", "search", "list_", "calculate", "check_", "can_", "run_speed")


@pytest.fixture(scope="module")
def wheel() -> Path:
    return pinned_wheel(WHEEL, "OPENTOOLLAB_TAU2_WHEEL")


@pytest.fixture(scope="module")
def store(wheel, tmp_path_factory):
    return fetched_store(tmp_path_factory.mktemp("tau2run"), wheel, "tau2")


@pytest.fixture(scope="module")
def runtime(wheel) -> Tau2Runtime:
    return Tau2Runtime(wheel)


@pytest.fixture(scope="module")
def picked(store) -> list[list]:
    """The first tasks of each domain checked on the environment's state that change it (an action that is no read)."""
    out = []
    for domain, count in PICKED.items():
        found = []
        for sample in iter_samples(store.processed_dir("tau2-bench") / f"{domain}.jsonl"):
            criteria = sample[1]["content"]["tau2"]["task"]["evaluation_criteria"]
            basis = criteria.get("reward_basis") or ["DB", "COMMUNICATE"]
            if {"DB", "ENV_ASSERTION"} & set(basis) and any(
                    not a["name"].startswith(READS) for a in criteria.get("actions") or []):
                found.append(sample)
            if len(found) == count:
                break
        out += found
    return out


class Script:
    """Both sides of the conversation, walking each task's action list with one shared cursor."""

    def __init__(self, samples: list[list], runtime: Tau2Runtime, wrong: bool = False) -> None:
        self.plans, self.info, self.scenarios = {}, {}, {}
        tasks = runtime.module("data_model.tasks").Task
        for sample in samples:
            task = sample[1]["content"]["tau2"]["task"]
            actions = copy.deepcopy(task["evaluation_criteria"].get("actions") or [])
            if wrong:
                _spoil_last_write(actions)
            self.plans[task["id"]] = actions
            self.info[task["id"]] = task["evaluation_criteria"].get("communicate_info") or []
            with sandboxed():
                self.scenarios[task["id"]] = str(tasks.model_validate(task).user_scenario)
        self.cursor = {task_id: 0 for task_id in self.plans}
        self.bodies: list[tuple[str, dict]] = []
        self.lock = threading.Lock()

    def answer(self, path: str, body: dict) -> tuple[int, dict]:
        system = body["messages"][0]["content"]
        side = "agent" if system.startswith("<instructions>") else "user"
        with self.lock:
            self.bodies.append((side, body))
            message = self.agent(body) if side == "agent" else self.user(body, system)
        return 200, {"choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}

    def agent(self, body: dict) -> dict:
        first = next(m["content"] for m in body["messages"] if m["role"] == "user")
        task_id = REFERENCE.search(first).group(1)
        actions, n = self.plans[task_id], self.cursor[task_id]
        if n < len(actions) and actions[n].get("requestor", "assistant") == "assistant":
            self.cursor[task_id] += 1
            return _call(f"call_{n}", actions[n])
        if n < len(actions):
            return {"role": "assistant", "content": f"Please do {actions[n]['name']} on your phone."}
        return {"role": "assistant", "content": " ".join(["All done."] + [str(i) for i in self.info[task_id]])}

    def user(self, body: dict, system: str) -> dict:
        task_id = next(t for t, scenario in self.scenarios.items() if scenario in system)
        if not any(m["role"] == "assistant" for m in body["messages"]):
            return {"role": "assistant", "content": f"Hello, my reference is {task_id}."}
        actions, n = self.plans[task_id], self.cursor[task_id]
        if n < len(actions) and actions[n].get("requestor") == "user":
            self.cursor[task_id] += 1
            return _call(f"user_call_{n}", actions[n])
        if n >= len(actions) and body["messages"][-1]["content"].startswith("All done."):
            return {"role": "assistant", "content": "Thank you! ###STOP###"}
        return {"role": "assistant", "content": "Okay, please go on."}


def _call(call_id: str, action: dict) -> dict:
    return {"role": "assistant", "content": None, "tool_calls": [
        {"id": call_id, "type": "function", "function": {"name": action["name"], "arguments": json.dumps(action["arguments"])}}]}


def _spoil_last_write(actions: list[dict]) -> None:
    """The last action that changes the world gets its first argument changed (dropped when it has none)."""
    for index in range(len(actions) - 1, -1, -1):
        action = actions[index]
        if not action["name"].startswith(READS):
            key = next(iter(action["arguments"]), None)
            if key is None:
                del actions[index]
            else:
                value = action["arguments"][key]
                action["arguments"][key] = value + "_x" if isinstance(value, str) else [] if isinstance(value, list) else 999
            return


def _run(store, samples, tmp_path, script, *extra: str):
    data = tmp_path / "tasks.jsonl"
    data.write_text("".join(json.dumps(s) + "\n" for s in samples), encoding="utf-8")
    with serve(script.answer) as url:
        result = CliRunner().invoke(benchmark, ["run", "-d", str(data), "--model", "agent-m", "--base-url", url,
                                                "--user-model", "user-m", "--user-base-url", url, "--out", str(tmp_path / "out"),
                                                "--data-dir", str(store.root), "-q", "-j", "2", *extra],
                                    env={"OPENTOOLLAB_USER_API_KEY": USER_KEY})
    return result, tmp_path / "out"


def _official_reward(runtime, sample, line) -> float:
    """τ²-bench's own evaluators (environment, action, communicate) on the conversation, over the task's basis."""
    task = runtime.module("data_model.tasks").Task.model_validate(sample[1]["content"]["tau2"]["task"])
    classes = runtime.module("data_model.message")
    kinds = {"assistant": classes.AssistantMessage, "user": classes.UserMessage, "tool": classes.ToolMessage}
    trajectory = [kinds[m["role"]].model_validate(m) for m in line["messages"]]
    domain = sample[1]["content"]["tau2"]["domain"]
    basis = {b.value for b in task.evaluation_criteria.reward_basis}
    reward = 1.0
    with sandboxed():
        if basis & {"DB", "ENV_ASSERTION"}:
            reward *= runtime.module("evaluator.evaluator_env").EnvironmentEvaluator.calculate_reward(
                environment_constructor=lambda solo_mode=False: runtime.environment(domain), task=task,
                full_trajectory=trajectory).reward
    if "ACTION" in basis:
        reward *= runtime.module("evaluator.evaluator_action").ActionEvaluator.calculate_reward(
            task=task, full_trajectory=trajectory).reward
    if "COMMUNICATE" in basis:
        reward *= runtime.module("evaluator.evaluator_communicate").CommunicateEvaluator.calculate_reward(
            task=task, full_trajectory=trajectory).reward
    return reward


@pytest.mark.slow  # the parity sweep: .ci/run's second tier (pytest -m slow)
@pytest.mark.parametrize("wrong", [False, True], ids=["gold", "wrong_write"])
def test_loop_rewards_gold_1_and_a_wrong_write_0_like_the_official_evaluator(store, runtime, picked, tmp_path, wrong):
    script = Script(picked, runtime, wrong=wrong)
    result, out = _run(store, picked, tmp_path, script)
    assert result.exit_code == 0, result.output
    lines = {line["id"]: line for line in map(json.loads, (out / "predictions.jsonl").read_text().splitlines())}
    rows = {row["sample_id"]: row for row in map(json.loads, (out / "results.jsonl").read_text().splitlines())}
    assert len(lines) == len(picked) == len(rows)
    for sample in picked:
        sid = sample[0]["content"]
        line = lines[sid]
        assert line["termination_reason"] == "user_stop" and line["messages"][0]["content"] == "Hi! How can I help you today?"
        assert line["messages"][-1] == {"role": "user", "content": "Thank you! ###STOP###"}
        reward = rows[sid]["scores"]["reward"]
        assert reward == (0.0 if wrong else 1.0), (sid, rows[sid])
        assert reward == _official_reward(runtime, sample, line), sid
    summary = json.loads((out / "summary.json").read_text())
    assert {d: e["pass^1"] for d, e in summary["tau2"].items()} == {
        f"tau2-bench/{d}": 0.0 if wrong else 1.0 for d in PICKED}
    user_calls = [c for line in lines.values() for m in line["messages"] if m["role"] == "user" for c in m.get("tool_calls") or []]
    assert user_calls and all(c["requestor"] == "user" for c in user_calls)  # telecom's user acted on the phone
    assert USER_KEY not in (out / "run.json").read_text() and USER_KEY not in result.output


def test_what_each_side_is_told(store, runtime, picked, tmp_path):
    script = Script(picked[-1:], runtime)  # a telecom task: the user has tools
    result, _out = _run(store, picked[-1:], tmp_path, script)
    assert result.exit_code == 0, result.output
    folder = Path(runtime.folder) / "tau2"
    agent = next(body for side, body in script.bodies if side == "agent")
    user = next(body for side, body in script.bodies if side == "user")
    env = runtime.environment("telecom")
    assert agent["tools"] == [t.openai_schema for t in env.get_tools()]
    assert agent["messages"][0]["content"].endswith(f"<policy>\n{env.get_policy()}\n</policy>")
    assert "You are a customer service agent" in agent["messages"][0]["content"]
    assert agent["messages"][1:3] == [{"role": "assistant", "content": "Hi! How can I help you today?"},
                                      {"role": "user", "content": f"Hello, my reference is {picked[-1][1]['content']['source_id']}."}]
    guidelines = (folder / "data/tau2/user_simulator/simulation_guidelines_tools.md").read_text()
    task_id = picked[-1][1]["content"]["source_id"]
    assert user["messages"][0]["content"] == f"{guidelines}\n\n<scenario>\n{script.scenarios[task_id]}\n</scenario>".strip()
    assert user["messages"][1] == {"role": "user", "content": "Hi! How can I help you today?"}  # roles flipped
    assert user["tools"] == [t.openai_schema for t in env.get_user_tools()]
    assert all(body["model"] == ("agent-m" if side == "agent" else "user-m") for side, body in script.bodies)


def test_max_steps_bound_resume_and_refusal(store, runtime, picked, tmp_path):
    chatty = lambda path, body: (200, {"choices": [{"message": {"role": "assistant", "content": "Tell me more."}}]})  # noqa: E731
    data = tmp_path / "one.jsonl"
    data.write_text(json.dumps(picked[0]) + "\n", encoding="utf-8")
    args = ["run", "-d", str(data), "--model", "m", "--out", str(tmp_path / "o"), "--data-dir", str(store.root), "-q"]
    with serve(chatty) as url:
        result = CliRunner().invoke(benchmark, [*args, "--base-url", url, "--user-model", "u", "--max-steps", "7"])
        assert result.exit_code == 0, result.output
        line = json.loads((tmp_path / "o" / "predictions.jsonl").read_text())
        assert (line["termination_reason"], line["steps"], len(line["messages"])) == ("max_steps", 7, 8)
        row = json.loads((tmp_path / "o" / "results.jsonl").read_text())
        assert row["error_type"] == "tau2:premature_termination" and row["scores"]["reward"] == 0.0
        again = CliRunner().invoke(benchmark, [*args, "--base-url", url, "--user-model", "u"])
        assert json.loads((tmp_path / "o" / "run.json").read_text())["skipped"] == 1 and again.exit_code == 0
        refused = CliRunner().invoke(benchmark, ["run", "-d", str(data), "--model", "m", "--base-url", url, "-q",
                                                 "--out", str(tmp_path / "r"), "--data-dir", str(store.root)])
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    assert "--user-model" in json.loads((tmp_path / "r" / "run.json").read_text())["failures"][0]["error"]


def test_malformed_agent_arguments_end_the_conversation_as_an_agent_error(store, runtime, picked, tmp_path):
    def answer(path, body):
        if body["messages"][0]["content"].startswith("<instructions>"):
            message = {"role": "assistant", "content": None, "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "get_user_details", "arguments": "{not json"}}]}
        else:
            message = {"role": "assistant", "content": "Hi, I need help."}
        return 200, {"choices": [{"message": message}]}

    data = tmp_path / "one.jsonl"
    data.write_text(json.dumps(picked[0]) + "\n", encoding="utf-8")
    with serve(answer) as url:
        result = CliRunner().invoke(benchmark, ["run", "-d", str(data), "--model", "m", "--base-url", url, "--user-model", "u",
                                                "--out", str(tmp_path / "o"), "--data-dir", str(store.root), "-q"])
    assert result.exit_code == 0, result.output
    line = json.loads((tmp_path / "o" / "predictions.jsonl").read_text())
    assert line["termination_reason"] == "agent_error" and [m["role"] for m in line["messages"]] == ["assistant", "user"]
    assert json.loads((tmp_path / "o" / "results.jsonl").read_text())["scores"]["reward"] == 0.0
