"""Shared test fixtures: the real BFCL wheel (fetched by scripts/test.sh), processed BFCL, ../shared."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
BFCL_WHEEL_NAME = "bfcl_eval-2026.3.23-py3-none-any.whl"
# scripts/test.sh sets it: every optional dependency is installed, so a test skipped for a missing import fails
FULL_RUN = os.environ.get("OPENTOOLLAB_FULL_TESTS") == "1"


def _fail_missing_dependency(report) -> None:
    """In the full run, turn a ``pytest.importorskip`` skip (a test's or a whole module's) into a failure."""
    if FULL_RUN and report.skipped and isinstance(report.longrepr, tuple) and "could not import" in str(report.longrepr[2]):
        report.outcome = "failed"
        report.longrepr = (f"{report.longrepr[2]}\nOPENTOOLLAB_FULL_TESTS=1: the full run needs every optional "
                           f"dependency: pip install -e '.[dev,report,tokenize,bfcl-langs]' (scripts/test.sh does)")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    _fail_missing_dependency(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector):
    report = yield
    _fail_missing_dependency(report)
    return report


def _find_wheel() -> Path | None:
    for candidate in (os.environ.get("OPENTOOLLAB_BFCL_WHEEL"), REPO / ".cache" / "wheels" / BFCL_WHEEL_NAME):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


@pytest.fixture(scope="session")
def bfcl_wheel() -> Path:
    """The pinned bfcl-eval wheel on local disk (scripts/test.sh downloads it once)."""
    wheel = _find_wheel()
    if wheel is None:
        pytest.fail(f"{BFCL_WHEEL_NAME} not found: run `bash scripts/test.sh` (it fetches it into .cache/wheels)")
    return wheel


@pytest.fixture(scope="session")
def shared() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"{SHARED} not found: the tests read real data from ../shared")
    return SHARED


@pytest.fixture(scope="session")
def bfcl_store(tmp_path_factory, bfcl_wheel):
    """A data root with BFCL downloaded (from the local wheel, through pip) and processed: all of it.

    ``OPENTOOLLAB_TEST_BFCL_DATA`` names such a data root made beforehand: scripts/mutation.py sets it for
    groups whose mutated modules play no part in processing, so each mutant's run skips the 10 s of it.
    """
    from opentoollab.format.jsonl import atomic_dir
    from opentoollab.datasets.sources import get_source
    from opentoollab.datasets.store import Store, process

    prebuilt = os.environ.get("OPENTOOLLAB_TEST_BFCL_DATA")
    if prebuilt:
        if Store(prebuilt).manifest("BFCL") is None:
            pytest.fail(f"OPENTOOLLAB_TEST_BFCL_DATA={prebuilt} holds no processed BFCL")
        return Store(prebuilt)
    store = Store(tmp_path_factory.mktemp("data"))
    source = get_source("BFCL")
    with atomic_dir(store.raw_dir("BFCL"), "download") as staging:  # as `python datasets download` does
        source.fetch(staging, find_links=str(bfcl_wheel.parent))
    process(source, store, progress=False)
    return store


@pytest.fixture(scope="session")
def bfcl_samples(bfcl_store) -> dict[str, list]:
    """All processed BFCL samples by subset."""
    from opentoollab.format.jsonl import iter_samples

    return {path.stem: list(iter_samples(path)) for path in bfcl_store.subset_files("BFCL")}


@pytest.fixture(scope="session")
def official_bfcl(bfcl_wheel):
    """BFCL's own checker and executor modules, imported from the pinned wheel (see scoring.parity.load_official).

    Use ``PARITY_MODEL`` (``official_bfcl.model``) as the model name for BFCL's ast_checker.
    """
    import importlib
    import types

    from opentoollab.benchmark.scoring.parity import PARITY_MODEL, load_official

    load_official(bfcl_wheel)
    return types.SimpleNamespace(
        model=PARITY_MODEL,
        ast_checker=importlib.import_module("bfcl_eval.eval_checker.ast_eval.ast_checker"),
        multi_turn_utils=importlib.import_module("bfcl_eval.eval_checker.multi_turn_eval.multi_turn_utils"),
        enums=importlib.import_module("bfcl_eval.constants.enums"),
    )


# corpus → its real slice in ../shared/samples
SHARED_SLICES = {"API-Bank": "api_bank", "ToolACE": "toolace", "xLAM": "xlam_function_calling_60k",
                 "Hermes": "hermes_function_calling_v1", "Glaive": "glaive_function_calling_v2"}


@pytest.fixture(scope="session")
def slice_samples(tmp_path_factory, shared) -> dict[str, list]:
    """Every sample of the real shared slices, processed by their adapters: corpus → samples."""
    from opentoollab.format.jsonl import iter_samples
    from opentoollab.datasets.sources import get_source
    from opentoollab.datasets.store import Store, process

    store = Store(tmp_path_factory.mktemp("slices"))
    out = {}
    for name, folder in SHARED_SLICES.items():
        process(get_source(name), store, origin=shared / "samples" / folder, progress=False)
        out[name] = [s for path in store.subset_files(name) for s in iter_samples(path)]
    return out
