"""The XML call syntax of Qwen3-Coder, Qwen3.5 and Nemotron 3, and GLM-4.7's ``<arg_key>`` form: both directions.

Rendering writes each argument value as those templates do (objects and arrays as JSON, everything
else through Python's ``str``: ``True``, ``None``, ``1.5``); parsing reads calls back and types each
value by the declared parameter type (strings stay raw text, as the model wrote them), the way
vLLM's parsers for these families do. With no declaration a value is read as JSON when it is JSON,
else kept as text. Parsing is a left-to-right scan with ``str.find`` (linear in the text); values are
never evaluated. Where two values are written alike (``None`` and the string ``"None"``) the
parser picks the value the template writes that way more often (see :func:`typed`).
"""

from __future__ import annotations

import re
from typing import Any, Callable, Iterator

from .base import tojson
from .completion import json_value

INT_RE = re.compile(r"[+-]?\d+")
_VALUE_ENDS = re.compile(r"\s*(?:<parameter=|\Z)")
PY_WORDS = {"True": True, "False": False, "None": None}


def template_str(value: Any) -> str:
    """Jinja's ``|string`` of a JSON value (``str``), or ``tojson`` for objects and arrays, as these templates do."""
    if isinstance(value, (dict, list, tuple)):
        return tojson(value)
    return value if isinstance(value, str) else str(value)


def xml_parameters(arguments: dict) -> str:
    """``<parameter=K>\\nV\\n</parameter>\\n`` for every argument (Qwen3-Coder / Qwen3.5 / Nemotron 3)."""
    return "".join(["<parameter=" + key + ">\n" + template_str(value) + "\n</parameter>\n"
                    for key, value in arguments.items()])


def parameter_types(tools: list[dict] | None) -> dict[str, dict[str, Any]]:
    """Tool name → {parameter → its declared JSON-schema ``type``} (chat tools or plain function declarations)."""
    found: dict[str, dict[str, Any]] = {}
    for tool in tools or ():
        function = tool.get("function", tool) if isinstance(tool, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            continue
        properties = (function.get("parameters") or {}).get("properties") if isinstance(function.get("parameters"), dict) else None
        properties = properties if isinstance(properties, dict) else {}
        found[function["name"]] = {key: spec.get("type") for key, spec in properties.items() if isinstance(spec, dict)}
    return found


def typed(text: str, kind: Any, python_words: bool) -> Any:
    """An argument written as text → its value, given the parameter's declared type (None: unknown).

    ``python_words``: scalars were written with Python's ``str``: ``None`` is null, and ``True``/``False``
    are booleans unless the parameter is a string. Otherwise (GLM-4.7 writes non-strings as JSON)
    ``null`` is null whatever the type, as vLLM's parsers read it. Where the template writes two values
    alike (``None`` and ``"None"``) no reading is exact; these choices are right most often on BFCL.
    """
    if python_words and text in PY_WORDS and (kind != "string" or text == "None"):
        return PY_WORDS[text]
    if not python_words and text == "null":
        return None
    if kind == "string":
        return text
    if kind in ("integer", "number"):
        if INT_RE.fullmatch(text):
            try:
                return int(text)
            except ValueError:  # beyond Python's int-from-text digit limit
                return text
        try:
            return float(text)
        except ValueError:
            pass
    try:
        return json_value(text, "an argument")
    except ValueError:
        return text


def _require(text: str, token: str, start: int, what: str) -> int:
    found = text.find(token, start)
    if found < 0:
        raise ValueError(f"{what}: {token!r} missing")
    return found


def blocks(text: str, opening: str, closing: str) -> Iterator[str]:
    """The text inside each ``opening … closing`` pair, left to right (ValueError when one is not closed)."""
    position = 0
    while (start := text.find(opening, position)) >= 0:
        end = _require(text, closing, start, f"a {opening} block")
        yield text[start + len(opening):end]
        position = end + len(closing)


def parse_xml_calls(text: str, tools: list[dict] | None) -> list[dict[str, Any]]:
    """``<tool_call>\n<function=NAME>\n<parameter=K>\nV\n</parameter>\n…</function>\n</tool_call>`` blocks → calls."""
    types = parameter_types(tools)
    calls = []
    for block in blocks(text, "<tool_call>", "</tool_call>"):
        head = _require(block, "<function=", 0, "a <tool_call> block")
        name_end = _require(block, ">", head, "<function=NAME>")
        name = block[head + len("<function="):name_end].strip()
        if not name:
            raise ValueError("a <function=> without a name")
        body_end = block.find("</function>", name_end)
        body = block[name_end + 1:body_end if body_end >= 0 else len(block)]
        kinds = types.get(name, {})
        arguments: dict[str, Any] = {}
        cursor = 0
        while True:
            open_at = body.find("<parameter=", cursor)
            if open_at < 0:
                break
            key_end = _require(body, ">", open_at, "<parameter=NAME>")
            key = body[open_at + len("<parameter="):key_end].strip()
            close = _closing_parameter(body, key_end + 1)
            value = body[key_end + 1:close]
            value = value[1:] if value.startswith("\n") else value
            value = value[:-1] if value.endswith("\n") else value
            arguments[key] = typed(value, kinds.get(key), python_words=True)
            cursor = close + len("</parameter>")
        calls.append({"name": name, "arguments": arguments})
    return calls


def _closing_parameter(body: str, start: int) -> int:
    """Where a parameter's value ends: the ``</parameter>`` followed by the next parameter or the end of the call.

    A value may itself contain ``</parameter>`` (code does): only a closing tag followed by another
    ``<parameter=`` or nothing but whitespace ends it.
    """
    close = _require(body, "</parameter>", start, "a <parameter=…> value")
    while True:
        after = close + len("</parameter>")
        if _VALUE_ENDS.match(body, after):
            return close
        following = body.find("</parameter>", after)
        if following < 0:
            return close
        close = following


def split_content(text: str, marker: str, parse: Callable[[str], list[dict[str, Any]]]) -> tuple[str, list | None]:
    """(the text before the first ``marker``, stripped; calls parsed from the rest, or None when there is no marker)."""
    start = text.find(marker)
    if start < 0:
        return text.strip(), None
    return text[:start].strip(), parse(text[start:])


def sectioned_calls(text: str, begin: str, end: str, call_begin: str, separator: str, call_end: str
                    ) -> tuple[str, list[tuple[str, Any]] | None]:
    """Kimi's and DeepSeek's call sections: (the reply before the section, [(call head, JSON arguments), …] or None).

    ``begin (call_begin HEAD separator ARGS call_end)* end`` after the reasoning; empty ARGS are ``{}``.
    """
    text = after_reasoning(text)
    start = text.find(begin)
    if start < 0:
        return text.strip(), None
    stop = text.find(end, start)
    section = text[start + len(begin):stop if stop >= 0 else len(text)]
    calls, position = [], 0
    while (at := section.find(call_begin, position)) >= 0:
        middle = section.find(separator, at)
        close = section.find(call_end, middle) if middle >= 0 else -1
        if close < 0:
            raise ValueError("a tool call without its separator or end marker")
        head, arguments = section[at + len(call_begin):middle].strip(), section[middle + len(separator):close]
        calls.append((head, json_value(arguments, f"the arguments of {head[:100]!r}") if arguments.strip() else {}))
        position = close + len(call_end)
    return text[:start].strip(), calls


def after_reasoning(text: str) -> str:
    """The reply after its reasoning: what follows the last ``</think>`` (the whole text when there is none)."""
    return text.rsplit("</think>", 1)[1] if "</think>" in text else text
