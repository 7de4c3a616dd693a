"""The data root on disk (DESIGN.md section 2) and the process pipeline: raw records → validated samples.

Layout under the data dir (default ``./datasets``, or ``--data-dir``/``OPENTOOLLAB_DATA_DIR``)::

    downloaded/<NAME>/...            raw files + provenance.json
    processed/<NAME>/<subset>.jsonl  unified samples; manifest.json; rejects.jsonl
    tools/<NAME>.jsonl               deduplicated tool catalog
"""

from __future__ import annotations

import json
import contextlib
import os
import secrets
import shutil
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, Iterator

from .. import __version__
from .fetch import verify
from ..format.jsonl import commit, folder_lock, iter_lines, iter_samples, recover, write_json, write_jsonl
from ..format.links import infer_links
from ..format.sample import SCHEMA_VERSION, Sample, canonical_json, dumps_lenient, dumps_sample, make_sample_id
from .sources import Context, FetchError, RawRecord, Reject, Source, canonical_name
from ..format.validate import validate_sample

ENV_DATA_DIR = "OPENTOOLLAB_DATA_DIR"


def resolve_data_dir(explicit: str | os.PathLike | None = None) -> Path:
    """``--data-dir`` if given, else ``$OPENTOOLLAB_DATA_DIR``, else ``./datasets``."""
    return Path(explicit or os.environ.get(ENV_DATA_DIR) or "datasets")


class Store:
    """Paths of one data root."""

    def __init__(self, root: str | os.PathLike | None = None) -> None:
        self.root = resolve_data_dir(root)

    def raw_dir(self, name: str) -> Path:
        return self.root / "downloaded" / name

    def processed_dir(self, name: str) -> Path:
        return self.root / "processed" / name

    def catalog_path(self, name: str) -> Path:
        return self.root / "tools" / f"{name}.jsonl"

    def lock(self, name: str, what: str | None = None, *, timeout: float | None = None):
        """Hold the write lock of corpus ``name`` in this data root (process, download, tag runs take it),
        then finish or clean what killed runs left of its processed folder and catalog.

        ``fcntl.flock`` on ``DATA_DIR/.locks/NAME.lock``: waits (``$OPENTOOLLAB_LOCK_TIMEOUT``, default
        600 s) for another writer, telling stderr who it is, then raises ``LockBusy``.
        """
        return _locked(self, name, what or f"{self.root / 'processed' / name}", timeout)

    def manifest(self, name: str) -> dict[str, Any] | None:
        try:
            return json.loads((self.processed_dir(name) / "manifest.json").read_text("utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def processed_names(self) -> list[str]:
        base = self.root / "processed"
        return sorted(p.name for p in base.iterdir() if (p / "manifest.json").is_file()) if base.is_dir() else []

    def subset_files(self, name: str) -> list[Path]:
        """The subset files of a processed corpus, in manifest order."""
        manifest = self.manifest(name)
        if manifest is None:
            return []
        folder = self.processed_dir(name)
        return [folder / f"{subset}.jsonl" for subset in manifest["subsets"] if (folder / f"{subset}.jsonl").is_file()]


def resolve_inputs(specs: list[str], store: Store) -> list[Path]:
    """Turn dataset names (processed corpora, case-insensitive, aliases) and JSONL paths into files.

    ``NAME/subset`` picks one subset. Raises FileNotFoundError with a hint when nothing matches.
    """
    files: list[Path] = []
    for spec in specs:
        spec = spec.strip()
        if not spec:
            continue
        path = Path(spec)
        if path.suffix == ".jsonl" and path.is_file():
            files.append(path)
            continue
        name, _, subset = spec.partition("/")
        canonical = canonical_name(name) or name
        matches = [n for n in store.processed_names() if n.lower() == canonical.lower()]
        if not matches:
            raise FileNotFoundError(
                f"{spec!r} is neither a JSONL file nor a processed dataset in {store.root}; "
                f"run `python datasets deal {name}` first"
            )
        subset_files = store.subset_files(matches[0])
        if subset:
            subset_files = [f for f in subset_files if f.stem == subset]
            if not subset_files:
                raise FileNotFoundError(f"{matches[0]} has no subset {subset!r}")
        files.extend(subset_files)
    return files


def iter_inputs(specs: list[str], store: Store) -> Iterator[Sample]:
    for path in resolve_inputs(specs, store):
        yield from iter_samples(path)


class _ToolKeys:
    """Canonical JSON of tool definitions, computed once per tool object (adapters often reuse one
    object for every sample that offers the tool). The cache holds the objects, so ids stay unique."""

    def __init__(self, limit: int = 20_000) -> None:
        self._cache: dict[int, tuple[dict, str]] = {}
        self._limit = limit

    def key(self, tool: dict) -> str:
        hit = self._cache.get(id(tool))
        if hit is not None and hit[0] is tool:
            return hit[1]
        if len(self._cache) >= self._limit:
            self._cache.clear()
        key = canonical_json(tool)
        self._cache[id(tool)] = (tool, key)
        return key


class _NoProgress:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(total: int | None, desc: str, enabled: bool):
    if not enabled:
        return _NoProgress()
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=" rec", disable=None if enabled else True, leave=False, mininterval=0.5)


@contextlib.contextmanager
def _locked(store: Store, name: str, what: str, timeout: float | None) -> Iterator[None]:
    with folder_lock(store.root / ".locks" / f"{name}.lock", what, timeout=timeout,
                     notify=lambda message: print(message, file=sys.stderr, flush=True)):
        recover(store.processed_dir(name), [store.catalog_path(name)])
        yield


def process(source: Source, store: Store, *, origin: str | os.PathLike | None = None,
            subsets: list[str] | None = None, options: dict[str, Any] | None = None,
            progress: bool = True) -> dict[str, Any]:
    """Convert a source's raw records into validated samples, rejects, a tool catalog and a manifest.

    Holds the corpus's write lock (``Store.lock``) from reading the previous output to the swap, so two
    runs (``--subset a`` and ``--subset b``) never lose each other's subset. The new processed folder
    and tool catalog replace the old ones as one unit (``format.jsonl.commit``).
    """
    with store.lock(source.name):
        return _process(source, store, origin=origin, subsets=subsets, options=options, progress=progress)


def _process(source: Source, store: Store, *, origin: str | os.PathLike | None = None,
             subsets: list[str] | None = None, options: dict[str, Any] | None = None,
             progress: bool = True) -> dict[str, Any]:
    """Convert a source's raw records into validated samples, rejects, a tool catalog and a manifest.

    Reads from ``origin`` (a local folder or file in the corpus's own layout) when given, else from
    the downloaded raw folder, whose checksums are verified first. Output replaces the previous
    processed folder atomically; re-running gives byte-identical samples, rejects and catalog.
    """
    started = time.perf_counter()
    name = source.name
    if origin is not None:
        raw = Path(origin)
        if not raw.exists():
            raise FetchError(f"{raw} does not exist")
        provenance = {"kind": "local", "path": str(raw)}
    else:
        raw = store.raw_dir(name)
        if not raw.is_dir():
            raise FetchError(f"{name} is not downloaded in {store.root}: run `python datasets download {name}` "
                             f"(or `deal`, or pass --from PATH)")
        provenance = verify(raw)
    version = source.version_of(raw)

    final = store.processed_dir(name)
    work = final.parent / f".{name}.tmp-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)

    ctx = Context(options=dict(options or {}))
    tool_keys = _ToolKeys()
    # Sources whose calls are ground truth copied verbatim (BFCL) opt out with ``infer_links = False``.
    infer = bool(ctx.options.get("infer_links", True)) and source.infer_links
    stats: dict[str, Counter] = {}
    writers: dict[str, Any] = {}
    catalog: dict[str, dict] = {}
    tools_per_subset: dict[str, set] = {}
    rejects_handle = open(work / "rejects.jsonl", "w", encoding="utf-8", newline="\n")

    def reject(record: RawRecord, reason: str) -> None:
        stats.setdefault(record.subset, Counter())["rejected"] += 1
        rejects_handle.write(dumps_lenient({"subset": record.subset, "source_file": record.source_file,
                                            "location": record.location, "reason": reason, "raw": record.data}) + "\n")

    try:
        bar = _progress(None, f"process {name}", progress)
        for record in source.records(raw, subsets):
            bar.update(1)
            counts = stats.setdefault(record.subset, Counter())
            counts["in"] += 1
            if isinstance(record.data, Reject):
                record.data, reason = getattr(record.data, "raw", None), str(record.data)
                reject(record, reason)
                continue
            try:
                produced = source.convert(record, ctx)
            except Reject as exc:
                reject(record, str(exc))
                continue
            except Exception as exc:  # an adapter bug must not lose the record silently either
                reject(record, f"adapter error: {type(exc).__name__}: {exc}")
                continue
            try:  # what the adapter returned may be anything: it is validated before it is written
                samples = [produced] if produced and isinstance(produced[0], dict) else list(produced)
                finished = []
                first = counts["samples"]
                for offset, body in enumerate(samples):
                    if infer:
                        body, linked = infer_links(body)
                        ctx.count("links_inferred", linked)
                    sample = [{"role": "id", "content": make_sample_id(name, record.subset, first + offset)}, *body]
                    problems = validate_sample(sample)
                    if problems:
                        finished = None
                        reject(record, "invalid sample: " + "; ".join(str(p) for p in problems[:5]))
                        break
                    finished.append(sample)
            except Exception as exc:
                reject(record, f"adapter error: {type(exc).__name__}: {str(exc)[:500]}")
                continue
            if finished is None:
                continue
            if not finished:
                reject(record, "the record holds no sample")
                continue
            counts["out"] += 1
            counts["samples"] += len(finished)
            handle = writers.get(record.subset)
            if handle is None:
                handle = writers[record.subset] = open(work / f"{record.subset}.jsonl", "w", encoding="utf-8", newline="\n")
            subset_tools = tools_per_subset.setdefault(record.subset, set())
            for sample in finished:
                handle.write(dumps_sample(sample) + "\n")
                for message in sample:
                    if message["role"] == "candidate_tools":
                        for tool in message["content"]:
                            key = tool_keys.key(tool)
                            catalog.setdefault(key, tool)
                            subset_tools.add(key)
        bar.close()
    except BaseException:
        rejects_handle.close()
        for handle in writers.values():
            handle.close()
        shutil.rmtree(work, ignore_errors=True)
        raise
    rejects_handle.close()
    for handle in writers.values():
        handle.close()

    subset_table = {
        subset: {"in": row["in"], "out": row["out"], "rejected": row["rejected"], "samples": row["samples"],
                 "tools": len(tools_per_subset.get(subset, ()))}
        for subset, row in stats.items()
    }
    if subsets:  # a partial run keeps the other subsets of the previous run
        subset_table.update(_carry_over(store.manifest(name), final, work, set(stats) | set(subsets), catalog, tool_keys))
    order = [s for s in source.subsets if s in subset_table] + sorted(s for s in subset_table if s not in source.subsets)
    subset_table = {subset: subset_table[subset] for subset in order}
    totals = {key: sum(row[key] for row in subset_table.values()) for key in ("in", "out", "rejected", "samples")}
    manifest = {
        "name": name,
        "source": {"license": source.license, "homepage": source.homepage, "version": version,
                   "fetched": {k: v for k, v in provenance.items() if k != "files"}},
        "schema_version": SCHEMA_VERSION,
        "opentoollab_version": __version__,
        "options": ctx.options,
        "subsets": subset_table,
        "totals": totals,
        "tools": len(catalog),
        "counters": dict(sorted(ctx.counters.items())),
        "run": {"seconds": round(time.perf_counter() - started, 3), "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
    }
    catalog_path = store.catalog_path(name)
    catalog_tmp = catalog_path.parent / f".{catalog_path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp"
    try:
        write_json(work / "manifest.json", manifest)
        # sorted by name, then definition: the same catalog whatever order subsets were processed in
        write_jsonl(catalog_tmp, (catalog[k] for k in sorted(catalog, key=lambda k: (catalog[k]["name"], k))))
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        catalog_tmp.unlink(missing_ok=True)
        raise
    commit(final, work, [(catalog_tmp, catalog_path)])  # folder and catalog as one unit, even across a crash
    return manifest


def _carry_over(previous: dict[str, Any] | None, final: Path, work: Path, redone: set[str],
                catalog: dict[str, dict], tool_keys: "_ToolKeys") -> dict[str, dict]:
    """Copy the subsets a partial run did not touch (files, rejects, catalog entries) from ``final``."""
    if not previous:
        return {}
    kept = {}
    for subset, row in previous["subsets"].items():
        path = final / f"{subset}.jsonl"
        if subset in redone or (row["samples"] and not path.is_file()):
            continue
        if path.is_file():
            shutil.copyfile(path, work / path.name)
            for sample in iter_samples(path):
                for message in sample:
                    if message["role"] == "candidate_tools":
                        for tool in message["content"]:
                            catalog.setdefault(tool_keys.key(tool), tool)
        kept[subset] = row
    old_rejects = final / "rejects.jsonl"
    if old_rejects.is_file():
        with open(work / "rejects.jsonl", "a", encoding="utf-8", newline="\n") as out:
            for line in iter_lines(old_rejects):
                if line.value and line.value.get("subset") in kept:
                    out.write(json.dumps(line.value, ensure_ascii=False) + "\n")
    return kept


def failed_subsets(manifest: dict[str, Any]) -> list[str]:
    """Subsets in which records were read but none converted."""
    return [name for name, row in manifest["subsets"].items() if row["in"] > 0 and row["out"] == 0]
