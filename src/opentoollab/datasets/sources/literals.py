"""Constants of a benchmark's Python source (its prompt texts) read without running it.

Some benchmarks keep data — prompt templates, scenario settings — as module-level constants of Python
files. Only ``NAME = <literal>`` assignments are read, with ``ast.literal_eval``; nothing is imported or
executed, so unverified code never runs.
"""

from __future__ import annotations

import ast
from typing import Any, Iterable


def literal_constants(source: bytes | str | None, names: Iterable[str] | None = None) -> dict[str, Any]:
    """``{NAME: value}`` of the module-level literal assignments in ``source`` (only ``names`` when given);
    ``{}`` for source that is not Python."""
    if not source:
        return {}
    wanted = set(names) if names is not None else None
    try:
        tree = ast.parse(source.decode("utf-8") if isinstance(source, bytes) else source)
    except (SyntaxError, UnicodeDecodeError, ValueError, RecursionError):
        return {}
    out = {}
    for node in tree.body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            continue
        name = node.targets[0].id
        if wanted is not None and name not in wanted:
            continue
        try:
            out[name] = ast.literal_eval(node.value)
        except (ValueError, SyntaxError, TypeError, RecursionError):
            continue
    return out
