"""Hugging Face dataset export: parquet shards + a dataset card that ``datasets.load_dataset(DIR)`` reads back.

Each row holds the sample's id, source, subset, license and language as plain string columns and
the whole sample as ``sample``: its unified JSONL line, a JSON text column, so tool arguments and
results of any shape come back exactly (Arrow structs would merge keys across rows and fill the
gaps with nulls). ``json.loads(row["sample"])`` is the original sample.

A processed corpus becomes one config per subset (split ``test`` for the source's evaluation
subsets, ``train`` otherwise) plus a ``default`` config with all of them in manifest order; a
JSONL file (e.g. a mix) becomes the ``default`` config, one ``train`` split, in file order.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from ..format.jsonl import atomic_dir, iter_lines
from .fetch import sha256_file
from ..format.sample import dumps_sample, meta, sample_id

COLUMNS = ("id", "source", "subset", "license", "language", "sample")
DEFAULT_SHARD_ROWS = 100_000

# SPDX-ish names used by the adapters → Hugging Face card license ids.
HF_LICENSES = {"apache-2.0": "apache-2.0", "mit": "mit", "cc-by-4.0": "cc-by-4.0", "cc-by-sa-4.0": "cc-by-sa-4.0",
               "cc-by-nc-4.0": "cc-by-nc-4.0", "cc-by-nc-sa-4.0": "cc-by-nc-sa-4.0", "cc0-1.0": "cc0-1.0",
               "bsd-3-clause": "bsd-3-clause", "gpl-3.0": "gpl-3.0", "llama3.1": "llama3.1", "odc-by": "odc-by"}


class ExportError(ValueError):
    """An input that cannot be exported faithfully (unknown name, a line that is not a valid sample)."""


@dataclass
class Part:
    """One input file and where its rows go."""

    path: Path
    config: str
    split: str
    shards: list[str] = field(default_factory=list)
    rows: int = 0


def plan_parts(name: str, store) -> tuple[list[Part], dict[str, Any]]:
    """The parts of a processed corpus (one per subset) or of a JSONL file, and its provenance."""
    from .sources import canonical_name, get_source
    from .store import resolve_inputs

    path = Path(name)
    if path.suffix == ".jsonl":
        if not path.is_file():
            raise ExportError(f"{name}: file not found")
        mix_manifest = path.with_name(f"{path.name[:-len('.jsonl')]}.manifest.json")
        provenance: dict[str, Any] = {"file": str(path)}
        if mix_manifest.is_file():
            mixed = json.loads(mix_manifest.read_text("utf-8"))
            provenance["mix"] = {"seed": mixed.get("seed"), "spec": mixed.get("spec"),
                                 "trained_on_evaluation": mixed.get("trained_on_evaluation"),
                                 "decontamination": {k: v for k, v in (mixed.get("decontamination") or {}).items()}}
        return [Part(path, "default", "train")], provenance
    try:
        files = resolve_inputs([name], store)
    except FileNotFoundError as exc:
        raise ExportError(str(exc.args[0])) from None
    corpus = canonical_name(name.partition("/")[0]) or name.partition("/")[0]
    evaluation: set[str] = set()
    try:
        evaluation = set(get_source(corpus).evaluation_subsets)
    except (KeyError, ImportError):
        pass
    manifest = store.manifest(files[0].parent.name) or {}
    provenance = {"corpus": files[0].parent.name, "source": manifest.get("source"),
                  "schema_version": manifest.get("schema_version"), "opentoollab_version": manifest.get("opentoollab_version")}
    return [Part(f, f.stem, "test" if f.stem in evaluation else "train") for f in files], provenance


def _rows(path: Path) -> Iterator[dict[str, Any]]:
    from ..format.validate import validate_sample

    for line in iter_lines(path):
        if line.error:
            raise ExportError(f"{path}:{line.number}: {line.error}")
        problems = validate_sample(line.value, line.plain)
        if problems:
            raise ExportError(f"{path}:{line.number}: not a valid sample: {problems[0]}")
        info = meta(line.value)
        yield {"id": sample_id(line.value), "source": info.get("source"), "subset": info.get("subset"),
               "license": info.get("license"), "language": info.get("language"), "sample": dumps_sample(line.value)}


def _schema():
    import pyarrow as pa

    features = {name: {"dtype": "string", "_type": "Value"} for name in COLUMNS}
    return pa.schema([(name, pa.string()) for name in COLUMNS],
                     metadata={"huggingface": json.dumps({"info": {"features": features}})})


def _write_shards(part: Part, work: Path, shard_rows: int) -> Counter:
    """Write one part as parquet shards; returns counts per (source, license) seen."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema, seen = _schema(), Counter()
    buffers: list[list[dict[str, Any]]] = [[]]
    for row in _rows(part.path):
        seen[(row["source"], row["license"])] += 1
        buffers[-1].append(row)
        if len(buffers[-1]) == shard_rows:
            buffers.append([])
    if not buffers[-1] and len(buffers) > 1:
        buffers.pop()
    folder = "data" if part.config == "default" else f"data/{part.config}"
    for index, rows in enumerate(buffers):
        table = pa.Table.from_pylist(rows, schema=schema)
        (work / folder).mkdir(parents=True, exist_ok=True)
        staged = work / folder / f".{part.split}-{index:05d}.tmp"
        pq.write_table(table, staged, compression="zstd", row_group_size=1000)
        # the name carries the content's hash: HF datasets caches a local folder by its file names,
        # so a re-export with other rows gets other names and is never served from a stale cache
        relative = f"{folder}/{part.split}-{index:05d}-of-{len(buffers):05d}-{sha256_file(staged)[:12]}.parquet"
        staged.rename(work / relative)
        part.shards.append(relative)
        part.rows += len(rows)
    return seen


def hf_license(name: str | None) -> str:
    return HF_LICENSES.get((name or "").lower(), "other")


def card_header(parts: list[Part], licenses: list[str], title: str) -> dict[str, Any]:
    """The YAML header of the dataset card: licenses, configs with their data files, features."""
    splits: dict[str, list[str]] = {}
    for part in parts:
        splits.setdefault(part.split, []).extend(part.shards)
    configs = [{"config_name": "default", "default": True,
                "data_files": [{"split": split, "path": files} for split, files in splits.items()]}]
    configs += [{"config_name": part.config, "data_files": [{"split": part.split, "path": part.shards}]}
                for part in parts if part.config != "default"]
    ids = sorted({hf_license(name) for name in licenses}) or ["other"]
    header: dict[str, Any] = {"license": ids[0] if len(ids) == 1 else ids, "pretty_name": title,
                              "tags": ["function-calling", "tool-use", "opentoollab"],
                              "task_categories": ["text-generation"], "configs": configs,
                              "dataset_info": {"features": [{"name": c, "dtype": "string"} for c in COLUMNS]}}
    if "other" in ids:
        header["license_name"] = "see-card"
        header["license_details"] = "Licenses per source are listed in the card: " + ", ".join(sorted(set(map(str, licenses))))
    return header


def render_card(parts: list[Part], per_source: dict[tuple, int], provenance: dict[str, Any], title: str) -> str:
    import yaml

    licenses = sorted({lic or "unknown" for (_src, lic) in per_source})
    header = yaml.safe_dump(card_header(parts, licenses, title), sort_keys=False, allow_unicode=True)
    lines = [f"---\n{header}---", f"# {title}", "",
             "Tool-use (function-calling) samples in the OpenToolLab unified format, exported by "
             "`python datasets export`. Each row's `sample` column is the sample as JSON text (the unified "
             "JSONL line), so every tool argument and result is kept exactly:", "",
             "```python", "import json, datasets", "ds = datasets.load_dataset(PATH_OR_REPO)  # this folder, or its hub repo",
             f'sample = json.loads(ds["{parts[0].split}"][0]["sample"])  # a list of {{"role", "content"}} messages',
             "```", "", "## Contents", "", "| config | split | samples |", "|---|---|---:|"]
    lines += [f"| {p.config} | {p.split} | {p.rows} |" for p in parts]
    lines += ["", "## Sources and licenses", "", "| source | license | samples |", "|---|---|---:|"]
    lines += [f"| {src} | {lic} | {n} |" for (src, lic), n in sorted(per_source.items(), key=lambda kv: str(kv[0]))]
    lines += ["", "## Provenance", "", "```json", json.dumps(provenance, ensure_ascii=False, indent=2), "```", ""]
    return "\n".join(lines)


def export_dataset(name: str, store, out_dir: str | os.PathLike, *, shard_rows: int = DEFAULT_SHARD_ROWS,
                   overwrite: bool = False, title: str | None = None) -> dict[str, Any]:
    """Write ``name`` (a processed corpus, NAME/subset, or a unified JSONL file) as a HF dataset folder.

    The folder is built beside ``out_dir`` and renamed into place only when complete.
    Returns a summary: configs, rows per part, total rows, licenses.
    """
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise ExportError(f"{out} exists and is not empty (use --overwrite)")
    if shard_rows < 1:
        raise ExportError("shard size must be at least 1 row")
    parts, provenance = plan_parts(name, store)
    with atomic_dir(out, "export") as work:
        per_source: Counter = Counter()
        for part in parts:
            per_source.update(_write_shards(part, work, shard_rows))
        title = title or (Path(name).stem if name.endswith(".jsonl") else name.replace("/", "-"))
        (work / "README.md").write_text(render_card(parts, per_source, provenance, title), "utf-8")
    return {"out": str(out), "rows": sum(p.rows for p in parts),
            "parts": [{"config": p.config, "split": p.split, "rows": p.rows, "shards": p.shards} for p in parts],
            "licenses": sorted({str(lic) for (_s, lic) in per_source})}


def upload_arguments(folder: str | os.PathLike, repo: str, *, private: bool = False,
                     token: str | None = None, message: str | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The keyword arguments of ``HfApi.create_repo`` and ``HfApi.upload_folder`` for a push."""
    folder = Path(folder)
    if not (folder / "README.md").is_file():
        raise ExportError(f"{folder} is not an exported dataset (no README.md)")
    create = {"repo_id": repo, "repo_type": "dataset", "private": private, "exist_ok": True, "token": token}
    upload = {"repo_id": repo, "repo_type": "dataset", "folder_path": str(folder), "token": token,
              "allow_patterns": ["README.md", "data/**"],
              "commit_message": message or f"Upload {folder.name} (OpenToolLab export)"}
    return create, upload


def push_to_hub(folder: str | os.PathLike, repo: str, *, private: bool = False, token: str | None = None) -> str:
    """Create the dataset repo if needed and upload the exported folder; returns the commit URL."""
    from huggingface_hub import HfApi

    from .fetch import hub_endpoint, one_line

    token = token or os.environ.get("HF_TOKEN") or None
    create, upload = upload_arguments(folder, repo, private=private, token=token)
    api = HfApi(endpoint=hub_endpoint())  # HF_ENDPOINT as set now (a mirror), else huggingface.co
    try:
        api.create_repo(**create)
        return str(api.upload_folder(**upload))
    except Exception as exc:  # network, auth or hub errors: one line, never the token
        raise ExportError(f"upload to {repo} failed: {type(exc).__name__}: {one_line(str(exc), token)}") from None
