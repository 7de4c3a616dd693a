"""One OpenAI-compatible chat client for every model-driven step (vLLM, SGLang, llama.cpp, hosted APIs).

- Several base URLs are load-balanced: each request goes to the least busy endpoint, ties broken
  round robin, so a retry after a connection error usually lands on another server.
- At most ``max_concurrency`` requests are in flight through one client, whatever the number of
  calling threads (a semaphore around each HTTP request).
- Connection errors, timeouts, 408/409/429/5xx and malformed bodies are retried with exponential
  backoff (``Retry-After`` honoured, capped); ``sleep`` is injectable for tests. Other 4xx fail at once.
- JSON answers are requested with ``response_format`` (``json_schema`` when a schema is given,
  else ``json_object``); a server that rejects the option with 400 is asked again without it, and
  the client remembers, so later requests do not pay for the rejection again.
- ``usage`` of every answer is summed (prompt/completion tokens, requests, retries, failures, cost
  from per-1M-token prices); ``stats()`` is the dict that goes into manifests.

The API key comes from the argument or ``OPENAI_API_KEY``; it is sent as a bearer token and
appears nowhere else: not in ``repr``, ``info()``, ``stats()``, error messages or cache keys.
May import: the standard library and ``opentoollab.llm.jsonparse``.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Callable

from .jsonparse import ParseError, looks_like_refusal, parse_json

RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
MAX_BACKOFF = 60.0
MAX_BODY_EXCERPT = 300
MAX_RESPONSE_BYTES = 32 * 1024 * 1024  # a reply body larger than this is refused (read in chunks, never whole)
READ_CHUNK = 1 << 16
FORMATS = ("json_schema", "json_object")  # strongest first; a rejected one is skipped from then on


class ClientError(Exception):
    """A request that failed for good. ``kind``: timeout, connection, http, malformed, too_large."""

    def __init__(self, message: str, kind: str = "http", status: int | None = None) -> None:
        super().__init__(message)
        self.kind, self.status = kind, status


class Refusal(Exception):
    """The model declined to answer (``refusal`` field, content filter, or an apology instead of JSON)."""

    def __init__(self, message: str, text: str = "") -> None:
        super().__init__(message)
        self.text = text


@dataclass
class Reply:
    """The first choice of one chat completion."""

    content: str
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    finish_reason: str | None = None
    refusal: str | None = None
    usage: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"content": self.content, "tool_calls": self.tool_calls, "finish_reason": self.finish_reason,
                "refusal": self.refusal, "usage": self.usage}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> "Reply":
        return cls(value.get("content") or "", list(value.get("tool_calls") or []), value.get("finish_reason"),
                   value.get("refusal"), dict(value.get("usage") or {}))


def public_url(url: str) -> str:
    """A base URL without user:password@ or a query string (safe for manifests and logs)."""
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return "<unparseable URL>"
    if parts.query or parts.fragment:
        parts = parts._replace(query="", fragment="")
    if parts.username or parts.password:
        netloc = parts.hostname or ""
        if parts.port:
            netloc += f":{parts.port}"
        parts = parts._replace(netloc=netloc)
    return urllib.parse.urlunsplit(parts)


def normalize_base(url: str) -> str:
    base = url.rstrip("/")
    return base if base.endswith("/v1") else base + "/v1"


class Endpoints:
    """Least-busy choice among base URLs, round robin on ties; per-endpoint counters."""

    def __init__(self, urls: list[str]) -> None:
        if not urls:
            raise ValueError("at least one base URL is needed")
        for url in urls:
            scheme = urllib.parse.urlsplit(url).scheme.lower() if isinstance(url, str) else ""
            if scheme not in ("http", "https") or public_url(url) == "<unparseable URL>":
                raise ValueError(f"base URL {public_url(str(url))!r}: an http:// or https:// URL, "
                                 "e.g. http://127.0.0.1:8000/v1")
        self.urls = [normalize_base(u) for u in urls]
        self.busy = [0] * len(self.urls)
        self.requests = [0] * len(self.urls)
        self.failures = [0] * len(self.urls)
        self._turn = 0
        self._lock = threading.Lock()

    def acquire(self) -> int:
        with self._lock:
            n = len(self.urls)
            index = min(range(n), key=lambda i: (self.busy[i], (i - self._turn) % n))
            self._turn = (index + 1) % n
            self.busy[index] += 1
            self.requests[index] += 1
            return index

    def release(self, index: int, failed: bool) -> None:
        with self._lock:
            self.busy[index] -= 1
            self.failures[index] += int(failed)

    def stats(self) -> list[dict[str, Any]]:
        with self._lock:
            return [{"url": public_url(u), "requests": r, "failures": f}
                    for u, r, f in zip(self.urls, self.requests, self.failures)]


class Usage:
    """Thread-safe counters of requests, tokens and cost."""

    KEYS = ("requests", "http_requests", "retries", "failures", "prompt_tokens", "completion_tokens",
            "response_format_fallbacks")

    def __init__(self, prices: tuple[float, float] | None = None) -> None:
        self.prices = prices
        self._counts = dict.fromkeys(self.KEYS, 0)
        self._lock = threading.Lock()

    def add(self, **counts: int) -> None:
        with self._lock:
            for key, value in counts.items():
                self._counts[key] += int(value or 0)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            out: dict[str, Any] = dict(self._counts)
        out["total_tokens"] = out["prompt_tokens"] + out["completion_tokens"]
        out["cost"] = cost(out["prompt_tokens"], out["completion_tokens"], self.prices)
        return out


def cost(prompt_tokens: int, completion_tokens: int, prices: tuple[float, float] | None) -> dict[str, Any] | None:
    """Cost from per-1M-token prices ``(input, output)``; None without prices."""
    if not prices:
        return None
    amount = prompt_tokens / 1e6 * prices[0] + completion_tokens / 1e6 * prices[1]
    return {"amount": round(amount, 6), "per_1m_input": prices[0], "per_1m_output": prices[1]}


def response_format(kind: str, schema: dict[str, Any] | None, name: str = "answer") -> dict[str, Any]:
    if kind == "json_schema" and schema is not None:
        return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": False}}
    return {"type": "json_object"}


class Client:
    """An OpenAI-compatible chat client: see the module docstring. Thread-safe."""

    def __init__(self, base_urls: list[str] | str, model: str, api_key: str | None = None, *,
                 max_concurrency: int = 8, timeout: float = 120.0, retries: int = 4, backoff: float = 1.0,
                 prices: tuple[float, float] | None = None, temperature: float | None = None,
                 max_tokens: int | None = None, structured: bool = True, extra_body: dict[str, Any] | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.endpoints = Endpoints([base_urls] if isinstance(base_urls, str) else list(base_urls))
        self.model = model
        self._api_key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY") or None
        self.max_concurrency = max(1, int(max_concurrency))
        self.timeout, self.retries, self.backoff, self.sleep = float(timeout), max(0, int(retries)), backoff, sleep
        self.temperature, self.max_tokens, self.extra_body = temperature, max_tokens, dict(extra_body or {})
        self.usage = Usage(tuple(prices) if prices else None)  # type: ignore[arg-type]
        self._slots = threading.BoundedSemaphore(self.max_concurrency)
        self._rejected_formats: set[str] = set() if structured else set(FORMATS)
        self._lock = threading.Lock()

    @classmethod
    def from_options(cls, base_urls: list[str] | str, model: str, api_key: str | None = None, max_concurrency: int = 8,
                     timeout: float = 120.0, retries: int = 4, prices: tuple[float, float] | None = None,
                     **options: Any) -> "Client":
        """What the command line builds from ``--base-url`` (repeatable or comma-separated), ``--model``,
        ``--api-key`` (None: env ``OPENAI_API_KEY``), ``--max-concurrency``, ``--timeout``, ``--retries`` and
        ``--prices IN OUT`` (per 1M tokens); ``options`` go to the constructor (temperature, max_tokens, extra_body…)."""
        raw = [base_urls] if isinstance(base_urls, str) else list(base_urls)
        urls = [u.strip() for item in raw for u in item.split(",") if u.strip()]
        return cls(urls, model, api_key, max_concurrency=max_concurrency, timeout=timeout, retries=retries,
                   prices=prices, **options)

    def __repr__(self) -> str:
        return f"Client(model={self.model!r}, endpoints={[public_url(u) for u in self.endpoints.urls]!r})"

    # ------------------------------------------------------------------ public API
    def info(self) -> dict[str, Any]:
        """What identifies the run's model access in a manifest (never the key)."""
        return {"model": self.model, "base_urls": [public_url(u) for u in self.endpoints.urls],
                "max_concurrency": self.max_concurrency, "timeout": self.timeout, "retries": self.retries}

    def stats(self) -> dict[str, Any]:
        """Requests, retries, failures, tokens, cost and per-endpoint counters."""
        out = self.usage.snapshot()
        out["endpoints"] = self.endpoints.stats()
        out["structured_output"] = [f for f in FORMATS if f not in self._rejected_formats]
        return out

    def chat(self, messages: list[dict[str, Any]], *, tools: list[dict[str, Any]] | None = None,
             schema: dict[str, Any] | None = None, json_mode: bool = False, temperature: float | None = None,
             max_tokens: int | None = None, seed: int | None = None) -> Reply:
        """One chat completion. ``json_mode``/``schema``: ask for JSON with ``response_format``."""
        body: dict[str, Any] = {"model": self.model, "messages": messages, **self.extra_body}
        temperature = self.temperature if temperature is None else temperature
        if temperature is not None:
            body["temperature"] = temperature
        if max_tokens or self.max_tokens:
            body["max_tokens"] = max_tokens or self.max_tokens
        if seed is not None:
            body["seed"] = seed
        if tools:
            body["tools"] = tools
        formats = [f for f in FORMATS if f not in self._rejected_formats] if (json_mode or schema is not None) else []
        if schema is None:
            formats = [f for f in formats if f != "json_schema"]
        self.usage.add(requests=1)
        try:
            return self._with_formats(body, formats, schema)
        except ClientError:
            self.usage.add(failures=1)
            raise

    def chat_json(self, messages: list[dict[str, Any]], *, schema: dict[str, Any] | None = None,
                  expect: str | None = "object", **options: Any) -> tuple[Any, Reply]:
        """A JSON answer (parsed tolerantly) and its reply; ParseError or Refusal when there is none."""
        reply = self.chat(messages, schema=schema, json_mode=True, **options)
        return parse_reply(reply, expect), reply

    # ------------------------------------------------------------------ internals
    def _with_formats(self, body: dict[str, Any], formats: list[str], schema: dict[str, Any] | None) -> Reply:
        """Strongest accepted response_format first; after 400s, the next one, finally none.

        A format is remembered as rejected only when a weaker request then succeeds: a 400 that
        persists without any response_format is about the request itself and is raised as is.
        """
        rejected: list[str] = []
        for kind in formats:
            try:
                reply = self._post({**body, "response_format": response_format(kind, schema)})
            except ClientError as error:
                if error.status != 400:
                    raise
                self.usage.add(response_format_fallbacks=1)
                rejected.append(kind)
                continue
            self._remember_rejected(rejected)
            return reply
        reply = self._post(body)
        self._remember_rejected(rejected)
        return reply

    def _remember_rejected(self, kinds: list[str]) -> None:
        if kinds:
            with self._lock:
                self._rejected_formats.update(kinds)

    def _post(self, body: dict[str, Any]) -> Reply:
        """POST with retries; backoff sleeps hold no concurrency slot."""
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        kind, last = "connection", ""
        for attempt in range(self.retries + 1):
            if attempt:
                self.usage.add(retries=1)
            outcome = self._attempt(data)
            if isinstance(outcome, Reply):
                return outcome
            kind, last, wait = outcome
            if attempt < self.retries:
                self.sleep(min(MAX_BACKOFF, wait if wait is not None else self.backoff * 2 ** attempt))
        raise ClientError(f"gave up after {self.retries + 1} attempts: {last}", kind)

    def _attempt(self, data: bytes) -> "Reply | tuple[str, str, float | None]":
        """One HTTP request in a concurrency slot, on the least busy endpoint: the reply, or
        (kind, message, Retry-After) of a failure worth retrying; ClientError for one that is not."""
        with self._slots:
            index = self.endpoints.acquire()
            failed = True
            try:
                self.usage.add(http_requests=1)
                reply = reply_of(self._send(self.endpoints.urls[index] + "/chat/completions", data))
                failed = False
            except urllib.error.HTTPError as error:
                text = self._scrub(_excerpt(error))
                if 300 <= error.code < 400:
                    location = error.headers.get("Location", "?") if error.headers else "?"
                    raise ClientError(f"HTTP {error.code}: the server redirects to {public_url(str(location))[:200]}; "
                                      "redirects are not followed: give the final URL as --base-url",
                                      "http", error.code) from None
                if error.code not in RETRY_STATUS:
                    raise ClientError(f"HTTP {error.code}: {text}", "http", error.code) from None
                return "http", f"HTTP {error.code}: {text}", retry_after(error.headers.get("Retry-After")
                                                                         if error.headers else None)
            except ResponseTooLarge as error:
                raise ClientError(str(error), "too_large") from None
            except Redirected as error:
                raise ClientError(str(error), "http") from None
            except (TimeoutError, socket.timeout) as error:
                return "timeout", f"timeout after {self.timeout:g} s ({self._scrub(str(error))})", None
            except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
                reason = getattr(error, "reason", error)
                kind = "timeout" if isinstance(reason, (TimeoutError, socket.timeout)) else "connection"
                return kind, self._scrub(f"{type(error).__name__}: {reason}")[:500], None
            except (ValueError, KeyError, IndexError, TypeError, OverflowError, RecursionError) as error:
                return "malformed", self._scrub(f"malformed response: {type(error).__name__}: {error}")[:500], None
            finally:
                self.endpoints.release(index, failed)
        self.usage.add(prompt_tokens=reply.usage.get("prompt_tokens", 0),
                       completion_tokens=reply.usage.get("completion_tokens", 0))
        return reply

    def _scrub(self, text: str) -> str:
        """A message without the API key (a server may echo the Authorization header back)."""
        if self._api_key and len(self._api_key) >= 4:
            text = text.replace(self._api_key, "***")
        return text

    def _send(self, url: str, data: bytes) -> Any:
        request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"}, method="POST")
        if self._api_key:  # an unredirected header: urllib never sends it on to where a redirect points
            request.add_unredirected_header("Authorization", f"Bearer {self._api_key}")
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            final = getattr(response, "geturl", lambda: url)()
            if final != url:
                raise Redirected(f"the server redirected to {public_url(str(final))[:200]}; redirects are not "
                                 "followed: give the final URL as --base-url")
            body = read_bounded(response, MAX_RESPONSE_BYTES, self.timeout)
        return json.loads(body.decode("utf-8"))


class ResponseTooLarge(Exception):
    """A reply body over MAX_RESPONSE_BYTES (not retried: the same server would send it again)."""


class Redirected(Exception):
    """The server answered with a redirect (not retried; the key never went along)."""


def read_bounded(response: Any, limit: int, timeout: float) -> bytes:
    """The body, read in chunks: ResponseTooLarge past ``limit`` bytes, TimeoutError when the whole read takes
    longer than ``timeout`` (the socket timeout alone bounds one read, so a slow drip could go on forever)."""
    length = response.headers.get("Content-Length") if getattr(response, "headers", None) else None
    if length and length.strip().isdigit() and int(length) > limit:
        raise ResponseTooLarge(f"response body of {int(length):,} bytes (limit {limit:,}); not read")
    deadline = time.monotonic() + timeout
    chunks, size = [], 0
    read = getattr(response, "read1", None)
    if read is None:  # not an http.client response (a stand-in): one read, then the same size check
        body = response.read()
        if len(body) > limit:
            raise ResponseTooLarge(f"response body over {limit:,} bytes")
        return body
    while True:
        chunk = read(READ_CHUNK)
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            raise ResponseTooLarge(f"response body over {limit:,} bytes; the rest was not read")
        chunks.append(chunk)
        if time.monotonic() > deadline:
            raise TimeoutError(f"the response took longer than {timeout:g} s to arrive")
    return b"".join(chunks)


def _excerpt(error: urllib.error.HTTPError) -> str:
    try:
        return error.read(MAX_BODY_EXCERPT)[:MAX_BODY_EXCERPT].decode("utf-8", "replace")
    except Exception:  # noqa: BLE001 - the error body is only shown, never needed
        return ""


def retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (numeric form only), capped at MAX_BACKOFF."""
    try:
        return min(MAX_BACKOFF, max(0.0, float(value))) if value else None
    except ValueError:
        return None


def reply_of(payload: Any) -> Reply:
    """The first choice of a chat completion payload (ValueError/KeyError when malformed)."""
    if not isinstance(payload, dict):
        raise ValueError("the body is not a JSON object")
    choice = payload["choices"][0]
    message = choice["message"]
    if not isinstance(message, dict):
        raise ValueError("choices[0].message is not an object")
    usage = payload.get("usage") if isinstance(payload.get("usage"), dict) else {}
    content, calls = message.get("content") or "", message.get("tool_calls") or []
    if not isinstance(content, str):
        raise ValueError("choices[0].message.content is not a string")
    if not isinstance(calls, list) or not all(isinstance(call, dict) for call in calls):
        raise ValueError("choices[0].message.tool_calls is not a list of objects")
    finish, refusal = choice.get("finish_reason"), message.get("refusal") or None
    if not isinstance(finish, (str, type(None))) or not isinstance(refusal, (str, type(None))):
        raise ValueError("choices[0].finish_reason or message.refusal is not a string")
    return Reply(content=content, tool_calls=list(calls),
                 finish_reason=finish, refusal=refusal,
                 usage={k: _count(usage.get(k)) for k in ("prompt_tokens", "completion_tokens")})


def _count(value: Any) -> int:
    """A token count from a server (0 for anything that is not a sane non-negative number)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        return 0
    if not 0 <= value < 1e15:
        return 0
    return int(value)


def parse_reply(reply: Reply, expect: str | None = "object") -> Any:
    """The JSON value of a reply; Refusal for refusals, ParseError for anything else that is not JSON."""
    if reply.refusal or reply.finish_reason == "content_filter":
        raise Refusal(reply.refusal or "content filter", reply.content)
    try:
        return parse_json(reply.content, expect)
    except ParseError as error:
        if looks_like_refusal(reply.content):
            raise Refusal("the model declined", reply.content) from None
        if reply.finish_reason == "length":
            raise ParseError(f"{error} (the answer hit max_tokens)", reply.content) from None
        raise
