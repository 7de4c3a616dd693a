"""What the corpus-adapter tests share: run an adapter's ``process`` on a path and read back what it wrote."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opentoollab.format.jsonl import iter_samples
from opentoollab.format.sample import assign_call_ids
from opentoollab.datasets.sources import get_source
from opentoollab.datasets.store import Store, process
from opentoollab.format.validate import validate_sample


@dataclass
class Run:
    manifest: dict[str, Any]
    samples: dict[str, list]  # subset → samples
    rejects: list[dict]

    def all(self) -> list:
        return [s for subset in self.samples.values() for s in subset]

    def reasons(self) -> list[str]:
        return [r["reason"] for r in self.rejects]


def run(name: str, origin: Path, root: Path, **kwargs: Any) -> Run:
    """Process ``origin`` with the adapter ``name`` into a fresh data root under ``root``."""
    store = Store(root)
    manifest = process(get_source(name), store, origin=origin, progress=False, **kwargs)
    folder = store.processed_dir(get_source(name).name)
    samples = {path.stem: list(iter_samples(path)) for path in store.subset_files(get_source(name).name)}
    rejects = [json.loads(line) for line in (folder / "rejects.jsonl").read_text("utf-8").splitlines()]
    totals = manifest["totals"]
    assert totals["in"] == totals["out"] + totals["rejected"] == sum(len(v) for v in samples.values()) + len(rejects)
    for sample in (s for subset in samples.values() for s in subset):
        assert validate_sample(sample) == [], sample[0]
    return Run(manifest, samples, rejects)


def by_role(sample: list, role: str) -> list[dict]:
    return [m for m in sample if m["role"] == role]


def call_ids(sample: list) -> list[str]:
    return [cid for ids in assign_call_ids(sample) if ids for cid in ids]


def write_json(path: Path, value: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def cli_process(name: str, origin: Path, data_dir: Path) -> str:
    """``python datasets process NAME --from ORIGIN`` as a user runs it; its stdout (the exit code must be 0)."""
    import subprocess
    import sys

    repo = Path(__file__).resolve().parent.parent
    result = subprocess.run([sys.executable, "datasets", "process", name, "--from", str(origin), "--data-dir", str(data_dir),
                             "-q"], cwd=repo, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout
