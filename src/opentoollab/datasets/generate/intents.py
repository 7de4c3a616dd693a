"""Intents: one user need that one tool call answers, in English and Chinese, with a reply grounded in the result.

An intent is a function ``(world, rng, lang) -> Ask``: it picks real arguments from the episode's
world (products that exist, dates around the calendar's today, files in the sampled tree), words
the request, and says how to answer from the actual result. The category programs
(``programs``) combine intents into single, parallel, multi-turn, miss_param… samples.
Intent modules (``intents_services``, ``intents_files``) register with ``intent``.
May import: the standard library, ``opentoollab.tools``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Callable

from .dialogue import ProgramError


@dataclass
class Ask:
    """A request for one call: the tool, its arguments, the user's words and how to answer from the result."""

    tool: str
    args: dict[str, Any]
    text: str
    reply: Callable[[Any], str]
    omit: str | None = None  # a required parameter the user may leave out (miss_param)
    without: str | None = None  # the request without that value
    what: str | None = None  # how the assistant names the missing value when it asks back
    value: str | None = None  # how the user then states it
    action: str = ""  # what the tool does, for "none of my tools can <action>" (miss_func)
    key: str = ""  # the intent that made it (set by the caller)


IntentFn = Callable[["World", random.Random, str], Ask]
INTENTS: dict[str, tuple[str, IntentFn]] = {}  # key → (toolkit, function)


def intent(key: str, toolkit: str) -> Callable[[IntentFn], IntentFn]:
    def register(function: IntentFn) -> IntentFn:
        INTENTS[key] = (toolkit, function)
        return function
    return register


def tr(rng: random.Random, lang: str, en: tuple[str, ...] | str, zh: tuple[str, ...] | str, **slots: Any) -> str:
    """One of the wordings for ``lang``, filled with ``slots`` (text without slots is used as is: it may hold braces)."""
    options = en if lang == "en" else zh
    if isinstance(options, str):
        options = (options,)
    chosen = options[rng.randrange(len(options))]
    return chosen.format(**slots) if slots else chosen


def num(value: Any) -> str:
    """A number as people write it: no trailing .0, at most 4 decimals."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        text = f"{value:.4f}".rstrip("0").rstrip(".")
        return text if text not in ("-0", "") else "0"
    return str(value)


def table_text(rows: list[list[Any]]) -> str:
    """Table rows as plain text, one line each, cells separated by " | "."""
    return "\n".join(" | ".join(num(v) for v in row) for row in rows)


class World:
    """What a program may know of the episode's initial state: its config per toolkit and the file tree."""

    def __init__(self, config: dict[str, Any], files: list[dict[str, Any]] | None = None) -> None:
        self.config = config
        self.files = files or []

    def state(self, toolkit: str) -> dict[str, Any]:
        state = self.config.get(toolkit)
        if state is None:
            raise ProgramError(f"no {toolkit} state in this episode")
        return state

    def choose(self, rng: random.Random, items: list[Any], what: str) -> Any:
        if not items:
            raise ProgramError(f"no {what} in this episode")
        return items[rng.randrange(len(items))]

    def files_of(self, *types: str) -> list[dict[str, Any]]:
        return [f for f in self.files if f.get("type") in types]
