"""The per-line work of ``trainer mix`` that needs no running state, so ``--workers`` processes can do it.

A job is a block of a file (whole lines, by byte range): the worker reads it itself, then for each
line parses (and validates, for JSONL paths) and works out what the caller needs to decide on it,
in a compact form: the sample id, the few fields the filters read (only when there are filters),
the contamination hit, the exact key, the MinHash signature of the user text (``uint32`` bytes,
all of a block's in one string) and step key, and whether the line is already written the way the
mix writes samples (then the mix copies its bytes). The parsed sample itself never travels back.
Which samples are kept (first copy wins) is decided afterwards, in order, by the caller, so the mix
is the same for any number of workers. The evaluation index and the MinHash settings reach each
worker once (``init``).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ..format.sample import Sample, dumps_sample, loads_line_or_lenient, sample_id
from .dedup import NearDeduper, exact_key, step_key, user_turns

_STATE: dict[str, Any] = {}


class Job(NamedTuple):
    path: str
    start: int  # byte offset of the block's first line
    end: int  # byte offset just past its last line
    validate: bool  # JSONL paths are validated, store files are trusted
    view: bool  # the caller filters: send ``filter_view`` of each sample


class Line(NamedTuple):
    """The facts of one line; they travel as a plain tuple in this order (cheaper to send back)."""

    number: int  # 1-based line number within the block
    offset: int  # byte offset of the line in the file
    reason: str | None  # why the line is not a sample (then nothing else is set)
    label: str | None = None  # sample id
    view: Sample | None = None  # ``filter_view``, when asked for
    hit: Any = None  # the Contamination found, if any
    exact: bytes | None = None
    signed: bool = False  # has a MinHash signature (in the block's signature bytes, in line order)
    group: bytes | None = None
    size: int = 0  # length of the line without its newline when it is ``dumps_sample`` of its sample, else 0


class Block(NamedTuple):
    lines: int  # lines in the block, blank ones included (for line numbers of later blocks)
    facts: list[tuple]  # its non-blank lines, as ``Line`` fields
    signatures: bytes  # ``uint32`` MinHash values of the signed lines, one after the other


def init(index: Any, near: tuple[float, int, int] | None, exact: bool) -> None:
    """Set up a worker: the evaluation index (or None), MinHash settings (threshold, num_perm, shingle) or None."""
    _STATE.clear()
    _STATE.update(index=index, near=NearDeduper(*near) if near else None, exact=exact)


def parse_sample_line(raw: bytes, validate: bool) -> tuple[Sample | None, str | None]:
    """A line → (sample, None) or (None, why it is rejected)."""
    try:
        sample, strict = loads_line_or_lenient(raw)
    except ValueError as exc:
        return None, f"invalid JSON: {exc}"
    if not isinstance(sample, list) or not all(isinstance(m, dict) for m in sample):
        return None, "not a sample (a JSON array of message objects)"
    if validate:
        from ..format.validate import validate_sample

        problems = validate_sample(sample, strict)
        if problems:
            return None, "invalid sample: " + "; ".join(str(p) for p in problems[:3])
    return sample, None


def filter_view(sample: Sample) -> Sample:
    """What ``recipe.Filters`` and ``recipe.sample_tags`` read of a sample: its id and meta messages
    (in the first three positions), the other messages left empty."""
    return [m if m.get("role") in ("id", "meta") else {} for m in sample[:3]]


def _copyable(sample: Sample, line: bytes) -> int:
    """``len(line)`` when the line is exactly what the mix would write for its sample, else 0."""
    try:
        return len(line) if dumps_sample(sample).encode("utf-8") == line else 0
    except (ValueError, UnicodeEncodeError):  # NaN, lone surrogates: the writer decides what happens
        return 0


def block_facts(job: Job) -> Block:
    """A block of lines → its ``Block`` of facts (after ``init``)."""
    with open(job.path, "rb") as handle:
        handle.seek(job.start)
        data = handle.read(job.end - job.start)
    pieces = data.split(b"\n")
    if pieces and not pieces[-1]:
        pieces.pop()  # the block ends with a newline
    near, index, exact = _STATE["near"], _STATE["index"], _STATE["exact"]
    facts: list[Line] = []
    signatures: list[bytes] = []
    offset = job.start
    for number, line in enumerate(pieces, 1):
        here, offset = offset, offset + len(line) + 1
        raw = line.strip()
        if not raw:
            continue
        sample, reason = parse_sample_line(raw, job.validate)
        if reason:
            facts.append((number, here, reason, None, None, None, None, False, None, 0))
            continue
        signed, group = False, None
        if near is not None:
            signature = near.signature("\n".join(user_turns(sample)))
            if signature is not None:
                signatures.append(signature.hashvalues.astype("uint32").tobytes())
                signed = True
            group = step_key(sample)
        facts.append((number, here, None, sample_id(sample), filter_view(sample) if job.view else None,
                      index.check(sample) if index is not None else None,
                      exact_key(sample) if exact else None, signed, group, _copyable(sample, line)))
    return Block(len(pieces), facts, b"".join(signatures))
