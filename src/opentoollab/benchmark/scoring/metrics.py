"""Generic call metrics for any corpus with ground truth, with optimal matching of parallel calls.

Per item, predicted calls and ground-truth calls are paired by the Hungarian algorithm so that the
pairing maximises (same tool) + (fraction of the pair's parameters that are right); then

* ``exact``: as many calls as expected, and every pair the right tool with every parameter right
  (no missing parameter unless ``""`` allows it, no unexpected one);
* tool precision / recall / F1: pairs with the right tool, over predicted / expected calls;
* parameter accuracy: right parameters over all parameters involved (expected-and-required ∪ given),
  summed over matched pairs with the right tool, plus the parameters of unmatched expected calls.

Values compare with BFCL's leniency: strings standardized (case, spaces, ``,./-_*^``, quote style),
ints equal to floats, recursively inside lists and objects.
"""

from __future__ import annotations

from typing import Any

from .checker import standardize


def hungarian(weights: list[list[float]]) -> list[tuple[int, int]]:
    """Pairs (row, column) maximising the total weight (rectangular matrices allowed)."""
    rows = len(weights)
    cols = len(weights[0]) if rows else 0
    if rows == 0 or cols == 0:
        return []
    transposed = rows > cols
    matrix = [list(r) for r in zip(*weights)] if transposed else [list(r) for r in weights]
    n, m = len(matrix), len(matrix[0])
    top = max(max(r) for r in matrix)
    cost = [[top - w for w in r] for r in matrix]
    inf = float("inf")
    u, v, p, way = [0.0] * (n + 1), [0.0] * (m + 1), [0] * (m + 1), [0] * (m + 1)
    for i in range(1, n + 1):
        p[0], j0 = i, 0
        minv, used = [inf] * (m + 1), [False] * (m + 1)
        while True:
            used[j0] = True
            i0, delta, j1 = p[j0], inf, 0
            for j in range(1, m + 1):
                if not used[j]:
                    cur = cost[i0 - 1][j - 1] - u[i0] - v[j]
                    if cur < minv[j]:
                        minv[j], way[j] = cur, j0
                    if minv[j] < delta:
                        delta, j1 = minv[j], j
            for j in range(m + 1):
                if used[j]:
                    u[p[j]] += delta
                    v[j] -= delta
                else:
                    minv[j] -= delta
            j0 = j1
            if p[j0] == 0:
                break
        while j0:
            j1 = way[j0]
            p[j0] = p[j1]
            j0 = j1
    pairs = [(p[j] - 1, j - 1) for j in range(1, m + 1) if p[j]]
    return sorted((c, r) for r, c in pairs) if transposed else sorted(pairs)


def _normal(value: Any) -> Any:
    if isinstance(value, str):
        return standardize(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        try:
            return float(value)
        except OverflowError:  # an int past float range compares as itself
            return value
    if isinstance(value, (list, tuple)):
        return [_normal(v) for v in value]
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items()}
    return value


def value_ok(value: Any, candidates: list) -> bool:
    return any(candidate != "" and _matches(value, candidate) for candidate in candidates)


def _matches(value: Any, candidate: Any) -> bool:
    # BFCL writes nested objects as {key: [acceptable values]} and lists of them likewise.
    if isinstance(candidate, dict) and isinstance(value, dict) and candidate and \
            all(isinstance(c, list) for c in candidate.values()):
        if set(value) <= set(candidate) and all(value_ok(value[k], candidate[k]) for k in value) and \
                all("" in c for k, c in candidate.items() if k not in value):
            return True
    if isinstance(candidate, list) and isinstance(value, list) and len(candidate) == len(value) and candidate and \
            all(isinstance(c, dict) for c in candidate):
        if all(_matches(v, c) for v, c in zip(value, candidate)):
            return True
    return _normal(candidate) == _normal(value)


def pair_counts(call: dict[str, Any], answer: dict[str, Any]) -> tuple[int, int]:
    """(right parameters, parameters involved) for a predicted call against an expected one."""
    arguments = call.get("arguments") if isinstance(call.get("arguments"), dict) else {}
    expected = answer.get("parameters") or {}
    involved = set(arguments) | {k for k, c in expected.items() if "" not in c}
    right = sum(1 for k in involved if k in arguments and k in expected and value_ok(arguments[k], expected[k]))
    return right, len(involved)


def item_metrics(calls: list[dict[str, Any]], answers: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts for one item (summed over a category by :func:`aggregate`)."""
    weights = []
    for call in calls:
        row = []
        for answer in answers:
            same = call.get("name") == answer.get("name")
            right, involved = pair_counts(call, answer) if same else (0, 1)
            row.append((1.0 + right / max(involved, 1)) if same else 0.0)
        weights.append(row)
    pairs = hungarian(weights)
    tool_hits, param_right, param_total, all_right = 0, 0, 0, True
    matched_answers = set()
    for row, col in pairs:
        call, answer = calls[row], answers[col]
        if call.get("name") != answer.get("name"):
            all_right = False
            continue
        matched_answers.add(col)
        tool_hits += 1
        right, involved = pair_counts(call, answer)
        param_right += right
        param_total += involved
        all_right = all_right and right == involved
    for col, answer in enumerate(answers):
        if col not in matched_answers:
            param_total += sum(1 for c in (answer.get("parameters") or {}).values() if "" not in c)
    exact = all_right and len(calls) == len(answers) and tool_hits == len(answers)
    return {"exact": int(exact), "tool_hits": tool_hits, "predicted": len(calls), "expected": len(answers),
            "param_right": param_right, "param_total": param_total}


def aggregate(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Category figures from per-item counts."""
    total = {k: sum(r[k] for r in rows) for k in ("exact", "tool_hits", "predicted", "expected", "param_right", "param_total")}
    precision = total["tool_hits"] / total["predicted"] if total["predicted"] else 0.0
    recall = total["tool_hits"] / total["expected"] if total["expected"] else 0.0
    return {
        "items": len(rows),
        "exact_match": total["exact"] / len(rows) if rows else 0.0,
        "tool_precision": precision,
        "tool_recall": recall,
        "tool_f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        "param_accuracy": total["param_right"] / total["param_total"] if total["param_total"] else 0.0,
    }
