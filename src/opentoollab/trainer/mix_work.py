"""The per-line work of ``trainer mix`` that needs no running state, so ``--workers`` processes can do it.

For each line: parse (and validate, for JSONL paths), then what the deduplicators and the
decontamination index need: the exact key, the MinHash values and step key of the user text, the
contamination hit. Which samples are kept (first copy wins) is decided afterwards, in order, by the
caller, so the mix is the same for any number of workers. The evaluation index and the MinHash
settings reach each worker once (``init``).
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from ..format.sample import Sample
from .dedup import NearDeduper, exact_key, step_key, user_turns

_STATE: dict[str, Any] = {}


class Facts(NamedTuple):
    number: int
    offset: int
    sample: Sample | None
    reason: str | None  # why the line is not a sample (then nothing else is set)
    exact: bytes | None = None
    near: Any = None  # MinHash hash values of the user text (None: no tokens, or near dedup off)
    group: bytes | None = None
    hit: Any = None  # the Contamination found, if any


def init(index: Any, near: tuple[float, int, int] | None, exact: bool) -> None:
    """Set up a worker: the evaluation index (or None), MinHash settings (threshold, num_perm, shingle) or None."""
    _STATE.clear()
    _STATE.update(index=index, near=NearDeduper(*near) if near else None, exact=exact)


def parse_sample_line(raw: bytes, validate: bool) -> tuple[Sample | None, str | None]:
    """A line → (sample, None) or (None, why it is rejected)."""
    try:
        sample = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return None, f"invalid JSON: {exc}"
    if not isinstance(sample, list) or not all(isinstance(m, dict) for m in sample):
        return None, "not a sample (a JSON array of message objects)"
    if validate:
        from ..format.validate import validate_sample

        problems = validate_sample(sample)
        if problems:
            return None, "invalid sample: " + "; ".join(str(p) for p in problems[:3])
    return sample, None


def line_facts(job: tuple[int, int, bytes, bool]) -> Facts:
    """(line number, byte offset, raw line, validate?) → its ``Facts`` (after ``init``)."""
    number, offset, raw, validate = job
    sample, reason = parse_sample_line(raw, validate)
    if reason:
        return Facts(number, offset, None, reason)
    near, group = _STATE["near"], None
    values = None
    if near is not None:
        signature = near.signature("\n".join(user_turns(sample)))
        values = None if signature is None else signature.hashvalues
        group = step_key(sample)
    index = _STATE["index"]
    return Facts(number, offset, sample, None, exact_key(sample) if _STATE["exact"] else None, values, group,
                 index.check(sample) if index is not None else None)
