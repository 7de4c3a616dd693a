"""Reading JSON out of a model's answer, tolerantly, without ever evaluating model text.

Models wrap JSON in code fences, put prose or a ``<think>`` block before it, leave trailing commas,
write Python's ``True``/``None`` or single-quoted dicts. ``parse_json`` tries, in order: the whole
text, fenced blocks, then the first balanced ``{…}``/``[…]``; each candidate as JSON, as JSON with
those slips repaired, and as a Python literal (parsed by ``ast``, literals only). Anything else is a
``ParseError`` whose message says what was wrong. ``looks_like_refusal`` spots an apology instead
of an answer so failures can be reported as refusals.
May import: the standard library and ``opentoollab.format``.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterator

from ..format.pycall import CallSyntaxError, parse_python_value

MAX_TEXT = 2_000_000  # answers longer than this are refused outright (bounded work)
EXCERPT = 300
_THINK_RE = re.compile(r"<think>.*?(?:</think>|\Z)", re.S | re.I)
_FENCE_RE = re.compile(r"```[A-Za-z0-9_-]*[ \t]*\n?(.*?)(?:```|\Z)", re.S)
_REFUSAL_RE = re.compile(
    r"^\W*(?:i'?m sorry|i am sorry|sorry,|i apologi[sz]e|i can(?:no|')t|i cannot|i'?m (?:not able|unable)|"
    r"i am (?:not able|unable)|i won'?t|as an ai\b)", re.I)
_PY_WORDS = {"True": "true", "False": "false", "None": "null"}
_SPACES = re.compile(r"\s*")
MAX_UNCLOSED = 16  # unclosed brackets tried as the start of a value before giving up


class ParseError(ValueError):
    """The answer holds no JSON value of the expected kind; ``text`` keeps an excerpt for the failure log."""

    def __init__(self, message: str, text: str = "") -> None:
        super().__init__(message)
        self.text = text[:EXCERPT * 4]


def looks_like_refusal(text: str) -> bool:
    """True when the answer starts like an apology/refusal rather than content."""
    return bool(_REFUSAL_RE.match(strip_thinking(text).strip()[:200]))


def strip_thinking(text: str) -> str:
    """The answer without reasoning blocks (``<think>…</think>``, also an unclosed one)."""
    return _THINK_RE.sub("", text) if "<think" in text.lower() else text


def _balanced_end(text: str, start: int) -> int | None:
    """Index after the bracket closing the one at ``start`` (string-aware), or None when unclosed."""
    depth, in_string, escaped = 0, False, False
    for index in range(start, len(text)):
        ch = text[index]
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
            if depth == 0:
                return index + 1
    return None


def repair(text: str) -> str:
    """Fix slips outside strings: trailing commas before ``}``/``]``, Python ``True/False/None``."""
    out: list[str] = []
    in_string, escaped, index = False, False, 0
    while index < len(text):
        ch = text[index]
        if in_string:
            out.append(ch)
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
            out.append(ch)
        elif ch == ",":
            after = _SPACES.match(text, index + 1).end()  # not text[index + 1:].lstrip(): linear, not quadratic
            if after >= len(text) or text[after] not in "}]":
                out.append(ch)
        elif ch.isalpha():
            end = index
            while end < len(text) and (text[end].isalnum() or text[end] == "_"):
                end += 1
            word = text[index:end]
            out.append(_PY_WORDS.get(word, word))
            index = end
            continue
        else:
            out.append(ch)
        index += 1
    return "".join(out)


def _candidates(text: str) -> Iterator[str]:
    yield text
    for match in _FENCE_RE.finditer(text):
        yield match.group(1).strip()
    tried = unclosed = 0
    for match in re.finditer(r"[\[{]", text):
        end = _balanced_end(text, match.start())
        if end is None:  # each try scans to the end: a bounded number of them keeps '[[[[…' linear
            unclosed += 1
            if unclosed >= MAX_UNCLOSED:
                return
            continue
        yield text[match.start():end]
        tried += 1
        if tried >= 3:
            return


def _read(candidate: str) -> Any:
    try:
        return json.loads(candidate)
    except (json.JSONDecodeError, RecursionError):
        pass
    try:
        return json.loads(repair(candidate))
    except (json.JSONDecodeError, RecursionError):
        pass
    if candidate[:1] in "{[":
        try:
            return parse_python_value(candidate)
        except CallSyntaxError:
            pass
    raise ValueError("not JSON")


def parse_json(text: str, expect: str | None = None) -> Any:
    """The JSON value in a model's answer; ``expect`` = ``"object"`` or ``"array"`` to demand one kind."""
    if not isinstance(text, str) or not text.strip():
        raise ParseError("empty answer", text or "")
    if len(text) > MAX_TEXT:
        raise ParseError(f"answer too long ({len(text):,} characters)", text)
    body = strip_thinking(text).strip()
    wrong_kind = None
    for candidate in _candidates(body):
        candidate = candidate.strip()
        if not candidate:
            continue
        try:
            value = _read(candidate)
        except ValueError:
            continue
        if expect == "object" and not isinstance(value, dict) or expect == "array" and not isinstance(value, list):
            wrong_kind = type(value).__name__
            continue
        return value
    if wrong_kind:
        raise ParseError(f"expected a JSON {expect}, got {wrong_kind}", text)
    if "{" in body and _balanced_end(body, body.index("{")) is None:
        raise ParseError("JSON is truncated (unclosed bracket)", text)
    raise ParseError("no JSON value in the answer", text)
