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

import os
import time
from collections import Counter
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
    for line, record, text in tagged_lines(path, judge):
        if progress:
            progress(1)
        yield line.number, line.text if line.error else text.decode("utf-8") if text else dumps_sample(line.value), record


def tagged_lines(path: Path, judge: Callable[[Sample], dict] | None = None) -> Iterator[tuple[Any, Record, bytes | None]]:
    """(line, record, the sample's text if ``_tagged`` has it) for every line of a file; with a ``judge``
    (its client lives in this process), valid samples' records carry its verdict."""
    from ..format.jsonl import iter_lines

    for line in iter_lines(path):
        record, text = line_tagged(line)
        if judge is not None and not line.error and record["valid"]:
            record = _with_judge(record, line.value, judge)
        yield line, record, text


def line_tagged(line: Any) -> tuple[Record, bytes | None]:
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
