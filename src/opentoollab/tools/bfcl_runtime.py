"""Executing BFCL multi-turn calls in BFCL's own environment classes, safely.

BFCL's executor builds a Python string per call and ``eval``s it. We never do that. Instead:

1. a call is parsed with ``ast`` and must be one call of a bare name whose arguments are literals
   (``ast.literal_eval`` per argument): no attribute access, no nested calls, no names;
2. the name is looked up in a table of the *public* methods of the involved BFCL classes (the same
   mapping BFCL builds); anything else is an error result, as in BFCL;
3. the classes simulate their world in memory (``GorillaFileSystem`` is a dict tree), and while a
   call runs, an audit hook (``sys.addaudithook``) refuses opening files, starting processes,
   network connections and file-system changes, so even a buggy or hostile class body cannot touch
   the user's machine.

The classes are imported from the pinned ``bfcl-eval`` wheel itself (a zip on ``sys.path``), so
neither bfcl-eval nor its heavy dependencies need to be installed.
"""

from __future__ import annotations

import ast
import contextlib
import contextvars
import copy
import importlib
import inspect
import json
import os
import sys
from pathlib import Path
from typing import Any

PACKAGE_PREFIX = "bfcl_eval.eval_checker.multi_turn_eval.func_source_code"
CLASS_MODULES = {
    "GorillaFileSystem": "gorilla_file_system",
    "MathAPI": "math_api",
    "MessageAPI": "message_api",
    "TwitterAPI": "posting_api",
    "TicketAPI": "ticket_api",
    "TradingBot": "trading_bot",
    "TravelAPI": "travel_booking",
    "VehicleControlAPI": "vehicle_control",
}
STATELESS_CLASSES = {"MathAPI"}


class RuntimeUnavailable(Exception):
    """BFCL's environment classes cannot be imported (no wheel, missing dependency)."""


class CallSyntaxError(ValueError):
    """A call string that is not one plain call with literal arguments."""


# ---------------------------------------------------------------------------------- sandboxing
_SANDBOXED = contextvars.ContextVar("opentoollab_bfcl_sandbox", default=False)
_BLOCKED_EVENTS = {
    "subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty",
    "os.kill", "os.killpg", "pty.spawn", "socket.connect", "socket.bind", "socket.getaddrinfo", "socket.sendto",
    "os.remove", "os.unlink", "os.rename", "os.rmdir", "os.mkdir", "os.chmod", "os.chown", "os.truncate",
    "os.link", "os.symlink", "os.utime", "os.chdir", "shutil.rmtree", "shutil.copyfile", "shutil.move",
    "urllib.Request", "ctypes.dlopen", "webbrowser.open", "os.startfile",
}
_hook_installed = False


class SandboxViolation(RuntimeError):
    pass


# Reading Python's own library and the wheel stays allowed: the standard library imports modules
# lazily (datetime.strptime imports _strptime on first use).
_IMPORT_ROOTS: list[str] = []


def _readable(path: object, mode: object, flags: object) -> bool:
    if not isinstance(path, str) or not isinstance(mode, (str, type(None))):
        return False
    if mode is not None and any(c in mode for c in "wax+"):
        return False
    if isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND):
        return False
    real = os.path.realpath(path)
    return any(real == root or real.startswith(root + os.sep) for root in _IMPORT_ROOTS)


def _audit(event: str, args: tuple) -> None:
    if not _SANDBOXED.get():
        return
    if event in _BLOCKED_EVENTS:
        raise SandboxViolation(f"blocked during BFCL execution: {event}")
    if event == "open" and not _readable(*(tuple(args) + (None, None, None))[:3]):
        raise SandboxViolation(f"blocked during BFCL execution: open({args[0]!r})")


@contextlib.contextmanager
def sandboxed():
    """Inside this block, file writes, reads outside Python's own library, processes and sockets are refused."""
    _install_hook()
    token = _SANDBOXED.set(True)
    try:
        yield
    finally:
        _SANDBOXED.reset(token)


def _install_hook() -> None:
    global _hook_installed
    if not _hook_installed:
        import sysconfig

        roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, *sysconfig.get_paths().values()}
        _IMPORT_ROOTS.extend(sorted({os.path.realpath(r) for r in roots if r}))
        sys.addaudithook(_audit)
        _hook_installed = True


# ---------------------------------------------------------------------------------- parsing
def parse_call(text: str) -> tuple[str, list[Any], dict[str, Any]]:
    """``name(arg, key=value)`` → (name, args, kwargs), literals only; CallSyntaxError otherwise."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise CallSyntaxError(f"not a call: {text!r} ({exc.msg})") from None
    node = tree.body
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
        raise CallSyntaxError(f"not a plain function call: {text!r}")
    try:
        args = [ast.literal_eval(arg) for arg in node.args]
        kwargs = {kw.arg: ast.literal_eval(kw.value) for kw in node.keywords if kw.arg is not None}
    except (ValueError, SyntaxError, TypeError) as exc:
        raise CallSyntaxError(f"arguments of {text!r} are not literals ({exc})") from None
    if any(kw.arg is None for kw in node.keywords) or any(isinstance(a, ast.Starred) for a in node.args):
        raise CallSyntaxError(f"*args/**kwargs are not allowed: {text!r}")
    return node.func.id, args, kwargs


# ---------------------------------------------------------------------------------- results
def bfcl_text(value: Any) -> str:
    """A call result as BFCL's executor reports it: str as is, dict as JSON text, else ``str()``."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        try:
            return json.dumps(value)
        except (TypeError, ValueError):
            return str(value)
    return str(value)


def storable(value: Any) -> Any:
    """The JSON value to store for a result, chosen so that ``bfcl_text(stored) == bfcl_text(value)``."""
    text = bfcl_text(value)
    try:
        plain = json.loads(json.dumps(value, ensure_ascii=False))
    except (TypeError, ValueError):
        return text
    return plain if bfcl_text(plain) == text else text


# ---------------------------------------------------------------------------------- runtime
class Runtime:
    """Import access to BFCL's environment classes from a wheel file or an installed bfcl_eval."""

    def __init__(self, wheel: str | Path | None = None) -> None:
        if wheel is not None:
            path = str(Path(wheel).resolve())
            if path not in sys.path:
                sys.path.insert(0, path)
            _IMPORT_ROOTS.append(os.path.realpath(path))
        self._classes: dict[str, type] = {}
        self._signatures: dict[tuple[str, str], list[str]] = {}
        _install_hook()

    def cls(self, class_name: str) -> type:
        if class_name not in self._classes:
            module_name = CLASS_MODULES.get(class_name)
            if module_name is None:
                raise RuntimeUnavailable(f"BFCL class {class_name!r} is not supported for execution")
            try:
                module = importlib.import_module(f"{PACKAGE_PREFIX}.{module_name}")
            except ImportError as exc:
                raise RuntimeUnavailable(f"cannot import BFCL's {class_name} ({exc}); download BFCL first "
                                         "or install its dependency") from None
            self._classes[class_name] = getattr(module, class_name)
        return self._classes[class_name]

    def session(self, initial_config: dict, involved_classes: list[str], *, long_context: bool = False) -> "Session":
        return Session(self, initial_config, involved_classes, long_context)

    def parameter_names(self, class_name: str, method: str) -> list[str]:
        key = (class_name, method)
        if key not in self._signatures:
            function = getattr(self.cls(class_name), method)
            self._signatures[key] = [p.name for p in list(inspect.signature(function).parameters.values())[1:]]
        return self._signatures[key]


class Session:
    """The live instances of one BFCL test entry; state carries over from call to call and turn to turn."""

    def __init__(self, runtime: Runtime, initial_config: dict, involved_classes: list[str], long_context: bool) -> None:
        self.runtime = runtime
        self.instances: dict[str, Any] = {}
        self.owner: dict[str, str] = {}  # method name → class name (later classes win, as in BFCL)
        for class_name in involved_classes:
            cls = runtime.cls(class_name)
            instance = cls()
            if class_name not in STATELESS_CLASSES:
                with sandboxed():
                    instance._load_scenario(copy.deepcopy(initial_config.get(class_name, {})), long_context=long_context)
            self.instances[class_name] = instance
            for name, member in inspect.getmembers(instance, predicate=inspect.ismethod):
                if not name.startswith("_"):
                    self.owner[name] = class_name

    def positional_names(self, name: str) -> list[str]:
        """Parameter names of a public method, for mapping positional arguments."""
        return self.runtime.parameter_names(self.owner[name], name) if name in self.owner else []

    def call(self, name: str, args: list[Any] | None = None, kwargs: dict[str, Any] | None = None) -> Any:
        """Run one call; returns the method's result, or BFCL's error text when it fails."""
        if name not in self.owner:
            return f"Error during execution: name '{name}' is not defined"
        method = getattr(self.instances[self.owner[name]], name)
        # Methods may mutate their arguments (TwitterAPI.mention extends its list), and callers keep
        # the arguments as the recorded call: hand the method its own copies.
        args, kwargs = copy.deepcopy(args or []), copy.deepcopy(kwargs or {})
        try:
            with sandboxed():
                return method(*args, **kwargs)
        except Exception as exc:  # BFCL reports a failing call as text, and so do we
            return f"Error during execution: {exc}"

    def call_text(self, text: str) -> Any:
        """Parse and run one call string (``ast``, literals only)."""
        try:
            name, args, kwargs = parse_call(text)
        except CallSyntaxError as exc:
            return f"Error during execution: {exc}"
        return self.call(name, args, kwargs)
