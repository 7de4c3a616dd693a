"""Glaive function-calling v2 (glaiveai): ~113k chats, two thirds with function calls, as flat text.

Hub ``glaiveai/glaive-function-calling-v2`` (Apache-2.0), one file ``glaive-function-calling-v2.json``:
a JSON array of ``{"system": str, "chat": str}``.

- ``system``: ``"SYSTEM: "`` + a sentence + pretty-printed JSON-Schema function objects separated by blank
  lines (→ ``candidate_tools``; exact duplicates dropped and counted, two different definitions under
  one name rejected), or a plain prompt. The prose without the function objects is kept as ``system``.
- ``chat``: turns headed ``USER:``, ``ASSISTANT:`` or ``FUNCTION RESPONSE:`` after a blank line;
  assistant turns end with ``<|endoftext|>`` (removed). A call is
  ``<functioncall> {"name": "f", "arguments": '{"k": "v"}'}``: the arguments are usually a *single-quoted*
  JSON string, so the whole is not JSON. It is read with ``json``, then ``ast.literal_eval`` (a
  Python literal, never evaluated as code), then by splitting at the quotes; bare-object, ``null`` and
  ``"parameters"`` arguments and one extra closing brace are accepted and counted. Rejected with a
  reason: truncated or unparsable call text, non-JSON values (``Infinity``), non-object arguments,
  calls to undeclared functions, responses without a call, calls left unanswered mid-chat.
- Text before ``<functioncall>`` stays an assistant message before the call. A call that ends the
  chat unanswered becomes ``tool_call_ground_truth``. Function responses are structured when JSON.
"""

from __future__ import annotations

import re
from typing import Any

from ...format.sample import STRICT_DECODER, Sample
from .base import Context, RawRecord, Reject
from .hub_json import HubJsonSource
from .textcalls import (NotLiteral, Trajectory, check_declared, loads_lenient, opening, parse_arguments,
                        structured_result, tool_from_function, undeclared_arguments, unique_tools)

DATA_FILE = "glaive-function-calling-v2.json"
END = "<|endoftext|>"
CALL = "<functioncall>"
TURN_RE = re.compile(r"(?:\A|\n\n+)(USER|ASSISTANT|FUNCTION RESPONSE):[ \t]?")
STRAY_HEADER_RE = re.compile(r"^(?:ASSISTANT:\s*)+")
QUOTED_CALL_RE = re.compile(r"""^\{\s*"name"\s*:\s*"(?P<name>[^"]+)"\s*,\s*"(?:arguments|parameters)"\s*:\s*'(?P<args>.*)'\s*\}$""", re.S)


def system_tools(system: str) -> tuple[str, list[Any]]:
    """The prose of the system field (``SYSTEM:`` dropped) and the function objects it lists."""
    text = system[len("SYSTEM:"):].lstrip(" ") if system.startswith("SYSTEM:") else system
    start = text.find("\n{")
    if start < 0:
        return text.strip(), []
    prose, rest = text[:start].strip(), text[start:]
    decoder, functions, pos = STRICT_DECODER, [], 0
    while True:
        while pos < len(rest) and rest[pos].isspace():
            pos += 1
        if pos >= len(rest) or rest[pos] != "{":
            break
        try:
            function, pos = decoder.raw_decode(rest, pos)
        except (ValueError, RecursionError) as exc:
            raise Reject(f"function definition {len(functions)} in the system prompt is not JSON "
                         f"({getattr(exc, 'msg', None) or str(exc)[:200] or 'nested too deep'})") from None
        functions.append(function)
    tail = rest[pos:].strip()
    return (f"{prose}\n\n{tail}" if tail else prose), functions


def parse_call(text: str, ctx: Context) -> tuple[str, dict[str, Any]]:
    """``{"name": ..., "arguments": ...}`` in any of the spellings the corpus uses → (name, arguments)."""
    body = text.strip()
    call = _load_call(body)
    if call is None and body.endswith("}}"):
        call = _load_call(body[:-1])
        if call is not None:
            ctx.count("glaive_extra_brace_removed")
    if call is None:
        match = QUOTED_CALL_RE.match(body)
        if match is None:
            if body.count("{") > body.count("}") or body.count("'") % 2:
                raise Reject(f"truncated call text: {body[:200]!r}")
            raise Reject(f"unparsable call text: {body[:200]!r}")
        call = {"name": match["name"], "arguments": match["args"]}
    if not isinstance(call, dict) or not isinstance(call.get("name"), str):
        raise Reject(f"the call is not a {{name, arguments}} object: {body[:200]!r}")
    if "arguments" in call:
        arguments = call["arguments"]
    elif "parameters" in call:
        arguments = call["parameters"]
        ctx.count("glaive_parameters_key_instead_of_arguments")
    else:
        arguments = None
    if arguments is None:
        ctx.count("glaive_null_arguments")
        arguments = {}
    return call["name"], parse_arguments(arguments, f"call to {call['name']!r}")


def _load_call(text: str) -> Any:
    try:
        return loads_lenient(text)
    except NotLiteral:
        return None


def turns(chat: str) -> list[tuple[str, str]]:
    """``(header, text)`` per turn; Reject when the chat does not open with a turn header."""
    headers = list(TURN_RE.finditer(chat))
    if not headers or headers[0].start() != 0 and chat[:headers[0].start()].strip():
        raise Reject("the chat does not start with a USER:/ASSISTANT: turn")
    ends = [h.start() for h in headers[1:]] + [len(chat)]
    return [(h.group(1), chat[h.end():end]) for h, end in zip(headers, ends)]


class Glaive(HubJsonSource):
    name = "Glaive"
    aliases = ("glaive-fc-v2", "glaive-function-calling-v2")
    license = "Apache-2.0"
    homepage = "https://huggingface.co/datasets/glaiveai/glaive-function-calling-v2"
    description = "Glaive function-calling v2: synthetic chats with and without function calls"
    subsets = ("train",)
    hub_repo = "glaiveai/glaive-function-calling-v2"
    hub_revision = "e7f4b6456019f5d8bcb991ef0dd67d8ff23221ac"
    hub_files = {DATA_FILE: "train"}
    file_sha256 = {DATA_FILE: "e9b5d671812b5ca2fbd7b625a37d5c99a19576c37252cdc806defe256aea6dad"}

    def convert(self, record: RawRecord, ctx: Context) -> Sample:
        row = record.data
        if not isinstance(row, dict) or not isinstance(row.get("chat"), str) or not isinstance(row.get("system", ""), str):
            raise Reject("record lacks 'system' and 'chat' strings")
        prose, functions = system_tools(row.get("system", ""))
        tools = unique_tools([tool_from_function(f, f"function {i}") for i, f in enumerate(functions)], ctx.count)
        by_name = {tool["name"]: tool for tool in tools}
        messages, meta = opening(self, record, tools, prose, language=None)
        tags: list[str] = [] if tools else ["no-functions"]
        trajectory = Trajectory(messages)
        for index, (header, text) in enumerate(turns(row["chat"])):
            where = f"chat turn {index}"
            if END in text and header != "ASSISTANT":
                ctx.count("glaive_stray_endoftext_removed")
            text = text.replace(END, "").strip()
            if header == "USER":
                trajectory.text("user", text)
            elif header == "FUNCTION RESPONSE":
                trajectory.answer(structured_result(text))
            else:
                text = STRAY_HEADER_RE.sub("", text)
                position = text.find(CALL)
                if position < 0:
                    trajectory.text("assistant", text)
                    continue
                before = text[:position].strip()
                if before:
                    ctx.count("glaive_text_before_functioncall")
                    trajectory.text("assistant", before)
                name, arguments = parse_call(text[position + len(CALL):], ctx)
                check_declared(name, by_name, where)
                if undeclared_arguments(by_name[name], arguments):
                    ctx.count("calls_with_undeclared_arguments")
                    tags.append("undeclared-arguments")
                trajectory.call(name, arguments)
        if tags:
            meta["tags"] = list(dict.fromkeys(tags))
        return trajectory.finish()
