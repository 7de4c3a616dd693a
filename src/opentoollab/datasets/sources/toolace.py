"""ToolACE (Liu et al., 2024; HF ``Team-ACE/ToolACE``, ``data.json``): 11.3k synthetic multi-turn dialogues.

A record is ``{"system", "conversations": [{"from": "user"|"assistant"|"tool", "value"}]}``:

* Tool definitions are a JSON list embedded in the system prompt after "Here is a list of functions
  in JSON format that you can invoke:"; parameter objects say ``"type": "dict"`` and carry a stray
  ``"required": null`` at the top. They become JSON Schema tools (``dict`` → ``object``, original kept
  in ``x-original-type``). The ``system`` message keeps the prompt's own text before the list; the list
  and the output-format instruction after it ("Should you decide to return the function call(s)... NO
  other text MUST be included.") are the corpus's rendering of tools and calls, which every chat
  template renders its own way, so they are left out.
* Assistant calls are Python-call syntax ``[Get Manager Placeholder Image(sport="football"), ...]``
  whose names may hold spaces or parentheses: parsed by ``opentoollab.format.pycall`` with ``ast`` against the
  declared names. Plain assistant text turns stay ``assistant``.
* Tool turns are a JSON list ``[{"name", "results"}]``, matched to the open calls by name. Calls with
  no tool turn after them at the very end become ``tool_call_ground_truth``.

ToolACE states no dependencies between calls; ``opentoollab.format.links`` infers them during processing.
"""

from __future__ import annotations

from typing import Any

from ...format.pycall import CallSyntaxError, looks_like_calls, parse_calls
from ...format.sample import STRICT_DECODER, Sample
from .base import Context, RawRecord, Reject
from .hub_json import HubJsonSource
from .textcalls import NotLiteral, Trajectory, check_declared, loads_lenient, tool_from_function, unique_tools

TOOLS_MARKER = "Here is a list of functions in JSON format that you can invoke:"
FORMAT_END = "NO other text MUST be included."
ROLES = {"user": "user", "human": "user", "assistant": "assistant", "gpt": "assistant"}


def split_system(system: str) -> tuple[str, list[Any] | None]:
    """The system prompt → (its own text, the embedded function list or None when it has none)."""
    start = system.find(TOOLS_MARKER)
    if start < 0:
        return system, None
    decoder = STRICT_DECODER
    position = start + len(TOOLS_MARKER)
    while position < len(system) and system[position].isspace():
        position += 1
    try:
        functions, end = decoder.raw_decode(system, position)
    except (ValueError, RecursionError) as exc:
        raise Reject(f"the function list in the system prompt is not JSON: {str(exc)[:200] or 'nested too deep'}") from None
    if not isinstance(functions, list):
        raise Reject("the function list in the system prompt is not a list")
    rest = system[end:]
    closing = rest.find(FORMAT_END)
    rest = rest[closing + len(FORMAT_END):] if closing >= 0 else rest.lstrip(". ")
    text = "\n".join(part.strip() for part in (system[:start], rest) if part.strip())
    return text, functions


def _is_call_text(value: str, names: list[str]) -> bool:
    """A bracketed call list, or text that opens like a call to a declared tool (then a bad one is rejected)."""
    head = value.strip()[1:].lstrip() if value.strip().startswith("[") else None
    return looks_like_calls(value) or (head is not None and any(head.startswith(f"{n}(") for n in names))


def _tool_results(value: str, trajectory: Trajectory) -> None:
    try:
        items = loads_lenient(value)
    except NotLiteral:
        items = None
    if isinstance(items, list) and items and all(isinstance(i, dict) and "name" in i for i in items):
        for item in items:
            trajectory.answer(item.get("results", {k: v for k, v in item.items() if k != "name"}), item["name"])
    else:  # a result that is not the usual [{"name", "results"}] list answers the first open call as is
        trajectory.answer(items if items is not None else value)


def convert_record(data: Any, ctx: Context) -> list[dict[str, Any]]:
    """One ToolACE record → the sample body after ``meta`` (see the module docstring)."""
    if not isinstance(data, dict) or not isinstance(data.get("conversations"), list):
        raise Reject("record lacks a 'conversations' list")
    system = data.get("system") or ""
    if not isinstance(system, str):
        raise Reject("'system' is not a string")
    text, functions = split_system(system)
    tools = unique_tools([tool_from_function(f, "system prompt") for f in functions or []], ctx.count)
    names = [tool["name"] for tool in tools]
    messages: list[dict[str, Any]] = [{"role": "candidate_tools", "content": tools}]
    if text:
        messages.append({"role": "system", "content": text})
    trajectory = Trajectory(messages)
    for position, turn in enumerate(data["conversations"]):
        where = f"conversations[{position}]"
        if not isinstance(turn, dict) or not isinstance(turn.get("value"), str):
            raise Reject(f"{where}: not a {{from, value}} turn")
        speaker, value = turn.get("from"), turn["value"]
        if speaker == "tool":
            _tool_results(value, trajectory)
        elif speaker in ("assistant", "gpt") and names and _is_call_text(value, names):
            try:
                calls = parse_calls(value, names)
            except CallSyntaxError as exc:
                raise Reject(f"{where}: {exc}") from None
            for call in calls:
                check_declared(call["name"], names, where)
                trajectory.call(call["name"], call["arguments"])
        elif speaker in ROLES:
            trajectory.text(ROLES[speaker], value)
        else:
            raise Reject(f"{where}: unknown speaker {speaker!r}")
    return trajectory.finish()


class ToolACE(HubJsonSource):
    name = "ToolACE"
    aliases = ("tool-ace", "team-ace-toolace")
    license = "Apache-2.0"
    homepage = "https://huggingface.co/datasets/Team-ACE/ToolACE"
    description = "ToolACE: 11.3k synthetic multi-turn dialogues over 26k APIs (Python-call syntax, names with spaces)"
    hub_repo = "Team-ACE/ToolACE"
    # No commit sha could be looked up offline: "main" is pinned and the provenance keeps every file's sha256.
    hub_revision = "main"
    hub_files = {"data.json": "train"}
    subsets = ("train",)

    def convert(self, record: RawRecord, ctx: Context) -> Sample:
        body = convert_record(record.data, ctx)
        meta = {"source": self.name, "subset": record.subset, "source_id": record.source_id, "license": self.license,
                "language": "en"}
        return [{"role": "meta", "content": meta}, *body]
