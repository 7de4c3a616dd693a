"""Writing tags (``python tag run``): where each input's tags go, and tagging files in blocks of whole lines.

``plan_units`` decides the files, ``write_tags`` writes them (one pool of workers for every input, each
tagging ~1 MB blocks of lines with ``tag_block``; the same bytes for any number of workers), with the
manifest, and with ``--drop-invalid`` a filtered copy of each input. What a record is: ``tagging``.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from ..format import fastjson
from ..format.sample import Sample, dumps_sample
from .tagging import (CATEGORIES, RULES, TAGGER_VERSION, Record, Tally, line_tagged, tagged_lines, file_digest, now,
                      tags_path_for)

# ----------------------------------------------------------------------------- writing tags
@dataclass
class Unit:
    """One input file and where its tags (and, with --drop-invalid, its filtered copy) go."""

    key: str  # subset name or file stem
    source: Path
    tags: Path
    folder: Path  # holds manifest.json (and valid/ for the filtered copy)
    manifest_name: str


def plan_units(files: list[Path], store, out: str | os.PathLike | None = None) -> list[Unit]:
    """Where each input's tags go: DATA_DIR/tags/<NAME>/<subset>.jsonl for processed corpora,
    <stem>.tags.jsonl beside any other file. With ``out``, the same layout under it: processed
    corpora in ``out/<NAME>/`` (each with its manifest, so two corpora with a ``train`` subset never
    share a file), other files as ``out/<stem>.jsonl``.

    Raises ValueError when two different inputs would write the same tags file.
    """
    units = []
    for path in files:
        tags = tags_path_for(path, store)
        processed = tags.name == path.name  # a processed subset: DATA_DIR/tags/<NAME>/<subset>.jsonl
        if out is not None:
            folder = Path(out) / tags.parent.name if processed else Path(out)
            units.append(Unit(path.stem, path, folder / f"{path.stem}.jsonl", folder, "manifest.json"))
        elif processed:
            units.append(Unit(path.stem, path, tags, tags.parent, "manifest.json"))
        else:
            units.append(Unit(path.stem, path, tags, path.parent, f"{path.stem}.tags.manifest.json"))
    seen: dict[Path, Unit] = {}
    planned = []
    for unit in units:
        other = seen.get(unit.tags)
        if other is not None:
            if other.source.resolve() == unit.source.resolve():
                continue  # the same input named twice: tag it once
            raise ValueError(f"{other.source} and {unit.source} would both write their tags to {unit.tags}; "
                             f"tag them in separate runs (or with separate --out folders)")
        seen[unit.tags] = unit
        planned.append(unit)
    return planned


def corpora_of(units: list[Unit], store) -> list[str]:
    """The processed corpora whose subsets the units tag (their write locks are taken while tagging)."""
    processed = (Path(store.root) / "processed").resolve()
    names = set()
    for unit in units:
        try:
            relative = unit.source.resolve().relative_to(processed)
        except ValueError:
            continue
        if len(relative.parts) == 2:
            names.add(relative.parts[0])
    return sorted(names)


def write_tags(units: list[Unit], *, drop_invalid: bool = False, ignore: Iterable[str] = (),
               judge: Callable[[Sample], dict] | None = None, judge_info: dict | None = None,
               progress: Callable[[int], None] | None = None, workers: int | None = 1) -> dict[Path, dict]:
    """Tag every unit, write records (and filtered copies) atomically; returns {manifest path: manifest}.
    ``workers``: processes tagging blocks of lines in parallel (None: every core; one pool for all units;
    with a ``judge``, one process); the files are the same bytes for any number."""
    from ..format.jsonl import atomic_writer, write_json
    from ..format.parallel import Workers

    ignore = set(ignore)
    started = time.perf_counter()
    manifests: dict[Path, dict] = {}
    with Workers(1 if judge is not None else workers, preload=[__name__]) as pool:
        for unit in units:
            manifest_path = unit.folder / unit.manifest_name
            manifest = manifests.get(manifest_path) or _read_manifest(manifest_path)
            manifests[manifest_path] = manifest
            if judge is None:
                blocks, digest = _tag_blocks(unit.source, pool, drop_invalid, ignore)
            else:
                blocks, digest = _judged_blocks(unit.source, judge, drop_invalid, ignore), None
            tally, kept, dropped = Tally(), 0, []
            with contextlib.ExitStack() as stack:
                handle = stack.enter_context(atomic_writer(unit.tags, "wb"))
                valid = stack.enter_context(atomic_writer(unit.folder / "valid" / f"{unit.key}.jsonl", "wb")) if drop_invalid else None
                for block in blocks:
                    handle.write(block.tags)
                    tally.merge(block.tally)
                    if valid is not None:
                        valid.write(block.valid)
                        kept += block.kept
                        dropped.extend(block.dropped)
                    if progress:
                        progress(block.tally.samples)
            sha256 = digest.hexdigest() if digest is not None else file_digest(unit.source)
            entry = {"file": str(unit.source), "sha256": sha256, "tags": str(unit.tags), **tally.result()}
            if drop_invalid:
                entry["filtered"] = _record_filtered(unit, kept, dropped, ignore)
            manifest["subsets"][unit.key] = entry
    for manifest_path, manifest in manifests.items():
        manifest.update(tagger_version=TAGGER_VERSION, rules=list(RULES), written_at=now(),
                        seconds=round(time.perf_counter() - started, 3), judge=judge_info,
                        totals=_totals(manifest["subsets"].values()))
        write_json(manifest_path, manifest)
    return manifests


# ----------------------------------------------------------------------------- blocks of lines
BLOCK_BYTES = 1 << 20  # input per job a worker gets: whole lines, ~500 samples of 2 KB
MIN_BLOCK_BYTES = 1 << 16  # smaller files are cut finer (4 blocks a worker), down to this
_BOM = b"\xef\xbb\xbf"


@dataclass
class Block:
    """What tagging a run of lines gives: its tags lines, the filtered copy's lines (``valid``: the kept
    samples, ``dropped``: why the others went) and the counts over its records."""

    tags: bytes
    tally: "Tally"
    valid: bytes = b""
    kept: int = 0
    dropped: list = field(default_factory=list)


class _BlockWriter:
    """Collects the lines of one block (the same for a worker's block and the judge's one-line blocks)."""

    def __init__(self, source: str, drop_invalid: bool, ignore: Iterable[str]) -> None:
        self.source, self.drop_invalid, self.ignore = source, drop_invalid, set(ignore)
        self.tags: list[bytes] = []
        self.valid: list[bytes] = []
        self.dropped: list[dict] = []
        self.tally = Tally()

    def add(self, number: int, record: Record, sample: Sample | None, text: bytes | None = None) -> None:
        self.tags.append(json_line(record))
        self.tally.add(record)
        if not self.drop_invalid:
            return
        blocking = [p for p in record["problems"] if p["rule"] not in self.ignore]
        if blocking:
            self.dropped.append({"id": record["id"], "file": self.source, "line": number,
                                 "rules": sorted({p["rule"] for p in blocking}), "problems": blocking})
        else:  # a line without problems parsed, so ``sample`` is its value (``text``: its dumps_sample, if known)
            self.valid.append((text or dumps_sample(sample).encode("utf-8")) + b"\n")

    def block(self) -> Block:
        return Block(b"".join(self.tags), self.tally, b"".join(self.valid), len(self.valid), self.dropped)


def json_line(value: Any) -> bytes:
    """One JSONL line of ``value``: compact UTF-8 JSON, as ``write_jsonl`` writes it; a lone surrogate
    (which UTF-8 cannot hold: a sample id with ``\\ud800`` in it) is written escaped instead of failing."""
    data = fastjson.dumps_bytes(value)  # not finite=True: a judge's verdict may hold NaN, which json writes
    if data is None:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:
            data = json.dumps(value, separators=(",", ":")).encode("ascii")
    return data + b"\n"


def tag_block(job: tuple[str, int, int, int, bool, tuple[str, ...]]) -> Block:
    """Tag the lines of one byte range of a JSONL file (``path, offset, size, number of its first line,
    drop_invalid, ignored rules``): the pure per-block step of ``write_tags``, run in the workers. Lines
    are split, numbered and parsed exactly as ``format.jsonl.iter_lines`` does."""
    from ..format.jsonl import parse_line

    path, offset, size, number, drop_invalid, ignore = job
    with open(path, "rb") as handle:
        handle.seek(offset)
        data = handle.read(size)
    writer = _BlockWriter(path, drop_invalid, ignore)
    pieces = data.split(b"\n")
    last = len(pieces) - 1
    for index, piece in enumerate(pieces):
        if index < last:
            piece += b"\n"
        if number + index == 1 and piece.startswith(_BOM):
            piece = piece[3:]
        if piece.strip():
            line = parse_line(path, number + index, piece)
            record, text = line_tagged(line)
            writer.add(number + index, record, line.value, text)
    return writer.block()


def _blocks(path: Path, digest: Any, size: int | None = None) -> Iterator[tuple[int, int, int]]:
    """(offset, size, number of its first line) of consecutive runs of whole lines of about ``size`` bytes
    (``BLOCK_BYTES``) covering the file; every byte read also goes into ``digest`` (one read for both)."""
    start = position = 0
    number = 1
    with open(path, "rb") as handle:
        while data := handle.read(size or BLOCK_BYTES):
            digest.update(data)
            cut = data.rfind(b"\n") + 1
            position += len(data)
            if cut:  # a block ends at the last newline read: its lines are whole
                end = position - len(data) + cut
                yield start, end - start, number
                number += data.count(b"\n")
                start = end
    if position > start:
        yield start, position - start, number


def _tag_blocks(path: Path, pool: Any, drop_invalid: bool, ignore: set[str]) -> tuple[Iterator[Block], Any]:
    """The blocks of one file tagged on ``pool`` (in order), and the sha256 of the file read on the way
    (complete once the blocks are)."""
    import hashlib

    digest = hashlib.sha256()
    rules = tuple(sorted(ignore))
    size = min(BLOCK_BYTES, max(MIN_BLOCK_BYTES, path.stat().st_size // (4 * pool.workers)))
    jobs = ((str(path), offset, length, number, drop_invalid, rules)
            for offset, length, number in _blocks(path, digest, size))
    return pool.imap(tag_block, jobs, chunk=1), digest


def _judged_blocks(path: Path, judge: Callable[[Sample], dict], drop_invalid: bool, ignore: set[str]) -> Iterator[Block]:
    """One block per line, each valid sample's record with the judge's verdict (its client lives here)."""
    for line, record, text in tagged_lines(path, judge):
        writer = _BlockWriter(str(path), drop_invalid, ignore)
        writer.add(line.number, record, line.value, text)
        yield writer.block()


def _read_manifest(path: Path) -> dict:
    try:
        manifest = json.loads(path.read_text("utf-8"))
        if isinstance(manifest.get("subsets"), dict):
            return manifest
    except (OSError, ValueError):
        pass
    return {"subsets": {}}


def _record_filtered(unit: Unit, kept: int, dropped: list[dict], ignore: set[str]) -> dict:
    """Write what was dropped and why beside the filtered copy, and the filtered copy's manifest."""
    from ..format.jsonl import atomic_writer, write_json

    folder = unit.folder / "valid"
    target = folder / f"{unit.key}.jsonl"
    with atomic_writer(folder / f"{unit.key}.dropped.jsonl", "wb") as handle:
        handle.writelines(map(json_line, dropped))
    by_rule = Counter(rule for row in dropped for rule in row["rules"])
    summary = {"in": kept + len(dropped), "kept": kept, "dropped": len(dropped),
               "dropped_by_rule": dict(by_rule.most_common()), "ignored_rules": sorted(ignore),
               "path": str(target), "dropped_list": str(folder / f"{unit.key}.dropped.jsonl")}
    manifest_path = folder / "manifest.json"
    manifest = _read_manifest(manifest_path)
    manifest["subsets"][unit.key] = summary
    manifest["totals"] = {k: sum(row[k] for row in manifest["subsets"].values()) for k in ("in", "kept", "dropped")}
    manifest["written_at"] = now()
    write_json(manifest_path, manifest)
    return summary


def _totals(entries: Iterable[dict]) -> dict[str, Any]:
    totals: dict[str, Any] = {"samples": 0, "valid": 0, "invalid": 0, "tokens": 0}
    counters: dict[str, Counter] = {"categories": Counter(), "problems": Counter(), "languages": Counter()}
    for entry in entries:
        for key in totals:
            totals[key] += entry.get(key, 0)
        for key, counter in counters.items():
            counter.update(entry.get(key) or {})
    totals["categories"] = {c: counters["categories"][c] for c in CATEGORIES if counters["categories"][c]}
    totals["problems"] = dict(counters["problems"].most_common())
    totals["languages"] = dict(counters["languages"].most_common())
    return totals
