"""τ²-bench's agent + simulated-user loop for `benchmark run`, message for message as τ²-bench's Orchestrator runs it.

* The agent (the model under test, through ``ask``: fc or prompt mode) gets τ²-bench's agent system prompt
  with the domain policy, the domain's agent tools, and the conversation so far, starting with τ²-bench's
  default first agent message ("Hi! How can I help you today?").
* The simulated user (``--user-model`` at ``--user-base-url``) gets τ²-bench's user-simulator system prompt —
  its guidelines (the tools variant when the domain gives the user tools, as telecom does) and the task's
  user scenario — and the conversation with roles flipped, as τ²-bench's ``UserState.flip_roles`` does.
* Tool calls of either side run in the task's domain environment (``tools.tau2_session``: τ²-bench's own
  classes, sandboxed); a tool message goes back to the side that called.
* The conversation ends when a user text holds a stop token (``###STOP###``, ``###TRANSFER###``,
  ``###OUT-OF-SCOPE###``: ``user_stop``), after ``max_steps`` steps (τ²-bench's default, 200) or
  ``max_errors`` tool errors (10) — checked only when the last message is not addressed to the environment,
  as there — or when a side sends an empty message or a call whose arguments are not a JSON object
  (``agent_error`` / ``user_error``; τ²-bench's run fails such a simulation, its reward is 0).

The prediction line, ``{"id", "source_id", "messages", "termination_reason", "steps"}``, is what
``benchmark.scoring.tau2`` scores (the tool answers are the environment's real ones, so its replay agrees).
"""

from __future__ import annotations

import json
from typing import Any, Callable

from ...tools.tau2_runtime import Tau2Runtime
from ...tools.tau2_session import Tau2Session, Tau2Texts, arguments_of
from ..scoring.items import Item, tools_before
from ..scoring.tau2 import own

Ask = Callable[[list[dict], list[dict], str], tuple[dict[str, Any], "list[dict] | None"]]


class LoopError(Exception):
    """An item the loop cannot run (one line, listed in run.json)."""


class Tau2Loop:
    """Drives one τ²-bench conversation per call; ``user`` is a client with ``chat(messages, tools) → message``."""

    def __init__(self, runtime: Tau2Runtime, user: Any, *, max_steps: int | None = None,
                 max_errors: int | None = None) -> None:
        self.runtime, self.user = runtime, user
        self.texts = Tau2Texts.read(runtime)
        self.max_steps = max_steps or self.texts.max_steps
        self.max_errors = max_errors or self.texts.max_errors

    def __call__(self, ask: Ask, item: Item) -> dict[str, Any]:
        info = own(item.sample or [])
        domain, task = info.get("domain"), info.get("task")
        if not isinstance(domain, str) or not isinstance(task, dict):
            raise LoopError("the sample lacks meta.tau2 (domain and task): process tau2-bench again")
        session = Tau2Session(self.runtime, domain, task)
        conversation = Conversation(self.texts, session, tools_before(item.sample or [], len(item.sample or [])))
        reason, steps = conversation.run(ask, self.user, self.max_steps, self.max_errors)
        return {"id": item.sample_id, "source_id": item.source_id, "messages": conversation.trajectory,
                "termination_reason": reason, "steps": steps}


class Conversation:
    """The three views of one conversation: τ²-bench's trajectory, the agent's chat and the user's (flipped) chat."""

    def __init__(self, texts: Tau2Texts, session: Tau2Session, tools: list[dict]) -> None:
        self.texts, self.session, self.tools = texts, session, tools
        greeting = texts.greeting
        self.trajectory: list[dict[str, Any]] = [{"role": "assistant", "content": greeting}]
        self.agent = [{"role": "system", "content": texts.agent_system(session.policy)},
                      {"role": "assistant", "content": greeting}]
        self.user = [{"role": "system", "content": texts.user_system(session.scenario, bool(session.user_tools))},
                     {"role": "user", "content": greeting}]

    def run(self, ask: Ask, user: Any, max_steps: int, max_errors: int) -> tuple[str, int]:
        """(termination reason, steps): the Orchestrator's loop, a step being one message passed on."""
        to, sender, calls = "user", "agent", []
        steps = errors = 0
        while True:
            if to == "user":
                calls, reason = self._user_turn(user, steps)
            elif to == "agent":
                calls, reason = self._agent_turn(ask, steps)
            else:
                errors += self._execute(calls, sender)
                reason = None
            if reason in ("agent_error", "user_error"):
                return reason, steps
            if to == "env":  # the answers go back to the side that called
                to, sender = sender, "env"
            else:
                to, sender = "env" if calls else "agent" if to == "user" else "user", to
            steps += 1
            self.session.sync()
            if to == "env":
                continue
            if steps >= max_steps:
                reason = "max_steps"
            if errors >= max_errors:
                reason = "too_many_errors"
            if reason is not None:
                return reason, steps

    def _user_turn(self, user: Any, step: int) -> tuple[list[dict], str | None]:
        reply = user.chat(self.user, [*self.session.user_tools] or None)
        content = reply.get("content")
        calls = _calls(reply, "user", f"user_{step}")
        if calls is None or not (calls or _has_text(content)):
            return [], "user_error"
        self.trajectory.append(_message("user", content, calls))
        self.user.append({"role": "assistant", "content": content, **({"tool_calls": _openai(calls)} if calls else {})})
        if calls:
            return calls, None
        self.agent.append({"role": "user", "content": content})
        return [], "user_stop" if self.texts.is_stop(content) else None

    def _agent_turn(self, ask: Ask, step: int) -> tuple[list[dict], str | None]:
        reply, decoded = ask(self.agent, self.tools, str(step))
        content = reply.get("content")
        calls: list[dict] | None = []
        for n, call in enumerate(decoded or []):
            arguments = arguments_of(call.get("arguments"))
            if arguments is None:
                calls = None
                break
            sent = (reply.get("tool_calls") or [{}] * (n + 1))[n]
            calls.append({"id": str(sent.get("id") or f"agent_{step}_{n}"), "name": call.get("name") or "",
                          "arguments": arguments, "requestor": "assistant"})
        if calls is None or not (calls or _has_text(content)):
            return [], "agent_error"
        self.agent.append(reply)
        self.trajectory.append(_message("assistant", content, calls))
        if not calls:
            self.user.append({"role": "user", "content": content})
        return calls, None

    def _execute(self, calls: list[dict], requestor: str) -> int:
        """Run the calls in the environment; their answers go to the side that called. Returns the error count."""
        answers = [self.session.respond(call) for call in calls]
        self.trajectory.extend(answers)
        for call, answer in zip(calls, answers):
            if requestor == "agent":
                self.agent.append({"role": "tool", "tool_call_id": answer["id"], "name": call["name"], "content": answer["content"]})
            else:
                self.user.append({"role": "tool", "tool_call_id": answer["id"], "content": answer["content"]})
        return sum(1 for answer in answers if answer["error"])


def _has_text(content: Any) -> bool:
    return isinstance(content, str) and content.strip() != ""


def _message(role: str, content: Any, calls: list[dict]) -> dict[str, Any]:
    message: dict[str, Any] = {"role": role, "content": content if _has_text(content) or not calls else None}
    if calls:
        message["tool_calls"] = calls
    return message


def _calls(reply: dict[str, Any], requestor: str, tag: str) -> list[dict] | None:
    """The OpenAI ``tool_calls`` of a reply as τ²-bench tool calls; None when one is malformed."""
    out = []
    for n, call in enumerate(reply.get("tool_calls") or []):
        function = call.get("function") if isinstance(call, dict) else None
        arguments = arguments_of((function or {}).get("arguments"))
        if not isinstance(function, dict) or not isinstance(function.get("name"), str) or arguments is None:
            return None
        out.append({"id": str(call.get("id") or f"{tag}_{n}"), "name": function["name"], "arguments": arguments,
                    "requestor": requestor})
    return out


def _openai(calls: list[dict]) -> list[dict]:
    return [{"id": c["id"], "type": "function",
             "function": {"name": c["name"], "arguments": json.dumps(c["arguments"], ensure_ascii=False)}} for c in calls]
