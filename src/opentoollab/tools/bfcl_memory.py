"""BFCL's memory backends (``memory_kv``, ``memory_rec_sum``) from the pinned bfcl-eval wheel, run in memory, safely.

BFCL keeps a scenario's memory between conversations in snapshot files under its result folder
(``_load_scenario`` / ``_flush_memory_to_local_file``). We run the same classes but carry the memory as a
value instead: a backend starts from a snapshot dict (BFCL's own snapshot layout — ``core_memory`` and
``archival_memory`` for kv, ``memory`` for rec_sum), and ``snapshot()`` returns it after the conversation.
BFCL's file methods are never called; every tool call goes through ``bfcl_runtime.Session.call`` (copied
arguments, cost and time limits, size-checked results, the sandbox).

Importing BFCL's memory classes imports ``bfcl_eval.utils``, whose config module creates ``result/``,
``score/`` and ``.file_locks/`` folders on import; they are sent to a private temporary folder through
BFCL's own ``BFCL_PROJECT_ROOT`` setting. The classes need ``rank-bm25`` (kv's search), ``overrides`` and
``filelock`` (extra ``bfcl-memory``). ``memory_vector`` needs a sentence-embedding model: not supported.
"""

from __future__ import annotations

import atexit
import copy
import importlib
import inspect
import os
import shutil
import tempfile
import threading
from typing import Any

from .bfcl_runtime import PACKAGE_PREFIX, Runtime, RuntimeUnavailable, Session, UnverifiedRuntime, _VERIFIED, _source_of

BACKENDS = {"kv": ("memory_kv", "MemoryAPI_kv"), "rec_sum": ("memory_rec_sum", "MemoryAPI_rec_sum")}
STATE = {"kv": ("core_memory", "archival_memory"), "rec_sum": ("memory",)}
INSTALL_HINT = "pip install -e '.[bfcl-memory]'  (rank-bm25, overrides, filelock)"
_IMPORT_LOCK = threading.Lock()
_CLASSES: dict[tuple[int, str], type] = {}


def memory_class(runtime: Runtime, backend: str) -> type:
    """BFCL's ``MemoryAPI_<backend>`` class, imported from the verified runtime."""
    if backend not in BACKENDS:
        raise RuntimeUnavailable(f"BFCL memory backend {backend!r} is not supported (known: {', '.join(BACKENDS)})")
    key = (id(runtime), backend)
    with _IMPORT_LOCK:
        if key not in _CLASSES:
            runtime.verify()
            module_name, class_name = BACKENDS[backend]
            folder = tempfile.mkdtemp(prefix="opentoollab-bfcl-project-")
            atexit.register(shutil.rmtree, folder, True)
            previous = os.environ.get("BFCL_PROJECT_ROOT")
            os.environ["BFCL_PROJECT_ROOT"] = folder
            try:
                module = importlib.import_module(f"{PACKAGE_PREFIX}.{module_name}")
            except ImportError as exc:
                raise RuntimeUnavailable(f"cannot import BFCL's {class_name} ({exc}); install: {INSTALL_HINT}") from None
            finally:
                if previous is None:
                    os.environ.pop("BFCL_PROJECT_ROOT", None)
                else:
                    os.environ["BFCL_PROJECT_ROOT"] = previous
            source = _source_of(module)
            if source is None or (_VERIFIED[source] == "trusted" and not runtime.trust):
                raise UnverifiedRuntime(f"refusing BFCL's {class_name}: loaded from {getattr(module, '__file__', '?')}, "
                                        "which is not a verified bfcl_eval")
            _CLASSES[key] = getattr(module, class_name)
    return _CLASSES[key]


class MemorySession(Session):
    """One live memory backend; ``call`` is ``Session.call`` (BFCL's error texts, limits, sandbox)."""

    def __init__(self, runtime: Runtime, backend: str, snapshot: dict[str, Any] | None = None) -> None:
        cls = memory_class(runtime, backend)
        self.runtime, self.backend = runtime, backend
        instance = cls()
        for name in STATE[backend]:  # what BFCL's _load_scenario copies from the snapshot file
            if snapshot and name in snapshot:
                setattr(instance, name, copy.deepcopy(snapshot[name]))
        self.instances = {cls.__name__: instance}
        self.owner = {name: cls.__name__ for name, _ in inspect.getmembers(instance, predicate=inspect.ismethod)
                      if not name.startswith("_")}
        self._parameters = {name: [p for p in inspect.signature(getattr(cls, name)).parameters if p != "self"]
                            for name in self.owner}

    @property
    def instance(self) -> Any:
        return next(iter(self.instances.values()))

    def positional_names(self, name: str) -> list[str]:
        return self._parameters.get(name, [])

    def snapshot(self) -> dict[str, Any]:
        """The memory as BFCL's snapshot file holds it."""
        return {name: copy.deepcopy(getattr(self.instance, name)) for name in STATE[self.backend]}

    def context(self) -> str:
        """``_dump_core_memory_to_context``: what BFCL puts into the system prompt."""
        return str(self.instance._dump_core_memory_to_context())
