"""``trainer prepare``: unified samples → a model's exact chat text (with loss spans) or trainer-ready rows.

The input is any iterator of samples (today: processed corpora / JSONL files; later: a mix), so
the pipeline is ``samples → to_chat → renderer → row`` with every sample either written or
skipped with a counted reason (``skipped.jsonl``: id, reason, detail). Outputs: ``train.jsonl``,
``val.jsonl`` (with ``val_size``), ``manifest.json``, and for ``sharegpt`` a ``dataset_info.json``.
With a tokenizer, ``text`` rows also get ``input_ids`` and ``labels`` (-100 outside the spans).
Samples are rendered on ``workers`` processes (``render_item``); the files are the same bytes for any number.
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import itertools
import json
import os
import time
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, NamedTuple

from .. import __version__
from ..format.jsonl import LinesAt, atomic_writer, iter_lines, sha256_file, write_json
from ..format import fastjson
from ..format.sample import loads_line_or_lenient
from ..format.parallel import Workers, chunks, resolve_workers
from .tokenize import IGNORE_INDEX, RowEncoder, token_labels  # noqa: F401  (re-exported)
from .render.base import Chat, Rendered, Renderer, Skip, to_chat
from .rows import (ROW_BUILDERS, RESULT_JOINS, RowShape, dataset_info, hf_datasets_keeps,  # noqa: F401  (re-exported)
                   text_arguments_accepted)
from ..format.validate import validate_sample

FORMATS = ("text", "messages", "sharegpt")


@dataclass
class BadRecord:
    """An input record that is not a sample (unparsable line); counted as skipped, never dropped silently."""

    where: str
    reason: str
    kind: str = "unreadable"  # the skip reason it is counted under (a mix's rejects: "invalid_sample" too)


class LineAt(NamedTuple):
    """Where a sample's JSON line is (a mix's pick): read and parsed where it is rendered, in a worker process."""

    path: str
    offset: int


@dataclass
class Options:
    format: str = "text"
    val_size: float = 0.0  # < 1: fraction of the output; >= 1: number of samples
    seed: int = 0
    reasoning: bool = False
    tool_changes: str = "skip"
    validate: bool = True
    tokenizer: Any = None  # a tokenizers.Tokenizer: text rows get input_ids + labels
    keep_trailing: bool = False  # keep a last tool result / user turn (nothing is learned from it)
    arguments: str = "auto"  # messages rows: call arguments as JSON "text", "object", or "auto" (text if the template takes it)
    max_tokens: int | None = None  # with a tokenizer: rows whose rendered text is longer are skipped ("too_long")
    hf_safe: bool = True  # messages rows with object arguments that HF datasets would load changed are skipped
    trainer: str = "any"  # "ms-swift": skip rows its template cannot encode as the official one (trainer/rows.py)
    extra: dict[str, Any] = field(default_factory=dict)


def read_files(paths: Iterable[Path]) -> Iterator[Any]:
    """Samples of JSONL files, with a :class:`BadRecord` in place of each line that is not JSON."""
    for path in paths:
        for line in iter_lines(path):
            yield BadRecord(f"{line.path}:{line.number}", line.error) if line.error else line.value


def file_info(path: Path) -> dict[str, Any]:
    return {"path": str(path), "bytes": path.stat().st_size, "sha256": sha256_file(path)}


def encode_row(value: Any, *, plain: bool = False) -> bytes:
    """A row (or a part of one) as its line in the output: compact JSON, non-ASCII kept, UTF-8. ``plain``: the
    value holds no float and no null (a text row, token ids), the only values orjson could write otherwise."""
    return (fastjson.dumps_bytes(value, unchecked=plain)
            or json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


# --- token ids and labels: trainer/tokenize.py (batches on every core); names above kept for callers --


def load_tokenizer(spec: str, *, revision: str | None = None) -> Any:
    """A ``tokenizers.Tokenizer`` from ``tokenizer.json`` in a local folder or a hub repo (truncation and padding off).

    The ``tokenizers`` library is what transformers' fast tokenizers run on, without torch or
    transformers itself; every current chat model ships ``tokenizer.json``. Raises ImportError
    (extra not installed) or FileNotFoundError.
    """
    try:
        from tokenizers import Tokenizer
    except ImportError:
        raise ImportError("input_ids/labels need the tokenizers library: pip install 'opentoollab[tokenize]'") from None
    folder = Path(spec)
    if folder.is_dir():
        path = folder / "tokenizer.json"
        if not path.is_file():
            raise FileNotFoundError(f"{folder} has no tokenizer.json (only fast tokenizers are supported; "
                                    f"save one with transformers' AutoTokenizer(..., use_fast=True).save_pretrained)")
    else:
        from huggingface_hub import hf_hub_download

        try:
            path = Path(hf_hub_download(spec, "tokenizer.json", revision=revision))
        except Exception as exc:  # not found, offline, gated: one clear message
            raise FileNotFoundError(f"cannot get tokenizer.json of {spec!r}: {type(exc).__name__}: {exc}") from None
    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.no_truncation()  # a tokenizer.json may carry a max length: never cut rows silently
    tokenizer.no_padding()
    return tokenizer




# --- the pipeline -----------------------------------------------------------------------------------

TRAILING_ROLES = ("tool", "user")  # a chat ending in these teaches nothing after the last assistant turn


def trim_trailing(chat: Chat) -> int:
    """Drop the messages after the last assistant turn (tool results, user turns); returns how many."""
    end = len(chat.messages)
    while end and chat.messages[end - 1]["role"] in TRAILING_ROLES:
        end -= 1
    dropped = len(chat.messages) - end
    if dropped and end:
        chat.messages = chat.messages[:end]
    return dropped if end else 0


def row_shape(renderer: Renderer, renderer_name: str | None, options: Options) -> RowShape:
    text = options.arguments == "text" or (options.arguments == "auto" and options.format == "messages"
                                           and text_arguments_accepted(renderer))
    return RowShape(renderer, text, options.hf_safe, RESULT_JOINS.get(renderer_name or ""), options.trainer)


def render_one(sample: Any, renderer: Renderer, options: Options, shape: RowShape | None = None,
               strict: bool = False) -> tuple[dict[str, Any], list[str], Rendered]:
    """One sample → (row, notes, rendered text and spans); raises Skip with the reason it cannot be written.
    ``strict``: plain JSON values as ``format.sample.loads_line_or_lenient`` says, which makes validation cheaper."""
    if isinstance(sample, BadRecord):
        raise Skip(sample.kind, f"{sample.where}: {sample.reason}")
    if options.validate:
        problems = validate_sample(sample, strict)
        if problems:
            raise Skip("invalid_sample", str(problems[0]))
    chat = to_chat(sample, reasoning=options.reasoning, tool_changes=options.tool_changes)
    dropped = 0 if options.keep_trailing else trim_trailing(chat)
    rendered = renderer.render(chat)
    if not rendered.spans:
        raise Skip("nothing_to_learn", "no assistant turn")
    row = ROW_BUILDERS[options.format](chat, rendered, shape or RowShape(renderer))
    if options.tokenizer is not None and options.format == "text":
        row["input_ids"], row["labels"] = token_labels(options.tokenizer, rendered.text, rendered.spans)
    return row, chat.notes + ([f"trailing_dropped:{dropped}"] if dropped else []), rendered


TOKEN_BATCH = 256  # rows per tokenizer batch: enough to keep every core busy, little memory
TOKEN_BATCHES_AHEAD = 2  # batches being tokenized while the next rows are rendered
WORKER_CACHE_TOKENS = 1_000_000  # a tokenizing worker's cache of encoded pieces (~110 MB; RowEncoder)


def _val_key(seed: int, identifier: str) -> bytes:
    return hashlib.sha256(f"{seed}/{identifier}".encode("utf-8")).digest()[:8]


def _sample_label(sample: Any) -> str | None:
    """The sample's id, if it has one (the writer numbers the others ``#position``)."""
    if isinstance(sample, list) and sample and isinstance(sample[0], dict) and sample[0].get("role") == "id":
        return str(sample[0].get("content"))
    return None


# --- per sample, in ``--workers`` processes (or here with one) ----------------------------------------
# A worker gets the input items as they come and sends back plain data: the row's JSON, or why it is
# skipped. Given a LineAt it reads and parses the line itself: sending a parsed sample costs as much as
# parsing it, and sending the line is most of the writing process's cost.
# Ids of repeated samples, counts, tokens and the files are decided by the writer, in input order.

AUTO_PARALLEL_SAMPLES = 2000  # fewer samples: starting worker processes costs more than it saves
RENDER_CHUNK = 256  # samples per message to a worker (~25 ms of work): less traffic for the writing process
RENDER_WINDOW = 2  # chunks in flight per worker: one being rendered, one waiting (memory stays bounded)
TOKENIZED_CHUNK = 64  # samples per chunk to workers that also tokenize: multi-turn rows take far longer than
# the rest, and smaller chunks keep both workers busy to the end
_WORK: dict[str, Any] = {}


def renderer_spec(renderer: Renderer) -> tuple | None:
    """What rebuilds ``renderer`` in a worker process: the renderer itself when it pickles, a Jinja template's
    source and settings (its compiled sandbox does not pickle); None when neither."""
    import pickle

    from .render.jinja import JinjaRenderer

    if type(renderer) is JinjaRenderer:
        template = renderer.template
        special = {k: v for k, v in template.kwargs.items() if k != "date_string"}
        return ("jinja", template.source, special, renderer.origin, template.date_string)
    try:
        pickle.dumps(renderer)
    except Exception:  # a caller's own renderer holding something unpicklable: rendered in this process
        return None
    return ("object", renderer)


def init_worker(spec: tuple, options: Options, shape: RowShape, with_text: bool, tokenizer: Any = None) -> None:
    """Set up a worker (or this process): the renderer from its ``renderer_spec``, options, row shape, and
    whether the rendered text and spans go back too (to be tokenized). With a ``tokenizer``, this worker
    tokenizes its rows itself (``render_chunk``), on one thread (the other workers have the other cores)."""
    encoder = None
    if tokenizer is not None:
        os.environ["TOKENIZERS_PARALLELISM"] = "false"  # read by tokenizers at every batch
        encoder = RowEncoder(tokenizer, max_tokens=WORKER_CACHE_TOKENS)
    if spec[0] == "jinja":
        from .render.jinja import JinjaRenderer

        _kind, source, special, origin, date = spec
        renderer = JinjaRenderer(source, special, origin=origin, date_string=date)
    else:
        renderer = spec[1]
    _WORK.update(renderer=renderer, options=options, shape=dataclasses.replace(shape, renderer=renderer),
                 with_text=with_text, lines=LinesAt(), encoder=encoder)


def render_item(item: Any) -> tuple:
    """One input item (a sample, a BadRecord, a ``LineAt`` or a JSON line as bytes) → ``("row", label, row id,
    row JSON, notes, text, spans)`` (text and spans only when tokenized) or ``("skip", label, reason,
    detail)``; label is None for a sample without an id. Never raises on content (after ``init_worker``)."""
    label = None
    try:
        if isinstance(item, LineAt):
            item = _WORK["lines"].read(item.path, item.offset)
        sample, strict = loads_line_or_lenient(item, strip=True) if isinstance(item, bytes) else (item, False)
        label = _sample_label(sample)
        row, notes, rendered = render_one(sample, _WORK["renderer"], _WORK["options"], _WORK["shape"], strict)
        line = encode_row(row, plain=_WORK["options"].format == "text")  # id, text and spans
    except Skip as exc:
        return ("skip", label, exc.reason, exc.detail)
    except Exception as exc:  # a malformed sample the checks did not catch: logged, never a crash
        return ("skip", label, "error", f"{type(exc).__name__}: {exc}")
    if _WORK["with_text"]:
        return ("row", label, row["id"], line, notes, rendered.text, rendered.spans)
    return ("row", label, row["id"], line, notes, None, None)


def render_chunk(items: list) -> list[tuple]:
    """``render_item`` of each item; in a worker that tokenizes (``init_worker``), the rows' texts are then
    encoded as one batch and each row's text and spans give way to its token counts, its ``input_ids`` and
    ``labels`` fields already in its JSON (``token_parts``)."""
    results = [render_item(item) for item in items]
    encoder = _WORK["encoder"]
    if encoder is None:
        return results
    at = [index for index, result in enumerate(results) if result[0] == "row"]
    parts = token_parts(encoder, [results[i][5] for i in at], [results[i][6] for i in at], _WORK["options"])
    for index, (count, learned, fields) in zip(at, parts):
        kind, label, row_id, line, notes = results[index][:5]
        if fields:  # the row's last two fields, joined here rather than in the writing process
            line = b"".join((line[:-1], fields, b"}"))
        results[index] = (kind, label, row_id, line, notes, None, None, (count, learned, b""))
    return results


class RowsBlock(NamedTuple):
    """A chunk of rendered rows as the writing process takes them when nothing in it needs a look of its own
    (every item a row of a sample with an id): their JSON lines joined, the notes counted, so that process
    writes a chunk with one call instead of handling each row (on two cores it shares one with the workers)."""

    labels: list[str]
    row_ids: list[Any]
    lines: bytes  # each row's JSON and a newline
    notes: Counter
    trimmed: Counter  # samples and messages of --keep-trailing's drops


def render_block(items: list) -> RowsBlock | list[tuple]:
    """``render_item`` of each item, as a ``RowsBlock`` when every item is a row of a sample with an id and its
    text is not wanted back (to be tokenized), else the list of results."""
    results = [render_item(item) for item in items]
    if _WORK["with_text"] or any(result[0] != "row" or result[1] is None for result in results):
        return results
    notes: Counter = Counter()
    trimmed: Counter = Counter()
    for result in results:
        _count_notes(result[4], notes, trimmed)
    return RowsBlock([result[1] for result in results], [result[2] for result in results],
                     b"".join([line for result in results for line in (result[3], b"\n")]), notes, trimmed)


def _count_notes(row_notes: Iterable[str], notes: Counter, trimmed: Counter) -> None:
    for note in row_notes:
        if note.startswith("trailing_dropped:"):
            trimmed["samples"] += 1
            trimmed["messages"] += int(note.partition(":")[2])
        else:
            notes[note] += 1


def token_parts(encoder: RowEncoder, texts: list[str], spans: list, options: Options) -> list[tuple[int, int, bytes]]:
    """(tokens, learned tokens, what the row's JSON gets before its closing brace) of each rendered text: the
    ``input_ids`` and ``labels`` fields for text rows within ``--max-tokens``, else nothing."""
    parts = []
    for ids, labels in encoder.encode(texts, spans):
        fields = b""
        if options.format == "text" and not (options.max_tokens and len(ids) > options.max_tokens):
            fields = b"".join((b',"input_ids":', encode_row(ids, plain=True), b',"labels":', encode_row(labels, plain=True)))
        parts.append((len(ids), len(labels) - labels.count(IGNORE_INDEX), fields))
    return parts


def _renamed(line: bytes, old: Any, new: str) -> bytes:
    """A row's JSON with another id (rows start with their id)."""
    head = b'{"id":' + encode_row(old)
    if line.startswith(head):
        return b'{"id":' + encode_row(new) + line[len(head):]
    row = json.loads(line)
    row["id"] = new
    return encode_row(row)


def _worker_count(samples: Iterable[Any], workers: int | None) -> tuple[int, Iterator[Any]]:
    """(processes, the same items): ``workers`` None → every core, unless the input has fewer than
    ``AUTO_PARALLEL_SAMPLES`` items (looked ahead, kept and given back in front)."""
    items = iter(samples)
    if workers is not None:
        return resolve_workers(workers), items
    head = list(itertools.islice(items, AUTO_PARALLEL_SAMPLES))
    return (resolve_workers(None) if len(head) >= AUTO_PARALLEL_SAMPLES else 1), itertools.chain(head, items)


def prepare(samples: Iterable[Any], renderer: Renderer, out_dir: str | os.PathLike, options: Options, *,
            renderer_info: dict[str, Any], inputs: list[dict[str, Any]] | None = None, name: str = "opentoollab",
            total: int | None = None, progress: bool = True, workers: int | None = 1) -> dict[str, Any]:
    """Render every sample and write the split files, ``skipped.jsonl`` and ``manifest.json``; returns the manifest.

    ``samples`` yields samples, ``BadRecord``s, or where samples' JSON lines are (``LineAt``) or the lines
    (bytes), read and parsed where they are rendered. ``workers`` processes render them (None: every core
    when there are ``AUTO_PARALLEL_SAMPLES`` or more); the files are the same bytes for any number.
    """
    from tqdm import tqdm

    if options.format not in FORMATS:
        raise ValueError(f"unknown format {options.format!r}; choose one of {', '.join(FORMATS)}")
    started = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    skipped: Counter = Counter()
    notes: Counter = Counter()
    tokens: Counter = Counter()
    keys: list[bytes] = []  # per row written, with a validation split
    written = [0]  # rows written
    shape = row_shape(renderer, renderer_info.get("name"), options)
    copies: Counter = Counter()  # sample id → times written (upsampled mixes draw a sample again)
    trimmed = Counter()
    spool = out / f".rows.{os.getpid()}.tmp"
    count_in = 0
    # rows wait in ``pending`` so their texts are tokenized as one batch on every core (trainer/tokenize.py)
    # (--max-tokens needs the token count of every format's rendered text; only text rows keep the ids)
    batched = options.tokenizer is not None and (options.format == "text" or bool(options.max_tokens))
    pending: list[tuple] = []  # (label, row id, row JSON, text, spans, token_parts from a worker or None)
    processes, items = _worker_count(samples, workers)
    spec = renderer_spec(renderer) if processes > 1 else None
    if spec is None:
        processes, spec = 1, ("object", renderer)
    # with workers, each tokenizes its own rows; alone, this process renders and a thread tokenizes
    in_workers = batched and processes > 1
    encoder = RowEncoder(options.tokenizer) if batched and not in_workers else None
    pool = Workers(processes, init_worker, (spec, dataclasses.replace(options, tokenizer=None),
                                            dataclasses.replace(shape, renderer=None), batched,
                                            options.tokenizer if in_workers else None))

    # a thread tokenizes batch k (tokenizers releases the GIL) while this one renders batch k + 1; batches are
    # written in order, at most ``TOKEN_BATCHES_AHEAD`` waiting
    tokenizing = ThreadPoolExecutor(1) if encoder is not None else None
    encoding: collections.deque = collections.deque()

    def write_rows() -> None:
        batch = pending[:]
        pending.clear()
        if not (batched and batch):
            return finish_rows(batch, None)
        if in_workers:
            encoded = Future()
            encoded.set_result([row[5] for row in batch])
        else:
            texts, spans = [row[3] for row in batch], [row[4] for row in batch]
            encoded = tokenizing.submit(token_parts, encoder, texts, spans, options)
        encoding.append((batch, encoded))
        while len(encoding) > TOKEN_BATCHES_AHEAD:
            finish_rows(*encoding.popleft())

    def finish_rows(batch: list, encoded: Any) -> None:
        kept = [(row[0], row[2]) for row in batch]
        if encoded is not None:
            kept = []
            for (label, row_id, line, *_), (count, learned, fields) in zip(batch, encoded.result()):
                if options.max_tokens and count > options.max_tokens:
                    skipped["too_long"] += 1
                    skip_log.write(json.dumps({"id": row_id, "reason": "too_long",
                                               "detail": f"{count} tokens > --max-tokens {options.max_tokens}"},
                                              ensure_ascii=False) + "\n")
                    continue
                if fields:  # the row's last two fields
                    line = b"".join((line[:-1], fields, b"}"))
                tokens["total"] += count
                tokens["learned"] += learned
                tokens["longest"] = max(tokens["longest"], count)
                kept.append((label, line))
        written[0] += len(kept)
        if options.val_size:  # which rows go to val.jsonl is decided by these keys at the end
            keys.extend(_val_key(options.seed, label) for label, _ in kept)
        if kept:
            rows.write(b"\n".join([line for _, line in kept]))
            rows.write(b"\n")
    try:
        with pool, open(spool, "wb") as rows, \
                atomic_writer(out / "skipped.jsonl") as skip_log:
            work, size = (render_chunk, TOKENIZED_CHUNK) if in_workers else (render_block, RENDER_CHUNK)
            bar = tqdm(total=total, unit=" samples", desc=f"rendering ({renderer_info.get('name')})",
                       disable=None if progress else True, mininterval=0.5, leave=False)
            for block in pool.imap(work, chunks(items, size), chunk=1, window=RENDER_WINDOW):
                bar.update(len(block.labels) if isinstance(block, RowsBlock) else len(block))
                if isinstance(block, RowsBlock):
                    labels = block.labels
                    notes.update(block.notes)
                    trimmed.update(block.trimmed)
                    if copies.keys().isdisjoint(labels) and len(set(labels)) == len(labels):  # no sample drawn again
                        write_rows()  # rows before these, in order
                        copies.update(labels)
                        count_in += len(labels)
                        written[0] += len(labels)
                        if options.val_size:
                            keys.extend(_val_key(options.seed, label) for label in labels)
                        rows.write(block.lines)
                        continue
                    block = [("row", label, row_id, line, (), None, None)
                             for label, row_id, line in zip(labels, block.row_ids, block.lines.split(b"\n"))]
                for result in block:
                    label = f"#{count_in}" if result[1] is None else result[1]
                    count_in += 1
                    if result[0] == "skip":
                        skipped[result[2]] += 1
                        skip_log.write(json.dumps({"id": label, "reason": result[2], "detail": result[3]},
                                                  ensure_ascii=False) + "\n")
                        continue
                    row_id, line, row_notes, text, spans = result[2:7]
                    _count_notes(row_notes, notes, trimmed)
                    copies[label] += 1
                    if copies[label] > 1:  # drawn again (upsampling): ID#2, ID#3 … point back to ID
                        line, row_id = _renamed(line, row_id, f"{label}#{copies[label]}"), f"{label}#{copies[label]}"
                    pending.append((label, row_id, line, text, spans, result[7] if in_workers else None))
                    if len(pending) >= TOKEN_BATCH:
                        write_rows()
            bar.close()
            write_rows()
            while encoding:
                finish_rows(*encoding.popleft())
        n_out = written[0]
        n_val = min(n_out, round(options.val_size * n_out) if options.val_size < 1 else int(options.val_size))
        val_rows = set(sorted(range(n_out), key=keys.__getitem__)[:n_val]) if n_val else set()
        files = {"train": "train.jsonl", **({"val": "val.jsonl"} if n_val else {})}
        if not n_val:  # every row is a training row: the spool, complete, becomes the file
            os.replace(spool, out / "train.jsonl")
        else:
            with open(spool, "rb") as rows, atomic_writer(out / "train.jsonl", "wb") as train, \
                    atomic_writer(out / "val.jsonl", "wb") as val:
                for index, line in enumerate(rows):
                    (val if index in val_rows else train).write(line)
    finally:
        if tokenizing is not None:
            tokenizing.shutdown(cancel_futures=True)
        spool.unlink(missing_ok=True)
        if "lines" in _WORK:  # the files this process read lines of itself
            _WORK.pop("lines").close()
    if not n_val:
        (out / "val.jsonl").unlink(missing_ok=True)
    if options.format == "sharegpt":
        write_json(out / "dataset_info.json", dataset_info(name, files))
        files["dataset_info"] = "dataset_info.json"
    files["skipped"] = "skipped.jsonl"
    manifest = {
        "opentoollab_version": __version__,
        "renderer": renderer_info,
        "format": options.format,
        "options": {"seed": options.seed, "val_size": options.val_size, "reasoning": options.reasoning,
                    "tool_changes": options.tool_changes, "validate": options.validate,
                    "keep_trailing": options.keep_trailing,
                    **({"max_tokens": options.max_tokens} if options.max_tokens else {}),
                    **({"arguments": "text" if shape.text_arguments else "object", "hf_safe": options.hf_safe,
                        "trainer": options.trainer}
                       if options.format == "messages" else {}),
                    **options.extra},
        "inputs": inputs or [],
        "counts": {"in": count_in, "out": n_out, "train": n_out - n_val, "val": n_val,
                   "skipped": sum(skipped.values()), "skipped_by_reason": dict(sorted(skipped.items())),
                   "trailing_dropped": {"samples": trimmed["samples"], "messages": trimmed["messages"]},
                   "copies": sum(n - 1 for n in copies.values() if n > 1)},
        "notes": dict(sorted(notes.items())),
        **({"tokens": dict(tokens)} if tokens else {}),
        "files": files,
        "seconds": round(time.perf_counter() - started, 3),
    }
    write_json(out / "manifest.json", manifest)
    return manifest
