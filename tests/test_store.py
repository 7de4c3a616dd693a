"""The process pipeline and the datasets CLI: rejects, nothing lost, idempotency, checksums, downloads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from opentoollab.cli import main
from opentoollab.datasets.fetch import verify
from opentoollab.datasets.sources import FetchError, get_source
from opentoollab.datasets.store import Store, process

REPO = Path(__file__).resolve().parent.parent


def _lines(wheel: Path, name: str) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        return archive.read(f"bfcl_eval/data/{name}").decode().splitlines()


@pytest.fixture()
def broken_folder(tmp_path, bfcl_wheel) -> Path:
    """A local BFCL folder (the hub layout) holding real simple_python/multiple records, some damaged."""
    folder = tmp_path / "bfcl"
    (folder / "possible_answer").mkdir(parents=True)
    questions = _lines(bfcl_wheel, "BFCL_v4_simple_python.json")[:10]
    answers = _lines(bfcl_wheel, "possible_answer/BFCL_v4_simple_python.json")[:10]
    questions[1] = questions[1][: len(questions[1]) // 2]  # truncated JSON
    record = json.loads(questions[2]); del record["question"]; questions[2] = json.dumps(record)  # missing field
    answer = json.loads(answers[3]); answer["id"] = "simple_python_999"; answers[3] = json.dumps(answer)  # id mismatch
    answer = json.loads(answers[4]); answer["ground_truth"] = [{"not_a_tool": {"x": [1]}}]; answers[4] = json.dumps(answer)
    (folder / "BFCL_v4_simple_python.json").write_text("\n".join(questions) + "\n")
    (folder / "possible_answer" / "BFCL_v4_simple_python.json").write_text("\n".join(answers) + "\n")
    multiple = _lines(bfcl_wheel, "BFCL_v4_multiple.json")[:5]
    (folder / "BFCL_v3_multiple.json").write_text("\n".join(multiple) + "\n")  # v3 name, and no answer file
    return folder


def test_bad_records_go_to_rejects_with_location_and_reason(tmp_path, broken_folder):
    store = Store(tmp_path / "data")
    manifest = process(get_source("BFCL"), store, origin=broken_folder, progress=False)
    simple = manifest["subsets"]["simple_python"]
    assert simple == {"in": 10, "out": 6, "rejected": 4, "samples": 6, "tools": 6}
    assert manifest["subsets"]["multiple"]["rejected"] == 5  # no possible-answer file: every record says so
    rejects = [json.loads(l) for l in (store.processed_dir("BFCL") / "rejects.jsonl").read_text().splitlines()]
    by_line = {(r["source_file"], r["location"]): r["reason"] for r in rejects}
    assert "invalid JSON" in by_line[("BFCL_v4_simple_python.json", 2)]
    assert "question" in by_line[("BFCL_v4_simple_python.json", 3)]
    assert "no possible answer with id 'simple_python_3'" in by_line[("BFCL_v4_simple_python.json", 4)]
    assert "'not_a_tool'" in by_line[("BFCL_v4_simple_python.json", 5)]
    assert all("possible-answer file" in by_line[("BFCL_v3_multiple.json", n)] for n in range(1, 6))
    assert manifest["totals"]["in"] == manifest["totals"]["out"] + manifest["totals"]["rejected"] == 15
    samples = (store.processed_dir("BFCL") / "simple_python.jsonl").read_text().splitlines()
    assert [json.loads(s)[0]["content"] for s in samples] == [f"BFCL_simple_python_{n}" for n in range(6)]


def test_cli_exit_code_only_fails_when_a_whole_subset_fails(tmp_path, broken_folder):
    runner = CliRunner()
    result = runner.invoke(main, ["datasets", "process", "bfcl", "--from", str(broken_folder), "-q",
                                  "--data-dir", str(tmp_path / "d"), "--subset", "simple_python"])
    assert result.exit_code == 0, result.output
    assert "in 10 = out 6 + rejected 4" in result.output
    result = runner.invoke(main, ["datasets", "process", "BFCL", "--from", str(broken_folder), "-q",
                                  "--data-dir", str(tmp_path / "d")])
    assert result.exit_code == 1 and "multiple" in result.output
    result = runner.invoke(main, ["datasets", "process", "nosuchcorpus", "--data-dir", str(tmp_path / "d")])
    assert result.exit_code == 2 and "unknown dataset" in result.output and "Traceback" not in result.output


def test_reprocessing_is_byte_identical(bfcl_store, tmp_path):
    folder = bfcl_store.processed_dir("BFCL")
    before = {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.name != "manifest.json"}
    catalog = bfcl_store.catalog_path("BFCL").read_bytes()
    manifest = bfcl_store.manifest("BFCL")
    again = process(get_source("BFCL"), bfcl_store, progress=False)
    after = {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.name != "manifest.json"}
    assert after == before and bfcl_store.catalog_path("BFCL").read_bytes() == catalog
    assert {k: v for k, v in again.items() if k != "run"} == {k: v for k, v in manifest.items() if k != "run"}
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # no temp folders left


def test_processing_one_subset_keeps_the_others(bfcl_store):
    folder = bfcl_store.processed_dir("BFCL")
    before = {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.name != "manifest.json"}
    catalog = bfcl_store.catalog_path("BFCL").read_bytes()
    manifest = process(get_source("BFCL"), bfcl_store, subsets=["parallel", "live_simple"], progress=False)
    after = {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.name != "manifest.json"}
    assert after.keys() == before.keys()
    assert after["rejects.jsonl"].splitlines() and sorted(after["rejects.jsonl"].splitlines()) == sorted(before["rejects.jsonl"].splitlines())
    assert {k: v for k, v in after.items() if k != "rejects.jsonl"} == {k: v for k, v in before.items() if k != "rejects.jsonl"}
    assert bfcl_store.catalog_path("BFCL").read_bytes() == catalog
    assert manifest["totals"]["in"] == 4441 and list(manifest["subsets"])[:2] == ["simple_python", "simple_java"]


def test_corrupt_download_is_caught_by_checksum(tmp_path, bfcl_wheel):
    store = Store(tmp_path)
    dest = store.raw_dir("BFCL")
    source = get_source("BFCL")
    dest.mkdir(parents=True)
    source.fetch(dest, origin=str(bfcl_wheel))  # a local copy of the pinned wheel
    assert verify(dest)["files"]
    wheel = next(dest.glob("*.whl"))
    wheel.write_bytes(wheel.read_bytes()[:-1000])  # truncated after download
    with pytest.raises(FetchError, match="checksum"):
        process(source, store, progress=False)
    truncated = tmp_path / "bfcl_eval-2026.3.23-py3-none-any.whl"
    truncated.write_bytes(bfcl_wheel.read_bytes()[:5000])
    with pytest.raises(FetchError, match="does not match the pinned"):
        source.fetch(tmp_path / "other", origin=str(truncated))


def test_download_through_pip_from_a_local_index(tmp_path, bfcl_wheel):
    """The real download path (pip download + pinned sha256), fed from a local folder instead of PyPI."""
    runner = CliRunner()
    data = tmp_path / "data"
    result = runner.invoke(main, ["datasets", "download", "BFCL", "--find-links", str(bfcl_wheel.parent), "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    provenance = json.loads((data / "downloaded" / "BFCL" / "provenance.json").read_text())
    assert provenance["kind"] == "pypi" and provenance["version"] == "2026.3.23"
    assert provenance["files"]["bfcl_eval-2026.3.23-py3-none-any.whl"]["sha256"] == provenance["sha256"]
    result = runner.invoke(main, ["datasets", "download", "BFCL", "--find-links", str(tmp_path / "empty"), "--data-dir", str(data)])
    assert result.exit_code == 1 and "pip could not download" in result.output
    assert (data / "downloaded" / "BFCL" / "provenance.json").is_file()  # a failed download leaves the old copy


def test_entry_folders_run_from_the_repo_root(bfcl_store):
    env = {**os.environ, "OPENTOOLLAB_DATA_DIR": str(bfcl_store.root)}
    out = subprocess.run([sys.executable, "datasets", "stats", "BFCL", "--json"], cwd=REPO, env=env,
                         capture_output=True, text=True, check=True).stdout
    rows = {row["subset"]: row for row in json.loads(out)}
    assert rows["total"]["samples"] == bfcl_store.manifest("BFCL")["totals"]["samples"]
    assert rows["parallel"]["parallel"] == rows["parallel"]["samples"]
    assert rows["multi_turn_base"]["dependent"] > 0 and rows["simple_python"]["calls"] == rows["simple_python"]["samples"]
    listing = subprocess.run([sys.executable, "datasets", "list"], cwd=REPO, env=env, capture_output=True, text=True, check=True).stdout
    assert "BFCL" in listing and "2026.3.23" in listing
    tools = subprocess.run([sys.executable, "tools", "list", "bfcl", "--grep", "factorial"], cwd=REPO, env=env,
                           capture_output=True, text=True, check=True).stdout
    assert "math.factorial" in tools
    assert not (REPO / "datasets" / "__init__.py").exists()


def test_validate_command_reports_id_rule_and_path(tmp_path, bfcl_samples):
    good = bfcl_samples["parallel"][0]
    bad = json.loads(json.dumps(bfcl_samples["parallel"][1]))
    bad[-1]["content"][0]["name"] = "missing_tool"
    path = tmp_path / "mixed.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n{not json\n")
    result = CliRunner().invoke(main, ["datasets", "validate", str(path)])
    assert result.exit_code == 1
    assert f"[{bad[0]['content']}] unknown_tool at $[{len(bad) - 1}].content[0].name" in result.output
    assert ":3: json:" in result.output
    ok = tmp_path / "ok.jsonl"
    ok.write_text(json.dumps(good) + "\n")
    assert CliRunner().invoke(main, ["datasets", "validate", str(ok)]).exit_code == 0
