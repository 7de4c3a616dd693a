"""Checking our scorer against BFCL's own: gold and deliberately wrong predictions, and the official checker.

* :func:`gold_calls` — BFCL's possible answers as a model would give them (first candidate of every
  parameter, nested candidate dicts resolved; Java/JavaScript values written as source text);
* :func:`mutations` — wrong (and some still-right) variants of a gold answer: wrong name, dropped or
  extra parameter, wrong type, near-miss strings and numbers, swapped parallel order, missing or
  duplicated calls;
* :func:`load_official` — BFCL's ``ast_checker`` imported from the pinned wheel. Its module imports
  ``bfcl_eval.constants.model_config`` only for ``MODEL_CONFIG_MAPPING[...].underscore_to_dot``, and
  that module pulls every model SDK (openai, anthropic, …); a one-entry mapping is provided in its place.
"""

from __future__ import annotations

import copy
import json
import sys
import types
from pathlib import Path
from typing import Any, Iterator

PARITY_MODEL = "opentoollab-parity"


def _gold_value(candidates: list) -> tuple[bool, Any]:
    for candidate in candidates:
        if candidate == "":
            continue
        if isinstance(candidate, dict):
            return True, _gold_dict(candidate)
        if isinstance(candidate, list) and candidate and all(isinstance(c, dict) for c in candidate):
            return True, [_gold_dict(c) for c in candidate]
        return True, candidate
    return False, None


def _gold_dict(answer: dict) -> dict:
    out = {}
    for key, candidates in answer.items():
        present, value = _gold_value(candidates if isinstance(candidates, list) else [candidates])
        if present:
            out[key] = value
    return out


def gold_arguments(parameters: dict[str, list]) -> dict[str, Any]:
    return _gold_dict(parameters)


def java_source(value: Any, kind: str, nested: str | None) -> str:
    if isinstance(value, str):  # a variable name or a String: written as is
        return value
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "long":
        return f"{value}L"
    if kind == "float":
        return f"{value}f"
    if kind in ("Array", "ArrayList"):
        items = [f'"{v}"' if nested == "String" else java_source(v, nested or "any", None) for v in value]
        if kind == "Array":
            return f"new {nested or 'Object'}[]{{{', '.join(items)}}}"
        return f"new ArrayList<>(Arrays.asList({', '.join(items)}))"
    if kind == "HashMap":
        puts = " ".join(f'put("{k}", {json.dumps(v) if isinstance(v, str) else java_source(v, "any", None)});'
                        for k, v in value.items())
        return f"new HashMap<String, Object>() {{{{ {puts} }}}}"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def js_source(value: Any, kind: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if kind == "array":
        return "[" + ", ".join(json.dumps(v) if isinstance(v, str) else js_source(v, "any") for v in value) + "]"
    if kind == "dict":
        return "{" + ", ".join(f"'{k}': " + (f"'{v}'" if isinstance(v, str) else js_source(v, "any"))
                               for k, v in value.items()) + "}"
    return str(value)


def gold_calls(functions: list[dict], answers: list[dict], language: str = "python") -> list[dict[str, Any]]:
    """BFCL ground truth (``[{"name", "parameters"}]``) → a right answer as calls."""
    docs = {f["name"]: f for f in functions}
    calls = []
    for answer in answers:
        arguments = gold_arguments(answer["parameters"])
        if language != "python":
            properties = docs[answer["name"]]["parameters"]["properties"]
            for key, value in arguments.items():
                spec = properties.get(key, {})
                kind, nested = spec.get("type"), (spec.get("items") or {}).get("type")
                arguments[key] = java_source(value, kind, nested) if language == "java" else js_source(value, kind)
        calls.append({"name": answer["name"], "arguments": arguments})
    return calls


def _near_miss(value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, bool):
        yield "wrong_value", not value
        yield "wrong_type", str(value).lower()
    elif isinstance(value, int):
        yield "wrong_value", value + 1
        yield "float_for_int", float(value)
        yield "wrong_type", str(value)
    elif isinstance(value, float):
        yield "int_for_float", int(value)
        yield "wrong_value", value + 0.5
    elif isinstance(value, str):
        yield "case_and_punctuation", value.upper() + " ."
        yield "wrong_value", value + "x"
        yield "wrong_type", 7
    elif isinstance(value, list):
        yield "wrong_value", value[:-1] if value else ["x"]
        yield "reversed_list", list(reversed(value))
    elif isinstance(value, dict):
        yield "dict_extra_key", {**value, "zz_extra": 1}
        if value:
            yield "dict_missing_key", dict(list(value.items())[1:])


def mutations(calls: list[dict[str, Any]]) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """(kind, variant) pairs derived from a right answer; some variants are still right by BFCL's rules."""
    for index, call in enumerate(calls):
        def replace(new_call: dict) -> list[dict]:
            return calls[:index] + [new_call] + calls[index + 1:]

        yield "wrong_name", replace({**call, "name": call["name"] + "_x"})
        yield "extra_param", replace({**call, "arguments": {**call["arguments"], "unexpected_param": 1}})
        for key, value in call["arguments"].items():
            rest = {k: v for k, v in call["arguments"].items() if k != key}
            yield "dropped_param", replace({**call, "arguments": rest})
            for kind, new_value in _near_miss(value):
                yield kind, replace({**call, "arguments": {**call["arguments"], key: copy.deepcopy(new_value)}})
    if len(calls) > 1:
        yield "swapped_order", list(reversed(calls))
        yield "missing_call", calls[:-1]
    yield "duplicated_call", calls + calls[:1]
    yield "no_call", []


def load_official(wheel: str | Path) -> types.SimpleNamespace:
    """BFCL's ast_checker, Language enum and multi_turn_checker from the wheel (see module docstring)."""
    from ...tools.bfcl_runtime import verify_wheel

    verify_wheel(wheel)  # BFCL's own checker runs unsandboxed: the pinned release only
    path = str(Path(wheel).resolve())
    if path not in sys.path:
        sys.path.insert(0, path)
    name = "bfcl_eval.constants.model_config"
    if name not in sys.modules:
        stub = types.ModuleType(name)
        stub.MODEL_CONFIG_MAPPING = {
            PARITY_MODEL.replace("_", "/"): types.SimpleNamespace(underscore_to_dot=False),
            PARITY_MODEL + "-fc": types.SimpleNamespace(underscore_to_dot=True),
        }
        sys.modules[name] = stub
    from bfcl_eval.constants.enums import Language
    from bfcl_eval.eval_checker.ast_eval.ast_checker import ast_checker
    from bfcl_eval.eval_checker.multi_turn_eval.multi_turn_checker import multi_turn_checker

    return types.SimpleNamespace(ast_checker=ast_checker, Language=Language, multi_turn_checker=multi_turn_checker)


def official_output(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Our calls → BFCL's decoded model output ``[{name: {params}}]``."""
    return [{c["name"]: c["arguments"]} for c in calls]


def bfcl_entries(raw_dir: str | Path) -> tuple[dict[str, dict], dict[str, Any]]:
    """BFCL's own entries and possible answers by id, read from the raw download (what the official checker takes)."""
    from ...datasets.sources.bfcl import MULTI_TURN, SINGLE_TURN, RawFiles, _json_lines

    files = RawFiles(Path(raw_dir))
    entries: dict[str, dict] = {}
    answers: dict[str, Any] = {}
    for category in SINGLE_TURN + MULTI_TURN:
        for _n, value, _error in _json_lines(files.read(files.find(category)), category):
            entries[value["id"]] = value
        rel = files.find(category, answers=True)
        if rel:
            for _n, value, _error in _json_lines(files.read(rel), rel):
                answers[value["id"]] = value["ground_truth"]
    return entries, answers
