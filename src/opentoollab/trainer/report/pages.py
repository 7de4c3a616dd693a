"""The report's pages: charts from the tallies, the template context, and the Jinja2 templates rendered.

Templates live in ``assets/templates`` (HTML, autoescaped), scripts and styles in ``assets/static``;
both ship as package data. Links into the sample browser carry their filters in the URL fragment
(``samples.html#g=0&cat=parallel``), which works from ``file://``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from ...format.jsonl import atomic_writer
from ...tag.tagging import CATEGORIES
from . import charts
from .inputs import Input, RejectGroup, provenance
from .scan import Tally

TEMPLATES = Path(__file__).parent / "assets" / "templates"
STRUCTURE = ["parallel (any)", "parallel", "parallel_multiple", "dependent", "multi_step", "multi_turn", "no_call"]
TOP_LANGUAGES = 8


def href(**filters: Any) -> str:
    """A link into the sample browser with these filters."""
    return "samples.html#" + urlencode({k: v for k, v in filters.items() if v is not None and v != ""})


def _share(count: int, total: int) -> float:
    return round(100 * count / total, 1) if total else 0.0


def draw_charts(folder: Path, inputs: list[Input], tallies: list[Tally]) -> list[dict[str, str]]:
    """Every distribution chart as an SVG file under ``folder``; returns [{file, title, caption}]."""
    labels = [i.label for i in inputs]
    drawn = []

    def add(name: str, title: str, caption: str, draw, wide: bool = False) -> None:
        path = draw(folder / f"{name}.svg", title)
        drawn.append({"file": f"charts/{path.name}", "title": title, "caption": caption, "wide": wide})

    add("turns", "User turns per sample", "Share of samples by the number of user messages.",
        lambda p, t: charts.count_bars(p, t, "user turns", {l: x.turns for l, x in zip(labels, tallies)}))
    add("calls_per_turn", "Calls per user turn", "Calls (tool_call and ground truth) between one user message and the next.",
        lambda p, t: charts.count_bars(p, t, "calls", {l: x.per_turn for l, x in zip(labels, tallies)},
                                         ylabel="% of user turns"))
    add("tools", "Tools offered per sample", "Distinct candidate tools in the sample.",
        lambda p, t: charts.count_bars(p, t, "tools", {l: x.tools for l, x in zip(labels, tallies)}, cap=30))
    add("structure", "Parallel and dependent calls", "Share of samples with each call structure (tag categories).",
        lambda p, t: charts.share_bars(p, t, STRUCTURE, {l: {n: _share(x.structure[n], x.samples) for n in STRUCTURE}
                                                          for l, x in zip(labels, tallies)}))
    kinds = list(dict.fromkeys(kind for tally in tallies for kind in tally.tokens))
    lengths = [(f"{label} · {kind}" if len(labels) > 1 else kind, g, kinds.index(kind), values)
               for g, (label, tally) in enumerate(zip(labels, tallies)) for kind, values in tally.tokens.items()]
    add("lengths", "Length per sample", "Approximate tokens of the sample's text; per model: the rendered chat "
                                        "template, in that model's tokens when a tokenizer was given.",
        lambda p, t: charts.length_lines(p, t, lengths))
    languages: dict[str, int] = {}
    for tally in tallies:
        for code, n in tally.languages.items():
            languages[code] = languages.get(code, 0) + n
    top = sorted(languages, key=lambda c: -languages[c])[:TOP_LANGUAGES]
    add("languages", "Languages", "Detected from the dialogue's script and function words (und: undecided).",
        lambda p, t: charts.share_bars(p, t, top, {l: {c: _share(x.languages[c], x.samples) for c in top}
                                                   for l, x in zip(labels, tallies)}))
    rows, present = category_rows(labels, tallies)
    problems = flag_rows(labels, tallies)
    add("categories", "Categories and rule flags", "Share of samples per tag category; below, samples flagged per "
                                                    "rule (stored tags only).",
        lambda p, t: charts.category_heatmap(p, rows, present, [{"rule": r["rule"], "samples": r["total"]} for r in problems]),
        wide=True)
    return drawn


def category_rows(labels: list[str], tallies: list[Tally]) -> tuple[list[dict[str, Any]], list[str]]:
    present = [c for c in CATEGORIES if any(t.categories[c] for t in tallies)]
    rows = [{"name": label, "samples": t.samples, **{c: t.categories[c] for c in present}} for label, t in zip(labels, tallies)]
    return rows, present


def flag_rows(labels: list[str], tallies: list[Tally]) -> list[dict[str, Any]]:
    rules = sorted({r for t in tallies for r in t.flags}, key=lambda r: -sum(t.flags[r] for t in tallies))
    return [{"rule": rule, "name": rule, "total": sum(t.flags[rule] for t in tallies),
             "cells": [{"n": t.flags[rule], "href": href(g=g, flag=rule)} for g, t in enumerate(tallies)]} for rule in rules]


def overview_context(inputs: list[Input], tallies: list[Tally], rejects: list[list[RejectGroup]],
                     unreadable: list[list[dict]], index, models, drawn: list[dict]) -> dict[str, Any]:
    labels = [i.label for i in inputs]
    rows, present = category_rows(labels, tallies)
    cards = []
    for g, (item, tally, groups) in enumerate(zip(inputs, tallies, rejects)):
        subsets = [{"name": name, "samples": n, "flagged": tally.subset_flagged[name] if tally.subset_tagged[name] else None,
                    "href": href(g=g, sub=name)} for name, n in tally.subsets.items()]
        cards.append({
            "g": g, "label": item.label, "kind": item.kind, "samples": tally.samples, "unreadable": tally.unreadable,
            "tagged": tally.tagged, "flagged": tally.flagged, "href": href(g=g), "subsets": subsets,
            "provenance": provenance(item), "licenses": tally.licenses.most_common(),
            "rejected": sum(r.count for r in groups) + tally.unreadable,
            "rejects": [{"reason": r.reason, "count": r.count, "href": f"rejects.html#r-{g}-{k}"} for k, r in enumerate(groups)],
            "tag_hint": None if tally.tagged else _tag_hint(item),
        })
    categories = [{"name": c, "cells": [{"n": row[c], "share": _share(row[c], row["samples"]), "href": href(g=g, cat=c)}
                                        for g, row in enumerate(rows)]} for c in present]
    languages = sorted({code for t in tallies for code in t.languages}, key=lambda c: -sum(t.languages[c] for t in tallies))
    return {
        "inputs": cards, "charts": drawn, "categories": categories, "flags": flag_rows(labels, tallies),
        "languages": [{"name": code, "cells": [{"n": t.languages[code], "share": _share(t.languages[code], t.samples),
                                                "href": href(g=g, lang=code)} for g, t in enumerate(tallies)]}
                      for code in languages],
        "labels": labels, "models": [{"name": m.name, "exact": m.tokenizer is not None} for m in models],
        "rejects": [{"label": item.label, "g": g, "groups": [{"reason": r.reason, "count": r.count, "examples": r.examples,
                                                             "anchor": f"r-{g}-{k}"} for k, r in enumerate(groups)],
                     "unreadable": unreadable[g], "unreadable_count": tallies[g].unreadable}
                    for g, (item, groups) in enumerate(zip(inputs, rejects))],
        "total": sum(t.samples for t in tallies),
    }


def _tag_hint(item: Input) -> str | None:
    if any(part.tags for part in item.parts):
        return None
    spec = str(item.parts[0].path) if item.kind in ("mix", "file") else item.label
    flag = "" if item.kind in ("mix", "file") else "--datasets "
    return f"python tag run {flag}{spec}"


def environment():
    import jinja2

    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def write_pages(folder: Path, context: dict[str, Any]) -> None:
    env = environment()
    for name, target in (("overview.html", "index.html"), ("samples.html", "samples.html"), ("rejects.html", "rejects.html")):
        with atomic_writer(folder / target) as handle:
            handle.write(env.get_template(name).render(page=target, **context))
