"""Tests that kill mutants of the format core and the store which no other fast test noticed (issue 20, item 4).

The store tests run the real ``process`` pipeline on a few real BFCL records (from the pinned wheel), some of
them damaged, so that every subset has samples, tools and rejects: small enough to run for every mutant of
``scripts/mutation.py store``, where processing all of BFCL (``bfcl_store``) would cost seconds per mutant.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from opentoollab import __version__
from opentoollab.datasets.sources import FetchError, get_source
from opentoollab.datasets.sources.base import Context, RawRecord, Source
from opentoollab.datasets.store import INDEX, Store, failed_subsets, process
from opentoollab.format.jsonl import _holder, clean_stale, iter_lines, iter_samples, sha256_file, write_jsonl, write_samples
from opentoollab.format.links import MAX_INDEXED_TEXT, infer_links, is_linkable
from opentoollab.format.sample import (MAX_DEPTH, MAX_INT_DIGITS, SCHEMA_VERSION, LinkError, dumps_lenient, dumps_sample, first_candidates,
                                       follow_path, loads_strict, meta, resolve_links, sample_id)
from opentoollab.format.validate import is_valid, matches_schema, validate_sample

SUBSETS = {"simple_python": 6, "multiple": 4, "parallel": 5}  # in the adapter's subset order


def _lines(wheel: Path, name: str) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        return archive.read(f"bfcl_eval/data/{name}").decode().splitlines()


@pytest.fixture()
def small_bfcl(tmp_path, bfcl_wheel) -> Path:
    """A local BFCL folder (hub layout): the first records of three subsets, in each one truncated line and
    one answer that names no offered tool (so every subset has samples, tools and rejects), and a fourth
    subset without its answer file (every record rejected, no sample)."""
    folder = tmp_path / "bfcl"
    (folder / "possible_answer").mkdir(parents=True)
    for subset, n in SUBSETS.items():
        questions = _lines(bfcl_wheel, f"BFCL_v4_{subset}.json")[:n]
        answers = _lines(bfcl_wheel, f"possible_answer/BFCL_v4_{subset}.json")[:n]
        questions[1] = questions[1][: len(questions[1]) // 2]
        answer = json.loads(answers[2])
        answer["ground_truth"] = [{"outil_é": {"x": [1]}}]
        answers[2] = json.dumps(answer, ensure_ascii=False)
        (folder / f"BFCL_v4_{subset}.json").write_text("\n".join(questions) + "\n")
        (folder / "possible_answer" / f"BFCL_v4_{subset}.json").write_text("\n".join(answers) + "\n")
    (folder / "BFCL_v4_parallel_multiple.json").write_text(
        "\n".join(_lines(bfcl_wheel, "BFCL_v4_parallel_multiple.json")[:2]) + "\n")
    return folder


def _snapshot(store: Store) -> tuple[dict[str, bytes], bytes, dict]:
    folder = store.processed_dir("BFCL")
    files = {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.name != "manifest.json"}
    manifest = {k: v for k, v in store.manifest("BFCL").items() if k != "run"}
    return files, store.catalog_path("BFCL").read_bytes(), manifest


def _parsed_lines(data: bytes) -> list[str]:
    return sorted(json.dumps(json.loads(line), sort_keys=True) for line in data.splitlines())


def test_small_bfcl_totals_rejects_and_catalog(tmp_path, small_bfcl):
    store = Store(tmp_path / "data")
    manifest = process(get_source("BFCL"), store, origin=small_bfcl, progress=False)
    assert list(manifest["subsets"]) == [*SUBSETS, "parallel_multiple"]
    for subset, n in SUBSETS.items():
        row = manifest["subsets"][subset]
        assert (row["in"], row["out"], row["rejected"]) == (n, n - 2, 2), subset
        assert row["samples"] == n - 2 and row["tools"] >= 1
    assert manifest["subsets"]["parallel_multiple"] == {"in": 2, "out": 0, "rejected": 2, "samples": 0, "tools": 0}
    assert manifest["totals"] == {"in": 17, "out": 9, "rejected": 8, "samples": 9}
    assert failed_subsets(manifest) == ["parallel_multiple"]
    folder = store.processed_dir("BFCL")
    rejects = [json.loads(line) for line in (folder / "rejects.jsonl").read_text("utf-8").splitlines()]
    assert [(r["subset"], r["location"]) for r in rejects] == [
        *((s, n) for s in SUBSETS for n in (2, 3)), ("parallel_multiple", 1), ("parallel_multiple", 2)]
    assert "outil_é" in rejects[1]["reason"]
    truncated = (small_bfcl / "BFCL_v4_simple_python.json").read_text().splitlines()[1]
    assert rejects[0]["raw"] == truncated and rejects[1]["raw"]["entry"]["id"] == "simple_python_2"  # what was read
    catalog = [json.loads(line) for line in store.catalog_path("BFCL").read_text("utf-8").splitlines()]
    assert len(catalog) == manifest["tools"] and manifest["tools"] >= 3
    assert [(t["name"], json.dumps(t, sort_keys=True)) for t in catalog] == sorted(
        (t["name"], json.dumps(t, sort_keys=True)) for t in catalog)
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # no temp folder left


@pytest.mark.parametrize("without_index", [False, True])
def test_partial_runs_leave_what_a_full_run_leaves(tmp_path, small_bfcl, without_index):
    """Reprocessing (all, or some subsets) gives byte-identical samples, rejects, index and catalog. Over output
    written before ``subsets.index`` existed, the kept subsets' tools are read back from their samples and their
    rejects (the same lines) come after the redone ones; the index written then serves the next partial run."""
    store = Store(tmp_path / "data")
    process(get_source("BFCL"), store, origin=small_bfcl, progress=False)
    full = _snapshot(store)
    if without_index:
        (store.processed_dir("BFCL") / INDEX).unlink()
    for subsets in (["parallel"], ["multiple", "simple_python"], ["simple_python"], None):
        process(get_source("BFCL"), store, origin=small_bfcl, subsets=subsets, progress=False)
        again = _snapshot(store)
        assert again[0].keys() == full[0].keys(), subsets
        for name in full[0]:
            if without_index and name in ("rejects.jsonl", INDEX) and subsets:
                assert sorted(again[0][name].splitlines()[name == INDEX:]) == sorted(full[0][name].splitlines()[name == INDEX:])
            else:
                assert again[0][name] == full[0][name], (subsets, name)
        assert again[1:] == full[1:], subsets


def test_a_partial_run_replaces_the_redone_subset_with_its_new_data(tmp_path, small_bfcl):
    store = Store(tmp_path / "data")
    process(get_source("BFCL"), store, origin=small_bfcl, progress=False)
    kept = (store.processed_dir("BFCL") / "simple_python.jsonl").read_bytes()
    path = small_bfcl / "BFCL_v4_parallel.json"
    path.write_text("\n".join(path.read_text().splitlines()[:4]) + "\n")  # one good record fewer
    manifest = process(get_source("BFCL"), store, origin=small_bfcl, subsets=["parallel"], progress=False)
    assert manifest["subsets"]["parallel"] == {**manifest["subsets"]["parallel"], "in": 4, "out": 2, "rejected": 2, "samples": 2}
    assert len((store.processed_dir("BFCL") / "parallel.jsonl").read_text().splitlines()) == 2
    assert (store.processed_dir("BFCL") / "simple_python.jsonl").read_bytes() == kept
    assert manifest["totals"] == {"in": 16, "out": 8, "rejected": 8, "samples": 8}


def test_manifest_says_where_the_data_came_from_and_what_made_it(tmp_path, small_bfcl):
    store, source = Store(tmp_path / "data"), get_source("BFCL")
    manifest = process(source, store, origin=small_bfcl, progress=False)
    assert manifest == store.manifest("BFCL")
    assert manifest["name"] == "BFCL" and manifest["schema_version"] == SCHEMA_VERSION
    assert manifest["opentoollab_version"] == __version__ and manifest["options"] == {}
    assert manifest["source"] == {"license": source.license, "homepage": source.homepage,
                                  "version": source.version_of(small_bfcl),
                                  "fetched": {"kind": "local", "path": str(small_bfcl)}}
    assert list(manifest["counters"]) == sorted(manifest["counters"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", manifest["run"]["finished_at"])
    assert 0 <= manifest["run"]["seconds"] < 600
    assert failed_subsets({"subsets": {"a": {"in": 2, "out": 0}, "b": {"in": 0, "out": 0}, "c": {"in": 1, "out": 1}}}) == ["a"]


def test_missing_input_is_one_clear_error(tmp_path):
    store = Store(tmp_path / "data")
    with pytest.raises(FetchError, match=re.escape(f"{tmp_path / 'nowhere'} does not exist")):
        process(get_source("BFCL"), store, origin=tmp_path / "nowhere", progress=False)
    with pytest.raises(FetchError, match=re.escape(f"BFCL is not downloaded in {store.root}")):
        process(get_source("BFCL"), store, progress=False)


class _Failing(Source):
    """Yields one good record, then its reader fails (a corrupt archive, a full disk)."""

    name = "Failing"
    subsets = ("only",)

    def records(self, raw: Path, subsets=None):
        yield RawRecord("only", "f.json", 0, {"text": "hello"}, "0")
        raise OSError("disk went away")

    def convert(self, record: RawRecord, ctx: Context):
        meta_ = {"source": self.name, "subset": record.subset, "source_id": record.source_id, "license": "MIT"}
        return [{"role": "meta", "content": meta_}, {"role": "candidate_tools", "content": []},
                {"role": "user", "content": record.data["text"]}]


def test_a_failing_run_leaves_the_previous_output_and_no_temporaries(tmp_path, small_bfcl):
    store = Store(tmp_path / "data")
    process(get_source("BFCL"), store, origin=small_bfcl, progress=False)
    before = _snapshot(store)
    with pytest.raises(OSError, match="disk went away"):
        process(_Failing(), store, origin=small_bfcl, progress=False)
    assert _snapshot(store) == before and store.processed_names() == ["BFCL"]
    assert [p.name for p in (store.root / "processed").iterdir() if p.name.startswith(".")] == []


def _body(record: RawRecord, *messages: dict) -> list[dict]:
    info = {"source": "Kill", "subset": record.subset, "source_id": record.source_id, "license": "MIT"}
    return [{"role": "meta", "content": info}, *messages]


class _Invalid(Source):
    """Record 0 gives a valid sample and one that breaks seven rules; record 1 a valid sample."""

    name = "Kill"
    subsets = ("only",)

    def records(self, raw: Path, subsets=None):
        yield RawRecord("only", "k.json", 0, {"n": 0}, "0")
        yield RawRecord("only", "k.json", 1, {"n": 1}, "1")

    def convert(self, record: RawRecord, ctx: Context):
        good = _body(record, {"role": "candidate_tools", "content": []}, {"role": "user", "content": "hi"})
        if record.data["n"]:
            return good
        calls = [{"name": "a", "parameters": {}, "depend_on": ["bad"]},
                 {"name": "b", "parameters": {}, "depend_on": ["x.0", "x.0"]}]
        return [good, _body(record, {"role": "user", "content": "hi"}, {"role": "tool_call", "content": calls},
                            {"role": "system", "content": "late"})]


def test_an_invalid_record_is_rejected_with_the_first_five_problems_of_its_sample(tmp_path):
    store = Store(tmp_path / "data")
    source = _Invalid()
    manifest = process(source, store, origin=tmp_path, progress=False)
    assert manifest["subsets"]["only"] == {"in": 2, "out": 1, "rejected": 1, "samples": 1, "tools": 0}
    folder = store.processed_dir("Kill")
    (reject,) = [json.loads(line) for line in (folder / "rejects.jsonl").read_text("utf-8").splitlines()]
    bad = source.convert(RawRecord("only", "k.json", 0, {"n": 0}, "0"), Context())[1]
    problems = validate_sample([{"role": "id", "content": "Kill_only_1"}, *bad])  # numbered after the good one
    assert len(problems) == 7 and reject["reason"] == "invalid sample: " + "; ".join(map(str, problems[:5]))
    assert (reject["location"], reject["raw"]) == (0, {"n": 0})
    assert [json.loads(line)[0]["content"] for line in (folder / "only.jsonl").read_text().splitlines()] == ["Kill_only_0"]


# ----------------------------------------------------------------------------- format/sample.py

def _nest(levels: int, leaf, kind: str = "list"):
    for _ in range(levels):
        leaf = [leaf] if kind == "list" else {"k": leaf}
    return leaf


def test_dumps_lenient_writes_any_raw_record_as_strict_json():
    class Odd:
        def __str__(self) -> str:
            return "z" * 3000

    limit = 3 * MAX_INT_DIGITS
    raw = {"nan": float("nan"), "inf": float("-inf"), "ok": 1.5, "bad": "a\udcffb", "é": "ü", 3: "key",
           "pair": (1, "x"), "flags": [True, False, None], "odd": Odd(), "big": 1 << (limit - 1),
           "fits": 1 << (limit - 2)}
    text = dumps_lenient(raw)
    text.encode("utf-8")  # a lone surrogate would not encode
    assert '"é": "ü"' in text  # UTF-8 kept, not \u escapes
    assert json.loads(text) == {"nan": "nan", "inf": "-inf", "ok": 1.5, "bad": "a\\udcffb", "é": "ü", "3": "key",
                                "pair": [1, "x"], "flags": [True, False, None], "odd": "z" * 2000,
                                "big": f"<integer of {limit} bits>", "fits": 1 << (limit - 2)}
    marker = f"<nested deeper than {MAX_DEPTH} levels>"
    for kind in ("list", "dict"):
        assert json.loads(dumps_lenient(_nest(MAX_DEPTH, "x", kind))) == _nest(MAX_DEPTH, "x", kind)
        assert json.loads(dumps_lenient(_nest(MAX_DEPTH + 1, "x", kind))) == _nest(MAX_DEPTH, marker, kind)


def test_meta_and_sample_id_read_only_their_own_messages():
    info = {"source": "Kill", "subset": "s"}
    assert meta([{"role": "id", "content": "K_s_0"}, {"role": "meta", "content": info}]) == info
    assert meta([5, {"role": "meta", "content": info}]) == info  # a message that is not an object is skipped
    assert meta([{"role": "id"}, {"role": "user"}, {"role": "user"}, {"role": "meta", "content": info}]) == {}
    assert meta([{"role": "meta", "content": ["not", "an", "object"]}]) == {}
    assert meta([{"role": "user", "content": info}]) == {} and meta("text") == {} and meta([]) == {}
    assert sample_id([{"role": "id", "content": "K_s_0"}]) == "K_s_0"
    assert sample_id([{"role": "id", "content": 5}]) is None and sample_id([{"role": "user", "content": "x"}]) is None


def test_follow_path_takes_keys_and_in_range_indices_only():
    result = {"a": {"b": [10, 20, 30], "s": "abc"}, "0": "zero"}
    assert follow_path(result, []) == result
    assert follow_path(result, ["a", "b", "0"]) == 10 and follow_path(result, ["a", "b", "2"]) == 30
    assert follow_path(result, ["a", "b", "-1"]) == 30 and follow_path(result, ["a", "b", "-3"]) == 10
    assert follow_path(result, ["0"]) == "zero"
    for path in (["a", "b", "X1"], ["a", "b", "3"], ["a", "b", "-4"], ["a", "b", "x"], ["a", "c"], ["a", "0"], ["a", "s", "b"],
                 ["a", "b", "0", "z"]):
        with pytest.raises(LinkError, match=re.escape(f"path {'.'.join(path)!r} not found in result")):
            follow_path(result, path)


def test_links_inside_text_are_json_text_and_unknown_links_say_so():
    results = {"c.0": {"name": "Zoë", "n": [1, 2]}}
    assert resolve_links("got <link>c.0</link>", results) == 'got {"name": "Zoë", "n": [1, 2]}'
    assert resolve_links("n=<link>c.0.n</link>, who=<link>c.0.name</link>", results) == "n=[1, 2], who=Zoë"
    with pytest.raises(LinkError, match=re.escape("link 'nope.0' names no answered call")):
        resolve_links("<link>nope.0</link>", results)
    with pytest.raises(ValueError, match="NaN is not JSON"):
        loads_strict("[NaN]")


def test_first_candidates_unwrap_nested_candidates_as_the_schema_says():
    schema = {"type": "object", "properties": {
        "point": {"type": "object", "properties": {"x": {"type": "integer"}}},
        "rows": {"type": "array", "items": {"type": "object", "properties": {"k": {"type": "string"}}}},
        "tags": {"type": "array", "items": {"type": "string"}},
        "plain": {"type": "object"},
        "free": {"type": "string"},
        "outer": {"type": "object", "properties": {"inner": {"type": "object"}}},
        "lists": {"type": "array", "items": {"type": "object", "properties": {"in": {"type": "object"}}}},
    }}
    parameters = {"point": [{"x": [1, 2], "y": ["", 3]}], "rows": [[{"k": ["a"]}, {"k": ["", "b"]}]],
                  "tags": [["x", "y"]], "plain": [{"a": 1}], "free": ["", "text"], "gone": [""]}
    assert first_candidates(parameters, schema) == {
        "point": {"x": 1, "y": 3}, "rows": [{"k": "a"}, {"k": "b"}], "tags": ["x", "y"], "plain": {"a": 1}, "free": "text"}
    assert first_candidates(parameters) == {  # no schema: candidates are taken as they are
        "point": {"x": [1, 2], "y": ["", 3]}, "rows": [{"k": ["a"]}, {"k": ["", "b"]}], "tags": ["x", "y"],
        "plain": {"a": 1}, "free": "text"}
    # what is not a dict of non-empty candidate lists is a plain value, also inside arrays of objects
    odd = {"point": [{"x": []}], "rows": [[{"k": ["a"]}, {"k": "b"}]], "free": [{"x": [1]}]}
    assert first_candidates(odd, schema) == {"point": {"x": []}, "rows": [{"k": ["a"]}, {"k": "b"}], "free": {"x": [1]}}
    assert first_candidates({"rows": [[]], "point": ["text"]}, schema) == {"rows": [], "point": "text"}
    assert first_candidates({"tags": [[{"k": ["a"]}]]}, schema) == {"tags": [{"k": ["a"]}]}  # items are not objects
    deep = {"outer": [{"inner": [{"z": ["", 5]}]}], "lists": [[{"in": [{"z": [6]}]}]]}  # two levels of candidates
    assert first_candidates(deep, schema) == {"outer": {"inner": {"z": 5}}, "lists": [{"in": {"z": 6}}]}


# ----------------------------------------------------------------------------- format/validate.py

def test_is_valid_and_matches_schema():
    good = [{"role": "id", "content": "K_s_0"}, {"role": "candidate_tools", "content": []},
            {"role": "user", "content": "hi"}]
    assert is_valid(good) and matches_schema(good)
    assert not is_valid([]) and not matches_schema([])
    truth = {"role": "tool_call_ground_truth", "content": [{"name": "f", "parameters": {"x": [float("nan")]}}]}
    assert not matches_schema([*good, truth])  # the schema allows it, strict JSON does not
    no_user = [good[0], good[1], {"role": "assistant", "content": "hi"}]
    assert matches_schema(no_user) and not is_valid(no_user)  # the schema holds, a semantic rule does not


# ----------------------------------------------------------------------------- format/jsonl.py

def test_lines_keep_their_file_number_error_and_text(tmp_path):
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"a": 1}\n\n  \n{broken \xff\n[2]\n')
    lines = list(iter_lines(path))
    assert [(line.path, line.number, line.value) for line in lines] == [(str(path), 1, {"a": 1}), (str(path), 4, None),
                                                                        (str(path), 5, [2])]
    assert lines[0].error is None and lines[0].text == ""
    assert lines[1].error.startswith("invalid JSON: not UTF-8") and lines[1].text == "{broken \\xff"
    with pytest.raises(ValueError, match=re.escape(f"{path}:4: invalid JSON: not UTF-8")):
        list(iter_samples(path))


def test_writers_count_rows_and_write_compact_utf8(tmp_path):
    assert write_jsonl(tmp_path / "rows.jsonl", [{"a": "é"}, [1, 2], "x"]) == 3
    assert (tmp_path / "rows.jsonl").read_text("utf-8") == '{"a":"é"}\n[1,2]\n"x"\n'
    good = [{"role": "id", "content": "K_s_0"}, {"role": "candidate_tools", "content": []},
            {"role": "user", "content": "héllo"}]
    assert write_samples(tmp_path / "s.jsonl", [good, good]) == 2
    assert (tmp_path / "s.jsonl").read_text("utf-8") == (dumps_sample(good) + "\n") * 2
    bad = [{"role": "id", "content": "no-id"}, {"role": "assistant", "content": "x"}]  # several problems
    first = str(validate_sample(bad)[0])
    with pytest.raises(ValueError, match=re.escape(f"sample 1 is invalid: {first}")):
        write_samples(tmp_path / "t.jsonl", [good, bad])
    assert not (tmp_path / "t.jsonl").exists()
    assert write_samples(tmp_path / "t.jsonl", [bad], validate=False) == 1


def test_sha256_file_reads_every_block(tmp_path):
    data = bytes(range(256)) * 9000  # over 2 MiB: several blocks
    (tmp_path / "blob").write_bytes(data)
    assert sha256_file(tmp_path / "blob") == hashlib.sha256(data).hexdigest()


def test_lock_holder_is_described_or_unknown(tmp_path):
    lock = tmp_path / "x.lock"
    lock.write_text(json.dumps({"pid": 42, "command": "python datasets process", "since": "2026-11-30T00:00:00Z"}))
    assert _holder(lock) == "pid 42: python datasets process, since 2026-11-30T00:00:00Z"
    lock.write_text(json.dumps({"pid": 42, "command": ""}))
    assert _holder(lock) == "pid 42: ?, since ?"
    for text in ("", "{broken", "[1]", "{}"):
        lock.write_text(text)
        assert _holder(lock) == "pid unknown", text
    assert _holder(tmp_path / "missing.lock") == "pid unknown"


def test_only_temporaries_of_dead_writers_are_cleaned(tmp_path, monkeypatch):
    target = tmp_path / "out.json"
    # a live process that a stray SIGHUP would end (even when the tests run under nohup)
    sleeper = subprocess.Popen([sys.executable, "-c", "import signal, time; signal.signal(signal.SIGHUP, signal.SIG_DFL); "
                                "print('ready', flush=True); time.sleep(30)"], stdout=subprocess.PIPE, text=True)
    try:
        assert sleeper.stdout.readline() == "ready\n"
        dead = subprocess.Popen([sys.executable, "-c", "pass"])
        dead.wait()
        names = {pid: f".out.json.{pid}-0123abcd.tmp" for pid in (os.getpid(), sleeper.pid, dead.pid)}
        for name in names.values():
            (tmp_path / name).write_text("partial")
        assert clean_stale(target) == [f"removed {tmp_path / names[dead.pid]}"]
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted([names[os.getpid()], names[sleeper.pid]])
        with pytest.raises(subprocess.TimeoutExpired):  # asking whether a process lives sends it no signal
            sleeper.wait(timeout=0.5)
        with monkeypatch.context() as patch:
            patch.setattr(os, "kill", lambda pid, sig: (_ for _ in ()).throw(PermissionError(pid)))
            assert clean_stale(target) == []  # another user's process (EPERM) counts as alive
    finally:
        sleeper.kill()
        sleeper.wait()
        sleeper.stdout.close()


# ----------------------------------------------------------------------------- format/links.py

def _sample(*messages) -> list[dict]:
    return [{"role": "id", "content": "K_s_0"}, {"role": "candidate_tools", "content": []}, *messages]


def _call(name: str, **parameters) -> dict:
    return {"name": name, "parameters": parameters, "depend_on": []}


def _linked_calls(sample: list[dict]) -> list[dict]:
    out, count = infer_links(sample)
    calls = [call for message in out if message["role"] == "tool_call" for call in message["content"]]
    assert count == sum(str(call.get("parameters")).count("<link>") for call in calls)
    return calls


def test_is_linkable_edges():
    for value in ("abc", "<x>", 10, -10, 10.0, ["abc"], {"k": -11}):
        assert is_linkable(value), value
    for value in (True, None, "  ab  ", "<link>f.0</link>", "see <link>f.0.id</link> there", 9.99, (1, 20), {1, 20}):
        assert not is_linkable(value), value


def test_link_inference_rules_on_small_samples():
    lookup = {"role": "tool_call", "content": [_call("lookup", q="weather in Oslo")]}
    answer = {"role": "tool_response", "content": {"lookup.0": {"ok": True, "id": "abc123", "n": 12345}}}
    use = {"name": "use", "parameters": {"id": "abc123"}}  # no depend_on key yet
    # a non-linkable node before a linkable one in the result; a call without depend_on gets one
    calls = _linked_calls(_sample({"role": "user", "content": "go"}, lookup, answer, {"role": "tool_call", "content": [use]}))
    assert calls[1] == {"name": "use", "parameters": {"id": "<link>lookup.0.id</link>"}, "depend_on": ["lookup.0"]}
    # an existing depend_on is kept and extended
    kept = {**use, "depend_on": ["other.0"]}
    second = {"role": "tool_call", "content": [_call("other", q="x y z")]}
    reply = {"role": "tool_response", "content": {"other.0": {"n": 12345}}}
    calls = _linked_calls(_sample({"role": "user", "content": "go"}, lookup, answer, second, reply,
                                  {"role": "tool_call", "content": [kept]}))
    assert calls[2]["depend_on"] == ["other.0", "lookup.0"] and calls[2]["parameters"]["id"] == "<link>lookup.0.id</link>"
    # values given in a system or user message before the result are not linked; an assistant's words do not count
    for role, linked in (("system", False), ("user", False), ("assistant", True)):
        calls = _linked_calls(_sample({"role": "user", "content": "go"}, {"role": role, "content": "id abc123, n 12345"},
                                      lookup, answer, {"role": "tool_call", "content": [_call("use", id="abc123", n=12345)]}))
        assert ("<link>" in str(calls[1]["parameters"])) is linked, role
    # prior messages are joined by a newline: a value spanning two of them was known
    calls = _linked_calls(_sample({"role": "user", "content": "tail foo"}, {"role": "user", "content": "bar head"},
                                  lookup, {"role": "tool_response", "content": {"lookup.0": {"v": "foo\nbar"}}},
                                  {"role": "tool_call", "content": [_call("use", v="foo\nbar")]}))
    assert calls[1]["parameters"] == {"v": "foo\nbar"}
    # an echoed input (nested in the call's arguments) is not linked back to that call
    nested = {"role": "tool_call", "content": [_call("find", where={"cities": ["Springfield"]})]}
    calls = _linked_calls(_sample({"role": "user", "content": "go"}, nested,
                                  {"role": "tool_response", "content": {"find.0": {"city": "Springfield"}}},
                                  {"role": "tool_call", "content": [_call("use", city="Springfield")]}))
    assert calls[1]["parameters"] == {"city": "Springfield"}


def test_link_inference_skips_meta_and_survives_odd_messages():
    info = {"source": "Kill", "subset": "weather"}
    sample = [{"role": "id", "content": "K_s_0"}, {"role": "meta", "content": info},
              {"role": "candidate_tools", "content": []}, {"role": "user", "content": "go"},
              {"role": "tool_call", "content": [_call("lookup", q="x y z"), {"name": "bare"}]},
              {"role": "tool_response", "content": {"lookup.0": "done", "stray.0": {"kind": "weather"}}},
              {"role": "tool_call", "content": [_call("use", kind="Kill"), {"name": "bare"}]}]
    calls = _linked_calls(sample)  # a call without parameters, a result for no call: no crash
    assert calls[2]["parameters"] == {"kind": "Kill"}  # meta is no result
    plain = _sample({"role": "user", "content": "abc123"}, {"role": "tool_call", "content": [_call("use", id="abc123")]})
    assert infer_links(plain) == (plain, 0) and infer_links(plain)[0] is plain  # no result: the sample itself


def test_results_up_to_the_size_limit_are_link_targets():
    for size, linked in ((MAX_INDEXED_TEXT, True), (MAX_INDEXED_TEXT + 1, False)):
        blob = "x" * (size - 2)  # its canonical JSON has the quotes
        calls = _linked_calls(_sample({"role": "user", "content": "go"},
                                      {"role": "tool_call", "content": [_call("read", q="abc")]},
                                      {"role": "tool_response", "content": {"read.0": {"text": blob}}},
                                      {"role": "tool_call", "content": [_call("use", text=blob)]}))
        assert (calls[1]["parameters"]["text"] == "<link>read.0.text</link>") is linked, size
