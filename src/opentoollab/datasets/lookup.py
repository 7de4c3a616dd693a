"""Find one sample by its id (``BFCL_live_simple_13``) in the processed corpora, or by ``FILE:LINE``.

Ids are ``<DATASET>_<subset>_<n>`` with n counting from 0 in the subset file, so the sample is normally on
line n + 1; the file is scanned when it is not (a hand-edited or filtered file). A training row's copy
suffix (``ID#2``) is ignored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

from ..format.jsonl import iter_lines
from .store import Store


class Found(NamedTuple):
    sample: Any
    path: Path
    line: int


class NotFound(LookupError):
    """The id or FILE:LINE names no sample; the message says where it looked."""


def _line(path: Path, number: int) -> Found | None:
    for line in iter_lines(path):
        if line.number == number:
            if line.error:
                raise NotFound(f"{path}:{number} is not a JSON sample: {line.error}")
            return Found(line.value, path, number)
    return None


def _by_id(path: Path, identifier: str, guess: int) -> Found | None:
    found = _line(path, guess) if guess > 0 else None
    if found is not None and _id_of(found.sample) == identifier:
        return found
    for line in iter_lines(path):
        if not line.error and _id_of(line.value) == identifier:
            return Found(line.value, path, line.number)
    return None


def _id_of(sample: Any) -> Any:
    if isinstance(sample, list) and sample and isinstance(sample[0], dict) and sample[0].get("role") == "id":
        return sample[0].get("content")
    return None


def locate(ref: str, store: Store) -> Found:
    """The sample ``ref`` names: ``FILE:LINE`` (1-based) or a sample id in ``store``'s processed corpora."""
    head, colon, tail = ref.rpartition(":")
    if colon and tail.isdigit() and Path(head).is_file():
        found = _line(Path(head), int(tail))
        if found is None:
            raise NotFound(f"{head} has no line {tail}")
        return found
    identifier = ref.partition("#")[0]
    names = sorted(store.processed_names(), key=len, reverse=True)  # "BFCL_memory" before "BFCL"
    for name in names:
        if not identifier.startswith(name + "_"):
            continue
        subset, _, number = identifier[len(name) + 1:].rpartition("_")
        path = store.processed_dir(name) / f"{subset}.jsonl"
        if subset and number.isdigit() and path.is_file():
            found = _by_id(path, identifier, int(number) + 1)
            if found is not None:
                return found
    raise NotFound(f"no sample {identifier!r} in the processed corpora of {store.root} "
                   f"({', '.join(names) or 'none'}); give FILE:LINE, or choose the data folder with --data-dir")
