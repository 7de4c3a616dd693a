"""BFCL's checker rules one by one, safe parsing, Hungarian matching, and `benchmark score` on bad input."""

from __future__ import annotations

import itertools
import json
import random

import pytest
from click.testing import CliRunner

from opentoollab.cli.benchmark import benchmark
from opentoollab.benchmark.scoring.checker import Options, check_calls
from opentoollab.benchmark.scoring.metrics import hungarian, item_metrics
from opentoollab.benchmark.scoring.parse import DecodeError, parse_text

DOC = {"name": "math.area", "parameters": {"type": "dict", "required": ["radius"], "properties": {
    "radius": {"type": "float"}, "count": {"type": "integer"}, "unit": {"type": "string"},
    "sizes": {"type": "array", "items": {"type": "integer"}}, "opts": {"type": "dict"}}}}
ANSWER = {"name": "math.area", "parameters": {"radius": [5.0], "count": [2, ""], "unit": ["square meters", ""],
                                               "sizes": [[1, 2], ""], "opts": [{"a": ["x"], "b": [1, ""]}, ""]}}


def check(arguments, name="math.area", mode="simple", options=Options()):
    return check_calls([DOC], [{"name": name, "arguments": arguments}], [ANSWER], mode, options)


@pytest.mark.parametrize("arguments, valid, error_type", [
    ({"radius": 5.0}, True, ""),
    ({"radius": 5}, True, ""),                                   # int accepted for float
    ({"radius": 5.0, "count": 2.0}, False, "type_error:simple"),  # float not accepted for int
    ({"radius": 5.0, "unit": "Square-Meters"}, True, ""),         # case, spaces, punctuation ignored
    ({"radius": 5.0, "unit": "square feet"}, False, "value_error:string"),
    ({"count": 2}, False, "simple_function_checker:missing_required"),
    ({"radius": 5.0, "color": "red"}, False, "simple_function_checker:unexpected_param"),
    # BFCL quirk: a "" candidate (optional) passes the nested type check; the value check then fails
    ({"radius": 5.0, "sizes": [1, "2"]}, False, "value_error:list/tuple"),
    ({"radius": 5.0, "sizes": [2, 1]}, False, "value_error:list/tuple"),
    ({"radius": 5.0, "opts": {"a": "X"}}, True, ""),               # nested dict, optional key left out
    ({"radius": 5.0, "opts": {"a": "x", "c": 1}}, False, "value_error:dict_key"),
    ({"radius": 6.0}, False, "value_error:others"),
])
def test_simple_rules(arguments, valid, error_type):
    result = check(arguments)
    assert result["valid"] is valid and result["error_type"] == error_type, result


def test_names_counts_and_underscore_option():
    assert check({"radius": 5.0}, name="math_area")["error_type"] == "simple_function_checker:wrong_func_name"
    assert check({"radius": 5.0}, name="math_area", options=Options(underscore_to_dot=True))["valid"]
    assert check_calls([DOC], [], [ANSWER], "simple")["error_type"] == "simple_function_checker:wrong_count"
    two = [{"name": "math.area", "arguments": {"radius": 5.0}}, {"name": "math.area", "arguments": {"radius": 3.0}}]
    answers = [ANSWER, {**ANSWER, "parameters": {**ANSWER["parameters"], "radius": [3.0]}}]
    assert check_calls([DOC], two, answers, "parallel")["valid"]
    assert check_calls([DOC], two[::-1], answers, "parallel")["valid"]          # order-free
    assert not check_calls([DOC], two[:1] * 2, answers, "parallel")["valid"]    # each answer used once


def test_java_and_javascript_values_are_converted_like_bfcl():
    java = {"name": "f", "parameters": {"type": "dict", "required": [], "properties": {
        "n": {"type": "long"}, "xs": {"type": "Array", "items": {"type": "integer"}}, "ok": {"type": "boolean"}}}}
    answer = {"name": "f", "parameters": {"n": [5], "xs": [[1, 2]], "ok": [True]}}
    opts = Options(language="java")
    good = {"name": "f", "arguments": {"n": "5L", "xs": "new int[]{1, 2}", "ok": "true"}}
    assert check_calls([java], [good], [answer], "simple", opts)["valid"]
    assert check_calls([java], [{"name": "f", "arguments": {"n": "5", "xs": "new int[]{1, 2}", "ok": "true"}}],
                       [answer], "simple", opts)["error_type"] == "type_error:simple"  # 5 is not a long literal
    assert check_calls([java], [{"name": "f", "arguments": {**good["arguments"], "n": 5}}], [answer], "simple",
                       opts)["error_type"] == "type_error:java"
    js = {"name": "g", "parameters": {"type": "dict", "required": [], "properties": {"d": {"type": "dict"}}}}
    assert check_calls([js], [{"name": "g", "arguments": {"d": "{'k': 1}"}}],
                       [{"name": "g", "parameters": {"d": [{"k": [1]}]}}], "simple", Options(language="javascript"))["valid"]


def test_parse_text_formats_and_no_eval(tmp_path):
    assert parse_text("[f(a=1, b='x'), g.h(c=[1, 2])]") == [
        {"name": "f", "arguments": {"a": 1, "b": "x"}}, {"name": "g.h", "arguments": {"c": [1, 2]}}]
    assert parse_text("```\nf(a=2*3, b=-1)\n```") == [{"name": "f", "arguments": {"a": 6, "b": -1}}]
    assert parse_text('<tool_call>\n{"name": "f", "arguments": {"a": 1}}\n</tool_call>') == [{"name": "f", "arguments": {"a": 1}}]
    assert parse_text('[{"name": "f", "arguments": "{\\"a\\": 1}"}]') == [{"name": "f", "arguments": {"a": 1}}]
    marker = tmp_path / "pwned"
    calls = parse_text(f"f(a=__import__('os').system('touch {marker}'))")
    assert not marker.exists() and isinstance(calls[0]["arguments"]["a"], str)
    for bad in ("not a call at all", "f(a=lambda: 1)", "f(a=10**10**10)", "[1, 2]"):
        with pytest.raises(DecodeError):
            parse_text(bad)


def test_hungarian_is_optimal():
    rng = random.Random(7)
    for _ in range(200):
        rows, cols = rng.randint(1, 5), rng.randint(1, 5)
        w = [[rng.choice([0, 0.5, 1, 1.5, 2]) for _ in range(cols)] for _ in range(rows)]
        pairs = hungarian(w)
        best = max(sum(w[r][c] for r, c in zip(perm, range(cols)) if r is not None)
                   for perm in itertools.permutations(list(range(rows)) + [None] * cols, cols))
        assert abs(sum(w[r][c] for r, c in pairs) - best) < 1e-9
        assert len({r for r, _ in pairs}) == len(pairs) == min(rows, cols)


def test_generic_metrics_match_parallel_calls_optimally():
    answers = [{"name": "f", "parameters": {"a": [1]}}, {"name": "f", "parameters": {"a": [2]}}]
    swapped = [{"name": "f", "arguments": {"a": 2}}, {"name": "f", "arguments": {"a": 1}}]
    assert item_metrics(swapped, answers)["exact"] == 1
    half = item_metrics([{"name": "f", "arguments": {"a": 2}}, {"name": "g", "arguments": {}}], answers)
    assert half["exact"] == 0 and half["tool_hits"] == 1 and half["param_right"] == 1 and half["param_total"] == 2


def test_score_cli_reports_bad_lines_and_unknown_ids(bfcl_store, tmp_path):
    predictions = tmp_path / "p.jsonl"
    predictions.write_text("\n".join([
        json.dumps({"id": "simple_python_0", "result": "[calculate_triangle_area(base=10, height=5)]"}),
        json.dumps({"id": "BFCL_simple_python_1", "result": "((("}),
        "{broken json",
        json.dumps({"id": "no_such_item", "calls": []}),
        json.dumps({"id": "simple_python_0", "calls": []}),
    ]) + "\n")
    out = tmp_path / "out"
    result = CliRunner().invoke(benchmark, ["score", "-d", "BFCL/simple_python", "-p", str(predictions), "-o", str(out),
                                            "--data-dir", str(bfcl_store.root), "-q"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [r["error_type"] for r in rows] == [None, "ast_decoder:decoder_failed", "prediction:invalid",
                                               "prediction:unknown_id", "prediction:duplicate_id"]
    assert rows[0]["valid"] and rows[0]["sample_id"] == "BFCL_simple_python_0"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["predictions"] == 5 == summary["scored"] + summary["rejected"]
    assert summary["categories"]["simple_python"]["missing"] == 398
    missing = CliRunner().invoke(benchmark, ["score", "-d", "NOPE", "-p", str(predictions), "--data-dir", str(bfcl_store.root)])
    assert missing.exit_code == 2 and "Traceback" not in missing.output
