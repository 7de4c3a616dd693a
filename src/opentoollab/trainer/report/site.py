"""Build the static report site: one streaming pass over the inputs, data in chunks, then the pages.

Layout of the output folder (works from ``file://``: data files are scripts, never fetched)::

    index.html            overview: counts, charts, categories, flags, languages, rejects, provenance
    samples.html          the sample browser (filters, pages, conversation view, chat-template toggle)
    rejects.html          rejected / removed records by reason, with examples
    charts/*.svg          the charts (matplotlib)
    data/index.js         one row per sample: id, subset, categories, language, flags, counts, snippet
    data/search.js        the free-text filter's text (loaded on the first text query)
    data/samples-NNNNN.js CHUNK samples each, with call ids, waves and resolved links
    data/render-M-NNNNN.js  the same samples rendered for model M (loaded when the toggle is used)
    assets/               CSS and JS of the pages
    report.json           what was built (counts per input, models, build time)
"""

from __future__ import annotations

import shutil
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ... import __version__
from ...format.jsonl import atomic_dir, write_json
from ...tag.tagging import CATEGORIES
from . import pages
from .inputs import Input, collect_rejects, iter_parts, tag_lines
from .scan import Facts, Tally
from .views import Model
from .work import batches, default_jobs, dumps, js, run_all

CHUNK = 400  # samples per data file: small enough to load instantly, few enough files for 60k samples
ASSETS = Path(__file__).parent / "assets"
MARKER = "report.json"


class SiteError(Exception):
    """A report cannot be written (one clear line for the CLI)."""


@dataclass
class Index:
    """The columns of data/index.js, filled in sample order."""

    subsets: list[str] = field(default_factory=list)
    subset_group: list[int] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    chunks: list[list[int]] = field(default_factory=list)  # [data file number, first sample position]
    columns: dict[str, list] = field(default_factory=lambda: {k: [] for k in
                                                              ("id", "sub", "cat", "lang", "flag", "turns", "calls", "tools", "tok", "snip")})
    search: list[str] = field(default_factory=list)
    _subsets: dict[tuple[int, str], int] = field(default_factory=dict)
    _tables: dict[int, dict[str, int]] = field(default_factory=dict)

    def subset(self, group: int, label: str) -> int:
        """The number of subset ``label`` of input ``group`` (two inputs may both hold BFCL/parallel)."""
        key = (group, label)
        found = self._subsets.get(key)
        if found is None:
            found = self._subsets[key] = len(self.subsets)
            self.subsets.append(label)
            self.subset_group.append(group)
        return found

    def position(self, table: list[str], value: str) -> int:
        positions = self._tables.setdefault(id(table), {})
        found = positions.get(value)
        if found is None:
            found = positions[value] = len(table)
            table.append(value)
        return found

    def add(self, group: int, label: str, fact: Facts) -> None:
        cols = self.columns
        cols["id"].append(fact.id)
        cols["sub"].append(self.subset(group, label))
        cols["cat"].append(sum(1 << CATEGORIES.index(c) for c in fact.categories if c in CATEGORIES))
        cols["lang"].append(self.position(self.languages, fact.language))
        cols["flag"].append(None if fact.flags is None else [self.position(self.flags, f) for f in fact.flags])
        cols["turns"].append(fact.turns)
        cols["calls"].append(fact.calls)
        cols["tools"].append(fact.tools)
        cols["tok"].append(fact.tokens)
        cols["snip"].append(fact.snippet)
        self.search.append(fact.search)


def write_js(path: Path, call: str, value: Any) -> None:
    """``call(value);`` as a UTF-8 script (JSON is valid JavaScript)."""
    path.write_bytes(js(call, "", dumps(value)))


def prepare_out(out: Path) -> None:
    """Refuse to replace a folder that is not an earlier report (never delete a user's files)."""
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MARKER).is_file())):
        raise SiteError(f"{out} exists and is not a report folder (no {MARKER}); choose another --out or remove it")


def build_site(inputs: list[Input], out: str | Path, models: list[Model] | None = None, *, title: str | None = None,
               jobs: int | None = None, progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Write the site for ``inputs`` into ``out`` (swapped in atomically); returns the summary in report.json.

    ``jobs``: worker processes (default: the cores; 1 = in this process). The output does not depend on it.
    """
    started = time.perf_counter()
    out = Path(out)
    models = list(models or [])
    prepare_out(out)
    with atomic_dir(out, "report") as staging:
        data = staging / "data"
        data.mkdir()
        index, tallies, unreadable = _scan(inputs, models, data, default_jobs() if jobs is None else jobs, progress)
        summary = _pages(inputs, models, staging, index, tallies, unreadable, title)
        shutil.copytree(ASSETS / "static", staging / "assets")
        summary["seconds"] = round(time.perf_counter() - started, 3)
        write_json(staging / MARKER, summary)
    return {**summary, "out": str(out)}


def _scan(inputs: list[Input], models: list[Model], data: Path, jobs: int,
          progress) -> tuple[Index, list[Tally], list[list[dict]]]:
    index = Index()
    tallies = [Tally() for _ in inputs]
    unreadable: list[list[dict]] = [[] for _ in inputs]
    parts = ((group, None if item.kind == "mix" else part.subset, part.path, tag_lines(part))
             for group, item, part in iter_parts(inputs))
    small = sum(part.path.stat().st_size for item in inputs for part in item.parts) < 4 << 20
    for result in run_all(batches(parts, CHUNK, progress), models, data, 1 if small else jobs):
        tally = tallies[result.group]
        tally.unreadable += result.bad
        unreadable[result.group].extend(result.unreadable[: 5 - len(unreadable[result.group])])
        if result.facts:
            index.chunks.append([result.number, len(index.columns["id"])])
        for fact, label in result.facts:
            if inputs[result.group].kind == "mix":
                label = f"{inputs[result.group].label}:{label}"
            index.add(result.group, label, fact)
            tally.add(label, fact)
        for label, lengths in result.lengths.items():
            tally.tokens.setdefault(label, []).extend(lengths)
    meta = {"groups": [i.label for i in inputs], "subsets": index.subsets, "subsetGroup": index.subset_group,
            "categories": list(CATEGORIES), "languages": index.languages, "flags": index.flags, "chunks": index.chunks,
            "models": [{"name": m.name, "exact": m.tokenizer is not None} for m in models]}
    write_js(data / "index.js", "OTL.index", {**meta, **index.columns})
    write_js(data / "search.js", "OTL.search", index.search)
    return index, tallies, unreadable


def _pages(inputs: list[Input], models: list[Model], staging: Path, index: Index, tallies: list[Tally],
           unreadable: list[list[dict]], title: str | None) -> dict[str, Any]:
    rejects = [collect_rejects(item) for item in inputs]
    charts = pages.draw_charts(staging / "charts", inputs, tallies)
    context = pages.overview_context(inputs, tallies, rejects, unreadable, index, models, charts)
    context["title"] = title or "Report: " + ", ".join(i.label for i in inputs)
    context["version"] = __version__
    pages.write_pages(staging, context)
    return {"title": context["title"], "opentoollab_version": __version__,
            "inputs": [{"label": i.label, "kind": i.kind, "samples": t.samples, "unreadable": t.unreadable,
                        "tagged": t.tagged, "flagged": t.flagged, "rejected": sum(g.count for g in r),
                        "subsets": dict(t.subsets)} for i, t, r in zip(inputs, tallies, rejects)],
            "samples": sum(t.samples for t in tallies), "models": [m.name for m in models],
            "chunks": len(index.chunks), "chunk_size": CHUNK,
            "categories": {i.label: dict(Counter(t.categories).most_common()) for i, t in zip(inputs, tallies)}}
