"""Bounded work on hostile input (issue 13, item 3): Jinja templates, predictions, schema patterns.

Each case ran for seconds to forever (or crashed) before the limits; now it stops fast with a reason.
Limits are scaled down where that keeps a pathological-but-smaller input fast.
"""

from __future__ import annotations

import threading
import time

import pytest

import opentoollab.trainer.render.jinja as jinja
from opentoollab.benchmark.scoring.checker import check_calls
from opentoollab.benchmark.scoring.metrics import item_metrics
from opentoollab.benchmark.scoring.parse import DecodeError, parse_text
from opentoollab.benchmark.scoring.score import decode_calls
from opentoollab.tag.rules import _value_problem
from opentoollab.trainer.render.jinja import JinjaTemplate, TemplateLimit, TemplateRaised

USER = [{"role": "user", "content": "hi"}]


def _timed(function):
    started = time.perf_counter()
    try:
        return function(), time.perf_counter() - started
    except Exception as exc:  # noqa: BLE001 - the case under test decides
        return exc, time.perf_counter() - started


# ---------------------------------------------------------------------------------- Jinja
@pytest.mark.parametrize("source", [
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",  # no output, no calls
    "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
])
def test_template_loops_stop_at_the_time_limit(source, monkeypatch):
    monkeypatch.setattr(jinja, "RENDER_SECONDS", 0.3)
    result, seconds = _timed(lambda: JinjaTemplate(source).render(USER))
    assert isinstance(result, TemplateLimit) and "longer than 0.3 s" in str(result)
    assert seconds < 3


def test_template_time_limit_holds_in_a_worker_thread(monkeypatch):
    monkeypatch.setattr(jinja, "RENDER_SECONDS", 0.3)
    template = JinjaTemplate("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}")
    out = {}
    thread = threading.Thread(target=lambda: out.setdefault("r", _timed(lambda: template.render(USER))))
    thread.start()
    thread.join(30)
    result, seconds = out["r"]
    assert isinstance(result, TemplateLimit) and seconds < 3


@pytest.mark.parametrize("source, reason", [
    ("{{ 7 ** 30000000 }}", "bits"),
    ("{{ 'x' * 10**9 }}", "repetition"),
    ("{{ 'x'|center(10**9) }}", "size"),
    ("{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}", "limit"),
    ("{{ '%0999999999d' % 1 }}", "format width"),
])
def test_template_values_are_size_checked_before_they_are_built(source, reason):
    result, seconds = _timed(lambda: JinjaTemplate(source).render(USER))
    assert isinstance(result, TemplateLimit) and reason in str(result), result
    assert str(result)  # never an empty message
    assert seconds < 2


def test_template_output_is_size_limited(monkeypatch):
    monkeypatch.setattr(jinja, "MAX_OUTPUT_CHARS", 100_000)
    result, seconds = _timed(lambda: JinjaTemplate("{% for i in range(100000) %}{{ 'y' * 1000 }}{% endfor %}").render(USER))
    assert isinstance(result, TemplateLimit) and "more than 100,000 characters" in str(result)
    assert seconds < 2


def test_limited_template_is_a_skip_with_reason(monkeypatch):
    from opentoollab.trainer.render.base import Chat, Skip

    monkeypatch.setattr(jinja, "RENDER_SECONDS", 0.3)
    renderer = jinja.JinjaRenderer("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}")
    with pytest.raises(Skip) as caught:
        renderer.render(Chat(id="x", messages=USER + [{"role": "assistant", "content": "ok"}], tools=None))
    assert "longer than" in str(caught.value.args)


def test_normal_template_renders_unchanged():
    source = "{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}{{ (2 ** 10) ~ ('ab' * 2) }}"
    assert JinjaTemplate(source).render(USER) == "<user>hi1024abab"
    assert issubclass(TemplateLimit, TemplateRaised)


# ---------------------------------------------------------------------------------- predictions
DOC = {"name": "f", "parameters": {"type": "dict", "required": ["a"], "properties": {
    "a": {"type": "integer"}, "s": {"type": "string"}}}}
ANSWER = {"name": "f", "parameters": {"a": [1], "s": ["x", ""]}}


@pytest.mark.parametrize("text", [
    "f(a=999999**1000)",
    "[" * 200_000,
    "[" * 100_000 + "]" * 100_000,
    '{"name": "f", "arguments": {"a": ' + "[" * 100_000 + "]" * 100_000 + "}}",
    '{"name": "f", "arguments": {"a": ' + "[" * 900 + "]" * 900 + "}}",
    "<tool_call>" + "[" * 100_000 + "</tool_call>",
    "f(s=" + "+".join(["'x'*1000000"] * 200) + ")",
    "f(a=" + "+".join(["1"] * 100_000) + ")",
])
def test_pathological_predictions_are_decode_errors(text):
    result, seconds = _timed(lambda: parse_text(text))
    assert isinstance(result, DecodeError), result
    assert seconds < 2


def test_huge_numbers_in_calls_are_scored_wrong_not_crashed():
    calls = decode_calls({"calls": [{"name": "f", "arguments": {"a": 10 ** 400}}]})
    verdict = check_calls([DOC], calls, [ANSWER], "simple")
    assert verdict["valid"] is False and verdict["error"]
    assert item_metrics(calls, [ANSWER]) is not None
    with pytest.raises(DecodeError, match="over"):
        decode_calls({"calls": [{"name": "f", "arguments": {"a": 10 ** 4200}}]})


# ---------------------------------------------------------------------------------- tag patterns
def test_schema_pattern_check_does_not_backtrack():
    result, seconds = _timed(lambda: _value_problem({"type": "string", "pattern": "^(a+)+$"}, "a" * 28 + "!"))
    assert result[0] == "value_invalid" and "does not match" in result[2]
    assert seconds < 1
    assert _value_problem({"type": "string", "pattern": "^(a+)+$"}, "aaa") is None
    result = _value_problem({"type": "object", "patternProperties": {"^(a+)+$": {"type": "integer"}}},
                            {"a" * 40 + "!": 1, "aa": "x"})
    assert result[0] == "type_mismatch"
