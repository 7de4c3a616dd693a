"""A small stand-in for the Hugging Face hub's HTTP API (dataset repos), on 127.0.0.1, for download/upload tests.

It implements what ``huggingface_hub`` (the real client, pointed here with ``HF_ENDPOINT``) calls:

- ``GET /api/datasets/{repo}[/revision/{rev}]``: repo info with the resolved commit ``sha`` and ``siblings``;
- ``GET /api/datasets/{repo}/tree/{rev}[/{path}]?recursive=``: the file listing (``oid`` = git blob sha1, ``lfs``
  with the sha256 for LFS files), paginated with a ``Link: <…>; rel="next"`` header (``page_size`` entries a page);
- ``POST /api/datasets/{repo}/paths-info/{rev}``: the same entries for the given paths;
- ``HEAD|GET /datasets/{repo}/resolve/{rev}/{path}``: regular files are served here with ``ETag`` (blob sha1),
  ``X-Repo-Commit`` and ``Content-Length``; LFS files answer ``302`` to a second origin (the "CDN", another port)
  with ``X-Linked-Etag`` (sha256), ``X-Linked-Size`` and ``X-Repo-Commit``, as the hub does; both honour ``Range``;
- gated repos: info and listing are public, files need ``Authorization: Bearer T`` with T granted: ``401`` without a
  token, ``403`` with one that has not accepted the terms (``X-Error-Code: GatedRepo``); unknown repos/revisions/files
  give ``404`` with ``RepoNotFound``/``RevisionNotFound``/``EntryNotFound``;
- uploads (``HfApi.create_repo`` + ``upload_folder``/``create_commit``): ``POST /api/repos/create``,
  ``POST /api/datasets/{repo}/preupload/{rev}`` (every file ``regular``: the commit carries the bytes, so no LFS/Xet
  storage is needed), ``POST /api/datasets/{repo}/commit/{rev}`` (NDJSON: header + base64 files) and
  ``POST /api/validate-yaml``; writes need a token in ``write_tokens``.

Faults, per repo file: ``hub.drop[path] = n`` sends half of the next n bodies of that file, then closes the
connection (n = ``ALWAYS``: every later attempt closes before any byte); ``hub.corrupt[path] = n`` serves the
next n bodies with one byte changed (same size, so only a checksum can tell).

Every request is logged in ``hub.requests`` as ``(method, path, authorization header or None)``.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator
from urllib.parse import parse_qs, quote, unquote, urlsplit

ALWAYS = 10**9
LFS_THRESHOLD = 10_000  # files at least this large are stored in LFS (the hub's rule is by size/extension)


def git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fake_commit(*parts: str) -> str:
    return hashlib.sha1("\0".join(parts).encode()).hexdigest()


@dataclass
class Repo:
    repo_id: str
    commits: dict[str, dict[str, bytes]] = field(default_factory=dict)  # sha → {path: bytes}
    refs: dict[str, str] = field(default_factory=dict)  # branch → sha
    gated: bool = False
    granted: set[str] = field(default_factory=set)  # tokens whose owner accepted the terms
    messages: dict[str, str] = field(default_factory=dict)  # sha → commit message

    def add_commit(self, files: dict[str, bytes], sha: str | None = None, *, branch: str | None = "main",
                   message: str = "") -> str:
        sha = sha or fake_commit(self.repo_id, str(len(self.commits)), *sorted(files))
        self.commits[sha] = dict(files)
        self.messages[sha] = message
        if branch:
            self.refs[branch] = sha
        return sha

    def resolve(self, revision: str) -> str | None:
        revision = unquote(revision)
        if revision in self.commits:
            return revision
        return self.refs.get(revision)


def entry(path: str, data: bytes) -> dict:
    item = {"type": "file", "oid": git_blob_sha1(data), "size": len(data), "path": path}
    if len(data) >= LFS_THRESHOLD:
        item["lfs"] = {"oid": sha256(data), "size": len(data), "pointerSize": 134}
    return item


def tree(files: dict[str, bytes], prefix: str = "", recursive: bool = False) -> list[dict]:
    """Entries below ``prefix`` (a folder), files and folders, in the hub's order (path order)."""
    prefix = prefix.strip("/")
    start = f"{prefix}/" if prefix else ""
    out: dict[str, dict] = {}
    for path, data in sorted(files.items()):
        if not path.startswith(start):
            continue
        rest = path[len(start):].split("/")
        for depth in range(1, len(rest)):
            folder = start + "/".join(rest[:depth])
            out.setdefault(folder, {"type": "directory", "oid": fake_commit("tree", folder), "size": 0, "path": folder})
            if not recursive:
                break
        if recursive or len(rest) == 1:
            out[path] = entry(path, data)
    return [out[key] for key in sorted(out)]


class Hub:
    """The state the server serves; tests change it between calls (repos, faults) and read ``requests``/``pushes``."""

    def __init__(self) -> None:
        self.repos: dict[str, Repo] = {}
        self.drop: dict[str, int] = {}
        self.corrupt: dict[str, int] = {}
        self.dropped: dict[str, int] = {}
        self.ranges: list[tuple[str, str]] = []  # (repo file path, Range header) of every ranged body request
        self.write_tokens: set[str] = set()
        self.page_size = 2
        self.requests: list[tuple[str, str, str | None]] = []
        self.pushes: list[dict] = []  # one per commit received: repo, revision, summary, files
        self.lock = threading.Lock()
        self.url = ""
        self.cdn_url = ""

    def add_repo(self, repo_id: str, **kwargs) -> Repo:
        repo = self.repos[repo_id] = Repo(repo_id, **kwargs)
        return repo

    def downloads(self) -> list[str]:
        """Paths whose bytes were requested (GET on resolve of a regular file, or on the CDN)."""
        return [path for method, path, _auth in self.requests if method == "GET" and ("/resolve/" in path or path.startswith("/lfs/"))]

    def _take(self, faults: dict[str, int], path: str) -> bool:
        with self.lock:
            left = faults.get(path, 0)
            if left <= 0:
                return False
            faults[path] = left - 1
            return True


def _handler(hub: Hub, cdn: bool):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        # ------------------------------------------------------------------ plumbing
        def _log(self) -> None:
            with hub.lock:
                hub.requests.append((self.command, self.path, self.headers.get("Authorization")))

        def _send(self, status: int, body: bytes = b"", headers: dict | None = None, *, head: bool = False) -> None:
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            if "Content-Length" not in (headers or {}):
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head and body:
                self.wfile.write(body)

        def _json(self, status: int, value, headers: dict | None = None) -> None:
            self._send(status, json.dumps(value).encode(), {"Content-Type": "application/json", **(headers or {})},
                       head=self.command == "HEAD")

        def _error(self, status: int, code: str, message: str) -> None:
            self._json(status, {"error": message}, {"X-Error-Code": code, "X-Error-Message": message})

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _token(self) -> str | None:
            auth = self.headers.get("Authorization") or ""
            return auth[len("Bearer "):] if auth.startswith("Bearer ") else None

        def _repo(self, repo_id: str) -> Repo | None:
            repo = hub.repos.get(repo_id)
            if repo is None:
                self._error(404, "RepoNotFound", f"Repository not found: {repo_id}")
            return repo

        def _commit(self, repo: Repo, revision: str) -> str | None:
            sha = repo.resolve(revision)
            if sha is None:
                self._error(404, "RevisionNotFound", f"Invalid rev id: {unquote(revision)}")
            return sha

        def _at(self, repo_id: str, revision: str) -> tuple[Repo, str] | None:
            """The repo and the commit ``revision`` names, or None once a 404 is sent."""
            repo = self._repo(repo_id)
            sha = repo and self._commit(repo, revision)
            return (repo, sha) if sha else None

        # ------------------------------------------------------------------ routes
        def do_HEAD(self):  # noqa: N802 - http.server's naming
            self._route()

        def do_GET(self):  # noqa: N802
            self._route()

        def do_POST(self):  # noqa: N802
            self._route()

        def _route(self) -> None:
            self._log()
            url = urlsplit(self.path)
            parts = [unquote(p) for p in url.path.split("/")]
            query = parse_qs(url.query)
            if cdn:
                return self._cdn(parts)
            if self.command == "POST":
                if url.path == "/api/repos/create":
                    return self._create_repo()
                if url.path == "/api/validate-yaml":
                    self._body()
                    return self._json(200, {"errors": [], "warnings": []})
                if len(parts) >= 7 and parts[1:3] == ["api", "datasets"] and parts[5] in ("preupload", "commit", "paths-info"):
                    repo_id, action, revision = f"{parts[3]}/{parts[4]}", parts[5], "/".join(parts[6:])
                    return {"preupload": self._preupload, "commit": self._commit_upload,
                            "paths-info": self._paths_info}[action](repo_id, revision)
                return self._error(404, "NotFound", f"no route {url.path}")
            if len(parts) >= 5 and parts[1:3] == ["api", "datasets"]:
                repo_id = f"{parts[3]}/{parts[4]}"
                if len(parts) == 5:
                    return self._info(repo_id, "main")
                if parts[5] == "revision" and len(parts) >= 7:
                    return self._info(repo_id, "/".join(parts[6:]))
                if parts[5] == "tree" and len(parts) >= 7:
                    return self._tree(repo_id, parts[6], "/".join(parts[7:]), query)
            if len(parts) >= 7 and parts[1] == "datasets" and parts[4] == "resolve":
                return self._resolve(f"{parts[2]}/{parts[3]}", parts[5], "/".join(parts[6:]))
            return self._error(404, "NotFound", f"no route {url.path}")

        def _info(self, repo_id: str, revision: str) -> None:
            found = self._at(repo_id, revision)
            if found:
                repo, sha = found
                self._json(200, {"_id": fake_commit("id", repo_id), "id": repo_id, "author": repo_id.split("/")[0],
                                 "sha": sha, "private": False, "gated": "manual" if repo.gated else False,
                                 "disabled": False, "lastModified": "2025-01-01T00:00:00.000Z", "tags": [],
                                 "downloads": 0, "likes": 0, "cardData": {},
                                 "siblings": [{"rfilename": p} for p in sorted(repo.commits[sha])]})

        def _tree(self, repo_id: str, revision: str, prefix: str, query: dict) -> None:
            found = self._at(repo_id, revision)
            if not found:
                return
            repo, sha = found
            recursive = (query.get("recursive") or ["false"])[0].lower() in ("true", "1")
            entries = tree(repo.commits[sha], prefix, recursive)
            if prefix and not entries:
                return self._error(404, "EntryNotFound", f"{prefix} does not exist on {revision}")
            cursor = int((query.get("cursor") or ["0"])[0])
            page = entries[cursor:cursor + hub.page_size]
            headers = {}
            if cursor + hub.page_size < len(entries):
                path = f"/api/datasets/{repo_id}/tree/{quote(revision, safe='')}" + (f"/{quote(prefix)}" if prefix else "")
                headers["Link"] = f'<{hub.url}{path}?recursive={str(recursive).lower()}&cursor={cursor + hub.page_size}>; rel="next"'
            self._json(200, page, headers)

        def _paths_info(self, repo_id: str, revision: str) -> None:
            body = self._body()
            found = self._at(repo_id, revision)
            if not found:
                return
            repo, sha = found
            form = parse_qs(body.decode()) if not body.startswith(b"{") else json.loads(body)
            paths = form.get("paths", [])
            files = repo.commits[sha]
            self._json(200, [entry(p, files[p]) for p in paths if p in files])

        def _resolve(self, repo_id: str, revision: str, path: str) -> None:
            repo = self._repo(repo_id)
            if repo is None:
                return
            if repo.gated and self._token() not in repo.granted:
                status = 401 if self._token() is None else 403
                return self._error(status, "GatedRepo", f"Access to dataset {repo_id} is restricted. You must have "
                                                        "access to it and be authenticated to access it. Please log in.")
            sha = self._commit(repo, revision)
            if not sha:
                return
            data = repo.commits[sha].get(path)
            if data is None:
                return self._error(404, "EntryNotFound", f"{path} does not exist on {revision}")
            common = {"X-Repo-Commit": sha, "Accept-Ranges": "bytes"}
            if len(data) >= LFS_THRESHOLD:
                digest = sha256(data)
                return self._send(302, b"", {**common, "Location": f"{hub.cdn_url}/lfs/{digest}?repo={quote(repo_id)}&path={quote(path)}",
                                             "ETag": f'"{digest}"', "X-Linked-Etag": f'"{digest}"',
                                             "X-Linked-Size": str(len(data))}, head=True)
            self._content(f"{repo_id}/{path}", path, data, {**common, "ETag": f'"{git_blob_sha1(data)}"'})

        def _cdn(self, parts: list[str]) -> None:
            query = parse_qs(urlsplit(self.path).query)
            repo = hub.repos.get((query.get("repo") or [""])[0])
            path = (query.get("path") or [""])[0]
            for files in (repo.commits.values() if repo else ()):
                data = files.get(path)
                if data is not None and len(parts) == 3 and parts[1] == "lfs" and sha256(data) == parts[2]:
                    return self._content(f"{repo.repo_id}/{path}", path, data, {"ETag": f'"{parts[2]}"', "Accept-Ranges": "bytes"})
            self._send(404, b"NoSuchKey")

        def _content(self, key: str, path: str, data: bytes, headers: dict) -> None:
            """The bytes of a file, honouring Range, with the configured faults (keyed by repo file path)."""
            total = len(data)
            if self.command == "GET" and hub._take(hub.corrupt, path):
                data = data[:-2] + bytes([data[-2] ^ 1]) + data[-1:]
            start, end, status = 0, total - 1, 200
            spec = self.headers.get("Range")
            if spec and self.command == "GET":
                with hub.lock:
                    hub.ranges.append((path, spec))
            if spec and spec.startswith("bytes="):
                first, _, last = spec[len("bytes="):].partition("-")
                start = int(first) if first else max(total - int(last), 0)
                end = int(last) if first and last else total - 1
                if start >= total:
                    return self._send(416, b"", {"Content-Range": f"bytes */{total}"})
                status = 206
                headers = {**headers, "Content-Range": f"bytes {start}-{end}/{total}"}
            body = data[start:end + 1]
            headers = {**headers, "Content-Length": str(len(body)), "Content-Type": "application/octet-stream"}
            if self.command == "HEAD":
                return self._send(status, b"", headers, head=True)
            if hub._take(hub.drop, path):
                with hub.lock:
                    hub.dropped[path] = hub.dropped.get(path, 0) + 1
                    first_drop = hub.dropped[path] == 1
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body[:len(body) // 2] if first_drop else b"")
                self.wfile.flush()
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(2)
                return
            self._send(status, body, headers)

        # ------------------------------------------------------------------ uploads
        def _writer(self) -> bool:
            if self._token() in hub.write_tokens:
                return True
            self._error(401, "Unauthorized", "Invalid credentials in Authorization header")
            return False

        def _create_repo(self) -> None:
            payload = json.loads(self._body() or b"{}")
            if not self._writer():
                return
            repo_id = f"{payload.get('organization')}/{payload['name']}"
            if payload.get("type") != "dataset":
                return self._error(400, "BadRequest", "this stand-in hub only hosts dataset repos")
            if repo_id in hub.repos:
                return self._json(409, {"error": "You already created this dataset repo", "url": f"{hub.url}/datasets/{repo_id}"})
            repo = hub.add_repo(repo_id)
            repo.add_commit({".gitattributes": b"*.parquet filter=lfs diff=lfs merge=lfs -text\n"}, message="initial commit")
            self._json(200, {"url": f"{hub.url}/datasets/{repo_id}", "name": repo_id})

        def _preupload(self, repo_id: str, revision: str) -> None:
            payload = json.loads(self._body())
            found = self._writer() and self._at(repo_id, revision)
            if not found:
                return
            repo, sha = found
            files = repo.commits[sha]
            self._json(200, {"commitOid": sha, "files": [
                {"path": f["path"], "uploadMode": "regular", "shouldIgnore": False,
                 "oid": git_blob_sha1(files[f["path"]]) if f["path"] in files else None} for f in payload["files"]]})

        def _commit_upload(self, repo_id: str, revision: str) -> None:
            lines = [json.loads(line) for line in self._body().splitlines() if line.strip()]
            found = self._writer() and self._at(repo_id, revision)
            if not found:
                return
            repo, sha = found
            header = next(item["value"] for item in lines if item["key"] == "header")
            files = dict(repo.commits[sha])
            added = {}
            for item in lines:
                if item["key"] == "file":
                    added[item["value"]["path"]] = base64.b64decode(item["value"]["content"])
                elif item["key"] == "deletedFile":
                    files.pop(item["value"]["path"], None)
                elif item["key"] != "header":
                    return self._error(400, "BadRequest", f"unsupported commit operation {item['key']}")
            files.update(added)
            new = repo.add_commit(files, branch=unquote(revision), message=header["summary"])
            with hub.lock:
                hub.pushes.append({"repo": repo_id, "revision": unquote(revision), "summary": header["summary"],
                                   "description": header.get("description", ""), "files": added, "commit": new})
            self._json(200, {"success": True, "commitOid": new, "commitUrl": f"{hub.url}/datasets/{repo_id}/commit/{new}",
                             "pullRequestUrl": None})

    return Handler


@contextlib.contextmanager
def serve(hub: Hub) -> Iterator[Hub]:
    """Run ``hub`` on 127.0.0.1 (API + a second origin as the LFS CDN); sets ``hub.url`` and ``hub.cdn_url``."""
    servers = [ThreadingHTTPServer(("127.0.0.1", 0), _handler(hub, cdn)) for cdn in (False, True)]
    for server in servers:
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
    hub.url, hub.cdn_url = (f"http://127.0.0.1:{s.server_address[1]}" for s in servers)
    try:
        yield hub
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


# ---------------------------------------------------------------------------------------------- corpora
GITATTRIBUTES = b"*.json filter=lfs diff=lfs merge=lfs -text\n*.jsonl filter=lfs diff=lfs merge=lfs -text\n"
# APIGen-MT: nothing of the corpus is public offline (see ../shared/samples/README.md); this one record is BUILT
# from the documented layout (conversations of human/gpt/function_call/observation, tools and calls as JSON strings).
APIGEN_MT_RECORD = {
    "conversations": [
        {"from": "human", "value": "Hi, my email is jose.garcia@example.com; where is order #W2378156?"},
        {"from": "function_call", "value": json.dumps({"name": "find_user_id_by_email",
                                                       "arguments": {"email": "jose.garcia@example.com"}})},
        {"from": "observation", "value": "jose_garcia_1234"},
        {"from": "function_call", "value": json.dumps({"name": "get_order_details", "arguments": {"order_id": "#W2378156"}})},
        {"from": "observation", "value": json.dumps({"order_id": "#W2378156", "status": "delivered"})},
        {"from": "gpt", "value": "Your order #W2378156 was delivered."},
    ],
    "tools": json.dumps([
        {"name": "find_user_id_by_email", "description": "Find user id by email.",
         "parameters": {"type": "object", "properties": {"email": {"type": "string"}}, "required": ["email"]}},
        {"name": "get_order_details", "description": "Get the status and details of an order.",
         "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]}},
    ]),
    "system": "# Retail agent policy\nAs a retail agent, you can help users cancel or modify pending orders.",
}
BFCL_CATEGORIES = ("simple_java", "live_parallel", "live_relevance")


def _card(repo_id: str, note: str = "") -> bytes:
    return f"---\nlicense: other\n---\n# {repo_id}\n\nStand-in card served by tests/hub_server.py. {note}\n".encode()


def corpus_repos(samples, bfcl_wheel) -> dict[str, tuple[str, dict[str, bytes], bool]]:
    """name → (hub repo id, {path: bytes} of its repo layout, gated) for each hub corpus, from the real files.

    Single-file corpora serve their ``../shared/samples`` file byte for byte under the hub's file name; Hermes
    splits the card's four records into the config files (as tests/test_hermes.py does) beside the real card;
    API-Bank serves the whole ``api_bank`` tree; BFCL serves three categories of the pinned wheel's data folder.
    """
    import zipfile
    from pathlib import Path

    samples = Path(samples)

    def one(path: str) -> bytes:
        return (samples / path).read_bytes()

    hermes = json.loads(one("hermes_function_calling_v1/hermes_records_from_dataset_card.json"))
    hermes_files = {name: json.dumps([hermes[i]], ensure_ascii=False, indent=2).encode()
                    for name, i in (("func-calling-singleturn.json", 1), ("func-calling.json", 0),
                                    ("json-mode-singleturn.json", 2), ("json-mode-agentic.json", 3))}
    api_bank = {p.relative_to(samples / "api_bank").as_posix(): p.read_bytes()
                for p in sorted((samples / "api_bank").rglob("*")) if p.is_file()}
    with zipfile.ZipFile(bfcl_wheel) as wheel:
        bfcl = {"README.md": wheel.read("bfcl_eval/data/README.md")}
        for category in BFCL_CATEGORIES:
            for folder in ("", "possible_answer/"):
                name = f"bfcl_eval/data/{folder}BFCL_v4_{category}.json"
                if name in wheel.namelist():
                    bfcl[f"{folder}BFCL_v4_{category}.json"] = wheel.read(name)
    repos = {
        "ToolACE": ("Team-ACE/ToolACE", {"data.json": one("toolace/toolace_record_quoted_in_doc.json")}, False),
        "xLAM": ("Salesforce/xlam-function-calling-60k",
                 {"xlam_function_calling_60k.json": one("xlam_function_calling_60k/xlam_records_quoted_in_docs.json")}, True),
        "APIGen-MT": ("Salesforce/APIGen-MT-5k",
                      {"apigen-mt_5k.json": json.dumps([APIGEN_MT_RECORD], indent=2).encode()}, True),
        "Hermes": ("NousResearch/hermes-function-calling-v1",
                   {**hermes_files, "README.md": one("hermes_function_calling_v1/README.md")}, False),
        "Glaive": ("glaiveai/glaive-function-calling-v2",
                   {"glaive-function-calling-v2.json": one("glaive_function_calling_v2/glaive_rows_quoted_in_public_code.json")}, False),
        "API-Bank": ("liminghao1630/API-Bank", api_bank, False),
        "BFCL": ("gorilla-llm/Berkeley-Function-Calling-Leaderboard", bfcl, False),
    }
    for name, (repo_id, files, _gated) in repos.items():
        files.setdefault("README.md", _card(repo_id))
        files[".gitattributes"] = GITATTRIBUTES
    return repos
