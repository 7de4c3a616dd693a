"""Model output → calls ``[{"name", "arguments"}]``, without ever evaluating model text.

Accepted raw text, tried in this order:

1. ``<tool_call>{"name": …, "arguments": …}</tool_call>`` blocks (Hermes, Qwen and friends);
2. JSON: a call object, a list of them (``arguments`` or ``parameters``, as an object or a JSON string;
   OpenAI's ``{"function": {…}}`` wrapping too), or BFCL's decoded form ``[{"name": {params}}]``;
3. Python call syntax, as BFCL's prompting decoder accepts it (``[f(a=1), g(b='x')]``, with or
   without brackets or backticks), read with ``ast``. BFCL ``eval``s arithmetic such as ``2*3``; here
   only numeric/string literal arithmetic is computed, by walking the tree with bounded operands.

For BFCL's Java and JavaScript items (``language``), 3. is BFCL's tree-sitter parsers instead
(:mod:`.langs`, optional extra ``bfcl-langs``); 1. and 2. are tried first only because BFCL's parsers
reject such text anyway.

BFCL's own result records are read by :func:`bfcl_result_calls` (FC models: ``[{name: "<json>"}]``).
Raw completions of a chat template (``benchmark run --mode prompt``) are read in the model family's
own call syntax by :func:`completion_calls`.
"""

from __future__ import annotations

import ast
import functools
import inspect
import json
import operator
import re
from typing import Any, Callable

from ...trainer.render import BUILTINS, renderer_class
from .calls import MAX_CHARS, MAX_INT_BITS, DecodeError, call  # noqa: F401  (DecodeError: part of this module's interface)

TOOL_CALL_RE = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.S)
FENCE_RE = re.compile(r"^```[a-zA-Z]*\s*|\s*```$")


def parse_text(text: str, language: str = "python") -> list[dict[str, Any]] | dict:
    """Raw model text → calls; DecodeError when it is not a call list in any accepted syntax.

    ``language`` ``java``/``javascript``: BFCL's parser for that language, whose "no call found" is
    ``{}`` (BFCL's checker calls it the wrong output format)."""
    if not isinstance(text, str):
        raise DecodeError(f"expected text, got {type(text).__name__}")
    if language != "python":
        try:
            calls = _tagged_or_json(text)
        except DecodeError:
            calls = None
        if calls:
            return calls
        from .langs import parse_source

        return parse_source(bracketed(text)[1:-1], language)
    calls = _tagged_or_json(text)
    return calls if calls is not None else parse_python_calls(text)


def json_loads(text: str) -> Any:
    """json.loads whose nesting and number limits are a DecodeError (JSONDecodeError passes through)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except (RecursionError, ValueError, MemoryError) as exc:  # 100k-deep arrays, ints past the digit limit
        raise DecodeError(f"JSON too deep or too large to decode ({type(exc).__name__})") from None


def _tagged_or_json(text: str) -> list[dict[str, Any]] | None:
    """Calls from ``<tool_call>`` blocks or JSON; None when the text is neither."""
    if "<tool_call>" in text:
        return [_json_call(_loads(block)) for block in TOOL_CALL_RE.findall(text)]
    stripped = FENCE_RE.sub("", text.strip())
    if stripped[:1] in "[{":
        try:
            value = json_loads(stripped)
        except json.JSONDecodeError:
            value = None
        if value is not None:
            return json_calls(value)
    return None


def _loads(text: str) -> Any:
    try:
        return json_loads(text)
    except json.JSONDecodeError as exc:
        raise DecodeError(f"invalid JSON in <tool_call>: {exc}") from None


def json_calls(value: Any) -> list[dict[str, Any]]:
    """JSON call objects (one or a list) → calls."""
    items = value if isinstance(value, list) else [value]
    return [_json_call(item) for item in items]


def _json_call(item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise DecodeError(f"not a call object: {str(item)[:100]}")
    if isinstance(item.get("function"), dict):  # OpenAI tool_call wrapping
        item = item["function"]
    if isinstance(item.get("name"), str):
        arguments = item.get("arguments", item.get("parameters", {}))
        if isinstance(arguments, str):
            try:
                arguments = json_loads(arguments) if arguments.strip() else {}
            except json.JSONDecodeError as exc:
                raise DecodeError(f"arguments of {item['name']!r} are not JSON: {exc}") from None
        return call(item["name"], arguments)
    if len(item) == 1:  # BFCL's decoded form {name: {params}}
        (name, arguments), = item.items()
        return call(str(name), arguments)
    raise DecodeError(f"call object without a name: {str(item)[:100]}")


def bfcl_result_calls(result: Any) -> list[dict[str, Any]]:
    """A BFCL result value: raw text (prompting models) or ``[{name: "<json args>"}]`` (FC models)."""
    if isinstance(result, str):
        return parse_bfcl_prompt(result)
    if isinstance(result, list):
        calls = []
        for item in result:
            if not isinstance(item, dict) or len(item) != 1:
                raise DecodeError(f"not a BFCL function-call record: {str(item)[:100]}")
            (name, arguments), = item.items()
            if isinstance(arguments, str):
                try:
                    arguments = json_loads(arguments)
                except json.JSONDecodeError as exc:
                    raise DecodeError(f"arguments of {name!r} are not JSON: {exc}") from None
            calls.append(call(name, arguments))
        return calls
    raise DecodeError(f"unsupported BFCL result of type {type(result).__name__}")


# ---------------------------------------------------------------------------------- Python syntax
def parse_bfcl_prompt(text: str) -> list[dict[str, Any]]:
    """BFCL's default_decode_ast_prompting: strip backticks/newlines/spaces, bracket, parse."""
    return parse_python_calls(text)


def bracketed(text: str) -> str:
    """BFCL's default_decode_ast_prompting: backticks, newlines and spaces stripped, then ``[…]``."""
    body = text.strip("`\n ")
    if not body.startswith("["):
        body = "[" + body
    if not body.endswith("]"):
        body = body + "]"
    return body


def parse_python_calls(text: str) -> list[dict[str, Any]]:
    try:
        tree = ast.parse(bracketed(text).strip().strip("'"), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise DecodeError(f"Invalid syntax. Failed to decode AST. {exc}") from None
    node = tree.body
    elements = [node] if isinstance(node, ast.Call) else getattr(node, "elts", None)
    if elements is None:
        raise DecodeError("not a list of calls")
    calls = []
    try:
        for element in elements:
            if not isinstance(element, ast.Call):
                raise DecodeError(f"not a call: {ast.unparse(element)[:100]}")
            calls.append(_resolve_call(element))
    except RecursionError:
        raise DecodeError("expression nested too deeply to decode") from None
    return calls


def _resolve_call(node: ast.Call) -> dict[str, Any]:
    parts = []
    func = node.func
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        parts.append(func.id)
    arguments = {}
    for keyword in node.keywords:  # positional arguments are ignored, as in BFCL
        if keyword.arg is None:
            raise DecodeError("**kwargs in a call")
        arguments[keyword.arg] = _value(keyword.value)
    return call(".".join(reversed(parts)), arguments)


def _value(node: ast.AST) -> Any:
    if isinstance(node, ast.Constant):
        return "..." if node.value is Ellipsis else node.value
    if isinstance(node, ast.UnaryOp):
        # BFCL negates the operand's constant whatever the operator is; anything else fails to decode.
        if not isinstance(node.operand, ast.Constant):
            raise DecodeError(f"unsupported expression {ast.unparse(node)[:100]}")
        try:
            return -node.operand.value
        except TypeError as exc:
            raise DecodeError(str(exc)) from None
    if isinstance(node, ast.List):
        return [_value(v) for v in node.elts]
    if isinstance(node, ast.Dict):
        if any(k is None for k in node.keys):
            raise DecodeError("** in a dict literal")
        try:
            return {_value(k): _value(v) for k, v in zip(node.keys, node.values)}
        except TypeError as exc:  # unhashable key
            raise DecodeError(str(exc)) from None
    if isinstance(node, ast.BinOp):
        return _arithmetic(node)
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Call):
        return ast.unparse(node) if not node.keywords else {
            (resolved := _resolve_call(node))["name"]: resolved["arguments"]}
    if isinstance(node, ast.Tuple):
        return tuple(_value(v) for v in node.elts)
    if isinstance(node, ast.Subscript):
        return ast.unparse(node.value) + "[" + ast.unparse(node.slice) + "]"
    raise DecodeError(f"Unsupported AST type: {type(node)}")


_OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
              ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow}


def _arithmetic(node: ast.AST) -> Any:
    """Literal arithmetic only (what BFCL's ``eval`` of a BinOp yields for sane input), with bounds."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str)) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _arithmetic(node.operand)
        if isinstance(value, str):
            raise DecodeError("unary operator on a string")
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        left, right = _arithmetic(node.left), _arithmetic(node.right)
        if isinstance(node.op, ast.Pow) and (abs(right) > 1000 or abs(left) > 10**6):
            raise DecodeError("exponent too large to compute")
        if isinstance(node.op, ast.Pow) and isinstance(left, int) and isinstance(right, int) and right > 0 \
                and right * left.bit_length() > MAX_INT_BITS:
            raise DecodeError("power too large to compute")
        if isinstance(node.op, ast.Mult) and isinstance(left, int) and isinstance(right, int) \
                and left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise DecodeError("product too large to compute")
        if isinstance(node.op, ast.Add) and isinstance(left, str) and isinstance(right, str) \
                and len(left) + len(right) > 10**6:
            raise DecodeError("string concatenation too large")
        if isinstance(node.op, ast.Mult) and isinstance(left, str) != isinstance(right, str):
            text, times = (left, right) if isinstance(left, str) else (right, left)
            if isinstance(times, int) and len(text) * times > 10**6:
                raise DecodeError("string repetition too large")
        try:
            return _OPERATORS[type(node.op)](left, right)
        except (TypeError, ZeroDivisionError, OverflowError, ValueError) as exc:
            raise DecodeError(f"cannot compute {ast.unparse(node)[:100]}: {exc}") from None
    raise DecodeError(f"unsupported expression {ast.unparse(node)[:100]}")


# ---------------------------------------------------------------------------------- chat-template completions
COMPLETION_SYNTAXES = ("tool_call_tags", "json", "mistral", "text")
_JSON_SEPARATORS = re.compile(r"[\s;]*")


def completion_calls(text: str, syntax: str, stop: tuple[str, ...] = (), tools: list[dict] | None = None
                     ) -> tuple[str, list[dict[str, Any]] | None]:
    """A model's raw continuation of a chat-template prompt → (its text outside calls, calls or None).

    ``syntax`` is the family's way of writing calls (``Renderer.call_syntax``):

    * ``tool_call_tags`` (Qwen, Hermes): ``<tool_call>{"name", "arguments"}</tool_call>`` blocks;
    * ``json`` (Llama 3.x): ``{"name": …, "parameters": {…}}``, optionally after ``<|python_tag|>``,
      several separated by ``;`` or whitespace;
    * ``mistral``: ``[TOOL_CALLS] [{"name", "arguments", "id"?}, …]``;
    * ``text``: templates without a tool syntax (DeepSeek, GLM-4 here): no calls are read;
    * any other name: the ``parse_completion`` of the built-in renderer whose ``call_syntax`` it is
      (:func:`family_parsers`; harmony, Command ``Action:``, …), given the text cut at ``stop``, and the
      chat ``tools`` when it takes them (XML syntaxes write values as text: the declared types read them back).

    Reasoning (``…</think>``) is dropped first, and the text is cut at the first ``stop`` string.
    None means the reply made no call (plain text); call syntax that does not decode raises
    DecodeError.
    """
    for marker in stop:
        text = text.split(marker, 1)[0]
    family = family_parsers().get(syntax)
    if family is not None:
        try:
            content, calls = family(text, tools=tools) if tools and _reads_tools(family) else family(text)
        except DecodeError:
            raise
        except (ValueError, RecursionError) as exc:  # the family parsers live below this room: plain errors
            raise DecodeError(f"{syntax}: {exc}") from None
        return content, None if calls is None else [call(c["name"], c["arguments"]) for c in calls]
    if "</think>" in text:
        text = text.rsplit("</think>", 1)[1]
    body = text.strip()
    if syntax == "tool_call_tags":
        start = body.find("<tool_call>")
        if start < 0:
            return body, None
        return body[:start].strip(), [_json_call(_loads(block)) for block in TOOL_CALL_RE.findall(body[start:])]
    if syntax == "json":
        if body.startswith("<|python_tag|>"):
            body = body[len("<|python_tag|>"):].lstrip()
        if not body.startswith("{"):
            return body, None
        return "", [_json_call(value) for value in _json_values(body)]
    if syntax == "mistral":
        start = body.find("[TOOL_CALLS]")
        if start < 0:
            return body, None
        values = _json_values(body[start + len("[TOOL_CALLS]"):].lstrip())
        if len(values) != 1 or not isinstance(values[0], list):
            raise DecodeError("[TOOL_CALLS] must be followed by one JSON list of calls")
        return body[:start].strip(), [_json_call(value) for value in values[0]]
    if syntax == "text":
        return body, None
    raise ValueError(f"unknown call syntax {syntax!r}; choose one of "
                     f"{', '.join(COMPLETION_SYNTAXES + tuple(family_parsers()))}")


@functools.lru_cache(maxsize=None)
def _reads_tools(parse: Callable) -> bool:
    return "tools" in inspect.signature(parse).parameters


@functools.lru_cache(maxsize=1)
def family_parsers() -> dict[str, Callable[[str], tuple[str, list[dict[str, Any]] | None]]]:
    """``call_syntax`` → ``parse_completion`` of every built-in renderer that reads its own call syntax.

    A family's parser lives beside its renderer (the inverse of what it renders): a static
    ``parse_completion(text) -> (text outside calls, calls or None)`` that raises DecodeError on call
    syntax that does not decode, never evaluates model text and is bounded by the text's length.
    """
    parsers: dict[str, Callable[[str], tuple[str, list[dict[str, Any]] | None]]] = {}
    for short in BUILTINS:
        cls = renderer_class(short)
        parse = getattr(cls, "parse_completion", None)
        if parse is not None and cls.call_syntax not in COMPLETION_SYNTAXES:
            parsers.setdefault(cls.call_syntax, parse)
    return parsers


def _json_values(text: str) -> list[Any]:
    """Consecutive JSON values separated by whitespace or ``;`` (DecodeError on anything else)."""
    decoder = json.JSONDecoder()
    values, position = [], 0
    while position < len(text):
        try:
            value, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as exc:
            raise DecodeError(f"invalid JSON call: {exc}") from None
        except (RecursionError, ValueError, MemoryError) as exc:
            raise DecodeError(f"JSON call too deep or too large to decode ({type(exc).__name__})") from None
        values.append(value)
        position = _JSON_SEPARATORS.match(text, position).end()
    return values
