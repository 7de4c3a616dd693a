"""Streaming JSONL reading and atomic file writing, used by every part that touches disk."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Iterable, Iterator

from .sample import Sample, dumps_sample


@dataclass
class Line:
    """One line of a JSONL file: its 1-based number and either the parsed value or the parse error."""

    path: str
    number: int
    value: Any = None
    error: str | None = None
    text: str = ""


def iter_lines(path: str | os.PathLike) -> Iterator[Line]:
    """Parse a JSONL file lazily; blank lines are skipped, bad lines are yielded with ``error`` set."""
    with open(path, "r", encoding="utf-8", newline="") as handle:
        for number, text in enumerate(handle, 1):
            stripped = text.strip()
            if not stripped:
                continue
            try:
                yield Line(str(path), number, json.loads(stripped))
            except json.JSONDecodeError as exc:
                yield Line(str(path), number, None, f"invalid JSON: {exc}", stripped)


def iter_samples(path: str | os.PathLike) -> Iterator[Sample]:
    """The samples of a unified JSONL file (raises ValueError on a line that is not JSON)."""
    for line in iter_lines(path):
        if line.error:
            raise ValueError(f"{line.path}:{line.number}: {line.error}")
        yield line.value


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike, mode: str = "w") -> Iterator[IO]:
    """Write to a temporary file beside ``path`` and rename it into place only on success."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
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
    """Build a folder beside ``path`` and swap it into place only on success (the old one is removed)."""
    final = Path(path)
    work = final.parent / f".{final.name}.{tag}-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        yield work
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    old = final.parent / f".{final.name}.old-{os.getpid()}"
    if final.exists():
        os.replace(final, old)
    os.replace(work, final)
    shutil.rmtree(old, ignore_errors=True)


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
