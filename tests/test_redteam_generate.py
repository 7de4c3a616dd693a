"""Red team of `python datasets generate`: hostile recipes, names and partial files of a killed run."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from opentoollab.cli.generate import generate


def _gen(tmp_path, *args):
    return CliRunner().invoke(generate, ["--no-checks", "-q", "-j", "1", "--data-dir", str(tmp_path / "data"), *args])


@pytest.mark.parametrize("text", [
    b"categories: [[1]]\n", b"toolkits: [[1]]\n", b"languages: {en: .nan}\n", b"languages: {en: .inf}\n",
    b"\xff\xfe\x00", b"seed: " + b"9" * 5000 + b"\n", b"- 1\n", b"turns: [true, 3]\n", b"files_sampled: 99999999999\n",
    b"name: " + b"a" * 300 + b"\n", "name: \u0663\u0664\n".encode(),
])
def test_hostile_recipe_is_one_line(tmp_path, text):
    """Before: TypeError (unhashable list), UnicodeDecodeError, ValueError (int digits) tracebacks; nan accepted."""
    recipe = tmp_path / "r.yaml"
    recipe.write_bytes(text)
    result = _gen(tmp_path, "--recipe", str(recipe), "--n", "2", "--out", str(tmp_path / "out"))
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and result.output.startswith("error:")


@pytest.mark.parametrize("state, partial", [
    ("[1, 2", "garbage\n"), ('{"recipe_sha256": 1, "done": "x"}', ""), ("[]", "[1]\n"),
])
def test_corrupt_partial_files_start_afresh(tmp_path, state, partial):
    """Before: AttributeError/TypeError traceback when a killed run's state file was damaged."""
    out = tmp_path / "out"
    assert _gen(tmp_path, "--n", "3", "--out", str(out)).exit_code == 0
    expected = (out / "offline.jsonl").read_bytes()
    (out / ".offline.partial.json").write_text(state)
    (out / "offline.jsonl.partial").write_text(partial)
    result = _gen(tmp_path, "--n", "3", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert (out / "offline.jsonl").read_bytes() == expected


def test_damaged_partial_of_the_same_recipe_starts_afresh(tmp_path):
    from opentoollab.datasets.generate.recipe import Recipe

    out = tmp_path / "out"
    out.mkdir()
    recipe = Recipe(n=3)
    (out / ".offline.partial.json").write_text(json.dumps({"recipe_sha256": recipe.sha256(), "seed": 0, "done": 2}))
    (out / "offline.jsonl.partial").write_text('{"not": "a sample"}\n')
    result = _gen(tmp_path, "--n", "3", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert len((out / "offline.jsonl").read_text().splitlines()) == 3


def test_pipeline_recipe_not_utf8_is_one_line(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_bytes(b"\xff\xfe")
    result = _gen(tmp_path, "--pipeline", "toolace", "--dry-run", "--recipe", str(recipe))
    assert result.exit_code == 2 and "cannot read recipe" in result.output
