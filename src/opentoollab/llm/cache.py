"""The content-addressed step cache: what a model already answered is never asked again.

A key is the sha256 of canonical JSON of everything that determines an answer — for a pipeline
step: its name and version, its prompt templates' text, its parameters, the model, the seed and the
exact input record (``content_key``) — never a position in a file. Three tables in one SQLite file
(WAL journal, one connection guarded by a lock, every write its own transaction):

- ``outputs``: key → the step's output records for that input (JSON).
- ``failures``: key → the last failure (kind, message, excerpt) and how many attempts failed. A later
  success deletes it; a run retries failed keys unless told to skip them.
- ``answers``: raw model replies of multi-request steps (agent dialogues), keyed per request and
  grouped by the record's key, so a run killed mid-dialogue resumes without asking again.

Nothing here sees credentials: callers hash only step content, and the client keeps the key.
May import: the standard library and ``opentoollab.format``.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from ..format.sample import canonical_json

SCHEMA_VERSION = "1"
EXCERPT = 2000

_TABLES = (
    "CREATE TABLE IF NOT EXISTS info (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS outputs (key TEXT PRIMARY KEY, step TEXT NOT NULL, outputs TEXT NOT NULL, "
    "created REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS failures (key TEXT PRIMARY KEY, step TEXT NOT NULL, kind TEXT NOT NULL, "
    "message TEXT NOT NULL, raw TEXT, attempts INTEGER NOT NULL, created REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS answers (key TEXT PRIMARY KEY, record_key TEXT NOT NULL, step TEXT NOT NULL, "
    "reply TEXT NOT NULL, created REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS answers_by_record ON answers (record_key)",
)


def content_key(*parts: Any) -> str:
    """sha256 (hex) of the canonical JSON of ``parts``."""
    return hashlib.sha256(canonical_json(list(parts)).encode("utf-8")).hexdigest()


def digest(keys: list[str]) -> str:
    """One short digest of many keys (provenance of a sample made from several records)."""
    return hashlib.sha256("\n".join(keys).encode("ascii")).hexdigest()


class StepCache:
    """SQLite-backed store of step outputs, failures and raw answers. Thread-safe."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, timeout=30.0)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        with self._lock, self._db:
            for statement in _TABLES:
                self._db.execute(statement)
            self._db.execute("INSERT OR IGNORE INTO info (name, value) VALUES ('schema', ?)", (SCHEMA_VERSION,))
        found = self._one("SELECT value FROM info WHERE name = 'schema'")
        if found != SCHEMA_VERSION:
            raise RuntimeError(f"{self.path}: cache schema {found}, this version reads {SCHEMA_VERSION}")

    # ------------------------------------------------------------------ outputs
    def get_outputs(self, key: str) -> list[dict[str, Any]] | None:
        text = self._one("SELECT outputs FROM outputs WHERE key = ?", key)
        return None if text is None else json.loads(text)

    def put_outputs(self, key: str, step: str, outputs: list[dict[str, Any]]) -> None:
        """Store a success (atomically replacing any recorded failure of the same key)."""
        text = json.dumps(outputs, ensure_ascii=False, separators=(",", ":"))
        with self._lock, self._db:
            self._db.execute("INSERT OR REPLACE INTO outputs (key, step, outputs, created) VALUES (?, ?, ?, ?)",
                             (key, step, text, time.time()))
            self._db.execute("DELETE FROM failures WHERE key = ?", (key,))

    # ------------------------------------------------------------------ failures
    def get_failure(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT step, kind, message, raw, attempts FROM failures WHERE key = ?",
                                   (key,)).fetchone()
        if row is None:
            return None
        return {"step": row[0], "kind": row[1], "message": row[2], "raw": row[3], "attempts": row[4]}

    def put_failure(self, key: str, step: str, kind: str, message: str, raw: str | None = None) -> int:
        """Record a failure; returns how many attempts of this key have failed so far."""
        with self._lock, self._db:
            row = self._db.execute("SELECT attempts FROM failures WHERE key = ?", (key,)).fetchone()
            attempts = (row[0] if row else 0) + 1
            self._db.execute("INSERT OR REPLACE INTO failures (key, step, kind, message, raw, attempts, created) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (key, step, kind, message[:EXCERPT], (raw or "")[:EXCERPT], attempts, time.time()))
        return attempts

    # ------------------------------------------------------------------ raw answers
    def get_answer(self, key: str) -> dict[str, Any] | None:
        text = self._one("SELECT reply FROM answers WHERE key = ?", key)
        return None if text is None else json.loads(text)

    def put_answer(self, key: str, record_key: str, step: str, reply: dict[str, Any]) -> None:
        text = json.dumps(reply, ensure_ascii=False, separators=(",", ":"))
        with self._lock, self._db:
            self._db.execute("INSERT OR REPLACE INTO answers (key, record_key, step, reply, created) "
                             "VALUES (?, ?, ?, ?, ?)", (key, record_key, step, text, time.time()))

    def drop_answers(self, record_key: str) -> int:
        """Forget a record's raw answers (after a rejection, so a retry asks afresh)."""
        with self._lock, self._db:
            return self._db.execute("DELETE FROM answers WHERE record_key = ?", (record_key,)).rowcount

    # ------------------------------------------------------------------ misc
    def counts(self) -> dict[str, int]:
        with self._lock:
            return {table: self._db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                    for table in ("outputs", "failures", "answers")}

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None  # type: ignore[assignment]

    def __enter__(self) -> "StepCache":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _one(self, sql: str, *args: Any) -> Any:
        with self._lock:
            row = self._db.execute(sql, args).fetchone()
        return row[0] if row else None
