"""Decontamination: find training samples whose user turns appear in an evaluation set.

Two checks on normalized user turns (see ``dedup.tokens``): exact match of a turn, and n-gram
overlap (13 tokens by default, as in the GPT-3 paper). Turns shorter than ``min_tokens`` (6: "hi",
"What time is it?") are too common to mean contamination and are skipped on both sides. Eval
turns shorter than n but at least ``min_contained`` (8) tokens long are also indexed whole, so a
short benchmark question pasted inside a longer prompt is still caught.

The evaluation sets are the ``evaluation_subsets`` of every registered source that is processed
in the store (a downloaded but unprocessed source is processed first), plus any extra corpus or
file the user names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from .dedup import tokens, user_turns
from ..format.jsonl import iter_samples
from ..format.sample import Sample, sample_id

DEFAULT_NGRAM = 13
DEFAULT_MIN_TOKENS = 6
DEFAULT_MIN_CONTAINED = 8


@dataclass(frozen=True)
class Contamination:
    """The evaluation sample a training sample overlaps with, and the overlapping text."""

    kind: str  # "exact" | "ngram"
    eval_set: str
    eval_id: str
    overlap: str

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "eval_set": self.eval_set, "eval_id": self.eval_id, "overlap": self.overlap}


def _windows(words: list[str], size: int) -> Iterator[tuple[str, ...]]:
    for start in range(len(words) - size + 1):
        yield tuple(words[start:start + size])


class EvalIndex:
    """Normalized user turns and their n-grams of evaluation samples, each mapped to its first eval sample."""

    def __init__(self, ngram: int = DEFAULT_NGRAM, min_tokens: int = DEFAULT_MIN_TOKENS,
                 min_contained: int = DEFAULT_MIN_CONTAINED) -> None:
        if ngram < 1 or min_tokens < 1:
            raise ValueError("ngram and min_tokens must be positive")
        self.ngram, self.min_tokens = ngram, min_tokens
        self.min_contained = max(min(min_contained, ngram), min_tokens)
        self._exact: dict[str, tuple[str, str]] = {}
        self._grams: dict[tuple[str, ...], tuple[str, str]] = {}
        self._sizes: set[int] = set()
        self.samples = 0

    def add(self, sample: Sample, eval_set: str) -> None:
        ref = (eval_set, sample_id(sample) or f"#{self.samples}")
        self.samples += 1
        for turn in user_turns(sample):
            words = tokens(turn)
            if len(words) < self.min_tokens:
                continue
            self._exact.setdefault(" ".join(words), ref)
            if len(words) < self.min_contained:
                continue
            size = min(len(words), self.ngram)
            self._sizes.add(size)
            for gram in _windows(words, size):
                self._grams.setdefault(gram, ref)

    def check(self, sample: Sample) -> Contamination | None:
        """The first overlap found (exact matches before n-grams), or None for a clean sample."""
        turns = [words for words in map(tokens, user_turns(sample)) if len(words) >= self.min_tokens]
        for words in turns:
            ref = self._exact.get(" ".join(words))
            if ref is not None:
                return Contamination("exact", ref[0], ref[1], " ".join(words))
        sizes = sorted(self._sizes, reverse=True)
        for words in turns:
            for size in sizes:
                for gram in _windows(words, size):
                    ref = self._grams.get(gram)
                    if ref is not None:
                        return Contamination("ngram", ref[0], ref[1], " ".join(gram))
        return None

    def __len__(self) -> int:
        return len(self._grams)


@dataclass
class EvalSet:
    """One evaluation set: a name (``SOURCE/subset`` or a path) and its unified JSONL files."""

    name: str
    files: list[Path] = field(default_factory=list)


def known_evaluation_sets(store, *, process_missing: bool = True,
                          log: Callable[[str], None] | None = None) -> tuple[list[EvalSet], list[str]]:
    """Every registered source's evaluation subsets found in the store, and what could not be found.

    A source that is downloaded but not processed is processed first (that is what makes its test
    data readable); one that is not even downloaded is reported as missing, never silently skipped.
    """
    from ..datasets.fetch import read_provenance
    from ..datasets.sources import FetchError, get_source, source_names
    from ..datasets.store import process

    found: list[EvalSet] = []
    missing: list[str] = []
    for name in source_names():
        try:
            source = get_source(name)
        except ImportError as exc:  # a registered adapter that cannot load must not stop every mix
            missing.append(f"{name}: adapter cannot be loaded ({exc})")
            continue
        if not source.evaluation_subsets:
            continue
        if store.manifest(source.name) is None:
            if process_missing and read_provenance(store.raw_dir(source.name)) is not None:
                if log:
                    log(f"{source.name} is downloaded but not processed: processing it to read its evaluation data …")
                try:
                    process(source, store, progress=False)
                except FetchError as exc:
                    missing.append(f"{source.name}: cannot be processed ({exc})")
                    continue
            else:
                missing.append(f"{source.name}: not processed in {store.root} (run `python datasets deal {source.name}`)")
                continue
        files = {path.stem: path for path in store.subset_files(source.name)}
        for subset in source.evaluation_subsets:
            if subset in files:
                found.append(EvalSet(f"{source.name}/{subset}", [files[subset]]))
    return found, missing


def build_index(sets: list[EvalSet], *, ngram: int = DEFAULT_NGRAM, min_tokens: int = DEFAULT_MIN_TOKENS,
                exclude: set[str] = frozenset()) -> tuple[EvalIndex, dict[str, int]]:
    """An index over the evaluation sets (those named in ``exclude`` left out) and their sample counts."""
    index = EvalIndex(ngram, min_tokens)
    counts: dict[str, int] = {}
    for eval_set in sets:
        if eval_set.name in exclude:
            continue
        before = index.samples
        for path in eval_set.files:
            for sample in iter_samples(path):
                index.add(sample, eval_set.name)
        counts[eval_set.name] = index.samples - before
    return index, counts
