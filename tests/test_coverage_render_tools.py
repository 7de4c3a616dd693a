"""Edges of the sandboxed chat-template runner (trainer/render/jinja.py) and the workspace file readers
(tools/files_readers.py): limits, one-line errors, template features, malformed or oversized files.

Limits are asserted twice where it matters: through ``JinjaTemplate.render`` (what the product runs) and by
rendering the compiled template directly (the guards live in the environment, so they hold without the render
loop's clock hook too; that hook replaces coverage's tracer on Python < 3.12, so only the direct path is measured).
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
from pathlib import Path

import jinja2
import pytest

from opentoollab.tools.base import ToolError
from opentoollab.tools.files_readers import MAX_TABLE_BYTES, clean_number, image_header, load_table, pdf_pages
from opentoollab.tools.sandbox import Sandbox
from opentoollab.trainer.render import jinja
from opentoollab.trainer.render.base import Chat, Skip
from opentoollab.trainer.render.jinja import (JinjaRenderer, JinjaTemplate, TemplateLimit, TemplateRaised,
                                              compile_template, load_tokenizer_template, prefix_spans, probe,
                                              template_from_config)

TEMPLATES = Path(__file__).resolve().parents[1] / ".." / "shared" / "chat_templates"


def _both(source: str, **kwargs) -> list[Exception]:
    """The exception raised by the product's render and by the compiled template rendered directly."""
    caught = []
    for run in (lambda: JinjaTemplate(source).render(kwargs.get("messages", [])),
                lambda: compile_template(source).render(**kwargs)):
        with pytest.raises(Exception) as info:
            run()
        caught.append(info.value)
    return caught


# ------------------------------------------------------------------------------------------ template features
def test_tojson_matches_transformers_options():
    data = {"b": "é", "a": [1, 2]}
    source = "{{ d|tojson }}|{{ d|tojson(indent=2, sort_keys=True) }}|{{ d|tojson(ensure_ascii=True, separators=(',', ':')) }}"
    expected = "|".join([json.dumps(data, ensure_ascii=False), json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True),
                         json.dumps(data, separators=(",", ":"))])
    assert compile_template(source).render(d=data) == expected
    assert JinjaTemplate(source, d=data).render([]) == expected


def test_raise_exception_is_one_line_template_raised():
    source = "{% if messages[0].role != 'user' %}{{ raise_exception('Conversations must start with a user message') }}{% endif %}ok"
    ours, direct = _both(source, messages=[{"role": "system", "content": "s"}])
    assert isinstance(ours, TemplateRaised) and not isinstance(ours, TemplateLimit)
    assert str(ours) == "TemplateError: Conversations must start with a user message"
    assert isinstance(direct, jinja2.TemplateError)
    assert JinjaTemplate(source).render([{"role": "user", "content": "u"}]) == "ok"


def test_strftime_now_uses_the_frozen_date_in_an_official_template():
    source = (TEMPLATES / "Llama-3.2-Instruct.jinja").read_text("utf-8")
    messages = [{"role": "user", "content": "hi"}]
    text = JinjaTemplate(source, {"bos_token": "<|begin_of_text|>"}, date_string="05 Jan 2025").render(messages)
    assert "Today Date: 05 Jan 2025" in text
    direct = compile_template(source, "05 Jan 2025").render(messages=messages, bos_token="", add_generation_prompt=False)
    assert "Today Date: 05 Jan 2025" in direct
    assert "Today Date: 26 Jul 2024" in JinjaTemplate(source).render(messages)  # DESIGN §4 default


def test_generation_tag_renders_its_body():
    source = "{% for m in messages %}{% if m.role == 'assistant' %}{% generation %}[{{ m.content }}]{% endgeneration %}{% else %}{{ m.content }}{% endif %}{% endfor %}"
    messages = [{"role": "user", "content": "u"}, {"role": "assistant", "content": "a"}]
    assert JinjaTemplate(source).render(messages) == "u[a]"
    assert compile_template(source).render(messages=messages) == "u[a]"


def test_a_template_that_does_not_compile_is_one_line_value_error():
    with pytest.raises(ValueError) as info:
        JinjaTemplate("{% for m in messages %}{{ m }}")
    assert str(info.value).startswith("chat template does not compile: ") and "\n" not in str(info.value)


# ------------------------------------------------------------------------------------------ limits
@pytest.mark.parametrize("source, needle", [
    ("{{ 'x' * 9000000 }}", "repetition of 1 items 9,000,000 times"),
    ("{{ 9000000 * 'x' }}", "repetition of 1 items 9,000,000 times"),
    ("{{ 2 ** 100000 }}", "** result over 64,000 bits"),
    ("{% set a = 2 ** 40000 %}{{ a * a }}", "* result over 64,000 bits"),
    ("{% set s = 'x' * 5000000 %}{{ s + s }}", "concatenation exceeds 8,000,000 items"),
    ("{{ '%10000000d' % 1 }}", "format width of a million characters or more"),
    ("{{ '{:>10000000}'.format(1) }}", "format width of a million characters or more"),  # refused before it is built
    ("{{ 'x'|center(9000000) }}", "filter 'center' called with a size of 9,000,000"),
    ("{{ 'x'.ljust(9000000) }}", "ljust called with a size of 9,000,000"),
    ("{% set s = 'x' * 8000000 %}{% set ns = namespace(a='') %}{% set ns.a = s ~ 'y' %}",
     "namespace attribute 'a' would hold 8,000,001 items"),
    ("{% set b = (2 ** 31999) * (2 ** 31999) %}{{ [b, b, b, b]|sum }}", "the result of filter 'sum' is an integer over 64,000 bits"),
])
def test_values_too_large_are_refused_before_they_are_built(source, needle):
    for error in _both(source):
        assert isinstance(error, TemplateLimit), repr(error)
        assert needle in str(error) and "\n" not in str(error)


@pytest.mark.parametrize("source", ["{{ '{:>1500000}'.format(1) }}", "{% set f = '{:>1500000}'.format %}{{ f(1) }}",
                                    "{{ '{x:>1500000}'.format_map({'x': 1}) }}"])
def test_a_huge_str_format_width_is_refused_before_it_is_built(source):
    """jinja2 >= 3.1.5 hands out str.format wrapped (no ``__self__``): the width is checked when it is read."""
    with pytest.raises(TemplateLimit, match="format width"):
        JinjaTemplate(source).render([])


def test_values_just_under_the_limits_are_allowed():
    text = JinjaTemplate("{% set b = (2 ** 31999) * (2 ** 31999) %}{{ ([b, b, b]|sum).bit_length() }}|{{ ('x' * 8000000)|length }}"
                         "|{{ '%5d' % 7 }}|{{ '{:>4}'.format(1) }}|{{ 'ab'|center(6) }}").render([])
    assert text == "64000|8000000|    7|   1|  ab  "


def test_a_slow_template_stops_at_the_deadline(monkeypatch):
    monkeypatch.setattr(jinja, "RENDER_SECONDS", 0.2)
    source = "{% for i in range(100000) %}{% for j in range(100000) %}{% set k = messages[0] %}{% endfor %}{% endfor %}"
    with pytest.raises(TemplateLimit, match="ran longer than 0.2 s"):
        JinjaTemplate(source).render([{"role": "user", "content": "u"}])
    # the guards check the same clock (the render's thread-local deadline) when rendered directly
    monkeypatch.setattr(jinja._RENDER, "deadline", 0.0, raising=False)
    for probe_source in ("{{ messages[0] }}", "{{ messages.x }}", "{{ 1 + 1 }}", "{{ 'a'|upper }}", "{{ 'a'.upper() }}",
                         "{% set ns = namespace(a=1) %}{% set ns.a = 2 %}"):
        with pytest.raises(TemplateLimit, match="ran longer than"):
            compile_template(probe_source).render(messages=[{}])


def test_runaway_recursion_is_a_limit_not_a_crash():
    source = "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"
    with pytest.raises(TemplateLimit, match="recursed too deeply"):
        JinjaTemplate(source).render([])


def test_getattr_and_getitem_go_through_the_sandbox():
    with pytest.raises(jinja2.exceptions.SecurityError):  # the sandbox still refuses private attributes
        compile_template("{{ messages.__class__.__mro__ }}").render(messages=[{"content": "c"}])
    assert compile_template("{{ messages[0]['content'] }}/{{ messages[0].content|upper }}").render(
        messages=[{"content": "c"}]) == "c/C"


# ------------------------------------------------------------------------------------------ spans, prompt, probe
def _chat(messages, tools=None) -> Chat:
    return Chat(id="t", messages=messages, tools=tools)


PLAIN = "{% for m in messages %}{{ m.content }}{% endfor %}"


def test_consecutive_assistant_messages_make_one_span():
    rendered = prefix_spans(JinjaTemplate(PLAIN), _chat([{"role": "user", "content": "u"}, {"role": "assistant", "content": "a"},
                                                         {"role": "assistant", "content": "b"}]))
    assert rendered.text == "uab" and rendered.spans == [[1, 3]]


def test_a_prefix_that_does_not_render_is_not_prefix_stable():
    source = "{% if messages|length == 2 %}{{ raise_exception('needs a reply') }}{% endif %}" + PLAIN
    chat = _chat([{"role": "user", "content": "u"}, {"role": "assistant", "content": "a"}, {"role": "user", "content": "v"}])
    with pytest.raises(Skip) as info:
        prefix_spans(JinjaTemplate(source), chat)
    assert info.value.reason == "template_not_prefix_stable" and "needs a reply" in info.value.detail


def test_prompt_ends_with_the_generation_prompt_of_an_official_template():
    renderer = JinjaRenderer((TEMPLATES / "Qwen2.5-Instruct.jinja").read_text("utf-8"))
    assert renderer.prompt(_chat([{"role": "user", "content": "hi"}])).endswith("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n")
    refusing = JinjaRenderer("{{ raise_exception('system only') }}")
    with pytest.raises(Skip) as info:
        refusing.prompt(_chat([{"role": "user", "content": "hi"}]))
    assert info.value.reason == "template_error" and "system only" in info.value.detail


def test_probe_names_what_a_template_drops():
    assert probe(JinjaTemplate((TEMPLATES / "Qwen2.5-Instruct.jinja").read_text("utf-8"))) == []
    assert probe(JinjaTemplate(PLAIN)) == ["the template does not show the tools passed as tools=…",
                                           "the template drops tool calls (a sentinel argument does not appear)"]
    no_results = "{{ tools|tojson }}{% for m in messages %}{% if m.role != 'tool' %}{{ m.content }}{{ m.tool_calls|tojson if m.tool_calls }}{% endif %}{% endfor %}"
    assert probe(JinjaTemplate(no_results)) == ["the template drops tool results (a sentinel result does not appear)"]
    refuses = "{% if tools %}{{ raise_exception('tools are not supported') }}{% endif %}"
    warnings = probe(JinjaTemplate(refuses))
    assert warnings[0] == "the template does not show the tools passed as tools=…"
    assert warnings[1].startswith("the template cannot render a tool call with its result (TemplateError: tools are not supported")


# ------------------------------------------------------------------------------------------ tokenizer templates
def test_template_from_config_prefers_tool_use_variant():
    variants = [{"name": "default", "template": "D"}, {"name": "tool_use", "template": "T"}, "junk"]
    assert template_from_config({"chat_template": variants}) == "T"
    assert template_from_config({"chat_template": variants}, tools=False) == "D"
    assert template_from_config({"chat_template": [{"name": "rag", "template": "R"}]}) == "R"
    assert template_from_config({"chat_template": 3}) is None


def test_local_tokenizer_folder_tokens_and_missing_template(tmp_path):
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({
        "bos_token": {"content": "<s>", "lstrip": False}, "eos_token": "</s>", "pad_token": None,
        "chat_template": [{"name": "default", "template": "{{ bos_token }}"}]}), "utf-8")
    source, special, origin = load_tokenizer_template(str(tmp_path))
    assert (source, special, origin) == ("{{ bos_token }}", {"bos_token": "<s>", "eos_token": "</s>"}, str(tmp_path))
    (tmp_path / "chat_template.jinja").write_text("{{ eos_token }}", "utf-8")  # the file wins over the config
    assert load_tokenizer_template(str(tmp_path))[0] == "{{ eos_token }}"
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="no chat template found"):
        load_tokenizer_template(str(empty))


# ------------------------------------------------------------------------------------------ tables
@pytest.fixture()
def sandbox(tmp_path) -> Sandbox:
    return Sandbox(tmp_path)


def _put(sandbox: Sandbox, name: str, data: bytes) -> str:
    (sandbox.root / name).write_bytes(data)
    return name


def test_clean_number_makes_cells_json_safe():
    assert [clean_number(v) for v in (float("nan"), float("inf"), float("-inf"), 0.1 + 0.2, 3, "x")] == [None, None, None, 0.3, 3, "x"]


@pytest.mark.parametrize("data, message", [
    (b"a,b\n1,\x002\n", "t.csv is a binary file, not text"),
    ("a,b\ncafé,1\n".encode("latin-1"), "t.csv is not UTF-8 text"),
    (b"a\n" + b"x" * 200_000 + b"\n", "t.csv is not valid csv: field larger than field limit"),
])
def test_malformed_csv_is_one_tool_error(sandbox, data, message):
    with pytest.raises(ToolError) as info:
        load_table(sandbox, _put(sandbox, "t.csv", data))
    assert str(info.value).startswith(message) and "\n" not in str(info.value)


def test_oversized_table_is_refused(sandbox):
    with pytest.raises(ToolError, match="t.csv"):
        load_table(sandbox, _put(sandbox, "t.csv", b"a\n" + b"1\n" * (MAX_TABLE_BYTES // 2 + 1)))


def test_csv_shape_edges(sandbox):
    _put(sandbox, "blank.csv", b"\n,,\n\n")
    assert load_table(sandbox, "blank.csv") == {"path": "blank.csv", "sheet": None, "sheets": [], "columns": [], "types": [], "rows": []}
    _put(sandbox, "dup.tsv", "\ufeffname\tname\t\tname\nx\t1\t2.5\t\n".encode())
    table = load_table(sandbox, "dup.tsv")
    assert table["columns"] == ["name", "name_2", "column_3", "name_3"]
    assert table["types"] == ["string", "integer", "number", "string"] and table["rows"] == [["x", 1, 2.5, None]]
    with pytest.raises(ToolError, match="dup.tsv is a tsv file; it has no sheets"):
        load_table(sandbox, "dup.tsv", sheet="Sheet1")


def test_table_cache_keeps_eight_and_follows_content(sandbox):
    for i in range(10):
        _put(sandbox, f"t{i}.csv", f"n\n{i}\n".encode())
        assert load_table(sandbox, f"t{i}.csv")["rows"] == [[i]]
    assert len(sandbox.tables) == 8 and {key[0] for key in sandbox.tables} == {f"t{i}.csv" for i in range(2, 10)}
    _put(sandbox, "t9.csv", b"n\n99\n")  # new bytes, new parse
    assert load_table(sandbox, "t9.csv")["rows"] == [[99]]


def test_xlsx_cells_sheets_and_damage(sandbox):
    import datetime

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Data"
    sheet.append(["when", "mixed", "ratio"])
    sheet.append([datetime.datetime(2024, 7, 26, 9, 30), 3.0, float("nan")])
    sheet.append([datetime.date(2024, 1, 2), "x", 0.5])
    book.create_sheet("Other").append(["k"])
    buffer = io.BytesIO()
    book.save(buffer)
    _put(sandbox, "b.xlsx", buffer.getvalue())
    table = load_table(sandbox, "b.xlsx")
    assert table["sheets"] == ["Data", "Other"] and table["sheet"] == "Data"
    assert table["types"] == ["string", "string", "number"]
    assert table["rows"] == [["2024-07-26T09:30:00", "3", None], ["2024-01-02T00:00:00", "x", 0.5]]
    assert load_table(sandbox, "b.xlsx", sheet="Other")["columns"] == ["k"]
    with pytest.raises(ToolError, match="b.xlsx has no sheet 'Nope'; sheets: Data, Other"):
        load_table(sandbox, "b.xlsx", sheet="Nope")
    _put(sandbox, "bad.xlsx", b"PK\x03\x04 not really a zip")
    with pytest.raises(ToolError, match="bad.xlsx is not a valid xlsx workbook"):
        load_table(sandbox, "bad.xlsx")


def test_xlsx_with_too_many_rows_is_refused(sandbox):
    import openpyxl

    buffer = io.BytesIO()
    openpyxl.Workbook().save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    rows = "".join(f'<row r="{i}"><c r="A{i}"><v>1</v></c></row>' for i in range(1, 200_003))
    sheet = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             f"<sheetData>{rows}</sheetData></worksheet>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item.filename, sheet if item.filename == "xl/worksheets/sheet1.xml" else source.read(item))
    assert len(out.getvalue()) < MAX_TABLE_BYTES
    with pytest.raises(ToolError, match="big.xlsx has too many rows"):
        load_table(sandbox, _put(sandbox, "big.xlsx", out.getvalue()))


# ------------------------------------------------------------------------------------------ images, pdf
def _png(depth: int, color: int) -> bytes:
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + struct.pack(">IIBBBBB", 7, 5, depth, color, 0, 0, 0) + b"\0" * 4


def test_png_modes_including_sixteen_bit():
    assert image_header(_png(8, 6))["mode"] == "RGBA"
    assert image_header(_png(16, 0)) == {"format": "PNG", "width": 7, "height": 5, "mode": "I;16", "bit_depth": 16}
    assert image_header(_png(8, 5))["mode"] == "unknown"


def test_jpeg_markers_fill_bytes_and_missing_frame():
    frame = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, 48, 64, 3)
    app0 = b"\xff\xe0" + struct.pack(">H", 4) + b"JF"
    data = b"\xff\xd8" + b"\xff\xff" + b"\xff\xd0" + app0 + frame + b"\0" * 4
    assert image_header(data) == {"format": "JPEG", "width": 64, "height": 48, "mode": "RGB", "bit_depth": 8}
    for broken in (b"\xff\xd8" + app0 + b"\x00\x00\x00\x00\x00", b"\xff\xd8\xff\xe0\x00\x10"):
        with pytest.raises(ToolError, match="JPEG file without a frame header"):
            image_header(broken)


def test_gif_and_unknown_images():
    assert image_header(b"GIF89a" + struct.pack("<HH", 3, 2) + b"\0") == {"format": "GIF", "width": 3, "height": 2,
                                                                          "mode": "P", "bit_depth": 8}
    for data in (b"GIF89a\x01", b"BM not supported", b""):
        with pytest.raises(ToolError, match="not a PNG, JPEG or GIF image"):
            image_header(data)


def _pdf(pages: int, password: str | None = None) -> bytes:
    import pypdf

    writer = pypdf.PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=72, height=72)
    if password:
        writer.encrypt(password)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def test_pdf_limits_and_damage():
    assert pdf_pages(_pdf(2), "a.pdf") == ["", ""]
    with pytest.raises(ToolError, match="^s.pdf is encrypted$"):
        pdf_pages(_pdf(1, "secret"), "s.pdf")
    with pytest.raises(ToolError, match=r"^big.pdf has too many pages \(501\)$"):
        pdf_pages(_pdf(501), "big.pdf")
    for damaged in (b"%PDF-1.7\n garbage", b"not a pdf at all", _pdf(3)[:200]):
        with pytest.raises(ToolError, match=r"^d.pdf is not a readable PDF: \w+$"):
            pdf_pages(damaged, "d.pdf")
