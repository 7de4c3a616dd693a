"""The BFCL AST checker, rule by rule (bfcl-eval 2026.3.23 ``eval_checker/ast_eval/ast_checker.py``).

Inputs are BFCL-shaped so the rules read like the original: ``functions`` are function docs whose
parameter ``type`` is BFCL's own type name (``float``, ``dict``, ``tuple``, ``any``, Java/JS names);
``calls`` is the model's output as ``[{"name", "arguments"}]``; ``answers`` is the ground truth as
``[{"name", "parameters": {param: [acceptable values]}}]`` (``""`` in a list: may be omitted).

Every verdict is ``{"valid", "error_type", "error"}`` with BFCL's error types. Where BFCL's own
checker would raise (an unsupported Java type, a malformed doc), the verdict is invalid with
``error_type`` ``checker:unsupported`` instead of a crash.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .converters import JAVA_TYPES, JS_TYPES, java_value, js_value

PYTHON_TYPES: dict[str, type] = {
    "string": str, "integer": int, "float": float, "boolean": bool, "array": list, "tuple": list,
    "dict": dict, "any": str,
}
PYTHON_NESTED = ("array", "tuple")
JAVA_JS_NESTED = ("Array", "ArrayList", "array")
LANGUAGES = ("python", "java", "javascript")
_STRIP = re.compile(r"[ \,\.\/\-\_\*\^]")


@dataclass(frozen=True)
class Options:
    language: str = "python"
    # BFCL's ``underscore_to_dot`` model flag: the model saw names with "." replaced by "_".
    underscore_to_dot: bool = False


def verdict(valid: bool, error_type: str = "", error: str = "") -> dict[str, Any]:
    return {"valid": valid, "error_type": error_type, "error": error}


OK = verdict(True)


# ---------------------------------------------------------------------------------- entry points
def check_calls(functions: list[dict], calls: list[dict], answers: list[dict], mode: str,
                options: Options = Options()) -> dict[str, Any]:
    """Check a model's calls for one item; ``mode`` is ``simple``, ``multiple`` or ``parallel``."""
    try:
        if mode == "parallel":
            return _parallel(functions, calls, answers, options)
        if mode == "multiple":
            if len(calls) != len(answers):
                return verdict(False, "multiple_function_checker:wrong_count", "Wrong number of functions.")
            return _simple(_find(functions, answers[0]["name"]), calls[0], answers[0], options)
        if len(calls) != 1:
            return verdict(False, "simple_function_checker:wrong_count", "Wrong number of functions.")
        return _simple(functions[0], calls[0], answers[0], options)
    except (OverflowError, RecursionError, MemoryError) as exc:  # a number or nesting past Python's limits
        return verdict(False, "checker:limit", f"the prediction cannot be checked within limits: {type(exc).__name__}: "
                       f"{str(exc)[:200]}")
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        return verdict(False, "checker:unsupported", f"BFCL's checker cannot check this item: {type(exc).__name__}: "
                       f"{str(exc)[:500]}")


def mode_of(category: str) -> str:
    """BFCL's dispatch on the category name."""
    if "parallel" in category:
        return "parallel"
    if "multiple" in category:
        return "multiple"
    return "simple"


def is_call_list(calls: Any) -> bool:
    """BFCL's is_function_calling_format_output: a list of calls whose arguments are objects."""
    return isinstance(calls, list) and all(
        isinstance(c, dict) and isinstance(c.get("name"), str) and type(c.get("arguments")) is dict for c in calls)


# ---------------------------------------------------------------------------------- helpers
def _find(functions: list[dict], name: str) -> dict:
    for function in functions:
        if function["name"] == name:
            return function
    raise KeyError(f"no function doc named {name!r}")


def expected_name(name: str, options: Options) -> str:
    return name.replace(".", "_") if options.underscore_to_dot and "." in name else name


def standardize(text: str) -> str:
    """BFCL's standardize_string: drop spaces and ``,./-_*^``, lower-case, single → double quotes."""
    return _STRIP.sub("", text).lower().replace("'", '"')


def _answer_type(candidates: list) -> type | None:
    for candidate in candidates:
        if candidate != "":
            return type(candidate)
    return None


def _type_check(param: str, value: Any, candidates: list, description: str, expected: type,
                nested: type | None) -> dict[str, Any]:
    answer_type = _answer_type(candidates)
    is_variable = answer_type is not None and answer_type != expected
    nested_error = ""
    if type(value) == expected:
        if nested is None:
            return {**OK, "is_variable": is_variable}
        for candidate in candidates:
            flag = True
            if type(candidate) == list:
                for item in value:
                    if not _type_check(param, item, candidate, str(nested), nested, None)["valid"]:
                        flag = False
                        break
            if flag:
                return {**OK, "is_variable": is_variable}
        nested_error = (f"Nested type checking failed for parameter {param!r}. Expected outer type {description} "
                        f"with inner type {nested}. Parameter value: {value!r}.")
    if answer_type is not None and type(value) == answer_type:
        # A "variable" (value typed like the possible answers); after a failed nested check BFCL still fails it.
        if nested_error:
            return verdict(False, "type_error:nested", nested_error)
        return {**OK, "is_variable": True}
    message = (f"Incorrect type for parameter {param!r}. Expected type {description}, got {type(value).__name__}. "
               f"Parameter value: {value!r}.")
    return verdict(False, "type_error:simple", " ".join(filter(None, [nested_error, message])))


def _string_check(param: str, value: str, candidates: list) -> dict[str, Any]:
    if standardize(value) not in [standardize(c) for c in candidates if type(c) == str]:
        return verdict(False, "value_error:string",
                       f"Invalid value for parameter {param!r}: {value!r}. Expected one of {candidates}. Case insensitive.")
    return OK


def _standard_list(values: list) -> list:
    return [standardize(v) if type(v) == str else v for v in values]


def _list_check(param: str, value: list, candidates: list) -> dict[str, Any]:
    if _standard_list(list(value)) not in [_standard_list(c) for c in candidates]:
        return verdict(False, "value_error:list/tuple", f"Invalid value for parameter {param!r}: {value!r}. "
                       f"Expected one of {candidates}.")
    return OK


def _dict_check(param: str, value: dict, candidates: list) -> dict[str, Any]:
    result = verdict(False, "dict_checker:unclear")  # BFCL's verdict when every candidate is "" (only omission allowed)
    for answer in candidates:
        if answer == "":
            continue
        # BFCL's (error type, message) list for this candidate: a wrong key or value, then (checked regardless) a
        # missing key; its error type is the last one set
        errors = []
        for key, item in value.items():
            if key not in answer:
                errors = [("value_error:dict_key", f"Unexpected dict key parameter: '{key}'.")]
                break
            standard = standardize(item) if type(item) == str else item
            if standard not in _standard_list(answer[key]):
                errors = [("value_error:dict_value", f"Invalid value for parameter {key!r}: {item!r}. "
                                                     f"Expected one of {_standard_list(answer[key])}.")]
                break
        for key, allowed in answer.items():
            if key not in value and "" not in allowed:
                errors.append(("value_error:dict_key", f"Missing dict key parameter: '{key}'."))
                break
        if not errors:
            return OK
        result = verdict(False, errors[-1][0], " ".join(message for _, message in errors))
    return result


def _list_dict_check(param: str, value: list, candidates: list) -> dict[str, Any]:
    result = verdict(False, "list_dict_checker:unclear")
    for answer in candidates:
        if len(value) != len(answer):
            result = verdict(False, "value_error:list_dict_count", "Wrong number of dictionaries in the list.")
            continue
        flag = True
        for index in range(len(value)):
            result = _dict_check(param, value[index], [answer[index]])
            if not result["valid"]:
                flag = False
                break
        if flag:
            return OK
    return result


def _convert(language: str, param: str, value: Any, details: dict) -> tuple[Any, type, type | None] | dict:
    """Java/JavaScript: the string value → a Python value (BFCL's converters); Python: expected types."""
    description = details["type"]
    if language == "python":
        expected = PYTHON_TYPES.get(description)
        if expected is None:  # no or unknown type (corpora other than BFCL): no type constraint
            return value, type(value), None
        nested_name = (details.get("items") or {}).get("type") if description in PYTHON_NESTED else None
        return value, expected, PYTHON_TYPES.get(nested_name) if nested_name else None
    table, convert = (JAVA_TYPES, java_value) if language == "java" else (JS_TYPES, js_value)
    expected = table[description]
    if type(value) != str:
        return verdict(False, f"type_error:{'java' if language == 'java' else 'js'}",
                       f"Incorrect type for parameter {param!r}. Expected type String, got {type(value).__name__}. "
                       f"Parameter value: {value!r}.")
    if description in JAVA_JS_NESTED:
        nested_name = details["items"]["type"]
        return convert(value, description, nested_name), expected, table[nested_name]
    return convert(value, description), expected, None


def _simple(function: dict, call: dict, answer: dict, options: Options) -> dict[str, Any]:
    possible = answer["parameters"]
    properties = function["parameters"]["properties"]
    required = function["parameters"].get("required", [])
    name = expected_name(function["name"], options)
    if call.get("name") != name:
        return verdict(False, "simple_function_checker:wrong_func_name", f"Function name {name!r} not found in model output.")
    arguments = call["arguments"]
    for param in required:
        if param not in arguments:
            return verdict(False, "simple_function_checker:missing_required", f"Missing required parameter: {param!r}.")
    for param, value in arguments.items():
        if param not in properties or param not in possible:
            return verdict(False, "simple_function_checker:unexpected_param", f"Unexpected parameter: {param!r}.")
        details = properties[param]
        converted = _convert(options.language, param, value, details)
        if isinstance(converted, dict):
            return converted
        value, expected, nested = converted
        description = details["type"]
        if description == "tuple" and type(value) == tuple:
            value = list(value)
        if options.language == "python" and description == "float" and type(value) == int:
            value = float(value)  # Python's int → float promotion; never the other way round
        typed = _type_check(param, value, possible[param], description, expected, nested)
        if not typed["valid"]:
            return typed
        if not typed["is_variable"]:
            if expected == dict:
                checker = _dict_check
            elif expected == list and nested == dict:
                checker = _list_dict_check
            elif expected == str:
                checker = _string_check
            elif expected == list:
                checker = _list_check
            else:
                checker = None
            if checker is not None:
                result = checker(param, value, possible[param])
                if not result["valid"]:
                    return result
                continue
        if value not in possible[param]:
            return verdict(False, "value_error:others", f"Invalid value for parameter {param!r}: {value!r}. "
                           f"Expected one of {possible[param]}.")
    for param, allowed in possible.items():
        if param not in arguments and "" not in allowed:
            return verdict(False, "simple_function_checker:missing_optional",
                           f"Optional parameter {param!r} not provided and not marked as optional.")
    return OK


def _parallel(functions: list[dict], calls: list[dict], answers: list[dict], options: Options) -> dict[str, Any]:
    if len(calls) != len(answers):
        return verdict(False, "parallel_function_checker_no_order:wrong_count", "Wrong number of functions.")
    matched: set[int] = set()
    # Greedy, in ground-truth order, first fitting call wins: BFCL's exact procedure (not an optimal matching).
    for index, answer in enumerate(answers):
        function = _find(functions, answer["name"])
        found = False
        for position, call in enumerate(calls):
            if position in matched:
                continue
            if _simple(function, call, answer, options)["valid"]:
                matched.add(position)
                found = True
                break
        if not found:
            return verdict(False, "parallel_function_checker_no_order:cannot_find_match",
                           f"Could not find a matching function among index "
                           f"{[i for i in range(len(calls)) if i not in matched]} of model output for index {index} "
                           f"of possible answers.")
    return OK
