"""What every answer parser returns and raises: a decoded call ``{"name", "arguments"}`` and ``DecodeError``.

Shared by ``parse`` (JSON, tags, Python syntax) and ``langs`` (BFCL's Java/JavaScript grammars), so
neither imports the other's module at load time. May import: the standard library only.
"""

from __future__ import annotations

from typing import Any


class DecodeError(ValueError):
    """Text that holds no well-formed call list (BFCL: ``ast_decoder:decoder_failed``)."""


MAX_DEPTH = 100  # nesting of lists/objects inside one call's arguments
MAX_INT_BITS = 13_000  # ~3,900 decimal digits: below Python's int-to-str limit, so every check can print it
MAX_CHARS = 10_000_000  # characters of strings in one call's arguments


def bounds_problem(value: Any) -> str | None:
    """Why a decoded value is too deep or too large to check safely, or None (iterative: no recursion)."""
    stack, chars = [(value, 0)], 0
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"arguments nested deeper than {MAX_DEPTH} levels"
        if isinstance(item, str):
            chars += len(item)
            if chars > MAX_CHARS:
                return f"arguments longer than {MAX_CHARS:,} characters"
        elif isinstance(item, int) and item.bit_length() > MAX_INT_BITS:
            return f"an integer argument over {MAX_INT_BITS:,} bits"
        elif isinstance(item, (list, tuple)):
            stack.extend((v, depth + 1) for v in item)
        elif isinstance(item, dict):
            stack.extend((k, depth + 1) for k in item)
            stack.extend((v, depth + 1) for v in item.values())
    return None


def call(name: str, arguments: Any) -> dict[str, Any]:
    """A decoded call; DecodeError when its arguments are too deep or too large to check (scored wrong)."""
    problem = bounds_problem(arguments)
    if problem:
        raise DecodeError(f"{name}: {problem}")
    return {"name": name, "arguments": arguments}
