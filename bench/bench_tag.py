"""Speed of tagging + rule verification: samples per second over processed corpora (default all of BFCL).

    python bench/bench_tag.py [--data-dir DIR] [NAME ...]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from opentoollab.format.jsonl import iter_samples  # noqa: E402
from opentoollab.datasets.store import Store, resolve_inputs  # noqa: E402
from opentoollab.tag.tagging import tag_sample  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("names", nargs="*", default=["BFCL"])
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()
    files = resolve_inputs(args.names, Store(args.data_dir))
    samples = [s for path in files for s in iter_samples(path)]
    for label in ("cold (schema caches empty)", "warm"):
        started = time.perf_counter()
        invalid = sum(not tag_sample(s)["valid"] for s in samples)
        seconds = time.perf_counter() - started
        print(f"{label}: {len(samples)} samples in {seconds:.2f}s = {len(samples) / seconds:,.0f} samples/s "
              f"({1000 * seconds / len(samples):.2f} ms/sample), {invalid} flagged")


if __name__ == "__main__":
    main()
