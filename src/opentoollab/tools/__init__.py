"""Executable tool environments (toolkits) and sandboxes.

Owns: the toolkit base (``base``: declarations from signatures and docstrings, call limits,
episodes), the deterministic seed file tree (``seedtree``), one module per toolkit, and BFCL's own
environment classes run through the verified runtime (``bfcl_runtime``).
May import: ``opentoollab.format`` and the standard library / third-party packages only.
"""

from __future__ import annotations

# The registry lives in base (one registry line per toolkit module there), so base never imports this package.
from .base import REGISTRY, Toolkit, ToolError, ToolkitError, get_toolkit, toolkit_names
from .episode import Episode

__all__ = ["Episode", "REGISTRY", "ToolError", "Toolkit", "ToolkitError", "get_toolkit", "toolkit_names"]
