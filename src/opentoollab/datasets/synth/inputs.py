"""Input records for pipelines that start from data (``button``): any JSONL or JSON file with text.

Each input becomes ``{"chat": text}``. The text is, in order: the recipe's ``text_field``; a
``chat`` field (Glaive: ``USER: …`` / ``ASSISTANT: …``); ``text``, ``conversation``, ``content``,
``prompt`` or ``instruction``; a ``messages``/``conversations`` list of ``{role|from, content|value}``;
a unified sample (a list of messages: its system, user and assistant texts); a bare string. Records
without text are reported, not fatal. Text is clipped to ``max_chars`` so a prompt stays bounded.
May import: ``opentoollab.format`` and the standard library.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

from ...format.jsonl import iter_lines

TEXT_FIELDS = ("chat", "text", "conversation", "content", "prompt", "instruction")
LIST_FIELDS = ("messages", "conversations")
DEFAULT_MAX_CHARS = 8000


def _turns(messages: list[Any]) -> str | None:
    lines = []
    for message in messages:
        if not isinstance(message, dict):
            continue
        role = message.get("role") or message.get("from")
        content = message.get("content", message.get("value"))
        if role in ("system", "user", "assistant", "human", "gpt") and isinstance(content, str) and content.strip():
            lines.append(f"{str(role).upper()}: {content.strip()}")
    return "\n\n".join(lines) or None


def record_text(value: Any, field: str | None = None) -> str | None:
    """The text of one input value (see the module docstring), or None."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, list):
        return _turns(value)
    if not isinstance(value, dict):
        return None
    for name in ([field] if field else []) + list(TEXT_FIELDS):
        text = value.get(name)
        if isinstance(text, str) and text.strip():
            return text.strip()
        if isinstance(text, list):
            joined = _turns(text)
            if joined:
                return joined
    for name in LIST_FIELDS:
        if isinstance(value.get(name), list):
            joined = _turns(value[name])
            if joined:
                return joined
    return None


def _values(path: Path) -> Iterator[tuple[int, Any, str | None]]:
    """(index, value, error) for every record of a JSONL file or a JSON array (or {"data": [...]})."""
    if path.suffix.lower() == ".json":
        data = json.loads(path.read_text("utf-8"))
        if isinstance(data, dict):
            data = next((v for v in data.values() if isinstance(v, list)), [data])
        for index, value in enumerate(data if isinstance(data, list) else [data]):
            yield index, value, None
        return
    for index, line in enumerate(iter_lines(path)):
        yield index, line.value, line.error


def read_inputs(path: str | Path, *, n: int | None = None, field: str | None = None,
                max_chars: int = DEFAULT_MAX_CHARS) -> tuple[list[tuple[str, dict[str, Any]]], list[dict[str, Any]]]:
    """Up to ``n`` input records as (id, {"chat": text}), and the rejected ones (index, reason)."""
    records: list[tuple[str, dict[str, Any]]] = []
    rejected: list[dict[str, Any]] = []
    for index, value, error in _values(Path(path)):
        if n is not None and len(records) >= n:
            break
        text = None if error else record_text(value, field)
        if text is None:
            rejected.append({"index": index, "reason": error or "no text field"})
            continue
        records.append((str(index), {"chat": text[:max_chars]}))
    return records, rejected
