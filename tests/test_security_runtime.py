"""Only verified code runs, and every BFCL call is bounded (issue 13, items 1 and 3).

* a bfcl_eval wheel that is not the pinned release (a ``--from`` folder or file, the download folder)
  is refused before import, unless explicitly trusted (``--trust-runtime``, recorded in the manifest);
* files in ``downloaded/NAME/`` that the provenance does not list are refused;
* BFCL calls have argument-cost, time and result-size limits; toolkit calls are time-bounded in
  worker threads too.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
import zipfile

import pytest
from click.testing import CliRunner

from opentoollab.cli.datasets import datasets
from opentoollab.datasets.fetch import verify, write_provenance
from opentoollab.datasets.sources.base import FetchError
from opentoollab.tools import base
from opentoollab.tools.bfcl_runtime import (CallLimitExceeded, Runtime, RuntimeUnavailable, UnverifiedRuntime,
                                            verify_wheel)


def _tampered(wheel, dest):
    """A copy of the pinned wheel with one extra module: same version and name, other bytes."""
    dest.mkdir(parents=True, exist_ok=True)
    out = dest / wheel.name
    with zipfile.ZipFile(wheel) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info, source.read(info))
        target.writestr("bfcl_eval/evil.py", "open('/tmp/opentoollab-pwned', 'w').write('x')\n")
    return out


# ---------------------------------------------------------------------------------- verified code only
def test_pinned_wheel_is_admitted(bfcl_wheel):
    assert verify_wheel(bfcl_wheel) == "pinned"
    runtime = Runtime(bfcl_wheel)
    assert runtime.cls("MathAPI").__name__ == "MathAPI" and runtime.status == "pinned"


def test_unpinned_wheel_is_refused_before_import(bfcl_wheel, tmp_path):
    wheel = _tampered(bfcl_wheel, tmp_path / "from")
    runtime = Runtime(wheel)
    with pytest.raises(UnverifiedRuntime, match="not the pinned bfcl-eval==2026.3.23.*--trust-runtime"):
        runtime.cls("MathAPI")
    assert isinstance(UnverifiedRuntime("x"), RuntimeUnavailable)
    assert str(wheel) not in __import__("sys").path  # never put on the import path
    trusted = Runtime(wheel, trust=True)
    trusted.cls("MathAPI")
    assert trusted.status == "trusted"


def test_process_from_folder_refuses_unpinned_wheel_and_trust_is_recorded(bfcl_wheel, tmp_path):
    folder = tmp_path / "from"
    _tampered(bfcl_wheel, folder)
    data = tmp_path / "data"
    runner = CliRunner()
    args = ["process", "BFCL", "--from", str(folder), "--subset", "multi_turn_miss_func", "-q", "--data-dir", str(data)]
    result = runner.invoke(datasets, args)
    assert result.exit_code == 1, result.output
    assert "refusing to import" in result.output and "--trust-runtime" in result.output
    assert "Traceback" not in result.output
    assert not (data / "processed" / "BFCL").exists()
    result = runner.invoke(datasets, args + ["--trust-runtime"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((data / "processed" / "BFCL" / "manifest.json").read_text())
    assert manifest["options"]["trust_runtime"] is True
    assert manifest["subsets"]["multi_turn_miss_func"]["out"] > 0


def test_unlisted_file_in_download_is_refused(tmp_path):
    raw = tmp_path / "downloaded" / "BFCL"
    raw.mkdir(parents=True)
    (raw / "data.json").write_text("{}\n")
    write_provenance(raw, kind="local", path="x")
    verify(raw)
    (raw / "bfcl_eval-9999.1.1-py3-none-any.whl").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    with pytest.raises(FetchError, match="bfcl_eval-9999.1.1-py3-none-any.whl is not part of the download"):
        verify(raw)


# ---------------------------------------------------------------------------------- bounded calls
@pytest.fixture()
def math_session(bfcl_wheel):
    return Runtime(bfcl_wheel).session({}, ["MathAPI", "GorillaFileSystem"])


def test_power_with_huge_result_is_refused_before_it_runs(math_session):
    started = time.perf_counter()
    result = math_session.call("power", [], {"base": 7, "exponent": 30_000_000})
    assert time.perf_counter() - started < 1
    assert isinstance(result, str) and result.startswith("Error during execution: limit:") and "digits" in result
    with pytest.raises(CallLimitExceeded, match="power"):
        math_session.call("power", [], {"base": 7, "exponent": 30_000_000}, strict=True)
    assert math_session.call("power", [], {"base": 2, "exponent": 10}) == {"result": 1024}


def test_square_root_precision_and_result_size_are_limited(math_session):
    started = time.perf_counter()
    result = math_session.call_text("square_root(number=2, precision=2000000)")
    assert time.perf_counter() - started < 1
    assert "limit: square_root precision" in result
    assert math_session.call_text("square_root(number=16, precision=5)") == {"result": 4.0}
    big = math_session.call("echo", [], {"content": "x" * (base.MAX_RESULT_CHARS + 10)})
    assert isinstance(big, str) and "result too large" in big


def test_ground_truth_past_a_limit_rejects_the_record(bfcl_wheel):
    from opentoollab.datasets.sources.base import Context, RawRecord, Reject
    from opentoollab.datasets.sources.bfcl import BFCL, RawFiles

    source = BFCL()
    files = RawFiles(bfcl_wheel)
    source._prepare_runtime(bfcl_wheel, files)
    source._load_func_docs(files)
    entry = {"id": "multi_turn_base_x", "question": [[{"role": "user", "content": "compute"}]],
             "initial_config": {}, "involved_classes": ["MathAPI"]}
    record = RawRecord("multi_turn_base", "x", 1, {"entry": entry, "ground_truth": [["power(base=7, exponent=30000000)"]],
                                                  "has_answers": True})
    started = time.perf_counter()
    with pytest.raises(Reject, match="exceeds a limit"):
        source.convert(record, Context())
    assert time.perf_counter() - started < 2


class _Slow(base.Toolkit):
    name = "slow"

    def spin(self, n: int) -> int:
        """Spin.

        Args:
            n: rounds
        """
        total = 0
        for i in range(n):
            total += abs(i)  # a call per round: the worker-thread guard checks the clock there
        return total


def test_toolkit_call_is_time_bounded_in_a_worker_thread(monkeypatch):
    monkeypatch.setattr(base, "CALL_SECONDS", 0.3)
    out = {}

    def work():
        started = time.perf_counter()
        out["result"] = _Slow().call("spin", {"n": 50_000_000})
        out["seconds"] = time.perf_counter() - started

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(30)
    assert out["result"] == {"error": "spin took longer than 0.3 s"}
    assert out["seconds"] < 2


def test_bfcl_call_is_time_bounded_in_a_worker_thread(math_session, monkeypatch):
    import opentoollab.tools.bfcl_runtime as runtime_module

    monkeypatch.setattr(runtime_module, "CALL_SECONDS", 0.05)
    numbers = list(range(1_000_000))
    out = {}

    def work():
        started = time.perf_counter()
        for _ in range(100):  # each call checks the clock; total time is bounded per call
            out["result"] = math_session.call("standard_deviation", [], {"numbers": numbers})
            if isinstance(out["result"], str):
                break
        out["seconds"] = time.perf_counter() - started

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(60)
    assert isinstance(out["result"], str) and "took longer than 0.05 s" in out["result"], out
