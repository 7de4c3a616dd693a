"""Everyday UX (issue 14): the data folder from anywhere, one-line hub errors offline, `datasets show`,
`trainer show`, `prepare --max-tokens`, and benchmark tables that say N/A instead of 0%."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from openai_server import serve
from opentoollab.benchmark.run import across_categories
from opentoollab.benchmark.scoring import item_of, score
from opentoollab.cli.benchmark import benchmark
from opentoollab.cli.datasets import datasets
from opentoollab.cli.show import LEARN_CLOSE, LEARN_OPEN
from opentoollab.cli.trainer import trainer
from opentoollab.datasets.datadir import ENV_DATA_DIR, checkout_root, resolve_data_dir, user_data_dir
from opentoollab.datasets.store import Store, resolve_inputs
from opentoollab.format.jsonl import write_samples
from opentoollab.trainer.render import get_renderer, to_chat
from test_prepare_tokens import tokenizer_dir  # noqa: F401  (the fixture: a BPE trained here on BFCL text)

REPO = Path(__file__).resolve().parent.parent


# ------------------------------------------------------------------------------------------ data folder
def test_data_folder_inside_a_checkout_and_elsewhere(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_DATA_DIR, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(REPO)
    assert checkout_root() == REPO and resolve_data_dir() == Path("datasets")
    monkeypatch.chdir(REPO / "docs")  # anywhere inside the checkout: its datasets/
    assert resolve_data_dir() == REPO / "datasets"
    monkeypatch.chdir(tmp_path)  # outside any checkout: the user data folder
    assert checkout_root() is None
    if sys.platform.startswith("linux"):
        assert resolve_data_dir() == user_data_dir() == tmp_path / "xdg" / "opentoollab"
    monkeypatch.setenv(ENV_DATA_DIR, str(tmp_path / "env"))
    assert resolve_data_dir() == tmp_path / "env"
    assert resolve_data_dir(tmp_path / "flag") == tmp_path / "flag"  # --data-dir wins over everything


def test_a_newcomer_outside_the_checkout_is_told_where_it_looked(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != ENV_DATA_DIR}
    env["XDG_DATA_HOME"] = str(tmp_path / "xdg")
    env["PYTHONPATH"] = str(REPO / "src") + os.pathsep + env.get("PYTHONPATH", "")
    done = subprocess.run([sys.executable, "-m", "opentoollab", "datasets", "stats", "BFCL"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert str(tmp_path / "xdg" / "opentoollab") in done.stderr and "--data-dir" in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_not_found_names_the_folder_and_data_dir(tmp_path):
    store = Store(tmp_path / "data")
    with pytest.raises(FileNotFoundError) as caught:
        resolve_inputs(["ToolACE"], store)
    assert str(store.root) in str(caught.value) and "--data-dir" in str(caught.value)
    result = CliRunner().invoke(datasets, ["process", "Glaive", "--data-dir", str(store.root)])
    assert result.exit_code != 0 and str(store.root) in result.output and "--data-dir" in result.output


# ------------------------------------------------------------------------------------------ hub offline
def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_hub_unreachable_or_offline_mode_is_one_line(tmp_path, monkeypatch):
    from huggingface_hub import constants

    url = f"http://127.0.0.1:{_closed_port()}"
    monkeypatch.setenv("HF_ENDPOINT", url)
    monkeypatch.setattr(constants, "ENDPOINT", url)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    args = ["download", "Glaive", "--data-dir", str(tmp_path / "d")]
    result = CliRunner().invoke(datasets, args)
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert result.exit_code != 0 and len(lines) == 1 and "cannot reach the hub" in lines[0], result.output
    assert "Traceback" not in result.output
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    result = CliRunner().invoke(datasets, args)
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert result.exit_code != 0 and len(lines) == 1 and "HF_HUB_OFFLINE is set" in lines[0] and "--from" in lines[0]


# ------------------------------------------------------------------------------------------ show
def test_datasets_show_by_id_and_by_file_line(bfcl_store, bfcl_samples):
    root = ["--data-dir", str(bfcl_store.root)]
    sample = bfcl_samples["live_simple"][13]
    by_id = CliRunner().invoke(datasets, ["show", "BFCL_live_simple_13", *root])
    assert by_id.exit_code == 0, by_id.output
    assert "BFCL_live_simple_13" in by_id.output and "── user" in by_id.output and "language=zh" in by_id.output
    assert "我想知道上海目前的天气状况" in by_id.output and "get_current_weather(location=" in by_id.output
    assert "\x1b[" not in by_id.output  # not a terminal: no ANSI
    path = bfcl_store.processed_dir("BFCL") / "live_simple.jsonl"
    as_json = CliRunner().invoke(datasets, ["show", f"{path}:14", "--json", *root])
    assert as_json.exit_code == 0 and json.loads(as_json.output) == sample
    copy = CliRunner().invoke(datasets, ["show", "BFCL_live_simple_13#2", "--json", *root])  # a training row's copy id
    assert json.loads(copy.output) == sample
    missing = CliRunner().invoke(datasets, ["show", "BFCL_live_simple_999999", *root])
    assert missing.exit_code == 2 and str(bfcl_store.root) in missing.output and "--data-dir" in missing.output
    past_end = CliRunner().invoke(datasets, ["show", f"{path}:999999", *root])
    assert past_end.exit_code == 2 and "has no line 999999" in past_end.output


@pytest.mark.parametrize("model", ["Qwen2.5", "Llama-3.1"])
def test_trainer_show_marks_exactly_the_learned_spans(bfcl_store, bfcl_samples, model):
    sample = bfcl_samples["multi_turn_base"][2]
    result = CliRunner().invoke(
        trainer, ["show", sample[0]["content"], "--model", model, "--data-dir", str(bfcl_store.root)])
    assert result.exit_code == 0, result.output
    from opentoollab.trainer.prepare import trim_trailing

    chat = to_chat(sample, tool_changes="union")
    dropped = trim_trailing(chat)
    rendered = get_renderer(model).render(chat)
    shown = result.stdout
    assert shown.replace(LEARN_OPEN, "").replace(LEARN_CLOSE, "") in (rendered.text, rendered.text + "\n")
    marked = [part.partition(LEARN_CLOSE)[0] for part in shown.split(LEARN_OPEN)[1:]]
    assert marked == [rendered.text[a:b] for a, b in rendered.spans] and len(marked) >= 2
    assert f"in {len(rendered.spans)} spans" in result.stderr and (dropped == 0 or "trailing" in result.stderr)
    colored = CliRunner().invoke(
        trainer, ["show", sample[0]["content"], "--model", model, "--color", "always", "--data-dir", str(bfcl_store.root)])
    assert "\x1b[" in colored.stdout and LEARN_OPEN not in colored.stdout


# ------------------------------------------------------------------------------------------ --max-tokens
def test_prepare_max_tokens_skips_longer_rows_with_a_counted_reason(tokenizer_dir, bfcl_store, tmp_path):  # noqa: F811
    def prepare(*args):
        return CliRunner().invoke(trainer, ["prepare", "-q", "--allow-eval", "--datasets=BFCL/simple_python,BFCL/live_multiple",
                                            "--model=Qwen2.5", f"--tokenizer={tokenizer_dir}", "--data-dir",
                                            str(bfcl_store.root), *args], catch_exceptions=False)

    full = prepare("--out", str(tmp_path / "full"))
    assert full.exit_code == 0, full.output
    lengths = {r["id"]: len(r["input_ids"]) for r in map(json.loads, (tmp_path / "full" / "train.jsonl").open())}
    limit = sorted(lengths.values())[len(lengths) // 2]
    longer = {i for i, n in lengths.items() if n > limit}
    for fmt in ("text", "messages", "sharegpt"):
        out = tmp_path / fmt
        result = prepare("--format", fmt, "--max-tokens", str(limit), "--out", str(out))
        assert result.exit_code == 0, result.output
        manifest = json.loads((out / "manifest.json").read_text())
        counts = manifest["counts"]
        assert counts["in"] == counts["out"] + counts["skipped"] and manifest["options"]["max_tokens"] == limit
        skipped = [json.loads(line) for line in (out / "skipped.jsonl").open()]
        unsafe = {s["id"] for s in skipped if s["reason"] == "hf_datasets_float"}  # messages rows HF datasets would change
        assert counts["skipped_by_reason"].get("too_long") == len(longer - unsafe) > 0
        assert {s["id"] for s in skipped if s["reason"] == "too_long"} == longer - unsafe
        assert all(f"> --max-tokens {limit}" in s["detail"] for s in skipped if s["reason"] == "too_long")
        written = [json.loads(line) for line in (out / "train.jsonl").open()]
        assert {r["id"] for r in written} == set(lengths) - longer - unsafe
        assert ("input_ids" in written[0]) == (fmt == "text")
    no_tokenizer = CliRunner().invoke(trainer, ["prepare", "--datasets=BFCL/simple_python", "--max-tokens", "10",
                                                "--allow-eval", "--data-dir", str(bfcl_store.root)])
    assert no_tokenizer.exit_code == 2 and "--tokenizer" in no_tokenizer.output


# ------------------------------------------------------------------------------------------ benchmark
def test_categories_not_run_are_na_and_overall_only_when_complete(bfcl_samples):
    from opentoollab.benchmark.scoring.parity import gold_calls

    chosen = bfcl_samples["simple_python"][:10] + bfcl_samples["multi_turn_base"][:2]
    predictions_path = []
    for sample in chosen[:10]:
        item = item_of(sample)
        predictions_path.append({"id": item.sample_id, "calls": gold_calls(item.functions, item.answers)})
    from opentoollab.benchmark.scoring.score import Prediction

    predictions = [Prediction(line=n + 1, id=p["id"], value=p, error=None) for n, p in enumerate(predictions_path)]
    _rows, summary = score(chosen, predictions)
    table = {row["metric"].strip(): row["accuracy"] for row in summary["bfcl"]["table"]}
    assert table["Python Simple AST"] == 1.0
    for name in ("Java Simple AST", "Multiple AST", "Live Acc", "Multi-Turn Acc", "Multi-Turn Base",
                 "Overall Acc (BFCL weights; agentic counted 0)", "Overall Acc without agentic (re-weighted)"):
        assert table[name] == "N/A", name  # never 0%: not run (multi_turn_base had no prediction)
    assert summary["bfcl"]["complete"] is False and "multi_turn_base" in summary["bfcl"]["not_run"]
    assert summary["categories"]["multi_turn_base"]["accuracy"] is None


def test_an_all_failed_run_reports_na_not_zero(bfcl_samples, bfcl_store, tmp_path):
    chosen = bfcl_samples["simple_python"][:3] + bfcl_samples["multiple"][:3]
    path = tmp_path / "chosen.jsonl"
    write_samples(path, chosen)
    with serve(lambda _path, _body: (400, {"error": {"message": "model not loaded"}})) as url:
        result = CliRunner().invoke(benchmark, ["run", "-d", str(path), "--model", "m", "--base-url", url, "-q",
                                                "--retries", "0", "--out", str(tmp_path / "run"),
                                                "--data-dir", str(bfcl_store.root)])
    assert result.exit_code == 1 and "6 sample(s) failed" in result.output
    assert "0.00%" not in result.output and "N/A" in result.output and "every accuracy is N/A" in result.output
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["scored"] == 0 and all(row["accuracy"] == "N/A" for row in summary["bfcl"]["table"])


def test_limit_spreads_over_categories(bfcl_samples):
    samples = [s for name in ("simple_python", "multiple", "parallel", "irrelevance") for s in bfcl_samples[name][:20]]
    items = [item_of(s) for s in samples]
    picked = across_categories(items, 10)
    categories = [item.category for item in picked]
    assert len(picked) == 10 and set(categories) == {"simple_python", "multiple", "parallel", "irrelevance"}
    assert max(categories.count(c) for c in set(categories)) - min(categories.count(c) for c in set(categories)) <= 1
    order = [item.sample_id for item in items]
    assert [order.index(item.sample_id) for item in picked] == sorted(order.index(item.sample_id) for item in picked)
    assert [i.sample_id for i in across_categories(items, 10)] == [i.sample_id for i in picked]  # deterministic
    assert len(across_categories(items, 1000)) == len(items)


# ------------------------------------------------------------------------------------------ counted, always
def test_prepare_writes_every_skipped_sample_even_when_all_are_skipped(tmp_path):
    source = tmp_path / "bad.jsonl"
    source.write_text('[{"role": "id", "content": "x"}]\n{not json\n', encoding="utf-8")
    result = CliRunner().invoke(trainer, ["prepare", "-q", f"--datasets={source}", "--out", str(tmp_path / "p"),
                                          "--data-dir", str(tmp_path / "data")])
    assert result.exit_code == 1 and "nothing was written" in result.output
    skipped = [json.loads(line) for line in (tmp_path / "p" / "skipped.jsonl").read_text("utf-8").splitlines()]
    assert [s["reason"] for s in skipped] == ["invalid_sample", "unreadable"]
    assert [s["detail"].split(": ")[0] for s in skipped] == [f"{source}:1", f"{source}:2"]
    counts = json.loads((tmp_path / "p" / "manifest.json").read_text())["counts"]
    assert counts["in"] == 2 == counts["skipped"] and counts["out"] == 0


def test_process_subset_reports_its_subsets_apart_from_the_carried_over(shared, tmp_path):
    args = ["process", "API-Bank", "--from", str(shared / "samples" / "api_bank"), "--data-dir", str(tmp_path), "-q"]
    first = CliRunner().invoke(datasets, args)
    assert first.exit_code == 0, first.output
    again = CliRunner().invoke(datasets, [*args, "--subset", "level-3"])
    assert again.exit_code == 0, again.output
    subsets = json.loads((tmp_path / "processed" / "API-Bank" / "manifest.json").read_text())["subsets"]
    level3 = subsets["level-3"]
    assert f"API-Bank --subset level-3: in {level3['in']} = out {level3['out']} + rejected {level3['rejected']}" in again.output
    carried = sum(row["samples"] for name, row in subsets.items() if name != "level-3")
    assert f"carried over unchanged from the previous run: {len(subsets) - 1} subset(s), {carried} samples" in again.output
    assert "(all subsets)" in again.output and "(all subsets)" not in first.output
