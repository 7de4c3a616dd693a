"""Speed and scale (issue 18): orjson with json's exact bytes, the parallel helpers, incremental and parallel
``process`` with output byte-identical to one process and to a full run."""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from opentoollab.datasets.sources import get_source
from opentoollab.datasets.store import INDEX, Store, process
from opentoollab.format import fastjson, parallel
from opentoollab.format.sample import canonical_json, dumps_sample, json_problem

REPO = Path(__file__).resolve().parent.parent
BFCL_SUBSETS = ["simple_python", "live_simple", "live_parallel", "irrelevance", "multi_turn_base"]


# ----------------------------------------------------------------------------- orjson, json's bytes
def _reference(value, sort_keys=False, allow_nan=True):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=sort_keys, allow_nan=allow_nan)


def test_fast_encoding_gives_json_bytes_for_every_float_shape():
    rng = random.Random(18)
    fast = 0
    for _ in range(40_000):
        kind = rng.random()
        if kind < 0.4:
            x = struct.unpack("d", struct.pack("Q", rng.getrandbits(64)))[0]
        elif kind < 0.8:
            x = rng.uniform(-1, 1) * 10 ** rng.randint(-9, 20)
        else:
            x = round(rng.uniform(-1e5, 1e5), rng.randint(0, 9))
        if not math.isfinite(x):
            continue
        value = {"b": [x, "text"], "a": x}
        for sort_keys in (False, True):
            data = fastjson.dumps_bytes(value, sort_keys=sort_keys, finite=True)
            if data is not None:
                fast += 1
                assert data == _reference(value, sort_keys).encode()
    assert fast > 10_000  # most floats do take the fast path


@pytest.mark.parametrize("value", [[float("nan")], {"x": float("inf")}, [2 ** 64], ["\ud800"], {1: "a"}, [None, 1e-7],
                                   [1e16], [0.00001], {"k": True}])
def test_fast_encoding_declines_whatever_json_writes_otherwise(value):
    data = fastjson.dumps_bytes(value)
    try:
        expected = _reference(value).encode("utf-8")
    except UnicodeEncodeError:
        expected = None
    assert data is None or data == expected


def test_sample_writers_are_byte_identical_to_json_on_real_data(bfcl_samples, slice_samples):
    samples = [s for group in (*bfcl_samples.values(), *slice_samples.values()) for s in group]
    assert len(samples) > 4000
    for sample in samples:
        assert dumps_sample(sample) == dumps_sample(sample, finite=True) == _reference(sample, allow_nan=False)
        for message in sample:
            if message["role"] == "candidate_tools":
                for tool in message["content"]:
                    assert canonical_json(tool) == _reference(tool, sort_keys=True)


@pytest.mark.parametrize("text", ["get_weather", "", "naïve 天气 😀", 'say "hi"', "back\\slash", "tab\there", "line\nend",
                                  "\x00\x1f\x7f", "\u2028\u2029", "\ud800 lone", "\u00a0nbsp", "\u200bzero width"])
def test_quoted_strings_are_what_json_writes(text):
    assert fastjson.quoted(text) == json.dumps(text, ensure_ascii=False)


def test_quoted_real_tool_names_and_ids_are_what_json_writes(bfcl_samples):
    for sample in bfcl_samples["live_multiple"][:200]:
        for message in sample:
            names = [message["content"]] if message["role"] == "id" else \
                [t["name"] for t in message["content"]] if message["role"] == "candidate_tools" else []
            for name in names:
                assert fastjson.quoted(name) == json.dumps(name, ensure_ascii=False)


def test_conversion_cuts_each_body_from_the_bytes_validation_encoded(bfcl_samples, slice_samples):
    """convert._body_text reuses the encoding of [placeholder, *body] made while validating: the text must be
    dumps_sample(body) exactly, including bodies whose floats orjson writes otherwise (then json writes them)."""
    from opentoollab.datasets.convert import _body_text
    from opentoollab.format.validate import checked_sample

    placeholder = {"role": "id", "content": "BFCL_simple_0"}
    head = b"[" + json.dumps(placeholder, separators=(",", ":")).encode()
    bodies = [s[1:] for group in (*bfcl_samples.values(), *slice_samples.values()) for s in group]
    bodies += [[], [{"role": "meta", "content": {"x": 1e-7, "y": 1e16, "z": None}}]]
    for body in bodies:
        problems, encoded = checked_sample([placeholder, *body])
        assert encoded is not None
        assert _body_text(body, encoded, head) == _reference(body, allow_nan=False).encode("utf-8")


@pytest.mark.parametrize("value, problem", [
    ([{"a": float("nan")}], "NaN/Infinity"), ([[1, (2, 3)]], "tuple is not a JSON value"),
    ([{"a": "\ud800"}], "lone surrogate"), ([{1: 2}], "key that is not a string"), ([[[[[]]]]], "nested deeper"),
    ([{"a": 2 ** 70, "b": 1.5e300, "c": None}], None), ([{"a": [1, 2.5, "x", True, None]}], None)])
def test_json_problem_still_finds_every_kind_of_problem(value, problem):
    found = json_problem(value, max_depth=4)
    assert (found is None) if problem is None else (problem in found)


# ----------------------------------------------------------------------------- the parallel helpers
def square(x: int) -> int:
    return x * x


def shard(index: int, count: int, n: int):
    for k in range(n):
        if k % count == index:
            yield ("item", k, os.getpid())
    yield {"shard": index}


def failing(index: int, count: int):
    yield index
    raise KeyError(f"shard {index} broke")


def blob(k: int) -> bytes:
    return bytes(20_000) + str(k).encode()


def _thread_cpu_seconds(name_part: str) -> float:
    """CPU seconds of this process's threads whose name holds ``name_part`` (Linux: /proc)."""
    import threading

    total = 0.0
    for thread in threading.enumerate():
        if name_part in thread.name and thread.native_id is not None:
            fields = Path(f"/proc/self/task/{thread.native_id}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads thread CPU from /proc")
def test_the_pools_worker_handler_sleeps_while_results_arrive():
    """multiprocessing's worker-handler thread also waited on the result pipe, readable until the result thread
    has read each result: with large results it woke in a loop (~0.3 s of CPU per 100 MB); ours sleeps."""
    with parallel.Workers(2) as pool:
        received = sum(len(b) for b in pool.imap(blob, range(10_000), chunk=64, window=2))
        spent = _thread_cpu_seconds("_handle_workers")
    assert received > 200_000_000
    assert spent < 0.05, f"the worker handler used {spent:.2f} s of CPU"


@pytest.mark.parametrize("method", ["fork", "forkserver"])  # forkserver: what datasets generate starts
def test_a_worker_that_dies_stops_imap_with_an_error_instead_of_waiting_forever(tmp_path, method):
    """A worker killed mid-run (out of memory, SIGKILL): the pool would start another and wait forever for the
    chunk the dead one held; imap raises WorkerFailed, and the CLI turns that into one error line."""
    script = (
        "import os, signal\n"
        "from opentoollab.format import parallel\n"
        "def work(k):\n"
        "    if k == 300:\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        "    return k\n"
        "if __name__ == '__main__':\n"
        "    try:\n"
        f"        with parallel.Workers(2, method={method!r}) as pool:\n"
        "            print(sum(pool.imap(work, range(1000), chunk=16)))\n"
        "    except parallel.WorkerFailed as exc:\n"
        "        print('failed:', exc)\n")
    (tmp_path / "run.py").write_text(script, encoding="utf-8")
    done = subprocess.run([sys.executable, str(tmp_path / "run.py")], capture_output=True, text=True, timeout=120)
    assert done.stdout.startswith("failed: worker process ") and "exit code -9" in done.stdout, done.stdout + done.stderr


def test_imap_keeps_order_and_bounds_what_is_in_flight():
    pulled = []

    def items():
        for k in range(2000):
            pulled.append(k)
            yield k

    results = parallel.imap(square, items(), 2, chunk=10, window=2)
    assert next(results) == 0
    assert len(pulled) <= 2 * 2 * 10 + 10  # a window of chunks, not the whole stream
    assert [0, *results] == [k * k for k in range(2000)]
    assert list(parallel.imap(square, range(50), 1)) == [k * k for k in range(50)]


def test_interleave_restores_stream_order_across_processes():
    merged = list(parallel.interleave(shard, (1001,), 3, chunk=7))
    items = [m for m in merged if isinstance(m, tuple)]
    assert [k for _, k, _ in items] == list(range(1001))
    assert len({pid for _, _, pid in items}) == 3 and os.getpid() not in {pid for _, _, pid in items}
    assert sorted(m["shard"] for m in merged if isinstance(m, dict)) == [0, 1, 2]
    assert merged[-3:] == [m for m in merged if isinstance(m, dict)]  # counters come after every item


def test_interleave_raises_the_workers_exception():
    with pytest.raises(KeyError, match="broke"):
        list(parallel.interleave(failing, (), 2))


@pytest.mark.parametrize("method", ["fork", "forkserver"])
def test_both_start_methods_give_the_same_ordered_results(method, monkeypatch):
    monkeypatch.setenv(parallel.START_METHOD_ENV, method)
    assert parallel.start_method() == method
    merged = list(parallel.interleave(shard, (301,), 2, chunk=5))
    assert [m[1] for m in merged if isinstance(m, tuple)] == list(range(301))
    assert list(parallel.imap(square, range(300), 2, chunk=7)) == [k * k for k in range(300)]


def _start_method_in_a_fresh_interpreter(code: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != parallel.START_METHOD_ENV}
    script = f"{code}\nfrom opentoollab.format.parallel import start_method\nprint(start_method())"
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env).stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork is chosen on Linux only")
def test_workers_fork_only_while_no_thread_or_threaded_library_could_hold_a_lock():
    assert _start_method_in_a_fresh_interpreter("import numpy, tqdm; tqdm.tqdm(range(3), disable=True)") == "fork"
    assert _start_method_in_a_fresh_interpreter("import tokenizers") == "fork"  # it guards its own pool
    assert _start_method_in_a_fresh_interpreter("import pyarrow") == "forkserver"
    assert _start_method_in_a_fresh_interpreter("import polars") == "forkserver"
    sleeper = "import threading, time; threading.Thread(target=time.sleep, args=(5,), daemon=True).start()"
    assert _start_method_in_a_fresh_interpreter(sleeper) == "forkserver"


# ----------------------------------------------------------------------------- process: workers, --subset
def _snapshot(store: Store, name: str) -> dict[str, bytes]:
    folder = store.processed_dir(name)
    files = {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file() and p.name != "manifest.json"}
    files["catalog"] = store.catalog_path(name).read_bytes()
    manifest = store.manifest(name)
    manifest.pop("run")
    files["manifest"] = json.dumps(manifest).encode()
    return files


def _bfcl_store(root: Path, bfcl_store: Store) -> Store:
    store = Store(root)
    (store.root / "downloaded").mkdir(parents=True)
    os.symlink(bfcl_store.raw_dir("BFCL"), store.raw_dir("BFCL"))
    return store


def test_workers_write_the_same_bytes_as_one_process(tmp_path, bfcl_store, shared):
    one, two = _bfcl_store(tmp_path / "one", bfcl_store), _bfcl_store(tmp_path / "two", bfcl_store)
    for store, workers in ((one, 1), (two, 2)):
        process(get_source("BFCL"), store, subsets=BFCL_SUBSETS, progress=False, workers=workers)
        for name, folder in (("xLAM", "xlam_function_calling_60k"), ("API-Bank", "api_bank")):
            process(get_source(name), store, origin=shared / "samples" / folder, progress=False, workers=workers)
    for name in ("BFCL", "xLAM", "API-Bank"):
        assert _snapshot(one, name) == _snapshot(two, name), name
    assert one.manifest("BFCL")["totals"]["rejected"] > 0  # rejects are part of what was compared


@pytest.mark.parametrize("name, folder, subsets", [
    ("Hermes", "hermes_function_calling_v1", None), ("Hermes", "hermes_function_calling_v1", ["function_calling"]),
    ("xLAM", "xlam_function_calling_60k", None), ("MTU-Bench", "mtu_bench", None)])
def test_workers_that_leave_the_others_records_unparsed_write_the_same_bytes(tmp_path, shared, name, folder, subsets):
    """Hub corpora read with a Shard: each worker parses only its own lines (``SKIPPED`` for the others'),
    also when --subset picks records by their content (then every line is parsed and counted)."""
    snapshots = []
    for workers in (1, 2, 3):
        store = Store(tmp_path / f"w{workers}")
        process(get_source(name), store, origin=shared / "samples" / folder, subsets=subsets, progress=False,
                workers=workers)
        snapshots.append(_snapshot(store, name))
    assert snapshots[0] == snapshots[1] == snapshots[2]
    assert store.manifest(name)["totals"]["samples"] > 0


def test_bfcl_leaves_the_other_workers_questions_unparsed(bfcl_store):
    """BFCL's reader takes a Shard: every other record comes ``SKIPPED`` (not parsed), the rest as without one."""
    from opentoollab.datasets.sources.base import SKIPPED, Shard

    source, raw = get_source("BFCL"), bfcl_store.raw_dir("BFCL")
    whole = list(source.records(raw, ["simple_python", "live_simple"]))
    mine = list(source.records(raw, ["simple_python", "live_simple"], shard=Shard(1, 2)))
    assert len(whole) == len(mine) > 600
    assert [record.data is SKIPPED for record in mine] == [index % 2 == 0 for index in range(len(mine))]
    assert [(r.location, r.data) for r in mine[1::2]] == [(r.location, r.data) for r in whole[1::2]]


def test_sharded_jsonl_reading_keeps_every_line_in_step(tmp_path, bfcl_samples):
    """The JSONL path of a Shard: real samples, with blank lines, a broken line and a non-sample between them."""
    samples = [s for group in bfcl_samples.values() for s in group][:700]
    lines = [json.dumps(s[1:], ensure_ascii=False) for s in samples]
    lines[10:10] = ["", "{broken", "   ", "[1, 2]"]
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "run.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    snapshots = []
    for workers in (1, 2, 3):
        store = Store(tmp_path / f"w{workers}")
        process(get_source("generated"), store, origin=raw, progress=False, workers=workers)
        snapshots.append(_snapshot(store, "generated"))
    assert snapshots[0] == snapshots[1] == snapshots[2]
    assert store.manifest("generated")["totals"] == {"in": 702, "out": 700, "rejected": 2, "samples": 700}


def test_an_adapter_out_of_step_with_its_sharded_reader_stops_the_run():
    from opentoollab.datasets.convert import convert_shard
    from opentoollab.datasets.sources.base import SKIPPED, RawRecord, Shard, Source

    class OutOfStep(Source):
        name = "out-of-step"

        def records(self, raw, subsets=None, shard: Shard | None = None):
            yield RawRecord("s", "f", 0, {"x": 1})  # a record the shard was not told about
            for k in range(1, 6):
                yield RawRecord("s", "f", k, SKIPPED if shard is not None and shard.foreign() else {"x": k})

    with pytest.raises(RuntimeError, match="out of step"):
        list(convert_shard(1, 2, OutOfStep(), Path("."), None, {}, False))


def test_workers_run_the_verified_wheel_even_when_the_parent_path_lists_another_copy(tmp_path, bfcl_store,
                                                                                    monkeypatch):
    """Workers inherit the parent's sys.path; an unverified bfcl_eval copy listed ahead of the pinned wheel
    (an earlier run's wheel in another folder) must not be what the workers import."""
    stale = tmp_path / "stale" / "bfcl_eval-2026.3.23-py3-none-any.whl"
    stale.parent.mkdir()
    wheel = next(bfcl_store.raw_dir("BFCL").glob("bfcl_eval-*.whl"))
    shutil.copyfile(wheel, stale)
    store = _bfcl_store(tmp_path / "data", bfcl_store)
    monkeypatch.syspath_prepend(str(wheel.resolve()))
    monkeypatch.syspath_prepend(str(stale))  # ahead of the pinned wheel, as a leftover would be
    process(get_source("BFCL"), store, subsets=["multi_turn_base"], progress=False, workers=2)
    totals = store.manifest("BFCL")["totals"]
    assert totals["in"] == 200 and totals["rejected"] == 0, (store.processed_dir("BFCL") / "rejects.jsonl").read_text()[:500]


def test_a_subset_run_leaves_what_a_full_run_leaves_without_reading_the_other_subsets(tmp_path, bfcl_store, monkeypatch):
    from opentoollab.datasets import store as store_module

    store = _bfcl_store(tmp_path / "data", bfcl_store)
    process(get_source("BFCL"), store, progress=False)
    full = _snapshot(store, "BFCL")
    assert json.loads(full[INDEX].split(b"\n", 1)[0])["rejects"]  # the index knows where each subset's rejects are

    def no_reading(*args, **kwargs):
        raise AssertionError("a kept subset was parsed")

    monkeypatch.setattr(store_module, "iter_samples", no_reading)
    monkeypatch.setattr(store_module, "iter_lines", no_reading)
    for subsets in (["live_parallel"], ["irrelevance", "multi_turn_base"], ["simple_python"]):
        manifest = process(get_source("BFCL"), store, subsets=subsets, progress=False)
        assert _snapshot(store, "BFCL") == full, subsets
        assert manifest["totals"]["in"] == 4441


def test_a_subset_run_over_output_without_an_index_reads_it_the_old_way(tmp_path, bfcl_store):
    store = _bfcl_store(tmp_path / "data", bfcl_store)
    process(get_source("BFCL"), store, progress=False)
    full = _snapshot(store, "BFCL")
    (store.processed_dir("BFCL") / INDEX).unlink()  # as written before the index existed
    process(get_source("BFCL"), store, subsets=["live_parallel"], progress=False)
    again = _snapshot(store, "BFCL")
    assert {k: v for k, v in again.items() if k != "rejects.jsonl"} == {k: v for k, v in full.items() if k != "rejects.jsonl"}
    assert sorted(again["rejects.jsonl"].splitlines()) == sorted(full["rejects.jsonl"].splitlines())


def test_cli_workers_option_gives_the_same_bytes(tmp_path, bfcl_store):
    outputs = []
    for workers in ("1", "2"):
        store = _bfcl_store(tmp_path / f"w{workers}", bfcl_store)
        result = subprocess.run([sys.executable, "datasets", "process", "BFCL", "-q", "--workers", workers,
                                 "--subset", "live_parallel", "--subset", "multiple", "--data-dir", str(store.root)],
                                cwd=REPO, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        outputs.append(_snapshot(store, "BFCL"))
    assert outputs[0] == outputs[1]
    shutil.rmtree(tmp_path)


def test_tag_and_mix_give_the_same_bytes_for_any_number_of_workers(tmp_path, bfcl_store, shared):
    from opentoollab.tag.writing import plan_units, write_tags
    from opentoollab.trainer.mix import build_mix, write_mix

    store = Store(tmp_path / "data")
    for name, folder in (("xLAM", "xlam_function_calling_60k"), ("API-Bank", "api_bank"), ("ToolACE", "toolace")):
        process(get_source(name), store, origin=shared / "samples" / folder, progress=False)
    files = [*store.subset_files("xLAM"), *store.subset_files("API-Bank")]
    mixes, tags = [], []
    for workers in (1, 2):
        out = tmp_path / f"tags{workers}"
        write_tags(plan_units(files, store, out), drop_invalid=True, workers=workers)
        tags.append({p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*.jsonl"))})
        # a mix with exact + near dedup and decontamination against BFCL (an extra evaluation set)
        mix, manifest = build_mix("xLAM,API-Bank:0.5,ToolACE", store, seed=3, workers=workers, allow_eval=True,
                                  eval_sets=(str(bfcl_store.subset_files("BFCL")[0]),))
        written = write_mix(tmp_path / f"mix{workers}.jsonl", mix, manifest)
        mixes.append(((tmp_path / f"mix{workers}.jsonl").read_bytes(),
                      (tmp_path / f"mix{workers}.removed.jsonl").read_bytes(), written["totals"]))
    assert tags[0] == tags[1] and len(tags[0]) >= 4
    assert mixes[0] == mixes[1]
    assert mixes[0][2]["duplicate_exact"] + mixes[0][2]["duplicate_near"] > 0  # dedup did something


@pytest.mark.slow  # the parity sweep: .ci/run's second tier (pytest -m slow)
def test_ray_engine_writes_what_one_process_writes(tmp_path, bfcl_store, monkeypatch):
    pytest.importorskip("ray")
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")  # a throwaway local cluster needs no token
    subsets = ["live_parallel", "live_simple", "multi_turn_base"]
    local, distributed = _bfcl_store(tmp_path / "local", bfcl_store), _bfcl_store(tmp_path / "ray", bfcl_store)
    process(get_source("BFCL"), local, subsets=subsets, progress=False, workers=1)
    process(get_source("BFCL"), distributed, subsets=subsets, progress=False, workers=2, engine="ray")
    assert _snapshot(local, "BFCL") == _snapshot(distributed, "BFCL")
    assert distributed.manifest("BFCL")["totals"]["rejected"] > 0


def test_band_index_proposes_exactly_the_candidates_of_datasketch(bfcl_samples):
    from datasketch import MinHashLSH

    from opentoollab.trainer.dedup import NearDeduper, user_turns
    from opentoollab.trainer.lsh import BandIndex

    rng = random.Random(5)
    words = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi".split()
    texts = ["\n".join(user_turns(s)) for samples in bfcl_samples.values() for s in samples[::3]]
    for _ in range(1500):
        text = " ".join(rng.choices(words, k=24))
        texts += [text, text + " " + rng.choice(words), text.replace(" ", " mu ", 1)]
    near = NearDeduper()
    reference, index, keys = MinHashLSH(threshold=near.threshold, num_perm=near.num_perm), BandIndex(near.threshold, near.num_perm), []
    proposed = 0
    for key, text in enumerate(texts):
        minhash = near.signature(text)
        if minhash is None:
            continue
        expected = sorted(reference.query(minhash))
        assert [keys[row] for row in index.query(minhash.hashvalues)] == expected
        proposed += bool(expected)
        reference.insert(key, minhash, check_duplication=False)
        index.insert(minhash.hashvalues)
        keys.append(key)
    assert proposed > 2000 and len(index) == len(keys)


def test_band_index_stores_32_bit_values_and_refuses_wider_ones():
    import numpy as np

    from opentoollab.trainer.lsh import BandIndex

    index = BandIndex(0.8, 128)
    values = np.arange(128, dtype=np.uint64) + (1 << 32) - 128  # the largest values datasketch makes
    assert index.insert(values) == 0 and index.row(0).dtype == np.uint32
    assert np.array_equal(index.row(0), values) and index.query(values) == [0]
    with pytest.raises(ValueError, match="32 bits"):
        index.insert(values + 1)
