"""What every answer parser returns and raises: a decoded call ``{"name", "arguments"}`` and ``DecodeError``.

Shared by ``parse`` (JSON, tags, Python syntax) and ``langs`` (BFCL's Java/JavaScript grammars), so
neither imports the other's module at load time. May import: the standard library only.
"""

from __future__ import annotations

from typing import Any


class DecodeError(ValueError):
    """Text that holds no well-formed call list (BFCL: ``ast_decoder:decoder_failed``)."""


def call(name: str, arguments: Any) -> dict[str, Any]:
    return {"name": name, "arguments": arguments}
