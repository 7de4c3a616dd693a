"""Concurrency and crashes (issue 13, item 4): data-folder locks, the processed folder and its tool catalog
swapped as one unit across a kill, leftovers of killed runs recovered, `tag run --out` keeping corpora apart."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from opentoollab.cli import main
from opentoollab.datasets.sources import get_source
from opentoollab.datasets.store import Store, process

REPO = Path(__file__).resolve().parent.parent

# A child process running the CLI; optional patches come first: a slow record reader (so two runs overlap
# for sure) or a kill (os._exit, no cleanup) at the rename that puts the new processed folder in place.
DRIVER = textwrap.dedent("""
    import os, sys, time
    mode, target, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    if mode == "slow":
        from opentoollab.datasets.sources import get_source
        cls = type(get_source("BFCL"))
        original = cls.records
        def records(self, *a, **k):
            time.sleep(1.0)
            yield from original(self, *a, **k)
        cls.records = records
    elif mode == "kill":
        real = os.replace
        def replace(src, dst, *a, **k):
            if os.path.abspath(dst) == target and ".tmp-" in os.path.basename(str(src)):
                os._exit(9)
            return real(src, dst, *a, **k)
        os.replace = replace
    from opentoollab.cli import main
    main(args=args, prog_name="python datasets")
""")


def _lines(wheel: Path, name: str) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        return archive.read(f"bfcl_eval/data/{name}").decode().splitlines()


def _bfcl_folder(folder: Path, wheel: Path, simple: int, parallel: int) -> Path:
    """A local BFCL folder (hub layout) with the first records of simple_python and parallel."""
    (folder / "possible_answer").mkdir(parents=True)
    for subset, n in (("simple_python", simple), ("parallel", parallel)):
        for prefix in ("", "possible_answer/"):
            rows = _lines(wheel, f"{prefix}BFCL_v4_{subset}.json")[:n]
            (folder / prefix / f"BFCL_v4_{subset}.json").write_text("\n".join(rows) + "\n")
    return folder


@pytest.fixture()
def folders(tmp_path, bfcl_wheel):
    return (_bfcl_folder(tmp_path / "v1", bfcl_wheel, 8, 6), _bfcl_folder(tmp_path / "v2", bfcl_wheel, 4, 6))


def _child(mode: str, target: str, *args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", DRIVER, mode, target, "datasets", *args], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})


def _leftovers(store: Store) -> list[str]:
    return sorted(p.name for folder in (store.root / "processed", store.root / "tools") if folder.is_dir()
                  for p in folder.iterdir() if p.name.startswith("."))


def test_two_subset_runs_at_once_lose_nothing(tmp_path, folders):
    """Two `process --subset` runs racing (each reading slowly, so they overlap every time) keep both subsets."""
    for attempt in range(3):
        store = Store(tmp_path / f"data{attempt}")
        runs = [_child("slow", "", "process", "BFCL", "--from", str(folders[0]), "--subset", subset, "-q",
                       "--data-dir", str(store.root)) for subset in ("simple_python", "parallel")]
        for run in runs:
            out, err = run.communicate(timeout=120)
            assert run.returncode == 0, err
        manifest = store.manifest("BFCL")
        assert sorted(manifest["subsets"]) == ["parallel", "simple_python"], f"attempt {attempt}: {manifest['subsets']}"
        assert manifest["totals"]["samples"] == 14
        assert {p.name for p in store.subset_files("BFCL")} == {"simple_python.jsonl", "parallel.jsonl"}
        assert _leftovers(store) == []


def test_a_busy_lock_is_one_clear_line(tmp_path, folders):
    store = Store(tmp_path / "data")
    with store.lock("BFCL"):
        run = _child("plain", "", "process", "BFCL", "--from", str(folders[0]), "-q", "--data-dir", str(store.root),
                     env={"OPENTOOLLAB_LOCK_TIMEOUT": "0.3"})
        out, err = run.communicate(timeout=120)
    assert run.returncode == 1, (out, err)
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in err
    assert "another run is writing" in lines[0] and f"pid {os.getpid()}" in lines[0], err
    assert store.manifest("BFCL") is None  # nothing written while the other run held the lock
    # the lock goes with its holder: the same command now runs
    assert _child("plain", "", "process", "BFCL", "--from", str(folders[0]), "-q",
                  "--data-dir", str(store.root)).wait(timeout=120) == 0


def test_a_kill_between_the_renames_is_finished_by_the_next_run(tmp_path, folders):
    """A run killed between moving the old processed folder away and moving the new one in: the next run
    completes the swap (new samples with their new catalog) and keeps every subset; nothing stranded."""
    store = Store(tmp_path / "data")
    process(get_source("BFCL"), store, origin=folders[0], progress=False)
    final = str(store.processed_dir("BFCL").resolve())
    run = _child("kill", final, "process", "BFCL", "--from", str(folders[1]), "--subset", "simple_python", "-q",
                 "--data-dir", str(store.root))
    run.communicate(timeout=120)
    assert run.returncode == 9  # killed at the rename
    # the next writing run (another subset) first finishes the interrupted swap
    process(get_source("BFCL"), store, origin=folders[1], subsets=["parallel"], progress=False)
    manifest = store.manifest("BFCL")
    assert manifest["subsets"]["simple_python"]["samples"] == 4 and manifest["subsets"]["parallel"]["samples"] == 6
    assert _leftovers(store) == []
    # samples and catalog are those of a clean run over v2, byte for byte
    clean = Store(tmp_path / "clean")
    process(get_source("BFCL"), clean, origin=folders[1], progress=False)
    for subset in ("simple_python", "parallel"):
        assert (store.processed_dir("BFCL") / f"{subset}.jsonl").read_bytes() == \
            (clean.processed_dir("BFCL") / f"{subset}.jsonl").read_bytes()
    assert store.catalog_path("BFCL").read_bytes() == clean.catalog_path("BFCL").read_bytes()


def test_catalog_and_folder_are_one_unit_when_the_catalog_rename_fails(tmp_path, folders, monkeypatch):
    """A crash after the folder swap but before the catalog is in place: the next run puts the catalog
    that belongs to the new samples in place (never the old catalog beside new samples)."""
    from opentoollab.format import jsonl

    store = Store(tmp_path / "data")
    process(get_source("BFCL"), store, origin=folders[0], progress=False)
    old_catalog = store.catalog_path("BFCL").read_bytes()

    class Killed(BaseException):
        pass

    def crash(step):
        if step == "file":
            raise Killed

    monkeypatch.setattr(jsonl, "_swap_hook", crash)
    with pytest.raises(Killed):
        process(get_source("BFCL"), store, origin=folders[1], progress=False)
    monkeypatch.undo()
    assert store.catalog_path("BFCL").read_bytes() == old_catalog  # the crash left the old one in place …
    with store.lock("BFCL"):  # … and the next run (any writer of BFCL) completes the unit
        pass
    clean = Store(tmp_path / "clean")
    process(get_source("BFCL"), clean, origin=folders[1], progress=False)
    assert store.catalog_path("BFCL").read_bytes() == clean.catalog_path("BFCL").read_bytes() != old_catalog
    assert _leftovers(store) == []


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_leftovers_of_killed_runs_are_cleaned_or_recovered(tmp_path, folders):
    store = Store(tmp_path / "data")
    process(get_source("BFCL"), store, origin=folders[0], progress=False)
    processed = store.root / "processed"
    dead = _dead_pid()
    # what older runs killed at various points left: the output stranded in .old-PID with no BFCL folder,
    # a half-built work folder, a half-written catalog temp file and a half-built download
    os.replace(processed / "BFCL", processed / f".BFCL.old-{dead}")
    (processed / f".BFCL.tmp-{dead}").mkdir()
    (processed / f".BFCL.tmp-{dead}" / "simple_python.jsonl").write_text("[half")
    (store.root / "tools" / f".BFCL.jsonl.{dead}-0123abcd.tmp").write_text("{half")
    (store.root / "downloaded" / f".BFCL.download-{dead}").mkdir(parents=True)
    # a live run's work folder is left alone
    (processed / f".BFCL.tmp-{os.getppid()}").mkdir()
    result = CliRunner().invoke(main, ["datasets", "process", "BFCL", "--from", str(folders[1]), "--subset", "parallel",
                                       "-q", "--data-dir", str(store.root)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    manifest = store.manifest("BFCL")
    assert manifest["subsets"]["simple_python"]["samples"] == 8  # recovered from .old-PID, then carried over
    assert manifest["subsets"]["parallel"]["samples"] == 6
    assert _leftovers(store) == [f".BFCL.tmp-{os.getppid()}"]
    (store.root / "downloaded" / "BFCL").mkdir()
    from opentoollab.format.jsonl import atomic_dir

    with atomic_dir(store.raw_dir("BFCL"), "download"):
        pass
    assert [p.name for p in (store.root / "downloaded").iterdir()] == ["BFCL"]


def _corpus(store: Store, name: str, lines: list[str]) -> None:
    folder = store.processed_dir(name)
    folder.mkdir(parents=True)
    (folder / "train.jsonl").write_text("".join(line + "\n" for line in lines))
    (folder / "manifest.json").write_text(json.dumps({"name": name, "subsets": {"train": {"samples": len(lines)}}}))


def test_tag_run_out_keeps_each_corpus_apart(tmp_path, folders):
    store = Store(tmp_path / "data")
    process(get_source("BFCL"), store, origin=folders[0], progress=False)
    lines = (store.processed_dir("BFCL") / "simple_python.jsonl").read_text().splitlines()
    _corpus(store, "alpha", lines[:3])
    _corpus(store, "beta", lines[3:8])
    out = tmp_path / "tags"
    result = CliRunner().invoke(main, ["tag", "run", "--datasets", "alpha,beta", "--out", str(out), "-q",
                                       "--data-dir", str(store.root)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert len((out / "alpha" / "train.jsonl").read_text().splitlines()) == 3
    assert len((out / "beta" / "train.jsonl").read_text().splitlines()) == 5
    assert json.loads((out / "alpha" / "manifest.json").read_text())["totals"]["samples"] == 3
    assert json.loads((out / "beta" / "manifest.json").read_text())["totals"]["samples"] == 5
    # two loose files with one stem cannot share OUT/<stem>.jsonl: refused up front, one line
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    for folder in ("a", "b"):
        (tmp_path / folder / "x.jsonl").write_text(lines[0] + "\n")
    result = CliRunner().invoke(main, ["tag", "run", str(tmp_path / "a" / "x.jsonl"), str(tmp_path / "b" / "x.jsonl"),
                                       "--out", str(tmp_path / "loose"), "-q"], catch_exceptions=False)
    assert result.exit_code == 1 and "would both write" in result.output
