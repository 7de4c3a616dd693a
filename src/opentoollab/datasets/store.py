"""The data root on disk (DESIGN.md section 2) and the process pipeline: raw records → validated samples.

Layout under the data dir (``--data-dir``, ``$OPENTOOLLAB_DATA_DIR``, a checkout's ``datasets/``, else the
user data folder: see ``datasets.datadir``)::

    downloaded/<NAME>/...            raw files + provenance.json
    processed/<NAME>/<subset>.jsonl  unified samples; manifest.json; rejects.jsonl; subsets.index (for --subset runs)
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
from typing import Any, Iterable, Iterator

from .. import __version__
from .fetch import verify
from ..format import fastjson, language
from ..format.jsonl import commit, folder_lock, iter_lines, iter_samples, recover, write_json
from ..format.parallel import interleave, resolve_workers, start_method
from ..format.sample import SCHEMA_VERSION, Sample, make_sample_id
from .convert import Tool, ToolTable, convert_shard, invalid_reason, reject_line, sample_line, tool_digest
from .sources import Context, FetchError, Source, canonical_name

from .datadir import ENV_DATA_DIR, resolve_data_dir  # noqa: F401  (where the data folder is, from anywhere)


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
                f"run `python datasets deal {name}` first, or point --data-dir at the folder that holds it"
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
            progress: bool = True, workers: int | None = None, engine: str = "local",
            address: str | None = None) -> dict[str, Any]:
    """Convert a source's raw records into validated samples, rejects, a tool catalog and a manifest.

    Holds the corpus's write lock (``Store.lock``) from reading the previous output to the swap, so two
    runs (``--subset a`` and ``--subset b``) never lose each other's subset. The new processed folder
    and tool catalog replace the old ones as one unit (``format.jsonl.commit``). ``workers`` (None:
    every core for large inputs, see ``auto_workers``) and ``engine`` (``local`` or ``ray``, with the
    cluster ``address``) change only how fast: the bytes written are the same.
    """
    with store.lock(source.name):
        return _process(source, store, origin=origin, subsets=subsets, options=options, progress=progress,
                        workers=workers, engine=engine, address=address)


# Below this much raw data, starting worker processes costs more than it saves: a forked worker starts in
# milliseconds, a forkserver one pays a fresh interpreter and its imports (format.parallel.start_method).
AUTO_PARALLEL_BYTES = {"fork": 1 << 20, "forkserver": 16 << 20, "spawn": 16 << 20}
WRITE_BUFFER = 1 << 20  # per subset file: one write call per ~10k samples instead of per sample
INDEX = "subsets.index"  # processed/<NAME>/subsets.index: per subset, its tools and where its rejects are (see _write_index)


def auto_workers(raw: Path, workers: int | None) -> int:
    """``--workers``: as given; by default every core when the raw data is large, else one process."""
    if workers:
        return max(1, workers)
    size = sum(f.stat().st_size for f in raw.rglob("*") if f.is_file()) if raw.is_dir() else raw.stat().st_size
    return resolve_workers(None) if size >= AUTO_PARALLEL_BYTES[start_method()] else 1


def _converted(source: Source, raw: Path, subsets: list[str] | None, options: dict[str, Any], infer: bool,
               workers: int, engine: str, address: str | None) -> Iterator[Any]:
    """Every record's ``Converted`` in record order, then each shard's adapter counters (dicts)."""
    if engine == "ray":
        from .ray_engine import ray_converted

        return ray_converted(source, raw, subsets, options, infer, workers=workers, address=address)
    if resolve_workers(workers) > 1 and start_method() == "fork":
        language.preload()  # every record's language is detected: loaded once, here, for all forked workers
    return interleave(convert_shard, (source, raw, subsets, options, infer), workers)


def _process(source: Source, store: Store, *, origin: str | os.PathLike | None = None,
             subsets: list[str] | None = None, options: dict[str, Any] | None = None,
             progress: bool = True, workers: int | None = None, engine: str = "local",
             address: str | None = None) -> dict[str, Any]:
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
                             f"(or `deal`, or pass --from PATH; another data folder: --data-dir)")
        provenance = verify(raw)
    version = source.version_of(raw)

    final = store.processed_dir(name)
    work = final.parent / f".{name}.tmp-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)

    ctx = Context(options=dict(options or {}))
    # Sources whose calls are ground truth copied verbatim (BFCL) opt out with ``infer_links = False``.
    infer = bool(ctx.options.get("infer_links", True)) and source.infer_links
    stats: dict[str, Counter] = {}
    writers: dict[str, Any] = {}
    subset_tools: dict[str, dict[bytes, Tool]] = {}  # per subset: its tools in order of first use there
    reject_ranges: dict[str, list[list[int]]] = {}  # per subset: byte ranges of its lines in rejects.jsonl
    rejects_handle = open(work / "rejects.jsonl", "wb")

    def reject(subset: str, line: str) -> None:
        stats[subset]["rejected"] += 1
        _add_range(reject_ranges.setdefault(subset, []), rejects_handle.tell(), rejects_handle.write(line.encode("utf-8")))

    try:
        bar = _progress(None, f"process {name}", progress)
        for item in _converted(source, raw, subsets, ctx.options, infer, auto_workers(raw, workers), engine, address):
            if isinstance(item, dict):  # a shard's adapter counters
                ctx.counters.update(item)
                continue
            bar.update(1)
            counts = stats.get(item.subset)
            if counts is None:
                counts = stats[item.subset] = Counter()
            counts["in"] += 1
            if item.links is not None:
                ctx.count("links_inferred", item.links)
            if item.kind == "reject":
                reject(item.subset, item.reject_line)
                continue
            if item.kind == "invalid":
                reason = invalid_reason(name, item.subset, counts["samples"], item.bodies)
                reject(item.subset, reject_line(item.subset, *item.where[:2], reason, item.where[2]))
                continue
            handle = writers.get(item.subset)
            if handle is None:
                handle = writers[item.subset] = open(work / f"{item.subset}.jsonl", "wb", buffering=WRITE_BUFFER)
            tools = subset_tools.setdefault(item.subset, {})
            first = counts["samples"]
            for offset, (body, digests) in enumerate(zip(item.bodies, item.tools)):
                handle.write(sample_line(make_sample_id(name, item.subset, first + offset), body))
                for digest in digests:
                    if digest not in tools:
                        tools[digest] = item.new_tools[digest]
            counts["out"] += 1
            counts["samples"] += len(item.bodies)
        bar.close()
        rejects_handle.close()
        for handle in writers.values():
            handle.close()
        subset_table = {
            subset: {"in": row["in"], "out": row["out"], "rejected": row["rejected"], "samples": row["samples"],
                     "tools": len(subset_tools.get(subset, ()))}
            for subset, row in stats.items()
        }
        sections = {subset: _tool_lines(tools.values()) for subset, tools in subset_tools.items()}
        old_index = _read_index(final / INDEX) if subsets else None
        if subsets:  # a partial run keeps the other subsets of the previous run
            kept = _carry_over(store.manifest(name), final, work, set(stats) | set(subsets), old_index, sections)
            subset_table.update(kept)
        order = [s for s in source.subsets if s in subset_table] + sorted(s for s in subset_table if s not in source.subsets)
        if subsets:
            reject_ranges = _merge_rejects(final, work, order, kept, reject_ranges, old_index)
        subset_table = {subset: subset_table[subset] for subset in order}
        catalog: dict[bytes, Tool] = {}
        for subset in order:  # the catalog a full run gives, whichever subsets this run redid
            if subset in subset_tools:  # converted here: keyed by their digests already
                for digest, tool in subset_tools[subset].items():
                    catalog.setdefault(digest, tool)
                continue
            for tool in _parse_tools(sections.get(subset, b"")):
                catalog.setdefault(tool_digest(tool.key), tool)
        _write_index(work / INDEX, {s: sections.get(s, b"") for s in order}, {s: reject_ranges.get(s, []) for s in order})
    except BaseException:
        rejects_handle.close()
        for handle in writers.values():
            handle.close()
        shutil.rmtree(work, ignore_errors=True)
        raise

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
        catalog_tmp.parent.mkdir(parents=True, exist_ok=True)
        with open(catalog_tmp, "w", encoding="utf-8", newline="\n") as out:
            for tool in sorted(catalog.values(), key=lambda t: (t.name, t.key)):
                out.write(tool.text + "\n")
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        catalog_tmp.unlink(missing_ok=True)
        raise
    commit(final, work, [(catalog_tmp, catalog_path)])  # folder and catalog as one unit, even across a crash
    return manifest


def _add_range(ranges: list[list[int]], start: int, length: int) -> None:
    if ranges and ranges[-1][1] == start:
        ranges[-1][1] = start + length
    else:
        ranges.append([start, start + length])


def _tool_lines(tools: Iterable[Tool]) -> bytes:
    """A subset's tools, one ``name<TAB>key<TAB>line`` each (JSON text holds no raw tab or newline)."""
    return "".join([f"{fastjson.quoted(t.name)}\t{t.key}\t{t.text}\n" for t in tools]).encode("utf-8")


def _parse_tools(data: bytes) -> list[Tool]:
    tools = []
    for line in data.decode("utf-8").splitlines():
        name, key, text = line.split("\t", 2)
        tools.append(Tool(json.loads(name), key, text))
    return tools


def _write_index(path: Path, sections: dict[str, bytes], rejects: dict[str, list[list[int]]]) -> None:
    """``subsets.index``: a JSON header line (per subset: the byte range of its tool lines below the header, and the
    byte ranges of its lines in rejects.jsonl), then the tool lines, subset by subset."""
    tools, position = {}, 0
    for subset, data in sections.items():
        tools[subset] = [position, position + len(data)]
        position += len(data)
    header = json.dumps({"version": 1, "tools": tools, "rejects": rejects}, ensure_ascii=False, separators=(",", ":"))
    with open(path, "wb") as out:
        out.write(header.encode("utf-8") + b"\n")
        for data in sections.values():
            out.write(data)


def _read_index(path: Path) -> tuple[dict, bytes] | None:
    """(header, tool lines) of a previous run's index; None when there is none or it is unreadable."""
    try:
        data = path.read_bytes()
        end = data.index(b"\n") + 1
        header = json.loads(data[:end])
        if header.get("version") != 1 or not isinstance(header.get("tools"), dict) or not isinstance(header.get("rejects"), dict):
            return None
        return header, data[end:]
    except (OSError, ValueError, AttributeError):
        return None


def _link_or_copy(source: Path, target: Path) -> None:
    """Files of the processed folder are never changed in place, so the next version may share them."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _carry_over(previous: dict[str, Any] | None, final: Path, work: Path, redone: set[str],
                index: tuple[dict, bytes] | None, sections: dict[str, bytes]) -> dict[str, dict]:
    """Keep the subsets a partial run did not touch: their files (linked, never parsed) and their tool lines
    (``sections``, from the previous index; read from the samples only for output without one)."""
    if not previous:
        return {}
    kept: dict[str, dict] = {}
    for subset, row in previous["subsets"].items():
        path = final / f"{subset}.jsonl"
        if subset in redone or (row["samples"] and not path.is_file()):
            continue
        if path.is_file():
            _link_or_copy(path, work / path.name)
        span = index[0]["tools"].get(subset) if index else None
        if span is not None and subset in index[0]["rejects"]:
            sections[subset] = index[1][span[0]:span[1]]
        else:
            sections[subset] = _tool_lines(_tools_of_file(path) if path.is_file() else [])
        kept[subset] = row
    return kept


def _merge_rejects(final: Path, work: Path, order: list[str], kept: dict[str, dict],
                   fresh: dict[str, list[list[int]]], index: tuple[dict, bytes] | None) -> dict[str, list[list[int]]]:
    """rejects.jsonl of a partial run, subset by subset in ``order``: the redone subsets' new lines and the kept
    ones' old lines (copied by byte range; parsed only for output written before the index existed), so a
    partial run leaves the same file a full run would (for adapters that read subset by subset)."""
    old_ranges = index[0]["rejects"] if index else {}
    old_path, temp = final / "rejects.jsonl", work / ".rejects.new"
    os.replace(work / "rejects.jsonl", temp)
    merged: dict[str, list[list[int]]] = {}
    unindexed = []
    with open(work / "rejects.jsonl", "wb") as out, open(temp, "rb") as new, \
            (open(old_path, "rb") if old_path.is_file() else open(os.devnull, "rb")) as old:
        for subset in order:
            if subset in kept and subset not in old_ranges:
                unindexed.append(subset)
                continue
            source, spans = (old, old_ranges[subset]) if subset in kept else (new, fresh.get(subset, []))
            for start, end in spans:
                source.seek(start)
                _add_range(merged.setdefault(subset, []), out.tell(), out.write(source.read(end - start)))
        if unindexed and old_path.is_file():
            for line in iter_lines(old_path):
                if line.value and line.value.get("subset") in unindexed:
                    data = (json.dumps(line.value, ensure_ascii=False) + "\n").encode("utf-8")
                    _add_range(merged.setdefault(line.value["subset"], []), out.tell(), out.write(data))
    temp.unlink()
    return merged


def _tools_of_file(path: Path) -> list[Tool]:
    """A subset's tools read from its samples (output written before the index existed)."""
    table, tools = ToolTable(), {}
    for sample in iter_samples(path):
        for message in sample:
            if message["role"] == "candidate_tools":
                for tool in message["content"]:
                    digest, entry = table.entry(tool)
                    tools.setdefault(digest, entry)
    return list(tools.values())


def failed_subsets(manifest: dict[str, Any]) -> list[str]:
    """Subsets in which records were read but none converted."""
    return [name for name, row in manifest["subsets"].items() if row["in"] > 0 and row["out"] == 0]
