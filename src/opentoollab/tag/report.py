"""``python tag report``: a summary table, a category-distribution chart (PNG) and an HTML page.

``collect`` reads the tag records of corpora or files (tagging in memory what was never tagged),
``build_report`` writes ``categories.png``, ``report.html`` (table + embedded chart) and
``summary.json``. matplotlib is imported only here (the ``report`` extra).
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..format.jsonl import iter_lines, write_json
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


def chart(groups: list[Group], path: Path) -> Path:
    """Heatmap of the share of samples in each category per row, and flagged samples per rule."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows, columns = table(groups)
    categories = [c for c in columns if c in CATEGORIES]
    shares = [[100 * row[c] / row["samples"] if row["samples"] else 0 for c in categories] for row in rows]
    problems = problem_rows(groups)
    width = max(8.0, 0.75 * len(categories) + 3)
    height = 1.2 + 0.38 * len(rows)
    panels = 2 if problems else 1
    figure, axes = plt.subplots(panels, 1, figsize=(width, height + (0.35 * len(problems) + 1.2 if problems else 0)),
                                gridspec_kw={"height_ratios": [height, 0.35 * len(problems) + 1.2]} if problems else None,
                                squeeze=False)
    ax = axes[0][0]
    image = ax.imshow(shares or [[0]], cmap="Blues", vmin=0, vmax=100, aspect="auto")
    ax.set_xticks(range(len(categories)), categories, rotation=35, ha="right")
    ax.set_yticks(range(len(rows)), [row["name"] for row in rows])
    for i, line in enumerate(shares):
        for j, value in enumerate(line):
            if value:
                ax.text(j, i, f"{value:.0f}" if value >= 1 else "<1", ha="center", va="center", fontsize=7, color="white" if value > 60 else "black")
    ax.set_title("Share of samples per category (%)")
    figure.colorbar(image, ax=ax, fraction=0.025, pad=0.01)
    if problems:
        bx = axes[1][0]
        bx.barh([p["rule"] for p in problems][::-1], [p["samples"] for p in problems][::-1], color="#c0504d")
        bx.set_xlabel("samples flagged")
        bx.set_title("Rule problems")
        for index, value in enumerate([p["samples"] for p in problems][::-1]):
            bx.text(value, index, f" {value}", va="center", fontsize=7)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    figure.savefig(tmp, dpi=110, format="png")
    plt.close(figure)
    tmp.replace(path)
    return path


def _html_table(rows: list[dict], columns: list[str]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(row.get(c, '')))}</td>" for c in columns) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(title: str, rows: list[dict], columns: list[str], problems: list[dict], png: bytes, notes: list[str]) -> str:
    """A self-contained page: the table, the chart (embedded), rule problems and notes."""
    image = base64.b64encode(png).decode("ascii")
    problems_html = _html_table(problems, ["rule", "samples", "example"]) if problems else "<p>No sample breaks a rule.</p>"
    notes_html = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;color:#222}}table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right;font-size:13px}}td:first-child,th:first-child{{text-align:left}}
th{{background:#f0f4f8}}img{{max-width:100%}}</style></head>
<body><h1>{html.escape(title)}</h1>
<h2>Categories</h2>{_html_table(rows, columns)}
<img alt="category distribution chart" src="data:image/png;base64,{image}">
<h2>Rule problems</h2>{problems_html}
<ul>{notes_html}</ul>
</body></html>
"""


def build_report(groups: list[Group], folder: Path, title: str | None = None) -> dict[str, Any]:
    """Write categories.png, report.html and summary.json into ``folder``; returns what the CLI prints."""
    from ..format.jsonl import atomic_writer

    rows, columns = table(groups)
    problems = problem_rows(groups)
    png = chart(groups, folder / "categories.png")
    notes = ["Counts are samples; a sample has one call shape (no_call, single, multiple, parallel, "
             "parallel_multiple) and any of the other categories.",
             "Rule problems count samples with at least one problem of that rule."]
    fresh = [g.label for g in groups if g.tagged_now]
    if fresh:
        notes.append(f"Tagged in memory for this report (no stored tags): {', '.join(fresh)}.")
    page = render_html(title or f"Tags: {', '.join(g.label for g in groups)}", rows, columns, problems, png.read_bytes(), notes)
    with atomic_writer(folder / "report.html") as handle:
        handle.write(page)
    summary = {"rows": [{**row, "problems": dict(g.tally.rules.most_common()), "languages": dict(g.tally.languages.most_common())}
                        for row, g in zip(rows, groups)], "problems": problems}
    write_json(folder / "summary.json", summary)
    return {"table": rows, "columns": columns, "problems": problems, "summary": summary,
            "html": folder / "report.html", "png": png}
