"""Options and helpers shared by the command groups."""

from __future__ import annotations

import errno
import functools
import os
import sys
from pathlib import Path
from typing import Any, Callable, NamedTuple

import click

from ..datasets.datadir import user_data_dir
from ..datasets.store import ENV_DATA_DIR, Store
from ..format.jsonl import LockBusy
from ..format.parallel import WorkerDied


def data_dir_option(function: Callable) -> Callable:
    """``--data-dir DIR`` (env OPENTOOLLAB_DATA_DIR, default: see ``datasets.datadir``) → a ``store`` argument."""

    @click.option("--data-dir", type=click.Path(file_okay=False), envvar=ENV_DATA_DIR, default=None,
                  help=f"Data root holding downloaded/, processed/ and tools/ [env {ENV_DATA_DIR}; default: datasets/ of the checkout you are in, else {user_data_dir()}].")
    @functools.wraps(function)
    def wrapper(*args: Any, data_dir: str | None, **kwargs: Any) -> Any:
        store = Store(data_dir)
        with disk_errors(store):
            return function(*args, store=store, **kwargs)

    return wrapper


class Scale(NamedTuple):
    """How a command spreads its work: ``workers`` processes (None: every core), ``engine`` local or ray."""

    workers: int | None = None
    engine: str = "local"
    address: str | None = None


def scale_options(engine: bool = False, default: str = "every core") -> Callable[[Callable], Callable]:
    """``-j/--workers N`` (and with ``engine``: ``--engine local|ray``, ``--ray-address``) → a ``scale`` argument."""

    def decorate(function: Callable) -> Callable:
        @functools.wraps(function)
        def wrapper(*args: Any, workers: int | None, engine_name: str = "local", ray_address: str | None = None,
                    **kwargs: Any) -> Any:
            if engine_name == "ray":
                try:
                    import ray  # noqa: F401
                except ImportError:
                    fail("--engine ray needs Ray: pip install 'opentoollab[ray]'", 2)
            return function(*args, scale=Scale(workers, engine_name, ray_address), **kwargs)

        decorated = click.option("-j", "--workers", type=click.IntRange(1, 1024), default=None,
                                 help=f"Worker processes [default: {default}]. Output is the same bytes for any number.")(wrapper)
        if engine:
            decorated = click.option("--ray-address", default=None, metavar="ADDRESS",
                                     help="With --engine ray: the cluster to join (ray://HOST:10001 or auto) [default: "
                                          "a local Ray started for this run].")(decorated)
            decorated = click.option("--engine", "engine_name", type=click.Choice(["local", "ray"]), default="local",
                                     show_default=True,
                                     help="local: worker processes on this machine; ray: the same per-record work as "
                                          "Ray Data tasks (pip install 'opentoollab[ray]'), same bytes.")(decorated)
        return decorated

    return decorate


class disk_errors:
    """Turn what the disk refuses (read-only folder, a file where a folder must be, a full disk) and a
    busy lock into one ``error:`` line with what to do, exit code 1, no traceback."""

    def __init__(self, store: Store | None = None) -> None:
        self.store = store

    def __enter__(self) -> "disk_errors":
        return self

    def __exit__(self, kind, exc, tb) -> bool:
        if isinstance(exc, LockBusy):
            fail(str(exc))
        if isinstance(exc, OSError) and not isinstance(exc, BrokenPipeError) and exc.filename is not None:
            fail(describe_os_error(exc, self.store))
        if isinstance(exc, WorkerDied):
            fail(f"{exc}: killed, or out of memory; try fewer --workers")
        return False


def describe_os_error(exc: OSError, store: Store | None = None) -> str:
    """One line: which path, what went wrong, what to do."""
    path = Path(exc.filename)
    where = f" (data folder {store.root}: choose another with --data-dir or ${ENV_DATA_DIR})" if store else ""
    blocker = _file_in_the_way(path)
    if blocker is not None and exc.errno in (errno.ENOTDIR, errno.EEXIST, errno.ENOENT):
        return f"cannot create {path}: {blocker} is a file, not a folder; move or remove it{where}"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"cannot write {path}: {exc.strerror}; make it writable{where}"
    if exc.errno == errno.ENOSPC:
        return f"cannot write {path}: no space left on the device; free some space{where}"
    if exc.errno == errno.EISDIR:
        return f"{path} is a folder where a file is expected; move or remove it"
    return f"{path}: {exc.strerror or exc}"


def _file_in_the_way(path: Path) -> Path | None:
    """The nearest of ``path`` and its parents that exists and is not a folder, if any."""
    for candidate in (path, *path.parents):
        if os.path.lexists(candidate):
            return None if candidate.is_dir() else candidate
    return None


def fail(message: str, code: int = 1) -> None:
    """Print an error (no traceback) and exit."""
    click.secho(f"error: {message}", fg="red", err=True)
    sys.exit(code)


def print_table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    """A plain aligned text table on stdout."""
    cells = [[str(c) for c in columns]] + [[_fmt(row.get(c, "")) for c in columns] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    for index, line in enumerate(cells):
        click.echo("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(line, widths))))
        if index == 0:
            click.echo("  ".join("-" * w for w in widths))


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)
