"""Fuzzing the inputs of `python datasets validate`, `datasets stats`, `tag run` and `benchmark score`: unified
sample files and prediction files, mutated (truncation, byte flips, bytes that are not UTF-8, BOM + CRLF, wrong
types, 100k-deep nesting, 5,000-digit integers, NaN/Infinity). Every command answers with a verdict and an exit
code, never a traceback, in bounded time; what it writes is strict JSON."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapter_support import run
from fuzz_support import SHARED, byte_mutations, check_strict_jsonl, record_mutations, Target

SECONDS = 20.0


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> list:
    root = tmp_path_factory.mktemp("xlam")
    return run("xLAM", SHARED / "xlam_function_calling_60k" / "xlam_records_quoted_in_docs.json", root).all()


def _mutated_files(samples: list, folder: Path, seed: int) -> list[tuple[str, Path]]:
    data = b"".join(json.dumps(s, ensure_ascii=False).encode() + b"\n" for s in samples)
    target = Target("-", {"x.jsonl": data}, "x.jsonl", "jsonl")
    cases = byte_mutations(data, seed=seed, n=8)
    mutated, fuzz, _what = record_mutations(samples, seed=seed, n=14)
    cases.append(("record mutations", target.dump(mutated, fuzz)))
    cases.append(("wrong shapes", b'{"a": 1}\n[1, 2]\n"text"\nnull\n[{"role": 5}]\n[[]]\n'))
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for number, (what, content) in enumerate(cases):
        path = folder / f"m{number}.jsonl"
        path.write_bytes(content)
        out.append((what, path))
    return out


def _invoke(command, args: list[str]):
    started = time.perf_counter()
    result = CliRunner().invoke(command, args, catch_exceptions=True)
    seconds = time.perf_counter() - started
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        import traceback

        raise AssertionError(f"{args}: traceback\n" + "".join(traceback.format_exception(result.exception)))
    assert seconds < SECONDS, (args, seconds)
    return result


def test_validate_and_stats_on_mutated_sample_files(samples, tmp_path):
    from opentoollab.cli.datasets import datasets

    for what, path in _mutated_files(samples, tmp_path / "in", seed=7):
        result = _invoke(datasets, ["validate", str(path)])
        assert result.exit_code in (0, 1), (what, result.output)
        result = _invoke(datasets, ["stats", str(path), "--json", "--data-dir", str(tmp_path / "d")])
        assert result.exit_code == 0, (what, result.output)
        json.loads(result.output)


def test_validate_reports_non_strict_lines(tmp_path):
    from opentoollab.cli.datasets import datasets

    path = tmp_path / "x.jsonl"
    path.write_bytes(b'[{"role": "id", "content": NaN}]\n\xff\xfe\n' + b"[" * 100_000 + b"\n[" + b"9" * 5000 + b"]\n")
    result = _invoke(datasets, ["validate", str(path)])
    assert result.exit_code == 1
    assert "4 samples, 0 valid, 4 invalid" in result.output


def test_tag_run_on_mutated_sample_files(samples, tmp_path):
    from opentoollab.cli.tag import tag

    for number, (what, path) in enumerate(_mutated_files(samples, tmp_path / "in", seed=11)):
        out = tmp_path / f"out{number}"
        result = _invoke(tag, ["run", str(path), "--out", str(out), "-q"])
        assert result.exit_code in (0, 1), (what, result.output)
        for written in out.rglob("*.jsonl"):
            check_strict_jsonl(written)


def test_benchmark_score_on_mutated_prediction_files(samples, tmp_path):
    from opentoollab.cli.benchmark import benchmark

    good = tmp_path / "samples.jsonl"
    good.write_text("".join(json.dumps(s) + "\n" for s in samples), encoding="utf-8")
    predictions = [{"id": s[0]["content"], "calls": [{"name": c["name"], "arguments": {k: v[0] for k, v in c["parameters"].items()}}
                                                       for m in s if m["role"] == "tool_call_ground_truth" for c in m["content"]]}
                   for s in samples]
    for number, (what, path) in enumerate(_mutated_files(predictions, tmp_path / "p", seed=13)):
        out = tmp_path / f"score{number}"
        result = _invoke(benchmark, ["score", "--datasets", str(good), "--predictions", str(path), "--out", str(out), "-q",
                                     "--data-dir", str(tmp_path / "d")])
        assert result.exit_code in (0, 1), (what, result.output)
        for written in out.rglob("*.jsonl"):
            check_strict_jsonl(written)


def test_benchmark_score_on_mutated_sample_files(samples, tmp_path):
    from opentoollab.cli.benchmark import benchmark

    predictions = [{"id": s[0]["content"], "calls": []} for s in samples]
    for number, (what, path) in enumerate(_mutated_files(samples, tmp_path / "s", seed=17)):
        pred = tmp_path / "pred.jsonl"
        pred.write_text("".join(json.dumps(p) + "\n" for p in predictions), encoding="utf-8")
        result = _invoke(benchmark, ["score", "--datasets", str(path), "--predictions", str(pred), "--out", str(tmp_path / f"s{number}"),
                                     "-q", "--data-dir", str(tmp_path / "d")])
        assert result.exit_code in (0, 1), (what, result.output)


def test_a_json_option_nested_too_deeply_is_a_one_line_error(tmp_path):
    from opentoollab.cli.datasets import datasets

    deep = '{"a":' * 5000 + "1" + "}" * 5000  # deeper than the standard parser recurses
    (tmp_path / "in.jsonl").write_text("", "utf-8")
    result = _invoke(datasets, ["generate", "--pipeline", "button", "--input", str(tmp_path / "in.jsonl"),
                                "--base-url", "http://127.0.0.1:9/v1", "--model", "m", "--extra-body", deep,
                                "--data-dir", str(tmp_path)])
    assert result.exit_code == 2 and "--extra-body is nested too deeply" in result.output
