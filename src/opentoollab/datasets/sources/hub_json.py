"""Adapters whose corpus is a few JSON files in one Hugging Face hub dataset repository.

``HubJsonSource`` does the I/O part for them: a pinned ``huggingface_hub`` snapshot (or a local copy)
with checksums in the provenance record, and lazy reading of JSON arrays (streamed element by
element, so a 250 MB file is never held as one Python list) or JSONL files, from a folder laid out
like the hub repository or from a single file. Subclasses only say which files hold which subset
and convert one record.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Callable, ClassVar, Iterator

from ...format.sample import BAD_BYTES, STRICT_DECODER, loads_line
from ..fetch import check_sha256, copy_local, hub_snapshot, read_provenance, write_provenance
from .base import SKIPPED, FetchError, RawRecord, Reject, Shard, Source

CHUNK = 1 << 20


def iter_json_records(path: Path, skip: Callable[[], bool] | None = None) -> Iterator[tuple[int, Any, str | None]]:
    """``(location, value, error)`` for each record of a JSON array (0-based index) or JSONL file (1-based line).

    ``skip`` (``Shard.foreign``) is asked once per item given; where it says so, a JSONL line is given as
    ``SKIPPED`` without being parsed (array elements are parsed anyway, to find where the next one starts).

    Never raises on content. A malformed JSONL line (not UTF-8, not strict JSON — ``NaN``/``Infinity``, integers
    beyond the int↔str digit limit —, nested too deep) is reported and reading goes on. A malformed array
    element is reported and, when the layout allows it (elements that start their own line at the indentation
    of the first one: every pretty-printed or one-per-line array), reading goes on at the next element.
    """
    with open(path, "rb") as handle:
        head = handle.read(CHUNK)
    if head.startswith(BOM):
        head = head[len(BOM):]
    if head.lstrip()[:1] == b"[" and path.suffix != ".jsonl":  # a .jsonl file is JSONL even when a line is an array
        with open(path, "r", encoding="utf-8-sig", errors="surrogateescape") as handle:
            for item in _iter_array(handle, handle.read(CHUNK)):
                yield item if skip is None or not skip() else (item[0], SKIPPED, None)
        return
    yield from iter_jsonl_records(path, skip)


def iter_jsonl_records(path: Path, skip: Callable[[], bool] | None = None) -> Iterator[tuple[int, Any, str | None]]:
    """``(line, value, error)`` for each non-blank line of a JSONL file (see ``iter_json_records``)."""
    with open(path, "rb") as handle:
        for number, data in enumerate(handle, 1):
            if number == 1 and data.startswith(BOM):
                data = data[len(BOM):]
            if not data.strip():
                continue
            if skip is not None and skip():
                yield number, SKIPPED, None
                continue
            try:
                yield number, loads_line(data), None
            except ValueError as exc:
                yield number, data.decode("utf-8", "backslashreplace").rstrip("\r\n"), f"line {number} is not JSON: {exc}"


def iter_array_file(path: Path) -> Iterator[tuple[int, Any, str | None]]:
    """``iter_json_records`` for a file that must hold one JSON array: anything else is one error at 0."""
    with open(path, "rb") as handle:
        head = handle.read(4096)
    if head.startswith(BOM):
        head = head[len(BOM):]
    if head.lstrip()[:1] != b"[":
        yield 0, None, f"{path.name} is not a JSON array"
        return
    yield from iter_json_records(path)


BOM = b"\xef\xbb\xbf"
_WS = " \t\r\n"


def _iter_array(handle, buffer: str) -> Iterator[tuple[int, Any, str | None]]:
    pos = buffer.index("[") + 1
    eof = False
    index = 0
    consumed = 0  # characters dropped from the front of the buffer, for error positions
    comma_read = False  # skip_bad consumed the ',' before the next element
    resync = None  # the pattern of "end of one element, start of the next" (from the first element's indentation)

    def refill() -> bool:
        nonlocal buffer, eof
        if eof:
            return False
        more = handle.read(max(CHUNK, len(buffer)))
        if not more:
            eof = True
            return False
        buffer += more
        return True

    def skip_space() -> None:
        nonlocal pos
        while True:
            while pos < len(buffer) and buffer[pos] in _WS:
                pos += 1
            if pos < len(buffer) or not refill():
                return

    def skip_bad(start: int, reason: str) -> Iterator[tuple[int, Any, str | None]]:
        """Report the element at ``start`` as bad; move ``pos`` to the next element (or the end)."""
        nonlocal pos, index, comma_read
        searched = start + 1
        while resync is not None:
            found = resync.search(buffer, searched)
            if found:
                yield index, buffer[start:min(found.start(), start + 2000)], reason
                index += 1
                pos = found.end()
                comma_read = True
                return
            searched = max(start + 1, len(buffer) - 64)
            if not refill():
                break
        yield index, buffer[start:start + 2000], reason + "; the rest of the file cannot be read"
        pos = -1

    while True:
        skip_space()
        if pos >= len(buffer):
            yield index, None, f"the JSON array is not closed (file ends after element {index - 1})"
            return
        if buffer[pos] == "]":
            rest = buffer[pos + 1:].strip(_WS) or (handle.read(CHUNK).strip(_WS) if not eof else "")
            if rest:
                yield index, rest[:2000], f"text after the end of the JSON array at character {consumed + pos + 1}"
            return
        if comma_read:
            comma_read = False
        elif index:
            if buffer[pos] != ",":
                yield from skip_bad(pos, f"element {index}: expected ',' between elements at character {consumed + pos}")
                if pos < 0:
                    return
                continue
            pos += 1
            skip_space()
        elif resync is None:
            line_start = buffer.rfind("\n", 0, pos) + 1
            indent = buffer[line_start:pos]
            if indent.strip(" \t") in ("", "["):  # "[" on the first element's line: one element per line
                indent = "" if "[" in indent else indent
                resync = re.compile(r",[ \t]*\r?\n" + re.escape(indent) + r"(?=[^ \t\r\n\]}])")
        start = pos
        while True:
            try:
                value, end = STRICT_DECODER.raw_decode(buffer, pos)
            except json.JSONDecodeError as exc:
                if (exc.msg.startswith("Unterminated string") or exc.pos >= len(buffer) - 32) and refill():
                    continue
                error = f"element {index} is not valid JSON ({exc.msg} at character {consumed + exc.pos})"
            except ValueError as exc:
                if pos + 400 >= len(buffer) and refill():
                    continue
                error = f"element {index} is not strict JSON ({exc})"
            except RecursionError:
                error = f"element {index} is nested too deep"
            else:
                if end >= len(buffer) and refill():
                    continue  # a number or literal cut by the chunk boundary
                bad = BAD_BYTES.search(buffer, pos, end)
                error = f"element {index} is not UTF-8 (undecodable byte at character {consumed + bad.start()})" if bad else None
            break
        if error:
            yield from skip_bad(start, error)
            if pos < 0:
                return
            continue
        yield index, value, None
        index += 1
        pos = end
        if pos > CHUNK:
            buffer = buffer[pos:]
            consumed += pos
            pos = 0


class HubJsonSource(Source):
    """Base of adapters for JSON files in one hub dataset repository (see the module docstring)."""

    hub_repo: ClassVar[str] = ""
    hub_revision: ClassVar[str] = "main"
    hub_files: ClassVar[dict[str, str]] = {}  # file name in the repository → subset
    file_sha256: ClassVar[dict[str, str]] = {}  # sha256 of files at hub_revision, where known
    default_subset: ClassVar[str] = "train"

    def fetch(self, dest: Path, *, origin: str | None = None, revision: str | None = None,
              token: str | None = None, **_ignored: Any) -> dict[str, Any]:
        if origin in (None, "hub"):
            rev = revision or self.hub_revision
            commit = hub_snapshot(self.hub_repo, rev, dest, token=token, allow_patterns=[*self.hub_files, "README.md"])
            found = [name for name in self.hub_files if (dest / name).is_file()]
            if not found:
                raise FetchError(f"{self.hub_repo}@{rev} has none of the expected files {sorted(self.hub_files)}")
            if commit == self.hub_revision:  # the pinned commit: files whose published sha256 is known are checked
                for name, sha256 in self.file_sha256.items():
                    if (dest / name).is_file():
                        check_sha256(dest / name, sha256, f"{self.hub_repo}/{name}@{commit}")
            # ``revision`` is the commit actually downloaded (a branch name is resolved), ``requested`` what was asked
            return write_provenance(dest, kind="hub", repo=self.hub_repo, revision=commit, requested=rev,
                                    files_expected=sorted(self.hub_files))
        path = Path(origin)
        copy_local(path, dest)
        return write_provenance(dest, kind="local", path=str(path.resolve()))

    def version_of(self, raw: Path) -> str | None:
        provenance = read_provenance(raw) if raw.is_dir() else None
        if provenance and provenance.get("kind") == "hub":
            return f"{provenance.get('repo')}@{provenance.get('revision')}"
        return None

    def files(self, raw: Path) -> list[tuple[Path, str, str | None]]:
        """(path, name relative to ``raw``, subset or None when the record decides) of every file to read."""
        if raw.is_file():
            return [(raw, raw.name, self.hub_files.get(raw.name))]
        known = []
        for name, subset in self.hub_files.items():
            matches = sorted(p for p in raw.rglob(name) if p.is_file())
            known += [(p, p.relative_to(raw).as_posix(), subset) for p in matches[:1]]
        if known:
            return known
        others = sorted(p for p in raw.rglob("*") if p.is_file() and p.suffix in (".json", ".jsonl")
                        and p.name != "provenance.json" and not any(part.startswith(".") for part in p.relative_to(raw).parts))
        if not others:
            raise FetchError(f"{raw} holds none of {sorted(self.hub_files)} and no other .json/.jsonl file")
        return [(p, p.relative_to(raw).as_posix(), None) for p in others]

    def subset_of(self, value: Any) -> str:
        """The subset of a record read from a file whose name does not tell it."""
        return self.default_subset

    def source_id(self, value: Any, location: int) -> str | int:
        """The record's own id, else its position in the file."""
        return location

    def records(self, raw: Path, subsets: list[str] | None = None, shard: Shard | None = None) -> Iterator[RawRecord]:
        unknown = sorted(set(subsets or ()) - set(self.subsets))
        if unknown:
            raise FetchError(f"unknown {self.name} subsets {unknown}; known: {', '.join(self.subsets)}")
        for path, rel, subset in self.files(raw):
            if subsets and subset is not None and subset not in subsets:
                continue
            # every item is a record unless records are picked by their subset, which needs their content
            skip = shard.foreign if shard is not None and not (subsets and subset is None) else None
            for location, value, error in iter_json_records(path, skip):
                if value is SKIPPED:
                    yield RawRecord(subset or self.default_subset, rel, location, SKIPPED)
                    continue
                record_subset = subset or (self.default_subset if error else self.subset_of(value))
                if subsets and record_subset not in subsets:
                    continue
                if shard is not None and skip is None:
                    shard.foreign()
                if error:
                    yield RawRecord(record_subset, rel, location, Reject(error, raw=value))
                else:
                    yield RawRecord(record_subset, rel, location, value, source_id=self.source_id(value, location))
