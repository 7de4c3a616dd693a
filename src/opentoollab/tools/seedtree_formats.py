"""Byte-exact writers for the file formats of the seed tree (``opentoollab.tools.seedtree``).

xlsx as a STORED zip with fixed timestamps and inline strings, PDF with uncompressed content streams
(Helvetica, WinAnsi), PNG with stored (level-0) deflate blocks written by hand, JPEG as a DC-only baseline
image; plus the two text serialisations the tree uses, CSV and block-style YAML. Every writer is a pure
function of its arguments using only exact integer arithmetic, so its bytes are the same under any Python,
zlib or platform. Nothing here knows about seeds, paths or the tree's content.

May import: the standard library only.
"""

from __future__ import annotations

import csv
import io
import json
import re
import struct
import zipfile
import zlib
from typing import Any, Callable
from xml.sax.saxutils import escape as _xml_escape


# ---------------------------------------------------------------------------------- xlsx
_ZIP_TIME = (2024, 1, 1, 0, 0, 0)


def _zip_stored(members: list[tuple[str, bytes]]) -> bytes:
    """A zip archive with STORED members and fixed metadata (no compressor whose output could vary)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, _ZIP_TIME)
            info.compress_type = zipfile.ZIP_STORED
            info.create_system = 0
            info.external_attr = 0
            archive.writestr(info, data)
    return buffer.getvalue()


def _col_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def xlsx(sheets: list[tuple[str, list[str], list[list[Any]]]]) -> bytes:
    """A minimal valid .xlsx workbook: one worksheet per (name, header, rows); inline strings, no styles."""
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel_ns = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
    members: list[tuple[str, bytes]] = []
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
        f'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(1, len(sheets) + 1))
    members.append(("[Content_Types].xml", (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        f'{overrides}</Types>').encode()))
    members.append(("_rels/.rels", (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'officeDocument" Target="xl/workbook.xml"/></Relationships>').encode()))
    sheet_list = "".join(f'<sheet name="{_xml_escape(name, {chr(34): "&quot;"})}" sheetId="{i}" r:id="rId{i}"/>'
                         for i, (name, _, _) in enumerate(sheets, 1))
    members.append(("xl/workbook.xml", (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook {ns} {rel_ns}>'
        f'<sheets>{sheet_list}</sheets></workbook>').encode()))
    rels = "".join(
        f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        f'worksheet" Target="worksheets/sheet{i}.xml"/>' for i in range(1, len(sheets) + 1))
    rels += (f'<Relationship Id="rId{len(sheets) + 1}" Type="http://schemas.openxmlformats.org/officeDocument/'
             f'2006/relationships/styles" Target="styles.xml"/>')
    members.append(("xl/_rels/workbook.xml.rels", (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{rels}'
        '</Relationships>').encode()))
    members.append(("xl/styles.xml", (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<styleSheet {ns}>'
        '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
        '</styleSheet>').encode()))
    for i, (_, header, rows) in enumerate(sheets, 1):
        xml_rows = []
        for r, row in enumerate([header, *rows], 1):
            cells = []
            for c, value in enumerate(row):
                ref = f"{_col_letter(c)}{r}"
                if value is None:
                    continue
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    text = _xml_escape(str(value))
                    cells.append(f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>')
                else:
                    cells.append(f'<c r="{ref}"><v>{value!r}</v></c>')
            xml_rows.append(f'<row r="{r}">{"".join(cells)}</row>')
        width = max(len(header), 1)
        dimension = f"A1:{_col_letter(width - 1)}{len(rows) + 1}"
        members.append((f"xl/worksheets/sheet{i}.xml", (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet {ns}>'
            f'<dimension ref="{dimension}"/><sheetData>{"".join(xml_rows)}</sheetData></worksheet>').encode()))
    return _zip_stored(members)


# ---------------------------------------------------------------------------------- png
def _zlib_stored(data: bytes) -> bytes:
    """A zlib stream of stored (uncompressed) deflate blocks, written by hand: identical under any zlib."""
    out = bytearray(b"\x78\x01")
    blocks = [data[i:i + 65535] for i in range(0, len(data), 65535)] or [b""]
    for index, block in enumerate(blocks):
        out.append(1 if index == len(blocks) - 1 else 0)
        out += struct.pack("<HH", len(block), len(block) ^ 0xFFFF)
        out += block
    out += struct.pack(">I", zlib.adler32(data))
    return bytes(out)


_PNG_COLOR = {"L": (0, 1), "RGB": (2, 3), "P": (3, 1), "LA": (4, 2), "RGBA": (6, 4)}


def png(width: int, height: int, mode: str, rows: list[bytes],
         palette: list[tuple[int, int, int]] | None = None) -> bytes:
    """A PNG image (8-bit, filter 0 on every row, stored deflate)."""
    color_type, _ = _PNG_COLOR[mode]

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    raw = b"".join(b"\x00" + row for row in rows)
    parts = [b"\x89PNG\r\n\x1a\n", chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0))]
    if palette:
        parts.append(chunk(b"PLTE", b"".join(bytes(rgb) for rgb in palette)))
    parts.append(chunk(b"tEXt", b"Software\x00OpenToolLab seedtree"))
    parts.append(chunk(b"IDAT", _zlib_stored(raw)))
    parts.append(chunk(b"IEND", b""))
    return b"".join(parts)


# ---------------------------------------------------------------------------------- jpeg
# JPEG: baseline, 4:4:4, every 8x8 block flat (DC coefficient only), standard DC Huffman table.
_DC_BITS = (0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0)
_DC_CODES = {0: "00", 1: "010", 2: "011", 3: "100", 4: "101", 5: "110", 6: "1110", 7: "11110",
             8: "111110", 9: "1111110", 10: "11111110", 11: "111111110"}
_AC_BITS = (0, 2) + (0,) * 14  # two 2-bit codes: 0x00 (end of block) = "00", 0x01 (unused) = "01"


def jpeg(width: int, height: int, block_color: Callable[[int, int], tuple[int, int, int]]) -> bytes:
    """A baseline JPEG whose 8x8 block (bx, by) has the RGB colour ``block_color(bx, by)``."""
    def segment(marker: int, body: bytes) -> bytes:
        return struct.pack(">BBH", 0xFF, marker, len(body) + 2) + body

    header = [b"\xff\xd8", segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")]
    header.append(segment(0xDB, b"\x00" + bytes([8] * 64)))
    header.append(segment(0xC0, struct.pack(">BHHB", 8, height, width, 3)
                          + b"\x01\x11\x00\x02\x11\x00\x03\x11\x00"))
    header.append(segment(0xC4, b"\x00" + bytes(_DC_BITS) + bytes(range(12))))
    header.append(segment(0xC4, b"\x10" + bytes(_AC_BITS) + b"\x00\x01"))
    header.append(segment(0xDA, b"\x03\x01\x00\x02\x00\x03\x00\x00\x3f\x00"))
    accumulator, count = 0, 0  # bits not yet written, and how many
    previous = [0, 0, 0]
    for by in range((height + 7) // 8):
        for bx in range((width + 7) // 8):
            r, g, b = block_color(bx, by)
            y = (299 * r + 587 * g + 114 * b + 500) // 1000
            cb = (-168736 * r - 331264 * g + 500000 * b + 128_500_000) // 1_000_000
            cr = (500000 * r - 418688 * g - 81312 * b + 128_500_000) // 1_000_000
            for component, value in enumerate((y, cb, cr)):
                dc = max(0, min(255, value)) - 128
                diff = dc - previous[component]
                previous[component] = dc
                size = abs(diff).bit_length()
                code = _DC_CODES[size]
                accumulator = (accumulator << len(code)) | int(code, 2)
                count += len(code)
                if size:
                    accumulator = (accumulator << size) | (diff if diff > 0 else diff + (1 << size) - 1)
                    count += size
                accumulator <<= 2  # "00": end of block, no AC coefficients
                count += 2
    padding = -count % 8
    accumulator = (accumulator << padding) | ((1 << padding) - 1)
    count += padding
    data = accumulator.to_bytes(count // 8, "big") if count else b""
    data = data.replace(b"\xff", b"\xff\x00")
    return b"".join(header) + data + b"\xff\xd9"


# ---------------------------------------------------------------------------------- pdf
def _pdf_text(text: str) -> str:
    text = text.encode("latin-1", "replace").decode("latin-1")
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def pdf(title: str, pages: list[list[str]]) -> bytes:
    """A minimal valid PDF: one Helvetica text page per list of lines (first page starts with the title)."""
    objects: list[bytes] = []
    count = len(pages)
    font_id = 3
    page_ids = [4 + 2 * i for i in range(count)]
    info_id = 4 + 2 * count
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{' '.join(f'{p} 0 R' for p in page_ids)}] /Count {count} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    for number, lines in enumerate(pages):
        ops = ["BT", "/F1 11 Tf", "15 TL", "72 760 Td"]
        if number == 0:
            ops += ["/F1 16 Tf", f"({_pdf_text(title)}) Tj", "/F1 11 Tf", "0 -28 Td"]
        for line in lines:
            ops.append(f"({_pdf_text(line)}) Tj T*")
        ops.append(f"0 -20 Td (Page {number + 1} of {count}) Tj")
        ops.append("ET")
        stream = "\n".join(ops).encode("latin-1")
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 "
                       f"{font_id} 0 R >> >> /Contents {page_ids[number] + 1} 0 R >>".encode())
        objects.append(b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream")
    objects.append(f"<< /Title ({_pdf_text(title)}) /Producer (OpenToolLab seedtree) >>".encode("latin-1"))
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info {info_id} 0 R >>\n"
            f"startxref\n{xref}\n%%EOF\n").encode()
    return bytes(out)


# ---------------------------------------------------------------------------------- csv and yaml
def csv_text(header: list[str], rows: list[list[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def yaml_text(value: Any, indent: int = 0) -> str:
    """Block-style YAML for dicts/lists of scalars (what the configs here need)."""
    pad = "  " * indent
    lines: list[str] = []

    def scalar(item: Any) -> str:
        if item is None:
            return "null"
        if isinstance(item, bool):
            return "true" if item else "false"
        if isinstance(item, (int, float)):
            return repr(item)
        text = str(item)
        if (not text or re.search(r"[:#\[\]{},&*!|>'\"%@`]|^\s|\s$|^-", text)
                or text.lower() in ("true", "false", "yes", "no", "null", "on", "off")
                or re.fullmatch(r"[-+0-9.eE]+", text)):
            return json.dumps(text, ensure_ascii=False)
        return text

    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                lines.append(f"{pad}{key}:")
                lines.append(yaml_text(item, indent + 1))
            elif isinstance(item, (dict, list)):
                lines.append(f"{pad}{key}: {'{}' if isinstance(item, dict) else '[]'}")
            else:
                lines.append(f"{pad}{key}: {scalar(item)}")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict) and item:
                first = True
                for line in yaml_text(item, indent + 1).split("\n"):
                    lines.append(f"{pad}- {line.lstrip()}" if first else line)
                    first = False
            else:
                lines.append(f"{pad}- {scalar(item)}")
    return "\n".join(lines)
