"""Charts of a report, drawn by matplotlib (the ``report`` extra) into SVG (site) or PNG (``tag report``).

Every function takes plain counts and a path, writes the figure atomically and returns the path.
Several inputs are drawn side by side in one chart (grouped bars, one line per input), in the
same colour per input across charts. Output is deterministic (fixed SVG ids, no dates).
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path
from typing import Any, Sequence

from ...format.jsonl import atomic_writer

PALETTE = ["#3b6ea8", "#d9822b", "#4f9a5d", "#b8464b", "#7b5ea7", "#8c6d46", "#c45c9c", "#6b7b8c"]


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.hashsalt": "opentoollab", "svg.fonttype": "none", "font.size": 9,
                         "axes.spines.top": False, "axes.spines.right": False})
    return plt


def _save(figure, path: Path) -> Path:
    plt = _plt()
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = path.suffix.lstrip(".")
    with atomic_writer(path, "wb") as handle:
        figure.savefig(handle, format=fmt, dpi=110, metadata={"Date": None} if fmt == "svg" else {"Software": None})
    plt.close(figure)
    return path


def _integer_bins(counters: Sequence[Counter], cap: int) -> list[int]:
    """The values to show: 0 … the 99th percentile over all series, at most ``cap`` (the last bin is ≥ it)."""
    merged: Counter = Counter()
    for counter in counters:
        merged.update(counter)
    total = sum(merged.values())
    if not total:
        return [0]
    seen = 0
    top = max(merged)
    for value in sorted(merged):
        seen += merged[value]
        if seen >= 0.99 * total:
            top = value
            break
    return list(range(0, min(max(top, 1), cap) + 1))


def count_bars(path: Path, title: str, xlabel: str, series: dict[str, Counter], cap: int = 20,
               ylabel: str = "% of samples") -> Path:
    """Share of items (``ylabel``) per integer value, one bar group per value, one bar per input; the last
    value collects everything at or above it."""
    plt = _plt()
    bins = _integer_bins(list(series.values()), cap)
    last = bins[-1]
    figure, ax = plt.subplots(figsize=(6.4, 2.9))
    width = 0.8 / max(len(series), 1)
    for index, (label, counter) in enumerate(series.items()):
        total = sum(counter.values()) or 1
        heights = [100 * (counter[v] if v < last else sum(n for k, n in counter.items() if k >= last)) / total for v in bins]
        offsets = [v + (index - (len(series) - 1) / 2) * width for v in bins]
        ax.bar(offsets, heights, width=width, label=label, color=PALETTE[index % len(PALETTE)])
    overflow = any(value > last for counter in series.values() for value in counter)
    step = 1 if len(bins) <= 16 else 5
    shown = [v for v in bins if v % step == 0 or v == last]
    ax.set_xticks(shown, [f"≥{v}" if v == last and overflow else str(v) for v in shown])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if len(series) > 1:
        ax.legend(frameon=False)
    figure.tight_layout()
    return _save(figure, path)


def length_lines(path: Path, title: str, series: list[tuple[str, int, int, list[int]]]) -> Path:
    """Distribution of lengths on a log scale: one step line per (label, colour index, dash index, lengths),
    its median in the legend; an input keeps its colour, a kind of length its dash."""
    plt = _plt()
    figure, ax = plt.subplots(figsize=(6.4, 2.9))
    values = [v for *_, lengths in series for v in lengths if v > 0]
    low, high = min(values, default=1), max(values, default=10)
    first, last = int(8 * math.log10(low)), int(8 * math.log10(max(high, 10))) + 1
    edges = [10 ** (k / 8) for k in range(first, last + 1)]
    dashes = ["-", "--", ":", "-."]
    for label, colour, dash, lengths in series:
        if not lengths:
            continue
        counts = [0] * (len(edges) - 1)
        for value in lengths:
            counts[min(max(int(8 * math.log10(max(value, 1))) - first, 0), len(counts) - 1)] += 1
        median = sorted(lengths)[len(lengths) // 2]
        ax.stairs([100 * c / len(lengths) for c in counts], edges, label=f"{label}: median {median:,}",
                  color=PALETTE[colour % len(PALETTE)], linestyle=dashes[dash % len(dashes)], linewidth=1.6)
    ax.set_xscale("log")
    ax.set_xlabel("length per sample (log scale)")
    ax.set_ylabel("% of samples")
    ax.set_title(title)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(frameon=False, fontsize=7)
    figure.tight_layout()
    return _save(figure, path)


def share_bars(path: Path, title: str, names: list[str], series: dict[str, dict[str, float]], xlabel: str = "% of samples") -> Path:
    """Horizontal bars: for each name, the share (%) in each input."""
    plt = _plt()
    names = names or ["(none)"]
    figure, ax = plt.subplots(figsize=(6.4, 0.9 + 0.28 * len(names) * max(1, len(series)) ** 0.5))
    height = 0.8 / max(len(series), 1)
    for index, (label, shares) in enumerate(series.items()):
        positions = [i + (index - (len(series) - 1) / 2) * height for i in range(len(names))]
        values = [shares.get(name, 0.0) for name in names]
        ax.barh(positions, values, height=height, label=label, color=PALETTE[index % len(PALETTE)])
        for y, value in zip(positions, values):
            if value:
                ax.text(value, y, f" {value:.1f}" if value < 10 else f" {value:.0f}", va="center", fontsize=6)
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    if len(series) > 1:
        ax.legend(frameon=False, fontsize=7)
    figure.tight_layout()
    return _save(figure, path)


def category_heatmap(path: Path, rows: list[dict[str, Any]], categories: list[str], problems: list[dict[str, Any]]) -> Path:
    """Share of samples in each category per row (``rows``: name, samples, one count per category),
    and below it the samples flagged per rule (``problems``: rule, samples). ``tag report``'s chart."""
    plt = _plt()
    shares = [[100 * row[c] / row["samples"] if row["samples"] else 0 for c in categories] for row in rows]
    width = max(8.0, 0.75 * len(categories) + 3)
    height = 1.2 + 0.38 * len(rows)
    lower = 0.35 * len(problems) + 1.2
    figure, axes = plt.subplots(2 if problems else 1, 1, figsize=(width, height + (lower if problems else 0)),
                                gridspec_kw={"height_ratios": [height, lower]} if problems else None, squeeze=False)
    ax = axes[0][0]
    image = ax.imshow(shares if shares and categories else [[0]], cmap="Blues", vmin=0, vmax=100, aspect="auto")
    ax.set_xticks(range(len(categories)), categories, rotation=35, ha="right")
    ax.set_yticks(range(len(rows)), [row["name"] for row in rows])
    for i, line in enumerate(shares):
        for j, value in enumerate(line):
            if value:
                ax.text(j, i, f"{value:.0f}" if value >= 1 else "<1", ha="center", va="center", fontsize=7,
                        color="white" if value > 60 else "black")
    ax.set_title("Share of samples per category (%)")
    figure.colorbar(image, ax=ax, fraction=0.025, pad=0.01)
    if problems:
        bx = axes[1][0]
        counts = [p["samples"] for p in problems][::-1]
        bx.barh([p["rule"] for p in problems][::-1], counts, color="#c0504d")
        bx.set_xlabel("samples flagged")
        bx.set_title("Rule problems")
        for index, value in enumerate(counts):
            bx.text(value, index, f" {value}", va="center", fontsize=7)
    figure.tight_layout()
    return _save(figure, path)
