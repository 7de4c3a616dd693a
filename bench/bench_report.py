"""How long `python datasets report` takes on a large corpus (default 60,000 samples), beside a plain stats pass.

    python bench/bench_report.py [--n 60000] [--data-dir DIR] [--shared ../shared] [--model Qwen2.5] [--jobs N]

The corpus is real data replicated: every sample of the processed shared slices (API-Bank, Seal-Tools,
TaskBench, MTU-Bench, ToolAlpaca, ToolBench, xLAM, ToolACE, Hermes, Glaive; processed here from
../shared/samples) and of an offline generated run (seed 0), cycled with fresh ids up to --n, written
as one JSONL file. Printed: the file's size; `datasets stats` on it (one pass that only counts: the
floor any report pays to read the data); the report without a model, in one process and on every core;
and with --model (every sample also rendered in that chat template). Each figure is one cold run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from opentoollab.datasets.sources import get_source
from opentoollab.tag.stats import file_stats
from opentoollab.datasets.store import Store, process
from opentoollab.format.jsonl import iter_samples
from opentoollab.trainer.report import build_site, load_models, resolve
from opentoollab.trainer.report.work import default_jobs

SLICES = {"API-Bank": "api_bank", "Seal-Tools": "seal_tools", "TaskBench": "taskbench", "MTU-Bench": "mtu_bench",
          "ToolAlpaca": "toolalpaca", "ToolBench": "toolbench", "xLAM": "xlam_function_calling_60k",
          "ToolACE": "toolace", "Hermes": "hermes_function_calling_v1", "Glaive": "glaive_function_calling_v2"}


def corpus(folder: Path, shared: Path, n: int) -> Path:
    """A JSONL file of ``n`` real samples (the shared slices and a generated run, cycled, ids renumbered)."""
    from click.testing import CliRunner

    from opentoollab.cli.datasets import datasets

    store = Store(folder / "data")
    for name, sub in SLICES.items():
        process(get_source(name), store, origin=shared / "samples" / sub, progress=False)
    result = CliRunner().invoke(datasets, ["generate", "--n", "600", "--seed", "0", "--data-dir", str(store.root)])
    assert result.exit_code == 0, result.output
    pool = [s for name in [*SLICES, "generated"] for path in store.subset_files(name) for s in iter_samples(path)]
    path = folder / "corpus.jsonl"
    with open(path, "w", encoding="utf-8") as handle:
        for k in range(n):
            sample = pool[k % len(pool)]
            sample = [{"role": "id", "content": f"bench_replica_{k}"}, *sample[1:]]
            handle.write(json.dumps(sample, ensure_ascii=False, separators=(",", ":")) + "\n")
    return path


def timed(label: str, function) -> float:
    started = time.perf_counter()
    function()
    seconds = time.perf_counter() - started
    print(f"{label:<52} {seconds:7.2f} s")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=60_000)
    parser.add_argument("--shared", default=str(Path(__file__).resolve().parents[1].parent / "shared"))
    parser.add_argument("--model", default="Qwen2.5")
    parser.add_argument("--jobs", type=int, default=default_jobs())
    parser.add_argument("--keep", default=None, help="Keep the corpus and sites in this folder.")
    args = parser.parse_args()
    folder = Path(args.keep or tempfile.mkdtemp(prefix="bench-report-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        path = corpus(folder, Path(args.shared), args.n)
        print(f"corpus: {args.n:,} samples, {path.stat().st_size / 1e6:.1f} MB ({path})")
        store = Store(folder / "data")
        inputs = resolve([str(path)], store)
        timed("datasets stats (count only, one pass)", lambda: file_stats([path]))
        one = timed("report, no model, 1 process", lambda: build_site(inputs, folder / "site1", [], jobs=1))
        many = timed(f"report, no model, {args.jobs} processes", lambda: build_site(inputs, folder / "site2", [], jobs=args.jobs))
        models = load_models([args.model], [])
        full = timed(f"report, --model {args.model}, {args.jobs} processes",
                     lambda: build_site(inputs, folder / "site3", models, jobs=args.jobs))
        size = sum(f.stat().st_size for f in (folder / "site3").rglob("*") if f.is_file())
        index = (folder / "site3" / "data" / "index.js").stat().st_size
        print(f"samples/s: {args.n / one:,.0f} (1 process), {args.n / many:,.0f} ({args.jobs}), "
              f"{args.n / full:,.0f} (with {args.model})")
        print(f"site with {args.model}: {size / 1e6:.1f} MB on disk; index.js {index / 1e6:.1f} MB (what opening "
              f"samples.html loads before the first chunk)")
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
