"""BFCL's own multi-turn environments (GorillaFileSystem, MathAPI, ...) as an optional toolkit.

The classes come from the pinned ``bfcl-eval`` wheel through the verified runtime
(``bfcl_runtime``: literal arguments only, public methods only, sandboxed execution). Declarations
are BFCL's own function docs from the same wheel (``bfcl_eval/data/multi_turn_func_doc``) with
JSON-Schema type names (BFCL's originals kept in ``x-original-type``), so a model sees exactly the
tools BFCL shows. Results are BFCL's own results (as stored by BFCL's executor); a call that raises
inside a BFCL class becomes ``{"error": "Error during execution: ..."}``.

Config (BFCL's test-entry format)::

    {"classes": ["GorillaFileSystem", "MathAPI"],            # BFCL's involved_classes
     "initial_config": {"GorillaFileSystem": {"root": ...}},  # BFCL's initial_config
     "excluded_function": ["rm"],                              # optional, as in BFCL entries
     "long_context": false}                                    # optional

The wheel is found through ``$OPENTOOLLAB_BFCL_WHEEL``, an installed ``bfcl_eval``, the data dir's
``downloaded/BFCL/`` (``$OPENTOOLLAB_DATA_DIR`` or ``./datasets``) or ``.cache/wheels/``; without
it, creating the toolkit is a ``ToolkitError`` telling the user to run ``python datasets download BFCL``.

May import: the standard library, ``opentoollab.format``, ``opentoollab.tools.base`` and
``opentoollab.tools.bfcl_runtime``, jsonschema-rs.
"""

from __future__ import annotations

import copy
import functools
import importlib.resources
import importlib.util
import json
import os
from pathlib import Path
from typing import Any, Callable, ClassVar

from ..format.schema_types import normalize_schema
from .base import CALL_SECONDS, CallTimeout, Toolkit, ToolkitError, check_result, time_limit
from .bfcl_runtime import CLASS_MODULES, Runtime, RuntimeUnavailable, storable

HINT = ("BFCL's environment classes are not available: run `python datasets download BFCL` "
        "(or set OPENTOOLLAB_BFCL_WHEEL to a bfcl_eval wheel)")
FUNC_DOC_FILES = {
    "GorillaFileSystem": "gorilla_file_system.json", "MathAPI": "math_api.json", "MessageAPI": "message_api.json",
    "TwitterAPI": "posting_api.json", "TicketAPI": "ticket_api.json", "TradingBot": "trading_bot.json",
    "TravelAPI": "travel_booking.json", "VehicleControlAPI": "vehicle_control.json",
}
ERROR_PREFIX = "Error during execution: "
DEFAULT_CONFIG: dict[str, Any] = {
    "classes": ["GorillaFileSystem"],
    "initial_config": {"GorillaFileSystem": {"root": {"alex": {"type": "directory", "contents": {
        "notes.txt": {"type": "file", "content": "Buy milk\nCall Sam at 5\n"},
        "projects": {"type": "directory", "contents": {
            "report.md": {"type": "file", "content": "# Q3 report\nRevenue grew 12%.\n"}}},
    }}}}},
}


# ---------------------------------------------------------------------------------- runtime
def find_wheel() -> Path | None:
    """The bfcl_eval wheel to load BFCL's classes from (None: none found)."""
    explicit = os.environ.get("OPENTOOLLAB_BFCL_WHEEL")
    if explicit and Path(explicit).is_file():
        return Path(explicit)
    data_dir = Path(os.environ.get("OPENTOOLLAB_DATA_DIR") or "datasets")
    folders = [data_dir / "downloaded" / "BFCL", data_dir / "downloaded" / "BFCL" / "runtime",
               Path(".cache") / "wheels", Path(__file__).resolve().parents[3] / ".cache" / "wheels"]
    for folder in folders:
        wheels = sorted(folder.glob("bfcl_eval-*.whl")) if folder.is_dir() else []
        if wheels:
            return wheels[-1]
    return None


@functools.lru_cache(maxsize=1)
def _runtime_cached() -> Runtime:
    wheel = find_wheel()
    if wheel is None and importlib.util.find_spec("bfcl_eval") is None:
        raise RuntimeUnavailable("no bfcl_eval wheel found")
    return Runtime(wheel)


def runtime() -> Runtime:
    """The process-wide BFCL runtime; ToolkitError with a one-line hint when BFCL is not available."""
    try:
        return _runtime_cached()
    except RuntimeUnavailable as exc:  # say why (no wheel, or a wheel that is not the pinned one)
        raise ToolkitError(f"{exc}; {HINT}" if str(exc) else HINT) from None


@functools.lru_cache(maxsize=None)
def function_docs(class_name: str) -> tuple[dict[str, Any], ...]:
    """BFCL's function docs of one class, read from the verified wheel (or installed bfcl_eval)."""
    try:
        runtime().verify()  # puts the verified wheel on the import path before its data is read
    except RuntimeUnavailable as exc:
        raise ToolkitError(f"{exc}; {HINT}" if str(exc) else HINT) from None
    try:
        text = (importlib.resources.files("bfcl_eval") / "data" / "multi_turn_func_doc"
                / FUNC_DOC_FILES[class_name]).read_text("utf-8")
    except (ModuleNotFoundError, FileNotFoundError, OSError):
        raise ToolkitError(HINT) from None
    return tuple(json.loads(line) for line in text.splitlines() if line.strip())


def convert_doc(doc: dict[str, Any]) -> dict[str, Any]:
    """A BFCL function doc → a tool declaration (JSON Schema types; BFCL's names kept in x-original-type)."""
    parameters = normalize_schema(doc.get("parameters") or {"type": "dict", "properties": {}}, any_as="string")
    tool = {"name": doc["name"], "description": doc.get("description", ""), "parameters": parameters}
    response = doc.get("response")
    if isinstance(response, dict) and isinstance(response.get("properties"), dict):
        tool["response"] = {field: normalize_schema({"description": spec.get("description", ""), **spec}, any_as="string")
                            for field, spec in response["properties"].items() if isinstance(spec, dict)}
    return tool


@functools.lru_cache(maxsize=None)
def _declarations(class_name: str) -> dict[str, dict[str, Any]]:
    return {doc["name"]: convert_doc(doc) for doc in function_docs(class_name)}


@functools.lru_cache(maxsize=None)
def _validator(class_name: str, tool: str):
    import jsonschema_rs

    return jsonschema_rs.validator_for(_declarations(class_name)[tool]["parameters"])


def _check_classes(classes: Any) -> list[str]:
    if not isinstance(classes, list) or not classes or not all(isinstance(c, str) for c in classes):
        raise ToolkitError(f"bfcl config needs 'classes': a non-empty list of {', '.join(CLASS_MODULES)}")
    unknown = [c for c in classes if c not in CLASS_MODULES]
    if unknown:
        raise ToolkitError(f"unknown BFCL classes {unknown}; known: {', '.join(CLASS_MODULES)}")
    return list(dict.fromkeys(classes))


def _owners(classes: tuple[str, ...], excluded: tuple[str, ...]) -> dict[str, str]:
    """tool name → class providing it (later classes win, as in BFCL), without excluded functions."""
    owner: dict[str, str] = {}
    for class_name in classes:
        for name in _declarations(class_name):
            if name not in excluded:
                owner[name] = class_name
    return owner


class _ClassOrInstance:
    """A method usable on the class (default config) and on an instance (its own config)."""

    def __init__(self, function: Callable[..., Any]) -> None:
        self.function = function
        functools.update_wrapper(self, function)  # type: ignore[arg-type]

    def __get__(self, instance: Any, owner: type) -> Callable[..., Any]:
        return functools.partial(self.function, owner, instance)


# ---------------------------------------------------------------------------------- toolkit
class BFCLToolkit(Toolkit):
    """BFCL's multi-turn environment classes, run through the verified runtime (optional: needs the wheel)."""

    name: ClassVar[str] = "bfcl"
    description: ClassVar[str] = ("BFCL's own multi-turn environments (file system, math, messaging, Twitter, "
                                  "tickets, trading, travel, vehicle control), with BFCL's declarations and results.")

    @classmethod
    def default_config(cls) -> dict[str, Any]:
        return copy.deepcopy(DEFAULT_CONFIG)

    def setup(self) -> None:
        config = self.config
        if not isinstance(config, dict):
            raise ToolkitError("bfcl config must be a JSON object with 'classes' and 'initial_config'")
        classes = _check_classes(config.get("classes"))
        initial = config.get("initial_config") or {}
        if not isinstance(initial, dict):
            raise ToolkitError("bfcl config 'initial_config' must be an object (BFCL's initial_config)")
        excluded = config.get("excluded_function") or []
        self._owner = _owners(tuple(classes), tuple(excluded))
        try:
            self._session = runtime().session(initial, classes, long_context=bool(config.get("long_context")))
        except RuntimeUnavailable as exc:
            raise ToolkitError(f"{exc}; {HINT}" if str(exc) else HINT) from None
        self.state = {"classes": classes, "calls": []}

    # ------------------------------------------------------------------ declarations
    @staticmethod
    def _owner_map(cls: type, self: "BFCLToolkit | None") -> dict[str, str]:
        if self is not None:
            return self._owner
        config = cls.default_config()
        return _owners(tuple(_check_classes(config["classes"])), tuple(config.get("excluded_function") or []))

    @_ClassOrInstance
    def tool_names(cls, self=None) -> list[str]:  # noqa: N805 (class or instance)
        """Names of the tools of the configured classes (the default config's on the class)."""
        return sorted(BFCLToolkit._owner_map(cls, self))

    @_ClassOrInstance
    def declaration(cls, self, tool: str) -> dict[str, Any]:  # noqa: N805
        owner = BFCLToolkit._owner_map(cls, self)
        if tool not in owner:
            raise ToolkitError(f"toolkit 'bfcl' has no tool {tool!r} with these classes")
        return copy.deepcopy(_declarations(owner[tool])[tool])

    @_ClassOrInstance
    def tools(cls, self=None) -> list[dict[str, Any]]:  # noqa: N805
        """BFCL's declarations of every tool, in name order."""
        owner = BFCLToolkit._owner_map(cls, self)
        return [copy.deepcopy(_declarations(owner[name])[name]) for name in sorted(owner)]

    # ------------------------------------------------------------------ calls
    def call(self, tool: str, arguments: dict[str, Any]) -> Any:
        """Run one BFCL call: validated arguments, time limit, BFCL's own result."""
        owner = self._owner.get(tool)
        if owner is None:
            raise ToolkitError(f"toolkit 'bfcl' has no tool {tool!r}; tools: {', '.join(sorted(self._owner))}")
        if not isinstance(arguments, dict):
            return {"error": "arguments must be a JSON object"}
        declared = _declarations(owner)[tool]["parameters"].get("properties", {})
        unknown = sorted(set(arguments) - set(declared))
        if unknown:
            return {"error": f"unexpected argument(s) for {tool}: {', '.join(unknown)}"}
        for error in _validator(owner, tool).iter_errors(arguments):
            where = "/".join(str(p) for p in error.instance_path) or "arguments"
            return {"error": f"invalid argument {where}: {error.message}"}
        self.state["calls"].append({"name": tool, "arguments": copy.deepcopy(arguments)})
        try:
            with time_limit(CALL_SECONDS):
                result = self._session.call(tool, [], arguments)
        except CallTimeout:
            return {"error": f"{tool} took longer than {CALL_SECONDS:g} s"}
        if isinstance(result, str) and result.startswith(ERROR_PREFIX):
            return {"error": result}
        return check_result(storable(result))
