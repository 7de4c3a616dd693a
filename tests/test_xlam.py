"""xLAM function-calling-60k adapter on the real rows quoted in ../shared/samples (ids 0 and 1234)."""

from __future__ import annotations

import json

import pytest

from adapter_support import by_role, call_ids, cli_process, run, write_json
from opentoollab.datasets.fetch import read_provenance, sha256_file
from opentoollab.format.jsonl import atomic_dir
from opentoollab.datasets.sources import get_source
from opentoollab.datasets.sources.hub_json import CHUNK, iter_json_records
from opentoollab.datasets.sources.xlam import parameter_schema
from opentoollab.datasets.store import Store, process



@pytest.fixture(scope="module")
def slice_dir(shared):
    return shared / "samples" / "xlam_function_calling_60k"


@pytest.fixture(scope="module")
def rows(slice_dir):
    return json.loads((slice_dir / "xlam_records_quoted_in_docs.json").read_text("utf-8"))


def test_the_real_rows_all_convert(slice_dir, tmp_path):
    result = run("xlam-60k", slice_dir, tmp_path)
    assert result.manifest["totals"] == {"in": 2, "out": 2, "rejected": 0, "samples": 2}
    assert [s[1]["content"]["source_id"] for s in result.samples["train"]] == [0, 1234]
    assert result.manifest["counters"]["parallel_call_samples"] == 2


def test_row_0_parallel_calls_of_one_tool_with_a_default(slice_dir, tmp_path):
    sample = run("xLAM", slice_dir, tmp_path).samples["train"][0]
    assert [m["role"] for m in sample] == ["id", "meta", "candidate_tools", "user", "tool_call_ground_truth"]
    assert sample[0]["content"] == "xLAM_train_0"
    assert by_role(sample, "user")[0]["content"] == "Where can I find live giveaways for beta access and games?"
    (tool,) = by_role(sample, "candidate_tools")[0]["content"]
    assert tool["name"] == "live_giveaways_by_type"
    assert tool["parameters"]["properties"]["type"] == {
        "type": "string", "x-original-type": "str",
        "description": "The type of giveaways to retrieve (e.g., game, loot, beta).", "default": "game"}
    assert "required" not in tool["parameters"]  # it has a default
    truth = by_role(sample, "tool_call_ground_truth")[0]["content"]
    assert [c["parameters"] for c in truth] == [{"type": ["beta"]}, {"type": ["game"]}]
    assert call_ids(sample) == ["live_giveaways_by_type.0", "live_giveaways_by_type.1"]


def test_row_1234_nested_list_arguments_and_python_type_names(slice_dir, tmp_path):
    sample = run("xLAM", slice_dir, tmp_path).samples["train"][1]
    tools = {t["name"]: t for t in by_role(sample, "candidate_tools")[0]["content"]}
    assert tools["binary_search"]["parameters"]["properties"]["arr"] == {
        "type": "array", "items": {"type": "integer"}, "x-original-type": "List[int]",
        "description": "The sorted list of integers."}
    assert tools["split_list"]["parameters"]["properties"]["lst"]["type"] == "array"
    assert tools["split_list"]["parameters"]["properties"]["lst"]["x-original-type"] == "List"
    assert tools["split_list"]["parameters"]["required"] == ["lst", "chunk_size"]
    truth = by_role(sample, "tool_call_ground_truth")[0]["content"]
    assert [c["name"] for c in truth] == ["split_list", "binary_search"]
    assert truth[0]["parameters"] == {"lst": [[10, 20, 30, 40, 50, 60]], "chunk_size": [4]}
    assert truth[1]["parameters"] == {"arr": [[10, 20, 30, 40, 50, 60]], "target": [30]}


@pytest.mark.parametrize("type_name, expected, required", [
    ("str", {"type": "string"}, True),
    ("float, optional", {"type": "number"}, False),
    ("List[int], optional", {"type": "array", "items": {"type": "integer"}}, False),
    ("Union[int, float]", {"type": "number"}, True),
    ("Optional[str]", {"type": "string"}, False),
    ("Union[str, List[str]]", {}, True),  # no single JSON type: left unconstrained, original kept
    ("Dict[str, Any]", {"type": "object"}, True),
])
def test_python_style_type_names(type_name, expected, required):
    schema, needed = parameter_schema({"description": "d", "type": type_name}, "p")
    assert {k: v for k, v in schema.items() if k in ("type", "items")} == expected
    assert schema["x-original-type"] == type_name and schema["description"] == "d"
    assert needed is required


def test_bad_rows_are_rejected_with_their_reason_and_location(rows, tmp_path):
    good = rows[0]
    truncated = {**good, "answers": good["answers"][:-30]}
    undeclared = {**good, "answers": json.dumps([{"name": "delete_everything", "arguments": {}}])}
    not_object = {**good, "answers": json.dumps([{"name": "live_giveaways_by_type", "arguments": ["beta"]}])}
    path = write_json(tmp_path / "rows.json", [good, truncated, undeclared, not_object, "not a row"])
    result = run("xLAM", path, tmp_path / "data")
    assert result.manifest["totals"] == {"in": 5, "out": 1, "rejected": 4, "samples": 1}
    assert [r["location"] for r in result.rejects] == [1, 2, 3, 4]
    assert "'answers' is not valid JSON" in result.rejects[0]["reason"]
    assert "'delete_everything', which is not among the declared tools" in result.rejects[1]["reason"]
    assert "arguments are not an object" in result.rejects[2]["reason"]
    assert result.rejects[1]["raw"] == undeclared and result.rejects[0]["source_file"] == "rows.json"


def test_streaming_reader_across_chunk_boundaries_and_a_truncated_file(rows, tmp_path):
    many = [dict(rows[i % 2], id=i) for i in range(3 * CHUNK // 800)]
    path = tmp_path / "xlam_function_calling_60k.json"
    path.write_text(json.dumps(many, indent=4), encoding="utf-8")
    assert path.stat().st_size > 2 * CHUNK
    read = list(iter_json_records(path))
    assert [value for _loc, value, _err in read] == many and all(err is None for *_x, err in read)
    path.write_text(json.dumps(many, indent=4)[:-5000], encoding="utf-8")
    read = list(iter_json_records(path))
    assert all(err is None for *_x, err in read[:-1]) and "not valid JSON" in read[-1][2]
    assert len(read) - 1 < len(many)


def test_fetch_from_a_local_copy_records_checksums_and_is_verified(slice_dir, tmp_path):
    store = Store(tmp_path)
    source = get_source("xlam")
    dest = store.raw_dir(source.name)
    with atomic_dir(dest, "download") as staging:  # as `python datasets download` does
        record = source.fetch(staging, origin=str(slice_dir))
    assert record["kind"] == "local"
    name = "xlam_records_quoted_in_docs.json"
    assert read_provenance(dest)["files"][name]["sha256"] == sha256_file(slice_dir / name)
    assert process(source, store, progress=False)["totals"]["out"] == 2
    (dest / name).write_text("[]", encoding="utf-8")
    from opentoollab.datasets.sources import FetchError
    with pytest.raises(FetchError, match="does not match its checksum"):
        process(source, store, progress=False)


def test_cli_process_from_the_slice(slice_dir, tmp_path):
    assert "xLAM: in 2 = out 2 + rejected 0" in cli_process("xlam-function-calling-60k", slice_dir, tmp_path)
