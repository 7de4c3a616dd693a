"""What the tests of corpora shipped in PyPI wheels share: the pinned wheel on disk, a store fetched from it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from opentoollab.datasets.sources import get_source
from opentoollab.datasets.store import Store, process
from opentoollab.format.jsonl import atomic_dir

REPO = Path(__file__).resolve().parent.parent


def pinned_wheel(file_name: str, env_var: str) -> Path:
    """The pinned wheel (``$env_var``, else ``.cache/wheels``, where scripts/test.sh downloads it once)."""
    for candidate in (os.environ.get(env_var), REPO / ".cache" / "wheels" / file_name):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    pytest.fail(f"{file_name} not found: run `bash scripts/test.sh` (it fetches it into .cache/wheels)")


def fetched_store(root: Path, wheel: Path, *names: str) -> Store:
    """A data root with each corpus downloaded as `python datasets download` does (pip, from the local wheel) and processed."""
    store = Store(root)
    for name in names:
        source = get_source(name)
        with atomic_dir(store.raw_dir(source.name), "download") as staging:
            source.fetch(staging, find_links=str(wheel.parent))
        process(source, store, progress=False)
    return store
