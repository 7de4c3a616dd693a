"""BFCL's Java and JavaScript value converters, ported rule by rule (bfcl-eval 2026.3.23, Apache-2.0).

Models answer Java/JavaScript items with every value as a string of source code (``"new int[]{1, 2}"``,
``"123L"``, ``"'abc'"``); the checker turns it into a Python value before comparing it with the
possible answers. A string that does not look like the expected type stays a string (and then fails
the type check), exactly as in BFCL. Only regular expressions are used, nothing is evaluated.
"""

from __future__ import annotations

import re
from typing import Any

JAVA_TYPES: dict[str, type] = {
    "byte": int, "short": int, "integer": int, "float": float, "double": float, "long": int,
    "boolean": bool, "char": str, "Array": list, "ArrayList": list, "Set": set, "HashMap": dict,
    "Hashtable": dict, "Queue": list, "Stack": list, "String": str, "any": str,
}
JS_TYPES: dict[str, type] = {
    "String": str, "integer": int, "float": float, "Bigint": int, "Boolean": bool, "dict": dict,
    "array": list, "any": str,
}

_INT = re.compile(r"^-?\d+$")
_JAVA_FLOAT = re.compile(r"^-?\d+(\.\d+)?([eE][+-]?\d+)?[fF]$")
_JAVA_DOUBLE = re.compile(r"^-?\d+(\.\d+)?([eE][+-]?\d+)?$")
_JAVA_LONG = re.compile(r"^-?\d+[lL]$")


class ConversionUnsupported(ValueError):
    """A type BFCL's converter does not implement (it raises too)."""


# ---------------------------------------------------------------------------------- Java
def java_value(value: str, expected: str, nested: str | None = None) -> Any:
    if expected not in JAVA_TYPES:
        raise ConversionUnsupported(f"Unsupported type: {expected}")
    if expected in ("byte", "short", "integer"):
        return int(value) if _INT.match(value) else str(value)
    if expected == "float":
        return float(re.sub(r"[fF]$", "", value)) if _JAVA_FLOAT.match(value) else str(value)
    if expected == "double":
        return float(value) if _JAVA_DOUBLE.match(value) else str(value)
    if expected == "long":
        return int(re.sub(r"[lL]$", "", value)) if _JAVA_LONG.match(value) else str(value)
    if expected == "boolean":
        return value == "true" if value in ("true", "false") else str(value)
    if expected == "char":
        # BFCL's pattern r"^\'.$\'" can never match, so a char always stays the string given.
        return str(value)
    if expected == "ArrayList":
        return _java_arraylist(value, nested)
    if expected == "Array":
        return _java_array(value, nested)
    if expected == "HashMap":
        return _java_hashmap(value)
    if expected in ("String", "any"):
        return str(value)
    raise ConversionUnsupported(f"{expected} conversion is not implemented")


def _java_element(text: str, nested: str | None) -> Any:
    if nested in ("char", "String"):
        return text[1:-1]
    return java_value(text, nested) if nested else java_literal(text)


def _java_arraylist(text: str, nested: str | None) -> Any:
    match = re.search(r"new\s+ArrayList<\w*>\(Arrays\.asList\((.+?)\)\)", text)
    if match:
        return [_java_element(part.strip(), nested) for part in match.group(1).split(",")]
    match = re.search(r"new\s+ArrayList<\w*>\(\)\s*\{\{\s*(.+?)\s*\}\}", text, re.DOTALL)
    if match:
        return [_java_element(found.strip(), nested) for found in re.findall(r"add\((.+?)\)", match.group(1))]
    if re.search(r"new\s+ArrayList<\w*>\(\)", text):
        return []
    return text


def _java_array(text: str, nested: str | None) -> Any:
    match = re.search(r"new\s+\w+\[\]\s*\{(.*?)\}", text)
    if not match:
        return text
    parts = [part.strip() for part in match.group(1).split(",") if part.strip()]
    return [java_value(part, nested) if nested else java_literal(part) for part in parts]


def _java_hashmap(text: str) -> Any:
    match = re.search(r"new\s+HashMap<.*?>\s*\(\)\s*\{\s*\{?\s*(.*?)\s*\}?\s*\}", text, re.DOTALL)
    if match:
        return {key: java_literal(value.strip()) for key, value in re.findall(r"put\(\"(.*?)\",\s*(.*?)\)", match.group(1))}
    if re.search(r"new\s+HashMap<.*?>\s*\(\)", text):
        return {}
    return text


def java_literal(text: str) -> Any:
    """A Java literal without a declared type (BFCL's parse_java_value)."""
    if text == "true":
        return True
    if text == "false":
        return False
    if text.startswith('"') and text.endswith('"'):
        return text[1:-1]
    if _JAVA_LONG.match(text):
        return int(text[:-1])
    if _JAVA_FLOAT.match(text):
        return float(re.sub(r"[fF]$", "", text))
    return _number_or_text(text)


def _number_or_text(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


# ---------------------------------------------------------------------------------- JavaScript
def js_value(value: str, expected: str, nested: str | None = None) -> Any:
    if expected not in JS_TYPES:
        raise ConversionUnsupported(f"Unsupported type: {expected}")
    if expected == "String":
        quoted = (value.startswith('"') and value.endswith('"')) or (value.startswith("'") and value.endswith("'"))
        return value[1:-1] if quoted else str(value)
    if expected == "integer":
        return int(value) if _INT.match(value) else str(value)
    if expected == "float":
        return float(value) if re.match(r"^-?\d+(\.\d+)?$", value) else str(value)
    if expected == "Bigint":
        return int(value[:-1]) if re.match(r"^-?\d+n$", value) else str(value)
    if expected == "Boolean":
        return value == "true" if value in ("true", "false") else str(value)
    if expected in ("dict", "array"):
        return _js_collection(value, expected, nested)
    return str(value)  # any


def _js_collection(code: str, kind: str, nested: str | None = None) -> Any:
    code = code.strip()
    if kind == "array":
        try:
            return _js_array(code, nested)
        except Exception:  # BFCL falls back to the text on any conversion error
            return code
    if code == "{}":
        return {}
    match = re.match(r"\{(.*?)\}", code)
    if not match:
        return code
    out: dict[str, Any] = {}
    try:
        for key, value in re.findall(r"([^:]+):\s*(.*?)(?:,\s*(?=[^,]+:)|$)", match.group(1)):
            key, value = key.strip().strip("'\""), value.strip()
            if value.startswith("[") and value.endswith("]"):
                out[key] = _js_collection(value, "array")
            elif value.startswith("{") and value.endswith("}"):
                out[key] = _js_collection(value, "dict")
            else:
                out[key] = js_literal(value.strip("'\""))
    except Exception:
        return code
    return out


def _js_array(code: str, nested: str | None) -> Any:
    two_d = re.match(r"\[\s*\[.*?\]\s*(,\s*\[.*?\]\s*)*\]|\bnew\s+Array\(\s*\[.*?\]\s*(,\s*\[.*?\]\s*)*\)", code)
    if two_d:
        rows = []
        for index, inner in enumerate(re.findall(r"\[(.*?)\]", two_d.group(0))):
            inner = inner.strip()
            if index == 0 and inner.startswith("["):
                inner = inner[1:]
            rows.append([js_literal(part.strip()) for part in inner.split(",")])
        return rows
    match = re.match(r"\[(.*?)\]|\bnew\s+Array\((.*?)\)", code)
    if not match:
        return code
    body = match.group(1) if match.group(1) is not None else match.group(2)
    body = (body or "").strip()
    parts = body.split(",") if body else []
    if nested:
        return [js_value(p.strip(), nested, "String") if p.strip().startswith(("'", '"')) else js_value(p.strip(), nested)
                for p in parts]
    return [js_literal(p.strip()) for p in parts]


def js_literal(text: str) -> Any:
    """A JavaScript literal without a declared type (BFCL's parse_js_value)."""
    text = text.strip()
    if text == "true":
        return True
    if text == "false":
        return False
    if (text.startswith('"') and text.endswith('"')) or (text.startswith("'") and text.endswith("'")):
        return text[1:-1]
    return _number_or_text(text)
