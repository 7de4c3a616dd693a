"""Streaming JSONL reading and atomic file writing, used by every part that touches disk."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator

from .sample import Sample, dumps_sample, read_line


@dataclass
class Line:
    """One line of a JSONL file: its 1-based number and either the parsed value or the parse error."""

    path: str
    number: int
    value: Any = None
    error: str | None = None
    text: str = ""
    plain: bool = False  # read by orjson: plain JSON values (``sample.loads_line_or_lenient``)


def iter_lines(path: str | os.PathLike) -> Iterator[Line]:
    """Parse a JSONL file lazily; blank lines are skipped, bad lines are yielded with ``error`` set.

    Never raises on content: a line that is not UTF-8 (also a file cut inside a character), not strict JSON
    (``NaN``/``Infinity``, integers beyond the int↔str digit limit) or nested too deep is a bad line; the
    ``text`` of a bad line is always writable (undecodable bytes as backslash escapes). A BOM is skipped.
    """
    for number, data in iter_raw_lines(path):
        yield parse_line(str(path), number, data)


def iter_raw_lines(path: str | os.PathLike) -> Iterator[tuple[int, bytes]]:
    """(1-based number, bytes) of every line that is not blank (a BOM on the first line removed): what
    ``parse_line`` turns into a ``Line``, split so the parsing can happen in a worker process."""
    with open(path, "rb") as handle:
        for number, data in enumerate(handle, 1):
            if number == 1 and data.startswith(b"\xef\xbb\xbf"):
                data = data[3:]
            if data.strip():
                yield number, data


def parse_line(path: str, number: int, data: bytes) -> Line:
    """One line of a JSONL file → its ``Line`` (never raises on content)."""
    try:
        value, plain = read_line(data, True)
        return Line(path, number, value, plain=plain)
    except ValueError as exc:
        text = data.decode("utf-8", "backslashreplace").strip()
        return Line(path, number, None, f"invalid JSON: {exc}", text)


def iter_samples(path: str | os.PathLike) -> Iterator[Sample]:
    """The samples of a unified JSONL file (raises ValueError on a line that is not JSON)."""
    for line in iter_lines(path):
        if line.error:
            raise ValueError(f"{line.path}:{line.number}: {line.error}")
        yield line.value


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike, mode: str = "w") -> Iterator[IO]:
    """Write to a temporary file beside ``path`` and rename it into place only on success.

    The temporary file is created with mode 0666 minus the umask (what ``open`` gives), not
    ``mkstemp``'s 0600; its name carries the writer's pid, so ``clean_stale`` can tell a killed
    writer's leftover from a live one's.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = target.parent / f".{target.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp"
        try:
            fd = os.open(tmp, flags, 0o666)
            break
        except FileExistsError:  # pragma: no cover - 32 random bits collided
            continue
    try:
        if "b" in mode:
            handle = os.fdopen(fd, mode)
        else:
            handle = os.fdopen(fd, mode, encoding="utf-8", newline="\n")
        with handle:
            yield handle
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike, tag: str = "tmp") -> Iterator[Path]:
    """Build a folder beside ``path`` and swap it into place only on success (the old one is removed).

    A run killed before the swap leaves ``.NAME.TAG-PID``, removed by the next run; one killed during
    the swap is finished by the next run (``recover``), so ``path`` never goes missing for good.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    recover(final)
    work = final.parent / f".{final.name}.{tag}-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    try:
        yield work
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    commit(final, work)


# ----------------------------------------------------------------------------- crash-safe swaps
# A swap of a folder (and files that belong with it, such as a corpus's tool catalog) is two or more
# renames. A journal ``.NAME.swap.json`` beside the folder is written first, once everything new is
# complete; a run killed anywhere in between leaves the journal, and ``recover`` rolls the swap
# forward (the new output is whole by then). Nothing is ever rolled back to a half-written state.

def _journal(final: Path) -> Path:
    return final.parent / f".{final.name}.swap.json"


def commit(final: str | os.PathLike, work: str | os.PathLike,
           files: Iterable[tuple[str | os.PathLike, str | os.PathLike]] = ()) -> None:
    """Replace folder ``final`` by ``work`` and each file target by its ready temporary file, as one
    unit: after a crash at any point, ``recover(final)`` completes all of it."""
    final, work = Path(final), Path(work)
    base = final.parent
    record = {"work": os.path.relpath(work, base), "old": f".{final.name}.old-{os.getpid()}",
              "files": [[os.path.relpath(tmp, base), os.path.relpath(target, base)] for tmp, target in files]}
    write_json(_journal(final), record)
    _roll_forward(final, record)


def _roll_forward(final: Path, record: dict) -> None:
    base = final.parent
    work, old = base / record["work"], base / record["old"]
    if work.is_dir():
        if final.exists():
            if old.exists():  # pragma: no cover - only if someone else wrote during the swap
                shutil.rmtree(old)
            _swap_hook("old")
            os.replace(final, old)
        _swap_hook("new")
        os.replace(work, final)
    for tmp, target in record["files"]:
        if (base / tmp).exists():
            _swap_hook("file")
            os.replace(base / tmp, base / target)
    _journal(final).unlink(missing_ok=True)
    shutil.rmtree(old, ignore_errors=True)


def _swap_hook(step: str) -> None:
    """Called before each rename of a swap (tests inject a crash here)."""


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


_STALE_DIR = re.compile(r"^\.(?P<name>.+)\.(?P<tag>[a-z]+)-(?P<pid>\d+)$")
_STALE_FILE = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)-[0-9a-f]{8}\.tmp$")


def recover(final: str | os.PathLike, files: Iterable[str | os.PathLike] = ()) -> list[str]:
    """Finish or clean what killed runs left around folder ``final`` (and temporaries of ``files``).

    An interrupted swap (journal present) is rolled forward; a previous output stranded in
    ``.NAME.old-PID`` while ``NAME`` is missing (a crash between the two renames of an older
    version) is put back; work folders and temporary files of dead processes are removed.
    Returns what was done, one line each. Call it while holding the folder's lock.
    """
    final = Path(final)
    done: list[str] = []
    journal = _journal(final)
    if journal.is_file():
        try:
            record = json.loads(journal.read_text("utf-8"))
            _roll_forward(final, record)
            done.append(f"finished an interrupted swap of {final}")
        except (ValueError, KeyError, TypeError):
            journal.unlink(missing_ok=True)
    if final.parent.is_dir():
        for entry in sorted(final.parent.iterdir()):
            match = _STALE_DIR.match(entry.name)
            if not match or match["name"] != final.name or match["tag"] == "swap" or _alive(int(match["pid"])):
                continue
            if match["tag"] == "old" and not final.exists() and entry.is_dir():
                os.replace(entry, final)
                done.append(f"restored {final} from {entry.name}")
            else:
                shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink(missing_ok=True)
                done.append(f"removed {entry}")
    for path in [final, *map(Path, files)]:
        done += clean_stale(path)
    return done


def clean_stale(path: str | os.PathLike) -> list[str]:
    """Remove temporary files of ``atomic_writer`` for ``path`` left by processes that are gone."""
    path = Path(path)
    removed = []
    if path.parent.is_dir():
        for entry in path.parent.iterdir():
            match = _STALE_FILE.match(entry.name)
            if match and match["name"] == path.name and not _alive(int(match["pid"])):
                entry.unlink(missing_ok=True)
                removed.append(f"removed {entry}")
    return removed


# ----------------------------------------------------------------------------- locks
class LockBusy(RuntimeError):
    """Another process holds the lock and did not release it within the timeout."""


LOCK_TIMEOUT_ENV = "OPENTOOLLAB_LOCK_TIMEOUT"
_held: dict[str, list] = {}  # lock file → [open handle, depth]: re-entrant within one process


@contextlib.contextmanager
def folder_lock(lock_file: str | os.PathLike, what: str, *, timeout: float | None = None,
                notify: "Callable[[str], None] | None" = None) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``lock_file`` while writing ``what`` (a folder, for messages).

    Waits up to ``timeout`` seconds (default ``$OPENTOOLLAB_LOCK_TIMEOUT``, else 600) for another
    holder, calling ``notify`` once with who holds it; then raises ``LockBusy``. The kernel drops the
    lock when its holder exits, killed or not, so there is never a stale lock to remove by hand.
    Re-entrant within one process.
    """
    key = os.path.abspath(lock_file)
    if key in _held:
        _held[key][1] += 1
        try:
            yield
        finally:
            _held[key][1] -= 1
        return
    if timeout is None:
        timeout = float(os.environ.get(LOCK_TIMEOUT_ENV) or 600)
    path = Path(lock_file)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+", encoding="utf-8")
    try:
        deadline = time.monotonic() + timeout
        told = False
        while not _try_lock(handle):
            holder = _holder(path)
            if time.monotonic() >= deadline:
                raise LockBusy(f"another run is writing {what} ({holder}); wait for it to finish and retry "
                               f"(or raise ${LOCK_TIMEOUT_ENV}, now {timeout:g}s)")
            if not told and notify is not None:
                notify(f"waiting: another run is writing {what} ({holder}) …")
                told = True
            time.sleep(0.05)
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "command": " ".join(sys.argv[:4])[:200],
                                 "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}))
        handle.flush()
        _held[key] = [handle, 1]
        try:
            yield
        finally:
            del _held[key]
            with contextlib.suppress(OSError):
                handle.truncate(0)
    finally:
        handle.close()  # closing the descriptor releases the lock


def _try_lock(handle: IO) -> bool:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        import msvcrt

        try:
            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text("utf-8") or "{}")
        return f"pid {info['pid']}: {info.get('command') or '?'}, since {info.get('since', '?')}"
    except (OSError, ValueError, KeyError, TypeError):
        return "pid unknown"


def write_json(path: str | os.PathLike, value: Any) -> None:
    """Atomically write pretty JSON (UTF-8, sorted keys are NOT forced: callers choose key order)."""
    with atomic_writer(path) as handle:
        json.dump(value, handle, ensure_ascii=False, indent=2)
        handle.write("\n")


def write_jsonl(path: str | os.PathLike, rows: Iterable[Any]) -> int:
    """Atomically write rows as JSONL; returns the number written."""
    count = 0
    with atomic_writer(path) as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")))
            handle.write("\n")
            count += 1
    return count


def write_samples(path: str | os.PathLike, samples: Iterable[Sample], *, validate: bool = True) -> int:
    """Atomically write samples as JSONL, refusing (ValueError) any sample that fails validation."""
    from .validate import validate_sample

    count = 0
    with atomic_writer(path) as handle:
        for sample in samples:
            if validate:
                problems = validate_sample(sample)
                if problems:
                    raise ValueError(f"sample {count} is invalid: {problems[0]}")
            handle.write(dumps_sample(sample))
            handle.write("\n")
            count += 1
    return count


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class LinesAt:
    """Lines read by byte offset from files opened once each (a mix's picks, a worker's share of them).
    Use it as a context manager, or ``close()`` it."""

    def __init__(self) -> None:
        self._handles: dict[str, IO[bytes]] = {}

    def read(self, path: str | os.PathLike, offset: int) -> bytes:
        """The line starting at ``offset`` of ``path``, with its newline."""
        handle = self._handles.get(str(path))
        if handle is None:
            handle = self._handles[str(path)] = open(path, "rb")
        handle.seek(offset)
        return handle.readline()

    def close(self) -> None:
        for handle in self._handles.values():
            handle.close()
        self._handles.clear()

    def __enter__(self) -> "LinesAt":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
