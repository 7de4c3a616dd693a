"""ACEBench's official checker (``model_eval/checker.py`` at commit e6db74b) rule for rule, and its decoder.

Reimplemented, not copied; the parity test (``tests/test_acebench_scoring.py``) runs the official code from
``../shared/benchmarks/ACEBench`` beside it. The official behaviour is kept where it surprises, because the
verdicts must be ACEBench's (see PROVENANCE.md of the reference copy):

* the model text loses all whitespace before it is parsed (``"".join(text.split())``);
* a parameter is type-checked against the function doc (ACEBench's type names; ``"true"``/``"false"``
  count as booleans, an int passes for ``float``); a gold value whose type differs from the declared one
  (a "variable") is not compared; strings are compared lower-cased without `` ,./-_*^`` and the gold only
  has to occur inside the output; dict values through ``str()``; lists element by element;
* an empty ``[]``/``{}`` gold can never be matched; a parameter the gold does not name fails;
* the function doc is the first one whose name occurs inside the gold name; gold keys lose a ``_<n>``
  suffix; call counts per name must match, order does not.

Where the official code raises (a doc without ``required``, an unknown type name), ``CheckerCrash`` is
raised here too: the item is scored wrong as ``checker_error`` (the official run stops there).

The official decoder ``eval``s arithmetic (``BinOp``) in answers; here only arithmetic on literals is
computed, with size limits, never ``eval`` (an expression with names or calls fails to decode).
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections import Counter
from typing import Any

TYPES: dict[str, type] = {
    "string": str, "integer": int, "float": float, "boolean": bool, "array": list, "tuple": list, "dict": dict,
    "any": str, "list": list, "object": dict, "objectArray": list, "list(string)": list, "list(enum)": list,
    "int": int, "enum": enumerate, "number": int,
}
NESTED = ("array", "tuple", "list(string)", "list(enum)", "object", "objectArray")
STANDARDIZE_RE = re.compile(r"[ \,\.\/\-\_\*\^]")
SUFFIX_RE = re.compile(r"_\d+$")
MAX_POWER_DIGITS = 10_000
MAX_SEQUENCE = 1_000_000


class CheckerCrash(Exception):
    """The official checker raises an exception on this input (its evaluation run would stop)."""


class DecodeFailure(ValueError):
    """The text is not ACEBench's call list syntax."""


# ---------------------------------------------------------------------------------- decoding
def decode(text: str) -> list[dict[str, Any]]:
    """Model text → ``[{name: {param: value}}]`` as ACEBench's ``decode_ast`` reads it (whitespace removed first)."""
    compact = "".join(text.split())
    try:
        body = ast.parse(compact, mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise DecodeFailure(f"Invalid syntax. Failed to decode AST. {exc}") from None
    if not isinstance(body, (ast.List, ast.Tuple, ast.Set)):
        raise DecodeFailure(f"Invalid syntax. Failed to decode AST. '{type(body).__name__}' object has no attribute 'elts'")
    out = []
    for element in body.elts:
        if not isinstance(element, ast.Call):
            raise DecodeFailure("Invalid syntax. Failed to decode AST. not a call")
        out.append(_value(element))
    return out


def _dotted(node: ast.AST) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def _value(node: ast.AST) -> Any:
    if isinstance(node, ast.Constant):
        return "..." if node.value is Ellipsis else node.value
    if isinstance(node, ast.UnaryOp):  # the official code negates the operand's literal whatever the operator
        operand = node.operand
        if not isinstance(operand, ast.Constant):
            raise DecodeFailure("Invalid syntax. Failed to decode AST. unary operator on a non-literal")
        try:
            return -operand.value
        except TypeError as exc:
            raise DecodeFailure(f"Invalid syntax. Failed to decode AST. {exc}") from None
    if isinstance(node, ast.List):
        return [_value(v) for v in node.elts]
    if isinstance(node, ast.Dict):
        try:
            return {_value(k) if k is not None else _unsupported(k): _value(v) for k, v in zip(node.keys, node.values)}
        except TypeError as exc:  # an unhashable key
            raise DecodeFailure(f"Invalid syntax. Failed to decode AST. {exc}") from None
    if isinstance(node, ast.BinOp):
        return _arithmetic(node)
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Call):
        arguments = {kw.arg: _value(kw.value) for kw in node.keywords}
        return {_dotted(node.func): arguments}
    if isinstance(node, ast.Tuple):
        return tuple(_value(v) for v in node.elts)
    if isinstance(node, ast.Subscript):
        return ast.unparse(node.value) + "[" + ast.unparse(node.slice) + "]"
    return _unsupported(node)


def _unsupported(node: Any) -> Any:
    raise DecodeFailure(f"Invalid syntax. Failed to decode AST. Unsupported AST type: {type(node)}")


OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
             ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow, ast.BitOr: operator.or_,
             ast.BitAnd: operator.and_, ast.BitXor: operator.xor, ast.RShift: operator.rshift}
UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Not: operator.not_, ast.Invert: operator.invert}


def _arithmetic(node: ast.AST) -> Any:
    """What ``eval`` gives for an expression of literals and arithmetic (bounded); DecodeFailure otherwise."""
    if isinstance(node, ast.Constant) and not isinstance(node.value, type(Ellipsis)):
        return node.value
    if isinstance(node, (ast.List, ast.Tuple)):
        items = [_arithmetic(e) for e in node.elts]
        return items if isinstance(node, ast.List) else tuple(items)
    if isinstance(node, ast.Dict) and None not in node.keys:
        return _apply(dict, zip([_arithmetic(k) for k in node.keys], [_arithmetic(v) for v in node.values]))
    if isinstance(node, ast.UnaryOp) and type(node.op) in UNARY:
        return _apply(UNARY[type(node.op)], _arithmetic(node.operand))
    if isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
        left, right = _arithmetic(node.left), _arithmetic(node.right)
        if isinstance(node.op, ast.Pow) and type(left) is int and type(right) is int and right > 0 and abs(left) > 1 \
                and right * math.log10(abs(left)) > MAX_POWER_DIGITS:  # float powers overflow cheaply instead
            raise DecodeFailure("Invalid syntax. Failed to decode AST. power too large to compute")
        if isinstance(node.op, ast.Mult) and any(isinstance(v, (str, bytes, list, tuple)) for v in (left, right)):
            count = right if isinstance(left, (str, bytes, list, tuple)) else left
            size = len(left) if isinstance(left, (str, bytes, list, tuple)) else len(right)
            if isinstance(count, int) and count * size > MAX_SEQUENCE:
                raise DecodeFailure("Invalid syntax. Failed to decode AST. sequence too large")
        return _apply(OPERATORS[type(node.op)], left, right)
    raise DecodeFailure("Invalid syntax. Failed to decode AST. expression that is not arithmetic on literals "
                        "(the official decoder would eval it; never done here)")


def _apply(function: Any, *args: Any) -> Any:
    try:
        return function(*args)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError) as exc:
        raise DecodeFailure(f"Invalid syntax. Failed to decode AST. {exc}") from None


# ---------------------------------------------------------------------------------- helpers
def standardize(text: Any) -> str:
    return STANDARDIZE_RE.sub("", text).lower().replace("'", '"')


def _invalid(error: Any, error_type: str) -> dict[str, Any]:
    return {"valid": False, "error": error if isinstance(error, list) else [error], "error_type": error_type}


def _find_description(functions: Any, name: str) -> Any:
    if isinstance(functions, list):
        return next((doc for doc in functions if doc["name"] in name), None)
    return functions


def _type_of(mapping_key: Any) -> type:
    try:
        return TYPES[mapping_key]
    except (KeyError, TypeError) as exc:
        raise CheckerCrash(f"official checker raises {type(exc).__name__} on type {mapping_key!r}") from None


def _gold_type(gold: Any) -> type | None:
    return type(gold) if gold != "" else None


# ---------------------------------------------------------------------------------- value checks
def check_type(param: str, value: Any, gold: Any, expected: type, nested: type | None, func: str) -> dict[str, Any]:
    """ACEBench's ``type_checker``: {valid, is_variable, error…}."""
    result = {"valid": True, "error": [], "is_variable": False, "error_type": "type_error"}
    gold_type = _gold_type(gold)
    is_variable = gold_type is not None and gold_type != expected
    if value == "true":
        value = True
    if value == "false":
        value = False
    if type(value) == expected:
        if nested is None:
            result["is_variable"] = is_variable
            return result
        for gold_item in _iterate(gold):
            flag = True
            if type(gold_item) == list:
                for value_item in _iterate(value):
                    if not check_type(param, value_item, gold_item, nested, None, func)["valid"]:
                        flag = False
                        break
            if flag:
                return {"valid": True, "error": [], "is_variable": is_variable}
        result["valid"] = False
        result["error"] = [f"Nested type checking failed for parameter {param!r}."]
    if gold_type is not None and (type(value) == gold_type or gold == value):
        result["is_variable"] = True
        return result
    result["valid"] = False
    result["error"] = [f"wrong type for parameter ({param}) of api ({func}):[excepted: {expected}, real: {type(value)}]"]
    return result


def _iterate(value: Any) -> Any:
    try:
        return iter(value)
    except TypeError as exc:
        raise CheckerCrash(f"official checker raises TypeError: {exc}") from None


def _standardize_checked(value: Any) -> str:
    if not isinstance(value, str):
        raise CheckerCrash(f"official checker raises TypeError: cannot standardize {type(value).__name__}")
    return standardize(value)


def check_string(param: str, value: str, gold: Any, func: str, category: str) -> dict[str, Any]:
    model, expected = _standardize_checked(value), _standardize_checked(gold)
    wrong = model != expected if "agent" in category else expected not in model
    if wrong:
        return _invalid(f"wrong value for parameter ({param}) of api ({func}): [excepted: {gold}, real: [{value}]]",
                        "value_error:string")
    return {"valid": True, "error": []}


def check_list(param: str, value: list, gold: Any, func: str) -> dict[str, Any]:
    model = [standardize(v) if type(v) == str else v for v in value]
    expected = [standardize(g) if type(g) == str else g for g in _iterate(gold)]
    if model != expected:
        return _invalid(f"wrong value for parameter ({param!r}) of api ({func}): [expected {gold}, real: [{value!r}]]",
                        "value_error:list/tuple")
    return {"valid": True, "error": []}


def check_dict(param: str, value: Any, gold: Any, func: str) -> dict[str, Any]:
    result = {"valid": True, "error": [], "error_type": "dict_checker:unclear"}
    wrong = _invalid(f"wrong value for parameter ({param}) of api ({func}): [excepted: {gold}, real: [{value}]]",
                     "value_error")
    if not isinstance(value, dict):
        return wrong
    if not hasattr(gold, "keys"):
        raise CheckerCrash(f"official checker raises AttributeError: gold {type(gold).__name__} has no keys")
    if len(value) != len(gold):
        return wrong
    for key, item in value.items():
        if item == "true":
            item = True
        if item == "false":
            item = False
        if key not in gold:
            return wrong
        expected = gold[key]
        if isinstance(expected, dict):
            result = check_dict(param, item, expected, func)
            if not result["valid"]:
                return result
            continue
        model = standardize(item) if type(item) == str else item
        if type(expected) == str:
            expected_std: Any = standardize(expected)
        elif type(expected) == dict:  # unreachable (dicts recurse above); kept as the official flatten_dates
            expected_std = expected
        else:
            expected_std = expected
        if str(expected_std) not in str(model):
            return wrong
    return result


def check_list_of_dicts(param: str, value: list, gold: Any, func: str) -> dict[str, Any]:
    result = {"valid": True, "error": [], "error_type": "list_dict_checker:unclear"}
    if len(value) != len(gold):
        return _invalid(f"wrong value for parameter ({param}) of api ({func}): [excepted: {gold}, real: [{value}]]",
                        "value_error:list_dict_count")
    for index in range(len(value)):
        result = check_dict(param, value[index], gold[index], func)
        if not result["valid"]:
            return result
    return result


# ---------------------------------------------------------------------------------- one call
def check_function(doc: Any, model: dict[str, Any], gold_call: dict[str, Any], category: str) -> dict[str, Any]:
    """ACEBench's ``simple_function_checker``: one decoded call against one gold call."""
    if not isinstance(doc, dict) or "parameters" not in doc:
        raise CheckerCrash("official checker raises on a function doc without 'parameters'")
    result = {"valid": True, "error": [], "error_type": ""}
    gold = list(gold_call.values())[0]
    parameters = doc["parameters"]
    model_arguments = list(model.values())[0]
    if model_arguments == {} and parameters == {}:
        return result
    if model_arguments == {} or parameters == {}:
        return {"valid": False, "error": [], "error_type": "wrong_param"}
    try:
        properties = parameters["properties"]
    except (KeyError, TypeError) as exc:
        raise CheckerCrash(f"official checker raises {type(exc).__name__}: no properties") from None
    if gold == properties:
        return result
    if gold == {}:
        return {"valid": False, "error": [], "error_type": "wrong_param"}
    name = doc["name"]
    if name not in model:
        return {"valid": False, "error": [{"wrong_function": {"expected": name, "real": list(model.keys())[0]}}],
                "error_type": "wrong_function_name"}
    arguments = model[name]
    if "required" not in parameters:
        raise CheckerCrash("official checker raises KeyError: 'required'")
    for param in parameters["required"]:
        if param not in arguments:
            return {"valid": False, "error": f"lack required_params: {param}", "error_type": "lack_args"}
    for param, value in arguments.items():
        if param not in properties or param not in gold:
            return {"valid": False, "error": f"addition params: {param}", "error_type": "addition_args"}
        details = properties[param]
        if not isinstance(details, dict) or "type" not in details:
            raise CheckerCrash(f"official checker raises KeyError: 'type' of {param!r}")
        description = details["type"]
        expected = _type_of(description)
        nested = None
        if isinstance(description, str) and description in NESTED:
            items = details.get("items")
            if isinstance(items, dict) and "type" in items:
                nested_name = items["type"]
            else:
                nested_name = "string" if "string" in description else "enum" if "enum" in description else "dict"
            nested = _type_of(nested_name)
        if description == "tuple" and type(value) == tuple:
            value = list(value)
        if description == "float" and type(value) == int:
            value = float(value)
        typed = check_type(param, value, gold[param], expected, nested, name)
        if not typed["valid"]:
            return {"valid": False, "error": typed["error"], "error_type": typed["error_type"]}
        if typed["is_variable"]:
            continue
        if expected == dict:
            checked = check_dict(param, value, gold[param], name)
        elif expected == list and nested == dict:
            if description == "objectArray":  # the official branch calls dict_checker with a missing argument
                if len(value) != len(gold[param]):
                    return _invalid("Wrong number of parameters for dictionary.", "value_error:dict_items")
                if value:
                    raise CheckerCrash("official checker raises TypeError in its objectArray branch")
            checked = check_list_of_dicts(param, value, gold[param], name)
        elif expected == str:
            checked = check_string(param, value, gold[param], name, category)
        elif expected == list:
            checked = check_list(param, value, gold[param], name)
        else:
            continue
        if not checked["valid"]:
            return {"valid": False, "error": checked["error"], "error_type": checked["error_type"]}
    return result


def check_calls(functions: list[dict[str, Any]], model: list[dict[str, Any]], gold: dict[str, Any],
                category: str) -> dict[str, Any]:
    """ACEBench's ``normal_checker``: decoded calls against one acceptable answer ``{name(_n): params}``."""
    result: dict[str, Any] = {"valid": True}
    if not isinstance(gold, dict):
        raise CheckerCrash("official checker raises on a possible answer that is not an object")
    if len(model) != len(gold):
        return _invalid("The number of functions does not match the answer.", "wrong functions number")
    names = list(gold.keys())
    gold_calls = [{SUFFIX_RE.sub("", key): value} for key, value in gold.items()]
    produced = Counter(key for call in model for key in call)
    expected = Counter(key for call in gold_calls for key in call)
    for name in produced:
        if name not in expected:
            return _invalid(f"extra function detected: {name} is not in the ground truth", "function_mismatch")
    for name in expected:
        if name not in produced:
            return _invalid(f"extra function detected: {name} is not in the ground truth", "function_mismatch")
    for name, count in produced.items():
        if count != expected[name]:
            return _invalid(f"incorrect count for function {name}: [expected: {expected[name]}, actual: {count}]",
                            "function_mismatch")
    for index, gold_call in enumerate(gold_calls):
        doc = _find_description(functions, names[index])
        for call in model:
            if list(call.keys())[0] == list(gold_call.keys())[0]:
                result = check_function(doc, call, gold_call, category)
                if result["valid"]:
                    break
            else:
                result = _invalid("wrong_function", "simple_function_checker:unclear")
        if not result["valid"]:
            return result
    return result


# ---------------------------------------------------------------------------------- special and agent
SPECIAL_PHRASES = {"incomplete": "Missing necessary parameters", "error": "There is incorrect value",
                   "irrelevant": "the limitations of the function"}


def check_special(text: Any, gold: Any, category: str) -> dict[str, Any]:
    """ACEBench's special categories: case-sensitive substring checks on the raw answer."""
    result: dict[str, Any] = {"valid": True, "error": [], "error_type": ""}
    if "incomplete" in category:
        for name, values in gold.items():
            if SPECIAL_PHRASES["incomplete"] not in text:
                result = _invalid(f"missing parameters {values} of {name} not pointed out", "error_detection")
            elif name not in text:
                result = _invalid(f"missing parameters {values} of {name} not pointed out", "error_correction")
            else:
                for value in values:
                    if value not in text:
                        result = _invalid(f"missing parameter {value} of {name} not pointed out", "error_correction")
    elif "error" in category:
        for name, values in gold.items():
            if SPECIAL_PHRASES["error"] not in text:
                result = _invalid(f"incorrect values {values} of {name} not pointed out", "error_detection")
            else:
                for value in values:
                    if value not in text:
                        result = _invalid(f"incorrect values {values} of {name} not pointed out", "error_correction")
    elif "irrelevant" in category and SPECIAL_PHRASES["irrelevant"] not in text:
        result = _invalid("The model cannot solve this problem, due to the limitations of the function", "error_detection")
    return result


def check_state(model: dict[str, Any], gold: dict[str, Any]) -> dict[str, Any]:
    """ACEBench's ``agent_checker``: one class's attributes against the expected end state."""
    result: dict[str, Any] = {"valid": True, "error": [], "error_type": "class attributes wrong"}
    scenario, expected = list(gold.keys())[0], list(gold.values())[0]
    for attribute, value in list(model.values())[0].items():
        if attribute not in expected:
            result["valid"] = False
            result["error"].append(f"class({scenario}) attributes({attribute}) missing in possible_answer.")
            continue
        wanted = expected[attribute]
        if isinstance(wanted, dict):
            for key, item in wanted.items():
                if key not in value or item != value[key]:
                    result["valid"] = False
                    result["error"].append(f"class({scenario}) attributes({attribute}.{key}) wrong")
        elif wanted != value:
            result["valid"] = False
            result["error"].append(f"class({scenario}) attributes({attribute}) wrong")
    return result


def check_end_state(model: Any, gold: list[dict[str, Any]]) -> dict[str, Any]:
    """ACEBench's ``agent_eval`` per item: the model's end states (one dict per class) against the expected ones."""
    if not isinstance(model, list) or len(model) != len(gold):
        return {"valid": False, "error": [], "error_type": "wrong number of class"}
    out: dict[str, Any] = {"valid": True, "error": [], "error_type": ""}
    checked: dict[str, Any] = {"valid": True}
    for expected in gold:
        keys = set(expected.keys())
        match = next((state for state in model if isinstance(state, dict) and set(state.keys()) == keys), None)
        if match:
            checked = check_state(match, expected)
        # no class of that name: the official loop keeps the previous class's verdict
        if not checked["valid"]:
            out["valid"] = False
            out["error"].append(checked["error"])
            out["error_type"] = checked["error_type"]
    return out


def process_accuracy(process: list[str], milestones: Any) -> float:
    """ACEBench's ``agent_eval_process`` for one wrong item: share of milestone calls found in order
    (the best alternative, rounded to 3 places, when there are several)."""
    def share(stones: list[str]) -> float:
        found, position = 0, 0
        for stone in stones:
            while position < len(process):
                position += 1
                if process[position - 1].strip() == stone.strip():
                    found += 1
                    break
        return 1.0 if not stones else found / len(stones)

    if milestones and isinstance(milestones[0], list):
        return max(round(share(stones), 3) for stones in milestones)
    return share(milestones)
