"""BFCL's leaderboard aggregation (``eval_runner_helper.generate_leaderboard_csv``) and its table.

Non-Live: simple = unweighted mean of Python/Java/JavaScript simple; AST summary = unweighted mean of
simple, multiple, parallel, parallel multiple. Live: weighted by item count. Multi-Turn: unweighted
mean of its four categories. Irrelevance: unweighted mean of irrelevance and live_irrelevance;
Relevance: live_relevance. Overall: BFCL's weights 10/10/10/30/40 for non-live, live, irrelevance,
multi-turn and agentic. Agentic (web search, memory) cannot be scored offline, so it counts 0 as BFCL
counts a category it did not run; ``overall_without_agentic`` re-weights the other 60%.
A category that was not scored shows ``N/A`` (never 0%) and counts 0 in the numbers, as in BFCL. In the table,
a group shows N/A when a part it averages unweighted was not run (its mean would be diluted by the zeros), or
when none of its parts was; the two Overall rows show N/A unless every category of the layout was scored
(``complete`` says which were not), so a partial or all-failed run never prints a made-up overall.
"""

from __future__ import annotations

from typing import Any

NA = "N/A"


def _score(categories: dict[str, Any], name: str) -> dict[str, Any]:
    entry = categories.get(name)
    if not entry or not entry.get("scored"):
        return {"accuracy": 0.0, "count": (entry or {}).get("samples", 0), "display": NA}
    return {"accuracy": entry["accuracy"], "count": entry["scored"], "display": entry["accuracy"]}


def _combine(parts: list[dict[str, Any]], weighted: bool, na_if_missing: bool = True) -> dict[str, Any]:
    count = sum(p["count"] for p in parts)
    if weighted:
        accuracy = sum(p["accuracy"] * p["count"] for p in parts) / count if count else 0.0
    else:
        accuracy = sum(p["accuracy"] for p in parts) / len(parts)
    missing = any(p["display"] == NA for p in parts)
    nothing = all(p["display"] == NA for p in parts)
    return {"accuracy": accuracy, "count": count, "display": NA if nothing or (missing and na_if_missing) else accuracy}


def bfcl_layout(categories: dict[str, Any]) -> dict[str, Any]:
    s = {name: _score(categories, name) for name in (
        "simple_python", "simple_java", "simple_javascript", "multiple", "parallel", "parallel_multiple",
        "irrelevance", "live_simple", "live_multiple", "live_parallel", "live_parallel_multiple",
        "live_irrelevance", "live_relevance", "multi_turn_base", "multi_turn_miss_func", "multi_turn_miss_param",
        "multi_turn_long_context")}
    simple = _combine([s["simple_python"], s["simple_java"], s["simple_javascript"]], weighted=False)
    ast_parts = [simple, s["multiple"], s["parallel"], s["parallel_multiple"]]
    live_parts = [s["live_simple"], s["live_multiple"], s["live_parallel"], s["live_parallel_multiple"]]
    multi_parts = [s["multi_turn_base"], s["multi_turn_miss_func"], s["multi_turn_miss_param"], s["multi_turn_long_context"]]
    non_live = _combine(ast_parts, weighted=False, na_if_missing=False)
    live = _combine(live_parts, weighted=True, na_if_missing=False)
    multi_turn = _combine(multi_parts, weighted=False, na_if_missing=False)
    not_run = [name for name, part in s.items() if part["display"] == NA]
    irrelevance = _combine([s["irrelevance"], s["live_irrelevance"]], weighted=False)
    weights = [(non_live, 10), (live, 10), (irrelevance, 10), (multi_turn, 30)]
    overall = sum(part["accuracy"] * w for part, w in weights) / 100  # agentic: weight 40, not scored → 0
    rows = [
        ("Overall Acc (BFCL weights; agentic counted 0)", NA if not_run else overall),
        ("Overall Acc without agentic (re-weighted)", NA if not_run else overall * 100 / 60),
        ("Non-Live AST Acc", _combine(ast_parts, weighted=False)["display"]),
        ("  Simple AST", simple["display"]),
        ("    Python Simple AST", s["simple_python"]["display"]),
        ("    Java Simple AST", s["simple_java"]["display"]),
        ("    JavaScript Simple AST", s["simple_javascript"]["display"]),
        ("  Multiple AST", s["multiple"]["display"]),
        ("  Parallel AST", s["parallel"]["display"]),
        ("  Parallel Multiple AST", s["parallel_multiple"]["display"]),
        ("Live Acc", live["display"]),
        ("  Live Simple AST", s["live_simple"]["display"]),
        ("  Live Multiple AST", s["live_multiple"]["display"]),
        ("  Live Parallel AST", s["live_parallel"]["display"]),
        ("  Live Parallel Multiple AST", s["live_parallel_multiple"]["display"]),
        ("Multi-Turn Acc", _combine(multi_parts, weighted=False)["display"]),
        ("  Multi-Turn Base", s["multi_turn_base"]["display"]),
        ("  Multi-Turn Miss Func", s["multi_turn_miss_func"]["display"]),
        ("  Multi-Turn Miss Param", s["multi_turn_miss_param"]["display"]),
        ("  Multi-Turn Long Context", s["multi_turn_long_context"]["display"]),
        ("Relevance Detection", s["live_relevance"]["display"]),
        ("Irrelevance Detection", irrelevance["display"]),
        ("  Non-Live Irrelevance", s["irrelevance"]["display"]),
        ("  Live Irrelevance", s["live_irrelevance"]["display"]),
    ]
    return {
        "overall": overall, "overall_without_agentic": overall * 100 / 60,
        "non_live": non_live["accuracy"], "live": live["accuracy"], "multi_turn": multi_turn["accuracy"],
        "irrelevance": irrelevance["accuracy"], "relevance": s["live_relevance"]["accuracy"],
        "complete": not not_run, "not_run": not_run,
        "table": [{"metric": name, "accuracy": value} for name, value in rows],
    }


def percent(value: Any) -> str:
    return f"{value * 100:.2f}%" if isinstance(value, (int, float)) else str(value)
