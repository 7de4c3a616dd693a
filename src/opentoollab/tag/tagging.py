"""Per-sample categories and rule verification (``python tag run``), and tags as filters.

``tag_sample(sample) -> record`` is pure: it never changes the sample. A record is::

    {"id", "categories": [...], "from_meta": [...], "language", "counts": {turns, calls, waves,
     tools, tokens}, "valid": bool, "problems": [{"rule", "path", "message"}]}

Categories (structure of the sample unless listed in ``from_meta``):

- call shape, exactly one per sample with known answers, decided by the widest call wave:
  ``no_call`` (answers known, no call), ``single`` (one call, one tool in force), ``multiple``
  (one call per wave, several tools in force), ``parallel`` (several independent calls in one
  wave, one tool), ``parallel_multiple`` (several calls in one wave, several tools). When one
  function is called several times while several tools are offered, structure cannot tell
  ``parallel`` from ``parallel_multiple`` (BFCL files such samples under both); a meta hint
  (``meta.subset``/``meta.tags``) decides, else ``parallel_multiple``.
- ``dependent`` (any ``depend_on``), ``multi_step`` (several call waves after one user message),
  ``multi_turn`` (several user messages; or a ``multi_turn`` meta hint).
- special: ``irrelevance`` (tools given and an explicit empty ground truth, or meta), ``relevance``
  (meta only: BFCL's "any call is right", no answer given, so no shape), ``miss_func`` (a later
  ``candidate_tools`` adds tools, or meta), ``long_context`` (a message of at least
  ``LONG_MESSAGE_TOKENS`` approximate tokens, or meta), ``miss_param`` (meta only: an unanswered
  user turn looks the same whether a parameter was missing or the turn needed no call).

Verification rules (reason codes, each problem with a JSON path into the sample):
``schema`` (sample JSON Schema; other rules are skipped), ``tool_schema_invalid``,
``unknown_tool``, ``missing_required``, ``type_mismatch``, ``enum_mismatch``, ``value_invalid``
(other JSON Schema keywords such as ``minimum`` or ``pattern``), ``undeclared_param``,
``link_unresolved``, ``call_unanswered``, ``empty_turn``, ``duplicate_turn``, ``tool_enum_conflict``
(an ``enum`` none of whose values has the declared type, e.g. string values on an ``array``: values
are then checked without that enum), plus the foundation validator's semantic rules
(``depend_on_unknown``, ``link_not_in_depend_on``…). Ground-truth parameters are lists of
acceptable values: every candidate except ``""`` (omit) is checked, with the candidate index in the
path; a nested object may hold candidate lists per key (BFCL's convention), accepted when either
reading conforms. A value equal to the parameter's declared ``default`` conforms (BFCL's
``None`` for an optional parameter whose default is ``None``).

Filtering (used by the mixing spec)::

    from opentoollab.tag.tagging import load_tags, matches
    tags = load_tags(store, "BFCL")              # {sample_id: record}; also "BFCL/subset" or a .jsonl path
    keep = [s for s in samples if matches(tags[sample_id(s)], include=["parallel", "multi_turn+dependent"],
                                          exclude=["invalid", "lang:zh"])]

``record_tags(record)`` is what ``matches`` sees: the categories, ``valid``/``invalid``,
``lang:<code>`` and ``problem:<rule>``. An include item ``a+b`` needs both tags.
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
from ..format.sample import Sample, assign_call_ids, dumps_sample, sample_id
from ..format.validate import checked_sample
# categories and rules live in their own modules; re-exported here, the public face of tagging
from .categories import CATEGORIES, FLOW, SHAPES, SPECIAL, approx_tokens, detect_language, meta_hints, structure  # noqa: F401
from .rules import COVERED, RULES, Findings, verify  # noqa: F401

TAGGER_VERSION = "2"  # 2: language from meta.language / format.language (py3langid on the user turns)
Record = dict[str, Any]


# ----------------------------------------------------------------------------- the tagger
def tag_sample(sample: Any) -> Record:
    """Categories, language, counts and rule problems of one sample (the sample is not changed)."""
    return _tagged(sample)[0]


def _tagged(sample: Any, strict: bool = False) -> tuple[Record, bytes | None]:
    """``tag_sample``'s record, and the sample's JSONL text (``dumps_sample``) as bytes when validation's
    orjson encoding is that text (else None). ``strict``: plain JSON values (``validate_sample``'s shortcut)."""
    if not isinstance(sample, list):
        return _record(None, [], [], "und", {}, [{"rule": "schema", "path": "$", "message": "a sample is a JSON array"}]), None
    identifier = sample_id(sample)
    problems, encoded = checked_sample(sample, strict)
    schema_problems = [p for p in problems if p.rule == "schema"]
    if schema_problems:
        return _record(identifier, [], [], "und", {},
                       [{"rule": "schema", "path": p.path, "message": p.message} for p in schema_problems]), None
    state = Findings([], {})
    for p in problems:
        if p.rule not in COVERED:
            state.add(p.rule, p.path, p.message)
    ids = assign_call_ids(sample)
    finite = not any(p.rule == "json" for p in problems)  # no NaN/Infinity
    exact = encoded if finite and encoded is not None and fastjson.exact_bytes(encoded, finite=True) else None
    categories, from_meta, language, counts = structure(sample, finite=finite, exact=exact is not None, ids=ids)
    verify(sample, state, ids)
    return _record(identifier, categories, from_meta, language, counts, state.problems), exact


def _record(identifier, categories, from_meta, language, counts, problems) -> Record:
    return {"id": identifier, "categories": categories, "from_meta": from_meta, "language": language,
            "counts": counts, "valid": not problems, "problems": problems}



# ----------------------------------------------------------------------------- records as filters
def record_tags(record: Record) -> set[str]:
    """The tags ``matches`` tests: categories, valid/invalid, lang:<code>, problem:<rule>."""
    tags = set(record.get("categories") or [])
    tags.add("valid" if record.get("valid") else "invalid")
    tags.add(f"lang:{record.get('language', 'und')}")
    tags.update(f"problem:{p['rule']}" for p in record.get("problems") or [])
    return tags


def matches(record: Record | None, include: Iterable[str] = (), exclude: Iterable[str] = ()) -> bool:
    """True when the record has any include item (``a+b``: all of a and b; no items: everything)
    and none of the exclude items. A missing record (untagged sample) matches only an empty include."""
    include, exclude = list(include), list(exclude)
    if record is None:
        return not include
    tags = record_tags(record)
    if include and not any(all(part in tags for part in item.split("+")) for item in include):
        return False
    return not any(all(part in tags for part in item.split("+")) for item in exclude)


# ----------------------------------------------------------------------------- files on disk
def tags_dir(store, name: str) -> Path:
    """DATA_DIR/tags/<NAME>: one <subset>.jsonl of records per subset, and manifest.json."""
    return Path(store.root) / "tags" / name


def tags_path_for(path: Path, store=None) -> Path:
    """Where the tags of one input file live: beside a processed subset under DATA_DIR/tags/<NAME>/,
    else beside the file itself as <stem>.tags.jsonl."""
    if store is not None:
        processed = Path(store.root) / "processed"
        try:
            relative = path.resolve().relative_to(processed.resolve())
            if len(relative.parts) == 2:
                return tags_dir(store, relative.parts[0]) / relative.name
        except ValueError:
            pass
    return path.with_name(f"{path.stem}.tags.jsonl")


def tag_file(path: Path, progress: Callable[[int], None] | None = None,
             judge: Callable[[Sample], dict] | None = None) -> Iterator[tuple[int, str, Record]]:
    """(line number, the sample's line, record) for every sample line of a JSONL file, in this process; bad
    lines give a record too (and their text). ``write_tags`` tags whole files on workers (``tag_block``)."""
    for line, record, text in _tagged_lines(path, judge):
        if progress:
            progress(1)
        yield line.number, line.text if line.error else text.decode("utf-8") if text else dumps_sample(line.value), record


def _tagged_lines(path: Path, judge: Callable[[Sample], dict] | None = None) -> Iterator[tuple[Any, Record, bytes | None]]:
    """(line, record, the sample's text if ``_tagged`` has it) for every line of a file; with a ``judge``
    (its client lives in this process), valid samples' records carry its verdict."""
    from ..format.jsonl import iter_lines

    for line in iter_lines(path):
        record, text = _line_tagged(line)
        if judge is not None and not line.error and record["valid"]:
            record = _with_judge(record, line.value, judge)
        yield line, record, text


def _line_tagged(line: Any) -> tuple[Record, bytes | None]:
    """A line's record (``line`` after ``id``) and, as ``_tagged`` gives it, its sample's text as bytes."""
    if line.error:
        record, text = _record(None, [], [], "und", {}, [{"rule": "json", "path": "$", "message": line.error}]), None
    else:
        record, text = _tagged(line.value, line.plain)
    return {"id": record["id"], "line": line.number, **{k: v for k, v in record.items() if k != "id"}}, text


def _with_judge(record: Record, sample: Sample, judge: Callable[[Sample], dict]) -> Record:
    verdict = judge(sample)
    problems = [*record["problems"], *(verdict.get("problems") or [])]
    return dict(record, problems=problems, valid=not problems,
                judge={k: v for k, v in verdict.items() if k != "problems"})


class Tally:
    """Running counts over records (constant memory): samples, valid, categories, rules, languages, tokens."""

    def __init__(self) -> None:
        self.samples = self.valid = self.tokens = 0
        self.categories: Counter = Counter()
        self.rules: Counter = Counter()
        self.languages: Counter = Counter()

    def add(self, record: Record) -> None:
        self.samples += 1
        self.valid += bool(record["valid"])
        self.categories.update(record["categories"])
        self.rules.update(dict.fromkeys(p["rule"] for p in record["problems"]).keys())  # once each, in order
        self.languages[record["language"]] += 1
        self.tokens += (record.get("counts") or {}).get("tokens", 0)

    def merge(self, other: "Tally") -> None:
        """Add another tally's counts (the same result as adding its records here, in order)."""
        self.samples += other.samples
        self.valid += other.valid
        self.tokens += other.tokens
        self.categories.update(other.categories)
        self.rules.update(other.rules)
        self.languages.update(other.languages)

    def result(self) -> dict[str, Any]:
        return {"samples": self.samples, "valid": self.valid, "invalid": self.samples - self.valid,
                "categories": {c: self.categories[c] for c in CATEGORIES if self.categories[c]},
                "problems": dict(self.rules.most_common()), "languages": dict(self.languages.most_common()),
                "tokens": self.tokens}


def summarize(records: Iterable[Record]) -> dict[str, Any]:
    """Counts over records: samples, valid, invalid, samples per category / rule / language, tokens."""
    tally = Tally()
    for record in records:
        tally.add(record)
    return tally.result()


def load_tag_file(path: str | os.PathLike) -> dict[str, Record]:
    """{sample id: record} of one tags file (records without an id are left out)."""
    from ..format.jsonl import iter_lines

    out = {}
    for line in iter_lines(path):
        if line.error is None and isinstance(line.value, dict) and line.value.get("id"):
            out[line.value["id"]] = line.value
    return out


def load_tags(store, name: str) -> dict[str, Record]:
    """{sample id: record} for a tagged corpus (``NAME`` or ``NAME/subset``) or a tagged .jsonl file.

    Raises FileNotFoundError with a hint when the tags were never written.
    """
    path = Path(name)
    if path.suffix == ".jsonl" and path.is_file():
        files = [tags_path_for(path, store)]
    else:
        corpus, _, subset = name.partition("/")
        folder = _find_tags_dir(store, corpus)
        files = [folder / f"{subset}.jsonl"] if subset else sorted(folder.glob("*.jsonl"))
    files = [f for f in files if f.is_file()]
    if not files:
        raise FileNotFoundError(f"no tags for {name!r}: run `python tag run --datasets {name}` first")
    out: dict[str, Record] = {}
    for file in files:
        out.update(load_tag_file(file))
    return out


def _find_tags_dir(store, corpus: str) -> Path:
    base = Path(store.root) / "tags"
    if base.is_dir():
        for folder in base.iterdir():
            if folder.is_dir() and folder.name.lower() == corpus.lower():
                return folder
    return base / corpus


def file_digest(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


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
            record, text = _line_tagged(line)
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
    for line, record, text in _tagged_lines(path, judge):
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
