"""`python datasets stats`: the original OpenToolLab's overview table (samples, tools per corpus) + per-subset detail."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from adapter_support import run
from opentoollab.cli import main


@pytest.fixture(scope="module")
def root(shared, tmp_path_factory):
    data = tmp_path_factory.mktemp("stats")
    run("MTU-Bench", shared / "samples/mtu_bench", data)
    run("ToolBench", shared / "samples/toolbench", data)
    return data


def _stats(root, *args):
    result = CliRunner().invoke(main, ["datasets", "stats", *args, "--data-dir", str(root)])
    assert result.exit_code == 0, result.output
    return result.output


def test_overview_table_for_every_processed_corpus(root):
    rows = json.loads(_stats(root, "--overview", "--json"))
    assert rows == [
        {"dataset": "MTU-Bench", "samples": 78, "tools": 117, "repository": "https://github.com/MTU-Bench-Team/MTU-Bench"},
        {"dataset": "ToolBench", "samples": 9, "tools": 25, "repository": "https://github.com/OpenBMB/ToolBench"}]
    for row in rows:
        manifest = json.loads((root / "processed" / row["dataset"] / "manifest.json").read_text("utf-8"))
        assert (row["samples"], row["tools"]) == (manifest["totals"]["samples"], manifest["tools"])
        assert sum(1 for _ in (root / "tools" / f"{row['dataset']}.jsonl").open()) == row["tools"]


def test_text_output_has_overview_then_per_subset_detail(root):
    out = _stats(root)
    overview, detail = out.split("\n\n", 1)
    assert overview.splitlines()[0].split() == ["dataset", "samples", "tools", "repository"]
    assert overview.splitlines()[2].split()[:3] == ["MTU-Bench", "78", "117"]
    subsets = [line.split()[0] for line in detail.splitlines()[2:]]
    assert subsets == ["MTU-Bench/S-S", "MTU-Bench/S-M", "MTU-Bench/M-S", "MTU-Bench/M-M", "MTU-Bench/OOD",
                       "ToolBench/G1", "ToolBench/G3", "total"]


def test_one_corpus_keeps_plain_subset_rows(root):
    rows = {row["subset"]: row for row in json.loads(_stats(root, "MTU-Bench", "--json"))}
    assert rows["total"]["samples"] == 78 and rows["M-M"]["samples"] == 10
    assert rows["M-M"]["no_call"] == 6 and rows["S-M"]["parallel"] == 3
    out = _stats(root, "ToolBench/G3")
    assert out.splitlines()[0].split() == ["dataset", "samples", "tools", "repository"]


def _tag_counts(path):
    from opentoollab.tag.tagging import tag_file

    counts = {"samples": 0, "parallel": 0, "dependent": 0, "multi_turn": 0, "no_call": 0, "turns": 0, "calls": 0}
    for _number, _text, record in tag_file(path):
        if not record["categories"] and any(p["rule"] in ("schema", "json") for p in record["problems"]):
            continue  # not a sample: stats counts it as invalid
        found = set(record["categories"])
        counts["samples"] += 1
        counts["parallel"] += bool(found & {"parallel", "parallel_multiple"})
        for name in ("dependent", "multi_turn", "no_call"):
            counts[name] += name in found
        counts["turns"] += record["counts"]["turns"]
        counts["calls"] += record["counts"]["calls"]
    return counts


def test_stats_and_tag_report_count_the_same_samples(bfcl_store, root):
    """One definition for both commands: on every BFCL subset (where BFCL's one-turn multi-turn conversations and
    its relevance samples used to split them) and the processed slices, each structure column equals tag's count."""
    from opentoollab.tag.stats import file_stats

    paths = list(bfcl_store.subset_files("BFCL")) + [p for p in sorted((root / "processed").rglob("*.jsonl"))
                                                       if p.name not in ("rejects.jsonl",)]
    rows = file_stats(paths, [f"{p.parent.name}/{p.stem}" for p in paths])
    for path, row in zip(paths, rows):
        assert {k: row[k] for k in _tag_counts(path)} == _tag_counts(path), path
    bfcl = [row for row in rows if row["subset"].startswith("BFCL/")]
    multi = [r for r in bfcl if r["subset"].startswith("BFCL/multi_turn")]
    assert [r["multi_turn"] for r in multi] == [r["samples"] for r in multi]  # every conversation BFCL calls multi-turn
    assert next(r for r in bfcl if r["subset"] == "BFCL/live_relevance")["no_call"] == 0
