"""Mix / dedup / decontamination / export speed on the processed BFCL in ./datasets (or --data-dir).

Prints figures; not a test. Run: python bench/bench_mix.py [DATA_DIR]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from opentoollab.trainer.decontaminate import build_index, known_evaluation_sets
from opentoollab.trainer.dedup import ExactDeduper, NearDeduper, user_turns
from opentoollab.datasets.export import export_dataset
from opentoollab.format.jsonl import iter_samples
from opentoollab.trainer.mix import build_mix, write_mix
from opentoollab.datasets.store import Store


def main() -> None:
    store = Store(sys.argv[1] if len(sys.argv) > 1 else None)
    samples = [s for f in store.subset_files("BFCL") for s in iter_samples(f)]
    if not samples:
        sys.exit("process BFCL first: python datasets deal BFCL")
    n = len(samples)
    print(f"{n} BFCL samples")

    started = time.perf_counter()
    sets, _missing = known_evaluation_sets(store)
    index, counts = build_index(sets)
    seconds = time.perf_counter() - started
    print(f"eval index: {sum(counts.values())} samples, {len(index)} n-grams in {seconds:.2f}s")

    started = time.perf_counter()
    hits = sum(index.check(s) is not None for s in samples)
    seconds = time.perf_counter() - started
    print(f"decontamination check: {n / seconds:,.0f} samples/s ({hits} of {n} BFCL samples match themselves; the others have no user turn of 6+ tokens)")

    exact = ExactDeduper()
    started = time.perf_counter()
    dup = sum(exact.check(s, str(i)) is not None for i, s in enumerate(samples))
    print(f"exact dedup: {n / (time.perf_counter() - started):,.0f} samples/s ({dup} duplicates inside BFCL)")

    near = NearDeduper()
    started = time.perf_counter()
    dup = sum(near.check("\n".join(user_turns(s)), str(i)) is not None for i, s in enumerate(samples))
    print(f"near dedup (MinHash 128 perm, LSH 0.8): {n / (time.perf_counter() - started):,.0f} samples/s "
          f"({dup} near-duplicates inside BFCL)")

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        mix, manifest = build_mix("BFCL:0.5", store, seed=1, allow_eval=True)
        written = write_mix(Path(tmp) / "mix.jsonl", mix, manifest)
        seconds = time.perf_counter() - started
        totals = manifest["totals"]
        print(f"mix end to end: read {totals['read']}, wrote {written['output']['samples']} in {seconds:.2f}s "
              f"({totals['read'] / seconds:,.0f} samples/s read)")
        started = time.perf_counter()
        summary = export_dataset("BFCL", store, Path(tmp) / "hf")
        seconds = time.perf_counter() - started
        size = sum(p.stat().st_size for p in (Path(tmp) / "hf").rglob("*.parquet"))
        print(f"export: {summary['rows']} samples in {seconds:.2f}s ({summary['rows'] / seconds:,.0f}/s), "
              f"{size / 1e6:.1f} MB parquet (zstd)")


if __name__ == "__main__":
    main()
