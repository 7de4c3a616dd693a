"""What a corpus adapter is: fetch raw files, read raw records lazily, convert one record to samples.

An adapter is one module under ``opentoollab.datasets.sources`` defining a subclass of ``Source`` and one
registry line in ``opentoollab.datasets.sources.__init__``. Fetching (I/O) is kept apart from ``convert``,
which is a pure function raw record → sample(s) or ``Reject``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Iterator

from ...format.sample import Sample


class Reject(Exception):
    """Raised by ``convert`` for a record that cannot become a valid sample; the message is the reason.

    ``raw`` carries the unparsed text when a reader yields a Reject in place of a record.
    """

    def __init__(self, reason: str, raw: Any = None) -> None:
        super().__init__(reason)
        self.raw = raw


class FetchError(Exception):
    """A download or local copy failed; the message says what to do."""


class _Skipped:
    __slots__ = ()

    def __repr__(self) -> str:
        return "SKIPPED"


SKIPPED = _Skipped()  # the data of a record another worker converts: left unparsed by a sharded reader


class Shard:
    """The records one ``--workers`` process converts: ``index, index + count, …`` of the source's stream.

    Every worker reads the whole stream; an adapter whose ``records`` takes a ``shard`` argument lets its
    reader leave the other workers' records unparsed. Its one rule: call ``foreign()`` exactly once per
    record it yields, in order (a reader given ``foreign`` as its ``skip`` does so for every item it
    gives, so the adapter must then yield exactly one record per item). ``convert_shard`` stops with an
    error if a record of its own comes ``SKIPPED``."""

    def __init__(self, index: int, count: int) -> None:
        self.index, self.count, self.position = index, count, 0

    def foreign(self) -> bool:
        """Whether the next record belongs to another worker (and count it)."""
        mine = self.position % self.count == self.index
        self.position += 1
        return not mine


@dataclass
class RawRecord:
    """One record as read from a raw file, with where it came from."""

    subset: str
    source_file: str  # path relative to the raw folder (or the file given with --from)
    location: int | str  # 1-based line number for JSONL, 0-based index for JSON arrays, or a key
    data: Any
    source_id: str | int | None = None  # the record's own id, if it has one


@dataclass
class Context:
    """Options for one conversion run plus counters the adapter may bump (summed into the manifest)."""

    options: dict[str, Any] = field(default_factory=dict)
    counters: Counter = field(default_factory=Counter)

    def count(self, key: str, n: int = 1) -> None:
        self.counters[key] += n


class Source:
    """Base class of corpus adapters. Subclasses set the class attributes and implement the methods."""

    name: ClassVar[str] = ""  # canonical name, used in ids and folder names (e.g. "BFCL", "API-Bank")
    aliases: ClassVar[tuple[str, ...]] = ()
    license: ClassVar[str] = ""
    homepage: ClassVar[str] = ""
    description: ClassVar[str] = ""
    subsets: ClassVar[tuple[str, ...]] = ()
    evaluation_subsets: ClassVar[tuple[str, ...]] = ()  # subsets that are test sets (for decontamination)
    infer_links: ClassVar[bool] = True  # False: never add inferred <link>s (calls copied verbatim as ground truth)
    language_known: ClassVar[bool] = False  # True: meta.language comes from the corpus's own labels (not detected)

    def fetch(self, dest: Path, *, origin: str | None = None, revision: str | None = None, token: str | None = None) -> dict[str, Any]:
        """Put the raw files into ``dest`` and return the provenance record (see ``opentoollab.datasets.fetch``).

        ``origin`` is None for the default remote, or a local path / alternative remote the user named.
        """
        raise NotImplementedError

    def records(self, raw: Path, subsets: list[str] | None = None) -> Iterator[RawRecord]:
        """Yield raw records lazily, subset by subset. ``raw`` is a folder or a single file.

        A record that cannot even be parsed is yielded with ``data`` set to a ``Reject``.
        """
        raise NotImplementedError

    def convert(self, record: RawRecord, ctx: Context) -> Sample | list[Sample]:
        """One raw record → one sample (or several), WITHOUT the leading id message; raise Reject."""
        raise NotImplementedError

    def version_of(self, raw: Path) -> str | None:
        """A short version string for the manifest (package version, hub revision...)."""
        return None


# ---------------------------------------------------------------------------- helpers for adapters
def check_subsets(source: Source, subsets: list[str] | None) -> None:
    unknown = sorted(set(subsets or ()) - set(source.subsets))
    if unknown:
        raise FetchError(f"unknown {source.name} subsets {unknown}; known: {', '.join(source.subsets)}")


def find_files(raw: Path, names: dict[str, str]) -> list[tuple[Path, str, str]]:
    """(path, path relative to ``raw``, subset) of every file named in ``names`` below ``raw`` (or ``raw`` itself)."""
    if raw.is_file():
        if raw.name not in names:
            raise FetchError(f"{raw.name} is none of {sorted(names)}")
        return [(raw, raw.name, names[raw.name])]
    found = [(p, p.relative_to(raw).as_posix(), names[p.name]) for p in sorted(raw.rglob("*"))
             if p.is_file() and p.name in names and not any(part.startswith(".") for part in p.relative_to(raw).parts)]
    if not found:
        raise FetchError(f"{raw} holds none of {sorted(names)}")
    return found
