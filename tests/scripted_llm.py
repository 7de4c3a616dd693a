"""A scripted OpenAI-compatible model for pipeline tests, on ``tests/openai_server.serve`` (127.0.0.1).

Every built-in prompt template starts its system message with ``Step: <template stem>``; the server
answers by that stem with a handler (``body → message dict``). Default handlers give valid answers
for every step of the built-in pipelines, derived from a digest of the request so that a changed
upstream prompt changes every answer downstream. The server counts requests per stem, remembers
each request body, measures the most requests in flight at once, and can inject faults
(``fault(n, stem, body) → (status, payload) | None``, n = 1-based request number).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import threading
import time
from collections import Counter
from typing import Any, Callable, Iterator

from openai_server import serve

STEP_RE = re.compile(r"^Step: (\S+)", re.M)
Handler = Callable[[dict], dict]


def digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:8]


def say(value: Any) -> dict:
    """An assistant message whose content is ``value`` as JSON text."""
    return {"role": "assistant", "content": json.dumps(value)}


def stem_of(body: dict) -> str:
    for message in body.get("messages", []):
        if message.get("role") == "system":
            match = STEP_RE.search(message.get("content") or "")
            if match:
                return match.group(1)
    return "?"


def user_text(body: dict) -> str:
    return "\n".join(m.get("content") or "" for m in body["messages"] if m["role"] == "user")


# ---------------------------------------------------------------------------------- agent behaviour
def fill(schema: dict, carry: Any = None) -> dict:
    """Arguments for a declaration: required parameters (or the first one) with plain values."""
    properties = schema.get("properties") or {}
    names = schema.get("required") or list(properties)[:1]
    out = {}
    for name in names:
        kind = (properties.get(name) or {}).get("type", "string")
        items = ((properties.get(name) or {}).get("items") or {}).get("type")
        number = carry if isinstance(carry, (int, float)) and not isinstance(carry, bool) else None
        if kind == "integer":
            out[name] = int(number) if number is not None else 12
        elif kind == "number":
            out[name] = number if number is not None else 12.5
        elif kind == "boolean":
            out[name] = True
        elif kind == "array":
            out[name] = [number if number is not None else 12, 30] if items in ("number", "integer") else ["alpha"]
        elif kind == "object":
            out[name] = {}
        else:
            out[name] = "Lisbon"
    return out


def _number_in(result: Any) -> Any:
    if isinstance(result, (int, float)) and not isinstance(result, bool):
        return result
    if isinstance(result, dict):
        for value in result.values():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return value
    return None


def assistant(body: dict) -> dict:
    """Calls tools[k] on each round after the user (at most two rounds), carrying a number from the last
    result into the next call's arguments (a dependency the sample links); then answers in text."""
    tools = body.get("tools") or []
    messages = body["messages"]
    last_user = max(i for i, m in enumerate(messages) if m["role"] == "user")
    rounds = sum(1 for m in messages[last_user:] if m["role"] == "assistant" and m.get("tool_calls"))
    last = messages[-1]
    if tools and (last["role"] == "user" or (last["role"] == "tool" and rounds < 2 and len(tools) > 1)):
        carry = _number_in(json.loads(last["content"])) if last["role"] == "tool" and last["content"][:1] in "{[0123456789" else None
        tool = tools[rounds % len(tools)]["function"]
        arguments = fill(tool.get("parameters") or {}, carry)
        return {"role": "assistant", "content": None, "tool_calls": [
            {"id": f"call_{digest([messages, rounds])}", "type": "function",
             "function": {"name": tool["name"], "arguments": json.dumps(arguments)}}]}
    return {"role": "assistant", "content": f"All done ({digest(messages)})."}


def user(body: dict) -> dict:
    text = user_text(body)
    if "Conversation so far" not in text:
        return say({"message": f"Please help me with my task {digest(body['messages'])}.", "done": False})
    if text.rstrip().splitlines()[-1].startswith("[new tools available]"):
        return say({"message": "You have the tool now, please go ahead.", "done": False})
    system = body["messages"][0]["content"]
    if "ONE goal per turn" in system and text.count("[user]") < 2:
        return say({"message": f"Next goal please {digest(body['messages'])}.", "done": False})
    return say({"message": "", "done": True})


def tool(body: dict) -> dict:
    return say({"result": {"value": 1000 + int(digest(body["messages"]), 16) % 9000, "status": "ok"}})


def _function(name: str, kind: str) -> dict:
    return {"name": name, "description": f"The {name.replace('_', ' ')} service.",
            "parameters": {"type": "object", "properties": {"x": {"type": kind, "description": "input"}},
                           "required": ["x"]}}


def _api_from(body: dict) -> dict:
    text = user_text(body)
    functionality = re.search(r"Functionality: (.+)", text)
    base = re.sub(r"[^a-z0-9]+", "_", (functionality.group(1) if functionality else "api").lower()).strip("_")
    return {"name": base[:40] or "api", "description": f"Does {base}.",
            "parameters": {"type": "object", "properties": {"amount": {"type": "number", "description": "how much"}},
                           "required": ["amount"]}}


def _evolved(body: dict) -> dict:
    match = re.search(r"API: (\{.*\})", user_text(body))
    api = json.loads(match.group(1)) if match else _api_from(body)
    api["description"] += " (refined)"
    return say({"api": api})


def _subdomains(body: dict) -> dict:
    d = digest(body["messages"])
    return say({"subdomains": [{"name": f"area {d} {i}", "functionalities": [f"task {d} {i} {j}" for j in range(2)]}
                               for i in range(2)]})


DEFAULT_HANDLERS: dict[str, Handler] = {
    # button
    "scenario_extractor": lambda b: say({"scenario": f"Scenario {digest(b['messages'])}"}),
    "scenario_expander": lambda b: say({"scenarios": [f"Expanded {digest(b['messages'])}"]}),
    "atom_task_generator": lambda b: say({"tasks": [f"atom {digest(b['messages'])} {i}" for i in range(2)]}),
    "sequential_task_generator": lambda b: say({"subsequent_task": f"then {digest(b['messages'])}",
                                                "composition_task": f"do both {digest(b['messages'])}"}),
    "para_seq_task_generator": lambda b: say({"parallel_task": f"meanwhile {digest(b['messages'])}",
                                              "subsequent_task": f"then {digest(b['messages'])}",
                                              "composition_task": f"do all {digest(b['messages'])}"}),
    "composition_task_filter": lambda b: say({"valid": True, "reason": "complete"}),
    "function_generator": lambda b: say({"functions": [_function("lookup_value", "string"),
                                                       _function("use_value", "number")]}),
    "multi_turn_conversation_generator.user": user,
    "multi_turn_conversation_generator.assistant": assistant,
    "multi_turn_conversation_generator.tool": tool,
    # toolace
    "api_speciation": _subdomains,
    "api_adaptation": lambda b: say({"api": _api_from(b)}),
    "api_evolution": _evolved,
    "dialog_generation.user": user,
    "dialog_generation.assistant": assistant,
    "dialog_generation.tool": tool,
    "complexity_evaluator": assistant,
    "self_guided_complication": lambda b: say({"guidance": f"Ask for two things at once {digest(b['messages'])}."}),
    "dlv_judge": lambda b: say({"hallucinated": [], "consistent": True, "reason": "supported"}),
    # sandbox-agents
    "task_generator": lambda b: say({"scenario": f"Work {digest(b['messages'])}", "goals": ["compute something"]}),
    "agent_dialogue.user": user,
    "agent_dialogue.assistant": assistant,
}


class ScriptedLLM:
    """The scripted server's state: handlers, counters, fault injection (see the module docstring)."""

    def __init__(self, handlers: dict[str, Handler] | None = None, *, delay: float = 0.0,
                 fault: Callable[[int, str, dict], "tuple[int, Any] | None"] | None = None) -> None:
        self.handlers = {**DEFAULT_HANDLERS, **(handlers or {})}
        self.delay, self.fault = delay, fault
        self.requests: list[tuple[str, dict]] = []
        self.inflight = self.max_inflight = 0
        self._lock = threading.Lock()

    def answer(self, path: str, body: dict) -> tuple[int, Any]:
        stem = stem_of(body)
        with self._lock:
            self.requests.append((stem, body))
            number = len(self.requests)
            self.inflight += 1
            self.max_inflight = max(self.max_inflight, self.inflight)
        try:
            if self.delay:
                time.sleep(self.delay)
            if self.fault is not None:
                injected = self.fault(number, stem, body)
                if injected is not None:
                    return injected
            if stem not in self.handlers:
                return 500, {"error": f"no handler for step {stem!r}"}
            message = self.handlers[stem](body)
            return 200, {"id": f"c{number}", "object": "chat.completion", "model": body.get("model"),
                         "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                         "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}
        finally:
            with self._lock:
                self.inflight -= 1

    def by_step(self) -> Counter:
        with self._lock:
            return Counter(stem.split(".")[0] for stem, _ in self.requests)

    def bodies(self) -> list[str]:
        """Each request as canonical JSON (to find repeats across runs)."""
        with self._lock:
            return [json.dumps(body, sort_keys=True) for _, body in self.requests]

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.max_inflight = 0

    @contextlib.contextmanager
    def serve(self) -> Iterator[str]:
        with serve(self.answer) as url:
            yield url
