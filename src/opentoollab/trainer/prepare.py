"""``trainer prepare``: unified samples → a model's exact chat text (with loss spans) or trainer-ready rows.

The input is any iterator of samples (today: processed corpora / JSONL files; later: a mix), so
the pipeline is ``samples → to_chat → renderer → row`` with every sample either written or
skipped with a counted reason (``skipped.jsonl``: id, reason, detail). Outputs: ``train.jsonl``,
``val.jsonl`` (with ``val_size``), ``manifest.json``, and for ``sharegpt`` a ``dataset_info.json``.
With a tokenizer, ``text`` rows also get ``input_ids`` and ``labels`` (-100 outside the spans).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from .. import __version__
from ..format.jsonl import atomic_writer, iter_lines, write_json
from .render.base import Chat, Rendered, Renderer, Skip, to_chat
from ..format.validate import validate_sample

FORMATS = ("text", "messages", "sharegpt")


@dataclass
class BadRecord:
    """An input record that is not a sample (unparsable line); counted as skipped, never dropped silently."""

    where: str
    reason: str


@dataclass
class Options:
    format: str = "text"
    val_size: float = 0.0  # < 1: fraction of the output; >= 1: number of samples
    seed: int = 0
    reasoning: bool = False
    tool_changes: str = "skip"
    validate: bool = True
    tokenizer: Any = None  # a tokenizers.Tokenizer: text rows get input_ids + labels
    extra: dict[str, Any] = field(default_factory=dict)


def read_files(paths: Iterable[Path]) -> Iterator[Any]:
    """Samples of JSONL files, with a :class:`BadRecord` in place of each line that is not JSON."""
    for path in paths:
        for line in iter_lines(path):
            yield BadRecord(f"{line.path}:{line.number}", line.error) if line.error else line.value


def file_info(path: Path) -> dict[str, Any]:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return {"path": str(path), "bytes": path.stat().st_size, "sha256": digest.hexdigest()}


# --- rows -----------------------------------------------------------------------------------------

def text_row(chat: Chat, rendered: Rendered) -> dict[str, Any]:
    return {"id": chat.id, "text": rendered.text, "spans": rendered.spans}


def messages_row(chat: Chat, rendered: Rendered) -> dict[str, Any]:
    """TRL SFTTrainer / ms-swift conversational rows (arguments as objects); ``tools`` null when none."""
    return {"messages": chat.messages, "tools": chat.tools}


SHAREGPT_TAGS = {"role_tag": "from", "content_tag": "value", "user_tag": "human", "assistant_tag": "gpt",
                 "observation_tag": "observation", "function_tag": "function_call", "system_tag": "system"}


def sharegpt_row(chat: Chat, rendered: Rendered) -> dict[str, Any]:
    """LLaMA-Factory's sharegpt row: human/observation on odd turns, gpt/function_call on even ones.

    A wave of parallel calls is one ``function_call`` turn holding a JSON list, and its results one
    ``observation`` turn holding a JSON list of the result texts. Trailing context after the last
    assistant turn is cut (nothing is learned from it and LLaMA-Factory requires an even length).
    """
    system = None
    turns: list[dict[str, str]] = []
    pending_results: list[str] = []

    def flush_results() -> None:
        if pending_results:
            value = pending_results[0] if len(pending_results) == 1 else json.dumps(pending_results, ensure_ascii=False)
            turns.append({"from": "observation", "value": value})
            pending_results.clear()

    for i, message in enumerate(chat.messages):
        role = message["role"]
        if role == "system" and i == 0:
            system = message["content"]
            continue
        if role != "tool":
            flush_results()
        if role == "user":
            turns.append({"from": "human", "value": message["content"]})
        elif role == "tool":
            pending_results.append(message["content"])
        elif role == "assistant" and message.get("tool_calls"):
            calls = [{"name": c["function"]["name"], "arguments": c["function"]["arguments"]} for c in message["tool_calls"]]
            turns.append({"from": "function_call",
                          "value": json.dumps(calls[0] if len(calls) == 1 else calls, ensure_ascii=False)})
        elif role == "assistant":
            value = message["content"]
            if message.get("reasoning_content"):
                value = f"<think>\n{message['reasoning_content']}\n</think>\n\n{value}"
            turns.append({"from": "gpt", "value": value})
        else:
            raise Skip("sharegpt_roles", f"a {role} message at position {i} has no sharegpt role")
    flush_results()
    while turns and turns[-1]["from"] in ("human", "observation"):
        turns.pop()
    for k, turn in enumerate(turns):
        expected = ("human", "observation") if k % 2 == 0 else ("gpt", "function_call")
        if turn["from"] not in expected:
            raise Skip("sharegpt_alternation", f"turn {k} is {turn['from']}, LLaMA-Factory needs {'/'.join(expected)}")
    if not turns:
        raise Skip("nothing_to_learn", "no assistant turn")
    row: dict[str, Any] = {"conversations": turns}
    if system is not None:
        row["system"] = system
    row["tools"] = json.dumps([tool["function"] for tool in chat.tools or []], ensure_ascii=False)
    return row


ROW_BUILDERS = {"text": text_row, "messages": messages_row, "sharegpt": sharegpt_row}


def dataset_info(name: str, files: dict[str, str]) -> dict[str, Any]:
    """LLaMA-Factory ``dataset_info.json`` entries registering the sharegpt files."""
    entry = {"formatting": "sharegpt", "columns": {"messages": "conversations", "system": "system", "tools": "tools"},
             "tags": SHAREGPT_TAGS}
    return {(name if split == "train" else f"{name}_{split}"): {"file_name": file, **entry} for split, file in files.items()}


# --- token ids and labels ---------------------------------------------------------------------------
IGNORE_INDEX = -100  # what PyTorch's cross-entropy (and every trainer) skips


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


def token_labels(tokenizer: Any, text: str, spans: list[list[int]]) -> tuple[list[int], list[int]]:
    """Tokenize the whole text once (special tokens in it are matched; none added) and label by offsets.

    A token is learned (label = its id) when its character offsets overlap a span, so a token that
    straddles a span edge is learned: the model has to produce it to produce the span. Everything
    else is ``IGNORE_INDEX``.
    """
    encoding = tokenizer.encode(text, add_special_tokens=False)
    ids = encoding.ids
    labels = [IGNORE_INDEX] * len(ids)
    for start, end in spans:
        first, last = _token_range(encoding, start, end)
        labels[first:last] = ids[first:last]
    return ids, labels


def _token_range(encoding: Any, start: int, end: int) -> tuple[int, int]:
    """Indices ``[first, last)`` of the tokens whose offsets overlap ``[start, end)``.

    Asks the encoding for the tokens at the span's first and last characters, then widens over
    neighbours that also overlap (byte-level BPE splits one character over several tokens), instead
    of turning every offset into a Python tuple (that doubled the cost of tokenizing).
    """
    first, last = encoding.char_to_token(start), encoding.char_to_token(end - 1)
    if first is None or last is None:  # a character no token covers (a normalizer dropped it): scan all
        inside = [i for i, (s, e) in enumerate(encoding.offsets) if s < end and e > start]
        return (inside[0], inside[-1] + 1) if inside else (0, 0)
    while first > 0 and (chars := encoding.token_to_chars(first - 1)) is not None and chars[1] > start:
        first -= 1
    last += 1
    while last < len(encoding) and (chars := encoding.token_to_chars(last)) is not None and chars[0] < end:
        last += 1
    return first, last


# --- the pipeline -----------------------------------------------------------------------------------

def render_one(sample: Any, renderer: Renderer, options: Options) -> tuple[dict[str, Any], list[str]]:
    """One sample → (row, notes); raises Skip with the reason it cannot be written."""
    if isinstance(sample, BadRecord):
        raise Skip("unreadable", f"{sample.where}: {sample.reason}")
    if options.validate:
        problems = validate_sample(sample)
        if problems:
            raise Skip("invalid_sample", str(problems[0]))
    chat = to_chat(sample, reasoning=options.reasoning, tool_changes=options.tool_changes)
    rendered = renderer.render(chat)
    if not rendered.spans:
        raise Skip("nothing_to_learn", "no assistant turn")
    row = ROW_BUILDERS[options.format](chat, rendered)
    if options.tokenizer is not None and options.format == "text":
        row["input_ids"], row["labels"] = token_labels(options.tokenizer, rendered.text, rendered.spans)
    return row, chat.notes


def _val_key(seed: int, identifier: str) -> bytes:
    return hashlib.sha256(f"{seed}/{identifier}".encode("utf-8")).digest()[:8]


def _sample_label(sample: Any, position: int) -> str:
    if isinstance(sample, list) and sample and isinstance(sample[0], dict) and sample[0].get("role") == "id":
        return str(sample[0].get("content"))
    return f"#{position}"


def prepare(samples: Iterable[Any], renderer: Renderer, out_dir: str | os.PathLike, options: Options, *,
            renderer_info: dict[str, Any], inputs: list[dict[str, Any]] | None = None, name: str = "opentoollab",
            total: int | None = None, progress: bool = True) -> dict[str, Any]:
    """Render every sample and write the split files, ``skipped.jsonl`` and ``manifest.json``; returns the manifest."""
    from tqdm import tqdm

    if options.format not in FORMATS:
        raise ValueError(f"unknown format {options.format!r}; choose one of {', '.join(FORMATS)}")
    started = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    skipped: Counter = Counter()
    notes: Counter = Counter()
    tokens: Counter = Counter()
    keys: list[bytes] = []
    spool = out / f".rows.{os.getpid()}.tmp"
    count_in = 0
    try:
        with open(spool, "w", encoding="utf-8", newline="\n") as rows, \
                atomic_writer(out / "skipped.jsonl") as skip_log:
            for sample in tqdm(samples, total=total, desc=f"rendering ({renderer_info.get('name')})", unit=" samples",
                               disable=None if progress else True, mininterval=0.5, leave=False):
                label = _sample_label(sample, count_in)
                count_in += 1
                try:
                    row, row_notes = render_one(sample, renderer, options)
                except Skip as exc:
                    skipped[exc.reason] += 1
                    skip_log.write(json.dumps({"id": label, "reason": exc.reason, "detail": exc.detail},
                                              ensure_ascii=False) + "\n")
                    continue
                except Exception as exc:  # a malformed sample the checks above did not catch: log, never crash
                    skipped["error"] += 1
                    skip_log.write(json.dumps({"id": label, "reason": "error", "detail": f"{type(exc).__name__}: {exc}"},
                                              ensure_ascii=False) + "\n")
                    continue
                notes.update(row_notes)
                if "input_ids" in row:
                    tokens["total"] += len(row["input_ids"])
                    tokens["learned"] += len(row["labels"]) - row["labels"].count(IGNORE_INDEX)
                    tokens["longest"] = max(tokens["longest"], len(row["input_ids"]))
                keys.append(_val_key(options.seed, label))
                rows.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")
        n_out = len(keys)
        n_val = min(n_out, round(options.val_size * n_out) if options.val_size < 1 else int(options.val_size))
        val_rows = set(sorted(range(n_out), key=keys.__getitem__)[:n_val]) if n_val else set()
        files = {"train": "train.jsonl", **({"val": "val.jsonl"} if n_val else {})}
        with open(spool, encoding="utf-8") as rows, atomic_writer(out / "train.jsonl") as train, \
                (atomic_writer(out / "val.jsonl") if n_val else open(os.devnull, "w")) as val:
            for index, line in enumerate(rows):
                (val if index in val_rows else train).write(line)
    finally:
        spool.unlink(missing_ok=True)
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
                    "tool_changes": options.tool_changes, "validate": options.validate, **options.extra},
        "inputs": inputs or [],
        "counts": {"in": count_in, "out": n_out, "train": n_out - n_val, "val": n_val,
                   "skipped": sum(skipped.values()), "skipped_by_reason": dict(sorted(skipped.items()))},
        "notes": dict(sorted(notes.items())),
        **({"tokens": dict(tokens)} if tokens else {}),
        "files": files,
        "seconds": round(time.perf_counter() - started, 3),
    }
    write_json(out / "manifest.json", manifest)
    return manifest
