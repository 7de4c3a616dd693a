"""NESTFUL scoring (also ComplexFuncBench in NESTFUL's format): sequence metrics of the NESTFUL paper.

NESTFUL publishes no scorer code; the metrics follow the paper's definitions (arXiv 2409.03797) and the
API-Blend evaluation it builds on, with these choices (documented in docs/benchmark.md):

* Both sequences are read in one canonical form: a reference ``$varN.path$`` (NESTFUL's own syntax; the
  label is the prediction's ``label`` field, whatever it is, or without one ``var<position>``) and our
  ``<link>Name.k.path</link>`` both become the link to the k-th call of that function, so a reference is
  right when it names the same earlier call and field, whatever the labels. The ``var_result`` pseudo-call
  is not a call and is dropped from both.
* **F1 function**: multiset F1 of the called function names, per item. **F1 parameter**: multiset F1 of
  (function, parameter, value) triples, values compared exactly (JSON equality, ``1 == 1.0``, booleans
  never equal numbers; references canonical as above). Both are averaged over items (macro).
* **Partial sequence accuracy**: per item, the share of gold calls that the prediction contains exactly
  (name and every argument; multiset matching, any position), averaged over items.
* **Full sequence accuracy**: the prediction is the gold sequence: same length, same order, every call
  exact. This is the item's verdict (``valid``).
* **Win rate** (executing the predicted sequence and comparing the final answer) needs the live RapidAPI
  services NESTFUL calls: not scored offline, reported as such.

Predictions: ``calls`` (``[{name, arguments, label?}]``) or ``result`` text holding NESTFUL's JSON list
(or anything ``scoring.parse`` reads: ``<tool_call>`` blocks, Python call syntax).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

from ...datasets.sources.nestful import link_value
from ...format.sample import CallNumbering
from .parse import DecodeError, json_loads, parse_text

REFERENCE_RE = re.compile(r"\$([A-Za-z_]\w*)((?:[.\[][^$]*)?)\$")  # any label the sequence gives its calls
UNCLOSED_RE = re.compile(r"^\$([A-Za-z_]\w*)((?:[.\[][^$]*)?)$")
RESULT_CALL = "var_result"
METRICS = ("f1_function", "f1_parameter", "partial_sequence_accuracy", "full_sequence_accuracy")


# ---------------------------------------------------------------------------------- canonical calls
def _relink(value: Any, labels: dict[str, str]) -> Any:
    """``$label.path$`` → ``<link>Name.k.path</link>`` by the sequence's own labels (unknown ones stay text)."""
    return link_value(value, labels, pattern=REFERENCE_RE, unclosed=UNCLOSED_RE, strict=False)


def canonical(steps: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """A predicted sequence ``[{name, arguments, label?}]`` → ``[(name, arguments)]`` with references as links."""
    numbering, labels, out = CallNumbering(), {}, []
    for position, step in enumerate(steps, 1):
        name = step.get("name")
        if not isinstance(name, str) or name == RESULT_CALL:
            continue
        arguments = step.get("arguments", step.get("parameters"))
        arguments = arguments if isinstance(arguments, dict) else {}
        out.append((name, _relink(arguments, labels)))
        cid = numbering.next_id(name)
        label = step.get("label")
        labels[label if isinstance(label, str) else f"var{position}"] = cid
    return out


def gold_sequence(truth: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """Our ground-truth calls (links already) → ``[(name, arguments)]`` (each parameter's first candidate)."""
    return [(call["name"], {k: v[0] for k, v in (call.get("parameters") or {}).items() if v}) for call in truth]


def predicted_steps(value: dict[str, Any]) -> list[dict[str, Any]]:
    """The prediction's call list, labels kept; DecodeError when it holds none."""
    if "calls" in value:
        calls = value["calls"]
    elif isinstance(value.get("result"), str):
        calls = _text_steps(value["result"])
    elif isinstance(value.get("result"), list):
        calls = value["result"]
    else:
        raise DecodeError("prediction has neither 'calls' nor 'result'")
    if isinstance(calls, dict) and isinstance(calls.get("output"), list):
        calls = calls["output"]
    if not isinstance(calls, list) or not all(isinstance(c, dict) for c in calls):
        raise DecodeError("the calls are not a list of call objects")
    steps = []
    for call in calls:
        if isinstance(call.get("function"), dict):  # OpenAI tool_call wrapping
            call = {**call["function"], **({"label": call["label"]} if "label" in call else {})}
        arguments = call.get("arguments", call.get("parameters", {}))
        if isinstance(arguments, str):
            try:  # too deep or too large: json_loads's DecodeError
                arguments = json_loads(arguments) if arguments.strip() else {}
            except json.JSONDecodeError as exc:
                raise DecodeError(f"arguments of {call.get('name')!r} are not JSON: {exc}") from None
        steps.append({"name": call.get("name"), "arguments": arguments, **({"label": call["label"]} if "label" in call else {})})
    return steps


def _text_steps(text: str) -> Any:
    start = text.find("[")
    if start >= 0:
        try:
            value, _end = json.JSONDecoder().raw_decode(text, start)
            if isinstance(value, list) and all(isinstance(v, dict) and "name" in v for v in value):
                return value
        except (json.JSONDecodeError, RecursionError):
            pass
    return parse_text(text)


# ---------------------------------------------------------------------------------- metrics
def same(a: Any, b: Any) -> bool:
    """Exact JSON equality (``1 == 1.0``; a boolean never equals a number)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) == type(b) and a == b


def _key(value: Any) -> str:
    """A hashable form for multiset counting, consistent with ``same``."""
    if isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, (int, float)):
        return json.dumps(float(value))
    if isinstance(value, list):
        return "[" + ",".join(_key(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(json.dumps(k) + ":" + _key(value[k]) for k in sorted(value)) + "}"
    return json.dumps(value, ensure_ascii=False)


def f1(predicted: Counter, gold: Counter) -> float:
    if not predicted and not gold:
        return 1.0
    overlap = sum((predicted & gold).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(predicted.values()), overlap / sum(gold.values())
    return 2 * precision * recall / (precision + recall)


def sequence_scores(predicted: list[tuple[str, dict]], gold: list[tuple[str, dict]]) -> dict[str, float]:
    """The four NESTFUL metrics of one item."""
    names = f1(Counter(n for n, _ in predicted), Counter(n for n, _ in gold))
    triples = f1(Counter((n, k, _key(v)) for n, a in predicted for k, v in a.items()),
                 Counter((n, k, _key(v)) for n, a in gold for k, v in a.items()))
    calls_pred = Counter(n + _key(a) for n, a in predicted)
    calls_gold = Counter(n + _key(a) for n, a in gold)
    partial = sum((calls_pred & calls_gold).values()) / len(gold) if gold else float(not predicted)
    full = len(predicted) == len(gold) and all(p[0] == g[0] and same(p[1], g[1]) for p, g in zip(predicted, gold))
    return {"f1_function": names, "f1_parameter": triples, "partial_sequence_accuracy": partial,
            "full_sequence_accuracy": float(full)}


def score_sample(sample: list[dict[str, Any]], value: dict[str, Any], runtimes: dict[str, Any] | None = None) -> dict[str, Any]:
    """Verdict (full sequence match) and the item's ``scores``."""
    truth = next((m["content"] for m in sample if m.get("role") == "tool_call_ground_truth"), [])
    gold = gold_sequence(truth)
    try:
        predicted = canonical(predicted_steps(value))
    except DecodeError as exc:
        scores = sequence_scores([], gold)
        return {"valid": False, "error_type": "nestful:decoder_failed", "error": str(exc), "scores": scores}
    scores = sequence_scores(predicted, gold)
    valid = scores["full_sequence_accuracy"] == 1.0
    error = None if valid else (f"{len(predicted)} calls for {len(gold)} expected; partial "
                                f"{scores['partial_sequence_accuracy']:.2f}, F1 function {scores['f1_function']:.2f}")
    return {"valid": valid, "error_type": None if valid else "nestful:sequence_mismatch", "error": error, "scores": scores}


def layout(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per category: the four metrics averaged over scored items, and win rate as not scored offline."""
    groups: dict[str, list[dict[str, float]]] = {}
    for row in rows:
        if isinstance(row.get("scores"), dict) and row.get("sample_id") is not None:
            groups.setdefault(row["category"], []).append(row["scores"])
    out = {}
    for category, scores in sorted(groups.items()):
        entry = {metric: sum(s[metric] for s in scores) / len(scores) for metric in METRICS}
        out[category] = {"items": len(scores), **entry, "win_rate": "not scored offline (needs the live APIs)"}
    return out


def tables(layout: dict[str, Any]) -> list[tuple[list[str], list[dict[str, Any]], str | None]]:
    """The metrics per category, for the command line: (columns, rows, note)."""
    from .report import percent

    rows = [{"NESTFUL": category, "n": entry["items"], **{m: percent(entry[m]) for m in METRICS}}
            for category, entry in layout.items()]
    return [(["NESTFUL", "n", *METRICS], rows, "win rate: not scored offline (needs the live APIs)")]
