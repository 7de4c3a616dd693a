"""Rule verification of one sample: tool schemas, calls against their tools, links, turns.

``verify(sample, state)`` adds problems (rule code, JSON path, message) to ``state``; the rule codes
are listed in ``RULES`` and described in ``opentoollab.tag.tagging``'s docstring. Pure functions.
May import: ``opentoollab.format``.
"""


from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Iterable, Iterator

from ..format.sample import CALL_ROLES, LinkError, Sample, assign_call_ids, canonical_json, iter_links, resolve_links


RULES = (
    "schema", "tool_schema_invalid", "unknown_tool", "missing_required", "type_mismatch", "enum_mismatch",
    "value_invalid", "undeclared_param", "link_unresolved", "call_unanswered", "empty_turn",
    "duplicate_turn", "tool_enum_conflict",
    "judge_hallucinated_value", "judge_inconsistent_response",  # only with the optional LLM judge
)
# Validator rules that one of RULES above already reports (so they are not listed twice).
COVERED = {"unknown_tool": "unknown_tool", "response_missing": "call_unanswered"}


# ----------------------------------------------------------------------------- schemas
@lru_cache(maxsize=65536)
def _schema_error(schema_text: str) -> tuple[str, str] | None:
    """(path, message) of the first meta-schema error of a tool's parameter schema, or None."""
    from jsonschema import Draft202012Validator, exceptions, validators

    import jsonschema_rs

    schema = json.loads(schema_text)
    try:  # fast path: jsonschema-rs checks against the declared draft's meta-schema and compiles patterns
        fast_ok = jsonschema_rs.meta.is_valid(schema) and bool(jsonschema_rs.validator_for(schema))
    except Exception:
        fast_ok = False
    if fast_ok and schema.get("type", "object") == "object":
        return None
    cls = validators.validator_for(schema, default=Draft202012Validator)
    try:
        cls.check_schema(schema)
    except exceptions.SchemaError as exc:
        return _path(exc.absolute_path), exc.message
    if schema.get("type", "object") != "object":
        return ".type", f"a tool's parameters must be an object schema, not {schema.get('type')!r}"
    return None


_PY_TYPES = {"string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,), "array": (list,),
             "object": (dict,), "null": (type(None),)}


def _has_type(value: Any, declared: Any) -> bool:
    names = declared if isinstance(declared, list) else [declared]
    for name in names:
        kinds = _PY_TYPES.get(name)
        if kinds is None:
            return True
        if isinstance(value, bool) and name not in ("boolean",):
            continue
        if isinstance(value, kinds) or (name == "integer" and isinstance(value, float) and value.is_integer()):
            return True
    return False


def enum_conflicts(schema: Any, path: str = "") -> Iterator[str]:
    """Paths (under a parameter schema) of ``enum`` lists none of whose values has the declared type."""
    if not isinstance(schema, dict):
        return
    enum, declared = schema.get("enum"), schema.get("type")
    if isinstance(enum, list) and enum and declared is not None and not any(_has_type(v, declared) for v in enum):
        yield path
    for name, sub in (schema.get("properties") or {}).items() if isinstance(schema.get("properties"), dict) else ():
        yield from enum_conflicts(sub, f"{path}.properties.{name}")
    if isinstance(schema.get("items"), dict):
        yield from enum_conflicts(schema["items"], f"{path}.items")


def _conflict_message(schema: dict, path: str) -> str:
    node = schema
    for step in path.split(".")[1:]:
        node = node[step]
    hint = " (an array's allowed items belong in items.enum)" if node.get("type") == "array" else ""
    return f"no value of enum {node['enum']!r} has the declared type {node.get('type')!r}{hint}"


def _drop_conflicts(schema: Any) -> Any:
    """A copy without the enums ``enum_conflicts`` reports (already flagged at the tool)."""
    if not isinstance(schema, dict):
        return schema
    out = dict(schema)
    if "" in set(enum_conflicts({k: v for k, v in schema.items() if k in ("enum", "type")})):
        out.pop("enum")
    if isinstance(out.get("properties"), dict):
        out["properties"] = {k: _drop_conflicts(v) for k, v in out["properties"].items()}
    if isinstance(out.get("items"), dict):
        out["items"] = _drop_conflicts(out["items"])
    return out


@lru_cache(maxsize=65536)
def _value_checker(schema_text: str) -> tuple[Callable[[Any], bool], dict]:
    """A fast yes/no check (jsonschema-rs) for a parameter schema, and the schema it checks."""
    import jsonschema_rs

    schema = _drop_conflicts(json.loads(schema_text))
    try:
        return jsonschema_rs.validator_for(schema).is_valid, schema
    except Exception:  # a schema jsonschema-rs refuses is reported by tool_schema_invalid
        return (lambda value: True), schema


@lru_cache(maxsize=65536)
def _parameter_checker(parameters_text: str, name: str) -> tuple[Callable[[Any], bool], dict]:
    """``_value_checker`` of parameter ``name`` of a tool, found by the tool's canonical parameters text
    (which verify has anyway): no canonical text of the parameter's schema per call."""
    return _value_checker(canonical_json(json.loads(parameters_text)["properties"][name]))


def _value_problem(schema: dict, value: Any, checker: tuple[Callable[[Any], bool], dict] | None = None
                   ) -> tuple[str, str, str] | None:
    """(rule, sub-path, message) when ``value`` breaks its parameter schema (``checker``: its
    ``_value_checker``, if known), else None."""
    is_valid, checked = checker or _value_checker(canonical_json(schema))
    if is_valid(value) or ("default" in schema and value == schema["default"]):
        return None
    from jsonschema.exceptions import best_match

    error = best_match(_linear_validator_class()(checked).iter_errors(value))
    if error is None:
        return None
    rule = {"type": "type_mismatch", "enum": "enum_mismatch", "const": "enum_mismatch"}.get(error.validator, "value_invalid")
    return rule, _path(error.absolute_path), error.message


@lru_cache(maxsize=4096)
def _pattern_matcher(pattern: str) -> Callable[[str], bool] | None:
    """A linear-time matcher for a JSON-Schema ``pattern`` (jsonschema-rs on Rust's ``regex`` engine, which
    never backtracks: ``^(a+)+$`` is as fast as any other); None for a pattern it cannot compile."""
    import jsonschema_rs

    schema = {"type": "string", "pattern": pattern}
    for options in (jsonschema_rs.RegexOptions(), jsonschema_rs.FancyRegexOptions(backtrack_limit=100_000)):
        try:  # lookarounds and backreferences need the backtracking engine: bounded by its step limit
            return jsonschema_rs.validator_for(schema, pattern_options=options).is_valid
        except Exception:
            continue
    return None


@lru_cache(maxsize=1)
def _linear_validator_class():
    """Draft 2020-12 (python-jsonschema, for its error messages) with ``pattern`` and ``patternProperties``
    matched by :func:`_pattern_matcher` instead of Python's backtracking ``re``."""
    from jsonschema import Draft202012Validator, validators
    from jsonschema.exceptions import ValidationError

    def pattern(validator, patrn, instance, schema):
        if validator.is_type(instance, "string") and isinstance(patrn, str):
            match = _pattern_matcher(patrn)
            if match is not None and not match(instance):
                yield ValidationError(f"{instance!r} does not match {patrn!r}")

    def pattern_properties(validator, patterns, instance, schema):
        if not validator.is_type(instance, "object") or not isinstance(patterns, dict):
            return
        for patrn, subschema in patterns.items():
            match = _pattern_matcher(patrn) if isinstance(patrn, str) else None
            for key, item in instance.items():
                if match is not None and match(key):
                    yield from validator.descend(item, subschema, path=key, schema_path=patrn)

    return validators.extend(Draft202012Validator, {"pattern": pattern, "patternProperties": pattern_properties})


def _nested_candidates(schema: dict, value: Any) -> list[tuple[str, dict, Any]] | None:
    """BFCL ground truth writes an object's fields as candidate lists ({"k": [v1, v2]}), also inside
    arrays of objects. Returns (sub-path, field schema, candidate) for each, or None if not that shape."""

    def fields(obj: Any, object_schema: dict, prefix: str) -> list | None:
        if not isinstance(obj, dict) or not all(isinstance(v, list) for v in obj.values()):
            return None
        properties = object_schema.get("properties") if isinstance(object_schema.get("properties"), dict) else {}
        return [(f"{prefix}.{key}[{k}]", properties.get(key, {}), candidate)
                for key, candidates in obj.items() for k, candidate in enumerate(candidates) if candidate != ""]

    if schema.get("type") == "object":
        return fields(value, schema, "")
    items = schema.get("items")
    if schema.get("type") == "array" and isinstance(items, dict) and items.get("type") == "object" and isinstance(value, list):
        out = []
        for index, element in enumerate(value):
            found = fields(element, items, f"[{index}]")
            if found is None:
                return None
            out.extend(found)
        return out
    return None


def _truth_problems(schema: dict, value: Any, where: str, checker: tuple | None = None) -> list[tuple[str, str, str]]:
    """Problems of one ground-truth candidate: plain reading first, then BFCL's nested candidate lists."""
    problem = _value_problem(schema, value, checker)
    if problem is None:
        return []
    nested = _nested_candidates(schema, value)
    if nested is None:
        return [(problem[0], where + problem[1], problem[2])]
    out = []
    for sub_path, sub_schema, candidate in nested:
        out.extend(_truth_problems(sub_schema, candidate, where + sub_path))
    return out


def _path(parts: Iterable) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)


def _whole_link(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("<link>") and value.endswith("</link>") and value.count("<link>") == 1



@dataclass
class Findings:
    problems: list
    tools: dict[str, dict]

    def add(self, rule: str, path: str, message: str) -> None:
        self.problems.append({"rule": rule, "path": path, "message": message})




def verify(sample: Sample, state: Findings, ids: list[list[str] | None] | None = None) -> None:
    """Add the rule problems of a schema-valid sample to ``state`` (``ids``: its ``assign_call_ids``, if known)."""
    ids = assign_call_ids(sample) if ids is None else ids
    tools: dict[str, tuple[dict, str]] = {}  # name → (tool, canonical text of its parameters)
    results: dict[str, Any] = {}
    previous = None
    for index, message in enumerate(sample):
        role, content = message["role"], message["content"]
        here = f"$[{index}]"
        if role == "candidate_tools":
            tools = {}
            for position, tool in enumerate(content):
                tool_path = f"{here}.content[{position}].parameters"
                schema_text = canonical_json(tool["parameters"])
                tools[tool["name"]] = tool, schema_text
                error = _schema_error(schema_text)
                if error:
                    state.add("tool_schema_invalid", tool_path + error[0], f"{tool['name']!r}: {error[1]}")
                for sub in enum_conflicts(tool["parameters"]) if '"enum"' in schema_text else ():
                    state.add("tool_enum_conflict", f"{tool_path}{sub}.enum", f"{tool['name']!r}: {_conflict_message(tool['parameters'], sub)}")
        elif role in ("system", "user", "assistant") and not content.strip():
            state.add("empty_turn", f"{here}.content", f"empty {role} message")
        elif role in CALL_ROLES:
            answer = sample[index + 1]["content"] if index + 1 < len(sample) and sample[index + 1]["role"] == "tool_response" else None
            _check_calls(message, ids[index] or [], here, tools, results, answer, state)
        elif role == "tool_response":
            results.update(content)
        if previous is not None and previous["role"] not in ("id", "meta") and _same(previous, message):
            state.add("duplicate_turn", here, f"the same {role} message twice in a row")
        previous = message


def _same(a: dict, b: dict) -> bool:
    return a["role"] == b["role"] and canonical_json(a) == canonical_json(b)


def _check_calls(message: dict, ids: list[str], here: str, tools: dict[str, tuple[dict, str]], results: dict[str, Any],
                 answer: dict | None, state: Findings) -> None:
    truth = message["role"] == "tool_call_ground_truth"
    if not truth:
        if answer is None:
            state.add("call_unanswered", here, "tool_call without a tool_response after it")
        else:
            missing = [cid for cid in ids if cid not in answer]
            if missing:
                state.add("call_unanswered", f"{here}.content", f"no result for {missing}")
    for position, call in enumerate(message["content"]):
        call_path = f"{here}.content[{position}]"
        if call["name"] not in tools:
            state.add("unknown_tool", f"{call_path}.name", f"{call['name']!r} is not among the candidate tools in force")
            continue
        tool, schema_text = tools[call["name"]]
        available = dict(results)
        if answer is not None:
            available.update({d: answer[d] for d in call.get("depend_on") or [] if d in answer})
        _check_parameters(call, tool["parameters"], schema_text, f"{call_path}.parameters", truth, available, state)


def _check_parameters(call: dict, schema: dict, schema_text: str, path: str, truth: bool, results: dict[str, Any],
                      state: Findings) -> None:
    properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    parameters = call["parameters"]
    for name in schema.get("required") or []:
        if name not in parameters:
            state.add("missing_required", path, f"required parameter {name!r} of {call['name']!r} is missing")
    closed = bool(properties) and schema.get("additionalProperties") in (None, False)
    for name, value in parameters.items():
        value_path = f"{path}.{name}"
        if name not in properties:
            if closed:
                state.add("undeclared_param", value_path, f"{call['name']!r} declares no parameter {name!r}")
            continue
        if truth:
            candidates = [(f"{value_path}[{k}]", v) for k, v in enumerate(value) if v != ""]
        else:
            candidates = [(value_path, value)]
        checker = _parameter_checker(schema_text, name)
        for where, candidate in candidates:
            if not truth and any(True for _ in iter_links(candidate)):
                try:
                    candidate = resolve_links(candidate, results)
                except LinkError as exc:
                    state.add("link_unresolved", where, str(exc))
                    continue
            elif _whole_link(candidate):
                continue  # a ground-truth link stands for a result not known here
            if truth:
                found = _truth_problems(properties[name], candidate, where, checker)
            else:
                problem = _value_problem(properties[name], candidate, checker)
                found = [(problem[0], where + problem[1], problem[2])] if problem else []
            for rule, path_, message in found:
                state.add(rule, path_, message)


