"""Categories of a sample from its structure (and meta hints), its language and its counts.

``structure(sample)`` gives (categories, categories taken from meta, language, counts); the
category definitions are in ``opentoollab.tag.tagging``'s docstring. Pure functions.
May import: ``opentoollab.format``.
"""


from __future__ import annotations

import json
import math
import re
from collections import Counter
from typing import Any

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


_SCRIPTS = (  # (language, first code point, last code point)
    ("ja", 0x3040, 0x30FF), ("ko", 0xAC00, 0xD7AF), ("zh", 0x4E00, 0x9FFF), ("zh", 0x3400, 0x4DBF),
    ("ru", 0x0400, 0x04FF), ("ar", 0x0600, 0x06FF), ("hi", 0x0900, 0x097F), ("th", 0x0E00, 0x0E7F),
    ("el", 0x0370, 0x03FF), ("he", 0x0590, 0x05FF),
)
_STOPWORDS = {
    "en": {"the", "and", "is", "of", "to", "in", "what", "for", "with", "can", "you", "me", "my", "please", "how", "a", "i", "it", "on", "this"},
    "es": {"el", "la", "de", "que", "y", "en", "los", "por", "para", "con", "una", "es", "del", "las", "cómo", "qué"},
    "fr": {"le", "la", "les", "de", "des", "et", "est", "pour", "une", "dans", "que", "je", "vous", "du", "avec", "pas"},
    "de": {"der", "die", "das", "und", "ist", "nicht", "ich", "mit", "für", "ein", "eine", "zu", "den", "wie", "bitte", "auf"},
    "pt": {"o", "os", "de", "que", "e", "em", "um", "uma", "para", "com", "não", "do", "da", "você", "por", "como"},
    "it": {"il", "di", "che", "e", "la", "per", "un", "una", "non", "sono", "con", "del", "come", "della", "mi", "puoi"},
}


def detect_language(text: str) -> str:
    """Language of the dialogue text: by script (zh, ja, ko, ru, ar…), for Latin script by function
    words (en, es, fr, de, pt, it); ``und`` when nothing decides."""
    counts: Counter = Counter()
    latin = 0
    for ch in text:
        code = ord(ch)
        if ch.isascii():
            latin += ch.isalpha()
            continue
        for language, low, high in _SCRIPTS:
            if low <= code <= high:
                counts[language] += 1
                break
        else:
            latin += ch.isalpha()
    if counts:
        language, n = counts.most_common(1)[0]
        if counts["ja"]:  # Japanese mixes kana with kanji
            language, n = "ja", counts["ja"] + counts["zh"]
        # one ideograph carries about as much as a short Latin word
        if n * 3 >= latin:
            return language
    words = re.findall(r"[^\W\d_]+", text.lower())
    if not words:
        return "und"
    scores = {language: sum(1 for w in words if w in stop) for language, stop in _STOPWORDS.items()}
    best = max(scores, key=scores.get)
    return best if scores[best] >= max(1, len(words) // 20) else "und"


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



def structure(sample: Sample) -> tuple[list[str], list[str], str, dict[str, int]]:
    ids = assign_call_ids(sample)
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
    dialogue: list[str] = []
    tokens = 0
    for index, message in enumerate(sample):
        role, content = message["role"], message["content"]
        if role == "id":
            continue
        text = _text(content) if role != "meta" else ""
        size = approx_tokens(text)
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
            dialogue.append(content)
        elif role in ("system", "assistant"):
            dialogue.append(content)
            answer_known = answer_known or role == "assistant"
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
    return categories, sorted(from_meta, key=CATEGORIES.index), detect_language("\n".join(dialogue)), counts


def _shape(widest: int, tools_at_widest: int, tools_at_single: int, answer_known: bool, hints: set[str]) -> str | None:
    if widest == 0:
        return "no_call" if answer_known else None
    if widest == 1:
        return "multiple" if tools_at_single > 1 else "single"
    if tools_at_widest <= 1:
        return "parallel"
    # several tools offered: parallel_multiple, unless the sample's own label says plain parallel
    return "parallel" if "parallel" in hints and "parallel_multiple" not in hints else "parallel_multiple"


