"""Optional second verification layer: an LLM judge behind any OpenAI-compatible server.

The judge reads a sample's dialogue, calls and results and answers in JSON whether a call uses a
parameter value found nowhere in the dialogue or earlier results (hallucinated), and whether the
assistant's text agrees with the tool results. Requests go through the shared LLM client
(``opentoollab.llm.client``: retries with backoff on connection errors, 429 and 5xx; the API key
never leaves the client). Its findings become problems with the rule codes
``judge_hallucinated_value`` and ``judge_inconsistent_response``. Answers are cached in SQLite by
(model, prompt) so reruns do not pay twice; a failed request is reported, never cached.
Off by default (``python tag run --judge-url … --judge-model …``).
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import threading
from pathlib import Path
from typing import Any

from ..format.sample import CALL_ROLES, Sample, assign_call_ids, first_candidates
from ..llm.client import Client, ClientError

PROMPT_VERSION = "1"
SYSTEM = (
    "You check tool-use training data. Given a dialogue with tool calls (each with an id) and tool results, "
    "answer ONLY with a JSON object: {\"hallucinated\": [{\"call\": ID, \"parameter\": NAME, \"reason\": TEXT}], "
    "\"consistent\": true|false, \"reason\": TEXT}. A parameter value is hallucinated when neither the user, the "
    "system prompt nor an earlier tool result supports it (defaults and obvious derivations are fine). "
    "\"consistent\" is false when an assistant message contradicts the tool results."
)


def transcript(sample: Sample) -> str | None:
    """The dialogue as plain text for the judge; None when the sample has no call to judge."""
    ids = assign_call_ids(sample)
    lines, calls = [], 0
    for index, message in enumerate(sample):
        role, content = message["role"], message["content"]
        if role in ("system", "user", "assistant"):
            lines.append(f"[{role}] {content}")
        elif role in CALL_ROLES:
            for cid, call in zip(ids[index] or [], content):
                parameters = first_candidates(call["parameters"]) if role == "tool_call_ground_truth" else call["parameters"]
                lines.append(f"[call {cid}] {call['name']}({json.dumps(parameters, ensure_ascii=False)})")
                calls += 1
        elif role == "tool_response":
            for cid, result in content.items():
                lines.append(f"[result {cid}] {json.dumps(result, ensure_ascii=False)[:2000]}")
    return "\n".join(lines) if calls else None


def parse_verdict(text: str) -> dict[str, Any] | None:
    """The first JSON object in the model's answer (models wrap JSON in prose or code fences)."""
    match = re.search(r"\{.*\}", text, re.S)
    if not match:
        return None
    try:
        value = json.loads(match.group(0))
    except (ValueError, RecursionError):  # not JSON, nested too deep, an integer past the digit limit
        return None
    return value if isinstance(value, dict) else None


def verdict_problems(sample: Sample, verdict: dict[str, Any]) -> list[dict[str, str]]:
    """Problems (rule, JSON path, message) from a parsed verdict."""
    where: dict[str, str] = {}
    for index, ids in enumerate(assign_call_ids(sample)):
        for position, cid in enumerate(ids or []):
            where[cid] = f"$[{index}].content[{position}].parameters"
    problems = []
    for item in verdict.get("hallucinated") or []:
        if isinstance(item, dict) and item.get("call") in where:
            path = where[item["call"]] + (f".{item['parameter']}" if item.get("parameter") else "")
            problems.append({"rule": "judge_hallucinated_value", "path": path, "message": str(item.get("reason", ""))})
    if verdict.get("consistent") is False:
        problems.append({"rule": "judge_inconsistent_response", "path": "$", "message": str(verdict.get("reason", ""))})
    return problems


class Judge:
    """Callable sample → verdict dict (``problems``, ``cached``, or ``skipped``/``error``)."""

    def __init__(self, base_url: str, model: str, *, api_key: str | None = None,
                 cache_path: str | Path | None = None, timeout: float = 120.0, retries: int = 2) -> None:
        self.client = Client(base_url, model, api_key, timeout=timeout, retries=retries, temperature=0)
        self.url = self.client.info()["base_urls"][0] + "/chat/completions"
        self.model, self.timeout = model, timeout
        self.stats = {"requests": 0, "cached": 0, "errors": 0, "skipped": 0}
        self._lock = threading.Lock()
        self._db = None
        if cache_path is not None:
            Path(cache_path).parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(cache_path), check_same_thread=False)
            self._db.execute("CREATE TABLE IF NOT EXISTS answers (key TEXT PRIMARY KEY, answer TEXT NOT NULL)")
            self._db.commit()

    def info(self) -> dict[str, Any]:
        return {"url": self.url, "model": self.model, "prompt_version": PROMPT_VERSION}

    def __call__(self, sample: Sample) -> dict[str, Any]:
        text = transcript(sample)
        if text is None:
            self.stats["skipped"] += 1
            return {"skipped": "no call to judge", "problems": []}
        key = hashlib.sha256(json.dumps([self.model, PROMPT_VERSION, SYSTEM, text]).encode("utf-8")).hexdigest()
        answer, cached = self._cached(key), True
        if answer is None:
            cached = False
            try:
                answer = self._ask(text)
            except (ClientError, OSError, ValueError) as exc:
                self.stats["errors"] += 1
                return {"error": f"{type(exc).__name__}: {exc}", "problems": []}
            self._store(key, answer)
        else:
            self.stats["cached"] += 1
        verdict = parse_verdict(answer)
        if verdict is None:
            self.stats["errors"] += 1
            return {"error": "the judge's answer holds no JSON object", "answer": answer[:500], "problems": [], "cached": cached}
        return {"verdict": verdict, "problems": verdict_problems(sample, verdict), "cached": cached}

    def _ask(self, text: str) -> str:
        self.stats["requests"] += 1
        reply = self.client.chat([{"role": "system", "content": SYSTEM}, {"role": "user", "content": text}])
        return reply.content

    def _cached(self, key: str) -> str | None:
        if self._db is None:
            return None
        with self._lock:
            row = self._db.execute("SELECT answer FROM answers WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _store(self, key: str, answer: str) -> None:
        if self._db is None:
            return
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO answers (key, answer) VALUES (?, ?)", (key, answer))
            self._db.commit()

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
