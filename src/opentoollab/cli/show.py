"""What ``datasets show`` and ``trainer show`` print: one sample for people, and rendered text with its loss spans.

Pure text functions (``color`` decides ANSI styling); the commands live in ``cli/datasets.py`` and
``cli/trainer.py``.
"""

from __future__ import annotations

import json
from typing import Any

import click

ROLE_COLORS = {"system": "magenta", "user": "cyan", "assistant": "green", "tool_call": "yellow",
               "tool_response": "blue", "tool_call_ground_truth": "yellow", "candidate_tools": "white"}
LEARN_OPEN, LEARN_CLOSE = "<LEARN>", "</LEARN>"  # the span markers when the output is not a terminal


def _style(text: str, color: bool, **style: Any) -> str:
    return click.style(text, **style) if color else text


def _value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _call(call: dict[str, Any]) -> str:
    parameters = call.get("parameters") if isinstance(call.get("parameters"), dict) else {}
    arguments = ", ".join(f"{key}={_value(value)}" for key, value in parameters.items())
    depends = f"   (after {', '.join(call['depend_on'])})" if call.get("depend_on") else ""
    return f"{call.get('name')}({arguments}){depends}"


def _tool(tool: dict[str, Any]) -> str:
    schema = tool.get("parameters") if isinstance(tool.get("parameters"), dict) else {}
    required = set(schema.get("required") or [])
    params = ", ".join(f"{name}{'*' if name in required else ''}: {(spec or {}).get('type', '?')}"
                       for name, spec in (schema.get("properties") or {}).items())
    description = " ".join(str(tool.get("description") or "").split())
    return f"{tool.get('name')}({params})" + (f" — {description[:100]}{'…' if len(description) > 100 else ''}"
                                                if description else "")


def pretty_sample(sample: Any, where: str = "", color: bool = False) -> str:
    """A sample as readable text: id and meta, the tools in one line each, then every message under its role."""
    if not isinstance(sample, list):
        return json.dumps(sample, ensure_ascii=False, indent=2)
    lines: list[str] = []
    for message in sample:
        if not isinstance(message, dict):
            lines.append(_value(message))
            continue
        role, content = message.get("role"), message.get("content")
        if role == "id":
            lines.append(_style(str(content), color, bold=True) + (f"   ({where})" if where else ""))
            continue
        if role == "meta" and isinstance(content, dict):
            lines.append("meta   " + "  ".join(f"{k}={v if isinstance(v, str) else _value(v)}" for k, v in content.items()))
            continue
        header = f"── {role}" + (" (hidden)" if message.get("hidden") else "")
        lines.append(_style(header, color, fg=ROLE_COLORS.get(str(role)), bold=True))
        if role == "candidate_tools" and isinstance(content, list):
            lines.extend(f"  {_tool(tool)}" if isinstance(tool, dict) else f"  {_value(tool)}" for tool in content)
        elif role in ("tool_call", "tool_call_ground_truth") and isinstance(content, list):
            lines.extend(f"  {_call(call)}" if isinstance(call, dict) else f"  {_value(call)}" for call in content)
        elif role == "tool_response" and isinstance(content, dict):
            lines.extend(f"  {key} → {_value(value)}" for key, value in content.items())
        else:
            lines.append(content if isinstance(content, str) else json.dumps(content, ensure_ascii=False, indent=2))
    return "\n".join(lines)


def highlight_spans(text: str, spans: list[list[int]], color: bool) -> str:
    """``text`` with the learned character spans shown: reverse green in a terminal, else between markers."""
    out: list[str] = []
    at = 0
    for start, end in spans:
        out.append(text[at:start])
        piece = text[start:end]
        out.append(click.style(piece, fg="green", reverse=True) if color else f"{LEARN_OPEN}{piece}{LEARN_CLOSE}")
        at = end
    out.append(text[at:])
    return "".join(out)


def span_summary(text: str, spans: list[list[int]]) -> str:
    learned = sum(end - start for start, end in spans)
    share = learned / len(text) if text else 0.0
    return f"{len(text):,} characters, {learned:,} learned ({share:.0%}) in {len(spans)} span{'s' * (len(spans) != 1)}"


def color_option(function):
    """``--color auto|always|never`` → a ``color`` bool argument (auto: when stdout is a terminal)."""
    import functools
    import sys

    @click.option("--color", "color_choice", type=click.Choice(["auto", "always", "never"]), default="auto",
                  show_default=True, help="ANSI colors: auto = when the output is a terminal.")
    @functools.wraps(function)
    def wrapper(*args: Any, color_choice: str, **kwargs: Any) -> Any:
        color = color_choice == "always" or (color_choice == "auto" and sys.stdout.isatty())
        return function(*args, color=color, **kwargs)

    return wrapper


def locate_or_fail(ref: str, store: Any):
    """The sample ``ref`` names (``datasets.lookup.locate``), or one error line and exit 2."""
    from ..datasets.lookup import NotFound, locate
    from .common import fail

    try:
        return locate(ref, store)
    except NotFound as exc:
        fail(str(exc), 2)
