"""Per-subset statistics of unified samples (``python datasets stats``).

The structure columns (parallel, dependent, multi_turn, no_call) are ``tag``'s categories of the sample
(``categories.structure``), so ``datasets stats`` and ``tag report`` count the same samples: a BFCL
multi-turn conversation with one user turn is multi-turn because its corpus says so, and a relevance
sample (any call is right) is not a no-call sample. A value that is not a sample by the format's schema
counts as invalid, as ``tag`` counts it in no category.
May import: ``opentoollab.format``, ``opentoollab.datasets``, ``opentoollab.tag``.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Iterable

from ..format.jsonl import iter_lines
from ..format.sample import Sample, canonical_json
from ..format.validate import matches_schema
from .categories import structure

COLUMNS = ["subset", "samples", "tools", "turns", "calls", "parallel", "dependent", "multi_turn", "no_call", "system"]


def sample_figures(sample: Sample) -> dict[str, int]:
    """Counts for one schema-valid sample: user turns, calls, and 0/1 flags for its structure (tag's categories)."""
    categories, _, _, counts = structure(sample, with_language=False)
    found = set(categories)
    return {"turns": counts["turns"], "calls": counts["calls"],
            "parallel": int("parallel" in found or "parallel_multiple" in found),
            "dependent": int("dependent" in found), "multi_turn": int("multi_turn" in found),
            "no_call": int("no_call" in found),
            "system": int(any(message["role"] == "system" for message in sample))}


def subset_stats(subset: str, samples: Iterable[Sample], tools: set[str] | None = None) -> dict[str, Any]:
    """One table row; ``tools`` (if given) collects the canonical text of every tool seen."""
    totals: Counter = Counter()
    tools = set() if tools is None else tools
    before = len(tools)
    count = invalid = 0
    for sample in samples:
        if not matches_schema(sample):  # not strict JSON, or not a sample
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
    from ..datasets.sources import canonical_name, get_source

    rows = []
    for name in store.processed_names():
        manifest = store.manifest(name) or {}
        canonical = canonical_name(name)
        homepage = (manifest.get("source") or {}).get("homepage") or (get_source(canonical).homepage if canonical else "")
        rows.append({"dataset": name, "samples": (manifest.get("totals") or {}).get("samples", 0),
                     "tools": manifest.get("tools", 0), "repository": homepage or ""})
    return rows
