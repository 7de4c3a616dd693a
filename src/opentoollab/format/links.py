"""Inferring ``<link>`` dependencies between calls where a corpus states none (DESIGN §1, issue 3 §5).

The rule, applied to each ``tool_call`` message of a sample in order:

1. Candidates are the results of calls answered in an EARLIER ``tool_response`` (never a call of the
   same ``tool_call`` list: parallel calls were made without seeing each other's results).
2. An argument value (a whole parameter value, or a nested value inside one) is linked when it is
   *equal* (same JSON text: ``10`` is not ``10.0``) to the whole result or to a value at some path in
   it. The most recent result wins; inside one result, the first path in document order.
3. Only non-trivial values are linked: strings of at least 3 non-blank characters, numbers with an
   absolute value of at least 10, and lists/objects holding at least one such value. Never
   booleans, null, ``0``, ``""``, one- or two-character strings.
4. A value is NOT linked to a result when it was known before that result existed: it occurs
   (as text) in a ``system`` or ``user`` message that precedes the result, or it is one of the
   arguments of the call that produced the result (an echoed input).
5. Paths must be followable by ``sample.follow_path``: a key that contains a dot or is empty is
   never part of a path.

A linked value becomes ``"<link>ID.PATH</link>"`` (``"<link>ID</link>"`` for the whole result) and
ID is appended to the call's ``depend_on``. Ground-truth calls (``tool_call_ground_truth``) are left
as they are: scorers compare them with literal model output. Values that already hold a link are
left alone. ``infer_links`` is pure: it returns a new sample and the number of links added.
"""

from __future__ import annotations

from typing import Any, Iterator

from .sample import Sample, assign_call_ids, canonical_json

MIN_STRING = 3
MIN_NUMBER = 10
MAX_INDEXED_TEXT = 20_000  # containers whose JSON is longer are not offered as link targets


def is_linkable(value: Any) -> bool:
    """Rule 3: is the value specific enough for equality to mean the value came from a result?"""
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, str):
        return len(value.strip()) >= MIN_STRING and "<link>" not in value
    if isinstance(value, (int, float)):
        return abs(value) >= MIN_NUMBER
    if isinstance(value, list):
        return any(is_linkable(item) for item in value)
    if isinstance(value, dict):
        return any(is_linkable(item) for item in value.values())
    return False


def _walk(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every (path, node) of a result in document order, the root first."""
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and key and "." not in key:
                yield from _walk(item, path + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, path + (str(index),))


def _leaves(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    else:
        yield value


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else canonical_json(value)


class _Result:
    """One answered call: its id, an index value-text → first path, and what was known before it."""

    def __init__(self, cid: str, result: Any, arguments: dict[str, Any], prior_text: str) -> None:
        self.cid = cid
        self.index: dict[str, tuple[str, ...]] = {}
        for path, node in _walk(result):
            if not is_linkable(node):
                continue
            key = canonical_json(node)
            if len(key) <= MAX_INDEXED_TEXT:
                self.index.setdefault(key, path)
        self.echoed = {canonical_json(leaf) for leaf in _leaves(arguments)}
        self.prior_text = prior_text

    def path_of(self, key: str, value: Any) -> tuple[str, ...] | None:
        path = self.index.get(key)
        if path is None or key in self.echoed:
            return None
        if not isinstance(value, (dict, list)) and _as_text(value) in self.prior_text:
            return None
        return path


def _link_value(value: Any, results: list[_Result], used: list[str]) -> tuple[Any, int]:
    """The value with links in place of values found in results (rule 2), and how many were made."""
    if is_linkable(value):
        key = canonical_json(value)
        for result in reversed(results):
            path = result.path_of(key, value)
            if path is not None:
                if result.cid not in used:
                    used.append(result.cid)
                return f"<link>{'.'.join((result.cid, *path))}</link>", 1
    if isinstance(value, dict):
        total = 0
        out = {}
        for name, item in value.items():
            out[name], made = _link_value(item, results, used)
            total += made
        return out, total
    if isinstance(value, list):
        total = 0
        items = []
        for item in value:
            linked, made = _link_value(item, results, used)
            items.append(linked)
            total += made
        return items, total
    return value, 0


def infer_links(sample: Sample) -> tuple[Sample, int]:
    """The sample with inferred links and depend_on (see the module docstring; a copy when it changes), and the count."""
    if not any(message.get("role") == "tool_response" for message in sample):
        return sample, 0  # no result to link to (single-turn corpora such as xLAM)
    ids = assign_call_ids(sample)
    results: list[_Result] = []
    seen_text: list[str] = []
    calls_by_id: dict[str, dict[str, Any]] = {}
    out: Sample = []
    total = 0
    for index, message in enumerate(sample):
        role = message.get("role")
        if role in ("system", "user") and isinstance(message.get("content"), str):
            seen_text.append(message["content"])
        elif role == "tool_response" and isinstance(message.get("content"), dict):
            prior = "\n".join(seen_text)
            for cid, result in message["content"].items():
                arguments = calls_by_id.get(cid, {}).get("parameters", {})
                results.append(_Result(cid, result, arguments, prior))
        elif role == "tool_call" and isinstance(message.get("content"), list):
            for cid, call in zip(ids[index] or [], message["content"]):
                calls_by_id[cid] = call  # the original arguments, for the echo test of rule 4
            if results:
                new_calls = []
                for call in message["content"]:
                    used = list(call.get("depend_on", []))
                    parameters, made = {}, 0
                    for key, value in call.get("parameters", {}).items():  # never the whole object
                        parameters[key], count = _link_value(value, results, used)
                        made += count
                    if made:
                        call = {**call, "parameters": parameters, "depend_on": used}
                        total += made
                    new_calls.append(call)
                message = {**message, "content": new_calls}
        out.append(message)
    return out, total
