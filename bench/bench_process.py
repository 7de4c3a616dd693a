"""Time `python datasets process BFCL` as a whole process (start-up included): samples/s and peak memory.

Usage: python bench/bench_process.py [--runs 3] [--data-dir DIR]
Needs BFCL downloaded in the data dir (python datasets download BFCL). Prints one line per scenario:
all 17 categories (4,441 records, multi-turn execution and full validation included), and the
8 single-turn categories the original OpenToolLab converts (2,351 records; its whole-process
time on this 2-core machine is ~0.7 s, validating nothing).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ORIGINAL_EIGHT = ["simple_python", "multiple", "parallel", "parallel_multiple",
                  "live_simple", "live_multiple", "live_parallel", "live_parallel_multiple"]


def run_once(data_dir: Path, subsets: list[str]) -> tuple[float, int, dict]:
    command = [sys.executable, "datasets", "process", "BFCL", "-q", "--data-dir", str(data_dir)]
    for subset in subsets:
        command += ["--subset", subset]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    subprocess.run(command, cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    manifest = json.loads((data_dir / "processed" / "BFCL" / "manifest.json").read_text())
    return seconds, max(peak_kib, before), manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--data-dir", default=os.environ.get("OPENTOOLLAB_DATA_DIR", str(REPO / "datasets")))
    args = parser.parse_args()
    source_root = Path(args.data_dir)
    if not (source_root / "downloaded" / "BFCL").is_dir():
        sys.exit(f"BFCL is not downloaded in {source_root}: run `python datasets download BFCL` first")
    for label, subsets, target in (("all 17 categories", [], 3.0), ("original 8 single-turn", ORIGINAL_EIGHT, 0.7)):
        with tempfile.TemporaryDirectory() as tmp:
            data_dir = Path(tmp)
            (data_dir / "downloaded").mkdir()
            os.symlink((source_root / "downloaded" / "BFCL").resolve(), data_dir / "downloaded" / "BFCL")
            times, peak, manifest = [], 0, {}
            for _ in range(args.runs):
                seconds, peak, manifest = run_once(data_dir, subsets)
                times.append(seconds)
        totals = manifest["totals"]
        best, median = min(times), statistics.median(times)
        print(f"{label:24s} records {totals['in']:5d}  samples {totals['samples']:5d}  rejected {totals['rejected']}  "
              f"best {best:.2f}s  median {median:.2f}s  {totals['in'] / best:7.0f} records/s  "
              f"peak RSS {peak / 1024:.0f} MiB  target <= {target}s: {'OK' if best <= target else 'MISSED'}")


if __name__ == "__main__":
    main()
