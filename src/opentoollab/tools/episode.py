"""An episode: one sandboxed world of toolkits sharing a private folder, removed when it ends.

The folder (the file-system toolkits' root) is built from the config's seed tree
(``opentoollab.tools.seedtree``) on tmpfs when the machine has one (``/dev/shm``: creating and
removing a few dozen files there costs a fraction of a disk's), else in the system temp folder.
Its path never reaches a tool result.
May import: this package (``base``, ``seedtree``), the standard library.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from .base import Toolkit, ToolkitError, get_toolkit


def _scratch_root() -> str | None:
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None


class Episode:
    """One sandboxed world: toolkits by name sharing a private folder, removed on ``close``.

    ``config`` maps toolkit name → its config; the key ``"files"`` configures the seed tree
    (see ``opentoollab.tools.seedtree``) for toolkits with ``uses_files``.
    """

    def __init__(self, toolkits: list[str], config: dict[str, Any] | None = None) -> None:
        # a shallow copy is enough: each toolkit clones its own part, and the seed tree only reads its part
        self.config = dict(config or {})
        classes = [get_toolkit(name) for name in toolkits]
        self._tmp: str | None = None
        self.root: Path | None = None
        if any(cls.uses_files for cls in classes):
            from .seedtree import build_tree

            self._tmp = tempfile.mkdtemp(prefix="otl-episode-", dir=_scratch_root())
            self.root = Path(self._tmp) / "workspace"
            build_tree(self.root, self.config.get("files", {}))
        self.toolkits = {cls.name: cls(self.config.get(cls.name), self.root) for cls in classes}
        self._by_tool: dict[str, Toolkit] = {}
        for kit in self.toolkits.values():
            for tool in kit.tool_names():
                if tool in self._by_tool:
                    raise ToolkitError(f"tool {tool!r} is defined by both {self._by_tool[tool].name} and {kit.name}")
                self._by_tool[tool] = kit

    def tools(self) -> list[dict[str, Any]]:
        return [declaration for kit in self.toolkits.values() for declaration in kit.tools()]

    def call(self, tool: str, arguments: dict[str, Any]) -> Any:
        kit = self._by_tool.get(tool)
        if kit is None:
            raise ToolkitError(f"no tool {tool!r} in this episode")
        return kit.call(tool, arguments)

    def close(self) -> None:
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> "Episode":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
