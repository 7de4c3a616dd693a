"""What a generation run produced, for its manifest: categories, languages, tools, calls, depth, diversity.

Diversity is measured on the user text (distinct word bigrams; each CJK character counts as a word)
and on the call patterns (the sequence of tool names per sample).
May import: the standard library, ``opentoollab.format``.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from ...format.sample import CALL_ROLES, Sample, assign_call_ids

_WORD = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]|[^\W_\u3400-\u4dbf\u4e00-\u9fff]+")


class GenerationStats:
    def __init__(self) -> None:
        self.samples = 0
        self.categories: Counter = Counter()
        self.languages: Counter = Counter()
        self.tools: Counter = Counter()
        self.calls: Counter = Counter()  # calls per sample → samples
        self.depth: Counter = Counter()  # longest depend_on chain → samples
        self.bigrams: set[int] = set()
        self.patterns: set[tuple[str, ...]] = set()
        self.user_words = 0

    def add(self, sample: Sample) -> None:
        self.samples += 1
        meta = next((m["content"] for m in sample if m["role"] == "meta"), {})
        self.categories.update(meta.get("categories") or [])
        self.languages[meta.get("language", "und")] += 1
        ids = assign_call_ids(sample)
        depth: dict[str, int] = {}
        names: list[str] = []
        for index, message in enumerate(sample):
            role = message["role"]
            if role in CALL_ROLES:
                for cid, call in zip(ids[index] or [], message["content"]):
                    names.append(call["name"])
                    depth[cid] = 1 + max((depth.get(d, 0) for d in call.get("depend_on") or []), default=0)
            elif role == "user":
                words = _WORD.findall(message["content"].lower())
                self.user_words += len(words)
                self.bigrams.update(hash(pair) for pair in zip(words, words[1:]))
        self.tools.update(names)
        self.calls[len(names)] += 1
        self.depth[max(depth.values(), default=0)] += 1
        self.patterns.add(tuple(names))

    def as_dict(self) -> dict[str, Any]:
        total_calls = sum(k * v for k, v in self.calls.items())
        return {
            "samples": self.samples,
            "categories": dict(sorted(self.categories.items())),
            "languages": dict(sorted(self.languages.items())),
            "tools_used": len(self.tools),
            "tool_calls": dict(self.tools.most_common()),
            "calls_per_sample": {"mean": round(total_calls / self.samples, 3) if self.samples else 0,
                                 "histogram": {str(k): v for k, v in sorted(self.calls.items())}},
            "dependency_depth": {"max": max(self.depth, default=0),
                                 "histogram": {str(k): v for k, v in sorted(self.depth.items())}},
            "diversity": {"distinct_user_bigrams": len(self.bigrams), "user_words": self.user_words,
                          "distinct_call_patterns": len(self.patterns)},
        }
