"""Categories of a sample from its structure (and meta hints), its language and its counts.

The language is ``meta.language`` (set at conversion by ``format.language``), else detected on the user
turns with the same detector.

``structure(sample)`` gives (categories, categories taken from meta, language, counts); the
category definitions are in ``opentoollab.tag.tagging``'s docstring. Pure functions.
May import: ``opentoollab.format``.
"""


from __future__ import annotations

import json
import math
import re
from typing import Any

from ..format import fastjson
from ..format.language import detect_language, sample_language  # noqa: F401  (tag's language: one detector with conversion)
from ..format.sample import CALL_ROLES, Sample, assign_call_ids, meta as sample_meta


SHAPES = ("no_call", "single", "multiple", "parallel", "parallel_multiple")
FLOW = ("dependent", "multi_step", "multi_turn")
SPECIAL = ("irrelevance", "relevance", "miss_param", "miss_func", "long_context")
CATEGORIES = SHAPES + FLOW + SPECIAL

LONG_MESSAGE_TOKENS = 1000
_META_HINT_RE = re.compile(
    r"(?:^|_)(parallel_multiple|parallel|multi_turn|miss_param|miss_func|long_context|irrelevance|relevance)(?=_|$)")

_ASCII_RE = re.compile(r"[\x00-\x7f]+")


# ----------------------------------------------------------------------------- small helpers
def approx_tokens(text: str) -> int:
    """Rough token count without a tokenizer: ~4 ASCII characters per token, one per other character."""
    other = 0 if text.isascii() else len(_ASCII_RE.sub("", text))
    return math.ceil((len(text) - other) / 4 + other)


def _text(content: Any) -> str:
    return content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)


_CONTINUATION = bytes(range(0x80, 0xC0))  # UTF-8 bytes that do not start a character
_LEAD = bytes(range(0xC0, 0x100))  # UTF-8 bytes that start a non-ASCII character


def content_tokens(content: Any, finite: bool = False, exact: bool = False) -> int:
    """``approx_tokens(_text(content))`` without building ``json.dumps``' text (~10 µs for a tool list): its
    size is orjson's compact bytes plus one space per comma and colon outside strings, found by splitting
    at the quotes when no string holds an escape (so every quote opens or closes one). Otherwise, or when
    ``fastjson`` says orjson's bytes could differ (floats, NaN unless ``finite``: known to hold none), the
    text is built. ``exact``: orjson's bytes of the whole sample are known to be json's (so are its parts')."""
    if isinstance(content, str):
        return approx_tokens(content)
    data = fastjson.dumps_bytes(content, unchecked=True) if exact else fastjson.dumps_bytes(content, finite=finite)
    if data is None or b"\\" in data:
        return approx_tokens(_text(content))
    outside = b"".join(data.split(b'"')[::2])
    size = len(data) + outside.count(b",") + outside.count(b":")
    if data.isascii():
        return math.ceil(size / 4)
    other = len(data) - len(data.translate(None, _LEAD))  # non-ASCII characters
    characters = size - (len(data) - len(data.translate(None, _CONTINUATION)))
    return math.ceil((characters - other) / 4 + other)


def meta_hints(meta: dict[str, Any]) -> set[str]:
    """Category names a sample's meta states: ``meta.tags`` entries and names inside ``meta.subset``."""
    hints = {tag for tag in meta.get("tags") or [] if isinstance(tag, str) and tag in CATEGORIES}
    subset = meta.get("subset")
    if isinstance(subset, str):
        hints.update(_META_HINT_RE.findall(subset))
    return hints


def _waves(calls: list[dict], ids: list[str]) -> list[list[int]]:
    """Split one call list into waves: a call goes out once every call it depends on has been answered."""
    position = {cid: i for i, cid in enumerate(ids)}
    level: list[int] = []
    for index, call in enumerate(calls):
        deps = [position[d] for d in call.get("depend_on") or [] if d in position and position[d] < index]
        level.append(1 + max((level[d] for d in deps), default=-1))
    waves: dict[int, list[int]] = {}
    for index, lv in enumerate(level):
        waves.setdefault(lv, []).append(index)
    return [waves[k] for k in sorted(waves)]



def structure(sample: Sample, with_language: bool = True, *, finite: bool = False, exact: bool = False,
              ids: list[list[str] | None] | None = None) -> tuple[list[str], list[str], str, dict[str, int]]:
    """(categories, categories taken from meta, language, counts) of a schema-valid sample; the language is
    ``und`` without ``with_language`` (``datasets stats`` counts structure only). ``finite``: the sample is
    known to hold no NaN/Infinity (it passed ``json_problem``); ``exact``: orjson's bytes of it are json's
    (``fastjson.exact_bytes``); ``ids``: its ``assign_call_ids``, if known."""
    ids = assign_call_ids(sample) if ids is None else ids
    hints = meta_hints(sample_meta(sample))
    found: set[str] = set()
    turns = calls = waves_total = 0
    widest = 0  # most calls in one wave
    tools_at_widest = tools_at_single = 0
    tools_in_force: set[str] = set()
    all_tools: set[str] = set()
    waves_since_user = 0
    answer_known = False
    empty_truth = False
    long_message = False
    tokens = 0
    for index, message in enumerate(sample):
        role, content = message["role"], message["content"]
        if role == "id":
            continue
        size = content_tokens(content, finite, exact) if role != "meta" else 0
        tokens += size
        if role == "candidate_tools":
            names = {tool["name"] for tool in content}
            if tools_in_force and names - tools_in_force:
                found.add("miss_func")
            tools_in_force = names
            all_tools |= names
        elif role == "user":
            turns += 1
            waves_since_user = 0
        elif role == "assistant":
            answer_known = True
        if role in ("user", "system", "assistant", "tool_response") and size >= LONG_MESSAGE_TOKENS:
            long_message = True
        if role in CALL_ROLES:
            answer_known = True
            if not content:
                empty_truth = role == "tool_call_ground_truth"
                continue
            calls += len(content)
            if any(call.get("depend_on") for call in content):
                found.add("dependent")
            waves = _waves(content, ids[index] or [])
            waves_total += len(waves)
            waves_since_user += len(waves)
            if waves_since_user >= 2:
                found.add("multi_step")
            for wave in waves:
                if len(wave) > widest:
                    widest, tools_at_widest = len(wave), len(tools_in_force)
                if len(wave) == 1:
                    tools_at_single = max(tools_at_single, len(tools_in_force))
    from_meta: list[str] = []

    def from_hint(name: str) -> None:
        if name in hints and name not in found:
            found.add(name)
            from_meta.append(name)

    if turns >= 2:
        found.add("multi_turn")
    if long_message:
        found.add("long_context")
    if empty_truth and all_tools:
        found.add("irrelevance")
    for name in ("multi_turn", "irrelevance", "relevance", "miss_param", "miss_func", "long_context"):
        from_hint(name)
    if "relevance" not in found:
        shape = _shape(widest, tools_at_widest, tools_at_single, answer_known, hints)
        if shape:
            found.add(shape)
            if shape == "parallel" and tools_at_widest > 1:
                from_meta.append(shape)
    categories = [name for name in CATEGORIES if name in found]
    counts = {"turns": turns, "calls": calls, "waves": waves_total, "tools": len(all_tools), "tokens": tokens}
    language = (sample_meta(sample).get("language") or sample_language(sample)) if with_language else "und"
    return categories, sorted(from_meta, key=CATEGORIES.index), language, counts


def _shape(widest: int, tools_at_widest: int, tools_at_single: int, answer_known: bool, hints: set[str]) -> str | None:
    if widest == 0:
        return "no_call" if answer_known else None
    if widest == 1:
        return "multiple" if tools_at_single > 1 else "single"
    if tools_at_widest <= 1:
        return "parallel"
    # several tools offered: parallel_multiple, unless the sample's own label says plain parallel
    return "parallel" if "parallel" in hints and "parallel_multiple" not in hints else "parallel_multiple"


