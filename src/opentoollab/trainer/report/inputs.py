"""What a report is built from: NAME|FILE specs → inputs with their files, manifests, rejects and tags.

An input is one processed corpus (``BFCL``), one subset (``BFCL/parallel``), a generated run
(``generated`` or ``generated/offline``) or a unified JSONL file (a mix ``train.jsonl`` whose
``train.manifest.json`` and ``train.removed.jsonl`` lie beside it, or any other file).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from ...datasets.store import Store, resolve_inputs
from ...format.jsonl import iter_lines
from ...tag.tagging import tags_path_for

REJECT_EXAMPLES = 5  # raw records kept per reject reason
RAW_LIMIT = 4000  # characters of a rejected raw record shown


@dataclass
class Part:
    """One file of an input; ``subset`` is its label in the report (``BFCL/parallel``)."""

    subset: str
    path: Path
    tags: Path | None  # the stored tag records of this file, when `python tag run` wrote them


@dataclass
class Input:
    label: str
    kind: str  # corpus | generated | mix | file
    parts: list[Part]
    manifest: dict[str, Any] | None = None
    rejects: list[Path] = field(default_factory=list)  # rejects.jsonl / <stem>.removed.jsonl
    subsets: set[str] | None = None  # only these subsets' rejects (a NAME/subset spec)


def resolve(specs: list[str], store: Store) -> list[Input]:
    """Inputs for NAME|FILE specs (raises FileNotFoundError with a hint, like every other command)."""
    inputs = []
    for spec in specs:
        files = resolve_inputs([spec], store)
        path = Path(spec)
        if path.suffix == ".jsonl" and path.is_file():
            inputs.append(_file_input(path, store))
            continue
        corpus = files[0].parent.name if files else spec.partition("/")[0]
        subset = spec.partition("/")[2]
        label = f"{corpus}/{subset}" if subset else corpus
        parts = [Part(f"{corpus}/{f.stem}", f, _tags(f, store)) for f in files]
        rejects = store.processed_dir(corpus) / "rejects.jsonl"
        inputs.append(Input(label, "generated" if corpus == "generated" else "corpus", parts, store.manifest(corpus),
                            [rejects] if rejects.is_file() else [], {subset} if subset else None))
    labels = Counter(i.label for i in inputs)
    for index, item in enumerate(inputs):  # two files named train.jsonl: tell them apart
        if labels[item.label] > 1:
            item.label = f"{item.label}#{index + 1}"
    return inputs


def _tags(path: Path, store: Store) -> Path | None:
    tags = tags_path_for(path, store)
    return tags if tags.is_file() else None


def _file_input(path: Path, store: Store) -> Input:
    manifest_path = path.with_name(f"{path.stem}.manifest.json")
    manifest = _whole_json(manifest_path) if manifest_path.is_file() else None
    removed = path.with_name(f"{path.stem}.removed.jsonl")
    kind = "mix" if isinstance(manifest, dict) and manifest.get("kind") == "mix" else "file"
    return Input(path.stem, kind, [Part(path.stem, path, _tags(path, store))], manifest if isinstance(manifest, dict) else None,
                 [removed] if removed.is_file() else [])


def _whole_json(path: Path) -> Any:
    import json

    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None


def tag_lines(part: Part) -> dict[int, dict]:
    """{line number: tag record} of one file ({} when it was never tagged); records carry the sample id,
    which is checked against the sample on that line (tags of an older file are not used)."""
    if not part.tags:
        return {}
    records = (line.value for line in iter_lines(part.tags) if line.error is None and isinstance(line.value, dict))
    return {r["line"]: r for r in records if isinstance(r.get("line"), int)}


# ----------------------------------------------------------------------------- rejects
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|`[^`]*`")
_NUMBER = re.compile(r"\d+")


def reason_class(reason: str) -> str:
    """A reject reason without its particulars (quoted names, numbers), so equal causes count together."""
    text = _NUMBER.sub("N", _QUOTED.sub("'…'", str(reason)))
    return text if len(text) <= 160 else text[:157] + "…"


@dataclass
class RejectGroup:
    reason: str
    count: int = 0
    examples: list[dict[str, Any]] = field(default_factory=list)


def collect_rejects(item: Input) -> list[RejectGroup]:
    """Rejects of an input grouped by reason class, most frequent first, with a few examples each.

    Corpora: ``rejects.jsonl`` (records the adapter refused). Mixes: ``<stem>.removed.jsonl``
    (samples dropped by dedup or decontamination).
    """
    groups: dict[str, RejectGroup] = {}
    for path in item.rejects:
        for line in iter_lines(path):
            record = line.value if isinstance(line.value, dict) else {"reason": f"unreadable rejects line: {line.error}"}
            if item.subsets is not None and record.get("subset") not in item.subsets:
                continue
            reason, example = _describe(record, path.name, line.number)
            group = groups.setdefault(reason, RejectGroup(reason))
            group.count += 1
            if len(group.examples) < REJECT_EXAMPLES:
                group.examples.append(example)
    return sorted(groups.values(), key=lambda g: (-g.count, g.reason))


def _describe(record: dict[str, Any], file: str, number: int) -> tuple[str, dict[str, Any]]:
    import json

    if "step" in record:  # a mix removal
        reason = f"{record.get('step')}: {record.get('kind') or record.get('reason') or '?'}"
        detail = {k: v for k, v in record.items() if k not in ("step", "kind")}
        where = f"{record.get('file') or record.get('input') or '?'}:{record.get('line', '?')}"
        return reason, {"where": where, "reason": reason, "id": record.get("id"),
                        "raw": _clip(json.dumps(detail, ensure_ascii=False, indent=1))}
    reason = str(record.get("reason") or "?")
    where = f"{record.get('subset', '?')} · {record.get('source_file', file)}:{record.get('location', number)}"
    raw = record.get("raw")
    return reason_class(reason), {"where": where, "reason": reason,
                                  "raw": _clip(json.dumps(raw, ensure_ascii=False, indent=1, default=str))}


def _clip(text: str) -> str:
    return text if len(text) <= RAW_LIMIT else text[:RAW_LIMIT] + f"\n… ({len(text) - RAW_LIMIT:,} more characters)"


def provenance(item: Input) -> list[tuple[str, str]]:
    """(key, value) lines describing where an input came from, read from its manifest."""
    manifest = item.manifest or {}
    rows: list[tuple[str, str]] = [("kind", item.kind)]
    if item.kind in ("corpus", "generated"):
        source = manifest.get("source") or {}
        fetched = source.get("fetched") or {}
        rows += [("license", str(source.get("license") or "?")), ("homepage", str(source.get("homepage") or "")),
                 ("version", str(source.get("version") or "")),
                 ("fetched", ", ".join(f"{k}={v}" for k, v in fetched.items() if k not in ("runs",) and not isinstance(v, dict)))]
        for run, info in (fetched.get("runs") or {}).items():
            recipe = info.get("recipe") or {}
            rows.append((f"run {run}", f"{(info.get('generator') or {}).get('name', '?')} seed={recipe.get('seed')} "
                                       f"n={recipe.get('n')} recipe sha256={str(recipe.get('sha256', ''))[:12]}"))
        totals = manifest.get("totals") or {}
        if totals:
            rows.append(("records", f"in {totals.get('in')} = out {totals.get('out')} + rejected {totals.get('rejected')}"))
        rows.append(("processed by", f"opentoollab {manifest.get('opentoollab_version', '?')}, "
                                     f"schema {manifest.get('schema_version', '?')}"))
    elif item.kind == "mix":
        totals = manifest.get("totals") or {}
        rows += [("seed", str(manifest.get("seed"))),
                 ("sources", ", ".join(f"{s.get('input')}:{s.get('amount')}" for s in manifest.get("sources") or [])),
                 ("totals", ", ".join(f"{k} {v}" for k, v in totals.items())),
                 ("sha256", str((manifest.get("output") or {}).get("sha256", "")))]
        rows += [("warning", str(w)) for w in manifest.get("warnings") or []]
    rows += [("file", str(part.path)) for part in item.parts[:3]]
    if len(item.parts) > 3:
        rows.append(("files", f"… {len(item.parts)} in all"))
    return [(k, v) for k, v in rows if v]


def iter_parts(inputs: list[Input]) -> Iterator[tuple[int, Input, Part]]:
    for index, item in enumerate(inputs):
        for part in item.parts:
            yield index, item, part
