"""Fetching corpora whose files sit in a GitHub repository: raw files at a pinned commit, or ``--from PATH``.

``GitHubFetch`` is mixed into an adapter that sets ``github_repo``, ``github_commit`` and
``github_paths``; ``github_optional`` lists paths the pinned commit may lack (skipped on 404) and
``github_sha256`` the known checksums at the pinned commit (checked). The git commit fixes the
content; ``provenance.json`` records every file's sha256 and size, which ``process`` re-verifies.
"""

from __future__ import annotations

import http.client
import shutil
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, ClassVar

from ..fetch import check_sha256, copy_local, read_provenance, write_provenance
from .base import FetchError

RAW_BASE = "https://raw.githubusercontent.com"  # where raw files at a commit are served (tests point it at 127.0.0.1)


def github_download(repo: str, commit: str, paths: tuple[str, ...], dest: Path, *, optional: tuple[str, ...] = (),
                    sha256: dict[str, str] | None = None) -> list[str]:
    """Download ``paths`` of ``repo`` at ``commit`` (raw.githubusercontent.com) into ``dest``; the paths fetched.

    A file in ``optional`` that the commit does not hold is skipped; a checksum in ``sha256`` must match;
    any other failure is a FetchError, and the partial file is removed.
    """
    fetched = []
    for path in paths:
        url = f"{RAW_BASE}/{repo}/{commit}/{path}"
        target = dest / path
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            with urllib.request.urlopen(url, timeout=60) as response, open(target, "wb") as out:
                shutil.copyfileobj(response, out, 1 << 20)
                size = response.headers.get("Content-Length", "")
                if size.isdigit() and out.tell() != int(size):  # urllib returns a cut body as if it were whole
                    raise OSError(f"connection closed after {out.tell():,} of {int(size):,} bytes")
        except urllib.error.HTTPError as exc:
            target.unlink(missing_ok=True)
            if exc.code == 404 and path in optional:
                continue
            raise FetchError(f"download of {url} failed: HTTP {exc.code}") from None
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            target.unlink(missing_ok=True)
            raise FetchError(f"download of {url} failed: {exc}") from None
        if sha256 and path in sha256:
            check_sha256(target, sha256[path], f"{repo}/{path}@{commit}")
        fetched.append(path)
    return fetched


class GitHubFetch:
    """``fetch`` and ``version_of`` for adapters of GitHub-hosted corpora (mix in before the Source base)."""

    github_repo: ClassVar[str] = ""
    github_commit: ClassVar[str] = ""
    github_paths: ClassVar[tuple[str, ...]] = ()
    github_optional: ClassVar[tuple[str, ...]] = ()  # paths the pinned commit may lack
    github_sha256: ClassVar[dict[str, str]] = {}  # path → sha256 at the pinned commit, where known

    def fetch(self, dest: Path, *, origin: str | None = None, revision: str | None = None,
              token: str | None = None, **_ignored: Any) -> dict[str, Any]:
        if origin in (None, "github"):
            commit = revision or self.github_commit
            pinned = self.github_sha256 if commit == self.github_commit else None
            fetched = github_download(self.github_repo, commit, self.github_paths, dest,
                                      optional=self.github_optional, sha256=pinned)
            return write_provenance(dest, kind="github", repo=self.github_repo, revision=commit, files_expected=fetched)
        path = Path(origin)
        copy_local(path, dest)
        return write_provenance(dest, kind="local", path=str(path.resolve()))

    def version_of(self, raw: Path) -> str | None:
        provenance = read_provenance(raw) if raw.is_dir() else None
        if provenance and provenance.get("kind") == "github":
            return f"github.com/{provenance.get('repo')}@{provenance.get('revision')}"
        return None
