"""Parsers for the workspace's structured files, shared by the ``files`` and ``tables`` toolkits: csv/tsv/xlsx
tables (typed columns, cached per content on the sandbox), PNG/JPEG/GIF image headers, and PDF text.

Cells and numbers are made JSON-safe and machine-independent (``clean_number``). Damaged or unsupported
files become a ``ToolError`` naming the file.

May import: the standard library, ``opentoollab.tools.base``, ``opentoollab.tools.sandbox``; openpyxl (xlsx)
and pypdf (pdf), lazily.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import struct
from typing import Any

from .base import ToolError
from .sandbox import Sandbox, file_extension

MAX_TABLE_BYTES = 5_000_000


# ---------------------------------------------------------------------------------- tables (shared with tables.py)
def clean_number(value: Any) -> Any:
    """A JSON-safe, machine-independent cell: floats rounded to 12 significant digits, NaN/inf → None."""
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return None
        return float(f"{value:.12g}")
    return value


_INT = re.compile(r"^[+-]?(0|[1-9][0-9]{0,17})$")
_FLOAT = re.compile(r"^[+-]?([0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)([eE][+-]?[0-9]+)?$")


def _cell_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def type_columns(header: list[str], rows: list[list[Any]]) -> tuple[list[str], list[list[Any]]]:
    """Column types from the cells (all integers → "integer", all numbers → "number", else "string");
    cells converted accordingly (empty → None). Returns (types, rows)."""
    width = len(header)
    types = []
    columns = [[row[i] if i < len(row) else None for row in rows] for i in range(width)]
    converted: list[list[Any]] = []
    for cells in columns:
        values = [None if cell is None or (isinstance(cell, str) and cell.strip() == "") else cell for cell in cells]
        present = [v for v in values if v is not None]
        if present and all((isinstance(v, int) and not isinstance(v, bool))
                           or (isinstance(v, str) and _INT.match(v.strip()))
                           or (isinstance(v, float) and v.is_integer() and abs(v) < 2 ** 53) for v in present):
            types.append("integer")
            converted.append([None if v is None else int(v.strip()) if isinstance(v, str) else int(v) for v in values])
        elif present and all((isinstance(v, (int, float)) and not isinstance(v, bool))
                             or (isinstance(v, str) and _FLOAT.match(v.strip())) for v in present):
            types.append("number")
            converted.append([None if v is None else clean_number(float(v)) for v in values])
        else:
            types.append("string")
            converted.append([None if v is None else _cell_text(v) for v in values])
    typed_rows = [[converted[c][r] for c in range(width)] for r in range(len(rows))]
    return types, typed_rows


def load_table(sandbox: Sandbox, path: str, sheet: str | None = None) -> dict[str, Any]:
    """A csv/tsv/xlsx file as {path, sheet, sheets, columns, types, rows} (first row = header; typed cells).

    Parsed tables are cached on the sandbox, keyed by path, sheet and a hash of the file's bytes, so a file
    is parsed once however many calls look at it. Callers must not mutate the result.
    """
    rel = sandbox.relative(path)
    kind = file_extension(rel)
    if kind not in ("csv", "tsv", "xlsx"):
        sandbox.resolve(path, kind="file", allow_root=False)  # a missing file or a link is named as such
        raise ToolError(f"{rel} is not a table; csv, tsv and xlsx files are")
    if kind != "xlsx" and sheet:
        raise ToolError(f"{rel} is a {kind} file; it has no sheets")
    data, rel = sandbox.read_bytes(path, MAX_TABLE_BYTES)
    key = (rel, sheet, hashlib.sha1(data).hexdigest())
    cached = sandbox.tables.get(key)
    if cached is None:
        cached = _parse_table(data, rel, kind, sheet)
        if len(sandbox.tables) >= 8:
            sandbox.tables.pop(next(iter(sandbox.tables)))
        sandbox.tables[key] = cached
    return cached


def _parse_table(data: bytes, rel: str, kind: str, sheet: str | None) -> dict[str, Any]:
    if kind == "xlsx":
        records, sheets, chosen = _xlsx_records(data, rel, sheet)
    else:
        if b"\x00" in data[:4096]:
            raise ToolError(f"{rel} is a binary file, not text")
        try:
            text = data.decode("utf-8").removeprefix("\ufeff")
        except UnicodeDecodeError:
            raise ToolError(f"{rel} is not UTF-8 text") from None
        try:
            records = list(csv.reader(io.StringIO(text), delimiter="\t" if kind == "tsv" else ","))
        except csv.Error as error:
            raise ToolError(f"{rel} is not valid {kind}: {error}") from None
        sheets, chosen = [], None
    records = [record for record in records if any(cell not in (None, "") for cell in record)]
    if not records:
        return {"path": rel, "sheet": chosen, "sheets": sheets, "columns": [], "types": [], "rows": []}
    header = [str(cell).strip() if cell not in (None, "") else f"column_{i + 1}" for i, cell in enumerate(records[0])]
    seen: dict[str, int] = {}
    for index, name in enumerate(header):  # duplicate names get a suffix so columns stay addressable
        if name in seen:
            seen[name] += 1
            header[index] = f"{name}_{seen[name]}"
        else:
            seen[name] = 1
    body = [list(record[:len(header)]) for record in records[1:]]
    types, rows = type_columns(header, body)
    return {"path": rel, "sheet": chosen, "sheets": sheets, "columns": header, "types": types, "rows": rows}


def _xlsx_records(data: bytes, rel: str, sheet: str | None) -> tuple[list[list[Any]], list[str], str]:
    import warnings
    import zipfile

    try:
        import openpyxl
    except ImportError:  # pragma: no cover - a declared dependency
        raise ToolError("reading xlsx needs the openpyxl package") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        raise ToolError(f"{rel} is not a valid xlsx workbook: {error}") from None
    try:
        names = list(book.sheetnames)
        if sheet is None:
            chosen = names[0]
        elif sheet in names:
            chosen = sheet
        else:
            raise ToolError(f"{rel} has no sheet {sheet!r}; sheets: {', '.join(names)}")
        records = []
        for row in book[chosen].iter_rows(values_only=True):
            records.append(list(row))
            if len(records) > 200_000:
                raise ToolError(f"{rel} has too many rows")
    finally:
        book.close()
    return records, names, chosen


# ---------------------------------------------------------------------------------- images, pdf
def image_header(data: bytes) -> dict[str, Any]:
    """format/width/height/mode of a PNG, JPEG or GIF from its header bytes."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 33 and data[12:16] == b"IHDR":
        width, height, depth, color = struct.unpack(">IIBB", data[16:26])
        modes = {0: "L" if depth > 1 else "1", 2: "RGB", 3: "P", 4: "LA", 6: "RGBA"}
        if depth == 16 and color in (0, 2, 4, 6):
            modes = {0: "I;16", 2: "RGB", 4: "LA", 6: "RGBA"}
        return {"format": "PNG", "width": width, "height": height, "mode": modes.get(color, "unknown"),
                "bit_depth": depth}
    if data.startswith(b"\xff\xd8"):
        index = 2
        while index + 4 <= len(data):
            if data[index] != 0xFF:
                break
            marker = data[index + 1]
            if marker == 0xFF:
                index += 1
                continue
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                index += 2
                continue
            (length,) = struct.unpack(">H", data[index + 2:index + 4])
            if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
                depth, height, width, components = struct.unpack(">BHHB", data[index + 4:index + 10])
                mode = {1: "L", 3: "RGB", 4: "CMYK"}.get(components, "unknown")
                return {"format": "JPEG", "width": width, "height": height, "mode": mode, "bit_depth": depth}
            index += 2 + length
        raise ToolError("JPEG file without a frame header")
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return {"format": "GIF", "width": width, "height": height, "mode": "P", "bit_depth": 8}
    raise ToolError("not a PNG, JPEG or GIF image")


def pdf_pages(data: bytes, rel: str) -> list[str]:
    try:
        import pypdf
    except ImportError:  # pragma: no cover - a declared dependency
        raise ToolError("reading pdf needs the pypdf package") from None
    import logging

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise ToolError(f"{rel} is encrypted")
        pages = reader.pages
        if len(pages) > 500:
            raise ToolError(f"{rel} has too many pages ({len(pages)})")
        return [page.extract_text() or "" for page in pages]
    except ToolError:
        raise
    except Exception as error:  # pypdf raises many types for damaged files
        raise ToolError(f"{rel} is not a readable PDF: {type(error).__name__}") from None
