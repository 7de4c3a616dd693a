"""Parsing helpers for corpora that keep calls, tools and results as text (xLAM, APIGen-MT, Hermes, Glaive).

Everything here is pure: lenient loading of JSON that may be a Python repr (``json`` first, then
``ast.literal_eval``, which only reads literals and never runs code), OpenAI-style function objects →
unified tools, tool results → structured values, and assembling calls with their ids and results.
"""

from __future__ import annotations

import ast
import math
from typing import Any, Iterable

from ...format.sample import CallNumbering, dumps_lenient, loads_strict
from ...format.pycall import INT_BITS
from ...format.schema_types import normalize_schema
from .base import Reject

EMPTY_PARAMETERS = {"type": "object", "properties": {}}


class NotLiteral(ValueError):
    """Text that is neither JSON nor a Python literal."""


def loads_json(text: str) -> Any:
    """Strict JSON: ``NaN``/``Infinity`` (which Python's json accepts), integers beyond the int↔str digit limit
    and nesting too deep are refused with ``ValueError``, so output stays JSON."""
    return loads_strict(text)


def loads_lenient(text: str) -> Any:
    """JSON, else a Python literal (single quotes, ``True``/``None``); NotLiteral when it is neither.

    The result must be JSON-representable: a literal holding a tuple or set becomes a list, and
    a float that is not finite is refused.
    """
    try:
        return loads_json(text)
    except ValueError:
        pass
    try:
        value = ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        raise NotLiteral(f"neither JSON nor a Python literal: {text[:120]!r}") from None
    return _jsonable(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise NotLiteral("a mapping with non-string keys")
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        raise NotLiteral("a number that is not finite")
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > INT_BITS:
        raise NotLiteral(f"an integer of {value.bit_length()} bits (beyond the int↔str digit limit)")
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise NotLiteral(f"a {type(value).__name__} literal")


def structured_result(text: str) -> Any:
    """A tool result: the parsed object or list when the text is JSON (or a Python repr of one), else the text."""
    stripped = text.strip()
    if stripped[:1] in ("{", "["):
        try:
            value = loads_lenient(stripped)
        except NotLiteral:
            return text
        if isinstance(value, (dict, list)):
            return value
    return text


def parse_arguments(value: Any, where: str) -> dict[str, Any]:
    """A call's arguments as an object: a dict as is, a JSON (or repr) string decoded; Reject otherwise."""
    if isinstance(value, str):
        try:
            value = loads_lenient(value) if value.strip() else {}
        except NotLiteral:
            raise Reject(f"{where}: arguments are not JSON: {value[:200]!r}") from None
    if not isinstance(value, dict):
        raise Reject(f"{where}: arguments are not an object: {dumps_lenient(value)[:200]}")
    return value


def tool_from_function(obj: Any, where: str) -> dict[str, Any]:
    """An OpenAI-style function (``{"type": "function", "function": {...}}`` or the bare function) → unified tool.

    Parameter types are mapped to JSON Schema by ``normalize_schema`` (originals kept in ``x-original-type``);
    a missing or null ``parameters`` becomes an empty object schema, a bare property map gets ``type: object``.
    """
    if isinstance(obj, dict) and isinstance(obj.get("function"), dict):
        obj = obj["function"]
    if not isinstance(obj, dict) or not isinstance(obj.get("name"), str) or not obj["name"]:
        raise Reject(f"{where}: a tool without a name: {str(obj)[:200]}")
    parameters = obj.get("parameters")
    if parameters is None or parameters == {}:
        parameters = dict(EMPTY_PARAMETERS)
    elif not isinstance(parameters, dict):
        raise Reject(f"{where}: tool {obj['name']!r} has parameters that are not an object schema")
    elif "type" not in parameters and "properties" not in parameters:
        parameters = {"type": "object", "properties": parameters}
    elif "type" not in parameters:
        parameters = {"type": "object", **parameters}
    parameters = normalize_schema(parameters)
    if parameters.get("type") != "object":
        raise Reject(f"{where}: tool {obj['name']!r} has parameters of type {parameters.get('type')!r}, not object")
    if parameters.get("required") is None:
        parameters.pop("required", None)
    description = obj.get("description")
    return {"name": obj["name"], "description": description if isinstance(description, str) else "",
            "parameters": parameters}


def unique_tools(tools: list[dict[str, Any]], ctx_count=None) -> list[dict[str, Any]]:
    """Drop exact repeats of a tool (counted); Reject two different tools under one name."""
    seen: dict[str, dict] = {}
    out = []
    for tool in tools:
        earlier = seen.get(tool["name"])
        if earlier is None:
            seen[tool["name"]] = tool
            out.append(tool)
        elif earlier == tool:
            if ctx_count:
                ctx_count("duplicate_tool_definitions_dropped")
        else:
            raise Reject(f"two different tools are both named {tool['name']!r}")
    return out


def check_declared(name: str, declared: Iterable[str], where: str) -> None:
    if name not in declared:
        raise Reject(f"{where}: call to {name!r}, which is not among the declared tools")


class Trajectory:
    """Builds the message list of a dialogue with calls: ids, pending calls and the results that answer them.

    Calls made in one assistant turn form one ``tool_call`` message; ``answer`` files the results
    (matched by tool name when the corpus names it, else in order); ``flush`` closes a group. A
    group left without results at the very end becomes ``tool_call_ground_truth`` (the expected
    calls, each parameter's value as its one candidate); unanswered calls anywhere else are a Reject.
    """

    def __init__(self, messages: list[dict[str, Any]]) -> None:
        self.messages = messages
        self.numbering = CallNumbering()
        self.calls: list[dict[str, Any]] = []
        self.ids: list[str] = []
        self.results: dict[str, Any] = {}

    def call(self, name: str, parameters: dict[str, Any]) -> None:
        if self.results:  # a new call after results: the previous group is complete
            self.flush()
        self.calls.append({"name": name, "parameters": parameters, "depend_on": []})
        self.ids.append(self.numbering.next_id(name))

    def answer(self, result: Any, name: str | None = None) -> None:
        open_ids = [cid for cid, call in zip(self.ids, self.calls) if cid not in self.results
                    and (name is None or call["name"] == name)]
        if not open_ids:
            raise Reject("a tool response without a call to answer" if name is None
                         else f"a tool response from {name!r}, which was not called")
        self.results[open_ids[0]] = result

    def flush(self) -> None:
        """Close the open group: emit its calls and results; Reject calls left unanswered."""
        if not self.calls:
            return
        missing = [cid for cid in self.ids if cid not in self.results]
        if missing:
            raise Reject(f"calls without a response: {missing}")
        self.messages.append({"role": "tool_call", "content": self.calls})
        self.messages.append({"role": "tool_response", "content": {cid: self.results[cid] for cid in self.ids}})
        self.calls, self.ids, self.results = [], [], {}

    def text(self, role: str, content: str) -> None:
        self.flush()
        self.messages.append({"role": role, "content": content})

    def finish(self) -> list[dict[str, Any]]:
        """The messages; calls still open without any result become the ground truth of the last turn."""
        if self.calls and not self.results:
            self.messages.append({"role": "tool_call_ground_truth", "content": ground_truth(self.calls)})
            self.calls, self.ids = [], []
        self.flush()
        return self.messages


def ground_truth(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Known calls → ground-truth calls: each parameter's value becomes its one acceptable value."""
    return [{"name": call["name"], "parameters": {key: [value] for key, value in call["parameters"].items()},
             "depend_on": list(call.get("depend_on", []))} for call in calls]


def undeclared_arguments(tool: dict[str, Any] | None, arguments: dict[str, Any]) -> list[str]:
    """Argument names a call passes that its tool's schema does not declare (none when it declares no properties)."""
    properties = (tool or {}).get("parameters", {}).get("properties") or {}
    return [key for key in arguments if key not in properties] if properties else []


def opening(source: Any, record: Any, tools: list[dict[str, Any]], system: str | None,
            language: str | None = "en") -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The first messages of a sample (meta, candidate_tools, system when non-blank) and its meta object."""
    meta = {"source": source.name, "subset": record.subset, "source_id": record.source_id, "license": source.license}
    if language:
        meta["language"] = language
    messages: list[dict[str, Any]] = [{"role": "meta", "content": meta}, {"role": "candidate_tools", "content": tools}]
    if isinstance(system, str) and system.strip():
        messages.append({"role": "system", "content": system})
    return messages, meta
