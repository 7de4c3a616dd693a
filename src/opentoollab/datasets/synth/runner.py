"""Runs a pipeline's steps over records: concurrently, through the step cache, never stopping on a failure.

Steps run one after another over all records (so a step's prompt is shared by every record and
the cache key of a record never depends on scheduling). For a model step, each record's key is
``content_key(step identity, declared input fields)`` where the identity holds the step's name,
version, template texts, parameters, the model and the seed. A cached output is reused; otherwise
the record is computed on a bounded thread pool (as many workers as the client allows in flight),
identical inputs only once. Every failure — bad JSON, refusal, timeout, HTTP error, validator
rejection, a bug in a step — is recorded (cache + failure list + counts per kind) and the record
is dropped; the run goes on. Failed keys are retried on the next run unless ``retry_failures`` is
off. Multi-request steps store each raw answer as it arrives, so a run interrupted mid-dialogue
resumes without asking again; a content failure (bad JSON, refusal, rejection) forgets that record's
answers so the retry draws afresh, a transport failure keeps them.

On Ctrl-C (KeyboardInterrupt) queued records are cancelled, running ones stop before their next
request, everything already answered is in the cache, and the interrupt propagates.
``dry_run`` makes no request: it counts, per step, the records whose output is not cached and the
requests they would take (estimated where upstream outputs are not known yet).
May import: ``opentoollab.llm``, ``opentoollab.format``, the standard library, tqdm.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Iterator

from ...llm.cache import StepCache, content_key
from ...llm.client import Client, ClientError, Refusal, Reply, cost, parse_reply
from ...llm.jsonparse import ParseError
from .step import Context, Record, Step, StepFailure

TRANSPORT = frozenset({"timeout", "http", "connection", "malformed"})
PENDING = object()  # dry run: an output that would have to be computed


class Interrupted(BaseException):
    """Raised in a worker when the run is being stopped (not an Exception: nothing swallows it)."""


@dataclass
class Item:
    """A record in flight: its lineage id (``3.0.1``: input 3, first output, second output), data, keys."""

    id: str
    data: Record
    keys: dict[str, str] = field(default_factory=dict)  # step name → cache key (or digest of several)


@dataclass
class StepStats:
    """Counters of one step, for the manifest."""

    version: str = ""
    records_in: int = 0
    not_applicable: int = 0
    cache_hits: int = 0
    computed: int = 0
    requests: int = 0
    answers_reused: int = 0
    failed: int = 0
    dropped: int = 0
    records_out: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    failures: Counter = field(default_factory=Counter)
    would_request_records: int = 0  # dry run
    unknown_records: float = 0.0  # dry run: records not known yet (upstream not cached)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for key, value in counts.items():
                setattr(self, key, getattr(self, key) + value)

    def to_json(self, prices: tuple[float, float] | None, dry_run: bool, per_record: float) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in ("version", "records_in", "not_applicable", "cache_hits", "computed",
                                             "requests", "answers_reused", "failed", "dropped", "records_out",
                                             "prompt_tokens", "completion_tokens")}
        out["seconds"] = round(self.seconds, 3)
        out["failures"] = dict(sorted(self.failures.items()))
        out["cost"] = cost(self.prompt_tokens, self.completion_tokens, prices)
        if dry_run:
            estimate = (self.would_request_records + self.unknown_records) * per_record
            out.update(would_request_records=self.would_request_records, unknown_records=round(self.unknown_records, 1),
                       requests=int(round(estimate)), requests_exact=self.unknown_records == 0 and per_record == 1)
        return out


class Session:
    """One record in one model step: every request goes through the answer cache and is counted."""

    def __init__(self, runner: "Runner", step: Step, key: str) -> None:
        self.runner, self.step, self.key = runner, step, key
        self.index = 0

    def chat(self, messages: list[dict[str, Any]], *, tools: list[dict[str, Any]] | None = None,
             schema: dict[str, Any] | None = None, json_mode: bool = False) -> Reply:
        """One completion; a cached answer for the same request of the same record is reused."""
        runner, stats = self.runner, self.runner.stats[self.step.name]
        request_key = content_key("answer", self.key, self.index, messages, tools, schema, json_mode)
        self.index += 1
        cached = runner.cache.get_answer(request_key)
        if cached is not None:
            stats.add(answers_reused=1)
            return Reply.from_json(cached)
        if runner.stop.is_set():
            raise Interrupted()
        if runner.client is None:
            raise StepFailure("error", "no client: this run cannot make requests")
        params = self.step.params
        try:
            reply = runner.client.chat(messages, tools=tools, schema=schema, json_mode=json_mode,
                                       temperature=params.get("temperature"), max_tokens=params.get("max_tokens"))
        except ClientError as error:
            stats.add(requests=1)
            raise StepFailure(error.kind, str(error)) from None
        stats.add(requests=1, prompt_tokens=reply.usage.get("prompt_tokens", 0),
                  completion_tokens=reply.usage.get("completion_tokens", 0))
        runner.cache.put_answer(request_key, self.key, self.step.name, reply.to_json())
        return reply

    def ask_json(self, messages: list[dict[str, Any]], *, schema: dict[str, Any] | None = None,
                 expect: str | None = "object") -> Any:
        """A JSON answer, or StepFailure (``bad_json``, ``refusal``)."""
        reply = self.chat(messages, schema=schema, json_mode=True)
        try:
            return parse_reply(reply, expect)
        except Refusal as error:
            raise StepFailure("refusal", str(error), error.text) from None
        except ParseError as error:
            raise StepFailure("bad_json", str(error), error.text) from None


class Runner:
    """Executes steps over items (see the module docstring)."""

    def __init__(self, steps: list[Step], *, client: Client | None, cache: StepCache, context: Context,
                 model: str, dry_run: bool = False, retry_failures: bool = True, progress: bool = False,
                 workers: int | None = None) -> None:
        self.steps, self.client, self.cache, self.context = steps, client, cache, context
        self.model, self.dry_run, self.retry_failures, self.progress = model, dry_run, retry_failures, progress
        self.workers = workers or (client.max_concurrency if client else 1)
        self.stop = threading.Event()
        self.stats = {step.name: StepStats(version=step.version) for step in steps}
        self.failures: list[dict[str, Any]] = []
        self.dropped: list[dict[str, Any]] = []
        self._identity = {step.name: self._identity_of(step) for step in steps}
        self._unknown = 0.0

    def _identity_of(self, step: Step) -> str:
        return content_key("step", step.name, step.version, step.templates(), step.params, self.model, self.context.seed)

    def key(self, step: Step, view: Record) -> str:
        """The cache key of one record in one step."""
        return content_key(self._identity[step.name], view)

    # ------------------------------------------------------------------ driving
    def run(self, items: list[Item]) -> list[Item]:
        for step in self.steps:
            started = time.monotonic()
            stats = self.stats[step.name]
            stats.records_in = len(items)
            items = self._batch(step, items) if step.kind == "batch" else self._per_record(step, items)
            stats.records_out = len(items)
            stats.seconds = time.monotonic() - started
        return items

    def _batch(self, step: Step, items: list[Item]) -> list[Item]:
        self.stats[step.name].unknown_records = self._unknown
        self._unknown *= step.fan_out
        try:
            made = step.apply_all([item.data for item in items])  # type: ignore[attr-defined]
        except StepFailure as failure:
            self._fail(step, Item("*", {}), "", failure)
            return []
        except Exception as error:  # a bug in the step: recorded, the run ends without its records
            self._fail(step, Item("*", {}), "", _bug(error))
            return []
        return [Item(f"{step.name}.{index}", record, merged_keys([items[i] for i in members]))
                for index, (record, members) in enumerate(made)]

    def _per_record(self, step: Step, items: list[Item]) -> list[Item]:
        stats = self.stats[step.name]
        planned: list[tuple[Item, str | None, Record | None]] = []
        todo: dict[str, Record] = {}
        results: dict[str, Any] = {}
        for item in items:
            try:
                view = step.view(item.data)
            except StepFailure as failure:
                self._fail(step, item, "", failure)
                continue
            if not step.applies(view):
                stats.not_applicable += 1
                planned.append((item, None, None))
                continue
            key = self.key(step, view) if step.uses_model else ""
            planned.append((item, key, view))
            if step.uses_model and key not in results and key not in todo:
                self._lookup(step, key, view, todo, results)
        stats.unknown_records = self._unknown
        if self.dry_run:
            stats.would_request_records = len(todo)
            self._unknown = (self._unknown + len(todo)) * step.fan_out if step.uses_model else self._unknown * step.fan_out
            results.update(dict.fromkeys(todo, PENDING))
        else:
            self._execute(step, todo, results)
        out: list[Item] = []
        for item, key, view in planned:
            if key is None:
                out.append(item)
                continue
            outputs = results[key] if key else self._local(step, view)
            if outputs is PENDING:
                continue
            if isinstance(outputs, StepFailure):
                self._fail(step, item, key, outputs)
                continue
            out.extend(self._children(step, item, key, outputs))
        return out

    def _lookup(self, step: Step, key: str, view: Record, todo: dict[str, Record], results: dict[str, Any]) -> None:
        stats = self.stats[step.name]
        cached = self.cache.get_outputs(key)
        if cached is not None:
            stats.cache_hits += 1
            results[key] = cached
            return
        failure = self.cache.get_failure(key) if not self.retry_failures else None
        if failure is not None:
            results[key] = StepFailure(failure["kind"], f"(recorded earlier, not retried) {failure['message']}",
                                       failure.get("raw") or "")
            return
        todo[key] = view

    def _local(self, step: Step, view: Record) -> Any:
        """A code step on one record (no model, no cache): its outputs or the StepFailure."""
        try:
            outputs = step.run(view, None)  # type: ignore[arg-type]
            problem = next((p for p in (step.check(o, view) for o in outputs) if p), None)
            return StepFailure("invalid", problem) if problem else outputs
        except StepFailure as failure:
            return failure
        except Exception as error:  # a bug, or an injected check that broke: recorded, the run goes on
            return _bug(error)

    def _children(self, step: Step, item: Item, key: str, outputs: list[Record]) -> list[Item]:
        keys = {**item.keys, step.name: key} if key else item.keys
        children = []
        for index, output in enumerate(outputs):
            if step.kind == "filter":
                verdict = output.get(step.outputs[0]) or {}
                if not verdict.get("keep"):
                    self.stats[step.name].dropped += 1
                    self.dropped.append({"step": step.name, "record": item.id, "key": key,
                                         "reason": verdict.get("reason", "")})
                    continue
            child_id = item.id if len(outputs) == 1 else f"{item.id}.{index}"
            children.append(Item(child_id, {**item.data, **output}, keys))
        return children

    def _fail(self, step: Step, item: Item, key: str, failure: StepFailure) -> None:
        stats = self.stats[step.name]
        stats.failed += 1
        stats.failures[failure.kind] += 1
        self.failures.append({"step": step.name, "record": item.id, "key": key, "kind": failure.kind,
                              "message": str(failure)[:2000], "raw": failure.raw[:2000]})

    # ------------------------------------------------------------------ computing
    def _execute(self, step: Step, todo: dict[str, Record], results: dict[str, Any]) -> None:
        if not todo:
            return
        bar = _progress(self.progress, len(todo), step.name)
        pending: dict[Future, str] = {}
        work: Iterator[tuple[str, Record]] = iter(todo.items())
        pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix=f"synth-{step.name}")
        try:
            self._fill(pool, step, work, pending)
            while pending:
                done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
                for future in done:
                    results[pending.pop(future)] = future.result()
                    if bar is not None:
                        bar.update(1)
                self._fill(pool, step, work, pending)
        except BaseException:
            self.stop.set()
            for future in pending:
                future.cancel()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            if bar is not None:
                bar.close()

    def _fill(self, pool: ThreadPoolExecutor, step: Step, work: Iterator[tuple[str, Record]],
              pending: dict[Future, str]) -> None:
        """Keep at most 2 × workers records submitted (bounded memory on huge inputs)."""
        while len(pending) < 2 * self.workers:
            nxt = next(work, None)
            if nxt is None:
                return
            pending[pool.submit(self._compute, step, nxt[0], nxt[1])] = nxt[0]

    def _compute(self, step: Step, key: str, view: Record) -> list[Record] | StepFailure:
        """One record through one model step, in a worker thread; never raises an Exception."""
        stats = self.stats[step.name]
        try:
            if self.stop.is_set():
                raise Interrupted()
            outputs = step.run(view, Session(self, step, key))
            problem = next((p for p in (step.check(o, view) for o in outputs) if p), None)
            if problem:
                raise StepFailure("invalid", problem)
        except StepFailure as failure:
            self.cache.put_failure(key, step.name, failure.kind, str(failure), failure.raw)
            if failure.kind not in TRANSPORT:
                self.cache.drop_answers(key)
            return failure
        except Exception as error:  # a bug in a step: recorded with its traceback, the run goes on
            failure = _bug(error)
            self.cache.put_failure(key, step.name, failure.kind, str(failure), failure.raw)
            return failure
        self.cache.put_outputs(key, step.name, outputs)
        self.cache.drop_answers(key)
        stats.add(computed=1)
        return outputs

    # ------------------------------------------------------------------ reporting
    def step_report(self) -> dict[str, Any]:
        prices = self.client.usage.prices if self.client else None
        return {step.name: self.stats[step.name].to_json(prices, self.dry_run, step.requests_per_record)
                for step in self.steps}


def _bug(error: Exception) -> StepFailure:
    return StepFailure("error", f"{type(error).__name__}: {error}", traceback.format_exc(limit=6))


def merged_keys(items: list[Item]) -> dict[str, str]:
    """Provenance of a record made from several: per step, the one key or a digest of all of them."""
    from ...llm.cache import digest

    by_step: dict[str, list[str]] = {}
    for item in items:
        for step, key in item.keys.items():
            by_step.setdefault(step, []).append(key)
    return {step: keys[0] if len(set(keys)) == 1 else "digest:" + digest(sorted(set(keys)))
            for step, keys in by_step.items()}


def _progress(enabled: bool, total: int, name: str):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=name, unit="rec", leave=False)
