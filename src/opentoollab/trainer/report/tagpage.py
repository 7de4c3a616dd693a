"""``python tag report``'s files: categories.png, report.html (table + embedded chart) and summary.json.

The rows come from ``tag.report`` (tag records summed per subset or corpus); the chart is the
report's own ``charts.category_heatmap`` and the page uses the report's templates, so ``tag report``
and ``datasets report`` share one drawing and one page layout.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from ...format.jsonl import atomic_writer, write_json
from ...tag.report import Group, problem_rows, table
from ...tag.tagging import CATEGORIES
from . import charts
from .pages import environment
from .site import ASSETS

NOTES = ["Counts are samples; a sample has one call shape (no_call, single, multiple, parallel, "
         "parallel_multiple) and any of the other categories.",
         "Rule problems count samples with at least one problem of that rule."]


def build_report(groups: list[Group], folder: Path, title: str | None = None, names: str = "NAME") -> dict[str, Any]:
    """Write categories.png, report.html and summary.json into ``folder``; returns what the CLI prints."""
    from ... import __version__

    rows, columns = table(groups)
    problems = problem_rows(groups)
    png = charts.category_heatmap(folder / "categories.png", rows, [c for c in columns if c in CATEGORIES], problems)
    notes = list(NOTES)
    fresh = [g.label for g in groups if g.tagged_now]
    if fresh:
        notes.append(f"Tagged in memory for this report (no stored tags): {', '.join(fresh)}.")
    page = environment().get_template("tags.html").render(
        page="report.html", title=title or f"Tags: {', '.join(g.label for g in groups)}", rows=rows, columns=columns,
        problems=problems, notes=notes, png=base64.b64encode(png.read_bytes()).decode("ascii"), names=names,
        inline_css=(ASSETS / "static" / "report.css").read_text("utf-8"), version=__version__)
    with atomic_writer(folder / "report.html") as handle:
        handle.write(page)
    summary = {"rows": [{**row, "problems": dict(g.tally.rules.most_common()), "languages": dict(g.tally.languages.most_common())}
                        for row, g in zip(rows, groups)], "problems": problems}
    write_json(folder / "summary.json", summary)
    return {"table": rows, "columns": columns, "problems": problems, "summary": summary,
            "html": folder / "report.html", "png": png}
