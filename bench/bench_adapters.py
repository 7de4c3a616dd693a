"""Throughput of the corpus adapters on a synthetic 60k-record file in each corpus's real layout.

Usage: python bench/bench_adapters.py [--records 60000] [--only xLAM ...]

Each file is made from the real records in ../shared/samples (cycled, each copy with its own id), so
the parsing work per record is the real one. Two figures per adapter, on one core:
  convert  records read + converted, samples/s (the adapter alone)
  process  the whole ``store.process`` pipeline, samples/s (read, convert, link inference, validation
           of every sample, writing subsets, rejects, catalog and manifest)
Target: >= 20,000 samples/s per core for xLAM-like records (issue 3).

Adding an adapter: one entry in ADAPTERS, a function ``n → list of records`` in the corpus's layout
plus the file name the hub uses.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO.parent / "shared" / "samples"
sys.path.insert(0, str(REPO / "src"))


def _cycle(records: list[Any], n: int, vary: Callable[[Any, int], Any]) -> list[Any]:
    return [vary(records[i % len(records)], i) for i in range(n)]


def xlam(n: int) -> list[Any]:
    rows = json.loads((SAMPLES / "xlam_function_calling_60k" / "xlam_records_quoted_in_docs.json").read_text("utf-8"))
    return _cycle(rows, n, lambda row, i: {**row, "id": i})


def hermes(n: int) -> list[Any]:
    rows = json.loads((SAMPLES / "hermes_function_calling_v1" / "hermes_records_from_dataset_card.json").read_text("utf-8"))
    return _cycle(rows, n, lambda row, i: {**row, "id": f"{row['id'][:-6]}{i:06d}"})


def glaive(n: int) -> list[Any]:
    rows = json.loads((SAMPLES / "glaive_function_calling_v2" / "glaive_rows_quoted_in_public_code.json").read_text("utf-8"))
    return _cycle(rows, n, lambda row, i: row)


def apigen_mt(n: int) -> list[Any]:
    # No real APIGen-MT record exists here: the record of tests/test_apigen_mt.py (documented layout) is used.
    sys.path.insert(0, str(REPO / "tests"))
    from test_apigen_mt import record

    return _cycle([record.__wrapped__()], n, lambda row, i: row)


def api_bank(n: int) -> list[Any]:
    # lv3 training records: ToolSearcher chains with Python-repr results (the heaviest API-Bank layout).
    rows = json.loads((SAMPLES / "api_bank" / "training-data" / "lv3-response-train.json").read_text("utf-8"))
    return _cycle(rows, n, lambda row, i: row)


def toolace(n: int) -> list[Any]:
    rows = json.loads((SAMPLES / "toolace" / "toolace_record_quoted_in_doc.json").read_text("utf-8"))
    return _cycle(rows, n, lambda row, i: row)


# adapter name → (record builder, file name in the corpus's hub layout)
ADAPTERS: dict[str, tuple[Callable[[int], list[Any]], str]] = {
    "xLAM": (xlam, "xlam_function_calling_60k.json"),
    "Hermes": (hermes, "func-calling.json"),
    "Glaive": (glaive, "glaive-function-calling-v2.json"),
    "APIGen-MT": (apigen_mt, "apigen-mt_5k.json"),
    "API-Bank": (api_bank, "lv3-response-train.json"),
    "ToolACE": (toolace, "data.json"),
}


def bench(name: str, n: int) -> None:
    from opentoollab.datasets.sources import Context, get_source
    from opentoollab.datasets.store import Store, process

    builder, file_name = ADAPTERS[name]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "raw"
        folder.mkdir()
        path = folder / file_name
        path.write_text(json.dumps(builder(n), ensure_ascii=False, indent=4), encoding="utf-8")
        size = path.stat().st_size
        source = get_source(name)
        ctx = Context(options={})
        started = time.perf_counter()
        samples = 0
        for record in source.records(folder):
            produced = source.convert(record, ctx)
            samples += 1 if produced and isinstance(produced[0], dict) else len(produced)
        convert_seconds = time.perf_counter() - started
        started = time.perf_counter()
        manifest = process(source, Store(Path(tmp) / "data"), origin=folder, progress=False)
        process_seconds = time.perf_counter() - started
    totals = manifest["totals"]
    print(f"{name:10s} records {n:6d} ({size / 1e6:6.1f} MB)  convert {samples / convert_seconds:9,.0f} samples/s  "
          f"process {totals['samples'] / process_seconds:8,.0f} samples/s  "
          f"(out {totals['out']}, rejected {totals['rejected']}, links {manifest['counters'].get('links_inferred', 0)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=60_000)
    parser.add_argument("--only", nargs="*", default=None, help=f"adapters to run (default all: {', '.join(ADAPTERS)})")
    args = parser.parse_args()
    for name in args.only or ADAPTERS:
        bench(name, args.records)


if __name__ == "__main__":
    main()
