"""Mapping a corpus's own parameter type names onto JSON Schema, keeping the original (DESIGN §1).

``normalize_schema`` walks a parameter schema (``properties``, ``items``, ``additionalProperties``,
``anyOf``/``oneOf``/``allOf``) and rewrites every ``type`` to a JSON Schema type name; when the
name changes, the original goes to ``x-original-type`` so a scorer can still tell BFCL ``float``
from ``integer`` or a Java ``HashMap`` from a Python ``dict``.
"""

from __future__ import annotations

import re
from typing import Any

JSON_TYPES = frozenset({"object", "number", "integer", "string", "boolean", "array", "null"})

# Type names seen in BFCL (Python, Java and JavaScript categories) and in corpora that write
# Python-style names. Keys are matched case-sensitively first, then lower-cased.
TYPE_NAMES: dict[str, str | None] = {
    # JSON Schema itself
    **{name: name for name in JSON_TYPES},
    # Python
    "dict": "object", "float": "number", "int": "integer", "str": "string", "bool": "boolean",
    "list": "array", "tuple": "array", "set": "array", "none": "null", "nonetype": "null",
    "any": None,
    # Java / JavaScript (BFCL's GORILLA_TO_OPENAPI mapping)
    "byte": "integer", "short": "integer", "long": "integer", "double": "number", "char": "string",
    "arraylist": "array", "hashmap": "object", "hashtable": "object", "queue": "array", "stack": "array",
    "bigint": "integer", "map": "object", "date": "string",
    # loose spellings
    "text": "string", "number/string": "string", "datetime": "string", "json": "object",
}


def json_type(name: str) -> str | None:
    """JSON Schema type for a source type name; None for 'any' or an unknown name (no constraint)."""
    if name in JSON_TYPES:
        return name
    lowered = name.strip().lower()
    if lowered in TYPE_NAMES:
        return TYPE_NAMES[lowered]
    generic = re.match(r"^(typing\.)?(list|tuple|set|sequence|iterable|array|dict|mapping|optional|union)\s*\[", lowered)
    if generic:
        kind = generic.group(2)
        if kind in ("dict", "mapping"):
            return "object"
        if kind in ("optional", "union"):
            # Optional[X] is X (nullability is the parameter's optionality); Union[A, B] maps only when A and B agree.
            inner = {json_type(arg) for arg in split_type_args(name.strip()[generic.end():].rstrip().removesuffix("]"))}
            inner.discard("null")
            if inner == {"integer", "number"}:
                return "number"
            return inner.pop() if len(inner) == 1 and None not in inner else None
        return "array"
    return None


def split_type_args(text: str) -> list[str]:
    """Top-level comma-separated parts of a type name: ``"int, List[str], optional"`` → 3 parts."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        if char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:index].strip())
            start = index + 1
    parts.append(text[start:].strip())
    return [part for part in parts if part]


def normalize_schema(schema: Any, *, any_as: str | None = None) -> Any:
    """A copy of a parameter schema with JSON Schema type names (originals kept in x-original-type).

    ``any_as``: the type to give BFCL's ``any`` (BFCL presents it to models as ``string``).
    """
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "type" and isinstance(value, str):
            mapped = json_type(value)
            if mapped is None and value.strip().lower() == "any" and any_as:
                mapped = any_as
            if mapped is not None:
                out["type"] = mapped
            if mapped != value:
                out["x-original-type"] = value
        elif key == "type" and isinstance(value, list):
            mapped_list = [json_type(v) if isinstance(v, str) else None for v in value]
            if all(m is not None for m in mapped_list):
                out["type"] = list(dict.fromkeys(mapped_list))
            if out.get("type") != value:
                out["x-original-type"] = value
        elif key == "properties" and isinstance(value, dict):
            out[key] = {name: normalize_schema(sub, any_as=any_as) for name, sub in value.items()}
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            out[key] = normalize_schema(value, any_as=any_as)
        elif key == "items" and isinstance(value, list):
            out[key] = [normalize_schema(sub, any_as=any_as) for sub in value]
        elif key in ("anyOf", "oneOf", "allOf") and isinstance(value, list):
            out[key] = [normalize_schema(sub, any_as=any_as) for sub in value]
        else:
            out[key] = value
    return out


def strip_extensions(schema: Any) -> Any:
    """A copy without keys starting with ``x-`` (what renderers show a model, DESIGN §4)."""
    if isinstance(schema, dict):
        out = {}
        for key, value in schema.items():
            if isinstance(key, str) and key.startswith("x-"):
                continue
            if key == "properties" and isinstance(value, dict):  # keys here are parameter names
                out[key] = {name: strip_extensions(sub) for name, sub in value.items()}
            else:
                out[key] = strip_extensions(value)
        return out
    if isinstance(schema, list):
        return [strip_extensions(v) for v in schema]
    return schema
