"""Hermes function-calling v1 (NousResearch): function calling, structured extraction and JSON mode, all configs.

Hub ``NousResearch/hermes-function-calling-v1`` (Apache-2.0), five JSON arrays, one per config:
``func-calling-singleturn.json``, ``func-calling.json``, ``glaive-function-calling-5k.json``,
``json-mode-agentic.json``, ``json-mode-singleturn.json``. A row is ShareGPT-like:
``{"id", "conversations": [{"from": system|human|gpt|tool, "value"}], "category", "subcategory", "task"}``
(+ ``tools`` as a JSON string in the function-calling configs, ``schema`` in the JSON-mode ones).

- Tools: the row's ``tools`` field when it holds any, else the ``<tools>…</tools>`` block of the system
  prompt, which is JSON or a Python repr (single quotes). The block is cut out of the system prompt;
  the rest of the prompt is kept as ``system``.
- Calls: ``<tool_call>…</tool_call>`` blocks in a ``gpt`` turn, JSON or Python repr, ``arguments``
  before or after ``name``; several blocks are parallel calls in one ``tool_call``. Quirks repaired and
  counted: a literal backslash-n around the block body, mixed quoting, the name put inside the
  arguments (tagged ``repaired:name-inside-arguments``). Text before the calls stays an assistant message.
- Results: ``<tool_response>{"name", "content"}</tool_response>`` blocks of a ``tool`` turn, matched to the
  calls by name in order; ``content`` kept as the result (structured when it is JSON or a repr).
- Calls that end the conversation unanswered (every func_calling_singleturn row) become
  ``tool_call_ground_truth``. JSON-mode rows become system (with its ``<schema>``) + user + assistant.
- ``category``/``subcategory``/``task`` go into ``meta.tags``.

A file whose name is not one of the five (a user's own slice) is read too; each record's subset is
then ``function_calling`` or ``json_mode``, decided by its content.
"""

from __future__ import annotations

import re
from typing import Any

from ...format.sample import Sample, loads_strict
from .base import Context, RawRecord, Reject
from .hub_json import HubJsonSource
from .textcalls import (NotLiteral, Trajectory, check_declared, loads_lenient, opening, parse_arguments,
                        structured_result, tool_from_function, undeclared_arguments, unique_tools)

CONFIG_FILES = {
    "func-calling-singleturn.json": "func_calling_singleturn",
    "func-calling.json": "func_calling",
    "glaive-function-calling-5k.json": "glaive_func_calling",
    "json-mode-agentic.json": "json_mode_agentic",
    "json-mode-singleturn.json": "json_mode_singleturn",
}
TOOLS_RE = re.compile(r"<tools>(.*?)</tools>", re.S)
CALL_RE = re.compile(r"<tool_call>(.*?)</tool_call>", re.S)
RESPONSE_RE = re.compile(r"<tool_response>(.*?)</tool_response>", re.S)
LITERAL_NEWLINE = "\\n"


def _strip_literal_newlines(text: str) -> tuple[str, bool]:
    """The body of a block without surrounding whitespace and literal backslash-n pairs (a known corpus quirk)."""
    body, changed = text.strip(), False
    while body.startswith(LITERAL_NEWLINE) or body.endswith(LITERAL_NEWLINE):
        body = body[2:] if body.startswith(LITERAL_NEWLINE) else body[:-2]
        body, changed = body.strip(), True
    return body, changed


def system_tools(system: str) -> tuple[str, list[Any] | None]:
    """The system prompt without its ``<tools>`` block, and the block's function list (None when there is none)."""
    # The prompts also name the tags in prose ("within <tools> </tools> XML tags"): the block is the first non-empty one.
    match = next((m for m in TOOLS_RE.finditer(system) if m.group(1).strip()), None)
    if match is None:
        return system, None
    try:
        functions = loads_lenient(match.group(1).strip())
    except NotLiteral:
        raise Reject("the <tools> block of the system prompt is neither JSON nor a Python literal") from None
    if isinstance(functions, dict):
        functions = [functions]
    if not isinstance(functions, list):
        raise Reject("the <tools> block of the system prompt is not a list of functions")
    rest = (system[:match.start()] + system[match.end():]).strip()
    return rest, functions


def _field_tools(row: dict) -> list[Any] | None:
    value = row.get("tools")
    if isinstance(value, str):
        try:
            value = loads_strict(value) if value.strip() else None
        except ValueError:
            raise Reject("the row's 'tools' field is not JSON") from None
    return value if isinstance(value, list) and value else None


class Hermes(HubJsonSource):
    name = "Hermes"
    aliases = ("hermes-fc-v1", "hermes-function-calling-v1")
    license = "Apache-2.0"
    homepage = "https://huggingface.co/datasets/NousResearch/hermes-function-calling-v1"
    description = "Hermes function-calling v1: function calling, structured extraction and JSON-mode dialogues (all configs)"
    subsets = (*CONFIG_FILES.values(), "function_calling", "json_mode")
    hub_repo = "NousResearch/hermes-function-calling-v1"
    hub_revision = "dae3e1d28cfbcf4b915c04ea1e072030529b4bda"  # the commit public importers of this corpus pin
    hub_files = CONFIG_FILES

    def source_id(self, value: Any, location: int) -> str | int:
        return value["id"] if isinstance(value, dict) and isinstance(value.get("id"), str) else location

    def subset_of(self, value: Any) -> str:
        if isinstance(value, dict):
            if value.get("schema"):
                return "json_mode"
            turns = value.get("conversations")
            first = turns[0] if isinstance(turns, list) and turns and isinstance(turns[0], dict) else {}
            if first.get("from") == "system" and "<schema>" in str(first.get("value")) and "<tools>" not in str(first.get("value")):
                return "json_mode"
        return "function_calling"

    def convert(self, record: RawRecord, ctx: Context) -> Sample:
        row = record.data
        if not isinstance(row, dict) or not isinstance(row.get("conversations"), list):
            raise Reject("record lacks a 'conversations' list")
        turns = row["conversations"]
        for index, turn in enumerate(turns):
            if not isinstance(turn, dict) or not isinstance(turn.get("value"), str) or not isinstance(turn.get("from"), str):
                raise Reject(f"conversations[{index}]: not a {{from, value}} turn with text")
        system, functions = None, None
        if turns and turns[0]["from"] == "system":
            system, functions = system_tools(turns[0]["value"])
            turns = turns[1:]
        field = _field_tools(row)
        if field is not None:
            functions = field
        tools = unique_tools([tool_from_function(f, f"tools[{i}]") for i, f in enumerate(functions or [])], ctx.count)
        by_name = {tool["name"]: tool for tool in tools}
        tags = [f"{key}:{row[key]}" for key in ("category", "subcategory", "task") if isinstance(row.get(key), str) and row[key]]
        if record.subset.startswith("json_mode"):
            tags.append("json-mode")
        messages, meta = opening(self, record, tools, system)
        trajectory = Trajectory(messages)
        for index, turn in enumerate(turns, 1 if system is not None else 0):
            where, kind, value = f"conversations[{index}]", turn["from"], turn["value"]
            if kind in ("human", "user"):
                trajectory.text("user", value)
            elif kind in ("gpt", "assistant"):
                self._assistant(value, by_name, trajectory, tags, ctx, where)
            elif kind == "tool":
                self._responses(value, trajectory, where)
            else:
                raise Reject(f"{where}: a turn from {kind!r}")
        if tags:
            meta["tags"] = list(dict.fromkeys(tags))
        return trajectory.finish()

    def _assistant(self, value: str, by_name: dict, trajectory: Trajectory, tags: list, ctx: Context, where: str) -> None:
        if value.count("<tool_call>") != value.count("</tool_call>"):
            raise Reject(f"{where}: a <tool_call> tag without its pair (truncated call?)")
        blocks = list(CALL_RE.finditer(value))
        if not blocks:
            trajectory.text("assistant", value)
            return
        before, _ = _strip_literal_newlines(value[:blocks[0].start()])
        between = [value[a.end():b.start()] for a, b in zip(blocks, blocks[1:])] + [value[blocks[-1].end():]]
        if any(_strip_literal_newlines(text)[0] for text in between):
            raise Reject(f"{where}: text after a <tool_call> block")
        if before:
            trajectory.text("assistant", before)
        for number, block in enumerate(blocks):
            body, repaired = _strip_literal_newlines(block.group(1))
            if repaired:
                ctx.count("hermes_literal_backslash_n_repaired")
                tags.append("repaired:literal-backslash-n")
            try:
                call = loads_lenient(body)
            except NotLiteral:
                raise Reject(f"{where}: <tool_call> {number} is neither JSON nor a Python literal: {body[:200]!r}") from None
            if not isinstance(call, dict):
                raise Reject(f"{where}: <tool_call> {number} is not an object")
            name = call.get("name")
            arguments = call.get("arguments", call.get("parameters", {}))
            if name is None and isinstance(arguments, dict) and arguments.get("name") in by_name:
                arguments = {k: v for k, v in arguments.items() if k != "name"}
                name = call["arguments"]["name"]
                ctx.count("hermes_name_inside_arguments_repaired")
                tags.append("repaired:name-inside-arguments")
            if not isinstance(name, str):
                raise Reject(f"{where}: <tool_call> {number} has no function name")
            check_declared(name, by_name, where)
            arguments = parse_arguments(arguments, where)
            if undeclared_arguments(by_name[name], arguments):
                ctx.count("calls_with_undeclared_arguments")
                tags.append("undeclared-arguments")
            trajectory.call(name, arguments)

    @staticmethod
    def _responses(value: str, trajectory: Trajectory, where: str) -> None:
        if value.count("<tool_response>") != value.count("</tool_response>"):
            raise Reject(f"{where}: a <tool_response> tag without its pair")
        blocks = list(RESPONSE_RE.finditer(value))
        if not blocks:
            trajectory.answer(structured_result(value))
            return
        if RESPONSE_RE.sub("", value).strip():
            raise Reject(f"{where}: text outside the <tool_response> blocks")
        for block in blocks:
            body = _strip_literal_newlines(block.group(1))[0]
            try:
                parsed = loads_lenient(body)
            except NotLiteral:
                parsed = None
            if isinstance(parsed, dict) and isinstance(parsed.get("name"), str) and "content" in parsed:
                content = parsed["content"]
                trajectory.answer(structured_result(content) if isinstance(content, str) else content, parsed["name"])
            else:
                trajectory.answer(parsed if isinstance(parsed, (dict, list)) else body)
