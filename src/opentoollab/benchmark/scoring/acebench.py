"""ACEBench scoring: each prediction judged by ACEBench's own rules, and ACEBench's table per language.

What a prediction gives, per category (``meta.acebench.category`` of the sample):

* normal (atom, single/multi-turn, similar API, preference): ``result`` — the model's raw text, ACEBench's
  ``[ApiName(key='value', …)]`` — or ``calls`` ``[{name, arguments}]``, which are first written as that text
  (Python literals) so both are read the same way; checked against every acceptable answer
  (:mod:`.acebench_rules`). A multi-turn line is one item; ACEBench's figure for the category is the share
  of conversations whose every line is right ("end"), and the mean share of right lines ("process").
* special (incomplete, error_param, irrelevant): ``result`` text, ACEBench's substring checks.
* agent (multi_turn, multi_step): ACEBench's result record: ``result`` = the end state of every involved
  scenario class (``[{ClassName: {attribute: value}}]``) and ``process`` = the calls made, as call texts;
  right when the end state matches; process accuracy = share of milestone calls found in order.

The table follows ACEBench's ``generate_result_csv``: category figures rounded to 3 places (special ones
not rounded, as there), unweighted means for atom / single-turn / multi-turn / normal / special / agent,
and the summary 0.2676 × special + 0.578 × normal + 0.1545 × agent. A category with no scored item counts
0, as in ACEBench, and shows ``N/A``. Figures are over the scored items (missing predictions are listed
per category, not counted wrong).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ...format.sample import meta
from .acebench_rules import CheckerCrash, DecodeFailure, check_calls, check_end_state, check_special, decode, process_accuracy

NA = "N/A"
SPECIAL_WEIGHT, NORMAL_WEIGHT, AGENT_WEIGHT = 0.2676, 0.578, 0.1545
ATOM = ("normal_atom_bool", "normal_atom_enum", "normal_atom_number", "normal_atom_list", "normal_atom_object_short",
        "normal_atom_object_deep")
SINGLE = ("normal_single_turn_single_function", "normal_single_turn_parallel_function")
MULTI = ("normal_multi_turn_user_switch", "normal_multi_turn_user_adjust")
NORMAL = (*SINGLE, *MULTI, "normal_similar_api", "normal_preference", *ATOM)
SPECIAL = ("special_incomplete", "special_error_param", "special_irrelevant")
AGENT = ("agent_multi_turn", "agent_multi_step")


# ---------------------------------------------------------------------------------- one item
def own(sample: list[dict[str, Any]]) -> dict[str, Any]:
    """``meta.acebench`` of a sample (category, official answer, agent state)."""
    value = meta(sample).get("acebench")
    return value if isinstance(value, dict) else {}


def call_text(calls: Any) -> str:
    """``[{name, arguments}]`` → ACEBench's call text ``[name(key=literal, …)]``."""
    if not isinstance(calls, list):
        raise DecodeFailure("'calls' is not a list")
    parts = []
    for call in calls:
        if not isinstance(call, dict) or not isinstance(call.get("name"), str):
            raise DecodeFailure(f"not a call: {str(call)[:200]}")
        arguments = call.get("arguments", call.get("parameters")) or {}
        if not isinstance(arguments, dict):
            raise DecodeFailure(f"arguments of {call['name']!r} are not an object")
        parts.append(f"{call['name']}(" + ", ".join(f"{key}={value!r}" for key, value in arguments.items()) + ")")
    return "[" + ", ".join(parts) + "]"


def answer_text(value: dict[str, Any]) -> str:
    """The prediction as the text ACEBench reads: ``result`` as given, ``calls`` as call text."""
    if isinstance(value.get("result"), str):
        return value["result"]
    if "calls" in value:
        return call_text(value["calls"] if value["calls"] is not None else [])
    if "result" in value:
        return str(value["result"])
    raise DecodeFailure("prediction has neither 'result' nor 'calls'")


def raw_schema(schema: Any) -> Any:
    """A unified parameter schema → ACEBench's own (type names from ``x-original-type``)."""
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key == "x-original-type":
            continue
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: raw_schema(sub) for name, sub in value.items()}
        elif key == "items":
            out[key] = raw_schema(value)
        else:
            out[key] = value
    if "x-original-type" in schema:
        out["type"] = schema["x-original-type"]
    return out


def raw_functions(sample: list[dict[str, Any]], arguments_key: list[str]) -> list[dict[str, Any]]:
    """The sample's tools as ACEBench's function docs (a doc that said ``arguments`` says it again)."""
    tools = next((m["content"] for m in sample if m.get("role") == "candidate_tools"), [])
    docs = []
    for tool in tools:
        key = "arguments" if tool["name"] in arguments_key else "parameters"
        docs.append({"name": tool["name"], "description": tool.get("description", ""), key: raw_schema(tool["parameters"])})
    return docs


def verdict(valid: bool, error_type: str = "", error: Any = None, **extra: Any) -> dict[str, Any]:
    out = {"valid": valid, "error_type": error_type or None, "error": error or None}
    out.update(extra)
    return out


def score_sample(sample: list[dict[str, Any]], value: dict[str, Any], runtimes: dict[str, Any] | None = None) -> dict[str, Any]:
    """ACEBench's verdict on one prediction; agent items also carry ``process`` (their process accuracy)."""
    info = own(sample)
    category, answer = info.get("category") or "", info.get("answer")
    try:
        if category.startswith("agent"):
            return _agent(value, answer, info.get("mile_stone") or [])
        try:
            text = answer_text(value)
        except DecodeFailure as exc:
            return verdict(False, "wrong_output_format", str(exc))
        if category.startswith("special"):
            result = check_special(text, answer, category)
            return verdict(result["valid"], result.get("error_type", ""), result.get("error"))
        try:
            calls = decode(text)
        except DecodeFailure as exc:
            return verdict(False, "wrong_output_format", str(exc))
        functions = raw_functions(sample, info.get("arguments_key") or [])
        first: dict[str, Any] | None = None
        for candidate in answer if isinstance(answer, list) else [answer]:
            result = check_calls(functions, calls, candidate, category)
            if result["valid"]:
                return verdict(True)
            first = first or result
        return verdict(False, (first or {}).get("error_type", ""), (first or {}).get("error"))
    except (CheckerCrash, KeyError, TypeError, AttributeError, IndexError, ValueError) as exc:
        return verdict(False, "checker_error", f"ACEBench's checker raises on this item ({type(exc).__name__}: "
                                               f"{str(exc)[:200]}); its own run would stop here")


def _agent(value: dict[str, Any], answer: Any, milestones: Any) -> dict[str, Any]:
    state, process = value.get("result"), value.get("process")
    if not isinstance(process, list) or not all(isinstance(p, str) for p in process):
        process = []
    result = check_end_state(state, answer if isinstance(answer, list) else [answer])
    share = 1.0 if result["valid"] else process_accuracy(process, milestones)
    return verdict(result["valid"], result.get("error_type", ""), result.get("error"), process=share)


# ---------------------------------------------------------------------------------- the table
def _category_figures(category: str, rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """ACEBench's figure(s) for one category from its scored rows, rounded as ACEBench rounds them."""
    if not rows:
        return None
    n = len(rows)
    correct = sum(1 for r in rows if r["valid"])
    if category in MULTI:
        conversations: dict[str, list[bool]] = defaultdict(list)
        for row in rows:
            conversations[str(row.get("source_id") or "").rsplit("_", 1)[0]].append(bool(row["valid"]))
        ends = [all(v) for v in conversations.values()]
        processes = [round(sum(v) / len(v), 3) for v in conversations.values()]
        return {"accuracy": round(sum(ends) / len(ends), 3), "process_accuracy": round(sum(processes) / len(processes), 3),
                "count": n, "conversations": len(ends)}
    if category in AGENT:
        process = sum(float(r.get("process") or 0.0) for r in rows) / n
        return {"accuracy": round(correct / n, 3), "process_accuracy": round(process, 3), "count": n}
    if category in SPECIAL:
        return {"accuracy": correct / n, "count": n}
    return {"accuracy": round(correct / n, 3), "count": n}


def _mean(figures: dict[str, dict | None], names: tuple[str, ...]) -> float:
    return round(sum((figures.get(n) or {}).get("accuracy", 0) for n in names) / len(names), 3)


def layout(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """ACEBench's result table for each language with scored rows: ``{language: {categories, table, summary}}``."""
    by: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        category = row.get("category") or ""
        if not category.startswith("ACEBench/") or row.get("sample_id") is None:
            continue
        language, _, name = category.split("/", 1)[1].partition("_")
        by[language][name].append(row)
    out = {}
    for language, groups in sorted(by.items()):
        figures = {name: _category_figures(name, groups.get(name, [])) for name in (*NORMAL, *SPECIAL, *AGENT)}
        atom, single, multi = _mean(figures, ATOM), _mean(figures, SINGLE), _mean(figures, MULTI)
        normal, special, agent = _mean(figures, NORMAL), _mean(figures, SPECIAL), _mean(figures, AGENT)
        summary = round(special * SPECIAL_WEIGHT + normal * NORMAL_WEIGHT + agent * AGENT_WEIGHT, 3)

        def show(name: str, key: str = "accuracy") -> Any:
            entry = figures.get(name)
            return entry[key] if entry else NA

        rows_out = [("bool", show("normal_atom_bool")), ("enum", show("normal_atom_enum")),
                    ("number", show("normal_atom_number")), ("list", show("normal_atom_list")),
                    ("object_short", show("normal_atom_object_short")), ("object_deep", show("normal_atom_object_deep")),
                    ("atom", atom), ("single_turn_single_function", show("normal_single_turn_single_function")),
                    ("single_turn_parallel_function", show("normal_single_turn_parallel_function")),
                    ("single_turn", single), ("multiple_turn_switch", show("normal_multi_turn_user_switch")),
                    ("multiple_turn_adjust", show("normal_multi_turn_user_adjust")), ("multiple_turn", multi),
                    ("similar_api", show("normal_similar_api")), ("profile", show("normal_preference")),
                    ("normal_summary", normal), ("incomplete", show("special_incomplete")),
                    ("error", show("special_error_param")), ("irrelevant", show("special_irrelevant")),
                    ("special_summary", special), ("agent_multi_turn", show("agent_multi_turn")),
                    ("agent_multi_turn_process", show("agent_multi_turn", "process_accuracy")),
                    ("agent_multi_step", show("agent_multi_step")),
                    ("agent_multi_step_process", show("agent_multi_step", "process_accuracy")),
                    ("agent_summary", agent), ("Summary", summary)]
        out[language] = {"summary": summary, "normal": normal, "special": special, "agent": agent,
                         "categories": {k: v for k, v in figures.items() if v is not None},
                         "table": [{"metric": name, "accuracy": value} for name, value in rows_out]}
    return out


def tables(layout: dict[str, Any]) -> list[tuple[list[str], list[dict[str, Any]], str | None]]:
    """ACEBench's table per language, for the command line: (columns, rows, note)."""
    from .report import percent

    return [([f"ACEBench ({language})", "accuracy"],
             [{f"ACEBench ({language})": r["metric"], "accuracy": percent(r["accuracy"])} for r in entry["table"]], None)
            for language, entry in layout.items()]
