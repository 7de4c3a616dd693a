"""``python tag report``'s numbers: tag records summed per subset or corpus, the table and the rule rows.

``collect`` reads the tag records of corpora or files (tagging in memory what was never tagged);
``table`` and ``problem_rows`` are what the CLI prints. The chart and the page are drawn by the one
reporting path, ``opentoollab.trainer.report`` (``tagpage.build_report``), which ``cli`` composes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..format.jsonl import iter_lines
from .tagging import CATEGORIES, Tally, tag_file, tags_path_for


@dataclass
class Group:
    """One row of the report: a subset or a whole corpus."""

    label: str
    tally: Tally = field(default_factory=Tally)
    examples: dict[str, str] = field(default_factory=dict)  # rule → "id at path"
    tagged_now: bool = False

    def add(self, record: dict) -> None:
        self.tally.add(record)
        for problem in record["problems"]:
            self.examples.setdefault(problem["rule"], f"{record.get('id') or 'line ' + str(record.get('line'))} at {problem['path']}")


def _records(path: Path, store) -> tuple[list[dict] | Any, bool]:
    tags = tags_path_for(path, store)
    if tags.is_file():
        return (line.value for line in iter_lines(tags) if line.error is None), False
    return (record for _n, _t, record in tag_file(path)), True


def collect(names: list[str], store, by: str = "auto") -> list[Group]:
    """Groups of tag records for NAMES (corpus names, NAME/subset or .jsonl files), per subset or per corpus."""
    from ..datasets.store import resolve_inputs

    per_corpus = by == "corpus" or (by == "auto" and len(names) > 1)
    groups: list[Group] = []
    for name in names:
        files = resolve_inputs([name], store)
        corpus = Group(Path(name).stem if name.endswith(".jsonl") else name)
        for path in files:
            group = corpus if per_corpus else Group(path.stem if len(names) == 1 else f"{name}/{path.stem}")
            records, fresh = _records(path, store)
            group.tagged_now |= fresh
            for record in records:
                group.add(record)
                if not per_corpus:
                    corpus.add(record)
            if not per_corpus:
                groups.append(group)
        if per_corpus:
            groups.append(corpus)
        elif len(files) > 1:
            corpus.label = f"{corpus.label} (total)"
            groups.append(corpus)
    return groups


def table(groups: list[Group]) -> tuple[list[dict], list[str]]:
    """Rows and columns of the summary table: samples, valid share, and samples per category."""
    present = [c for c in CATEGORIES if any(g.tally.categories[c] for g in groups)]
    rows = []
    for group in groups:
        t = group.tally
        row = {"name": group.label, "samples": t.samples, "invalid": t.samples - t.valid,
               "valid %": round(100 * t.valid / t.samples, 1) if t.samples else 0.0,
               "tokens/sample": round(t.tokens / t.samples) if t.samples else 0}
        row.update({c: t.categories[c] for c in present})
        rows.append(row)
    return rows, ["name", "samples", "invalid", "valid %", *present, "tokens/sample"]


def problem_rows(groups: list[Group]) -> list[dict]:
    """Samples flagged per rule over all rows (a corpus total row is not counted twice)."""
    totals = [g for g in groups if g.label.endswith("(total)")] or groups
    counts: dict[str, int] = {}
    examples: dict[str, str] = {}
    for group in totals:
        for rule, n in group.tally.rules.items():
            counts[rule] = counts.get(rule, 0) + n
            examples.setdefault(rule, group.examples.get(rule, ""))
    return [{"rule": rule, "samples": n, "example": examples[rule]} for rule, n in sorted(counts.items(), key=lambda kv: -kv[1])]
