"""Training mixes: a spec (command line or YAML recipe) → filtered, decontaminated, deduplicated, sampled samples.

Spec on the command line: ``ToolACE:2500,xLAM:0.5,BFCL/simple_python,generated/run1.jsonl`` — each
entry a processed corpus (``NAME`` or ``NAME/subset``) or a unified JSONL file, then optionally ``:N``
(an exact count) or ``:0.x`` (a share). The recipe file holds the same plus per-entry filters and
every option (docs/mixing.md).

Order of work, per entry in spec order and file order: read → reject malformed lines (JSONL files
are validated) → filters (subset, tag, language) → decontamination → exact dedup → near dedup →
the pool of available samples → a seeded draw of the requested amount. Only line offsets are kept
in memory; samples are read again when the mix is iterated. Same spec + seed → same bytes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from . import __version__
from .dedup import DEFAULT_NUM_PERM, DEFAULT_SHINGLE, DEFAULT_THRESHOLD, Duplicate, ExactDeduper, NearDeduper, user_turns
from .decontaminate import DEFAULT_MIN_TOKENS, DEFAULT_NGRAM, EvalSet, build_index, known_evaluation_sets
from .sample import Sample, meta, sample_id

RECIPE_SUFFIXES = (".yaml", ".yml")


class MixError(ValueError):
    """A spec that cannot be built as asked (unknown corpus, bad amount, evaluation data without the flag)."""


@dataclass(frozen=True)
class Filters:
    """Which samples of an entry take part: by ``meta.subset``, tags and language.

    Tags follow ``python tag``'s filter language: a sample passes when it has any of ``tags``
    (an item ``a+b`` needs both) and none of ``exclude_tags``. A sample's tags are its record in
    the tag files written by ``python tag run`` (categories, valid/invalid, lang:xx, problem:rule),
    or, for untagged data, its ``meta.tags``. Language is ``meta.language``, else the tagger's.
    """

    subsets: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    exclude_tags: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.subsets or self.tags or self.exclude_tags or self.languages)

    @property
    def needs_tags(self) -> bool:
        return bool(self.tags or self.exclude_tags or self.languages)

    def accepts(self, sample: Sample, tagged: TagInfo | None = None) -> bool:
        info = meta(sample)
        if self.subsets and info.get("subset") not in self.subsets:
            return False
        if self.languages and (info.get("language") or (tagged and tagged.language)) not in self.languages:
            return False
        if self.tags or self.exclude_tags:
            have = tagged.tags if tagged is not None else sample_tags(sample)
            if self.tags and not any(_has_all(have, item) for item in self.tags):
                return False
            if any(_has_all(have, item) for item in self.exclude_tags):
                return False
        return True

    def describe(self) -> dict[str, list[str]]:
        return {k: list(v) for k, v in dataclasses.asdict(self).items() if v}


def _has_all(have: set[str] | frozenset[str], item: str) -> bool:
    return all(part in have for part in item.split("+"))


@dataclass(frozen=True)
class TagInfo:
    """What the filters need from a tag record: its tag set and detected language."""

    tags: frozenset[str]
    language: str | None


def load_tag_index(path: Path, store) -> dict[str, TagInfo]:
    """{sample id: TagInfo} from the tag file ``python tag run`` wrote for ``path`` ({} when untagged).

    ``meta.tags`` of the sample are merged in by the caller through ``sample_tags``.
    """
    from .tagging import load_tag_file, record_tags, tags_path_for

    tag_path = tags_path_for(path, store)
    if not tag_path.is_file():
        return {}
    return {sid: TagInfo(frozenset(record_tags(record)), record.get("language"))
            for sid, record in load_tag_file(tag_path).items()}


def sample_tags(sample: Sample) -> set[str]:
    """The tags of a sample from ``meta.tags``: a list of names, or a mapping category → value(s).

    A mapping yields its categories with a truthy value and ``category:value`` for each value.
    """
    raw = meta(sample).get("tags")
    if isinstance(raw, list):
        return {str(tag) for tag in raw}
    out: set[str] = set()
    if isinstance(raw, dict):
        for key, value in raw.items():
            if value:
                out.add(str(key))
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, (str, int)) and not isinstance(item, bool):
                    out.add(f"{key}:{item}")
    return out


@dataclass(frozen=True)
class Entry:
    """One source of a mix: what to read, how much of it, and which samples."""

    input: str
    count: int | None = None
    share: float | None = None
    filters: Filters = Filters()

    @property
    def amount(self) -> str:
        return str(self.count) if self.count is not None else (repr(self.share) if self.share is not None else "all")

    def wanted(self, available: int) -> int:
        if self.count is not None:
            return self.count
        if self.share is not None:
            return round(self.share * available)
        return available


@dataclass(frozen=True)
class MixSpec:
    """Everything that decides a mix's bytes."""

    entries: tuple[Entry, ...]
    seed: int = 0
    shuffle: bool = True
    filters: Filters = Filters()  # applied to every entry, on top of its own
    dedup: bool = True
    near_dedup: bool = True
    near_threshold: float = DEFAULT_THRESHOLD
    num_perm: int = DEFAULT_NUM_PERM
    shingle: int = DEFAULT_SHINGLE
    decontaminate: bool = True
    ngram: int = DEFAULT_NGRAM
    min_tokens: int = DEFAULT_MIN_TOKENS
    eval_sets: tuple[str, ...] = ()  # extra evaluation corpora or files
    allow_eval: bool = False

    def describe(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["entries"] = [{"input": e.input, "amount": e.amount, **e.filters.describe()} for e in self.entries]
        out["filters"] = self.filters.describe()
        return out


def parse_amount(text: str) -> tuple[int | None, float | None]:
    """``2500`` → count; ``0.5`` (or ``1.5`` to upsample) → share; raises MixError otherwise."""
    text = text.strip()
    try:
        if text.isdigit():
            count = int(text)
            if count <= 0:
                raise MixError(f"count must be positive, got {text!r}")
            return count, None
        share = float(text)
    except ValueError:
        raise MixError(f"amount {text!r} is neither a count (2500) nor a share (0.5)") from None
    if not share > 0 or share != share or share == float("inf"):
        raise MixError(f"share must be a positive number, got {text!r}")
    return None, share


def parse_entry(text: str) -> Entry:
    """``INPUT[:AMOUNT]`` (the amount is whatever follows the last colon, when it parses as one)."""
    text = text.strip()
    head, sep, tail = text.rpartition(":")
    if sep and head and (tail.strip().replace(".", "", 1).isdigit() or tail.strip().startswith("-")):
        count, share = parse_amount(tail)
        return Entry(head.strip(), count, share)
    return Entry(text)


def parse_datasets(text: str) -> list[Entry]:
    """The command-line form: comma-separated entries."""
    entries = [parse_entry(part) for part in text.split(",") if part.strip()]
    if not entries:
        raise MixError("the mix names no dataset")
    return entries


def _strings(value: Any, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, (str, int)):
        return (str(value),)
    if isinstance(value, list) and all(isinstance(v, (str, int)) for v in value):
        return tuple(str(v) for v in value)
    raise MixError(f"{what} must be a string or a list of strings, got {value!r}")


def _filters(mapping: dict[str, Any], where: str) -> Filters:
    return Filters(subsets=_strings(mapping.get("subsets"), f"{where}.subsets"),
                   tags=_strings(mapping.get("tags"), f"{where}.tags"),
                   exclude_tags=_strings(mapping.get("exclude_tags"), f"{where}.exclude_tags"),
                   languages=_strings(mapping.get("languages"), f"{where}.languages"))


def _no_unknown(mapping: dict[str, Any], known: set[str], where: str) -> None:
    unknown = sorted(set(mapping) - known)
    if unknown:
        raise MixError(f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")


ENTRY_KEYS = {"input", "count", "share", "subsets", "tags", "exclude_tags", "languages"}
DEDUP_KEYS = {"exact", "near", "threshold", "num_perm", "shingle"}
DECONTAM_KEYS = {"enabled", "ngram", "min_tokens", "eval_sets", "allow_eval"}
RECIPE_KEYS = {"datasets", "seed", "shuffle", "subsets", "tags", "exclude_tags", "languages", "dedup", "decontaminate"}


def _recipe_entry(item: Any, where: str, base: Path) -> Entry:
    if isinstance(item, str):
        entry = parse_entry(item)
    elif isinstance(item, dict):
        _no_unknown(item, ENTRY_KEYS, where)
        if not isinstance(item.get("input"), str):
            raise MixError(f"{where}: 'input' (a corpus name or a .jsonl path) is required")
        if item.get("count") is not None and item.get("share") is not None:
            raise MixError(f"{where}: give count or share, not both")
        count, share = item.get("count"), item.get("share")
        if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count <= 0):
            raise MixError(f"{where}: count must be a positive integer, got {count!r}")
        if share is not None:
            if isinstance(share, bool) or not isinstance(share, (int, float)):
                raise MixError(f"{where}: share must be a number, got {share!r}")
            share = parse_amount(repr(float(share)))[1]
        entry = Entry(item["input"], count, share, _filters(item, where))
    else:
        raise MixError(f"{where}: expected a string or a mapping, got {item!r}")
    if entry.input.endswith(".jsonl") and not Path(entry.input).is_absolute() and (base / entry.input).is_file():
        entry = dataclasses.replace(entry, input=str(base / entry.input))  # relative to the recipe first
    return entry


def load_recipe(path: str | Path) -> MixSpec:
    """A YAML recipe → MixSpec (unknown keys are errors, so a typo never silently changes a mix)."""
    import yaml

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text("utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise MixError(f"cannot read recipe {path}: {exc}") from None
    if not isinstance(data, dict):
        raise MixError(f"{path}: a recipe is a mapping with a 'datasets' list")
    _no_unknown(data, RECIPE_KEYS, str(path))
    items = data.get("datasets")
    if not isinstance(items, list) or not items:
        raise MixError(f"{path}: 'datasets' must be a non-empty list")
    entries = tuple(_recipe_entry(item, f"{path}: datasets[{i}]", path.parent) for i, item in enumerate(items))
    dedup = data.get("dedup") or {}
    decon = data.get("decontaminate") or {}
    if not isinstance(dedup, dict) or not isinstance(decon, dict):
        raise MixError(f"{path}: 'dedup' and 'decontaminate' are mappings")
    _no_unknown(dedup, DEDUP_KEYS, f"{path}: dedup")
    _no_unknown(decon, DECONTAM_KEYS, f"{path}: decontaminate")
    defaults = MixSpec(entries=entries)
    try:
        return MixSpec(
            entries=entries,
            seed=int(data.get("seed", defaults.seed)),
            shuffle=bool(data.get("shuffle", defaults.shuffle)),
            filters=_filters(data, str(path)),
            dedup=bool(dedup.get("exact", defaults.dedup)),
            near_dedup=bool(dedup.get("near", defaults.near_dedup)),
            near_threshold=float(dedup.get("threshold", defaults.near_threshold)),
            num_perm=int(dedup.get("num_perm", defaults.num_perm)),
            shingle=int(dedup.get("shingle", defaults.shingle)),
            decontaminate=bool(decon.get("enabled", defaults.decontaminate)),
            ngram=int(decon.get("ngram", defaults.ngram)),
            min_tokens=int(decon.get("min_tokens", defaults.min_tokens)),
            eval_sets=_strings(decon.get("eval_sets"), "decontaminate.eval_sets"),
            allow_eval=bool(decon.get("allow_eval", defaults.allow_eval)),
        )
    except (TypeError, ValueError) as exc:
        raise MixError(f"{path}: {exc}") from None


def load_spec(spec: str | Path | MixSpec) -> MixSpec:
    """A MixSpec from a recipe path (.yaml/.yml) or the command-line form."""
    if isinstance(spec, MixSpec):
        return spec
    text = str(spec)
    if text.endswith(RECIPE_SUFFIXES):
        if not Path(text).is_file():
            raise MixError(f"recipe {text} not found")
        return load_recipe(text)
    return MixSpec(entries=tuple(parse_datasets(text)))


def is_mix_spec(text: str) -> bool:
    """True when a ``--datasets`` value asks for a mix (a recipe, or an entry with :COUNT/:SHARE)."""
    if text.strip().endswith(RECIPE_SUFFIXES):
        return True
    try:
        return any(e.count is not None or e.share is not None for e in parse_datasets(text))
    except MixError:
        return True  # build_mix reports what is wrong with it


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

    def __init__(self, files: list[Path], picks: list[tuple[int, int]]) -> None:
        self.files = files
        self.picks = picks  # (file index, byte offset of the line)

    def __len__(self) -> int:
        return len(self.picks)

    def __iter__(self) -> Iterator[Sample]:
        handles: dict[int, Any] = {}
        try:
            for file_index, offset in self.picks:
                handle = handles.get(file_index)
                if handle is None:
                    handle = handles[file_index] = open(self.files[file_index], "rb")
                handle.seek(offset)
                yield json.loads(handle.readline())
        finally:
            for handle in handles.values():
                handle.close()


def _located_lines(path: Path) -> Iterator[tuple[int, int, bytes]]:
    """(1-based line number, byte offset, stripped bytes) of every non-blank line."""
    offset = 0
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, 1):
            stripped = line.strip()
            if stripped:
                yield number, offset, stripped
            offset += len(line)


def _entry_files(entry: Entry, store) -> tuple[list[Path], list[str], bool]:
    """The files of an entry, the evaluation sets among them, and whether it is a path (validated)."""
    from .sources import canonical_name, get_source
    from .store import resolve_inputs

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
              log: Callable[[str], None] | None = None, **overrides: Any) -> tuple[Mix, dict[str, Any]]:
    """Build a mix: (the chosen samples, lazily re-readable; the manifest of what went in and out).

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
    pools: list[tuple[array, array]] = []
    bar = tqdm(desc="mix", unit=" samples", disable=None if progress else True, leave=False, mininterval=0.5)
    for entry, entry_files, evaluation, is_path in plans:
        report = EntryReport(entry.input, entry.amount, [str(f) for f in entry_files], evaluation)
        needs_tags, tagged_any = entry.filters.needs_tags or spec.filters.needs_tags, False
        pool_files, pool_offsets = array("i"), array("q")
        for path in entry_files:
            file_index = len(files)
            files.append(path)
            tag_index = load_tag_index(path, store) if needs_tags else {}
            tagged_any = tagged_any or bool(tag_index)
            for number, offset, raw in _located_lines(path):
                bar.update(1)
                report.read += 1
                where = {"input": entry.input, "file": str(path), "line": number}
                sample, reason = _parse(raw, is_path)
                if reason:
                    report.rejected += 1
                    removed.append({"step": "reject", **where, "reason": reason})
                    continue
                label = sample_id(sample) or f"{path}:{number}"
                tagged = _tag_info(tag_index, label, sample) if needs_tags else None
                if not (entry.filters.accepts(sample, tagged) and spec.filters.accepts(sample, tagged)):
                    report.filtered += 1
                    continue
                where = {"id": label, **where}
                hit = index.check(sample) if index is not None else None
                if hit is not None:
                    report.contaminated += 1
                    decontamination["removed"] += 1
                    removed.append({"step": "decontaminate", **where, **hit.as_dict()})
                    continue
                duplicate: Duplicate | None = exact.check(sample, label) if exact is not None else None
                if duplicate is None and near is not None:
                    duplicate = near.check("\n".join(user_turns(sample)), label)
                if duplicate is not None:
                    if duplicate.kind == "exact":
                        report.duplicate_exact += 1
                    else:
                        report.duplicate_near += 1
                    removed.append({"step": "dedup", **where, **duplicate.as_dict()})
                    continue
                pool_files.append(file_index)
                pool_offsets.append(offset)
        report.available = len(pool_offsets)
        if needs_tags and not tagged_any and report.read and report.filtered == report.read - report.rejected:
            warnings.append(f"{entry.input}: no sample passed the tag/language filter and it has no tag files: "
                            f"run `python tag run --datasets {entry.input}` first")
        reports.append(report)
        pools.append((pool_files, pool_offsets))
    bar.close()

    picks: list[tuple[int, int]] = []
    for number, (entry, report, (pool_files, pool_offsets)) in enumerate(zip(spec.entries, reports, pools)):
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
        picks.extend((pool_files[i], pool_offsets[i]) for i in chosen)
    if spec.shuffle:
        random.Random(f"{spec.seed}/shuffle").shuffle(picks)

    mix = Mix(files, picks)
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


def _parse(raw: bytes, validate: bool) -> tuple[Sample | None, str | None]:
    try:
        sample = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return None, f"invalid JSON: {exc}"
    if not isinstance(sample, list) or not all(isinstance(m, dict) for m in sample):
        return None, "not a sample (a JSON array of message objects)"
    if validate:
        from .validate import validate_sample

        problems = validate_sample(sample)
        if problems:
            return None, "invalid sample: " + "; ".join(str(p) for p in problems[:3])
    return sample, None


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
    from .jsonl import write_json, write_jsonl, write_samples

    path, manifest_path, removed_path = output_paths(out)
    count = write_samples(path, mix, validate=False)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    written = {k: v for k, v in manifest.items() if k != "removed"}
    written["output"] = {"path": str(path), "samples": count, "sha256": digest,
                         "removed_report": str(removed_path), "removed": len(manifest["removed"])}
    write_jsonl(removed_path, manifest["removed"])
    write_json(manifest_path, written)
    return written
