"""Scoring predictions against samples: one verdict per prediction, figures per category.

Predictions (JSONL, one object a line) name a sample by our sample id or by its ``meta.source_id``
(BFCL's own id), and give the model's answer as one of:

* ``"calls": [{"name", "arguments": {…}}]`` (single turn);
* ``"result": "<raw model text>"`` (parsed by :mod:`.parse`) or BFCL's result record, whose
  ``result`` is raw text or ``[{name: "<json args>"}]``;
* multi-turn: ``"turns"`` (or BFCL's ``"result"``): per user turn a list of steps, each step a list
  of calls, BFCL's ``[{name: "<json>"}]`` or raw text.

Samples are streamed; only the predictions are held in memory.
"""

from __future__ import annotations

import importlib
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

from ...format.jsonl import iter_lines
from ...format.sample import Sample
from .checker import check_calls, is_call_list, verdict
from ...format.validate import validate_sample
from .items import OWN_SCORERS, Item, item_of
from .metrics import aggregate, item_metrics
from .multi_turn import Environments, RuntimeUnavailable, check_multi_turn, clean_turns, truth_turns
from .parse import DecodeError, bfcl_result_calls, json_calls, parse_text


@dataclass
class Prediction:
    id: str | None
    line: int
    value: Any = None
    error: str | None = None


def read_predictions(path: str | Path) -> Iterator[Prediction]:
    """Every line of a predictions file; lines that are not a JSON object with an id carry an error."""
    for line in iter_lines(path):
        if line.error:
            yield Prediction(None, line.number, error=line.error)
        elif not isinstance(line.value, dict) or not isinstance(line.value.get("id"), (str, int)):
            yield Prediction(None, line.number, error="not a JSON object with an 'id'")
        else:
            yield Prediction(str(line.value["id"]), line.number, value=line.value)


# ---------------------------------------------------------------------------------- decoding
def decode_calls(value: dict[str, Any], language: str = "python") -> list[dict[str, Any]] | dict:
    """A single-turn prediction → calls (DecodeError when the answer holds no call list); raw text of
    Java/JavaScript items is read by BFCL's parser for that language."""
    if "calls" in value:
        return json_calls(value["calls"]) if value["calls"] is not None else []
    if "result" in value:
        result = value["result"]
        return parse_text(result, language) if isinstance(result, str) else bfcl_result_calls(result)
    raise DecodeError("prediction has neither 'calls' nor 'result'")


def decode_turns(value: dict[str, Any]) -> Any:
    """A multi-turn prediction → turns of steps of calls; undecodable steps are dropped (as BFCL does)."""
    turns = value.get("turns", value.get("result"))
    if not isinstance(turns, list):
        raise DecodeError("multi-turn prediction needs 'turns' (or BFCL's 'result') as a list of turns")
    out = []
    for turn in turns:
        steps = []
        for step in turn if isinstance(turn, list) else [turn]:
            try:
                if isinstance(step, str):
                    steps.append(parse_text(step))
                elif isinstance(step, dict):  # a bare call object where a step was expected
                    steps.append(json_calls(step))
                else:
                    steps.append(json_calls(step) if all(isinstance(c, dict) and "name" in c for c in step)
                                 else bfcl_result_calls(step))
            except DecodeError:
                continue
        out.append(steps)
    return clean_turns(out)


# ---------------------------------------------------------------------------------- one item
def score_item(item: Item, value: dict[str, Any], *, environments: Environments | None = None,
               underscore_to_dot: bool = False, runtimes: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(verdict, generic metric counts or None) for one prediction of one item.

    A prediction too deep or too large to check (numbers past Python's limits, runaway nesting) is
    scored wrong with the reason (``checker:limit``); it never stops the run."""
    from .langs import LanguageUnavailable

    try:
        return _score_item(item, value, environments, underscore_to_dot, runtimes)
    except LanguageUnavailable:
        raise  # a missing optional extra stops the run with its install hint
    except (RecursionError, ValueError, OverflowError, MemoryError) as exc:
        return verdict(False, "checker:limit", f"the prediction cannot be checked within limits: "
                       f"{type(exc).__name__}: {str(exc)[:200]}"), None


def _benchmark(kind: str) -> Any:
    return importlib.import_module(f"{__package__}.{kind}")


def _score_item(item: Item, value: dict[str, Any], environments: Environments | None,
                underscore_to_dot: bool, runtimes: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, Any] | None]:
    if item.kind == "multi_turn":
        return _score_multi_turn(item, value, environments), None
    if item.kind in OWN_SCORERS.values():  # a benchmark judged by its own rules: scoring/<kind>.py
        return _benchmark(item.kind).score_sample(item.sample or [], value, runtimes or {}), None
    try:
        calls, error = decode_calls(value, item.language), None
    except DecodeError as exc:
        calls, error = None, str(exc)
    contains_call = calls is not None and is_call_list(calls) and len(calls) > 0
    if item.kind == "irrelevance":
        return (verdict(True) if not contains_call else verdict(
            False, "irrelevance_error:decoder_success", "Valid syntax. Successfully decode AST when it should not.")), None
    if item.kind == "relevance":
        return (verdict(True) if contains_call else verdict(
            False, "relevance_error:decoder_failed", f"Invalid syntax. Failed to decode AST when it should have. {error or ''}".strip())), None
    counts = item_metrics(calls if calls is not None and is_call_list(calls) else [], item.answers)
    if calls is None:
        return verdict(False, "ast_decoder:decoder_failed", f"Invalid syntax. Failed to decode AST. {error}"), counts
    if not is_call_list(calls):
        return verdict(False, "ast_decoder:decoder_wrong_output_format", "Did not output in the specified format."), counts
    return check_calls(item.functions, calls, item.answers, item.mode, item.options(underscore_to_dot)), counts


def _score_multi_turn(item: Item, value: dict[str, Any], environments: Environments | None) -> dict[str, Any]:
    try:
        turns = decode_turns(value)
    except DecodeError as exc:
        return verdict(False, "multi_turn:inference_error", str(exc))
    if environments is None:
        return verdict(False, "multi_turn:no_environment", "BFCL's raw download (environment classes) is not available")
    try:
        model, truth = environments.sessions(item.source_id or "", item.category)
    except KeyError:
        return verdict(False, "multi_turn:no_environment", f"no BFCL multi-turn entry {item.source_id!r} in the raw download")
    except RuntimeUnavailable as exc:
        return verdict(False, "multi_turn:no_environment", str(exc))
    return check_multi_turn(turns, truth_turns(item.sample or []), model, truth)


# ---------------------------------------------------------------------------------- many
def score(samples: Iterable[Sample], predictions: Iterable[Prediction], *, environments: Environments | None = None,
          underscore_to_dot: bool = False, progress: bool = False,
          runtimes: dict[str, Any] | None = None) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Score predictions; returns (one result row per prediction line, summary).

    ``runtimes``: benchmark environments by corpus name (``tau2-bench``: ``tools.tau2_runtime.Tau2Runtime``)."""
    from tqdm import tqdm

    results: dict[int, dict[str, Any]] = {}
    by_id: dict[str, Prediction] = {}
    for prediction in predictions:
        if prediction.error:
            results[prediction.line] = _row(prediction, None, verdict(False, "prediction:invalid", prediction.error))
        elif prediction.id in by_id:
            results[prediction.line] = _row(prediction, None, verdict(
                False, "prediction:duplicate_id", f"id already given on line {by_id[prediction.id].line}"))
        else:
            by_id[prediction.id] = prediction
    totals: dict[str, Counter] = defaultdict(Counter)
    counts: dict[str, list] = defaultdict(list)
    kinds: dict[str, str] = {}
    used: set[int] = set()
    invalid_samples = 0
    for sample in tqdm(samples, desc="scoring", unit=" samples", disable=None if progress else True, mininterval=0.5):
        if not isinstance(sample, list) or validate_sample(sample):
            invalid_samples += 1  # a broken evaluation sample is counted, never scored and never a crash
            continue
        item = item_of(sample)
        if item is None:
            continue
        kinds.setdefault(item.category, item.kind)
        totals[item.category]["samples"] += 1
        prediction = by_id.get(item.sample_id) or (by_id.get(item.source_id) if item.source_id else None)
        if prediction is None or prediction.line in used:
            totals[item.category]["missing"] += 1
            continue
        used.add(prediction.line)
        result, item_counts = score_item(item, prediction.value, environments=environments,
                                         underscore_to_dot=underscore_to_dot, runtimes=runtimes)
        results[prediction.line] = _row(prediction, item, result)
        totals[item.category]["scored"] += 1
        totals[item.category]["correct"] += int(result["valid"])
        if item_counts is not None:
            counts[item.category].append(item_counts)
    for prediction in by_id.values():
        if prediction.line not in used:
            results[prediction.line] = _row(prediction, None, verdict(
                False, "prediction:unknown_id", "no sample with this id or source id in the given datasets"))
    rows = [results[line] for line in sorted(results)]
    summary = summarize(totals, counts, kinds, rows)
    summary["invalid_samples"] = invalid_samples
    return rows, summary


def _row(prediction: Prediction, item: Item | None, result: dict[str, Any]) -> dict[str, Any]:
    return {"id": prediction.id, "line": prediction.line, "sample_id": item.sample_id if item else None,
            "source_id": item.source_id if item else None, "category": item.category if item else None,
            "valid": result["valid"], "error_type": result.get("error_type") or None,
            "error": result.get("error") or None, **{k: result[k] for k in ("process", "scores") if k in result}}


def summarize(totals: dict[str, Counter], counts: dict[str, list], kinds: dict[str, str],
              rows: list[dict[str, Any]]) -> dict[str, Any]:
    from .report import bfcl_layout

    categories = {}
    for category in sorted(totals):
        t = totals[category]
        entry = {"kind": kinds[category], "samples": t["samples"], "scored": t["scored"], "correct": t["correct"],
                 "missing": t["missing"], "accuracy": t["correct"] / t["scored"] if t["scored"] else None}
        if counts.get(category):
            entry["metrics"] = aggregate(counts[category])
        categories[category] = entry
    rejected = [r for r in rows if r["sample_id"] is None]
    summary = {
        "predictions": len(rows),
        "scored": sum(t["scored"] for t in totals.values()),
        "rejected": len(rejected),
        "rejected_by_reason": dict(Counter(r["error_type"] for r in rejected)),
        "correct": sum(t["correct"] for t in totals.values()),
        "categories": categories,
    }
    if any(category in kinds for category in BFCL_CATEGORIES):
        summary["bfcl"] = bfcl_layout(categories)
    for kind in sorted(set(kinds.values()) & set(OWN_SCORERS.values())):  # each benchmark's own table
        if hasattr(_benchmark(kind), "layout"):
            summary[kind] = _benchmark(kind).layout(rows)
    return summary


BFCL_CATEGORIES = (
    "simple_python", "simple_java", "simple_javascript", "multiple", "parallel", "parallel_multiple", "irrelevance",
    "live_simple", "live_multiple", "live_parallel", "live_parallel_multiple", "live_irrelevance", "live_relevance",
    "multi_turn_base", "multi_turn_miss_func", "multi_turn_miss_param", "multi_turn_long_context",
)

