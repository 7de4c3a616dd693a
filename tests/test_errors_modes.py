"""Clear errors and right modes (issue 13, item 5): what the disk refuses is one line with what to do,
exit code 1, no traceback; every output file gets the mode the user's umask gives (0644 under 022)."""

from __future__ import annotations

import builtins
import errno
import json
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from opentoollab.cli import main

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture()
def bfcl_folder(tmp_path, bfcl_wheel) -> Path:
    folder = tmp_path / "bfcl"
    (folder / "possible_answer").mkdir(parents=True)
    with zipfile.ZipFile(bfcl_wheel) as archive:
        for name in ("BFCL_v4_simple_python.json", "possible_answer/BFCL_v4_simple_python.json"):
            rows = archive.read(f"bfcl_eval/data/{name}").decode().splitlines()[:6]
            (folder / name).write_text("\n".join(rows) + "\n")
    return folder


def _run(args: list[str]):
    """The CLI in-process; an exception escaping it (a traceback for the user) fails the test."""
    return CliRunner().invoke(main, args, catch_exceptions=False)


def _one_error_line(result, *needles: str) -> str:
    assert result.exit_code == 1, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in result.output, result.output
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]


def _process(bfcl_folder: Path, data: Path):
    return _run(["datasets", "process", "BFCL", "--from", str(bfcl_folder), "-q", "--data-dir", str(data)])


def test_data_dir_under_a_file(tmp_path, bfcl_folder):
    (tmp_path / "afile").write_text("x")
    line = _one_error_line(_process(bfcl_folder, tmp_path / "afile" / "data"), "afile", "is a file", "--data-dir")
    assert "move or remove it" in line


@pytest.mark.parametrize("blocker", ["processed", "tools"])
def test_processed_or_tools_existing_as_a_file(tmp_path, bfcl_folder, blocker):
    data = tmp_path / "data"
    data.mkdir()
    (data / blocker).write_text("not a folder")
    _one_error_line(_process(bfcl_folder, data), str(data / blocker), "is a file, not a folder")
    assert (data / blocker).read_text() == "not a folder"
    if blocker == "tools":  # the processed folder was not swapped in without its catalog
        assert not (data / "processed" / "BFCL").exists()
        assert [p.name for p in (data / "processed").iterdir()] == []


def test_read_only_data_folder(tmp_path, bfcl_folder, monkeypatch):
    data = tmp_path / "data"
    assert _process(bfcl_folder, data).exit_code == 0
    if os.geteuid() == 0:  # root writes through any mode: refuse writes under the folder as the kernel would
        real_open, real_mkdir, real_osopen = builtins.open, os.mkdir, os.open
        inside = lambda path: str(Path(path).absolute()).startswith(str(data.absolute()))  # noqa: E731

        def deny(path):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))

        def guarded_open(path, mode="r", *args, **kwargs):
            if isinstance(path, (str, os.PathLike)) and inside(path) and any(c in mode for c in "wax+"):
                deny(path)
            return real_open(path, mode, *args, **kwargs)

        def guarded_mkdir(path, *args, **kwargs):
            if inside(path):
                deny(path)
            return real_mkdir(path, *args, **kwargs)

        def guarded_osopen(path, flags, *args, **kwargs):
            if inside(path) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
                deny(path)
            return real_osopen(path, flags, *args, **kwargs)

        monkeypatch.setattr(builtins, "open", guarded_open)
        monkeypatch.setattr(os, "mkdir", guarded_mkdir)
        monkeypatch.setattr(os, "open", guarded_osopen)
    else:
        for folder in [data, *[p for p in data.rglob("*") if p.is_dir()]]:
            folder.chmod(0o555)
    try:
        _one_error_line(_process(bfcl_folder, data), "cannot write", "make it writable", "--data-dir")
        _one_error_line(_run(["tag", "run", "--datasets", "BFCL", "-q", "--data-dir", str(data)]), "cannot write")
    finally:
        monkeypatch.undo()
        for folder in [data, *[p for p in data.rglob("*") if p.is_dir()]]:
            folder.chmod(0o755)
    # reading still works on a read-only folder
    assert _run(["datasets", "stats", "BFCL", "--overview", "--data-dir", str(data)]).exit_code == 0


def test_no_network_for_a_hub_download(tmp_path, monkeypatch):
    """Through a real process: stderr is exactly one error line."""
    env = {**os.environ, "HF_ENDPOINT": "http://127.0.0.1:9", "HF_HUB_ETAG_TIMEOUT": "2", "HF_HUB_DOWNLOAD_TIMEOUT": "2"}
    run = subprocess.run([sys.executable, "-c", "from opentoollab.cli import main; main(prog_name='x')", "datasets",
                          "download", "glaive", "--from", "hub", "--data-dir", str(tmp_path / "d")],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=180)
    assert run.returncode == 1, run.stderr
    errors = [line for line in run.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in run.stderr
    assert "cannot reach the hub" in errors[0] and "check the connection" in errors[0]
    assert not (tmp_path / "d" / "downloaded" / "Glaive").exists()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture()
def umask022():
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def test_output_files_follow_the_umask(tmp_path, bfcl_folder, umask022):
    data = tmp_path / "data"
    assert _process(bfcl_folder, data).exit_code == 0
    assert _run(["tag", "run", "--datasets", "BFCL", "-q", "--data-dir", str(data)]).exit_code == 0
    assert _run(["tag", "report", "BFCL", "--data-dir", str(data), "--out", str(tmp_path / "report")]).exit_code == 0
    out = tmp_path / "prepared"
    result = _run(["trainer", "prepare", "--datasets", "BFCL", "--model", "Qwen2.5", "--format", "sharegpt",
                   "--val-size", "0.3", "--allow-eval", "--out", str(out), "-q", "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    from opentoollab.format.jsonl import atomic_writer, write_json

    write_json(tmp_path / "direct.json", {"a": 1})
    with atomic_writer(tmp_path / "direct.bin", "wb") as handle:
        handle.write(b"x")
    files = [data / "processed" / "BFCL" / name for name in ("manifest.json", "simple_python.jsonl", "rejects.jsonl")]
    files += [data / "tools" / "BFCL.jsonl", data / "tags" / "BFCL" / "manifest.json",
              data / "tags" / "BFCL" / "simple_python.jsonl",
              tmp_path / "report" / "summary.json", tmp_path / "report" / "report.html",
              tmp_path / "direct.json", tmp_path / "direct.bin"]
    files += [out / name for name in json.loads((out / "manifest.json").read_text())["files"].values()]
    files.append(out / "manifest.json")
    wrong = {str(f.relative_to(tmp_path)): oct(_mode(f)) for f in files if _mode(f) != 0o644}
    assert wrong == {}
    assert _mode(data / "processed" / "BFCL") == 0o755
    # a stricter umask is honoured too
    os.umask(0o077)
    write_json(tmp_path / "private.json", {})
    assert _mode(tmp_path / "private.json") == 0o600


def _killed_at_the_300th(item):
    """prepare's per-item work, except that a worker dies, as if out of memory, at the 300th item it renders."""
    import signal

    from opentoollab.trainer import prepare

    _RENDERED.append(1)
    if len(_RENDERED) == 300 and os.getpid() != _RENDERED_BY["parent"]:
        os.kill(os.getpid(), signal.SIGKILL)
    return prepare.render_chunk_item(item)


_RENDERED: list = []
_RENDERED_BY: dict = {}


def test_a_worker_killed_during_prepare_is_one_error_line_not_a_hang(bfcl_store, tmp_path, monkeypatch):
    from opentoollab.format.parallel import START_METHOD_ENV
    from opentoollab.trainer import prepare

    _RENDERED_BY["parent"] = os.getpid()
    # forked workers see the patch below; once a threaded library is loaded (an earlier test in this process
    # tokenized), the pool would start them from a forkserver, which does not
    monkeypatch.setenv(START_METHOD_ENV, "fork")
    monkeypatch.setattr(prepare, "render_chunk_item", prepare.render_item, raising=False)
    monkeypatch.setattr(prepare, "render_item", _killed_at_the_300th)
    import signal

    def hung(*_):
        raise TimeoutError("prepare waited for a dead worker")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(120)  # a regression hangs: fail instead
    try:
        result = _run(["trainer", "prepare", "-q", "--allow-eval", "--datasets=BFCL/simple_python,BFCL/live_multiple",
                       "--model=Qwen2.5", "--workers", "2", "--out", str(tmp_path / "out"), "--data-dir", str(bfcl_store.root)])
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    _one_error_line(result, "worker process", "exit code -9", "fewer --workers")
