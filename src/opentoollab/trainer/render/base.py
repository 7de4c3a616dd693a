"""Sample → chat messages (DESIGN §4), and the pieces every renderer shares.

``to_chat`` is the one place that turns a unified sample into the OpenAI-style ``messages`` and
``tools`` that chat templates read: calls split into waves, links replaced by real results,
chat tool-call ids from :func:`sample.tool_call_uid`, ground truth → first candidates, hidden
thoughts dropped or moved into ``reasoning_content``. Renderers then turn a :class:`Chat` into
:class:`Rendered` text with the character spans the model learns.
"""

from __future__ import annotations

import json
import marshal
from json.encoder import JSONEncoder, c_make_encoder
from json.encoder import encode_basestring as _encode_str
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Generic, TypeVar

from ...format.sample import (LinkError, Sample, assign_call_ids, canonical_json, first_candidates, iter_links, resolve_links,
                      sample_id, tool_call_uid)
from ...format.schema_types import strip_extensions

TOOL_CHANGES = ("skip", "union")


class Skip(Exception):
    """The sample cannot be rendered faithfully; ``reason`` is a short stable key counted in manifests."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass
class Chat:
    """What a chat template renders: ``messages`` and ``tools`` (None when the sample has no tools).

    ``tools`` comes from :func:`chat_tools`, which hands out one shared list (and tool dicts) per
    distinct tool list: treat it as a read-only value (renderers cache their text per object).
    """

    id: str
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] | None
    notes: list[str] = field(default_factory=list)


@dataclass
class Rendered:
    text: str
    spans: list[list[int]]  # [start, end) character offsets of what the model learns


T = TypeVar("T")
CACHE_SIZE = 1 << 14  # entries per cache; a full cache is emptied (tools repeat in runs, not randomly)


class PerObject(Generic[T]):
    """``function(obj)`` memoized by object identity; the object is held so its id cannot be reused.

    Renderers use it for the text of each (shared, read-only) chat tool: the schema dumps dominate
    rendering time, and corpora repeat the same tools across many samples.
    """

    __slots__ = ("function", "cache")
    instances: ClassVar[list[PerObject]] = []

    def __init__(self, function: Callable[[Any], T]) -> None:
        self.function = function
        self.cache: dict[int, tuple[Any, T]] = {}
        PerObject.instances.append(self)

    @classmethod
    def clear_all(cls) -> None:
        """Empty every cache (benchmarks measure cold runs)."""
        for instance in cls.instances:
            instance.cache.clear()

    def __call__(self, obj: Any) -> T:
        entry = self.cache.get(id(obj))
        if entry is not None and entry[0] is obj:
            return entry[1]
        value = self.function(obj)
        if len(self.cache) >= CACHE_SIZE:
            self.cache.clear()
        self.cache[id(obj)] = (obj, value)
        return value


_SHARED: dict[bytes, Any] = {}


def _shared(value: Any, convert: Callable[[Any], T]) -> T:
    """``convert(value)``, one shared result per distinct value (keyed by its ``marshal`` bytes).

    ``marshal`` format 2 (no back-references) is an exact, C-speed encoding of JSON values (order,
    types and all), several times cheaper than the JSON dumps it lets renderers skip.
    """
    try:
        key = marshal.dumps(value, 2)
    except ValueError:  # not plain JSON values: convert without sharing
        return convert(value)
    found = _SHARED.get(key)
    if found is None:
        if len(_SHARED) >= CACHE_SIZE:
            _SHARED.clear()
        found = _SHARED[key] = convert(value)
    return found


def chat_tool(tool: dict[str, Any]) -> dict[str, Any]:
    """A unified tool → ``{"type": "function", "function": {name, description, parameters}}`` (no ``x-`` keys).

    Equal tools (same keys in the same order, same values and types) give the same shared object.
    """
    return _shared(tool, _chat_tool)


def chat_tools(tools: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """Unified tools → the shared ``tools`` list of chat tools for them (None when there are none)."""
    return _shared(tools, lambda values: [chat_tool(t) for t in values]) or None


def _chat_tool(tool: dict[str, Any]) -> dict[str, Any]:
    function = {"name": tool.get("name")}
    if "description" in tool:
        function["description"] = tool["description"]
    function["parameters"] = strip_extensions(tool.get("parameters") or {"type": "object", "properties": {}})
    return {"type": "function", "function": function}


def _c_encoder() -> Callable[[Any], str]:
    if c_make_encoder is None:  # an interpreter without the _json accelerator
        return JSONEncoder(ensure_ascii=False).encode
    # what json.dumps(x, ensure_ascii=False) builds on every call, built once
    encode = c_make_encoder({}, JSONEncoder(ensure_ascii=False).default, _encode_str, None, ": ", ", ",
                            False, False, True)
    return lambda value: _encode_str(value) if isinstance(value, str) else "".join(encode(value, 0))


tojson: Callable[[Any], str] = _c_encoder()
tojson.__doc__ = "``json.dumps(value, ensure_ascii=False)`` (templates' ``tojson``), without its per-call set-up."


def tojson_indent(value: Any, indent: int = 4) -> str:
    """``json.dumps(value, ensure_ascii=False, indent=indent)`` several times faster on JSON values.

    Python's encoder has no C path with ``indent`` (its pure one yields every token); this recursion
    builds each container with one join and leaves strings to the C ``encode_basestring``. Anything
    but plain JSON values goes to ``json.dumps`` itself, so the output is always the same.
    """
    try:
        return _indented(value, "\n", " " * indent)
    except (_Unusual, RecursionError):
        return json.dumps(value, ensure_ascii=False, indent=indent)


class _Unusual(Exception):
    pass


def _scalar(value: Any) -> str:
    kind = type(value)
    if kind is str:
        return _encode_str(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if kind is int:
        return int.__repr__(value)
    if kind is float:
        if value != value:
            return "NaN"
        if value in (float("inf"), float("-inf")):
            return "Infinity" if value > 0 else "-Infinity"
        return float.__repr__(value)
    raise _Unusual


def _indented(value: Any, newline: str, step: str) -> str:
    kind = type(value)
    if kind is dict:
        if not value:
            return "{}"
        inner = newline + step
        for key in value:
            if type(key) is not str:
                raise _Unusual  # json.dumps turns int/float/bool keys into text: let it
        return "{" + inner + ("," + inner).join([
            _encode_str(key) + ": " + (_encode_str(item) if type(item) is str else _indented(item, inner, step))
            for key, item in value.items()]) + newline + "}"
    if kind is list:
        if not value:
            return "[]"
        inner = newline + step
        return "[" + inner + ("," + inner).join([
            _encode_str(item) if type(item) is str else _indented(item, inner, step) for item in value]) + newline + "]"
    return _scalar(value)


def result_text(result: Any) -> str:
    """A tool message's content: the result itself when it is a string, else its JSON text."""
    return result if isinstance(result, str) else tojson(result)


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
    return chat_tools(final), notes


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
    generation_prompt: ClassVar[str] = ""  # what add_generation_prompt=True appends (the reply's header)
    stop: ClassVar[tuple[str, ...]] = ()  # text that ends the model's turn (for completion requests)
    call_syntax: ClassVar[str] = "text"  # how the model writes calls: scoring.parse.completion_calls
    notes: ClassVar[tuple[str, ...]] = ()  # how the chat is fed to the template, for the manifest's renderer info

    def render(self, chat: Chat) -> Rendered:
        raise NotImplementedError

    def template_chat(self, chat: Chat) -> Chat:
        """The chat exactly as the official template must be given it to produce ``render(chat)`` (tests, bench,
        ``--format messages``): ``chat`` itself for most families; some need their own tool-call ids, arguments
        as JSON strings or the tool list written into the system prompt."""
        return chat

    def template_kwargs(self) -> dict[str, Any]:
        """Keyword arguments the official template is rendered with (``enable_thinking`` …); {} = its defaults."""
        return {}

    def prompt(self, chat: Chat) -> str:
        """The text the model continues from: the chat + the generation prompt, exactly as the official
        template renders it with ``add_generation_prompt=True`` (Skip when it cannot be rendered)."""
        return self.render(chat).text + self.generation_prompt


class Builder:
    """Accumulates rendered text; ``learn`` marks a piece as part of the loss spans."""

    __slots__ = ("parts", "spans", "length", "counted", "add")

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.spans: list[list[int]] = []
        self.length = 0  # of parts[:counted]; lengths are summed only when a span needs them
        self.counted = 0
        self.add: Callable[[str], None] = self.parts.append  # context text: the hot path, a bare append

    def learn(self, text: str) -> None:
        parts = self.parts
        if self.counted < len(parts):
            self.length += sum(map(len, parts[self.counted:]))
            self.counted = len(parts)
        if text:
            if self.spans and self.spans[-1][1] == self.length:
                self.spans[-1][1] += len(text)
            else:
                self.spans.append([self.length, self.length + len(text)])
        parts.append(text)

    def done(self) -> Rendered:
        return Rendered("".join(self.parts), self.spans)


def require_str(value: Any, what: str) -> str:
    """Templates concatenate content with ``+``: anything but a string fails there, so it fails here too."""
    if not isinstance(value, str):
        raise Skip("non_string_content", f"{what} is {type(value).__name__}, the template needs a string")
    return value
