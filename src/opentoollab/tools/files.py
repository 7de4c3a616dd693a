"""The ``files`` toolkit: list, find, read, write, move, copy, delete, grep, count, sort and diff files in
the episode's sandboxed workspace (the seed tree of ``opentoollab.tools.seedtree``).

Every path argument goes through the workspace sandbox (``opentoollab.tools.sandbox``: no absolute paths,
no ``..`` out of the root, no symbolic links); tables, PDFs and images are parsed by
``opentoollab.tools.files_readers``. Results name paths relative to the root with forward slashes, sorted,
and never carry anything machine-dependent (no times, no owners, no database file sizes). The sandbox's and
the readers' public names are importable from here too (``sql`` and ``tables`` import them from here).

May import: the standard library, ``opentoollab.tools.base``, ``opentoollab.tools.sandbox``,
``opentoollab.tools.files_readers``.
"""

from __future__ import annotations

import difflib
import fnmatch
import os
import re
import shutil
import stat
import struct
from pathlib import Path
from typing import Any

from .base import ToolError
from .files_readers import MAX_TABLE_BYTES, image_header, load_table, pdf_pages
from .sandbox import BINARY_EXTENSIONS, MAX_TEXT_BYTES, SandboxedToolkit, file_extension

__all__ = ["Files", "MAX_WRITE_BYTES", "compile_pattern"]

MAX_READ_CHARS = 20_000  # text returned by one read
MAX_WRITE_BYTES = 1_000_000  # one write
MAX_WORKSPACE_BYTES = 50_000_000  # all files of the workspace together, checked on write and copy
MAX_ENTRIES = 500  # listing and find results
MAX_GREP_HITS = 200
MAX_LINE_CHARS = 300  # a grep hit's line is cut to this
MAX_PATTERN_CHARS = 200
MAX_TABLE_ROWS = 200  # rows one read_table returns
MAX_DIFF_LINES = 400
SIZELESS_EXTENSIONS = frozenset({"db", "sqlite", "sqlite3"})  # their bytes depend on the SQLite version
KNOWN_EXTENSIONS = frozenset({"txt", "log", "md", "csv", "tsv", "json", "jsonl", "yaml", "yml", "xlsx", "pdf", "png",
                              "jpg", "jpeg", "gif", "html", "py", "xml", "ini", "toml"})


# ---------------------------------------------------------------------------------- listing entries
def _kind_of(entry: os.DirEntry) -> str:
    if entry.is_symlink():
        return "symlink"
    if entry.is_dir(follow_symlinks=False):
        return "directory"
    return "file" if entry.is_file(follow_symlinks=False) else "other"


def _entry_json(rel: str, entry: os.DirEntry) -> dict[str, Any]:
    kind = _kind_of(entry)
    item: dict[str, Any] = {"path": rel, "type": kind}
    if kind == "file":
        item["size"] = None if _is_database(rel, entry) else entry.stat(follow_symlinks=False).st_size
    return item


def _is_database(rel: str, entry: os.DirEntry) -> bool:
    """A SQLite file (its size depends on the SQLite version, so it is not reported): by extension, or by
    header for a file whose extension says nothing (e.g. a copy named backup.bak)."""
    kind = file_extension(rel)
    if kind in SIZELESS_EXTENSIONS:
        return True
    if kind in KNOWN_EXTENSIONS:
        return False
    try:
        descriptor = os.open(entry.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return False
    try:
        return os.read(descriptor, 16) == b"SQLite format 3\x00"
    finally:
        os.close(descriptor)


# ---------------------------------------------------------------------------------- grep safety
_NESTED_QUANTIFIER = re.compile(r"\((?:[^()\\]|\\.)*[+*}?]\)[+*{]|\((?:[^()\\]|\\.)*\|(?:[^()\\]|\\.)*\)[+*{]")
_BACKREFERENCE = re.compile(r"\\[1-9]|\(\?P=")


def compile_pattern(pattern: str, regex: bool, ignore_case: bool) -> re.Pattern[str]:
    if not pattern:
        raise ToolError("the search pattern is empty")
    if len(pattern) > MAX_PATTERN_CHARS:
        raise ToolError(f"the search pattern is too long ({len(pattern)} characters; limit {MAX_PATTERN_CHARS})")
    flags = re.IGNORECASE if ignore_case else 0
    if not regex:
        return re.compile(re.escape(pattern), flags)
    if _NESTED_QUANTIFIER.search(pattern) or _BACKREFERENCE.search(pattern):
        raise ToolError("this regular expression could take exponential time (a repeated group that itself "
                        "repeats or alternates, or a backreference); simplify it")
    try:
        return re.compile(pattern, flags)
    except re.error as error:
        raise ToolError(f"invalid regular expression: {error}") from None


# ---------------------------------------------------------------------------------- the toolkit
class Files(SandboxedToolkit):
    """A sandboxed workspace folder: read, search and edit its files."""

    name = "files"
    description = ("A workspace folder of documents, spreadsheets, logs, configs, images and a database: list, "
                   "find, read, search, write, move, copy and delete files.")

    # ----------------------------------------------------------------------------- browsing
    def list_directory(self, path: str = "", recursive: bool = False) -> dict[str, Any]:
        """List the files and folders in a folder of the workspace.

        Args:
            path: Folder to list, relative to the workspace root (e.g. "reports"); "" for the root.
            recursive: If true, also list everything inside subfolders.
        """
        absolute, rel = self.sandbox.resolve(path, kind="dir")
        entries = []
        truncated = False
        for entry_rel, entry in self.sandbox.walk(absolute, rel, recursive):
            if len(entries) >= MAX_ENTRIES:
                truncated = True
                break
            entries.append(_entry_json(entry_rel, entry))
        entries.sort(key=lambda item: item["path"])
        return {"path": rel or ".", "entries": entries, "count": len(entries), "truncated": truncated}

    def find_files(self, name: str = "*", extension: str | None = None, path: str = "",
                   max_results: int = 100) -> dict[str, Any]:
        """Find files by name pattern and/or extension, searching a folder and all its subfolders.

        Args:
            name: Shell-style pattern for the file name, e.g. "*report*" or "sales_*.csv" ("*" matches any text, "?"
                one character). Case-insensitive.
            extension: Only files with this extension, e.g. "csv" or ".pdf" (case-insensitive).
            path: Folder to search in, relative to the workspace root; "" for the whole workspace.
            max_results: Maximum number of paths to return (1-500).
        """
        if not 1 <= max_results <= MAX_ENTRIES:
            raise ToolError(f"max_results must be between 1 and {MAX_ENTRIES}")
        wanted = (extension or "").strip().lower().lstrip(".")
        pattern = name.lower() or "*"
        absolute, rel = self.sandbox.resolve(path, kind="dir")
        found = []
        for entry_rel, entry in self.sandbox.walk(absolute, rel, True):
            if not entry.is_file(follow_symlinks=False):
                continue
            if wanted and file_extension(entry.name) != wanted:
                continue
            if fnmatch.fnmatchcase(entry.name.lower(), pattern):
                found.append(entry_rel)
        found.sort()
        return {"files": found[:max_results], "count": len(found), "truncated": len(found) > max_results}

    # ----------------------------------------------------------------------------- reading
    def read_file(self, path: str, start_line: int = 1, end_line: int | None = None) -> dict[str, Any]:
        """Read a text file (txt, md, csv, json, yaml, log...), optionally only a range of lines.

        Args:
            path: File to read, relative to the workspace root, e.g. "notes/todo.txt".
            start_line: First line to return (1-based).
            end_line: Last line to return (inclusive); omit to read to the end. Long output is cut; then continue from
                next_line.
        """
        text, rel = self.sandbox.read_text(path)
        lines = text.splitlines()
        total = len(lines)
        if start_line < 1:
            raise ToolError("start_line must be at least 1")
        if end_line is not None and end_line < start_line:
            raise ToolError("end_line must not be before start_line")
        last = total if end_line is None else min(end_line, total)
        if start_line > max(total, 1):
            raise ToolError(f"{rel} has only {total} lines")
        chosen: list[str] = []
        size = 0
        truncated = False
        for number in range(start_line, last + 1):
            line = lines[number - 1]
            if size + len(line) + 1 > MAX_READ_CHARS and chosen:
                truncated = True
                break
            chosen.append(line[:MAX_READ_CHARS])
            size += len(line) + 1
        result: dict[str, Any] = {"path": rel, "content": "\n".join(chosen), "start_line": start_line,
                                  "end_line": start_line + len(chosen) - 1, "total_lines": total,
                                  "truncated": truncated}
        if truncated:
            result["next_line"] = start_line + len(chosen)
        return result

    def read_table(self, path: str, sheet: str | None = None, start_row: int = 1,
                   max_rows: int = 50) -> dict[str, Any]:
        """Read the rows of a spreadsheet or CSV file (csv, tsv, xlsx) as a table; the first row is the header.

        Args:
            path: Table file, relative to the workspace root, e.g. "data/inventory.xlsx".
            sheet: Worksheet name for xlsx files; omit for the first sheet.
            start_row: First data row to return (1 = the row after the header).
            max_rows: Maximum number of rows to return (1-200).
        """
        if start_row < 1:
            raise ToolError("start_row must be at least 1")
        if not 1 <= max_rows <= MAX_TABLE_ROWS:
            raise ToolError(f"max_rows must be between 1 and {MAX_TABLE_ROWS}")
        table = load_table(self.sandbox, path, sheet)
        rows = table["rows"][start_row - 1:start_row - 1 + max_rows]
        result = {"path": table["path"], "columns": table["columns"], "rows": rows,
                  "row_count": len(table["rows"]), "start_row": start_row,
                  "truncated": start_row - 1 + len(rows) < len(table["rows"])}
        if table["sheets"]:
            result["sheet"] = table["sheet"]
            result["sheets"] = table["sheets"]
        return result

    def read_pdf_text(self, path: str, start_page: int = 1, end_page: int | None = None) -> dict[str, Any]:
        """Extract the text of a PDF document, page by page.

        Args:
            path: PDF file, relative to the workspace root, e.g. "docs/employee_handbook.pdf".
            start_page: First page to return (1-based).
            end_page: Last page to return (inclusive); omit for the last page.
        """
        rel = self.sandbox.relative(path)
        if file_extension(rel) != "pdf":
            raise ToolError(f"{rel} is not a .pdf file")
        data, rel = self.sandbox.read_bytes(path, MAX_TABLE_BYTES)
        pages = pdf_pages(data, rel)
        if start_page < 1 or start_page > max(len(pages), 1):
            raise ToolError(f"{rel} has {len(pages)} page(s)")
        last = len(pages) if end_page is None else min(end_page, len(pages))
        if last < start_page:
            raise ToolError("end_page must not be before start_page")
        out = []
        size = 0
        truncated = False
        for number in range(start_page, last + 1):
            text = pages[number - 1].strip()
            if size + len(text) > MAX_READ_CHARS:
                text = text[:max(0, MAX_READ_CHARS - size)]
                truncated = True
            out.append({"page": number, "text": text})
            size += len(text)
            if truncated:
                break
        return {"path": rel, "page_count": len(pages), "pages": out, "truncated": truncated}

    def image_info(self, path: str) -> dict[str, Any]:
        """Get the format (PNG, JPEG, GIF), width and height in pixels, and colour mode (e.g. RGB, RGBA, L) of an image.

        Args:
            path: Image file, relative to the workspace root, e.g. "images/logo.png".
        """
        data, rel = self.sandbox.read_bytes(path, MAX_TABLE_BYTES)
        try:
            info = image_header(data)
        except (ToolError, struct.error) as error:
            raise ToolError(f"{rel}: {error if isinstance(error, ToolError) else 'damaged image header'}") from None
        return {"path": rel, **info, "size": len(data)}

    # ----------------------------------------------------------------------------- writing
    def write_file(self, path: str, content: str, append: bool = False) -> dict[str, Any]:
        """Create or overwrite a text file (missing folders are created); or append to it. At most 1 MB.

        Args:
            path: File to write, relative to the workspace root, e.g. "notes/summary.md".
            content: The full text to write (UTF-8).
            append: If true, add the text at the end of the file instead of replacing it.
        """
        data = content.encode("utf-8")
        if len(data) > MAX_WRITE_BYTES:
            raise ToolError(f"content is too large ({len(data):,} bytes; limit {MAX_WRITE_BYTES:,})")
        absolute, rel = self.sandbox.resolve(path, must_exist=False, kind="file", allow_root=False)
        kind = file_extension(rel)
        if kind in BINARY_EXTENSIONS:
            raise ToolError(f"write_file writes text; it cannot create a .{kind} file")
        existed = os.path.lexists(absolute)
        old_size = os.lstat(absolute).st_size if existed else 0
        if existed and append and old_size + len(data) > MAX_TEXT_BYTES:
            raise ToolError(f"{rel} would exceed {MAX_TEXT_BYTES:,} bytes")
        self._check_quota(len(data) - (0 if append else old_size))
        self._make_parents(rel)
        flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | (os.O_APPEND if append else os.O_TRUNC)
        descriptor = os.open(absolute, flags, 0o644)
        try:
            os.write(descriptor, data)
        finally:
            os.close(descriptor)
        return {"path": rel, "bytes_written": len(data), "created": not existed,
                "size": os.lstat(absolute).st_size}

    def make_directory(self, path: str) -> dict[str, Any]:
        """Create a folder (and any missing parent folders).

        Args:
            path: Folder to create, relative to the workspace root, e.g. "reports/2024".
        """
        absolute, rel = self.sandbox.resolve(path, must_exist=False, allow_root=False)
        if os.path.lexists(absolute):
            if stat.S_ISDIR(os.lstat(absolute).st_mode):
                return {"path": rel, "created": False}
            raise ToolError(f"{rel} already exists and is a file")
        self._make_parents(rel + "/x")
        return {"path": rel, "created": True}

    def move_file(self, source: str, destination: str, overwrite: bool = False) -> dict[str, Any]:
        """Move or rename a file or folder. If the destination is an existing folder, the item is moved into it.

        Args:
            source: File or folder to move, relative to the workspace root.
            destination: New path, or an existing folder to move it into.
            overwrite: If true, replace an existing destination file.
        """
        src_abs, src_rel = self.sandbox.resolve(source, allow_root=False)
        dst_abs, dst_rel = self._destination(src_rel, destination, overwrite)
        if stat.S_ISDIR(os.lstat(src_abs).st_mode) and (dst_rel + "/").startswith(src_rel + "/"):
            raise ToolError(f"cannot move {src_rel} into itself")
        if dst_rel == src_rel:
            return {"source": src_rel, "destination": dst_rel, "moved": False}
        self._make_parents(dst_rel)
        os.replace(src_abs, dst_abs)
        return {"source": src_rel, "destination": dst_rel, "moved": True}

    def copy_file(self, source: str, destination: str, overwrite: bool = False) -> dict[str, Any]:
        """Copy a file (or a whole folder). If the destination is an existing folder, the copy goes into it.

        Args:
            source: File or folder to copy, relative to the workspace root.
            destination: Path of the copy, or an existing folder to copy into.
            overwrite: If true, replace an existing destination file.
        """
        src_abs, src_rel = self.sandbox.resolve(source, allow_root=False)
        dst_abs, dst_rel = self._destination(src_rel, destination, overwrite)
        if dst_rel == src_rel:
            raise ToolError("source and destination are the same")
        if stat.S_ISDIR(os.lstat(src_abs).st_mode):
            if (dst_rel + "/").startswith(src_rel + "/"):
                raise ToolError(f"cannot copy {src_rel} into itself")
            size = 0
            for entry_rel, entry in self.sandbox.walk(src_abs, src_rel, True):
                if entry.is_symlink():
                    raise ToolError(f"{entry_rel} is a symbolic link; links are not copied")
                if entry.is_file(follow_symlinks=False):
                    size += entry.stat(follow_symlinks=False).st_size
            self._check_quota(size)
            self._make_parents(dst_rel)
            shutil.copytree(src_abs, dst_abs, symlinks=True)
        else:
            self._check_quota(os.lstat(src_abs).st_size)
            self._make_parents(dst_rel)
            data, _ = self.sandbox.read_bytes(src_rel, MAX_WORKSPACE_BYTES)
            descriptor = os.open(dst_abs, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o644)
            try:
                os.write(descriptor, data)
            finally:
                os.close(descriptor)
        return {"source": src_rel, "destination": dst_rel, "copied": True}

    def delete_file(self, path: str, recursive: bool = False) -> dict[str, Any]:
        """Delete a file, or a folder (a folder that is not empty needs recursive=true).

        Args:
            path: File or folder to delete, relative to the workspace root.
            recursive: If true, delete a folder together with everything in it.
        """
        absolute, rel = self.sandbox.resolve(path, allow_root=False)
        mode = os.lstat(absolute).st_mode
        if stat.S_ISDIR(mode):
            if any(True for _ in os.scandir(absolute)):
                if not recursive:
                    raise ToolError(f"{rel} is a folder that is not empty; pass recursive=true to delete it")
                removed = sum(1 for _, entry in self.sandbox.walk(absolute, rel, True)
                              if not entry.is_dir(follow_symlinks=False))
                shutil.rmtree(absolute)
                return {"path": rel, "deleted": True, "type": "directory", "files_removed": removed}
            os.rmdir(absolute)
            return {"path": rel, "deleted": True, "type": "directory", "files_removed": 0}
        os.unlink(absolute)
        return {"path": rel, "deleted": True, "type": "file"}

    # ----------------------------------------------------------------------------- text utilities
    def grep_files(self, pattern: str, path: str = "", regex: bool = False, ignore_case: bool = False,
                   max_hits: int = 50) -> dict[str, Any]:
        """Search text files for lines containing a word, phrase or regular expression.

        Args:
            pattern: Text to look for (exact text unless regex is true), e.g. "ERROR" or "budget".
            path: A file or folder to search (folders are searched with all their subfolders), relative to the
                workspace root; "" for everything.
            regex: If true, treat pattern as a Python regular expression, e.g. "ERROR|WARN" or "INV-[0-9]+".
            ignore_case: If true, match upper and lower case alike.
            max_hits: Maximum number of matching lines to return (1-200).
        """
        if not 1 <= max_hits <= MAX_GREP_HITS:
            raise ToolError(f"max_hits must be between 1 and {MAX_GREP_HITS}")
        compiled = compile_pattern(pattern, regex, ignore_case)
        absolute, rel = self.sandbox.resolve(path)
        if stat.S_ISDIR(os.lstat(absolute).st_mode):
            targets = [entry_rel for entry_rel, entry in self.sandbox.walk(absolute, rel, True)
                       if entry.is_file(follow_symlinks=False) and file_extension(entry_rel) not in BINARY_EXTENSIONS]
            targets.sort()
        else:
            self.sandbox.read_text(rel)  # a clear error for a binary file named directly
            targets = [rel]
        matches = []
        matched_files: set[str] = set()
        total = 0
        searched = 0
        for target in targets:
            try:
                text, _ = self.sandbox.read_text(target)
            except ToolError:
                continue  # binary, non-UTF-8 or too large: skipped in a folder search
            searched += 1
            for number, line in enumerate(text.splitlines(), 1):
                if compiled.search(line[:10_000]):
                    total += 1
                    matched_files.add(target)
                    if len(matches) < max_hits:
                        matches.append({"path": target, "line": number, "text": line[:MAX_LINE_CHARS]})
        return {"pattern": pattern, "matches": matches, "match_count": total, "files_searched": searched,
                "files_matched": len(matched_files),
                "truncated": total > len(matches)}

    def count_words(self, path: str) -> dict[str, Any]:
        """Count the lines, words (whitespace-separated, like wc) and characters of a text file.

        Args:
            path: Text file, relative to the workspace root.
        """
        text, rel = self.sandbox.read_text(path)
        return {"path": rel, "lines": len(text.splitlines()), "words": len(text.split()), "characters": len(text),
                "bytes": len(text.encode("utf-8"))}

    def sort_lines(self, path: str, reverse: bool = False, numeric: bool = False, unique: bool = False,
                   ignore_case: bool = False, output_path: str | None = None) -> dict[str, Any]:
        """Sort the lines of a text file (blank lines are dropped); return them, and optionally save them to a file.

        Args:
            path: Text file whose lines to sort, relative to the workspace root.
            reverse: If true, sort in descending order.
            numeric: If true, sort by the number at the start of each line (lines without one come last).
            unique: If true, drop repeated lines.
            ignore_case: If true, compare lines ignoring upper/lower case.
            output_path: Save the sorted lines to this file (it may be the same file); omit to only return them.
        """
        text, rel = self.sandbox.read_text(path)
        lines = [line for line in text.splitlines() if line.strip()]
        if unique:
            lines = list(dict.fromkeys(lines))

        def text_key(line: str) -> tuple:
            return (line.casefold(), line) if ignore_case else (line,)

        if numeric:
            number = re.compile(r"^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+))")

            def key(line: str) -> tuple:
                match = number.match(line)
                return (0, float(match.group(1)), *text_key(line)) if match else (1, 0.0, *text_key(line))

            with_number = [line for line in lines if number.match(line)]
            without = [line for line in lines if not number.match(line)]
            ordered = sorted(with_number, key=key, reverse=reverse) + sorted(without, key=text_key)
        else:
            ordered = sorted(lines, key=text_key, reverse=reverse)
        result: dict[str, Any] = {"path": rel, "line_count": len(ordered)}
        if output_path is not None:
            written = self.write_file(output_path, "\n".join(ordered) + ("\n" if ordered else ""))
            result["written_to"] = written["path"]
        shown: list[str] = []
        size = 0
        for line in ordered:
            if size + len(line) > MAX_READ_CHARS:
                break
            shown.append(line)
            size += len(line) + 1
        result["lines"] = shown
        result["truncated"] = len(shown) < len(ordered)
        return result

    def diff_files(self, path_a: str, path_b: str, context_lines: int = 3) -> dict[str, Any]:
        """Compare two text files line by line; return the differences as a unified diff.

        Args:
            path_a: The original file, relative to the workspace root.
            path_b: The changed file, relative to the workspace root.
            context_lines: Number of unchanged lines shown around each change (0-10).
        """
        if not 0 <= context_lines <= 10:
            raise ToolError("context_lines must be between 0 and 10")
        text_a, rel_a = self.sandbox.read_text(path_a)
        text_b, rel_b = self.sandbox.read_text(path_b)
        lines_a, lines_b = text_a.splitlines(), text_b.splitlines()
        if lines_a == lines_b:
            return {"path_a": rel_a, "path_b": rel_b, "identical": True, "diff": [], "added": 0, "removed": 0,
                    "truncated": False}
        diff = list(difflib.unified_diff(lines_a, lines_b, rel_a, rel_b, n=context_lines, lineterm=""))
        added = sum(1 for line in diff[2:] if line.startswith("+"))
        removed = sum(1 for line in diff[2:] if line.startswith("-"))
        shown = [line[:MAX_LINE_CHARS] for line in diff[:MAX_DIFF_LINES]]
        return {"path_a": rel_a, "path_b": rel_b, "identical": False, "diff": shown, "added": added,
                "removed": removed, "truncated": len(diff) > MAX_DIFF_LINES}

    # ----------------------------------------------------------------------------- helpers
    def _destination(self, src_rel: str, destination: str, overwrite: bool) -> tuple[Path, str]:
        dst_abs, dst_rel = self.sandbox.resolve(destination, must_exist=False, allow_root=True)
        if os.path.lexists(dst_abs) and stat.S_ISDIR(os.lstat(dst_abs).st_mode):
            name = src_rel.rsplit("/", 1)[-1]
            dst_abs, dst_rel = self.sandbox.resolve(f"{dst_rel}/{name}" if dst_rel else name, must_exist=False)
        if os.path.lexists(dst_abs):
            if stat.S_ISDIR(os.lstat(dst_abs).st_mode):
                raise ToolError(f"{dst_rel} already exists and is a folder")
            if not overwrite and dst_rel != src_rel:
                raise ToolError(f"{dst_rel} already exists; pass overwrite=true to replace it")
        return dst_abs, dst_rel

    def _make_parents(self, rel: str) -> None:
        folder = rel.rpartition("/")[0]
        if not folder:
            return
        current = self.sandbox.root
        for part in folder.split("/"):
            current = current / part
            try:
                info = os.lstat(current)
            except FileNotFoundError:
                os.mkdir(current)
                continue
            if not stat.S_ISDIR(info.st_mode):
                raise ToolError(f"{part} is not a folder")

    def _check_quota(self, extra: int) -> None:
        if extra > 0 and self.sandbox.used_bytes() + extra > MAX_WORKSPACE_BYTES:
            raise ToolError(f"the workspace is full (limit {MAX_WORKSPACE_BYTES:,} bytes)")
