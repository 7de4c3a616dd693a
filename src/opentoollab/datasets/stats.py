"""Per-subset statistics of unified samples (``python datasets stats``)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Iterable

from ..format.jsonl import iter_lines
from ..format.sample import CALL_ROLES, Sample, canonical_json, json_problem

COLUMNS = ["subset", "samples", "tools", "turns", "calls", "parallel", "dependent", "multi_turn", "no_call", "system"]


def sample_figures(sample: Sample) -> dict[str, int]:
    """Counts for one sample: user turns, calls, and 0/1 flags for its structure (messages that are not
    objects, and call lists that are not lists of objects, count as nothing)."""
    turns = calls = parallel = dependent = system = 0
    for message in sample:
        role = message.get("role") if isinstance(message, dict) else None
        if role == "user":
            turns += 1
        elif role == "system":
            system = 1
        elif role in CALL_ROLES:
            content = message.get("content")
            content = [call for call in content if isinstance(call, dict)] if isinstance(content, list) else []
            calls += len(content)
            independent = sum(1 for call in content if not call.get("depend_on"))
            if independent >= 2:
                parallel = 1
            if any(call.get("depend_on") for call in content):
                dependent = 1
    return {"turns": turns, "calls": calls, "parallel": parallel, "dependent": dependent,
            "multi_turn": int(turns > 1), "no_call": int(calls == 0), "system": system}


def subset_stats(subset: str, samples: Iterable[Sample], tools: set[str] | None = None) -> dict[str, Any]:
    """One table row; ``tools`` (if given) collects the canonical text of every tool seen."""
    totals: Counter = Counter()
    tools = set() if tools is None else tools
    before = len(tools)
    count = invalid = 0
    for sample in samples:
        if not isinstance(sample, list) or json_problem(sample):  # not a sample, or not strict JSON
            invalid += 1
            continue
        count += 1
        totals.update(sample_figures(sample))
        for message in sample:
            if isinstance(message, dict) and message.get("role") == "candidate_tools" and isinstance(message.get("content"), list):
                tools.update(canonical_json(tool) for tool in message["content"])
    row = {"subset": subset, "samples": count, "tools": len(tools) - before, **{k: totals[k] for k in COLUMNS[3:]}}
    if invalid:
        row["invalid"] = invalid
    return row


def _file_values(path: Path) -> Iterable[Any]:
    """Every line's value; a line that is not JSON (or not UTF-8, or not strict) is ``None`` (counted invalid)."""
    for line in iter_lines(path):
        yield None if line.error else line.value


def file_stats(paths: list[Path], labels: list[str] | None = None) -> list[dict[str, Any]]:
    """One row per file (named by ``labels``, else the file stem) plus a 'total' row (tools in the total are
    the unique tools across files)."""
    rows, union = [], set()
    for index, path in enumerate(paths):
        seen: set[str] = set()
        rows.append(subset_stats(labels[index] if labels else path.stem, _file_values(path), seen))
        union |= seen
    if len(rows) > 1:
        total = {"subset": "total", **{k: sum(r[k] for r in rows) for k in COLUMNS[1:]}}
        total["tools"] = len(union)
        if any("invalid" in r for r in rows):
            total["invalid"] = sum(r.get("invalid", 0) for r in rows)
        rows.append(total)
    return rows


OVERVIEW_COLUMNS = ["dataset", "samples", "tools", "repository"]


def overview(store: Any) -> list[dict[str, Any]]:
    """The original OpenToolLab's table: samples and unique tools per processed corpus (from the manifests).

    ``store``: an ``opentoollab.datasets.store.Store``. The repository column is the adapter's homepage.
    """
    from .sources import canonical_name, get_source

    rows = []
    for name in store.processed_names():
        manifest = store.manifest(name) or {}
        canonical = canonical_name(name)
        homepage = (manifest.get("source") or {}).get("homepage") or (get_source(canonical).homepage if canonical else "")
        rows.append({"dataset": name, "samples": (manifest.get("totals") or {}).get("samples", 0),
                     "tools": manifest.get("tools", 0), "repository": homepage or ""})
    return rows
