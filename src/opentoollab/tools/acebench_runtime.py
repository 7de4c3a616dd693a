"""ACEBench's agent scenario classes (phone platform, food, messages, reminders, travel), loaded verified and run safely.

ACEBench's inference (``model_inference/multi_{turn,step}/multi_*_utils.execute_agent_func_call``) imports the
scenario module of every involved class, makes one instance per class (``_load_scenario`` with the class's
initial config, then with the ``BaseApi`` config), writes each call as a string and ``eval``s it on *every*
instance whose class has that public method (the phone classes inherit ``BaseApi``'s, so ``turn_on_wifi()``
runs on each of them); the last result is the call's result. We do the same without ``eval``:

* only files of the download whose sha256 is the pinned one (the adapter's table, passed in by the caller) are
  read and compiled — a changed file is refused (``UnverifiedRuntime``) unless ``trust`` (``--trust-runtime``);
  modules are compiled from those bytes into private module objects (nothing is added to ``sys.modules``), and
  their ``from model_inference.… import …`` lines resolve to other verified files of the same download;
* building the instances and every method call run under ``bfcl_runtime.sandboxed()`` (no file writes, reads
  outside Python's library, processes or sockets) and ``tools.base.time_limit``; arguments larger than
  ``bfcl_runtime``'s bound are refused before the call and results larger than ``MAX_RESULT_CHARS`` after it.

``AceWorld.execute`` takes calls already decoded from the model's text (``name``, keyword arguments, or the
error text ACEBench's ``eval`` would raise for that call) and reproduces the official result list, including
its quirks: in ``multi_step`` a failing call gives ``Error during execution: <error>`` and the batch goes on;
in ``multi_turn`` the whole batch gives ACEBench's unformatted text ``Error during execution: {str(e)}`` (the
official code forgot the ``f``) and the classes are not recorded for that step; a name no class has repeats the
batch's previous result (ACEBench's ``func_call_result`` is not reset) or fails when there is none.
"""

from __future__ import annotations

import ast
import builtins
import copy
import hashlib
import inspect
import json
import threading
import types
from pathlib import Path
from typing import Any

from .base import CallTimeout, time_limit
from .bfcl_runtime import RuntimeUnavailable, UnverifiedRuntime, argument_problem, bfcl_text, result_problem, sandboxed

CALL_SECONDS = 5.0  # wall time one scenario call (or building one instance) may take
PACKAGE = "model_inference"
TURN_ERROR = "Error during execution: {str(e)}"  # multi_turn's literal error text (sic: not an f-string)
UNSET = object()


def _unbound_message() -> str:
    """The text this Python gives for ACEBench's unset ``func_call_result`` (it differs between versions)."""
    def probe() -> Any:
        if False:  # noqa: SIM108 - the variable must be local and never bound
            func_call_result = None
        return func_call_result  # noqa: F821

    try:
        probe()
    except UnboundLocalError as exc:
        return str(exc)
    return "local variable 'func_call_result' referenced before assignment"


UNBOUND = _unbound_message()


class AceRuntime:
    """Verified access to one ACEBench download (``root``): its files by relative path, its modules by dotted name.

    ``pins``: relative path → sha256 at the pinned commit (``datasets.sources.acebench.SHA256``)."""

    def __init__(self, root: str | Path, pins: dict[str, str], *, trust: bool = False) -> None:
        self.root, self.pins, self.trust = Path(root), dict(pins), trust
        self.status = "pinned"
        self._modules: dict[str, types.ModuleType] = {}
        self._lock = threading.RLock()

    def read(self, rel: str) -> bytes:
        """A pinned file's bytes after its checksum passed (RuntimeUnavailable / UnverifiedRuntime otherwise)."""
        expected = self.pins.get(rel)
        if expected is None and not self.trust:
            raise UnverifiedRuntime(f"refusing ACEBench's {rel}: it is not among the pinned files")
        try:
            data = (self.root / rel).read_bytes()
        except OSError:
            raise RuntimeUnavailable(f"{self.root} lacks ACEBench's {rel}: download it again "
                                     "(`python datasets download ACEBench`)") from None
        actual = hashlib.sha256(data).hexdigest()
        if actual != expected:
            if not self.trust:
                raise UnverifiedRuntime(f"refusing ACEBench's {rel}: its sha256 {actual} is not the pinned {expected} "
                                        "(the file was changed); download ACEBench again, or pass --trust-runtime")
            self.status = "trusted"
        return data

    def module(self, dotted: str) -> types.ModuleType:
        """ACEBench's module ``model_inference.…`` compiled from its verified file (once per runtime)."""
        with self._lock:
            if dotted not in self._modules:
                if not dotted.startswith(PACKAGE + "."):
                    raise RuntimeUnavailable(f"not an ACEBench module: {dotted}")
                rel = dotted.replace(".", "/") + ".py"
                tree = ast.parse(self.read(rel), str(self.root / rel))
                for node in ast.walk(tree):  # its ACEBench imports first: file reads are refused inside the sandbox
                    if isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").startswith(PACKAGE + "."):
                        self.module(node.module)
                code = compile(tree, str(self.root / rel), "exec")
                module = types.ModuleType(dotted)
                module.__dict__["__builtins__"] = {**vars(builtins), "__import__": self._importer()}
                module.__file__ = str(self.root / rel)
                with sandboxed(), time_limit(CALL_SECONDS):
                    exec(code, module.__dict__)  # noqa: S102 - checksum-verified ACEBench source, sandboxed
                self._modules[dotted] = module
            return self._modules[dotted]

    def _importer(self) -> Any:
        real = builtins.__import__

        def load(name: str, globals: Any = None, locals: Any = None, fromlist: Any = (), level: int = 0) -> Any:
            if level == 0 and (name == PACKAGE or name.startswith(PACKAGE + ".")):
                if not fromlist:
                    raise ImportError(f"only `from {PACKAGE}.… import …` is supported for ACEBench code: {name}")
                return self.module(name)
            return real(name, globals, locals, fromlist, level)

        return load

    def cls(self, dotted: str, class_name: str) -> type:
        value = getattr(self.module(dotted), class_name, None)
        if not isinstance(value, type):
            raise RuntimeUnavailable(f"ACEBench's {dotted} defines no class {class_name}")
        return value


class AceWorld:
    """The scenario instances of one ACEBench agent item, built at the first execution as ACEBench builds them.

    ``modules``: class name → dotted module (``CLASS_FILE_PATH_MAPPING_<LANG>`` of the mode's utils file);
    ``mode``: "turn" or "step" (their error handling differs, see the module docstring)."""

    def __init__(self, runtime: AceRuntime, modules: dict[str, str], mode: str, initial_config: dict,
                 involved_classes: list[str]) -> None:
        self.runtime, self.modules, self.mode = runtime, modules, mode
        self.initial_config = initial_config if isinstance(initial_config, dict) else {}
        self.involved = [str(name) for name in involved_classes]
        self.instances: dict[str, Any] | None = None
        self.owners: dict[str, list[str]] = {}  # method → classes holding it, in involved order
        self.recorded = False  # an execution returned the instances (ACEBench's result_instance_list)

    def _build(self) -> None:
        if self.instances is not None:
            return
        instances: dict[str, Any] = {}
        for name in self.involved:
            if name not in self.modules:
                raise RuntimeUnavailable(f"ACEBench has no scenario class {name!r}")
            cls = self.runtime.cls(self.modules[name], name)
            with sandboxed(), time_limit(CALL_SECONDS):
                instance = cls()
                instance._load_scenario(copy.deepcopy(self.initial_config.get(name, {})), long_context=False)
                instance._load_scenario(copy.deepcopy(self.initial_config.get("BaseApi", {})), long_context=False)
            instances[name] = instance
            for method, _bound in inspect.getmembers(instance, predicate=inspect.ismethod):
                if not method.startswith("_"):
                    self.owners.setdefault(method, []).append(name)
        self.instances = instances

    def _run(self, name: str, kwargs: dict[str, Any]) -> Any:
        """One call on every instance holding the method; the last result (an exception propagates)."""
        problem = argument_problem(name, kwargs)
        if problem is not None:
            raise RuntimeError(f"limit: {problem}")
        result: Any = None
        for owner in self.owners[name]:
            method = getattr(self.instances[owner], name)
            try:
                with sandboxed(), time_limit(CALL_SECONDS):
                    result = method(**copy.deepcopy(kwargs))
            except CallTimeout:
                raise RuntimeError(f"limit: {name} took longer than {CALL_SECONDS:g} s") from None
        problem = result_problem(result)
        if problem is not None:
            raise RuntimeError(f"limit: {problem}")
        return result

    def execute(self, calls: list[tuple[str, dict[str, Any] | None, str | None]]) -> list[str]:
        """ACEBench's execution results (strings) for decoded calls ``(method, kwargs, error)``: ``method`` is the
        name ACEBench dispatches on, ``error`` what evaluating its call text raises instead (or None)."""
        self._build()
        results: list[Any] = []
        last: Any = UNSET
        for name, kwargs, error in calls:
            try:
                if name in self.owners:
                    if error is not None:  # the call text ACEBench would eval fails before the method runs
                        raise RuntimeError(error)
                    last = self._run(name, kwargs or {})
                elif last is UNSET:  # ACEBench evaluates nothing and appends its unset variable
                    raise RuntimeError(UNBOUND)
                results.append(last)
            except Exception as exc:  # the scenario's own errors are results, as in ACEBench
                if self.mode == "turn":
                    return list(TURN_ERROR)  # ACEBench returns the text, which its caller iterates
                results.append(f"Error during execution: {exc}")
        self.recorded = True
        return [bfcl_text(value) for value in results]  # ACEBench's executor writes results as BFCL's does

    def state(self, saved: dict[str, list[str]]) -> list[dict[str, Any]]:
        """The end state ACEBench records: per involved class, its attributes named in ``SAVED_CLASS``."""
        if not self.recorded or self.instances is None:
            return []
        out = []
        for name, instance in self.instances.items():
            keep = saved.get(name, [])
            out.append({name: {key: _plain(value) for key, value in vars(instance).items() if key in keep}})
        return out


def _plain(value: Any) -> Any:
    """A JSON value (ACEBench writes its result file with ``json.dumps``: int keys become strings)."""
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


def parsed_results(texts: list[str]) -> list[Any]:
    """ACEBench's ``EXECUTION.respond``: each result text parsed as JSON where it is JSON."""
    out: list[Any] = []
    for text in texts:
        try:
            out.append(json.loads(text))
        except (ValueError, RecursionError):
            out.append(text)
    return out
