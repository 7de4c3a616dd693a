"""What a toolkit (an executable tool environment) is, and how one call runs in it.

A toolkit is a class whose public methods are its tools. Each method's signature (type hints) and
docstring (Google style: a summary, then ``Args:`` with one ``name: text`` line per parameter) give
its JSON-Schema declaration, so code and declaration can never drift apart. State comes from a
config (a JSON object); results are JSON values. A call is validated against the declaration,
runs under a time limit, and its result is size-checked; a tool's own failure (``ToolError``,
e.g. "no such file") becomes the result ``{"error": "..."}`` the way a real API answers.

Episodes (one sandboxed world of several toolkits) are in ``episode``. Everything is deterministic
for a config: no wall clock, no random paths.

May import: the standard library, ``opentoollab.format``, jsonschema-rs.
"""

from __future__ import annotations

import copy
import importlib
import pickle
import inspect
import json
import re
import signal
import sys
import threading
import time
import types
import typing
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar, Iterator

MAX_RESULT_CHARS = 200_000  # a result larger than this (as JSON text) is refused, not truncated
CALL_SECONDS = 5.0  # wall time one call may take (main thread and worker threads alike)


class ToolError(Exception):
    """A tool's own failure, reported to the caller as ``{"error": message}`` (never a crash)."""


class ToolkitError(Exception):
    """Misuse of the toolkit machinery itself (unknown tool, bad config): a one-line message for the user."""


# ---------------------------------------------------------------------------------- declarations
_PY_JSON = {str: "string", int: "integer", float: "number", bool: "boolean", dict: "object", list: "array",
            type(None): "null"}


def _schema_of(annotation: Any) -> dict[str, Any]:
    """JSON Schema for a type hint: str/int/float/bool, list[X], dict, Literal[...], X | None."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if annotation in _PY_JSON:
        return {"type": _PY_JSON[annotation]}
    if origin is typing.Literal:
        values = list(args)
        return {"type": _PY_JSON[type(values[0])], "enum": values}
    if origin in (list, tuple, typing.List):
        schema: dict[str, Any] = {"type": "array"}
        if args and args[0] is not Ellipsis:
            schema["items"] = _schema_of(args[0])
        return schema
    if origin in (dict, typing.Dict):
        return {"type": "object"}
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        if len(options) == 1:
            return _schema_of(options[0])
        return {"anyOf": [_schema_of(a) for a in options]}
    if annotation is typing.Any or annotation is inspect.Parameter.empty:
        return {}
    raise ToolkitError(f"type hint {annotation!r} has no JSON-Schema mapping")


_ARG_LINE = re.compile(r"^\s{2,}(\w+)(?:\s*\([^)]*\))?:\s*(.*)$")


def parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """(description, {parameter: description}) from a Google-style docstring."""
    if not doc:
        return "", {}
    lines = inspect.cleandoc(doc).splitlines()
    summary: list[str] = []
    params: dict[str, str] = {}
    section = None
    current = None
    for line in lines:
        stripped = line.strip()
        if stripped in ("Args:", "Arguments:", "Parameters:"):
            section, current = "args", None
            continue
        if stripped in ("Returns:", "Raises:", "Example:", "Examples:"):
            section, current = "other", None
            continue
        if section is None:
            summary.append(stripped)
        elif section == "args":
            match = _ARG_LINE.match("  " + line) if not line.startswith(" ") else _ARG_LINE.match(line)
            if match and (line.startswith("    ") and not line.startswith("        ")):
                current = match.group(1)
                params[current] = match.group(2).strip()
            elif current and stripped:
                params[current] = (params[current] + " " + stripped).strip()
    description = " ".join(part for part in summary if part).strip()
    return description, params


def declare(function: Any, name: str | None = None) -> dict[str, Any]:
    """The unified-format tool declaration of one method: name, description, JSON-Schema parameters."""
    signature = inspect.signature(function)
    hints = typing.get_type_hints(function)
    description, docs = parse_docstring(function.__doc__)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for parameter in signature.parameters.values():
        if parameter.name == "self":
            continue
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            raise ToolkitError(f"{function.__qualname__}: *args/**kwargs cannot be declared")
        schema = dict(_schema_of(hints.get(parameter.name, inspect.Parameter.empty)))
        if parameter.name in docs:
            schema["description"] = docs[parameter.name]
        if parameter.default is inspect.Parameter.empty:
            required.append(parameter.name)
        elif parameter.default is not None:
            schema["default"] = parameter.default
        properties[parameter.name] = schema
    parameters: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        parameters["required"] = required
    return {"name": name or function.__name__, "description": description, "parameters": parameters}


# ---------------------------------------------------------------------------------- toolkits
class Toolkit:
    """Base class of tool environments. Public methods (not starting with ``_``) are the tools.

    Subclasses set ``name`` and ``description``, may override ``default_config`` and ``setup``
    (called once per episode with the shared root folder), and keep their state in ``self.state``
    (a JSON object) when it must be visible to ``snapshot``.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    uses_files: ClassVar[bool] = False  # True: needs the episode's folder (built from the seed tree)
    _NOT_TOOLS: ClassVar[frozenset[str]] = frozenset({"call", "snapshot", "setup", "tools", "tool_names",
                                                      "default_config", "declaration"})

    def __init__(self, config: dict[str, Any] | None = None, root: Path | None = None) -> None:
        self.config = clone(config) if config is not None else self.default_config()
        self.root = root
        self.state: dict[str, Any] = {}
        try:
            self.setup()
        except _BAD_STATE as error:  # a config of the wrong shape: one line naming the toolkit, never a traceback
            raise ToolkitError(f"bad {self.name} config: {type(error).__name__}: {str(error)[:200]}") from None

    @classmethod
    def default_config(cls) -> dict[str, Any]:
        return {}

    def setup(self) -> None:
        """Load state from ``self.config`` (and ``self.root``); called by ``__init__``."""

    def snapshot(self) -> dict[str, Any]:
        """The current state as JSON (for inspection and tests)."""
        return copy.deepcopy(self.state)

    @classmethod
    def tool_names(cls) -> list[str]:
        return list(_tool_names(cls))

    @classmethod
    def declaration(cls, tool: str) -> dict[str, Any]:
        return _declaration(cls, tool)

    @classmethod
    def tools(cls) -> list[dict[str, Any]]:
        """Declarations of every tool, in name order."""
        return [_declaration(cls, tool) for tool in cls.tool_names()]

    def call(self, tool: str, arguments: dict[str, Any]) -> Any:
        """Run one call: validated arguments, time limit, JSON result (``{"error": ...}`` on a tool failure)."""
        if tool not in _tool_names(type(self)):
            raise ToolkitError(f"toolkit {self.name!r} has no tool {tool!r}; tools: {', '.join(self.tool_names())}")
        if not isinstance(arguments, dict):
            return {"error": "arguments must be a JSON object"}
        problem = _argument_problem(type(self), tool, arguments)
        if problem:
            return {"error": problem}
        try:
            with time_limit(CALL_SECONDS):
                result = getattr(self, tool)(**clone(arguments))
        except ToolError as error:
            return {"error": str(error)}
        except CallTimeout:
            return {"error": f"{tool} took longer than {CALL_SECONDS:g} s"}
        except _BAD_CALL_STATE as error:  # state of the wrong shape (a hand-made config): the caller's problem, one line
            raise ToolkitError(f"{tool} cannot run on this {self.name} state (is the config well formed?): "
                               f"{type(error).__name__}: {str(error)[:200]}") from None
        return check_result(result)


def clone(value: Any) -> Any:
    """A deep copy of a JSON-like value (a pickle round trip: several times faster than copy.deepcopy)."""
    return pickle.loads(pickle.dumps(value, pickle.HIGHEST_PROTOCOL))


@lru_cache(maxsize=None)
def _tool_names(cls: type) -> tuple[str, ...]:
    return tuple(sorted(name for name, _member in inspect.getmembers(cls, inspect.isfunction)
                        if not name.startswith("_") and name not in cls._NOT_TOOLS))


@lru_cache(maxsize=None)
def _declaration(cls: type, tool: str) -> dict[str, Any]:
    return declare(getattr(cls, tool))


@lru_cache(maxsize=None)
def _validator(cls: type, tool: str):
    import jsonschema_rs

    return jsonschema_rs.validator_for(_declaration(cls, tool)["parameters"])


def _argument_problem(cls: type, tool: str, arguments: dict[str, Any]) -> str | None:
    declared = _declaration(cls, tool)["parameters"]["properties"]
    unknown = sorted(set(arguments) - set(declared))
    if unknown:
        return f"unexpected argument(s) for {tool}: {', '.join(unknown)}"
    for error in _validator(cls, tool).iter_errors(arguments):
        where = "/".join(str(p) for p in error.instance_path) or "arguments"
        return f"invalid argument {where}: {error.message}"
    return None


def find_by_id(items: list[dict[str, Any]], item_id: str, what: str, *, asked: str | None = None) -> dict[str, Any]:
    """The item whose ``id`` is ``item_id``; ToolError "no WHAT with id ASKED" (the id as the caller gave it) otherwise."""
    for item in items:
        if item["id"] == item_id:
            return item
    raise ToolError(f"no {what} with id {asked if asked is not None else repr(item_id)}")


def check_result(result: Any) -> Any:
    """A JSON value of bounded size, or a ToolError result."""
    try:
        text = json.dumps(result, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ToolkitError(f"tool result is not JSON: {error}") from None
    if len(text) > MAX_RESULT_CHARS:
        return {"error": f"result too large ({len(text):,} characters; limit {MAX_RESULT_CHARS:,})"}
    return result


_BAD_STATE = (TypeError, ValueError, KeyError, AttributeError, IndexError, OverflowError, RecursionError)
# at call time OverflowError is left to the toolkit (math turns it into an error result)
_BAD_CALL_STATE = (TypeError, ValueError, KeyError, AttributeError, IndexError, RecursionError)


class CallTimeout(BaseException):
    """A call ran past its time limit (a BaseException, so tool code that catches Exception cannot swallow it)."""


_DEADLINES = threading.local()  # the innermost deadline of the current worker thread


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise CallTimeout once ``seconds`` have passed, on any thread; limits nest (the tighter one wins).

    Main thread: a SIGALRM timer. Other threads (no signals there): a profile hook on the thread
    (``sys.setprofile``) that checks the deadline at every Python or C function call and return.
    Neither can stop a single long C operation (``7 ** 30000000``): callers refuse such arguments
    before the call (see ``bfcl_runtime.argument_problem``), and results are size-checked after.
    """
    if threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):
        with _alarm(seconds):
            yield
        return
    with _profile_deadline(seconds):
        yield


@contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    remaining, _interval = signal.getitimer(signal.ITIMER_REAL)
    if remaining and remaining <= seconds:  # an enclosing limit expires first: it stays in charge
        yield
        return

    def expire(_signum, _frame):
        raise CallTimeout()

    started = time.monotonic()
    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if remaining:  # give the enclosing limit back what is left of it
            signal.setitimer(signal.ITIMER_REAL, max(remaining - (time.monotonic() - started), 1e-3))


@contextmanager
def _profile_deadline(seconds: float) -> Iterator[None]:
    deadline = time.monotonic() + seconds
    outer = getattr(_DEADLINES, "value", None)
    if outer is not None and outer <= deadline:
        yield
        return
    previous = sys.getprofile()

    def guard(_frame, _event, _arg):
        if time.monotonic() > deadline:
            sys.setprofile(None)
            raise CallTimeout()

    _DEADLINES.value = deadline
    sys.setprofile(guard)
    try:
        yield
    finally:
        sys.setprofile(previous)
        _DEADLINES.value = outer


# ---------------------------------------------------------------------------------- registry
# toolkit name → (module, class). Adding an environment = one module + one line here.
REGISTRY: dict[str, tuple[str, str]] = {
    "files": ("opentoollab.tools.files", "Files"),
    "sql": ("opentoollab.tools.sql", "SQL"),
    "tables": ("opentoollab.tools.tables", "Tables"),
    "math": ("opentoollab.tools.mathstats", "MathStats"),
    "calendar": ("opentoollab.tools.calendar", "Calendar"),
    "notes": ("opentoollab.tools.notes", "Notes"),
    "tickets": ("opentoollab.tools.tickets", "Tickets"),
    "shop": ("opentoollab.tools.shop", "Shop"),
    "bfcl": ("opentoollab.tools.bfcl_toolkit", "BFCLToolkit"),
}


def toolkit_names() -> list[str]:
    return list(REGISTRY)


def get_toolkit(name: str) -> type[Toolkit]:
    """The toolkit class by name; ToolkitError naming the known ones when unknown."""
    key = name.strip().lower()
    if key not in REGISTRY:
        raise ToolkitError(f"unknown toolkit {name!r}; known: {', '.join(REGISTRY)}")
    module, cls = REGISTRY[key]
    return getattr(importlib.import_module(module), cls)
