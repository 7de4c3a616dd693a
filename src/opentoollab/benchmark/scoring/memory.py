"""BFCL's memory category (corpus ``BFCL-memory``): BFCL's agentic check on the model's final answer.

BFCL's ``agentic_checker`` rule for rule: the answer and each possible answer lose ``,./-_*^()``, are
lower-cased (``'`` read as ``"``), and the answer is right when one possible answer occurs in it as a whole
word sequence (``\\b…\\b``). Whitespace is kept (BFCL's docstring says otherwise; its regex keeps it).

The final answer: ``result`` text, or — for BFCL's result records, a list of step outputs — the last
step that is not a call (BFCL takes the last message that does not decode to function calls).
"""

from __future__ import annotations

import re
from typing import Any

from ...format.sample import meta
from .parse import DecodeError, parse_text

STANDARDIZE_RE = re.compile(r"[\,\.\/\-\_\*\^\(\)]")


def standardize(text: str) -> str:
    return STANDARDIZE_RE.sub("", text).lower().replace("'", '"')


def agentic_check(response: Any, answers: list[str]) -> dict[str, Any]:
    """BFCL's verdict on one final answer."""
    if isinstance(response, list):
        response = response[0]
    if not isinstance(response, str):
        response = str(response)
    text = standardize(response)
    for answer in answers:
        if re.search(rf"\b{re.escape(standardize(answer))}\b", text):
            return {"valid": True, "error_type": None, "error": None}
    return {"valid": False, "error_type": "agentic:answer_not_found",
            "error": "None of the expected answers were found in the model response."}


def final_answer(value: dict[str, Any]) -> Any:
    """The final text answer of a prediction (None when there is none)."""
    result = value.get("result", value.get("turns"))
    if not isinstance(result, list):
        return result
    steps, stack = [], [result]
    while stack:  # flatten turns of steps, keeping order
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
        else:
            steps.append(item)
    last = None
    for step in steps:
        if isinstance(step, str):
            try:
                calls = parse_text(step)
            except DecodeError:
                calls = None
            if not calls:
                last = step
    return last


def score_sample(sample: list[dict[str, Any]], value: dict[str, Any], runtimes: dict[str, Any] | None = None) -> dict[str, Any]:
    """BFCL's agentic verdict on one prediction of a memory question."""
    answers = (meta(sample).get("bfcl_memory") or {}).get("answers") or []
    response = final_answer(value)
    if response is None:
        return {"valid": False, "error_type": "agentic:no_last_message",
                "error": "Cannot find the last chat message that is not a function call."}
    return agentic_check(response, answers)
