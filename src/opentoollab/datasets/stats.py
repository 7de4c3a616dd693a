"""Per-subset statistics of unified samples (``python datasets stats``)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Iterable

from ..format.jsonl import iter_samples
from ..format.sample import CALL_ROLES, Sample, canonical_json

COLUMNS = ["subset", "samples", "tools", "turns", "calls", "parallel", "dependent", "multi_turn", "no_call", "system"]


def sample_figures(sample: Sample) -> dict[str, int]:
    """Counts for one sample: user turns, calls, and 0/1 flags for its structure."""
    turns = calls = parallel = dependent = system = 0
    for message in sample:
        role = message["role"]
        if role == "user":
            turns += 1
        elif role == "system":
            system = 1
        elif role in CALL_ROLES:
            content = message["content"]
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
    count = 0
    for sample in samples:
        count += 1
        totals.update(sample_figures(sample))
        for message in sample:
            if message["role"] == "candidate_tools":
                tools.update(canonical_json(tool) for tool in message["content"])
    return {"subset": subset, "samples": count, "tools": len(tools) - before, **{k: totals[k] for k in COLUMNS[3:]}}


def file_stats(paths: list[Path], labels: list[str] | None = None) -> list[dict[str, Any]]:
    """One row per file (named by ``labels``, else the file stem) plus a 'total' row (tools in the total are
    the unique tools across files)."""
    rows, union = [], set()
    for index, path in enumerate(paths):
        seen: set[str] = set()
        rows.append(subset_stats(labels[index] if labels else path.stem, iter_samples(path), seen))
        union |= seen
    if len(rows) > 1:
        total = {"subset": "total", **{k: sum(r[k] for r in rows) for k in COLUMNS[1:]}}
        total["tools"] = len(union)
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
