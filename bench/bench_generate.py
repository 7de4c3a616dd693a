"""Offline generation throughput, whole process, and the diversity figures of the issue.

    python bench/bench_generate.py [--n 2000] [--dedup-n 10000]

Prints, for `python datasets generate --n N` run as a user runs it (a fresh process: imports,
worker start, generation, tag verification, decontamination check, processing into the store):
samples/s with 1 worker and with all cores, and the same with --verify (every call re-executed).
Then the share of a 10,000-sample run that near-duplicate detection (trainer mix's MinHash/LSH at
its default 0.8) keeps, and the byte-identity of two runs with the same seed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def run(n: int, data_dir: Path, *extra: str) -> tuple[float, Path]:
    started = time.perf_counter()
    subprocess.run([sys.executable, str(ROOT / "datasets"), "generate", "--n", str(n), "--seed", "1", "-q",
                    "--data-dir", str(data_dir), *extra], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started, data_dir / "processed" / "generated" / "offline.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--dedup-n", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        digests = []
        for label, extra in (("1 worker", ("-j", "1")), ("all cores", ()), ("all cores, --verify", ("--verify",)),
                             ("all cores, again", ())):
            seconds, path = run(args.n, tmp / label.replace(" ", "_").replace(",", ""), *extra)
            digests.append(hashlib.sha256(path.read_bytes()).hexdigest())
            print(f"generate --n {args.n} ({label}): {seconds:.2f}s whole process = {args.n / seconds:,.0f} samples/s")
        print(f"same seed, same bytes across runs and worker counts: {len(set(digests)) == 1}")

        from opentoollab.trainer.dedup import NearDeduper, user_turns

        seconds, path = run(args.dedup_n, tmp / "dedup")
        samples = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
        deduper = NearDeduper()
        kept = sum(deduper.check("\n".join(user_turns(s)), s[0]["content"]) is None for s in samples)
        manifest = json.loads((tmp / "dedup" / "downloaded" / "generated" / "offline.manifest.json").read_text("utf-8"))
        print(f"generate --n {args.dedup_n}: {seconds:.1f}s; near-dedup (Jaccard ≥ 0.8) keeps {kept:,} of {len(samples):,} "
              f"= {100 * kept / len(samples):.1f}%; {manifest['diversity']['distinct_user_bigrams']:,} distinct user bigrams, "
              f"{manifest['diversity']['distinct_call_patterns']:,} distinct call patterns, {manifest['tools_used']} tools used")


if __name__ == "__main__":
    main()
