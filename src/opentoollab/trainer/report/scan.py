"""One pass over the samples: per-sample facts for the index and the charts, and what the viewer shows.

Pure functions of a sample (and its stored tag record): ``facts`` (categories, language, counts,
calls per user turn, rule flags), ``annotate`` (call ids, dependency waves, every ``<link>`` resolved
with the call and path it came from) and ``Tally`` (running distributions per input).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ...format.sample import CALL_ROLES, LinkError, assign_call_ids, follow_path, iter_links, meta, sample_id, split_link
from ...tag.categories import _waves as call_waves
from ...tag.categories import structure
from ...tag.tagging import tag_sample

SNIPPET = 140  # characters of the first user message in the index
SEARCH = 600  # characters of user text (+ call and tool names) the free-text filter searches
VALUE_LIMIT = 2000  # characters of a resolved link value kept for the viewer


@dataclass
class Facts:
    id: str
    categories: list[str]
    language: str
    flags: list[str] | None  # rule codes from stored tags; None when the sample was never tagged
    turns: int
    calls: int
    per_turn: list[int]  # calls after each user message
    tools: int
    tokens: int  # approximate tokens of the sample's text (tag's estimate)
    snippet: str
    search: str
    license: str


def facts(sample: Any, record: dict[str, Any] | None, fallback_id: str) -> Facts:
    """Facts of one sample; a stored tag record gives categories, language and flags."""
    if record is None or not isinstance(record.get("counts"), dict):
        try:
            categories, _meta, language, counts = structure(sample)
        except (KeyError, TypeError, AttributeError, ValueError):  # not a schema-valid sample: tag says why
            record = record or tag_sample(sample)
    if record is not None:  # the stored tags (the same tagger) already hold what structure() computes
        categories, language, counts = record.get("categories") or [], record.get("language") or "und", record.get("counts") or {}
    flags = sorted({p.get("rule", "?") for p in record.get("problems") or []}) if record is not None else None
    per_turn: list[int] = []
    user_text: list[str] = []
    names: list[str] = []
    for message in sample if isinstance(sample, list) else []:
        if not isinstance(message, dict):
            continue
        role, content = message.get("role"), message.get("content")
        if role == "user":
            per_turn.append(0)
            if isinstance(content, str):
                user_text.append(content)
        elif role in CALL_ROLES and isinstance(content, list):
            if not per_turn:
                per_turn.append(0)
            per_turn[-1] += len(content)
            names.extend(str(c.get("name")) for c in content if isinstance(c, dict))
        elif role == "candidate_tools" and isinstance(content, list):
            names.extend(str(t.get("name")) for t in content[:20] if isinstance(t, dict))
    text = " ".join(user_text)
    identifier = (sample_id(sample) if isinstance(sample, list) else None) or fallback_id
    search = f"{identifier} {' '.join(dict.fromkeys(names))} {text[:SEARCH]}".lower()
    license_ = meta(sample).get("license") if isinstance(sample, list) else None
    return Facts(identifier, list(categories), language or "und", flags, counts.get("turns", len(per_turn)),
                 counts.get("calls", sum(per_turn)), per_turn, counts.get("tools", 0), counts.get("tokens", 0),
                 " ".join(text[: SNIPPET + 40].split())[:SNIPPET], search, str(license_) if license_ else "?")


def annotate(sample: Any) -> dict[str, Any]:
    """What the viewer needs besides the sample: call ids and waves per call message, resolved links.

    ``calls``: message index → {"ids": [...], "waves": [[call index, …], …]}; ``links``: link body →
    {"from": call id, "path": "a.b", "value": …} or {"error": why}. A link resolves against the results
    answered before its message (DESIGN §4), as the renderers resolve it.
    """
    if not isinstance(sample, list) or not all(isinstance(m, dict) for m in sample):
        return {}
    try:
        return _annotate(sample)
    except (TypeError, ValueError, AttributeError, KeyError) as exc:  # a sample the schema would refuse
        return {"error": f"{type(exc).__name__}: {exc}"[:300]}


def _annotate(sample: list[dict[str, Any]]) -> dict[str, Any]:
    ids = assign_call_ids(sample)
    calls: dict[str, Any] = {}
    links: dict[str, Any] = {}
    results: dict[str, Any] = {}
    for index, message in enumerate(sample):
        content = message.get("content")
        if ids[index] is not None and isinstance(content, list):
            good = [c if isinstance(c, dict) else {} for c in content]
            calls[str(index)] = {"ids": ids[index], "waves": call_waves(good, ids[index])}
            for call in good:
                for body in iter_links(call.get("parameters")):
                    if body not in links:
                        links[body] = _resolve(body, results)
        elif message.get("role") == "tool_response" and isinstance(content, dict):
            results.update(content)
    out: dict[str, Any] = {"calls": calls}
    if links:
        out["links"] = links
    return out


def _resolve(body: str, results: dict[str, Any]) -> dict[str, Any]:
    parts = split_link(body, results.keys())
    if parts is None:
        return {"error": "names no call answered before it"}
    cid, path = parts
    try:
        value = follow_path(results[cid], path)
    except LinkError as exc:
        return {"from": cid, "path": ".".join(path), "error": str(exc)}
    text = json.dumps(value, ensure_ascii=False, default=str)
    if len(text) > VALUE_LIMIT:
        return {"from": cid, "path": ".".join(path), "clipped": text[:VALUE_LIMIT]}
    return {"from": cid, "path": ".".join(path), "value": value}


@dataclass
class Tally:
    """Running distributions of one input (constant memory but for the token lengths)."""

    samples: int = 0
    unreadable: int = 0
    tagged: int = 0
    flagged: int = 0
    turns: Counter = field(default_factory=Counter)
    per_turn: Counter = field(default_factory=Counter)
    tools: Counter = field(default_factory=Counter)
    structure: Counter = field(default_factory=Counter)  # samples with parallel / dependent / no_call …
    languages: Counter = field(default_factory=Counter)
    categories: Counter = field(default_factory=Counter)
    flags: Counter = field(default_factory=Counter)
    licenses: Counter = field(default_factory=Counter)
    subsets: Counter = field(default_factory=Counter)
    subset_flagged: Counter = field(default_factory=Counter)
    subset_tagged: Counter = field(default_factory=Counter)
    tokens: dict[str, list[int]] = field(default_factory=dict)  # length label → one length per sample

    def add(self, subset: str, item: Facts) -> None:
        self.samples += 1
        self.subsets[subset] += 1
        self.turns[item.turns] += 1
        self.per_turn.update(item.per_turn)
        self.tools[item.tools] += 1
        self.languages[item.language] += 1
        self.categories.update(item.categories)
        self.licenses[item.license] += 1
        cats = set(item.categories)
        for name in ("parallel", "parallel_multiple", "dependent", "multi_step", "multi_turn", "no_call"):
            if name in cats:
                self.structure[name] += 1
        if cats & {"parallel", "parallel_multiple"}:
            self.structure["parallel (any)"] += 1
        if item.flags is not None:
            self.tagged += 1
            self.subset_tagged[subset] += 1
            self.flags.update(item.flags)
            if item.flags:
                self.flagged += 1
                self.subset_flagged[subset] += 1
        self.tokens.setdefault("sample text (≈tokens)", []).append(item.tokens)
