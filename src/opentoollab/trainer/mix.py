"""Training mixes: a spec (``opentoollab.trainer.recipe``) → filtered, decontaminated, deduplicated, sampled samples.

Order of work, per entry in spec order and file order: read → reject malformed lines (JSONL files
are validated) → filters (subset, tag, language) → decontamination → exact dedup → near dedup →
the pool of available samples → a seeded draw of the requested amount. Only line offsets are kept
in memory; samples are read again when the mix is iterated. Same spec + seed → same bytes.

Data flow with ``--workers``: files are cut into blocks of whole lines (``BLOCK_BYTES``); workers read
their blocks themselves and send back compact facts per line (``mix_work``: id, contamination hit,
exact key, MinHash values as bytes, step key), never the parsed sample. This process decides, block by
block and in line order, what is kept (near duplicates of a block in one ``NearDeduper.check_batch``
round), so the outcome does not depend on the number of workers. Writing copies the bytes of lines that
are already in the mix's own form and re-serializes only the others.
May import: ``opentoollab.tag``, ``opentoollab.datasets``, ``opentoollab.format``.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import json
import random
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from .. import __version__
from ..format.jsonl import LinesAt
from ..format.sample import Sample, dumps_sample
from .decontaminate import EvalSet, build_index, known_evaluation_sets
from . import mix_work
from .dedup import Duplicate, ExactDeduper, NearDeduper
from ..format.parallel import Workers
from .recipe import Entry, MixError, MixSpec, TagInfo, load_spec, load_tag_index, sample_tags


# --- building ---------------------------------------------------------------------------------------


@dataclass
class EntryReport:
    """What happened to one entry; read = rejected + filtered + contaminated + duplicates + available."""

    input: str
    amount: str
    files: list[str] = field(default_factory=list)
    evaluation: list[str] = field(default_factory=list)
    read: int = 0
    rejected: int = 0
    filtered: int = 0
    contaminated: int = 0
    duplicate_exact: int = 0
    duplicate_near: int = 0
    available: int = 0
    requested: int = 0
    taken: int = 0
    upsampled: bool = False


STEPS = ("read", "rejected", "filtered", "contaminated", "duplicate_exact", "duplicate_near", "available", "requested", "taken")


class Mix:
    """The chosen samples of a mix, read lazily from their files in output order (re-iterable)."""

    def __init__(self, files: list[Path], picks: list[tuple[int, int]], sizes: array | None = None) -> None:
        self.files = files
        self.picks = picks  # (file index, byte offset of the line)
        # per pick: the line's length when it is written exactly as the mix writes its sample (then its
        # bytes are copied), else 0
        self.sizes = sizes if sizes is not None else array("q", bytes(8 * len(picks)))

    def __len__(self) -> int:
        return len(self.picks)

    def __iter__(self) -> Iterator[Sample]:
        with LinesAt() as lines:
            for file_index, offset in self.picks:
                yield json.loads(lines.read(self.files[file_index], offset))


BLOCK_BYTES = 1 << 19  # bytes of whole lines per worker job


def _blocks(path: Path, size: int | None = None) -> Iterator[tuple[int, int]]:
    """(start, end) byte ranges of whole lines covering the file, about ``size`` bytes each."""
    size = size or BLOCK_BYTES
    total = path.stat().st_size
    start = 0
    with open(path, "rb") as handle:
        while start < total:
            handle.seek(start + size - 1)
            handle.readline()  # to the end of the line holding the block's last byte
            end = min(handle.tell(), total) if start + size < total else total
            yield start, end
            start = end


@dataclass
class _Context:
    """Where a block comes from and how its lines are filtered."""

    entry: Entry
    spec: MixSpec
    path: Path
    file_index: int
    first: int  # line number before the block
    filtering: bool
    needs_tags: bool
    tag_index: dict[str, TagInfo]


def _decide(block: mix_work.Block, at: _Context, report: EntryReport, exact: ExactDeduper | None,
            near: NearDeduper | None, decontamination: dict[str, Any], removed: list[dict[str, Any]],
            kept: tuple[array, array, array]) -> None:
    """Keep or drop each line of a block, in order: rejected, filtered, contaminated, exact, near duplicate.

    Near duplicates are found for the block's remaining signed lines at once (``check_batch``), then
    removal records and kept lines are written down in line order.
    """
    signatures = None
    if near is not None and block.signatures:
        import numpy as np

        signatures = np.frombuffer(block.signatures, dtype=np.uint32).reshape(-1, near.num_perm)
    events: list[tuple] = []  # (number, offset, size, label, what: Duplicate | Contamination | reason | near check | None)
    rows: list[int] = []
    labels: list[str] = []
    groups: list[bytes | None] = []
    signed = -1
    for number, offset, reason, label, view, hit, key, has_signature, group, size in block.facts:
        signed += has_signature
        if reason:
            events.append((number, offset, size, None, reason))
            continue
        label = label or f"{at.path}:{at.first + number}"
        if at.filtering:
            tagged = _tag_info(at.tag_index, label, view) if at.needs_tags else None
            if not (at.entry.filters.accepts(view, tagged) and at.spec.filters.accepts(view, tagged)):
                report.filtered += 1
                continue
        if hit is not None:
            events.append((number, offset, size, label, hit))
            continue
        if exact is not None:
            duplicate = exact.check_key(key, label)
            if duplicate is not None:
                events.append((number, offset, size, label, duplicate))
                continue
        if signatures is not None and has_signature:
            events.append((number, offset, size, label, len(rows)))
            rows.append(signed)
            labels.append(label)
            groups.append(group)
        else:
            events.append((number, offset, size, label, None))
    found = near.check_batch(signatures[rows], labels, groups) if rows else []
    pool_files, pool_offsets, pool_sizes = kept
    for number, offset, size, label, what in events:
        if type(what) is int:
            what = found[what]
        if what is None:
            pool_files.append(at.file_index)
            pool_offsets.append(offset)
            pool_sizes.append(size)
            continue
        where = {"input": at.entry.input, "file": str(at.path), "line": at.first + number}
        if label is None:
            report.rejected += 1
            removed.append({"step": "reject", **where, "reason": what})
        elif isinstance(what, Duplicate):
            if what.kind == "exact":
                report.duplicate_exact += 1
            else:
                report.duplicate_near += 1
            removed.append({"step": "dedup", "id": label, **where, **what.as_dict()})
        else:
            report.contaminated += 1
            decontamination["removed"] += 1
            removed.append({"step": "decontaminate", "id": label, **where, **what.as_dict()})


def _entry_files(entry: Entry, store) -> tuple[list[Path], list[str], bool]:
    """The files of an entry, the evaluation sets among them, and whether it is a path (validated)."""
    from ..datasets.sources import canonical_name, get_source
    from ..datasets.store import resolve_inputs

    path = Path(entry.input)
    if path.suffix == ".jsonl":
        if not path.is_file():
            raise MixError(f"{entry.input}: file not found")
        return [path], [], True
    try:
        files = resolve_inputs([entry.input], store)
    except FileNotFoundError as exc:
        raise MixError(str(exc.args[0])) from None
    if entry.filters.subsets:
        unknown = sorted(set(entry.filters.subsets) - {f.stem for f in files})
        if unknown:
            raise MixError(f"{entry.input} has no subset {', '.join(unknown)}; it has {', '.join(f.stem for f in files)}")
        files = [f for f in files if f.stem in entry.filters.subsets]
    canonical = canonical_name(entry.input.partition("/")[0])
    evaluation = []
    if canonical is not None:
        marked = set(get_source(canonical).evaluation_subsets)
        evaluation = [f"{canonical}/{f.stem}" for f in files if f.stem in marked]
    return files, evaluation, False


def _pick(rng: random.Random, available: int, wanted: int) -> list[int]:
    """Indices into the pool: without replacement up to its size, then whole passes plus a sampled rest."""
    if available == 0 or wanted == 0:
        return []
    passes, rest = divmod(wanted, available)
    return sorted(list(range(available)) * passes + rng.sample(range(available), rest))


def build_mix(spec: str | Path | MixSpec, store, seed: int | None = None, *, progress: bool = False,
              log: Callable[[str], None] | None = None, workers: int | None = 1,
              **overrides: Any) -> tuple[Mix, dict[str, Any]]:
    """Build a mix: (the chosen samples, lazily re-readable; the manifest of what went in and out).

    ``workers`` processes read, parse, validate, key and check blocks of lines (``mix_work``); what is kept
    is decided here, in order, so the mix is the same for any number (None: every core).

    ``seed`` and ``overrides`` (any MixSpec field, None meaning "keep the spec's") take precedence
    over a recipe's values. Raises MixError for a spec that cannot be honoured.
    """
    spec = load_spec(spec)
    changes = {k: v for k, v in overrides.items() if v is not None}
    if seed is not None:
        changes["seed"] = seed
    unknown = set(changes) - {f.name for f in dataclasses.fields(MixSpec)}
    if unknown:
        raise TypeError(f"unknown mix option(s): {', '.join(sorted(unknown))}")
    spec = dataclasses.replace(spec, **changes)
    warnings: list[str] = []
    removed: list[dict[str, Any]] = []

    plans = [(entry, *_entry_files(entry, store)) for entry in spec.entries]
    trained_on_eval = sorted({name for _e, _f, evaluation, _p in plans for name in evaluation})
    if trained_on_eval and not spec.allow_eval:
        raise MixError(f"the mix includes evaluation data ({', '.join(trained_on_eval)}); a model trained on it "
                       f"cannot be evaluated on it. Pass --allow-eval (recipe: decontaminate.allow_eval) to do it anyway.")
    if trained_on_eval:
        warnings.append(f"TRAINING ON EVALUATION DATA: {', '.join(trained_on_eval)} — scores of a model trained on "
                        f"this mix on these sets are not evaluation results.")

    decontamination: dict[str, Any] = {"enabled": spec.decontaminate}
    index = None
    if spec.decontaminate:
        sets, missing = known_evaluation_sets(store, log=log)
        for extra in spec.eval_sets:
            files, _evaluation, _is_path = _entry_files(Entry(extra), store)
            sets.append(EvalSet(extra, files))
        index, counts = build_index(sets, ngram=spec.ngram, min_tokens=spec.min_tokens, exclude=set(trained_on_eval))
        decontamination.update(ngram=spec.ngram, min_tokens=spec.min_tokens, against=counts,
                               excluded=trained_on_eval, missing=missing, removed=0)
        for item in missing:
            warnings.append(f"NOT CHECKED for contamination against {item}")
        if not counts:
            warnings.append("NO EVALUATION SET FOUND: this mix was not checked for benchmark contamination")
    else:
        warnings.append("DECONTAMINATION DISABLED: this mix was not checked against any evaluation set")

    exact = ExactDeduper() if spec.dedup else None
    near = NearDeduper(spec.near_threshold, spec.num_perm, spec.shingle) if spec.near_dedup else None

    from tqdm import tqdm

    files: list[Path] = []
    reports: list[EntryReport] = []
    pools: list[tuple[array, array, array]] = []
    bar = tqdm(desc="mix", unit=" samples", disable=None if progress else True, leave=False, mininterval=0.5)
    near_settings = (spec.near_threshold, spec.num_perm, spec.shingle) if near is not None else None
    pool = Workers(workers, mix_work.init, (index, near_settings, exact is not None))
    for entry, entry_files, evaluation, is_path in plans:
        report = EntryReport(entry.input, entry.amount, [str(f) for f in entry_files], evaluation)
        needs_tags, tagged_any = entry.filters.needs_tags or spec.filters.needs_tags, False
        filtering = bool(entry.filters or spec.filters)
        kept = (array("i"), array("q"), array("q"))
        for path in entry_files:
            file_index = len(files)
            files.append(path)
            tag_index = load_tag_index(path, store) if needs_tags else {}
            tagged_any = tagged_any or bool(tag_index)
            jobs = (mix_work.Job(str(path), start, end, is_path, filtering) for start, end in _blocks(path))
            first = 0  # line number before the block
            for block in pool.imap(mix_work.block_facts, jobs, chunk=1):
                bar.update(len(block.facts))
                report.read += len(block.facts)
                context = _Context(entry, spec, path, file_index, first, filtering, needs_tags, tag_index)
                _decide(block, context, report, exact, near, decontamination, removed, kept)
                first += block.lines
        report.available = len(kept[1])
        if needs_tags and not tagged_any and report.read and report.filtered == report.read - report.rejected:
            warnings.append(f"{entry.input}: no sample passed the tag/language filter and it has no tag files: "
                            f"run `python tag run --datasets {entry.input}` first")
        reports.append(report)
        pools.append(kept)
    pool.close()
    bar.close()

    picks: list[tuple[int, int, int]] = []
    for number, (entry, report, (pool_files, pool_offsets, pool_sizes)) in enumerate(zip(spec.entries, reports, pools)):
        report.requested = entry.wanted(report.available)
        rng = random.Random(f"{spec.seed}/{number}/{entry.input}")
        chosen = _pick(rng, report.available, report.requested)
        report.taken = len(chosen)
        report.upsampled = report.requested > report.available > 0
        if report.upsampled:
            warnings.append(f"{entry.input}: {report.requested} requested but {report.available} available — "
                            f"sampled with replacement (each sample {report.requested / report.available:.2f}× on average)")
        if report.requested and not report.available:
            warnings.append(f"{entry.input}: {report.requested} requested but nothing is available after filtering and cleaning")
        picks.extend((pool_files[i], pool_offsets[i], pool_sizes[i]) for i in chosen)
    if spec.shuffle:
        random.Random(f"{spec.seed}/shuffle").shuffle(picks)

    mix = Mix(files, [(f, o) for f, o, _s in picks], array("q", (s for _f, _o, s in picks)))
    totals = {step: sum(getattr(r, step) for r in reports) for step in STEPS}
    manifest = {
        "kind": "mix",
        "opentoollab_version": __version__,
        "seed": spec.seed,
        "spec": spec.describe(),
        "sources": [dataclasses.asdict(r) for r in reports],
        "totals": totals,
        "dedup": {"exact": spec.dedup, "near": spec.near_dedup and {"threshold": spec.near_threshold,
                                                                   "num_perm": spec.num_perm, "shingle": spec.shingle},
                  "removed_exact": totals["duplicate_exact"], "removed_near": totals["duplicate_near"]},
        "decontamination": decontamination,
        "trained_on_evaluation": trained_on_eval,
        "warnings": warnings,
        "removed": removed,
    }
    return mix, manifest


def _tag_info(index: dict[str, TagInfo], label: str, sample: Sample) -> TagInfo:
    found = index.get(label)
    own = sample_tags(sample)
    if found is None:
        return TagInfo(frozenset(own), None)
    return TagInfo(found.tags | own, found.language) if own else found


def output_paths(out: str | Path) -> tuple[Path, Path, Path]:
    """The mix file and, beside it, its manifest and its removal report."""
    out = Path(out)
    stem = out.name[: -len(".jsonl")] if out.name.endswith(".jsonl") else out.name
    return out, out.with_name(f"{stem}.manifest.json"), out.with_name(f"{stem}.removed.jsonl")


def write_mix(out: str | Path, mix: Mix, manifest: dict[str, Any]) -> dict[str, Any]:
    """Write the samples (unified JSONL), the manifest and the removal report, all atomically.

    Returns the manifest as written: without the per-sample removal list (that is the report
    file), with the output's path, sample count and sha256.
    """
    from ..format.jsonl import write_json, write_jsonl

    path, manifest_path, removed_path = output_paths(out)
    count, digest = _write_lines(path, mix)
    written = {k: v for k, v in manifest.items() if k != "removed"}
    written["output"] = {"path": str(path), "samples": count, "sha256": digest,
                         "removed_report": str(removed_path), "removed": len(manifest["removed"])}
    write_jsonl(removed_path, manifest["removed"])
    write_json(manifest_path, written)
    return written


def _write_lines(path: Path, mix: Mix) -> tuple[int, str]:
    """Write the mix's samples (the bytes ``write_samples`` would write), hashing as it goes: (count, sha256).

    A line already written the way ``dumps_sample`` writes its sample is copied as it is (``os.pread``:
    no seek, no parsing, and no memory map whose pages would count as the process's memory).
    """
    import hashlib
    import os

    from ..format.jsonl import atomic_writer

    from concurrent.futures import ThreadPoolExecutor

    digest = hashlib.sha256()
    buffer: list[bytes] = []
    size = 0
    written: collections.deque = collections.deque()

    def sink(block: bytes) -> None:  # writing and hashing release the GIL: a thread does them while lines are read
        handle.write(block)
        digest.update(block)

    with atomic_writer(path, "wb") as handle, LinesAt() as lines, contextlib.ExitStack() as stack, \
            ThreadPoolExecutor(1) as writer:  # one thread: blocks are written and hashed in order
        descriptors = [stack.enter_context(open(file, "rb")).fileno() for file in mix.files]
        for (file_index, offset), length in zip(mix.picks, mix.sizes):
            if length:
                buffer.append(os.pread(descriptors[file_index], length, offset))
                buffer.append(b"\n")
                size += length
            else:
                line = (dumps_sample(json.loads(lines.read(mix.files[file_index], offset))) + "\n").encode("utf-8")
                buffer.append(line)
                size += len(line)
            if size >= 1 << 20:
                written.append(writer.submit(sink, b"".join(buffer)))
                buffer, size = [], 0
                while len(written) > 4:  # at most a few MB waiting
                    written.popleft().result()
        written.append(writer.submit(sink, b"".join(buffer)))
        for block in written:
            block.result()
    return len(mix.picks), digest.hexdigest()
