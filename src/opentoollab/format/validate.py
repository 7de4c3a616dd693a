"""Validation of unified samples: the JSON Schema layer and the semantic layer (DESIGN.md section 1).

``validate_sample`` returns a list of ``Problem`` (rule, JSON path, message); an empty list means
valid. Every writer in the library calls it before a sample reaches disk.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from . import fastjson
from .sample import (
    CALL_ID_RE,
    CALL_ROLES,
    SAMPLE_ID_RE,
    Sample,
    assign_call_ids,
    MAX_DEPTH,
    checked_encoding,
    iter_links,
    json_problem,
    split_link,
)


@dataclass(frozen=True)
class Problem:
    """One broken rule: ``rule`` is a stable code, ``path`` a JSON path into the sample."""

    rule: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.rule} at {self.path}: {self.message}"


@lru_cache(maxsize=1)
def sample_schema() -> dict[str, Any]:
    """The JSON Schema of a sample, as shipped in the package."""
    text = resources.files("opentoollab.format.schema").joinpath("sample.schema.json").read_text("utf-8")
    return json.loads(text)


@lru_cache(maxsize=1)
def _validator():
    """A compiled validator: jsonschema-rs (Rust, ~100x faster, so every sample can be checked),
    falling back to the pure-Python ``jsonschema`` where no jsonschema-rs wheel exists."""
    schema = sample_schema()
    try:
        import jsonschema_rs

        return jsonschema_rs.Draft202012Validator(schema), "rs"
    except ImportError:  # pragma: no cover - depends on the platform
        from jsonschema import Draft202012Validator

        return Draft202012Validator(schema), "py"


@lru_cache(maxsize=1)
def _nesting_validator():
    """jsonschema-rs with the sample schema and ``MAX_DEPTH`` as one more rule (None without jsonschema-rs):
    for plain samples (``format.sample.loads_line_or_lenient``), whose numbers, strings and types cannot break
    the json rule, the nesting is all that is left of it, checked in Rust in the same pass (the Python walk
    cost 3x the schema)."""
    try:
        import jsonschema_rs
    except ImportError:  # pragma: no cover - depends on the platform
        return None
    schema = dict(sample_schema())
    # level k: an array's items and an object's values are at level k + 1; below MAX_DEPTH only atoms
    levels = {f"nesting_{k}": {"items": {"$ref": f"#/$defs/nesting_{k + 1}"},
                               "additionalProperties": {"$ref": f"#/$defs/nesting_{k + 1}"}}
              for k in range(1, MAX_DEPTH + 1)}
    levels[f"nesting_{MAX_DEPTH + 1}"] = {"type": ["string", "number", "boolean", "null"]}
    schema["$defs"] = {**schema["$defs"], **levels}
    schema["allOf"] = [{"$ref": "#/$defs/nesting_1"}]
    return jsonschema_rs.Draft202012Validator(schema)


def _schema_and_nesting_hold(sample: Any) -> bool:
    """For a plain sample: the schema and the nesting limit hold, so only the semantic rules are left to check
    (False without jsonschema-rs: the full check then runs)."""
    validator = _nesting_validator()
    return validator is not None and validator.is_valid(sample)


def _json_path(parts) -> str:
    out = "$"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _schema_problems(sample: Any) -> list[Problem]:
    validator, kind = _validator()
    if validator.is_valid(sample):
        return []
    problems = []
    for error in validator.iter_errors(sample):
        path = error.instance_path if kind == "rs" else error.absolute_path
        problems.append(Problem("schema", _json_path(path), error.message))
    return problems


def matches_schema(sample: Any) -> bool:
    """True when the value is strict JSON and a sample by the format's schema (semantic checks not run)."""
    return not json_problem(sample) and _validator()[0].is_valid(sample)


def validate_sample(sample: Any, strict: bool = False) -> list[Problem]:
    """All problems of one sample; schema problems first. Semantic checks run only on schema-valid samples.

    A value that is not strict JSON (``NaN``/``Infinity``, an integer beyond the int↔str digit limit, a lone
    surrogate, nesting deeper than ``MAX_DEPTH``) is one ``json`` problem, checked before anything else.
    ``strict``: the sample is plain JSON as ``format.sample.loads_line_or_lenient`` says (read by orjson: no
    such number or string, only JSON's own types); its nesting is then checked with the schema, in Rust."""
    if strict and _schema_and_nesting_hold(sample):
        return semantic_problems(sample)
    return checked_sample(sample)[0]


def checked_sample(sample: Any, strict: bool = False) -> tuple[list[Problem], bytes | None]:
    """``validate_sample`` and orjson's bytes of the sample (``sample.checked_encoding``), for writers that
    encode the sample next."""
    if strict and _schema_and_nesting_hold(sample):
        encoded = fastjson.dumps_bytes(sample, unchecked=True)
        return semantic_problems(sample, links=encoded is None or b"<link>" in encoded), encoded
    problem, encoded = checked_encoding(sample)
    if problem:
        return [Problem("json", "$", problem)], encoded
    problems = _schema_problems(sample)
    if problems:
        return problems, encoded
    return semantic_problems(sample, links=encoded is None or b"<link>" in encoded), encoded


def semantic_problems(sample: Sample, links: bool = True) -> list[Problem]:
    """The rules the schema cannot express: order, ids, dependencies, links, tools in force.
    ``links=False``: the caller knows no string of the sample holds ``<link>`` (its link rule is skipped)."""
    problems: list[Problem] = []

    def add(rule: str, path: str, message: str) -> None:
        problems.append(Problem(rule, path, message))

    if not SAMPLE_ID_RE.match(sample[0]["content"]):
        add("id_format", "$[0].content", f"id {sample[0]['content']!r} is not <DATASET>_<subset>_<n>")

    ids = assign_call_ids(sample)
    tools_in_force: set[str] | None = None
    seen_user = False
    answered_before: set[str] = set()  # every call id of earlier messages
    previous = None
    first_tools_index = None
    for index, message in enumerate(sample):
        role = message["role"]
        here = f"$[{index}]"
        if role == "id" and index != 0:
            add("id_position", here, "the id message must be first and only once")
        elif role == "meta" and index != 1:
            add("meta_position", here, "meta must come right after the id")
        elif role == "candidate_tools":
            names = [tool["name"] for tool in message["content"]]
            tools_in_force = set(names)
            if first_tools_index is None:
                first_tools_index = index
                if index not in (1, 2) or (index == 2 and sample[1]["role"] != "meta"):
                    add("tools_position", here, "the first candidate_tools must follow the id (or the meta)")
            if len(tools_in_force) != len(names):
                dupes = sorted({n for n in names if names.count(n) > 1})
                add("duplicate_tool", f"{here}.content", f"tool names declared twice: {dupes}")
        elif role == "system":
            if seen_user:
                add("system_position", here, "system must come before the first user message")
        elif role == "user":
            seen_user = True
        elif role == "tool_response":
            if previous is None or previous["role"] != "tool_call":
                add("response_position", here, "tool_response must directly follow a tool_call")
            else:
                expected = ids[index - 1] or []
                got = list(message["content"].keys())
                missing = [cid for cid in expected if cid not in message["content"]]
                extra = [cid for cid in got if cid not in expected]
                if missing:
                    add("response_missing", f"{here}.content", f"no result for calls {missing}")
                if extra:
                    add("response_unknown", f"{here}.content", f"results for calls not made just before: {extra}")
        if role in CALL_ROLES:
            if first_tools_index is None:
                add("tools_missing", here, "calls before any candidate_tools message")
            message_ids = ids[index] or []
            for position, call in enumerate(message["content"]):
                call_path = f"{here}.content[{position}]"
                if tools_in_force is not None and call["name"] not in tools_in_force:
                    add("unknown_tool", f"{call_path}.name", f"{call['name']!r} is not among the candidate tools in force")
                available = answered_before | set(message_ids[:position])
                depend_on = call.get("depend_on", [])
                for d_index, dependency in enumerate(depend_on):
                    d_path = f"{call_path}.depend_on[{d_index}]"
                    if not CALL_ID_RE.match(dependency):
                        add("call_id_format", d_path, f"{dependency!r} is not <name>.<k>")
                    elif dependency not in available:
                        add("depend_on_unknown", d_path, f"{dependency!r} is not an earlier call of this sample")
                if len(set(depend_on)) != len(depend_on):
                    add("depend_on_duplicate", f"{call_path}.depend_on", "a call id is listed twice")
                for body in iter_links(call["parameters"]) if links else ():
                    if split_link(body, depend_on) is None:
                        add("link_not_in_depend_on", f"{call_path}.parameters", f"link <link>{body}</link> names no call in depend_on")
            answered_before |= set(message_ids)
        previous = message

    if not seen_user:
        add("no_user", "$", "a sample needs at least one user message")
    if first_tools_index is None:
        add("tools_missing", "$", "no candidate_tools message")
    return problems


def is_valid(sample: Any) -> bool:
    return not validate_sample(sample)
