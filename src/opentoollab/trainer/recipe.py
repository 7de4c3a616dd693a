"""Mix specs: what a mix takes — entries, amounts, filters, tag lookups — from a command line or a YAML recipe.

Spec on the command line: ``ToolACE:2500,xLAM:0.5,BFCL/simple_python,generated/run1.jsonl`` — each
entry a processed corpus (``NAME`` or ``NAME/subset``) or a unified JSONL file, then optionally ``:N``
(an exact count) or ``:0.x`` (a share). The recipe file holds the same plus per-entry filters and
every option (docs/mixing.md). Parsing only: building the mix is ``opentoollab.trainer.mix``.
May import: ``opentoollab.tag``, ``opentoollab.datasets``, ``opentoollab.format``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..format.sample import Sample, meta
from .decontaminate import DEFAULT_MIN_TOKENS, DEFAULT_NGRAM
from .dedup import DEFAULT_NUM_PERM, DEFAULT_SHINGLE, DEFAULT_THRESHOLD

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
    from ..tag.tagging import load_tag_file, record_tags, tags_path_for

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


