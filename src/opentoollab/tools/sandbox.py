"""The workspace sandbox every file-system toolkit (``files``, ``sql``, ``tables``) goes through.

``Sandbox.resolve`` turns a path argument (relative to the workspace root) into a real path, refusing
absolute paths, ``..`` that leaves the root, and symbolic links anywhere on the way (they are never
followed, not even when planted in the tree); ``read_bytes``/``read_text`` open files without following
links and within size limits; ``walk`` lists folders in name order. ``SandboxedToolkit`` is the base class
of the toolkits that work in the episode's workspace.

May import: the standard library, ``opentoollab.tools.base``.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any, Iterator, Literal

from .base import Toolkit, ToolError, ToolkitError

MAX_TEXT_BYTES = 2_000_000  # text files larger than this are not read whole (read/grep/count/sort/diff)
MAX_WALK = 5_000  # entries visited by one walk
BINARY_EXTENSIONS = frozenset({"xlsx", "xls", "pdf", "png", "jpg", "jpeg", "gif", "db", "sqlite", "sqlite3", "zip"})


def file_extension(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1].lower() if "." in name[1:] else ""


class Sandbox:
    """Paths inside one workspace root; every way out is a ToolError."""

    def __init__(self, root: Path | str | None) -> None:
        if root is None:
            raise ToolkitError("this toolkit needs the episode's workspace folder (run it in an Episode)")
        self.root = Path(os.path.realpath(root))
        self.tables: dict[tuple, dict[str, Any]] = {}  # parsed tables (see files_readers.load_table)

    def relative(self, path: str) -> str:
        """The normalised relative form of a path argument ("" for the root); ToolError when it leaves."""
        if not isinstance(path, str):
            raise ToolError("a path must be a string")
        text = path.strip()
        if "\x00" in text:
            raise ToolError("a path cannot contain NUL characters")
        if "\\" in text:
            raise ToolError(f"use forward slashes in paths: {path!r}")
        if text.startswith(("/", "~")) or re.match(r"^[A-Za-z]:", text):
            raise ToolError(f"absolute paths are not allowed: {path!r}; give a path relative to the workspace root")
        parts: list[str] = []
        for part in text.split("/"):
            if part in ("", "."):
                continue
            if part == "..":
                if not parts:
                    raise ToolError(f"path {path!r} leaves the workspace")
                parts.pop()
                continue
            parts.append(part)
        return "/".join(parts)

    def resolve(self, path: str, *, must_exist: bool = True, kind: Literal["file", "dir", "any"] = "any",
                allow_root: bool = True) -> tuple[Path, str]:
        """(absolute path, relative path) of a path argument, after checking every component with lstat.

        Raises ToolError for escapes, symbolic links on the way, a missing target (``must_exist``), a file
        used as a folder, or the wrong kind of target.
        """
        rel = self.relative(path)
        if not rel and not allow_root:
            raise ToolError("this operation cannot target the workspace root itself")
        current = self.root
        parts = rel.split("/") if rel else []
        for index, part in enumerate(parts):
            current = current / part
            try:
                info = os.lstat(current)
            except FileNotFoundError:
                if must_exist:
                    raise ToolError(f"no such file or directory: {rel}") from None
                for rest in parts[index + 1:]:
                    current = current / rest
                return current, rel
            except OSError as error:
                raise ToolError(f"cannot access {rel}: {error.strerror}") from None
            if stat.S_ISLNK(info.st_mode):
                shown = "/".join(parts[:index + 1])
                raise ToolError(f"{shown} is a symbolic link; links are not followed")
            if index < len(parts) - 1 and not stat.S_ISDIR(info.st_mode):
                raise ToolError(f"{'/'.join(parts[:index + 1])} is not a directory")
        if kind != "any" and os.path.lexists(current):
            is_dir = stat.S_ISDIR(os.lstat(current).st_mode)
            if kind == "file" and is_dir:
                raise ToolError(f"{rel or '.'} is a directory, not a file")
            if kind == "dir" and not is_dir:
                raise ToolError(f"{rel} is a file, not a directory")
        return current, rel

    def read_bytes(self, path: str, limit: int = MAX_TEXT_BYTES, head: int | None = None) -> tuple[bytes, str]:
        """(content, relative path) of a regular file no larger than ``limit`` (or only its first ``head``
        bytes, whatever its size), opened without following links."""
        absolute, rel = self.resolve(path, kind="file", allow_root=False)
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
        try:
            descriptor = os.open(absolute, flags)  # non-blocking: a planted FIFO cannot hang the call
        except OSError as error:
            raise ToolError(f"cannot open {rel}: {error.strerror}") from None
        try:
            info = os.fstat(descriptor)
            if not stat.S_ISREG(info.st_mode):
                raise ToolError(f"{rel} is not a regular file")
            if head is not None:
                return os.read(descriptor, head), rel
            if info.st_size > limit:
                raise ToolError(f"{rel} is too large ({info.st_size:,} bytes; limit {limit:,})")
            chunks = []
            while True:
                chunk = os.read(descriptor, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
        finally:
            os.close(descriptor)
        return b"".join(chunks), rel

    def read_text(self, path: str, limit: int = MAX_TEXT_BYTES) -> tuple[str, str]:
        """(text, relative path) of a UTF-8 text file; ToolError naming the right tool for binary files."""
        rel = self.relative(path)
        kind = file_extension(rel)
        if kind in BINARY_EXTENSIONS:
            raise ToolError(f"{rel} is a binary .{kind} file; {_binary_hint(kind)}")
        data, rel = self.read_bytes(path, limit)
        if b"\x00" in data[:4096]:
            raise ToolError(f"{rel} is a binary file, not text")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise ToolError(f"{rel} is not UTF-8 text") from None
        return text.removeprefix("\ufeff"), rel

    def walk(self, absolute: Path, rel: str, recursive: bool) -> Iterator[tuple[str, os.DirEntry]]:
        """(relative path, entry) under a folder, depth first in name order (links listed, never entered)."""
        visited = 0
        stack = [(absolute, rel)]
        while stack:
            folder, prefix = stack.pop()
            try:
                with os.scandir(folder) as scan:
                    entries = sorted(scan, key=lambda entry: entry.name)
            except OSError as error:
                raise ToolError(f"cannot list {prefix or '.'}: {error.strerror}") from None
            subfolders = []
            for entry in entries:
                visited += 1
                if visited > MAX_WALK:
                    return
                entry_rel = f"{prefix}/{entry.name}" if prefix else entry.name
                yield entry_rel, entry
                if recursive and entry.is_dir(follow_symlinks=False):
                    subfolders.append((Path(entry.path), entry_rel))
            stack.extend(reversed(subfolders))

    def used_bytes(self) -> int:
        total = 0
        for _, entry in self.walk(self.root, "", True):
            if entry.is_file(follow_symlinks=False):
                total += entry.stat(follow_symlinks=False).st_size
        return total


def _binary_hint(kind: str) -> str:
    if kind in ("xlsx", "xls"):
        return "use read_table to read its rows"
    if kind == "pdf":
        return "use read_pdf_text to read its text"
    if kind in ("png", "jpg", "jpeg", "gif"):
        return "use image_info for its format and size"
    if kind in ("db", "sqlite", "sqlite3"):
        return "query it with the SQL tools"
    return "it cannot be read as text"


# ---------------------------------------------------------------------------------- the toolkits' base
class SandboxedToolkit(Toolkit):
    """A toolkit working in the episode's workspace: ``self.sandbox``; operating-system failures (disk
    full, permission denied...) become ``{"error": ...}`` results without the machine's absolute paths."""

    uses_files = True

    def setup(self) -> None:
        self.sandbox = Sandbox(self.root)

    def call(self, tool: str, arguments: dict[str, Any]) -> Any:
        try:
            return super().call(tool, arguments)
        except OSError as error:
            return {"error": f"{tool} failed: {error.strerror or type(error).__name__}"}
