"""`python datasets generate --pipeline …` and `python tools run` as users type them (click runner, real files)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from opentoollab.cli.datasets import datasets
from opentoollab.cli.tools import tools
from opentoollab.cli.trainer import trainer
from opentoollab.tools.base import REGISTRY, get_toolkit
from scripted_llm import ScriptedLLM
from synth_helpers import glaive_file

SECRET = "sk-test-never-written-9f8e7d"


def invoke(group, args):
    return CliRunner().invoke(group, args, catch_exceptions=False)


def test_pipeline_run_registers_its_samples_and_prepare_mixes_them_with_a_public_corpus(tmp_path, shared):
    data = ["--data-dir", str(tmp_path / "data")]
    glaive = glaive_file(tmp_path, shared)
    llm = ScriptedLLM()
    with llm.serve() as url:
        result = invoke(datasets, ["generate", "--pipeline", "button", "--input", str(glaive), "--base-url", url,
                                   "--model", "test-model", "--api-key", SECRET, "-q", *data])
        assert result.exit_code == 0, result.output
        asked = len(llm.requests)
        again = invoke(datasets, ["generate", "--pipeline", "button", "--input", str(glaive), "--base-url", url,
                                  "--model", "test-model", "--api-key", SECRET, "-q", *data])
        assert again.exit_code == 0 and len(llm.requests) == asked  # the step cache answers everything
    processed = tmp_path / "data" / "processed" / "generated" / "button.jsonl"
    samples = [json.loads(line) for line in processed.read_text("utf-8").splitlines()]
    assert len(samples) == 12 and all(s[1]["content"]["source"] == "button" for s in samples)
    assert asked > 0
    for path in (tmp_path / "data").rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
    assert invoke(datasets, ["process", "ToolACE", "--from", str(shared / "samples" / "toolace"), "-q", *data]).exit_code == 0
    out = tmp_path / "prepared"
    result = invoke(trainer, ["prepare", "-q", "--datasets=ToolACE,generated/button", "--model=Qwen2.5", "--out", str(out), *data])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in (out / "train.jsonl").read_text("utf-8").splitlines()]
    assert sum(r["id"].startswith("generated_button_") for r in rows) + len((out / "skipped.jsonl").read_text().splitlines()) == 12
    assert any(r["id"].startswith("ToolACE_") for r in rows)


def test_pipeline_dry_run_sends_nothing_and_bad_flags_are_one_line(tmp_path, shared):
    glaive = glaive_file(tmp_path, shared)
    data = ["--data-dir", str(tmp_path / "data")]
    result = invoke(datasets, ["generate", "--pipeline", "button", "--input", str(glaive), "--dry-run", "--model", "m", *data])
    assert result.exit_code == 0, result.output
    assert '"requests"' in result.output or "requests" in result.output
    assert not (tmp_path / "data" / "processed").exists()
    missing = CliRunner().invoke(datasets, ["generate", "--pipeline", "button", "--input", str(glaive), *data])
    assert missing.exit_code == 2 and "--base-url" in missing.output and "Traceback" not in missing.output
    unknown = CliRunner().invoke(datasets, ["generate", "--pipeline", "nope", "--dry-run", *data])
    assert unknown.exit_code == 2 and "known: button" in unknown.output


def _arguments_from_generated(tmp_path, linked: bool = False) -> dict[str, dict]:
    """The first call of each tool in a generated run (real arguments from real episodes); calls whose
    arguments hold links count only with ``linked``."""
    from opentoollab.datasets.generate.recipe import make_recipe
    from opentoollab.datasets.generate.run import run_generation

    run_generation(make_recipe({"n": 800, "seed": 11}), tmp_path, workers=1, progress=False)
    found: dict[str, dict] = {}
    for line in (tmp_path / "offline.jsonl").read_text("utf-8").splitlines():
        sample = json.loads(line)
        for index, message in enumerate(sample):
            if message["role"] != "tool_call":
                continue
            for call in message["content"]:
                if (linked or "<link>" not in json.dumps(call["parameters"])) and call["name"] not in found:
                    found[call["name"]] = call["parameters"]
    return found


@pytest.mark.parametrize("toolkit", [name for name in REGISTRY if name != "bfcl"])
def test_tools_run_works_on_every_tool(toolkit, tmp_path_factory):
    cache = tmp_path_factory.getbasetemp() / "generated-arguments.json"
    if not cache.exists():
        cache.write_text(json.dumps(_arguments_from_generated(tmp_path_factory.mktemp("gen"))))
    arguments = json.loads(cache.read_text())
    cls = get_toolkit(toolkit)
    for tool in cls.tool_names():
        args = arguments.get(tool, {})
        result = CliRunner().invoke(tools, ["run", f"{toolkit}.{tool}", "--args", json.dumps(args), "--seed", "0"])
        assert result.exception is None or isinstance(result.exception, SystemExit), (tool, result.output)
        value = json.loads(result.output)  # always a JSON result, never a traceback
        if tool in arguments and tool not in ("sql_execute",):
            assert result.exit_code in (0, 1), (tool, result.output)
        assert isinstance(value, (dict, list)), tool
    show = invoke(tools, ["show", f"{toolkit}.{cls.tool_names()[0]}"])
    assert json.loads(show.output)["name"] == cls.tool_names()[0]


def test_every_tool_is_used_by_the_generator(tmp_path):
    used = _arguments_from_generated(tmp_path, linked=True)
    unused = {name: [t for t in get_toolkit(name).tool_names() if t not in used] for name in REGISTRY if name != "bfcl"}
    # sql_execute is refused on the read-only database; every other tool appears in generated data
    assert {k: v for k, v in unused.items() if v} == {"sql": ["sql_execute"]}
