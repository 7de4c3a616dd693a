"""Hub downloads end to end: `deal`/`download` through the real ``huggingface_hub`` client, against tests/hub_server.py.

The server speaks the hub's HTTP API for dataset repos (repo info, paginated tree listing, resolve with
ETag/commit headers, an LFS "CDN" on a second origin, Range, gated 401/403, 404s) and serves each hub corpus's
repo layout made from the real files of ../shared/samples (APIGen-MT: a record built from its documented
layout; nothing of it is public) at a fixed commit. No test touches the network.
"""

from __future__ import annotations

import hashlib
import json
import socket
import time
import types
from pathlib import Path

import pytest
from click.testing import CliRunner

from hub_server import ALWAYS, Hub, corpus_repos, fake_commit, serve
from opentoollab.cli import main
from opentoollab.datasets.sources import get_source

HUB_CORPORA = ("ToolACE", "xLAM", "APIGen-MT", "Hermes", "Glaive", "API-Bank")
GATED = ("xLAM", "APIGen-MT")
TOKEN = "hf_testTokenWithAcceptedTerms0123456789"
OTHER_TOKEN = "hf_testTokenWithoutTheTerms9876543210"
WRITE_TOKEN = "hf_testWriteToken55555555555555555555"


@pytest.fixture(scope="module")
def layouts(shared, bfcl_wheel):
    return corpus_repos(shared / "samples", bfcl_wheel)


def commit_of(name: str) -> str:
    """The commit the stand-in hub serves as ``main``: the adapter's pinned sha where it pins one."""
    revision = get_source(name).hub_revision if name != "BFCL" else "main"
    return revision if len(revision) == 40 else fake_commit("main", name)


OLD_CARD = b"# an older revision of this repo\n"


@pytest.fixture()
def hub(monkeypatch, tmp_path, layouts):
    import huggingface_hub.constants as constants
    from huggingface_hub import file_download

    state = Hub()
    for name, (repo_id, files, gated) in layouts.items():
        repo = state.add_repo(repo_id, gated=gated, granted={TOKEN} if gated else set())
        repo.add_commit({**files, "README.md": OLD_CARD}, fake_commit("old", name), branch=None, message="older")
        repo.add_commit(files, commit_of(name), message="the served revision")
    state.write_tokens.add(WRITE_TOKEN)
    with serve(state):
        monkeypatch.setenv("HF_ENDPOINT", state.url)  # what a user sets for a mirror; the product reads it per call
        # everything else the client reads at import time: point it here too, so nothing can reach the internet
        monkeypatch.setattr(constants, "ENDPOINT", state.url)
        monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", state.url + "/{repo_id}/resolve/{revision}/{filename}")
        monkeypatch.setattr(constants, "HF_HUB_DISABLE_TELEMETRY", True)
        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
        monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf-home" / "hub"))
        monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "hf-home" / "token"))
        monkeypatch.setattr(constants, "HF_STORED_TOKENS_PATH", str(tmp_path / "hf-home" / "stored_tokens"))
        for variable in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_OFFLINE", "HF_OIDC_RESOURCE"):
            monkeypatch.delenv(variable, raising=False)
        # the client sleeps 1 s before each resume of a dropped transfer: keep the retries, not the waiting
        monkeypatch.setattr(file_download, "time", types.SimpleNamespace(sleep=lambda _s: None, time=time.time,
                                                                          monotonic=time.monotonic))
        yield state


def cli(*args: str, env: dict | None = None):
    result = CliRunner().invoke(main, ["datasets", *args], env=env, catch_exceptions=True)
    return result


def error_lines(result) -> list[str]:
    assert "Traceback" not in result.output + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert not lines or result.stderr.rstrip("\n").splitlines()[-1] == lines[-1]  # nothing follows the one line
    return lines


def processed(data: Path, name: str) -> dict[str, str]:
    folder = data / "processed" / name
    return {p.name: p.read_text("utf-8") for p in sorted(folder.glob("*.jsonl"))}


def write_layout(root: Path, files: dict[str, bytes]) -> Path:
    for path, data in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
    return root


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def leftovers(data: Path) -> list[str]:
    """Anything a failed download could leave behind: partial files, staging folders, client caches
    (the per-corpus lock files under .locks/ are meant to stay: the kernel releases the lock, not the file)."""
    found = [p for p in data.rglob("*") if (p.name.endswith(".incomplete") or p.name.startswith("."))
             and p.relative_to(data).parts[0] != ".locks"]
    return sorted(p.relative_to(data).as_posix() for p in found)


def pin_known_hashes(monkeypatch, name: str, files: dict[str, bytes]) -> None:
    """The served files are slices, not the pinned release: make the adapter's known sha256 those of the slices."""
    source = type(get_source(name))
    if getattr(source, "file_sha256", None):
        monkeypatch.setattr(source, "file_sha256", {f: sha256(files[f]) for f in source.file_sha256})


# ------------------------------------------------------------------------------------------ per corpus
@pytest.mark.parametrize("name", HUB_CORPORA)
def test_deal_downloads_records_commit_and_checksums_and_matches_from(name, hub, layouts, tmp_path, monkeypatch):
    repo_id, files, gated = layouts[name]
    assert get_source(name).hub_repo == repo_id
    pin_known_hashes(monkeypatch, name, files)
    data = tmp_path / "data"
    env = {"HF_TOKEN": TOKEN} if gated else None
    result = cli("deal", name, "-q", "--data-dir", str(data), env=env)
    assert result.exit_code == 0, result.output + result.stderr
    raw = data / "downloaded" / name
    provenance = json.loads((raw / "provenance.json").read_text("utf-8"))
    assert (provenance["kind"], provenance["repo"], provenance["revision"]) == ("hub", repo_id, commit_of(name))
    downloaded = {p: d for p, d in files.items() if p != ".gitattributes"}  # every data file + the card
    assert provenance["files"] == {p: {"sha256": sha256(d), "size": len(d)} for p, d in sorted(downloaded.items())}
    for path, data_bytes in downloaded.items():
        assert (raw / path).read_bytes() == data_bytes
    assert leftovers(data) == []  # no client cache, no staging folder, no partial file
    # the client really walked the API: resolved the revision, listed every page of the tree, fetched the files
    paths = [p for _m, p, _a in hub.requests]
    assert any(p.startswith(f"/api/datasets/{repo_id}/revision/") for p in paths)
    assert sum(f"/api/datasets/{repo_id}/tree/{commit_of(name)}" in p for p in paths) >= 2  # paginated listing
    assert len(hub.downloads()) == len(downloaded)
    if gated:  # the token went to the hub, and nowhere else
        assert any(auth == f"Bearer {TOKEN}" for _m, _p, auth in hub.requests)
        assert TOKEN not in (raw / "provenance.json").read_text() + result.output + result.stderr
    manifest = json.loads((data / "processed" / name / "manifest.json").read_text())
    assert manifest["totals"]["out"] > 0
    # the same files given with --from give the same samples
    local = write_layout(tmp_path / "layout", files)
    again = cli("process", name, "--from", str(local), "-q", "--data-dir", str(tmp_path / "from"))
    assert again.exit_code == 0, again.output + again.stderr
    assert processed(data, name) == processed(tmp_path / "from", name) != {}
    # a second deal uses the verified files: not one request reaches the hub
    before = len(hub.requests)
    second = cli("deal", name, "-q", "--data-dir", str(data))
    assert second.exit_code == 0, second.output + second.stderr
    assert "using downloaded files" in second.stderr and len(hub.requests) == before


@pytest.mark.parametrize("name", HUB_CORPORA)
def test_revision_pins_the_commit(name, hub, layouts, tmp_path):
    repo_id, files, gated = layouts[name]
    old = fake_commit("old", name)
    data = tmp_path / "data"
    result = cli("deal", name, "-q", "--revision", old, "--data-dir", str(data),
                 *(["--token", TOKEN] if gated else []))
    assert result.exit_code == 0, result.output + result.stderr
    raw = data / "downloaded" / name
    provenance = json.loads((raw / "provenance.json").read_text("utf-8"))
    assert provenance["revision"] == provenance["requested"] == old
    assert (raw / "README.md").read_bytes() == OLD_CARD and provenance["files"]["README.md"]["sha256"] == sha256(OLD_CARD)
    served = [p for _m, p, _a in hub.requests if "/resolve/" in p or "/tree/" in p]
    assert served and all(old in p for p in served)  # nothing was read from another revision
    assert TOKEN not in json.dumps(provenance)
    unknown = cli("download", name, "--revision", "0" * 40, "--data-dir", str(data), *(["--token", TOKEN] if gated else []))
    assert unknown.exit_code == 1 and error_lines(unknown) == [
        f"error: revision '{'0' * 40}' of {repo_id} was not found on the hub"]
    assert json.loads((raw / "provenance.json").read_text())["revision"] == old  # the pinned copy is untouched


@pytest.mark.parametrize("name", ("Glaive", "APIGen-MT"))
def test_pinned_file_hash_refuses_other_bytes(name, hub, layouts, tmp_path):
    """At the pinned commit, a file whose published sha256 is known must have it (the served slices do not)."""
    data = tmp_path / "data"
    result = cli("download", name, "--data-dir", str(data), "--token", TOKEN)
    assert result.exit_code == 1
    lines = error_lines(result)
    assert len(lines) == 1 and "does not match the pinned" in lines[0], lines
    assert not (data / "downloaded" / name).exists() and leftovers(data) == []


@pytest.mark.parametrize("name", GATED)
def test_gated_repo_without_access_says_how_to_get_it(name, hub, layouts, tmp_path):
    repo_id = layouts[name][0]
    data = tmp_path / "data"
    for extra in ([], ["--token", OTHER_TOKEN]):  # no token (401), a token whose owner did not accept the terms (403)
        result = cli("deal", name, "--data-dir", str(data), *extra)
        assert result.exit_code == 1
        lines = error_lines(result)
        assert len(lines) == 1 and lines[0].startswith(f"error: {repo_id} is gated: accept its terms")
        assert "--token" in lines[0] and "HF_TOKEN" in lines[0]
        assert OTHER_TOKEN not in result.output + result.stderr
        assert not (data / "downloaded" / name).exists() and leftovers(data) == []
    statuses = [auth for _m, p, auth in hub.requests if "/resolve/" in p]
    assert None in statuses and f"Bearer {OTHER_TOKEN}" in statuses


# ------------------------------------------------------------------------------------------ failures
def test_dropped_connection_is_resumed_with_a_range_request(hub, layouts, tmp_path, monkeypatch):
    import huggingface_hub.constants as constants

    # the client hands bytes over in chunks of DOWNLOAD_CHUNK_SIZE (10 MB) and resumes after the last whole chunk;
    # small chunks make these small files behave like big ones
    monkeypatch.setattr(constants, "DOWNLOAD_CHUNK_SIZE", 100)
    repo_id, files, _ = layouts["API-Bank"]
    big = "test-data/level-1-api.json"  # an LFS file, served by the CDN origin
    small = "lv1-lv2-samples/level-1-given-desc/GetToday-level-1-1.jsonl"  # a regular file, served by resolve
    assert len(files[big]) >= 10_000 > len(files[small])
    hub.drop.update({big: 1, small: 1})
    data = tmp_path / "data"
    result = cli("download", "API-Bank", "--data-dir", str(data))
    assert result.exit_code == 0, result.output + result.stderr
    raw = data / "downloaded" / "API-Bank"
    assert (raw / big).read_bytes() == files[big] and (raw / small).read_bytes() == files[small]
    assert hub.dropped == {big: 1, small: 1}
    # each resumed where the connection dropped (half of the bytes had arrived)
    resumed_at = {path: len(files[path]) // 2 // 100 * 100 for path in (big, small)}
    assert sorted(hub.ranges) == sorted((path, f"bytes={start}-") for path, start in resumed_at.items())


def test_connection_that_keeps_dropping_fails_in_one_line_and_keeps_the_old_copy(hub, layouts, tmp_path, monkeypatch):
    pin_known_hashes(monkeypatch, "Glaive", layouts["Glaive"][1])
    data = tmp_path / "data"
    assert cli("download", "Glaive", "--data-dir", str(data)).exit_code == 0
    raw = data / "downloaded" / "Glaive"
    before = {p.name: p.read_bytes() for p in raw.iterdir()}
    hub.drop["glaive-function-calling-v2.json"] = ALWAYS
    result = cli("download", "Glaive", "--revision", fake_commit("old", "Glaive"), "--data-dir", str(data))
    assert result.exit_code == 1
    lines = error_lines(result)
    assert len(lines) == 1 and "was interrupted" in lines[0] and "nothing was kept" in lines[0], lines
    assert {p.name: p.read_bytes() for p in raw.iterdir()} == before  # the previous download is intact
    assert leftovers(data) == []
    assert hub.dropped["glaive-function-calling-v2.json"] >= 2 * 5  # the client resumed, the product retried


def test_bytes_that_differ_from_the_hub_checksum_are_fetched_again(hub, layouts, tmp_path):
    _repo, files, _ = layouts["ToolACE"]
    hub.corrupt["data.json"] = 1  # same size, one byte changed: only the checksum can tell
    data = tmp_path / "data"
    result = cli("download", "ToolACE", "--data-dir", str(data))
    assert result.exit_code == 0, result.output + result.stderr
    assert (data / "downloaded" / "ToolACE" / "data.json").read_bytes() == files["data.json"]
    assert hub.downloads().count("/datasets/Team-ACE/ToolACE/resolve/" + commit_of("ToolACE") + "/data.json") == 2


def test_bytes_that_keep_changing_fail_in_one_line_and_nothing_is_kept(hub, layouts, tmp_path):
    data = tmp_path / "data"
    assert cli("download", "API-Bank", "--data-dir", str(data)).exit_code == 0
    raw = data / "downloaded" / "API-Bank"
    before = (raw / "provenance.json").read_bytes()
    hub.corrupt["test-data/level-2-api.json"] = ALWAYS
    result = cli("download", "API-Bank", "--data-dir", str(data))
    assert result.exit_code == 1
    lines = error_lines(result)
    assert len(lines) == 1 and "test-data/level-2-api.json do not match the hub's checksum" in lines[0], lines
    assert (raw / "provenance.json").read_bytes() == before and leftovers(data) == []
    # a local file changed after the download is caught by the next deal (process re-verifies the provenance)
    (raw / "test-data" / "level-3.json").write_bytes(b"[]")
    result = cli("deal", "API-Bank", "-q", "--data-dir", str(data))
    assert result.exit_code == 1 and len(error_lines(result)) == 1 and "does not match its checksum" in result.stderr


def test_unreachable_hub_is_one_clear_line(hub, tmp_path, monkeypatch):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    data = tmp_path / "data"
    for name in ("ToolACE", "API-Bank"):
        result = cli("deal", name, "--data-dir", str(data), "--token", TOKEN)
        assert result.exit_code == 1
        lines = error_lines(result)
        assert len(lines) == 1 and lines[0].startswith(f"error: cannot reach the hub (http://127.0.0.1:{port})"), lines
        assert TOKEN not in result.stderr and leftovers(data) == []
    assert hub.requests == []


def test_bfcl_from_hub(hub, layouts, tmp_path, bfcl_wheel):
    repo_id, files, _ = layouts["BFCL"]
    data = tmp_path / "data"
    result = cli("download", "BFCL", "--from", "hub", "--find-links", str(bfcl_wheel.parent), "--data-dir", str(data))
    assert result.exit_code == 0, result.output + result.stderr
    raw = data / "downloaded" / "BFCL"
    provenance = json.loads((raw / "provenance.json").read_text())
    assert (provenance["kind"], provenance["repo"], provenance["revision"], provenance["requested"]) == (
        "hub", repo_id, commit_of("BFCL"), "main")
    for path, data_bytes in files.items():
        assert provenance["files"][path]["sha256"] == sha256(data_bytes)
    assert provenance["files"][f"runtime/{bfcl_wheel.name}"]["sha256"] == sha256(bfcl_wheel.read_bytes())
    result = cli("process", "BFCL", "-q", "--data-dir", str(data))
    assert result.exit_code == 0, result.output + result.stderr
    local = write_layout(tmp_path / "layout", files)
    assert cli("process", "BFCL", "--from", str(local), "-q", "--data-dir", str(tmp_path / "from")).exit_code == 0
    mine = processed(data, "BFCL")
    assert mine == processed(tmp_path / "from", "BFCL") and set(mine) == {f"{c}.jsonl" for c in ("simple_java", "live_parallel", "live_relevance")} | {"rejects.jsonl"}


# ------------------------------------------------------------------------------------------ upload
def test_export_push_to_hub_sends_repo_files_and_message(hub, layouts, tmp_path):
    data = tmp_path / "data"
    local = write_layout(tmp_path / "layout", layouts["Glaive"][1])
    assert cli("process", "Glaive", "--from", str(local), "-q", "--data-dir", str(data)).exit_code == 0
    out = tmp_path / "export"
    result = cli("export", "Glaive", "--to", str(out), "--data-dir", str(data), "--push-to-hub", "me/glaive-unified",
                 env={"HF_TOKEN": WRITE_TOKEN})
    assert result.exit_code == 0, result.output + result.stderr
    assert len(hub.pushes) == 1
    push = hub.pushes[0]
    exported = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert (push["repo"], push["revision"], push["summary"]) == ("me/glaive-unified", "main", "Upload export (OpenToolLab export)")
    assert push["files"] == exported and "README.md" in exported and any(p.endswith(".parquet") for p in exported)
    assert push["commit"] in result.output
    calls = [(m, p.split("?")[0]) for m, p, auth in hub.requests if auth == f"Bearer {WRITE_TOKEN}"]
    assert ("POST", "/api/repos/create") in calls
    assert ("POST", "/api/datasets/me/glaive-unified/preupload/main") in calls
    assert ("POST", "/api/datasets/me/glaive-unified/commit/main") in calls
    # a second push of the same folder: the repo exists (409 is fine), unchanged files are not committed again
    again = cli("export", "Glaive", "--to", str(out), "--overwrite", "--data-dir", str(data),
                "--push-to-hub", "me/glaive-unified", "--token", WRITE_TOKEN)
    assert again.exit_code == 0, again.output + again.stderr
    assert len(hub.pushes) == 1 and hub.pushes[0]["commit"] in again.output  # nothing changed: no new commit
    # without write access: one line, no token
    denied = cli("export", "Glaive", "--to", str(tmp_path / "e2"), "--data-dir", str(data),
                 "--push-to-hub", "me/other", "--token", OTHER_TOKEN)
    assert denied.exit_code == 1
    lines = error_lines(denied)
    assert len(lines) == 1 and lines[0].startswith("error: upload to me/other failed:") and OTHER_TOKEN not in denied.stderr
