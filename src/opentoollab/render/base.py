"""Sample → chat messages (DESIGN §4), and the pieces every renderer shares.

``to_chat`` is the one place that turns a unified sample into the OpenAI-style ``messages`` and
``tools`` that chat templates read: calls split into waves, links replaced by real results,
chat tool-call ids from :func:`sample.tool_call_uid`, ground truth → first candidates, hidden
thoughts dropped or moved into ``reasoning_content``. Renderers then turn a :class:`Chat` into
:class:`Rendered` text with the character spans the model learns.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..sample import (LinkError, Sample, assign_call_ids, canonical_json, first_candidates, iter_links, resolve_links,
                      sample_id, tool_call_uid)
from ..schema_types import strip_extensions

TOOL_CHANGES = ("skip", "union")


class Skip(Exception):
    """The sample cannot be rendered faithfully; ``reason`` is a short stable key counted in manifests."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass
class Chat:
    """What a chat template renders: ``messages`` and ``tools`` (None when the sample has no tools)."""

    id: str
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] | None
    notes: list[str] = field(default_factory=list)


@dataclass
class Rendered:
    text: str
    spans: list[list[int]]  # [start, end) character offsets of what the model learns


def chat_tool(tool: dict[str, Any]) -> dict[str, Any]:
    """A unified tool → ``{"type": "function", "function": {name, description, parameters}}`` (no ``x-`` keys)."""
    function = {"name": tool.get("name")}
    if "description" in tool:
        function["description"] = tool["description"]
    function["parameters"] = strip_extensions(tool.get("parameters") or {"type": "object", "properties": {}})
    return {"type": "function", "function": function}


def result_text(result: Any) -> str:
    """A tool message's content: the result itself when it is a string, else its JSON text."""
    return result if isinstance(result, str) else json.dumps(result, ensure_ascii=False)


def _tool_lists(sample: Sample, policy: str) -> tuple[list[dict] | None, list[str]]:
    """The tools to render with, given every ``candidate_tools`` message, and notes about changes."""
    lists = [m.get("content") or [] for m in sample if m.get("role") == "candidate_tools"]
    if not lists:
        return None, []
    distinct = []
    for tools in lists:
        if not distinct or canonical_json(tools) != canonical_json(distinct[-1]):
            distinct.append(tools)
    notes = []
    if len(distinct) > 1:
        if policy != "union":
            raise Skip("tools_change", "candidate tools change mid-dialogue; chat templates take one tool list "
                                       "(use tool_changes='union' to render with every tool)")
        merged: dict[str, dict] = {}
        for tools in distinct:
            for tool in tools:
                merged.setdefault(tool.get("name"), tool)
        distinct = [list(merged.values())]
        notes.append("tools_union")
    final = distinct[-1]
    return ([chat_tool(t) for t in final] or None), notes


def _waves(calls: list[dict], ids: list[str], answered: set[str]) -> list[list[int]]:
    """Indices of ``calls`` grouped into waves: each wave's dependencies are all answered before it."""
    pending = list(range(len(calls)))
    done = set(answered)
    waves = []
    while pending:
        wave = [i for i in pending if all(dep in done for dep in calls[i].get("depend_on") or [])]
        if not wave:
            raise Skip("unresolvable_dependencies", f"calls {[ids[i] for i in pending]} wait on unanswered calls")
        waves.append(wave)
        done.update(ids[i] for i in wave)
        pending = [i for i in pending if i not in wave]
    return waves


def _call_message(sid: str, calls: list[dict], ids: list[str], arguments: list[dict], content: str) -> dict:
    return {
        "role": "assistant",
        "content": content,
        "tool_calls": [
            {"type": "function", "id": tool_call_uid(sid, cid), "function": {"name": call["name"], "arguments": args}}
            for call, cid, args in zip(calls, ids, arguments)
        ],
    }


def to_chat(sample: Sample, *, reasoning: bool = False, tool_changes: str = "skip") -> Chat:
    """Turn a unified sample into chat ``messages`` + ``tools`` exactly as DESIGN §4 defines.

    ``reasoning``: put hidden assistant thoughts into the next assistant message's
    ``reasoning_content`` (else they are left out). ``tool_changes``: what to do when
    ``candidate_tools`` changes mid-dialogue: ``skip`` (raise :class:`Skip`) or ``union``.
    """
    sid = sample_id(sample) or ""
    tools, notes = _tool_lists(sample, tool_changes)
    all_ids = assign_call_ids(sample)
    messages: list[dict[str, Any]] = []
    results: dict[str, Any] = {}
    carried_text: str | None = None  # assistant text directly followed by calls
    thought: str | None = None

    def with_thought(message: dict) -> dict:
        nonlocal thought
        if thought is not None:
            message["reasoning_content"] = thought
            thought = None
        return message

    index = 0
    while index < len(sample):
        message = sample[index]
        role = message.get("role")
        content = message.get("content")
        nxt = sample[index + 1].get("role") if index + 1 < len(sample) else None
        if role in ("system", "user"):
            messages.append({"role": role, "content": content})
        elif role == "assistant" and message.get("hidden"):
            if reasoning:
                thought = content if thought is None else f"{thought}\n\n{content}"
        elif role == "assistant":
            if nxt in ("tool_call", "tool_call_ground_truth"):
                carried_text = content
            else:
                messages.append(with_thought({"role": "assistant", "content": content}))
        elif role == "tool_call_ground_truth":
            calls = content or []
            if calls:
                arguments = [first_candidates(call.get("parameters") or {}) for call in calls]
                if any(True for args in arguments for _ in iter_links(args)):
                    raise Skip("ground_truth_links", "ground-truth arguments refer to results that are not recorded")
                messages.append(with_thought(_call_message(sid, calls, all_ids[index], arguments, carried_text or "")))
            elif carried_text is not None:
                messages.append(with_thought({"role": "assistant", "content": carried_text}))
            carried_text = None
        elif role == "tool_call":
            calls, ids = content or [], all_ids[index]
            response = sample[index + 1].get("content") if nxt == "tool_response" else None
            for wave in _waves(calls, ids, set(results)):
                try:
                    arguments = [resolve_links(calls[i].get("parameters") or {}, results) for i in wave]
                except LinkError as exc:
                    raise Skip("unresolved_link", str(exc)) from None
                messages.append(with_thought(_call_message(
                    sid, [calls[i] for i in wave], [ids[i] for i in wave], arguments, carried_text or "")))
                carried_text = None
                if response is None:
                    continue
                for i in wave:
                    if ids[i] not in response:
                        raise Skip("missing_result", f"no result for {ids[i]}")
                    results[ids[i]] = response[ids[i]]
                    messages.append({"role": "tool", "tool_call_id": tool_call_uid(sid, ids[i]),
                                     "name": calls[i]["name"], "content": result_text(response[ids[i]])})
            if response is not None:
                index += 1  # the tool_response was consumed with its calls
        index += 1
    if thought is not None:
        notes.append("thought_without_answer")
    return Chat(sid, messages, tools, notes)


class Renderer:
    """A model family's chat format. Subclasses set the class attributes and implement ``render``."""

    name: ClassVar[str] = ""
    hub_ids: ClassVar[tuple[str, ...]] = ()
    aliases: ClassVar[tuple[str, ...]] = ()
    template_file: ClassVar[str] = ""  # the official template this must equal (tests, bench)
    special_tokens: ClassVar[dict[str, str]] = {}
    has_reasoning: ClassVar[bool] = False  # template shows ``reasoning_content``

    def render(self, chat: Chat) -> Rendered:
        raise NotImplementedError


class Builder:
    """Accumulates rendered text; ``learn`` marks a piece as part of the loss spans."""

    __slots__ = ("parts", "spans", "length")

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.spans: list[list[int]] = []
        self.length = 0

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.length += len(text)

    def learn(self, text: str) -> None:
        if text:
            if self.spans and self.spans[-1][1] == self.length:
                self.spans[-1][1] += len(text)
            else:
                self.spans.append([self.length, self.length + len(text)])
        self.add(text)

    def done(self) -> Rendered:
        return Rendered("".join(self.parts), self.spans)


def require_str(value: Any, what: str) -> str:
    """Templates concatenate content with ``+``: anything but a string fails there, so it fails here too."""
    if not isinstance(value, str):
        raise Skip("non_string_content", f"{what} is {type(value).__name__}, the template needs a string")
    return value
