"""Duplicate detection for mixes: exact (normalized user turns + normalized calls) and near (MinHash/LSH).

Text is normalized once here for dedup and decontamination alike: Unicode NFKC, case-folded,
punctuation dropped; words are tokens, and each CJK character is a token of its own (those
scripts put no spaces between words). Both deduplicators keep the first copy they see, so the
caller's order (mix spec order, then file order) decides which copy survives.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from ..format.sample import CALL_ROLES, Sample, canonical_json

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
TOKEN_RE = re.compile(rf"[{_CJK}]|[^\W_{_CJK}]+")

DEFAULT_THRESHOLD = 0.8
DEFAULT_NUM_PERM = 128
DEFAULT_SHINGLE = 3
BATCH = 1024  # signatures per ``NearDeduper.check_batch`` round


def tokens(text: str) -> list[str]:
    """Normalized tokens of a text (NFKC, case-folded, no punctuation; CJK split per character)."""
    return TOKEN_RE.findall(unicodedata.normalize("NFKC", text).casefold())


def normalize_text(text: str) -> str:
    """The normalized form used for exact matching: tokens joined by single spaces."""
    return " ".join(tokens(text))


def user_turns(sample: Sample) -> list[str]:
    """The text of every user message, in order."""
    return [m["content"] for m in sample if m.get("role") == "user" and isinstance(m.get("content"), str)]


def calls_signature(sample: Sample) -> str:
    """Every call and ground-truth call as (role, name, parameters), in order, as canonical JSON."""
    calls = [[m["role"], [[c.get("name"), c.get("parameters")] for c in m["content"] if isinstance(c, dict)]]
             for m in sample if m.get("role") in CALL_ROLES and isinstance(m.get("content"), list)]
    return canonical_json(calls)


def step_key(sample: Sample) -> bytes:
    """What a sample teaches beyond its user text: its calls and its visible assistant turns.

    Step records (API-Bank lv3) repeat one dialogue's user text with a different call or target each;
    near-duplicate detection only joins samples whose step keys are equal, so none of them is lost.
    """
    answers = [normalize_text(m["content"]) for m in sample
               if m.get("role") == "assistant" and not m.get("hidden") and isinstance(m.get("content"), str)]
    return hashlib.blake2b(f"{calls_signature(sample)}\x1e{canonical_json(answers)}".encode("utf-8"), digest_size=16).digest()


def exact_key(sample: Sample) -> bytes:
    """A 16-byte key equal for samples with the same normalized user turns and the same calls."""
    text = "\x1f".join(normalize_text(turn) for turn in user_turns(sample))
    return hashlib.blake2b(f"{text}\x1e{calls_signature(sample)}".encode("utf-8"), digest_size=16).digest()


@dataclass(frozen=True)
class Duplicate:
    """Why a sample was dropped: which kept sample it duplicates, and how closely."""

    kind: str  # "exact" | "near"
    of: str  # label (sample id) of the copy that was kept
    similarity: float = 1.0

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "of": self.of, "similarity": round(self.similarity, 4)}


class ExactDeduper:
    """Remembers exact keys; ``check`` returns the duplicate found, or None and remembers the sample."""

    def __init__(self) -> None:
        self._seen: dict[bytes, str] = {}

    def check(self, sample: Sample, label: str) -> Duplicate | None:
        return self.check_key(exact_key(sample), label)

    def check_key(self, key: bytes, label: str) -> Duplicate | None:
        """``check`` with the sample's ``exact_key`` computed elsewhere (a worker process)."""
        first = self._seen.get(key)
        if first is not None:
            return Duplicate("exact", first)
        self._seen[key] = label
        return None

    def __len__(self) -> int:
        return len(self._seen)


def shingles(text: str, size: int) -> list[bytes]:
    """Word ``size``-grams of the normalized text (the whole text when shorter)."""
    words = tokens(text)
    if not words:
        return []
    if len(words) <= size:
        return ["\x1f".join(words).encode("utf-8")]
    return ["\x1f".join(words[i:i + size]).encode("utf-8") for i in range(len(words) - size + 1)]


class NearDeduper:
    """MinHash signatures of user text in an LSH index (datasketch); Jaccard estimate ≥ threshold → duplicate.

    LSH only proposes candidates; each is confirmed against its stored signature (and, when ``check``
    is given a ``group`` such as :func:`step_key`, only within the same group), and among the
    confirmed ones the earliest kept sample is reported, so the outcome does not depend on set order.
    """

    def __init__(self, threshold: float = DEFAULT_THRESHOLD, num_perm: int = DEFAULT_NUM_PERM,
                 shingle: int = DEFAULT_SHINGLE) -> None:
        from .lsh import BandIndex

        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"near-duplicate threshold must be in (0, 1], got {threshold}")
        self.threshold, self.num_perm, self.shingle = threshold, num_perm, shingle
        self._minhash = None  # datasketch (and the scipy it imports) only where signatures are made
        self._lsh = BandIndex(threshold, num_perm)  # datasketch's MinHashLSH candidates, a third of the memory
        self._labels: list[str] = []
        self._groups: list[bytes | None] = []

    def signature(self, text: str):
        """The MinHash of a text, or None when it has no tokens (such samples are never near-duplicates)."""
        grams = shingles(text, self.shingle)
        if not grams:
            return None
        if self._minhash is None:
            from datasketch import MinHash

            template = MinHash(num_perm=self.num_perm, seed=1)  # permutations built once, not per sample
            self._minhash = (MinHash, template.permutations, template.scheme)
        make, permutations, scheme = self._minhash
        minhash = make(num_perm=self.num_perm, seed=1, permutations=permutations, scheme=scheme)
        minhash.update_batch(grams)
        return minhash

    def check(self, text: str, label: str, group: bytes | None = None) -> Duplicate | None:
        minhash = self.signature(text)
        return None if minhash is None else self.check_values(minhash.hashvalues, label, group)

    def check_values(self, values: Any, label: str, group: bytes | None = None) -> Duplicate | None:
        """``check`` with the signature's hash values computed elsewhere (``signature(text).hashvalues``)."""
        if values is None:
            return None
        from .lsh import as_uint32

        return self.check_batch(as_uint32(values)[None], [label], [group])[0]

    def check_batch(self, values: Any, labels: list[str], groups: list[bytes | None]) -> list[Duplicate | None]:
        """``check_values`` for consecutive samples at once (a ``(samples, num_perm)`` array): the same outcome
        as one call each, in order, with a sample's earlier batch mates as possible originals.

        Band keys, index look-ups and insertions are done for the whole batch (``lsh.BandIndex``); only a
        sample that shares a band with a stored or an earlier sample of the batch is looked at on its own.
        """
        import numpy as np

        from .lsh import as_uint32

        values = as_uint32(values)
        lsh, count = self._lsh, len(values)
        if count > BATCH:  # a sample is compared with its earlier batch mates: keep that quadratic part small
            return [duplicate for start in range(0, count, BATCH)
                    for duplicate in self.check_batch(values[start:start + BATCH], labels[start:start + BATCH],
                                                      groups[start:start + BATCH])]
        out: list[Duplicate | None] = [None] * count
        if not count:
            return out
        keys = lsh.band_keys(values)
        heads = lsh.lookup(keys)
        look = (heads >= 0).any(axis=1)
        for band in range(lsh.b):  # a later sample with an earlier one's band key
            _, first = np.unique(keys[:, band], return_index=True)
            later = np.ones(count, dtype=bool)
            later[first] = False
            look |= later
        kept = np.ones(count, dtype=bool)
        width = lsh.b * lsh.r
        bands = values[:, :width].reshape(count, lsh.b, lsh.r)
        for j in np.flatnonzero(look).tolist():
            best = None  # (similarity, label of the earliest kept copy)
            for index in sorted(lsh.candidates(values[j], heads[j])):  # stored rows come before the batch's
                if self._groups[index] == groups[j]:
                    similarity = float((lsh.row(index) == values[j]).mean())
                    if similarity >= self.threshold:
                        best = (similarity, self._labels[index])
                        break
            if best is None and j:
                for i in np.flatnonzero(kept[:j] & (keys[:j] == keys[j]).any(axis=1)).tolist():
                    if groups[i] == groups[j] and (bands[i] == bands[j]).all(axis=1).any():
                        similarity = float((values[i] == values[j]).mean())
                        if similarity >= self.threshold:
                            best = (similarity, labels[i])
                            break
            if best is not None:
                kept[j] = False
                out[j] = Duplicate("near", best[1], best[0])
        lsh.insert_many(values[kept], keys[kept])
        self._labels.extend(label for label, keep in zip(labels, kept.tolist()) if keep)
        self._groups.extend(group for group, keep in zip(groups, kept.tolist()) if keep)
        return out

    def __len__(self) -> int:
        return len(self._labels)
