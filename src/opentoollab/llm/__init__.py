"""LLM access shared by every model-driven part: one OpenAI-compatible client and the step cache.

Owns: ``client`` (load-balanced, bounded, retrying client with token/cost accounting and structured
JSON answers), ``jsonparse`` (tolerant reading of a model's JSON), ``cache`` (content-addressed,
SQLite-backed cache of step outputs, failures and raw answers).
May import: ``opentoollab.format``, the standard library and third-party packages only.
"""

from __future__ import annotations

from .cache import StepCache, content_key
from .client import Client, ClientError, Reply
from .jsonparse import ParseError, parse_json

__all__ = ["Client", "ClientError", "ParseError", "Reply", "StepCache", "content_key", "parse_json"]
