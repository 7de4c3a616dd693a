"""Parallel map on one machine: results in input order, bounded memory, the same output for any worker count.

Two shapes of work:

- ``imap(fn, items, workers)``: ``fn`` applied to every item, items sent to worker processes in chunks,
  at most ``window`` chunks in flight (so a million-item stream never sits in memory), results yielded
  in input order.
- ``interleave(job, args, workers)``: worker ``i`` of ``n`` runs ``job(i, n, *args)``, a generator over
  its share (items ``i, i + n, …`` of a stream it reads itself); results are merged round-robin, which
  restores stream order. For work whose input cannot travel (an adapter that sets up state while reading).

How workers start (``start_method``): a plain ``fork`` on Linux when it is safe, which costs a few
milliseconds and hands the parent's state (an evaluation index, a model) to the workers without pickling;
``forkserver`` (``spawn`` where there is none) otherwise. A fork is unsafe once the parent runs threads or
has loaded a library that keeps a native thread pool (polars, torch, pyarrow, ray): a lock
held by one of those threads at the fork stays held in the child, which can hang. ``forkserver`` pays a
fresh interpreter and its imports (~0.2 s) instead. ``$OPENTOOLLAB_START_METHOD`` forces one. Either way
``fn`` and ``job`` must be importable module-level functions, and scripts that use these helpers need a
``__main__`` guard. With ``workers <= 1`` everything runs in the calling process.
"""

from __future__ import annotations

import contextlib
import gc
import os
import queue
import sys
import threading
import traceback
import weakref
from collections import deque
from typing import Any, Callable, Iterable, Iterator

CHUNK = 64  # items per message between processes
WORKER_CHECK_SECONDS = 1.0  # how often a pool's caller, waiting for a chunk, checks that no worker has died
WINDOW = 4  # chunks in flight per worker


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return max(1, os.cpu_count() or 1)


def resolve_workers(workers: int | None) -> int:
    """``--workers``: None or 0 → every core; otherwise at least 1."""
    return default_workers() if not workers else max(1, int(workers))


START_METHOD_ENV = "OPENTOOLLAB_START_METHOD"
# Loaded, these keep native thread pools whose locks a fork could copy held. Not tokenizers: it notices a
# fork and turns its own parallelism off in the child (documented behaviour); prepare's tokenizing workers
# encode on one thread anyway (TOKENIZERS_PARALLELISM=false), and its parent does not encode when they do.
THREADED_LIBRARIES = ("polars", "torch", "pyarrow", "ray", "tensorflow", "jax")


def _benign_thread(thread: threading.Thread) -> bool:
    """Threads a fork may leave behind: the main thread, and tqdm's monitor (it only sleeps and reads bars)."""
    return thread is threading.main_thread() or type(thread).__name__ == "TMonitor"


def start_method() -> str:
    """``fork`` when it is safe (Linux, no threads but tqdm's monitor, no threaded library loaded), else
    ``forkserver`` (``spawn`` where there is none); ``$OPENTOOLLAB_START_METHOD`` overrides."""
    import multiprocessing  # here: one-process runs (most) never start a pool

    available = multiprocessing.get_all_start_methods()
    forced = os.environ.get(START_METHOD_ENV, "").strip()
    if forced in available:
        return forced
    if ("fork" in available and sys.platform.startswith("linux")
            and not any(name in sys.modules for name in THREADED_LIBRARIES)
            and all(_benign_thread(thread) for thread in threading.enumerate())):
        return "fork"
    return fresh_start_method()


def fresh_start_method() -> str:
    """A start method whose workers begin from a clean interpreter, not a copy of this process: ``forkserver``,
    ``spawn`` where there is none."""
    import multiprocessing

    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


def _context(preload: Iterable[str] = (), method: str | None = None):
    import multiprocessing

    method = method or start_method()
    context = multiprocessing.get_context(method)
    if method == "forkserver":
        context.set_forkserver_preload([__name__, *preload])  # only takes effect before the server starts
    return context


@contextlib.contextmanager
def _frozen(context) -> Iterator[None]:
    """Forked workers share this process's objects: frozen while they start, their collections never walk those
    objects (nor copy the pages they sit on); this process collects them again once the workers are started."""
    if context.get_start_method() != "fork":
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _quiet_pool(context, workers: int, initializer: Callable[..., None] | None, initargs: tuple):
    """``context.Pool(workers, initializer, initargs)`` whose worker-handler thread sleeps while results flow.

    CPython's handler (it restarts workers that exit) waits on the workers, a change notifier and the result
    pipe; the pipe is readable from the moment a result arrives until the result thread has read it all, so
    the handler woke in a loop meanwhile, polling every worker: ~0.3 s of the parent's CPU in a 2 s
    ``trainer prepare`` on 2 cores, taken from the workers. Without ``maxtasksperchild`` (never set here) no
    worker exits on its own, so the workers' sentinels and the notifier are all it needs to wait on."""
    from multiprocessing.pool import Pool

    if not hasattr(Pool, "_get_sentinels"):  # pragma: no cover - an interpreter whose Pool is built otherwise
        return context.Pool(workers, initializer, initargs)

    class QuietPool(Pool):
        def _get_sentinels(self) -> list:
            return [self._change_notifier._reader]

    return QuietPool(workers, initializer, initargs, context=context)


def _apply(fn: Callable[[Any], Any], chunk: list) -> list:
    return [fn(item) for item in chunk]


def chunks(items: Iterable[Any], size: int) -> Iterator[list]:
    """The items in lists of ``size`` (the last one shorter)."""
    chunk: list = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class Workers:
    """A pool of worker processes kept for several ``imap`` calls (one start-up cost), or the calling
    process when ``workers <= 1``. ``initializer(*initargs)`` runs once in every worker (and here when
    inline): the place for large read-only state, sent once per worker instead of once per item.
    ``method`` forces a start method (else ``start_method()``). Use it as a context manager."""

    def __init__(self, workers: int | None = 1, initializer: Callable[..., None] | None = None,
                 initargs: tuple = (), *, preload: Iterable[str] = (), method: str | None = None) -> None:
        self.workers = resolve_workers(workers)
        self._pool = None
        if self.workers > 1:
            modules = [*preload, *([initializer.__module__] if initializer else [])]
            context = _context(modules, method)
            with _frozen(context):
                self._pool = _quiet_pool(context, self.workers, initializer, initargs)
            self._processes = list(getattr(self._pool, "_pool", ()))
            weakref.finalize(self, self._pool.terminate)  # stopped even when the caller never closes it
        elif initializer is not None:
            initializer(*initargs)

    def imap(self, fn: Callable[[Any], Any], items: Iterable[Any], *, chunk: int = CHUNK,
             window: int = WINDOW) -> Iterator[Any]:
        """``map(fn, items)`` in order, with at most ``workers * window`` chunks in flight."""
        if self._pool is None:
            yield from map(fn, items)
            return
        pending: deque = deque()
        for block in chunks(items, chunk):
            pending.append(self._pool.apply_async(_apply, (fn, block)))
            while len(pending) >= self.workers * window:
                yield from self._result(pending.popleft())
        while pending:
            yield from self._result(pending.popleft())

    def _result(self, pending: Any) -> list:
        """A chunk's results, or ``WorkerFailed`` once a worker process has died (killed, out of memory): the
        pool would start another and wait forever for the chunk the dead one held."""
        import multiprocessing

        while True:
            try:
                return pending.get(timeout=WORKER_CHECK_SECONDS)
            except multiprocessing.TimeoutError:
                for process in self._processes:
                    if process.exitcode is not None:
                        raise WorkerDied(process) from None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None

    def __enter__(self) -> "Workers":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def imap(fn: Callable[[Any], Any], items: Iterable[Any], workers: int | None = 1, *, chunk: int = CHUNK,
         window: int = WINDOW) -> Iterator[Any]:
    """``map(fn, items)`` on ``workers`` processes, in order, with at most ``workers * window`` chunks in flight."""
    with Workers(workers, preload=[fn.__module__]) as pool:
        yield from pool.imap(fn, items, chunk=chunk, window=window)


class WorkerFailed(RuntimeError):
    """A worker process died or raised something that could not be sent back as it was."""


class WorkerDied(WorkerFailed):
    """A worker process stopped without a result (killed, out of memory): what the CLI reports in one line."""

    def __init__(self, process: Any) -> None:
        super().__init__(f"worker process {process.pid} stopped (exit code {process.exitcode})")


def _drive(job: Callable[..., Iterator[Any]], index: int, count: int, args: tuple, out, chunk: int) -> None:
    block: list = []
    try:
        for item in job(index, count, *args):
            block.append(item)
            if len(block) >= chunk:
                out.put(("items", block))
                block = []
        out.put(("items", block))
        out.put(("end", None))
    except BaseException as exc:  # sent back to the parent, which raises it
        try:
            out.put(("error", exc))
        except Exception:  # pragma: no cover - an exception that cannot be pickled
            out.put(("error", WorkerFailed("".join(traceback.format_exception(exc)))))


def interleave(job: Callable[..., Iterator[Any]], args: tuple, workers: int | None = 1, *,
               chunk: int = CHUNK, window: int = WINDOW) -> Iterator[Any]:
    """Round-robin merge of ``job(i, workers, *args)`` for every worker ``i`` (exhausted workers are skipped).

    A worker's exception is raised here (its type kept when it pickles); all workers are stopped when
    the caller stops reading.
    """
    workers = resolve_workers(workers)
    if workers <= 1:
        yield from job(0, 1, *args)
        return
    context = _context([job.__module__])
    queues = [context.Queue(maxsize=window) for _ in range(workers)]
    processes = [context.Process(target=_drive, args=(job, i, workers, args, queues[i], chunk), daemon=True)
                 for i in range(workers)]
    with _frozen(context):
        for process in processes:
            process.start()
    try:
        buffers: list[deque] = [deque() for _ in range(workers)]
        live = list(range(workers))
        while live:
            for index in list(live):
                while not buffers[index] and index in live:
                    kind, payload = _get(queues[index], processes[index])
                    if kind == "error":
                        raise payload
                    if kind == "end":
                        live.remove(index)
                    else:
                        buffers[index].extend(payload)
                if buffers[index]:
                    yield buffers[index].popleft()
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join()


def _get(source, process) -> tuple[str, Any]:
    while True:
        try:
            return source.get(timeout=1.0)
        except queue.Empty:
            if not process.is_alive():
                try:
                    return source.get(timeout=1.0)
                except queue.Empty:
                    raise WorkerDied(process) from None
