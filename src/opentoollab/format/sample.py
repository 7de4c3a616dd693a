"""The unified sample format (DESIGN.md section 1): names, call ids, links and small helpers.

A sample is a list of messages ``{"role", "content", ...}``. This module is the one place that
knows how call ids are numbered, how ``<link>ID.PATH</link>`` references are parsed and resolved,
and how ground-truth candidate lists turn into plain calls. Everything here is pure.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, Iterable, Iterator

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
    if sample and isinstance(sample[0], dict) and sample[0].get("role") == "id":
        content = sample[0].get("content")
        return content if isinstance(content, str) else None
    return None


def meta(sample: Sample) -> dict[str, Any]:
    """The sample's meta object ({} when absent)."""
    for message in sample[:3]:
        if message.get("role") == "meta":
            return message.get("content") or {}
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


def canonical_json(value: Any) -> str:
    """Stable JSON text for hashing and deduplication (sorted keys, no spaces)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def dumps_sample(sample: Sample) -> str:
    """The one way a sample is written as a JSONL line (key order kept, UTF-8, compact)."""
    return json.dumps(sample, ensure_ascii=False, separators=(",", ":"))
