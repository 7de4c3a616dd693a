"""Export to a Hugging Face dataset folder: load_dataset(DIR) gives back exactly the original samples."""

from __future__ import annotations

import hashlib
import json

import pytest
import yaml
from click.testing import CliRunner

from opentoollab.datasets.export import ExportError, export_dataset, upload_arguments
from opentoollab.format.jsonl import iter_samples, write_samples


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def _load(folder, cache, *args):
    import datasets

    return datasets.load_dataset(str(folder), *args, cache_dir=str(cache))


def _card(folder) -> dict:
    text = (folder / "README.md").read_text("utf-8")
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n")[1])


def test_bfcl_round_trip_sample_by_sample(bfcl_store, bfcl_samples, tmp_path):
    out = tmp_path / "bfcl"
    summary = export_dataset("BFCL", bfcl_store, out, shard_rows=700)
    assert summary["rows"] == sum(map(len, bfcl_samples.values()))
    loaded = _load(out, tmp_path / "cache")
    assert list(loaded) == ["test"]  # every BFCL subset is an evaluation subset
    original = [s for subset in bfcl_samples.values() for s in subset]
    back = [json.loads(row["sample"]) for row in loaded["test"]]
    assert len(back) == len(original)
    for mine, theirs in zip(original, back):
        assert mine == theirs
    row = loaded["test"][0]
    assert (row["id"], row["source"], row["license"]) == (original[0][0]["content"], "BFCL", "Apache-2.0")
    # a per-subset config, and a subset larger than one shard
    multi = _load(out, tmp_path / "cache", "multi_turn_base")["test"]
    assert [json.loads(r["sample"]) for r in multi] == bfcl_samples["multi_turn_base"]
    card = _card(out)
    assert card["license"] == "apache-2.0"
    configs = {c["config_name"]: c for c in card["configs"]}
    assert set(configs) == {"default", *bfcl_samples}
    assert len(configs["live_multiple"]["data_files"][0]["path"]) == -(-len(bfcl_samples["live_multiple"]) // 700)


def test_mixed_shapes_stay_lossless_not_null_filled(tmp_path, bfcl_samples):
    """Results of different shapes in one column: Arrow structs would add null keys; JSON text must not."""
    rows = [bfcl_samples["multi_turn_base"][0], bfcl_samples["parallel"][1], bfcl_samples["simple_java"][2],
            bfcl_samples["live_irrelevance"][3]]
    source = tmp_path / "mixed.jsonl"
    write_samples(source, rows)
    out = tmp_path / "hf"
    export_dataset(str(source), None, out)
    loaded = _load(out, tmp_path / "cache")
    assert list(loaded) == ["train"]
    assert [json.loads(r["sample"]) for r in loaded["train"]] == rows
    (shard,) = (out / "data").glob("train-00000-of-00001-*.parquet")
    assert shard.name[-len("123456789abc.parquet"):-len(".parquet")] == hashlib.sha256(shard.read_bytes()).hexdigest()[:12]
    assert [c["config_name"] for c in _card(out)["configs"]] == ["default"]


def test_reexport_with_other_rows_is_never_served_stale(tmp_path, bfcl_samples):
    """HF datasets caches a local folder by its files: content-addressed shard names make a re-export a new dataset."""
    source, out, cache = tmp_path / "in.jsonl", tmp_path / "hf", tmp_path / "cache"
    first, second = bfcl_samples["simple_python"][:3], bfcl_samples["parallel"][:5]
    write_samples(source, first)
    export_dataset(str(source), None, out)
    assert [json.loads(r["sample"]) for r in _load(out, cache)["train"]] == first
    write_samples(source, second)
    export_dataset(str(source), None, out, overwrite=True)
    assert [json.loads(r["sample"]) for r in _load(out, cache)["train"]] == second


def test_invalid_input_is_refused_with_its_location(tmp_path, bfcl_samples):
    bad = tmp_path / "bad.jsonl"
    good = json.dumps(bfcl_samples["simple_python"][0])
    bad.write_text(good + "\n{oops\n", "utf-8")
    with pytest.raises(ExportError, match=r"bad.jsonl:2"):
        export_dataset(str(bad), None, tmp_path / "out")
    assert not (tmp_path / "out").exists()  # nothing half-written
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("keep")
    with pytest.raises(ExportError, match="overwrite"):
        export_dataset(str(bad), None, tmp_path / "full")


def test_cli_export_and_push_arguments(bfcl_store, tmp_path):
    from opentoollab.cli.datasets import datasets

    out = tmp_path / "simple"
    result = CliRunner().invoke(datasets, ["export", "BFCL/simple_python", "--to", str(out),
                                           "--data-dir", str(bfcl_store.root)])
    assert result.exit_code == 0, result.output
    assert "400 samples" in result.output
    assert len(list(iter_samples(bfcl_store.processed_dir("BFCL") / "simple_python.jsonl"))) == 400
    # what --push-to-hub hands to huggingface_hub (the upload itself needs the network)
    create, upload = upload_arguments(out, "me/tools", private=True, token="t")
    assert create == {"repo_id": "me/tools", "repo_type": "dataset", "private": True, "exist_ok": True, "token": "t"}
    assert upload["folder_path"] == str(out) and upload["repo_type"] == "dataset"
    assert upload["allow_patterns"] == ["README.md", "data/**"]
    import inspect

    from huggingface_hub import HfApi

    inspect.signature(HfApi.create_repo).bind(HfApi(), **create)  # the installed hub client accepts them
    inspect.signature(HfApi.upload_folder).bind(HfApi(), **upload)
    result = CliRunner().invoke(datasets, ["export", "NoSuchCorpus", "--to", str(tmp_path / "x"),
                                           "--data-dir", str(bfcl_store.root)])
    assert result.exit_code == 1 and "Traceback" not in result.output
