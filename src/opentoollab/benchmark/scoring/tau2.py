"""τ²-bench scoring: the reward of a conversation as τ²-bench's evaluator computes it (DB, env, action, communicate).

A prediction is a finished conversation in τ²-bench's message form: ``{"id", "messages": [{role:
"assistant"|"user"|"tool", content, tool_calls: [{id, name, arguments, requestor}]}, …],
"termination_reason"?}`` (a ``tool`` message answers the call with its ``id``). Rules, from
``tau2/evaluator`` of the pinned release (reimplemented; the parity test runs the official classes beside):

* a conversation that did not end by ``agent_stop``/``user_stop`` scores 0 (no reason given: a normal end);
* **DB**: the conversation's tool calls are replayed in a fresh domain environment (``tools.tau2_runtime``:
  τ²-bench's own classes, sandboxed) after the task's initial state; the expected actions are run in
  another; the agent and user databases must hash the same. Replaying checks each recorded tool answer
  against the real one (τ²-bench refuses a conversation whose tool answers were not produced by its tools:
  ``tau2:trajectory_mismatch``). **Env assertions** run on the replayed environment;
* **action**: every expected action is matched by some call of the conversation — same name and equal
  ``compare_args`` (all the *call's* arguments when the task gives none, so a call may leave some out);
* **communicate**: each expected string occurs, lower-cased, in an assistant text with commas removed;
* reward = product over the task's reward basis (DB and env assertions together, action, communicate).
  **NL assertions** need an LLM judge: a task whose reward basis holds them is not scored offline
  (``tau2:nl_assertions_not_scored``); others report which criteria they carry but do not use.
"""

from __future__ import annotations

from typing import Any

from ...format.sample import meta
from ...tools.bfcl_runtime import RuntimeUnavailable, sandboxed

STOPS = ("agent_stop", "user_stop")
DEFAULT_BASIS = ("DB", "COMMUNICATE")


def own(sample: list[dict[str, Any]]) -> dict[str, Any]:
    value = meta(sample).get("tau2")
    return value if isinstance(value, dict) else {}


def tool_calls(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every tool call of the conversation's assistant and user messages, in order."""
    calls = []
    for message in messages:
        if isinstance(message, dict) and message.get("role") in ("assistant", "user") and message.get("tool_calls") is not None:
            calls.extend(c for c in message["tool_calls"] if isinstance(c, dict))
    return calls


def action_matches(action: dict[str, Any], call: dict[str, Any]) -> bool:
    """τ²-bench's ``Action.compare_with_tool_call``."""
    if action.get("name") != call.get("name"):
        return False
    arguments = call.get("arguments") if isinstance(call.get("arguments"), dict) else {}
    keys = action.get("compare_args")
    keys = list(arguments.keys()) if keys is None else keys
    if len(keys) == 0:
        return True
    return {k: v for k, v in arguments.items() if k in keys} == {k: v for k, v in action.get("arguments", {}).items() if k in keys}


def action_reward(messages: list[dict[str, Any]], actions: list[dict[str, Any]] | None) -> float:
    if not actions:
        return 1.0
    calls = tool_calls(messages)
    return 1.0 if all(any(action_matches(a, c) for c in calls) for a in actions) else 0.0


def communicate_reward(messages: list[dict[str, Any]], info: list[str] | None) -> float:
    if not info:
        return 1.0
    texts = [m["content"].lower().replace(",", "") for m in messages if isinstance(m, dict) and m.get("role") == "assistant"
             and isinstance(m.get("content"), str) and m["content"].strip()]
    return 1.0 if all(any(item.lower() in text for text in texts) for item in info) else 0.0


class TrajectoryMismatch(ValueError):
    """The conversation's tool answers are not what the domain's tools return (τ²-bench raises too)."""


def environment_rewards(runtime: Any, domain: str, task: dict[str, Any], messages: list[dict[str, Any]]) -> tuple[float, float]:
    """(DB reward, env-assertion reward) — τ²-bench's ``EnvironmentEvaluator``, by its own environment classes."""
    criteria = task.get("evaluation_criteria") or {}
    if criteria.get("actions") is None and criteria.get("env_assertions") is None:
        return 1.0, 1.0
    task_model = runtime.module("data_model.tasks").Task.model_validate(task)
    state = task_model.initial_state
    data = state.initialization_data if state is not None else None
    init_actions = state.initialization_actions if state is not None else None
    history = (state.message_history or []) if state is not None else []
    trajectory = [to_message(runtime, m) for m in messages]
    predicted, gold = runtime.environment(domain), runtime.environment(domain)
    with sandboxed():
        try:
            predicted.set_state(initialization_data=data, initialization_actions=init_actions, message_history=trajectory)
        except ValueError as exc:
            raise TrajectoryMismatch(str(exc)[:300]) from None
        gold.set_state(initialization_data=data, initialization_actions=init_actions, message_history=history)
        for action in task_model.evaluation_criteria.actions or []:
            try:
                gold.make_tool_call(tool_name=action.name, requestor=action.requestor, **action.arguments)
            except Exception:  # τ²-bench logs and goes on
                pass
        same = gold.get_db_hash() == predicted.get_db_hash() and gold.get_user_db_hash() == predicted.get_user_db_hash()
        assertions = 1.0
        for assertion in task_model.evaluation_criteria.env_assertions or []:
            assertions *= 1.0 if predicted.run_env_assertion(assertion, raise_assertion_error=False) else 0.0
    return (1.0 if same else 0.0), assertions


def to_message(runtime: Any, message: Any) -> Any:
    """A message dict → τ²-bench's message model (ValueError when it is not one)."""
    models = runtime.module("data_model.message")
    kinds = {"assistant": models.AssistantMessage, "user": models.UserMessage, "tool": models.ToolMessage,
             "system": models.SystemMessage}
    if not isinstance(message, dict) or message.get("role") not in kinds:
        raise TrajectoryMismatch(f"not a τ²-bench message: {str(message)[:200]}")
    try:
        return kinds[message["role"]].model_validate(message)
    except ValueError as exc:
        raise TrajectoryMismatch(f"malformed {message['role']} message: {str(exc)[:200]}") from None


def score_sample(sample: list[dict[str, Any]], value: dict[str, Any], runtimes: dict[str, Any] | None = None) -> dict[str, Any]:
    """Verdict (reward == 1) with ``scores``: reward and each part the task's basis uses."""
    runtime = (runtimes or {}).get("tau2-bench")
    info = own(sample)
    task, domain = info.get("task") or {}, info.get("domain")
    messages = value.get("messages")
    if not isinstance(messages, list):
        return {"valid": False, "error_type": "tau2:no_messages", "error": "prediction needs 'messages' (the conversation)"}
    criteria = task.get("evaluation_criteria")
    raw_basis = criteria.get("reward_basis") if isinstance(criteria, dict) else None
    basis = set(DEFAULT_BASIS) if raw_basis is None else set(raw_basis)
    reason = value.get("termination_reason")
    if reason is not None and reason not in STOPS:
        return _verdict(0.0, {}, f"terminated early: {reason}", "tau2:premature_termination")
    if criteria is None:
        return _verdict(1.0, {}, None, None)
    if "NL_ASSERTION" in basis:
        return {"valid": False, "error_type": "tau2:nl_assertions_not_scored",
                "error": "the reward basis holds NL assertions (needs an LLM judge)", "scores": {"not_scored": True}}
    parts: dict[str, float] = {}
    if basis & {"DB", "ENV_ASSERTION"}:
        if runtime is None:
            return {"valid": False, "error_type": "tau2:no_environment", "error": "τ²-bench's environments are not available"}
        try:
            db, assertions = environment_rewards(runtime, domain, task, messages)
        except TrajectoryMismatch as exc:
            return _verdict(0.0, {}, str(exc), "tau2:trajectory_mismatch")
        except RuntimeUnavailable as exc:
            return {"valid": False, "error_type": "tau2:no_environment", "error": str(exc)}
        except Exception as exc:  # τ²-bench's own code failed on this conversation (or the sandbox refused it)
            return _verdict(0.0, {}, f"{type(exc).__name__}: {str(exc)[:200]}", "tau2:environment_error")
        if "DB" in basis:
            parts["db"] = db
        if "ENV_ASSERTION" in basis:
            parts["env_assertion"] = assertions
    if "ACTION" in basis:
        parts["action"] = action_reward(messages, criteria.get("actions"))
    if "COMMUNICATE" in basis:
        parts["communicate"] = communicate_reward(messages, criteria.get("communicate_info"))
    reward = 1.0
    for part in parts.values():
        reward *= part
    wrong = [k for k, v in parts.items() if v < 1.0]
    return _verdict(reward, parts, f"failed: {', '.join(wrong)}" if wrong else None, "tau2:reward_0" if wrong else None)


def _verdict(reward: float, parts: dict[str, float], error: str | None, error_type: str | None) -> dict[str, Any]:
    return {"valid": reward == 1.0, "error_type": error_type, "error": error, "scores": {"reward": reward, **parts}}


def layout(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per domain: pass^1 (mean reward over scored conversations), each part's mean, and what was not scored."""
    out: dict[str, Any] = {}
    for row in rows:
        scores = row.get("scores")
        if not isinstance(scores, dict) or row.get("sample_id") is None:
            continue
        entry = out.setdefault(row["category"], {"scored": 0, "not_scored_nl_assertions": 0, "sums": {}, "counts": {}})
        if scores.get("not_scored"):
            entry["not_scored_nl_assertions"] += 1
            continue
        entry["scored"] += 1
        for key, number in scores.items():
            entry["sums"][key] = entry["sums"].get(key, 0.0) + number
            entry["counts"][key] = entry["counts"].get(key, 0) + 1
    for entry in out.values():
        sums, counts = entry.pop("sums"), entry.pop("counts")
        entry["pass^1"] = sums.get("reward", 0.0) / entry["scored"] if entry["scored"] else None
        # each part over the conversations that reached it (an early stop scores 0 without parts)
        entry["parts"] = {k: v / counts[k] for k, v in sums.items() if k != "reward"}
    return out


def tables(layout: dict[str, Any]) -> list[tuple[list[str], list[dict[str, Any]], str | None]]:
    """pass^1 and its parts per domain, for the command line: (columns, rows, note)."""
    from .report import percent

    rows = [{"τ²-bench": category, "n": entry["scored"],
             "pass^1": percent(entry["pass^1"]) if entry["pass^1"] is not None else "-",
             **{k: percent(v) for k, v in entry["parts"].items()}, "NL not scored": entry["not_scored_nl_assertions"]}
            for category, entry in layout.items()]
    return [(["τ²-bench", "n", "pass^1", "db", "env_assertion", "action", "communicate", "NL not scored"], rows,
             "NL assertions need an LLM judge: tasks whose reward uses them are not scored offline")]
