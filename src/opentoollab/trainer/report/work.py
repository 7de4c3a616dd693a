"""The report's per-sample work, in batches of one data chunk each, on every core.

The parent reads raw lines (cheap) and hands out :class:`Batch` es; a worker parses them, computes
the facts, annotates and renders the samples, writes the batch's ``data/samples-N.js`` (and
``render-M-N.js``) itself and returns only the facts. Batches come back in order, so the site is the
same bytes whatever the number of workers.
"""

from __future__ import annotations

import json
import os
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from ...format.sample import decode_line, sample_id
from .scan import Facts, annotate, facts
from .views import Model, load_models


@dataclass
class Batch:
    number: int  # the data chunk it becomes
    group: int
    subset: str | None  # None: label each sample by its meta (a mix)
    file: str
    lines: list[tuple[int, bytes]]
    records: dict[int, dict]  # stored tag records by line number


@dataclass
class Result:
    number: int
    group: int
    facts: list[tuple[Facts, str]] = field(default_factory=list)  # (facts, subset label)
    unreadable: list[dict[str, Any]] = field(default_factory=list)  # the first few, with why
    bad: int = 0  # lines that are not samples
    lengths: dict[str, list[int]] = field(default_factory=dict)  # model length label → lengths


def js(call: str, prefix: str, text: str) -> bytes:
    """``call(prefix text);`` as UTF-8; text UTF-8 cannot hold (lone surrogates) is escaped instead."""
    try:
        return f"{call}({prefix}{text});\n".encode("utf-8")
    except UnicodeEncodeError:
        return f"{call}({prefix}{text});\n".encode("utf-8", "backslashreplace")


def _refuse(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


_DECODER = json.JSONDecoder(parse_constant=_refuse)


def parse(text: str) -> Any:
    """A line's value; ValueError for anything but JSON (NaN/Infinity included, nesting too deep).

    Lighter than ``loads_strict`` (no per-float hook, about twice as fast on number-heavy data): the
    report only shows samples, and a float that overflows is shown as the text it is in the file.
    """
    try:
        return _DECODER.decode(text)
    except RecursionError:
        raise ValueError("JSON nested too deep") from None


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def run_batch(batch: Batch, models: list[Model], data: Path) -> Result:
    """Parse, describe, annotate and render one batch; writes its chunk files into ``data``."""
    result = Result(batch.number, batch.group)
    items: list[str] = []
    renders: list[list[str]] = [[] for _ in models]
    for number, raw in batch.lines:
        try:
            text = decode_line(raw).strip()
            sample = parse(text)
        except ValueError as exc:
            sample, text = None, raw.decode("utf-8", "backslashreplace").strip()
            reason = f"invalid JSON: {exc}"
        else:
            reason = "a sample is a JSON array" if not isinstance(sample, list) else ""
        if reason:
            result.bad += 1
            if len(result.unreadable) < 5:
                result.unreadable.append({"where": f"{batch.file}:{number}", "reason": reason, "raw": text[:4000]})
            continue
        record = batch.records.get(number)
        if record is not None and record.get("id") != sample_id(sample):
            record = None  # tags of an older version of the file
        fact = facts(sample, record, f"{Path(batch.file).stem}:{number}")
        label = batch.subset if batch.subset is not None else mix_subset(sample)
        result.facts.append((fact, label))
        # the line itself is the sample's JSON (strictly parsed above): no need to write it again
        items.append(f'{{"id":{dumps(fact.id)},"where":{dumps(f"{batch.file}:{number}")},"s":{text},'
                     f'"a":{dumps(annotate(sample))}}}')
        for model, out in zip(models, renders):
            view = model.view(sample)
            out.append(dumps(view))
            if "n" in view:
                result.lengths.setdefault(model.length_label, []).append(view["n"])
    if items:
        (data / f"samples-{batch.number:05d}.js").write_bytes(js("OTL.chunk", f"{batch.number},", "[" + ",".join(items) + "]"))
        for m, out in enumerate(renders):
            (data / f"render-{m}-{batch.number:05d}.js").write_bytes(
                js("OTL.rendered", f"{m},{batch.number},", "[" + ",".join(out) + "]"))
    return result


def mix_subset(sample: list) -> str:
    """A mix's samples are labelled by where each came from (``meta.source/meta.subset``)."""
    for message in sample[:3]:
        if isinstance(message, dict) and message.get("role") == "meta" and isinstance(message.get("content"), dict):
            content = message["content"]
            if content.get("source"):
                return f"{content['source']}/{content.get('subset', '?')}"
    return "?"


# ----------------------------------------------------------------------------- running batches
_WORKER: dict[str, Any] = {}


def _init(names: list[str], tokenizers: list[str], data: str) -> None:
    _WORKER["models"] = load_models(names, tokenizers)
    _WORKER["data"] = Path(data)


def _work(batch: Batch) -> Result:
    return run_batch(batch, _WORKER["models"], _WORKER["data"])


def run_all(batches: Iterable[Batch], models: list[Model], data: Path, jobs: int) -> Iterator[Result]:
    """Results in batch order: in this process (``jobs`` 1), else in a pool of ``jobs`` workers that
    load the same models themselves."""
    if jobs <= 1:
        for batch in batches:
            yield run_batch(batch, models, data)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_init, initargs=([m.name for m in models], [m.tokenizer_spec or "" for m in models], str(data))) as pool:
        pending: deque = deque()
        for batch in batches:
            pending.append(pool.submit(_work, batch))
            if len(pending) >= 2 * jobs:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def default_jobs() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def batches(parts: Iterable[tuple[int, str | None, Path, dict[int, dict]]], size: int,
            progress: Callable[[int], None] | None = None) -> Iterator[Batch]:
    """Batches of ``size`` non-blank lines per file; (group, subset label or None, path, tag records by line)."""
    number = 0
    for group, subset, path, records in parts:
        lines: list[tuple[int, bytes]] = []
        with open(path, "rb") as handle:
            for line_number, raw in enumerate(handle, 1):
                if line_number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                    raw = raw[3:]
                if not raw.strip():
                    continue
                lines.append((line_number, raw))
                if len(lines) == size:
                    yield Batch(number, group, subset, path.name, lines, {n: records[n] for n, _ in lines if n in records})
                    if progress:
                        progress(len(lines))
                    number, lines = number + 1, []
        if lines:
            yield Batch(number, group, subset, path.name, lines, {n: records[n] for n, _ in lines if n in records})
            if progress:
                progress(len(lines))
            number += 1
