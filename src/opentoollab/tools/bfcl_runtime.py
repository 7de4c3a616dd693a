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
neither bfcl-eval nor its heavy dependencies need to be installed. Only verified code is imported: a
wheel must have the pinned sha256 (an installed ``bfcl_eval`` the pinned version) before it goes on
``sys.path``, unless the caller passes ``trust=True`` (``--trust-runtime``), and every imported module
must come from a source that passed this check.

Every call is bounded (``call_limit``): arguments that would make a known-costly method explode
(``MathAPI.power`` with a huge result, ``square_root``/``logarithm`` with a huge precision) are refused
before the call, the call runs under ``tools.base.time_limit`` (a signal on the main thread, a
profile-hook deadline in worker threads), and a result longer than ``MAX_RESULT_CHARS`` as text is
refused. A refused call is BFCL's error text ``Error during execution: limit: …``, or
``CallLimitExceeded`` with ``strict=True`` (dataset conversion rejects the record).
"""

from __future__ import annotations

import ast
import contextvars
import copy
import importlib
import inspect
import json
import math
import os
import pickle
import sys
from pathlib import Path
from typing import Any

from ..format import fastjson
from ..format.jsonl import sha256_file
from .base import MAX_RESULT_CHARS, CallTimeout, time_limit

PINNED_PACKAGE = "bfcl-eval"
PINNED_VERSION = "2026.3.23"
PINNED_SHA256 = "3bb6dfa5f0c68ad403c9ec50b00db2bb3b4cc9b38ab1ff33f48fe30d853d3a0a"
PINNED_WHEEL = f"bfcl_eval-{PINNED_VERSION}-py3-none-any.whl"
TRUST_HINT = "pass --trust-runtime to run it anyway (recorded in the manifest)"
CALL_SECONDS = 5.0  # wall time one BFCL call may take
MAX_RESULT_DIGITS = 4000  # a numeric result longer than this many digits is refused before it is computed
MAX_PRECISION = 1000  # decimal digits of precision a MathAPI call may ask for
MAX_ARGUMENT_CHARS = 1_000_000  # total size of one call's string arguments
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


class UnverifiedRuntime(RuntimeUnavailable):
    """A bfcl_eval wheel (or installation) that is not the pinned release, and was not explicitly trusted."""


class CallSyntaxError(ValueError):
    """A call string that is not one plain call with literal arguments."""


class CallLimitExceeded(RuntimeError):
    """A call refused or stopped by a limit (time, result size, argument cost); the message says which."""


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


class _Sandbox:
    """The context manager ``sandboxed()`` returns (a class: entered once per BFCL call, so it is kept cheap)."""

    __slots__ = ("_token",)

    def __enter__(self) -> None:
        _install_hook()
        self._token = _SANDBOXED.set(True)

    def __exit__(self, *_exc: object) -> None:
        _SANDBOXED.reset(self._token)


def sandboxed() -> _Sandbox:
    """Inside this block, file writes, reads outside Python's own library, processes and sockets are refused."""
    return _Sandbox()


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
def _encode(value: Any) -> tuple[str, bool]:
    """(``bfcl_text(value)``, whether that text is ``json.dumps`` of a dict)."""
    if isinstance(value, str):
        return value, False
    if isinstance(value, dict):
        try:
            return json.dumps(value), True
        except (TypeError, ValueError):
            pass
    return str(value), False


def bfcl_text(value: Any) -> str:
    """A call result as BFCL's executor reports it: str as is, dict as JSON text, else ``str()``."""
    return _encode(value)[0]


def storable(value: Any, encoded: tuple[str, bool] | None = None) -> Any:
    """The JSON value to store for a result, chosen so that ``bfcl_text(stored) == bfcl_text(value)``.

    ``encoded``: ``_encode(value)`` when the caller has it already (the result is then encoded once)."""
    if type(value) is str or value is None:  # a JSON round trip gives them back unchanged
        return value
    text, is_json = encoded if encoded is not None else _encode(value)
    # A dict json could write, with no NaN/Infinity in it: orjson's round trip gives the value json's would
    # (what orjson would write differently, it refuses here: big ints, lone surrogates, non-str keys, subclasses).
    if is_json and "NaN" not in text and "Infinity" not in text:
        data = fastjson.dumps_bytes(value, unchecked=True)  # None where orjson refuses the value
        if data is not None:
            return fastjson.orjson.loads(data)
    try:
        plain = json.loads(json.dumps(value, ensure_ascii=False))
    except (TypeError, ValueError):
        return text
    return plain if bfcl_text(plain) == text else text


# ---------------------------------------------------------------------------------- runtime
# Sources (wheel files, installed package folders) whose code passed verification, as real paths.
_VERIFIED: dict[str, str] = {}  # path → "pinned" or "trusted"


sha256_of = sha256_file  # the name the runtimes use


def verify_wheel(wheel: str | os.PathLike, *, trust: bool = False) -> str:
    """Admit a bfcl_eval wheel for import: "pinned" (sha256 matches) or "trusted" (``trust``), else UnverifiedRuntime."""
    path = os.path.realpath(wheel)
    if path in _VERIFIED and (trust or _VERIFIED[path] == "pinned"):
        return _VERIFIED[path]
    try:
        actual = sha256_of(path)
    except OSError as exc:
        raise RuntimeUnavailable(f"cannot read the bfcl_eval wheel {path}: {exc.strerror or exc}") from None
    if actual == PINNED_SHA256:
        status = "pinned"
    elif trust:
        status = "trusted"
    else:
        raise UnverifiedRuntime(
            f"refusing to import {path}: its sha256 {actual} is not the pinned {PINNED_PACKAGE}=={PINNED_VERSION} "
            f"({PINNED_SHA256}); it is modified or another release. Download the pinned release "
            f"(`python datasets download BFCL`), or {TRUST_HINT}")
    _VERIFIED[path] = status
    return status


def _installed_origin(trust: bool) -> str:
    """Admit an installed bfcl_eval: the pinned version (or ``trust``); its folder is the verified source."""
    import importlib.metadata
    import importlib.util

    spec = importlib.util.find_spec("bfcl_eval")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeUnavailable("no bfcl_eval wheel found and bfcl_eval is not installed")
    folder = os.path.realpath(list(spec.submodule_search_locations)[0])
    try:
        version = importlib.metadata.version(PINNED_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        version = None
    if version != PINNED_VERSION and not trust:
        raise UnverifiedRuntime(f"refusing to import the installed bfcl_eval ({folder}): version {version} is not "
                                f"the pinned {PINNED_VERSION}; {TRUST_HINT}")
    _VERIFIED.setdefault(folder, "pinned" if version == PINNED_VERSION else "trusted")
    return folder


def _source_of(module: Any) -> str | None:
    """The verified source (wheel or folder) a module was imported from, or None."""
    origin = os.path.realpath(getattr(module, "__file__", None) or "")
    for source in _VERIFIED:
        if origin == source or origin.startswith(source + os.sep):
            return source
    return None


class Runtime:
    """Import access to BFCL's environment classes from a verified wheel file or an installed bfcl_eval.

    ``trust``: allow a wheel that is not the pinned release (``--trust-runtime``); ``status`` then says
    "trusted" instead of "pinned". Verification happens before the first import (``verify``)."""

    def __init__(self, wheel: str | Path | None = None, *, trust: bool = False) -> None:
        self.wheel = Path(wheel).resolve() if wheel is not None else None
        self.trust = trust
        self.status: str | None = None
        self._source: str | None = None
        self._classes: dict[str, type] = {}
        self._signatures: dict[tuple[str, str], list[str]] = {}
        self._methods: dict[str, list[str]] = {}
        _install_hook()

    def verify(self) -> str:
        """Check the code before it runs: "pinned" or "trusted"; UnverifiedRuntime (a RuntimeUnavailable) otherwise."""
        if self.status is None:
            if self.wheel is not None:
                status = verify_wheel(self.wheel, trust=self.trust)
                path = str(self.wheel)
                # first on the path even when already on it: a worker process inherits its parent's path, which
                # may list another bfcl_eval copy (an earlier run's wheel) ahead of this one
                if path in sys.path:
                    sys.path.remove(path)
                sys.path.insert(0, path)
                self._source = os.path.realpath(path)
            else:
                self._source = _installed_origin(self.trust)
                status = _VERIFIED[self._source]
            if self._source not in _IMPORT_ROOTS:
                _IMPORT_ROOTS.append(self._source)
            self.status = status
        return self.status

    def cls(self, class_name: str) -> type:
        if class_name not in self._classes:
            module_name = CLASS_MODULES.get(class_name)
            if module_name is None:
                raise RuntimeUnavailable(f"BFCL class {class_name!r} is not supported for execution")
            self.verify()
            try:
                module = importlib.import_module(f"{PACKAGE_PREFIX}.{module_name}")
            except ImportError as exc:
                raise RuntimeUnavailable(f"cannot import BFCL's {class_name} ({exc}); download BFCL first "
                                         "or install its dependency") from None
            source = _source_of(module)
            if source is None or (_VERIFIED[source] == "trusted" and not self.trust):
                raise UnverifiedRuntime(f"refusing BFCL's {class_name}: it was loaded from "
                                        f"{getattr(module, '__file__', '?')}, which is not a verified bfcl_eval")
            self._classes[class_name] = getattr(module, class_name)
        return self._classes[class_name]

    def session(self, initial_config: dict, involved_classes: list[str], *, long_context: bool = False) -> "Session":
        return Session(self, initial_config, involved_classes, long_context)

    def public_methods(self, class_name: str, instance: Any) -> list[str]:
        """Names of an instance's public methods (``inspect.getmembers``): they come from its class, so they are
        looked up once per class, unless the instance's own attributes hold methods."""
        own = getattr(instance, "__dict__", None)
        if own is None or any(inspect.ismethod(value) for value in own.values()):
            return _public_methods(instance)
        if class_name not in self._methods:
            self._methods[class_name] = _public_methods(instance)
        return self._methods[class_name]

    def parameter_names(self, class_name: str, method: str) -> list[str]:
        key = (class_name, method)
        if key not in self._signatures:
            function = getattr(self.cls(class_name), method)
            self._signatures[key] = [p.name for p in list(inspect.signature(function).parameters.values())[1:]]
        return self._signatures[key]


def _public_methods(instance: Any) -> list[str]:
    return [name for name, _member in inspect.getmembers(instance, predicate=inspect.ismethod) if not name.startswith("_")]


# ---------------------------------------------------------------------------------- limits
def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _power_digits(base: Any, exponent: Any) -> float:
    """Decimal digits of ``base ** exponent`` (0 when it is small or a float that overflows quickly)."""
    b, e = _number(base), _number(exponent)
    if b is None or e is None or not isinstance(base, int) or not isinstance(exponent, int) or e <= 0 or abs(b) <= 1:
        return 0.0
    return e * math.log10(abs(b))


def argument_problem(name: str, arguments: dict[str, Any]) -> str | None:
    """Why a call would cost too much to run (checked before it runs), or None."""
    size = 0
    stack = list(arguments.values())
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            size += len(value)
        elif isinstance(value, (list, tuple)):
            stack.extend(value)
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        if size > MAX_ARGUMENT_CHARS:
            return f"arguments of {name} exceed {MAX_ARGUMENT_CHARS:,} characters"
    if name == "power" and _power_digits(arguments.get("base"), arguments.get("exponent")) > MAX_RESULT_DIGITS:
        return f"power({arguments.get('base')!r}, {arguments.get('exponent')!r}) would have more than {MAX_RESULT_DIGITS:,} digits"
    precision = arguments.get("precision")
    if name in ("square_root", "logarithm") and _number(precision) is not None and precision > MAX_PRECISION:
        return f"{name} precision {precision!r} exceeds {MAX_PRECISION:,} digits"
    return None


def result_problem(value: Any) -> str | None:
    """Why a result is too large to keep (as BFCL's text), or None."""
    return _checked(value)[1]


def _checked(value: Any) -> tuple[tuple[str, bool] | None, str | None]:
    """(``_encode(value)``, None), or (None, why the result cannot be kept)."""
    try:
        encoded = _encode(value)
    except (ValueError, RecursionError) as exc:  # an int beyond Python's str digit limit, a cyclic/deep value
        return None, f"result cannot be written as text ({type(exc).__name__}: {str(exc)[:100]})"
    if len(encoded[0]) > MAX_RESULT_CHARS:
        return None, f"result too large ({len(encoded[0]):,} characters; limit {MAX_RESULT_CHARS:,})"
    return encoded, None


_SCALARS = (str, int, float, bool, type(None))


def scalars(values: Any) -> bool:
    """Whether every value is a str, int, float, bool or None (immutable: shared or copied, the same)."""
    return all(type(value) in _SCALARS for value in values)


def _copy_config(config: Any) -> Any:
    """``copy.deepcopy`` of an ``initial_config`` part (parsed JSON): pickle's round trip gives the same, faster."""
    try:
        return pickle.loads(pickle.dumps(config, pickle.HIGHEST_PROTOCOL))
    except Exception:  # noqa: BLE001 - anything pickle cannot copy is left to deepcopy
        return copy.deepcopy(config)


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
                    instance._load_scenario(_copy_config(initial_config.get(class_name, {})), long_context=long_context)
            self.instances[class_name] = instance
            for name in runtime.public_methods(class_name, instance):
                self.owner[name] = class_name

    def positional_names(self, name: str) -> list[str]:
        """Parameter names of a public method, for mapping positional arguments."""
        return self.runtime.parameter_names(self.owner[name], name) if name in self.owner else []

    def call(self, name: str, args: list[Any] | None = None, kwargs: dict[str, Any] | None = None, *,
             strict: bool = False) -> Any:
        """Run one call; returns the method's result, or BFCL's error text when it fails.

        A call past a limit (cost of its arguments, time, size of its result) is the error text
        ``Error during execution: limit: …``, or raises CallLimitExceeded when ``strict``."""
        return self._run(name, args, kwargs, strict)[0]

    def call_stored(self, name: str, args: list[Any] | None = None, kwargs: dict[str, Any] | None = None, *,
                    strict: bool = False) -> Any:
        """``storable(call(…))``, with the result encoded once."""
        result, encoded = self._run(name, args, kwargs, strict)
        return storable(result, encoded)

    def _run(self, name: str, args: list[Any] | None, kwargs: dict[str, Any] | None,
             strict: bool) -> tuple[Any, tuple[str, bool] | None]:
        """(result, its ``_encode``) or (BFCL's error text, None)."""
        if name not in self.owner:
            return f"Error during execution: name '{name}' is not defined", None
        method = getattr(self.instances[self.owner[name]], name)
        args, kwargs = list(args or []), dict(kwargs or {})
        named = {**dict(zip(self.positional_names(name), args)), **kwargs}
        problem = argument_problem(name, named)
        if problem is None:
            # Methods may mutate their arguments (TwitterAPI.mention extends its list), and callers keep
            # the arguments as the recorded call: hand the method its own copies (scalars need none).
            if not (scalars(args) and scalars(kwargs.values())):
                args, kwargs = copy.deepcopy(args), copy.deepcopy(kwargs)
            import decimal  # on the first call, not at import: converting single-turn data never needs it

            try:
                # decimal.localcontext: BFCL's square_root sets the thread's global decimal precision
                with time_limit(CALL_SECONDS), sandboxed(), decimal.localcontext():
                    result = method(*args, **kwargs)
            except CallTimeout:
                problem = f"{name} took longer than {CALL_SECONDS:g} s"
            except Exception as exc:  # BFCL reports a failing call as text, and so do we
                return f"Error during execution: {exc}", None
            else:
                encoded, problem = _checked(result)
                if problem is None:
                    return result, encoded
        if strict:
            raise CallLimitExceeded(problem)
        return f"Error during execution: limit: {problem}", None

    def call_text(self, text: str) -> Any:
        """Parse and run one call string (``ast``, literals only)."""
        try:
            name, args, kwargs = parse_call(text)
        except CallSyntaxError as exc:
            return f"Error during execution: {exc}"
        return self.call(name, args, kwargs)
