"""The unified sample format (DESIGN.md section 1): names, call ids, links and small helpers.

A sample is a list of messages ``{"role", "content", ...}``. This module is the one place that
knows how call ids are numbered, how ``<link>ID.PATH</link>`` references are parsed and resolved,
and how ground-truth candidate lists turn into plain calls. Everything here is pure.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import sys
from typing import Any, Iterable, Iterator

from . import fastjson

Message = dict[str, Any]
Sample = list[Message]

SCHEMA_VERSION = "1"

ROLES = (
    "id",
    "meta",
    "candidate_tools",
    "system",
    "user",
    "assistant",
    "tool_call",
    "tool_response",
    "tool_call_ground_truth",
)
CALL_ROLES = ("tool_call", "tool_call_ground_truth")

LINK_RE = re.compile(r"<link>(.*?)</link>", re.S)
CALL_ID_RE = re.compile(r"^(?P<name>.+)\.(?P<k>0|[1-9][0-9]*)$")
SAMPLE_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-]*_[A-Za-z0-9_.\-]+_(0|[1-9][0-9]*)$")


def make_sample_id(dataset: str, subset: str, n: int) -> str:
    """``<DATASET>_<subset>_<n>``."""
    return f"{dataset}_{subset}_{n}"


def sample_id(sample: Sample) -> str | None:
    """The sample's id, or None when the first message is not an id message."""
    if isinstance(sample, list) and sample and isinstance(sample[0], dict) and sample[0].get("role") == "id":
        content = sample[0].get("content")
        return content if isinstance(content, str) else None
    return None


def meta(sample: Sample) -> dict[str, Any]:
    """The sample's meta object ({} when absent)."""
    if not isinstance(sample, list):
        return {}
    for message in sample[:3]:
        if isinstance(message, dict) and message.get("role") == "meta":
            content = message.get("content")
            return content if isinstance(content, dict) else {}
    return {}


def call_id(name: str, k: int) -> str:
    return f"{name}.{k}"


def assign_call_ids(sample: Sample) -> list[list[str] | None]:
    """For every message, the ids of its calls (None for messages that hold no calls).

    A call's id is ``<name>.<k>`` where k counts earlier calls of the same name in the whole
    sample, in ``tool_call`` and ``tool_call_ground_truth`` messages alike.
    """
    seen: dict[str, int] = {}
    out: list[list[str] | None] = []
    for message in sample:
        if message.get("role") in CALL_ROLES and isinstance(message.get("content"), list):
            ids = []
            for call in message["content"]:
                name = call.get("name") if isinstance(call, dict) else None
                name = name if isinstance(name, str) else "?"
                k = seen.get(name, 0)
                seen[name] = k + 1
                ids.append(call_id(name, k))
            out.append(ids)
        else:
            out.append(None)
    return out


class CallNumbering:
    """Hands out call ids in sample order while a converter builds a sample."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}

    def next_id(self, name: str) -> str:
        k = self._seen.get(name, 0)
        self._seen[name] = k + 1
        return call_id(name, k)


def iter_links(value: Any) -> list[str]:
    """Every ``<link>…</link>`` body inside a (nested) parameter value, in document order."""
    found: list[str] = []
    stack = [value]
    while stack:  # iterative: this runs on every call of every sample the validator sees
        item = stack.pop()
        if isinstance(item, str):
            if "<link>" in item:
                found.extend(LINK_RE.findall(item))
        elif isinstance(item, dict):
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))
    return found


def split_link(body: str, known_ids: Iterable[str]) -> tuple[str, list[str]] | None:
    """Split a link body ``ID.PATH`` into the call id and its path, given the ids it may name.

    Tool names may contain dots, so the longest known id that prefixes the body wins.
    """
    best = None
    for cid in known_ids:
        if body == cid or body.startswith(cid + "."):
            if best is None or len(cid) > len(best):
                best = cid
    if best is None:
        return None
    rest = body[len(best) + 1 :]
    return best, (rest.split(".") if rest else [])


class LinkError(ValueError):
    """A link that names no known call, or a path that does not exist in the result."""


def follow_path(result: Any, path: list[str]) -> Any:
    """Walk a result by dot-separated keys or list indices."""
    value = result
    for step in path:
        if isinstance(value, dict) and step in value:
            value = value[step]
        elif isinstance(value, list) and step.lstrip("-").isdigit() and -len(value) <= int(step) < len(value):
            value = value[int(step)]
        else:
            raise LinkError(f"path {'.'.join(path)!r} not found in result")
    return value


def resolve_links(value: Any, results: dict[str, Any]) -> Any:
    """Replace links by the referenced values (``results``: call id → its result).

    A string that is exactly one link becomes the referenced value with its JSON type; a link
    inside longer text is replaced as text (strings as-is, other values as JSON).
    """
    if isinstance(value, str):
        if "<link>" not in value:
            return value
        whole = LINK_RE.fullmatch(value)
        if whole:
            return _lookup(whole.group(1), results)

        def as_text(match: re.Match) -> str:
            found = _lookup(match.group(1), results)
            return found if isinstance(found, str) else json.dumps(found, ensure_ascii=False)

        return LINK_RE.sub(as_text, value)
    if isinstance(value, dict):
        return {key: resolve_links(item, results) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve_links(item, results) for item in value]
    return value


def _lookup(body: str, results: dict[str, Any]) -> Any:
    parts = split_link(body, results.keys())
    if parts is None:
        raise LinkError(f"link {body!r} names no answered call")
    cid, path = parts
    return follow_path(results[cid], path)


def first_candidates(parameters: dict[str, list], schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """A ground-truth call's parameters → plain values: the first candidate that is not ``""``.

    A parameter whose only candidate is ``""`` (may be omitted) is left out. With the tool's
    parameter ``schema``, nested candidates are unwrapped as BFCL's checker reads them: a candidate
    of an ``object`` parameter is itself a dict of candidate lists, and so is each element of a
    candidate of an ``array`` of ``object`` parameter.
    """
    properties = (schema or {}).get("properties") or {}
    out = {}
    for key, candidates in parameters.items():
        for candidate in candidates:
            if candidate != "":
                out[key] = _unwrap(candidate, properties.get(key))
                break
    return out


def _is_candidate_dict(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(v, list) and v for v in value.values())


def _unwrap(candidate: Any, schema: dict[str, Any] | None) -> Any:
    if not isinstance(schema, dict):
        return candidate
    kind = schema.get("type")
    if kind == "object" and _is_candidate_dict(candidate):
        return first_candidates(candidate, schema)
    items = schema.get("items")
    if kind == "array" and isinstance(items, dict) and items.get("type") == "object" and isinstance(candidate, list) \
            and candidate and all(_is_candidate_dict(element) for element in candidate):
        return [first_candidates(element, items) for element in candidate]
    return candidate


def tool_call_uid(sample_identifier: str, cid: str) -> str:
    """The chat-message tool_call id: first 9 hex digits of sha256('<sample id>/<call id>')."""
    return hashlib.sha256(f"{sample_identifier}/{cid}".encode("utf-8")).hexdigest()[:9]


def canonical_json(value: Any, *, finite: bool = False) -> str:
    """Stable JSON text for hashing and deduplication (sorted keys, no spaces).

    orjson when it gives the same bytes (``fastjson``); ``finite`` promises no NaN/Infinity inside."""
    fast = fastjson.dumps(value, sort_keys=True, finite=finite)
    if fast is not None:
        return fast
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def dumps_sample(sample: Sample, *, finite: bool = False) -> str:
    """The one way a sample is written as a JSONL line (key order kept, UTF-8, compact, strict: never NaN).

    orjson when it gives the same bytes (``fastjson``); ``finite`` promises no NaN/Infinity inside
    (a validated sample)."""
    fast = fastjson.dumps(sample, finite=finite)
    if fast is not None:
        return fast
    return json.dumps(sample, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


# ----------------------------------------------------------------------------- strict JSON
MAX_DEPTH = 100  # nesting of arrays and objects a sample may have (raw records may nest deeper)
MAX_INT_DIGITS = (sys.get_int_max_str_digits() if hasattr(sys, "get_int_max_str_digits") else 0) or 4300
BAD_BYTES = re.compile("[\udc80-\udcff]")  # what ``surrogateescape`` makes of bytes that are not UTF-8


def _refuse_constant(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON (strict JSON has no NaN/Infinity)")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} overflows a double")
    return value


STRICT_DECODER = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite_float)


_ZEROED_DIGITS = bytes.maketrans(b"123456789", b"000000000")
_LONG_NUMBER = b"0" * 19  # an integer of 19+ digits: orjson may read it as a float (beyond 64 bits)
ORJSON_SAFE_BRACKETS = 400  # deeper than this, the standard parser decides where nesting is too deep
_REFUSED = object()


def _orjson_read(text: str | bytes) -> Any:
    """orjson's value of the text where it is the standard parser's, else ``_REFUSED``: no run of 19+ digits
    (byte operations only: a regex here cost as much as the parse it guards), orjson reads it, and nesting
    within ``ORJSON_SAFE_BRACKETS`` levels, far from either parser's limit (a line with no more brackets
    than that cannot nest deeper; a longer one, a multi-turn sample, has its containers counted level by level)."""
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    if _LONG_NUMBER in data.translate(_ZEROED_DIGITS):
        return _REFUSED
    try:
        value = fastjson.orjson.loads(text)
    except fastjson.orjson.JSONDecodeError:
        return _REFUSED
    if data.count(b"[") + data.count(b"{") > ORJSON_SAFE_BRACKETS and not _nested_within(value, ORJSON_SAFE_BRACKETS):
        return _REFUSED
    return value


def _nested_within(value: Any, limit: int) -> bool:
    """Whether a parsed JSON value nests no deeper than ``limit`` arrays and objects (level by level, no recursion)."""
    level = [value] if isinstance(value, (dict, list)) else []
    for _ in range(limit):
        if not level:
            return True
        inner = []
        for container in level:
            for item in (container.values() if isinstance(container, dict) else container):
                if isinstance(item, (dict, list)):
                    inner.append(item)
        level = inner
    return not level


def loads_strict(text: str | bytes) -> Any:
    """Strict JSON text → value, or ``ValueError`` with a reason for anything that is not: invalid JSON,
    ``NaN``/``Infinity`` or numbers that overflow to them, integers beyond Python's int↔str digit limit,
    nesting deeper than the interpreter can parse (no ``RecursionError`` escapes), bytes that are not UTF-8.

    orjson reads it when its answer is the standard parser's: it refuses NaN, overflowing numbers, lone
    surrogate escapes and invalid UTF-8 (the standard parser then gives the verdict and its reason), and
    agrees on everything else but integers of 19 digits or more (it may read them as floats) and nesting
    near the interpreter's limit, which go to the standard parser too."""
    if fastjson.orjson is not None and (value := _orjson_read(text)) is not _REFUSED:
        return value
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(f"not UTF-8 (byte {exc.start})") from None
    elif not text.isascii():
        bad = BAD_BYTES.search(text)
        if bad:
            raise ValueError(f"not UTF-8 (undecodable byte at character {bad.start()})")
    try:
        return STRICT_DECODER.decode(text)
    except RecursionError:
        raise ValueError("JSON nested too deep") from None
    except json.JSONDecodeError:
        raise
    except ValueError as exc:  # int digit limit, NaN, overflowing floats
        raise ValueError(f"not strict JSON: {exc}") from None


def loads_line(data: bytes, *, strip: bool = False) -> Any:
    """``loads_strict(decode_line(data))`` for a line of bytes (``strip``: of the text stripped of any Unicode
    whitespace), its value or ``ValueError`` with the same reason: orjson reads the bytes themselves where its
    answer is the strict parser's (no decode to text and back); whatever it refuses is decoded (naming a byte
    that is not UTF-8) and parsed strictly."""
    return read_line(data, strip)[0]


def read_line(data: bytes, strip: bool = False) -> tuple[Any, bool]:
    """(``loads_line(data)``, whether orjson read it: plain JSON values, see ``loads_line_or_lenient``)."""
    if fastjson.orjson is not None and (value := _orjson_read(data)) is not _REFUSED:
        return value, True
    text = decode_line(data)
    return loads_strict(text.strip() if strip else text), False


def loads_line_or_lenient(data: bytes, *, strip: bool = False) -> tuple[Any, bool]:
    """(the value of a JSON line, whether it is plain JSON) where plain means orjson read it: its values are
    JSON's own types, finite, no integer past 18 digits, no lone surrogate, nesting within 400 levels, so
    ``validate.validate_sample(value, strict=True)`` may take its shortcut. Else the value as ``loads_line``
    reads it or, for a line only the standard parser's leniency reads (``NaN``, ``Infinity``, numbers that
    overflow to them), as ``json.loads`` does, for validation to name what is wrong. A line none of them
    reads raises ValueError: the standard parser's, or the strict reason where it would recurse too deep."""
    try:
        return read_line(data, strip)
    except ValueError as refused:
        try:
            return json.loads(data), False
        except RecursionError:
            raise refused from None


def decode_line(data: bytes) -> str:
    """A line of bytes → text; ``ValueError`` naming the byte when it is not UTF-8 (also a cut character)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 (byte {exc.start}: {data[exc.start:exc.start + 4]!r})") from None


def json_problem(value: Any, max_depth: int = MAX_DEPTH) -> str | None:
    """Why ``value`` cannot be written as strict UTF-8 JSON (None when it can): a non-finite number, an integer
    beyond the digit limit, a string with a lone surrogate, nesting deeper than ``max_depth``, a non-JSON type."""
    return checked_encoding(value, max_depth)[0]


def checked_encoding(value: Any, max_depth: int = MAX_DEPTH) -> tuple[str | None, bytes | None]:
    """(``json_problem(value)``, orjson's bytes of the value as ``fastjson.dumps_bytes(value, unchecked=True)``
    gives them, or None where orjson did not write it): callers that write the value next reuse the bytes."""
    if type(value) is list or type(value) is dict:
        encoded = fastjson.dumps_bytes(value, unchecked=True)
        if encoded is not None:  # no lone surrogate, non-string key, big integer or subclass: the rest is left
            return _plain_problem(value, max_depth), encoded
    return _walked_problem(value, max_depth), None


def _walked_problem(value: Any, max_depth: int) -> str | None:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
            if not all(isinstance(key, str) for key in item):
                return "an object key that is not a string"
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > max_depth:
            return f"nested deeper than {max_depth} levels"
        for child in children:
            if isinstance(child, (dict, list)):
                stack.append((child, depth + 1))
            elif isinstance(child, str) or child is None or isinstance(child, bool):
                continue
            elif isinstance(child, float):
                if not math.isfinite(child):
                    return f"the number {child} is not JSON (NaN/Infinity)"
            elif isinstance(child, int):
                if child.bit_length() > 3.32 * MAX_INT_DIGITS - 64:
                    return f"an integer of {child.bit_length()} bits (beyond the {MAX_INT_DIGITS}-digit limit)"
            else:
                return f"a {type(child).__name__} is not a JSON value"
    try:
        json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except UnicodeEncodeError:
        return "a string holds a lone surrogate (not encodable as UTF-8)"
    except (ValueError, TypeError, RecursionError) as exc:
        return f"not strict JSON: {str(exc)[:200]}"
    return None


_ATOMS = frozenset({str, int, bool, type(None)})


def _plain_problem(value: list | dict, max_depth: int) -> str | None:
    """``json_problem`` of a value orjson could write (so of exact dicts, lists, strings, small integers,
    floats, booleans and None): only NaN/Infinity, depth and foreign types are left to find."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > max_depth:
            return f"nested deeper than {max_depth} levels"
        for child in item.values() if type(item) is dict else item:
            kind = type(child)
            if kind in _ATOMS:
                continue
            if kind is dict or kind is list:
                stack.append((child, depth + 1))
            elif kind is float:
                if not math.isfinite(child):
                    return f"the number {child} is not JSON (NaN/Infinity)"
            else:
                return f"a {kind.__name__} is not a JSON value"
    return None


def _lenient(value: Any, depth: int) -> Any:
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8") if _SURROGATE.search(value) else value
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value if value.bit_length() < 3 * MAX_INT_DIGITS else f"<integer of {value.bit_length()} bits>"
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if depth > MAX_DEPTH:
        return "<nested deeper than %d levels>" % MAX_DEPTH
    if isinstance(value, dict):
        return {str(key): _lenient(item, depth + 1) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_lenient(item, depth + 1) for item in value]
    return str(value)[:2000]


_SURROGATE = re.compile("[\ud800-\udfff]")


def dumps_lenient(value: Any) -> str:
    """Strict JSON text (one line) for ANY value, never raising: for reject records, whose raw part may hold
    what the corpus held (NaN, huge integers, undecodable bytes, deep nesting); such parts are written as text."""
    return json.dumps(_lenient(value, 1), ensure_ascii=False, allow_nan=False)
