"""Edges of three small source modules: GitHub downloads (against raw files served on 127.0.0.1), the
``generated`` corpus's fetch/read/convert, and reading literal constants out of Python source."""

from __future__ import annotations

import contextlib
import hashlib
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest

from opentoollab.datasets.fetch import read_provenance, verify
from opentoollab.datasets.sources import generated as generated_module
from opentoollab.datasets.sources import github
from opentoollab.datasets.sources.base import Context, FetchError, RawRecord, Reject
from opentoollab.datasets.sources.generated import Generated
from opentoollab.datasets.sources.literals import literal_constants
from opentoollab.datasets.sources.mtubench import MTUBench

MTU_SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "samples" / "mtu_bench"


# --- a raw.githubusercontent.com stand-in ------------------------------------------------------------------


@contextlib.contextmanager
def raw_server(files: dict[str, bytes], *, truncate: set[str] = frozenset(), chunked: bool = False,
               fail: dict[str, int] | None = None) -> Iterator[list[str]]:
    """Serve ``files`` (``/owner/repo/commit/path`` → bytes) as GitHub's raw host does: 200 with the bytes, 404
    for anything else. A path in ``truncate`` closes the connection after half its body (announced with its
    full Content-Length, or as one chunk with no final chunk when ``chunked``); ``fail`` maps a path to an
    HTTP error status. Yields the list of requested paths; ``github.RAW_BASE`` points here."""
    requested: list[str] = []
    fail = fail or {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            requested.append(self.path)
            if self.path in fail:
                self.send_error(fail[self.path])
                return
            data = files.get(self.path)
            if data is None:
                self.send_error(404, "Not Found")
                return
            self.protocol_version = "HTTP/1.1"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            if chunked:
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.send_header("Content-Length", str(len(data)))
            self.send_header("Connection", "close")
            self.end_headers()
            body = data[: len(data) // 2] if self.path in truncate else data
            if chunked:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(body), body))
                if self.path not in truncate:
                    self.wfile.write(b"0\r\n\r\n")
            else:
                self.wfile.write(body)
            self.close_connection = True

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    saved = github.RAW_BASE
    github.RAW_BASE = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield requested
    finally:
        github.RAW_BASE = saved
        httpd.shutdown()
        httpd.server_close()


def _mtu_files() -> dict[str, bytes]:
    """The MTU-Bench sample files (real slices of the pinned commit) at their repository paths."""
    return {path: (MTU_SAMPLES / path).read_bytes() for path in MTUBench.github_paths}


def _served(repo: str, commit: str, files: dict[str, bytes]) -> dict[str, bytes]:
    return {f"/{repo}/{commit}/{path}": data for path, data in files.items()}


def test_a_github_adapter_downloads_its_pinned_files_records_provenance_and_reads_them(tmp_path):
    files = _mtu_files()
    adapter = MTUBench()
    with raw_server(_served(adapter.github_repo, adapter.github_commit, files)) as requested:
        provenance = adapter.fetch(tmp_path / "raw")
    raw = tmp_path / "raw"
    assert requested == [f"/{adapter.github_repo}/{adapter.github_commit}/{p}" for p in adapter.github_paths]
    for path, data in files.items():
        assert (raw / path).read_bytes() == data
        assert provenance["files"][path]["sha256"] == hashlib.sha256(data).hexdigest()
    assert provenance["kind"] == "github" and provenance["revision"] == adapter.github_commit
    assert provenance["files_expected"] == list(adapter.github_paths)
    assert read_provenance(raw)["repo"] == "MTU-Bench-Team/MTU-Bench"
    verify(raw)  # what `process` re-checks
    assert adapter.version_of(raw) == f"github.com/MTU-Bench-Team/MTU-Bench@{adapter.github_commit}"
    lines = sum(1 for data in files.values() for line in data.splitlines() if line.strip())
    assert sum(1 for _ in adapter.records(raw)) == lines


def test_a_revision_other_than_the_pin_is_fetched_without_the_pinned_checksums(tmp_path):
    class Pinned(github.GitHubFetch):
        github_repo, github_commit = "owner/repo", "a" * 40
        github_paths = ("data/x.jsonl",)
        github_sha256 = {"data/x.jsonl": hashlib.sha256(b"pinned\n").hexdigest()}

    with raw_server(_served("owner/repo", "b" * 40, {"data/x.jsonl": b"newer\n"}) |
                    _served("owner/repo", "a" * 40, {"data/x.jsonl": b"pinned\n"})):
        newer = Pinned().fetch(tmp_path / "newer", revision="b" * 40)
        pinned = Pinned().fetch(tmp_path / "pinned", origin="github")
    assert (tmp_path / "newer" / "data" / "x.jsonl").read_bytes() == b"newer\n" and newer["revision"] == "b" * 40
    assert (tmp_path / "pinned" / "data" / "x.jsonl").read_bytes() == b"pinned\n" and pinned["revision"] == "a" * 40
    assert Pinned().version_of(tmp_path / "newer") == f"github.com/owner/repo@{'b' * 40}"


def test_a_file_that_does_not_match_its_pinned_checksum_is_refused(tmp_path):
    served = _served("owner/repo", "c" * 40, {"x.json": b"[1, 2]\n"})
    with raw_server(served), pytest.raises(FetchError, match="does not match the pinned"):
        github.github_download("owner/repo", "c" * 40, ("x.json",), tmp_path,
                               sha256={"x.json": hashlib.sha256(b"[1, 2, 3]\n").hexdigest()})


def test_an_optional_file_the_commit_lacks_is_skipped_and_a_required_one_fails_without_leftovers(tmp_path):
    served = _served("owner/repo", "d" * 40, {"a.jsonl": b"{}\n"})
    with raw_server(served):
        fetched = github.github_download("owner/repo", "d" * 40, ("a.jsonl", "train.jsonl"), tmp_path,
                                         optional=("train.jsonl",))
        assert fetched == ["a.jsonl"] and not (tmp_path / "train.jsonl").exists()
        with pytest.raises(FetchError, match=r"raw/b\.jsonl failed: HTTP 404"):
            github.github_download("owner/repo", "d" * 40, ("raw/b.jsonl",), tmp_path, optional=("train.jsonl",))
    assert not (tmp_path / "raw" / "b.jsonl").exists()


def test_a_server_error_on_an_optional_file_is_still_a_failure(tmp_path):
    path = f"/owner/repo/{'e' * 40}/train.jsonl"
    with raw_server({path: b"{}\n"}, fail={path: 503}), pytest.raises(FetchError, match="HTTP 503"):
        github.github_download("owner/repo", "e" * 40, ("train.jsonl",), tmp_path, optional=("train.jsonl",))
    assert not (tmp_path / "train.jsonl").exists()


@pytest.mark.parametrize("chunked", [False, True])
def test_a_body_cut_short_is_a_fetch_error_and_the_partial_file_is_removed(tmp_path, chunked):
    path, whole = f"/owner/repo/{'f' * 40}/big.jsonl", f"/owner/repo/{'f' * 40}/whole.jsonl"
    data = b'{"x": 1}\n' * 20_000
    with raw_server({path: data, whole: data}, truncate={path}, chunked=chunked):
        with pytest.raises(FetchError, match="big.jsonl failed"):
            github.github_download("owner/repo", "f" * 40, ("big.jsonl",), tmp_path)
        assert not (tmp_path / "big.jsonl").exists()
        assert github.github_download("owner/repo", "f" * 40, ("whole.jsonl",), tmp_path) == ["whole.jsonl"]
    assert (tmp_path / "whole.jsonl").read_bytes() == data


def test_an_unreachable_host_is_a_fetch_error_naming_the_url(tmp_path, monkeypatch):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setattr(github, "RAW_BASE", f"http://127.0.0.1:{port}")
    with pytest.raises(FetchError, match=rf"127\.0\.0\.1:{port}/o/r/{'0' * 40}/x\.jsonl failed"):
        github.github_download("o/r", "0" * 40, ("x.jsonl",), tmp_path)
    assert not (tmp_path / "x.jsonl").exists()


def test_a_local_copy_has_no_github_version(tmp_path):
    adapter = MTUBench()
    provenance = adapter.fetch(tmp_path / "raw", origin=str(MTU_SAMPLES))
    assert provenance["kind"] == "local" and adapter.version_of(tmp_path / "raw") is None
    assert adapter.version_of(tmp_path / "missing") is None
    with pytest.raises(FetchError, match="does not exist"):
        adapter.fetch(tmp_path / "other", origin=str(tmp_path / "nowhere"))


# --- the generated corpus -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def generated_raw(tmp_path_factory) -> Path:
    """``download generated`` with the default recipe, cut to 4 samples (the real generator, offline)."""
    raw = tmp_path_factory.mktemp("generated") / "raw"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(generated_module, "DEFAULT_N", 4)
        provenance = Generated().fetch(raw)
    assert provenance["kind"] == "generated" and provenance["recipe"]["n"] == 4
    assert provenance["generator"]
    return raw


def test_download_generated_runs_the_default_recipe_and_its_samples_convert(generated_raw):
    adapter = Generated()
    records = list(adapter.records(generated_raw))
    assert [r.subset for r in records] == ["offline"] * 4 and [r.location for r in records] == [1, 2, 3, 4]
    assert all(r.source_id is None or isinstance(r.source_id, (str, int)) for r in records)
    for record in records:
        sample = adapter.convert(record, Context())
        assert sample[0]["role"] == "meta" and sample[0]["content"]["generator"]
        assert sample == [m for m in record.data if m.get("role") != "id"]
    from opentoollab.datasets.generate.engine import GENERATOR, GENERATOR_VERSION

    assert adapter.version_of(generated_raw) == f"{GENERATOR} {GENERATOR_VERSION}"


def test_generated_from_a_folder_copies_only_sample_files_and_reads_runs_as_subsets(generated_raw, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    lines = (generated_raw / "offline.jsonl").read_text("utf-8").splitlines()
    (out / "alpha.jsonl").write_text("\n".join(lines[:2]) + "\n", "utf-8")
    (out / "beta.jsonl").write_text(lines[2] + "\n{not json\n", "utf-8")
    (out / "beta.rejects.jsonl").write_text('{"reason": "x"}\n', "utf-8")
    (out / "beta.failures.jsonl").write_text('{"reason": "y"}\n', "utf-8")
    adapter = Generated()
    provenance = adapter.fetch(tmp_path / "raw", origin=str(out))
    assert provenance["kind"] == "local" and sorted(provenance["files"]) == ["alpha.jsonl", "beta.jsonl"]
    raw = tmp_path / "raw"
    assert [r.subset for r in adapter.records(raw, ["beta"])] == ["beta", "beta"]
    bad = list(adapter.records(raw, ["beta"]))[1]
    assert isinstance(bad.data, Reject) and "line 2 is not JSON" in str(bad.data) and bad.data.raw == "{not json"
    assert len(list(adapter.records(raw))) == 4
    assert len(list(adapter.records(raw / "alpha.jsonl"))) == 2  # one file given directly


@pytest.mark.parametrize("origin", ["missing", "empty", "rejects-only"])
def test_generated_from_a_place_without_samples_is_a_clear_error(tmp_path, origin):
    folder = tmp_path / origin
    if origin != "missing":
        folder.mkdir()
    if origin == "rejects-only":
        (folder / "run.rejects.jsonl").write_text("{}\n", "utf-8")
    with pytest.raises(FetchError, match="no generated .jsonl files there"):
        Generated().fetch(tmp_path / "raw", origin=str(folder))
    assert not (tmp_path / "raw").exists()


@pytest.mark.parametrize("data, reason", [
    ({"role": "user"}, "not a sample"),
    ([], "not a sample"),
    ([{"role": "user", "content": "hi"}, "text"], "not a sample"),
    ([{"role": "id", "content": "x"}, {"role": "user", "content": "hi"}], "without meta"),
    ([{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}], "without meta"),
])
def test_generated_rejects_what_is_not_a_generated_sample(data, reason):
    with pytest.raises(Reject, match=reason):
        Generated().convert(RawRecord("run", "run.jsonl", 1, data), Context())


def test_generated_source_ids_come_only_from_a_string_or_integer_meta_field():
    meta = lambda value: [{"role": "meta", "content": {"source_id": value}}]  # noqa: E731
    assert generated_module._source_id(meta("run-7")) == "run-7" and generated_module._source_id(meta(7)) == 7
    assert generated_module._source_id(meta(True)) is None and generated_module._source_id(meta([1])) is None
    assert generated_module._source_id({"role": "meta"}) is None
    assert generated_module._source_id([{"role": "meta", "content": "text"}]) is None


# --- literal constants ----------------------------------------------------------------------------------------


def test_literal_constants_reads_only_literal_module_assignments_without_running_anything():
    source = (
        "import os\n"
        "PROMPT = 'Say {x}'\n"
        "LIMITS = {'a': (1, 2.5), 'b': [None, True]}\n"
        "COMPUTED = os.getcwd()\n"  # not a literal: skipped, never called
        "A = B = 3\n"  # two targets: skipped
        "obj.attr = 4\n"
        "def f():\n    INNER = 5\n"
        "LAST = -1\n"
    )
    assert literal_constants(source) == {"PROMPT": "Say {x}", "LIMITS": {"a": (1, 2.5), "b": [None, True]}, "LAST": -1}
    assert literal_constants(source.encode(), ["PROMPT", "COMPUTED", "MISSING"]) == {"PROMPT": "Say {x}"}
    assert literal_constants(source, []) == {}


@pytest.mark.parametrize("source", [None, b"", "", "def broken(:\n", b"X = '\xff\xfe'\n", "X = 1\x00\n",
                                    "X = " + "(" * 200_000 + ")" * 200_000 + "\n"])
def test_literal_constants_of_what_is_not_python_is_empty(source):
    assert literal_constants(source) == {}

