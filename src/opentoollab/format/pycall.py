"""Python-call syntax and Python reprs found in corpora, parsed with ``ast`` (never ``eval``).

Handles the shapes the public corpora use:

* call lists ``[Name(k='v', n=1), Other(x=[1, 2])]`` (a bare ``Name(...)`` is read as a list of one);
* API-Bank's history lines ``API-Request: [Name(k='v')]->result``, where the result is a Python repr
  or plain text;
* ToolACE's function names with spaces, dots or parentheses (``[Get Manager Image(sport="x")]``):
  such names are swapped for placeholder identifiers before ``ast`` sees the text and restored after;
  so are argument names that are Python keywords (``Currency Converter(from="EUR", to="JPY")``);
* Python reprs of results (single quotes, ``None``/``True``, tuples) via ``ast.literal_eval``.

Argument values must be literals; JSON spellings ``true``/``false``/``null`` are accepted too.
Everything here is pure and raises ``CallSyntaxError`` (a ``ValueError``) on bad input.
"""

from __future__ import annotations

import ast
import keyword
import math
import re
from typing import Any, Iterable, Iterator

from .sample import MAX_INT_DIGITS, loads_strict

PREFIX = "API-Request:"
_PLACEHOLDER = "__otl_fn{}__"
_KEYWORD_PLACEHOLDER = "__otl_kw{}__"
_ARGUMENT_NAME = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)")
_JSON_NAMES = {"true": True, "false": False, "null": None, "True": True, "False": False, "None": None}
_LOOSE_NAME = re.compile(r"[^()\[\]{},=\"'\n]+?(?=\s*\()")
# A quote between two word characters cannot delimit a string in a repr ("the user's name" printed
# inside single quotes without escaping, as API-Bank's generated data does): escape it and retry.
_APOSTROPHE = re.compile(r"(?<=[A-Za-z0-9])'(?=[A-Za-z0-9])")
_KEYWORD_START = re.compile(r",\s*(?=[A-Za-z_][A-Za-z0-9_]*\s*=)")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


class CallSyntaxError(ValueError):
    """Text that is not a list of literal-argument calls (or not a literal)."""


# The largest integer a call may hold: beyond it ``str(int)`` (hence JSON output) fails on Python's int↔str
# digit limit; a hex literal of 4,000 digits is parsed by ``ast`` without complaint but never written.
INT_BITS = int(3.32 * MAX_INT_DIGITS) - 64


def _checked_number(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        raise CallSyntaxError(f"the number {value} is not JSON (NaN/Infinity)")
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > INT_BITS:
        raise CallSyntaxError(f"an integer of {value.bit_length()} bits (beyond the int↔str digit limit)")
    return value


def to_json_value(value: Any) -> Any:
    """A Python literal → the JSON value it stands for (tuples/sets → lists, non-string keys → str)."""
    if isinstance(value, (list, tuple)):
        return [to_json_value(item) for item in value]
    if isinstance(value, (set, frozenset)):
        return [to_json_value(item) for item in sorted(value, key=repr)]
    if isinstance(value, dict):
        return {key if isinstance(key, str) else str(key): to_json_value(item) for key, item in value.items()}
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, complex):
        return str(value) if math.isfinite(value.real) and math.isfinite(value.imag) \
            and max(abs(value.real), abs(value.imag)) < 1e300 else _checked_number(float("inf"))
    return _checked_number(value)


def parse_python_value(text: str, *, bare_names: bool = False) -> Any:
    """JSON text or a Python literal repr → a JSON value; CallSyntaxError when it is neither.

    ``bare_names``: read an unquoted name (``{'type': str}``, as hand-written reprs have) as its text.
    """
    stripped = text.strip()
    try:
        return loads_strict(stripped)
    except ValueError:
        pass
    for candidate in (stripped, _APOSTROPHE.sub(r"\\'", stripped)):
        try:
            return _literal(ast.parse(candidate, mode="eval").body, bare_names)
        except (CallSyntaxError, SyntaxError, ValueError, MemoryError, RecursionError):
            continue
    raise CallSyntaxError(f"neither JSON nor a Python literal: {stripped[:200]!r}")


def _literal(node: ast.AST, bare_names: bool = False) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, int, float, bool, type(None))):
        return _checked_number(node.value)  # the common case, without literal_eval's own walk
    if isinstance(node, ast.Name) and node.id in _JSON_NAMES:
        return _JSON_NAMES[node.id]
    if isinstance(node, ast.Name) and bare_names:
        return node.id
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return [_literal(item, bare_names) for item in node.elts]
    if isinstance(node, ast.Dict):
        if any(key is None for key in node.keys):
            raise CallSyntaxError("**spread inside a dict literal")
        out = {}
        for key, value in zip(node.keys, node.values):
            name = _literal(key, bare_names)
            out[name if isinstance(name, str) else str(name)] = _literal(value, bare_names)
        return out
    try:
        return to_json_value(ast.literal_eval(node))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as exc:
        raise CallSyntaxError(f"argument is not a literal: {_unparse(node)} ({str(exc)[:200]})") from None


def _unparse(node: ast.AST) -> str:
    try:
        return repr(ast.unparse(node)[:200])
    except (ValueError, RecursionError):  # ast.unparse of a huge integer fails on the digit limit
        return "<unprintable>"


def _unquoted(text: str, start: int = 0) -> Iterator[int]:
    """Indices of the characters of ``text`` from ``start`` that are outside quoted strings."""
    quote = None
    i = start
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        else:
            yield i
        i += 1


def bracket_end(text: str, start: int = 0) -> int:
    """Index just past the bracket group opening at ``text[start]`` (quotes respected); -1 if unclosed."""
    pairs = {"(": ")", "[": "]", "{": "}"}
    stack: list[str] = []
    for i in _unquoted(text, start):
        ch = text[i]
        if ch in pairs:
            stack.append(pairs[ch])
        elif ch in ")]}":
            if not stack or stack.pop() != ch:
                return -1
            if not stack:
                return i + 1
    return -1


def _call_starts(text: str) -> Iterable[int]:
    """Positions inside the outer ``[...]`` where a call's name begins (after '[' or a top-level ',')."""
    depth = 0
    expect = False
    for i in _unquoted(text):
        ch = text[i]
        if expect and not ch.isspace():
            expect = False
            yield i
        if ch in "([{":
            depth += 1
            if depth == 1 and ch == "[":
                expect = True
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 1:
            expect = True


def _protect_names(text: str, known_names: Iterable[str]) -> tuple[str, dict[str, str]]:
    """Swap call names that are not Python identifiers for placeholders ast can parse."""
    known = sorted({n for n in known_names if n}, key=len, reverse=True)
    restore: dict[str, str] = {}
    pieces: list[str] = []
    last = 0
    for start in _call_starts(text):
        name = None
        for candidate in known:
            if text.startswith(candidate, start) and text[start + len(candidate):].lstrip(" ").startswith("("):
                name = candidate
                break
        if name is None:
            match = _LOOSE_NAME.match(text, start)
            name = match.group(0).rstrip() if match else None
        if not name or _IDENTIFIER.fullmatch(name):
            continue
        placeholder = _PLACEHOLDER.format(len(restore))
        restore[placeholder] = name
        pieces.append(text[last:start])
        pieces.append(placeholder)
        last = start + len(name)
    pieces.append(text[last:])
    return "".join(pieces), restore


def _protect_keywords(text: str) -> tuple[str, dict[str, str]]:
    """Swap argument names that are Python keywords (``from="EUR"``, ``class=2``) for placeholders.

    Only names in argument position count: right after the ``(`` of a call or a ``,`` directly inside it.
    """
    restore: dict[str, str] = {}
    pieces: list[str] = []
    last = 0
    stack: list[str] = []
    for i in _unquoted(text):
        ch = text[i]
        if ch in "([{":
            stack.append(ch)
        elif ch in ")]}":
            if stack:
                stack.pop()
            continue
        if not (stack and stack[-1] == "(" and ch in "(,"):
            continue
        match = _ARGUMENT_NAME.match(text, i + 1)
        if match is None or not keyword.iskeyword(match.group(1)):
            continue
        placeholder = _KEYWORD_PLACEHOLDER.format(len(restore))
        restore[placeholder] = match.group(1)
        pieces.append(text[last:match.start(1)])
        pieces.append(placeholder)
        last = match.end(1)
    pieces.append(text[last:])
    return "".join(pieces), restore


def _func_name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_func_name(node.value)}.{node.attr}"
    raise CallSyntaxError(f"not a function name: {_unparse(node)}")


def parse_calls(text: str, known_names: Iterable[str] = ()) -> list[dict[str, Any]]:
    """``[Name(k=v, ...), ...]`` → ``[{"name", "arguments"}]`` in order.

    ``known_names``: declared tool names, so names with spaces or parentheses are found exactly.
    Positional arguments are refused (their parameter names are unknown here).
    """
    stripped = text.strip()
    if not stripped.startswith("["):
        stripped = f"[{stripped}]"
    protected, restore = _protect_names(stripped, known_names)
    protected, keywords = _protect_keywords(protected)
    try:
        tree = ast.parse(protected, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise CallSyntaxError(f"unparsable call text {text[:200]!r}: {getattr(exc, 'msg', exc)}") from None
    if not isinstance(tree.body, ast.List):
        raise CallSyntaxError(f"not a list of calls: {text[:200]!r}")
    calls = []
    for node in tree.body.elts:
        if not isinstance(node, ast.Call):
            raise CallSyntaxError(f"not a call: {_unparse(node)}")
        name = _func_name(node.func)
        name = restore.get(name, name)
        if node.args:
            raise CallSyntaxError(f"{name}: positional arguments are not supported ({text[:200]!r})")
        if any(kw.arg is None for kw in node.keywords):
            raise CallSyntaxError(f"{name}: **kwargs are not supported")
        arguments = {keywords.get(kw.arg, kw.arg): _literal(kw.value) for kw in node.keywords}
        if len(arguments) != len(node.keywords):
            raise CallSyntaxError(f"{name}: a keyword argument is repeated")
        calls.append({"name": name, "arguments": arguments})
    return calls


def looks_like_calls(text: str) -> bool:
    """Cheap test: the whole text is one bracketed group that starts like a call list."""
    stripped = text.strip()
    return stripped.startswith("[") and stripped.endswith("]") and bracket_end(stripped) == len(stripped) \
        and "(" in stripped


def _loose_value(text: str) -> Any:
    value = text.strip()
    try:
        return parse_python_value(value)
    except CallSyntaxError:
        pass
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        inner = value[1:-1]
        try:
            parsed = parse_python_value(inner)
        except CallSyntaxError:
            return inner
        return parsed if isinstance(parsed, (list, dict)) else inner
    return value


def parse_loose_call(text: str) -> dict[str, Any]:
    """One ``[Name(k=v, ...)]`` as API-Bank's own evaluator reads it, for text ``ast`` refuses.

    Arguments are split before each ``, key=``; a value is a literal when it parses as one, else the
    text inside its outer quotes (a quoted list/dict repr such as ``'['a', 'b']'`` becomes the list,
    which is what API-Bank's executed results echo), else the bare text (``location=New York``).
    """
    body = text.strip()
    if body.startswith("[") and body.endswith("]"):
        body = body[1:-1].strip()
    opening = body.find("(")
    if opening <= 0 or not body.endswith(")"):
        raise CallSyntaxError(f"not a call: {text[:200]!r}")
    name = body[:opening].strip()
    inner = body[opening + 1:-1].strip()
    arguments: dict[str, Any] = {}
    for piece in _KEYWORD_START.split(inner) if inner else []:
        key, equals, value = piece.partition("=")
        key = key.strip()
        if not equals or not _IDENTIFIER.fullmatch(key) or key in arguments:
            raise CallSyntaxError(f"{name}: cannot read argument {piece[:100]!r}")
        arguments[key] = _loose_value(value)
    return {"name": name, "arguments": arguments}


def parse_api_request(line: str, known_names: Iterable[str] = (), *, loose: bool = False
                      ) -> tuple[list[dict[str, Any]], str | None]:
    """API-Bank's ``API-Request: [Name(k='v')]->result`` → (calls, result text or None if absent).

    ``loose``: when ``ast`` refuses the call text, read one call the way API-Bank's evaluator does
    (``parse_loose_call``); the call then ends at the first ``)]`` followed by ``->`` or the end.
    """
    body = line.strip()
    if body.startswith(PREFIX):
        body = body[len(PREFIX):].lstrip()
    if not body.startswith("["):
        raise CallSyntaxError(f"API-Request without a [call]: {line[:200]!r}")
    end = bracket_end(body)
    try:
        if end < 0:
            raise CallSyntaxError(f"unbalanced brackets or quotes in {line[:200]!r}")
        calls = parse_calls(body[:end], known_names)
    except CallSyntaxError:
        if not loose:
            raise
        match = re.search(r"\)\s*\](?=\s*->|\s*$)", body)
        if match is None:
            raise
        end = match.end()
        calls = [parse_loose_call(body[:end])]
    rest = body[end:]
    if not rest.strip():
        return calls, None
    if not rest.startswith("->"):
        raise CallSyntaxError(f"text after the call list is not '->result': {rest[:100]!r}")
    return calls, rest[2:]


def parse_result(text: str, *, bare_names: bool = False) -> Any:
    """A tool result as printed in a corpus: JSON or a Python repr when it parses, else the text itself."""
    try:
        return parse_python_value(text, bare_names=bare_names)
    except CallSyntaxError:
        return text.strip()
