"""What the families' completion parsers share: reading JSON out of model text, bounded, never evaluated.

Each family's ``parse_completion`` (beside its renderer) turns a raw continuation of the family's
generation prompt back into ``(text outside calls, calls or None)``; ``benchmark.scoring.parse``
dispatches to it by ``call_syntax``. Errors are plain ``ValueError`` (this room sits below the
scorer's ``DecodeError``, which the dispatcher turns them into). Work is linear in the text: the
JSON decoder is C code, nesting too deep for it is an error, not a crash.
"""

from __future__ import annotations

import json
import re
from typing import Any

_DECODER = json.JSONDecoder()
_SEPARATORS = re.compile(r"[\s;,]*")


def json_value(text: str, what: str = "call") -> Any:
    """One JSON value filling ``text`` (surrounding whitespace allowed); ValueError otherwise."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON in {what}: {exc}") from None
    except (RecursionError, MemoryError) as exc:
        raise ValueError(f"JSON in {what} too deep or too large ({type(exc).__name__})") from None


def json_prefix(text: str, start: int = 0, what: str = "call") -> tuple[Any, int]:
    """The JSON value starting at ``text[start]`` and the index just after it."""
    try:
        return _DECODER.raw_decode(text, start)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON in {what}: {exc}") from None
    except (RecursionError, MemoryError) as exc:
        raise ValueError(f"JSON in {what} too deep or too large ({type(exc).__name__})") from None


def json_values(text: str, what: str = "call") -> list[Any]:
    """Consecutive JSON values separated by nothing, whitespace, ``;`` or ``,``."""
    values, position = [], _SEPARATORS.match(text).end()
    while position < len(text):
        value, position = json_prefix(text, position, what)
        values.append(value)
        position = _SEPARATORS.match(text, position).end()
    return values


def arguments_of(value: Any, name: str) -> Any:
    """Call arguments as written: an object, or a JSON string holding one (empty = none)."""
    if isinstance(value, str):
        return json_value(value, f"the arguments of {name!r}") if value.strip() else {}
    return value


def named_call(item: Any, name_key: str, arguments_key: str) -> dict[str, Any]:
    """``{name_key: NAME, arguments_key: ARGS}`` (one JSON call object) → ``{"name", "arguments"}``."""
    if not isinstance(item, dict) or not isinstance(item.get(name_key), str):
        raise ValueError(f"not a call object with a {name_key!r}: {str(item)[:100]}")
    return {"name": item[name_key], "arguments": arguments_of(item.get(arguments_key, {}), item[name_key])}
