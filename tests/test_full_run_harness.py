"""The full test run (scripts/test.sh sets OPENTOOLLAB_FULL_TESTS=1) fails when an optional dependency is missing.

``pytest.importorskip`` skips quietly on a dev-only install; in the full run every extra is installed, so
such a skip means a test silently did not run. tests/conftest.py turns it into a failure there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent

PROBE = '''
import pytest

def test_needs_a_missing_module():
    pytest.importorskip("opentoollab_no_such_module")

def test_skipped_for_another_reason():
    pytest.skip("not about a dependency")
'''
MODULE_PROBE = 'import pytest\npytest.importorskip("opentoollab_no_such_module")\n\ndef test_x():\n    pass\n'


def _run(folder: Path, full: bool) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "OPENTOOLLAB_FULL_TESTS"}
    if full:
        env["OPENTOOLLAB_FULL_TESTS"] = "1"
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs", str(folder)],
                          cwd=folder, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("probe, full_run_says", [(PROBE, "1 failed, 1 skipped"), (MODULE_PROBE, "1 error")],
                         ids=["in_a_test", "for_a_whole_module"])
def test_import_skips_fail_only_in_the_full_run(tmp_path, probe, full_run_says):
    shutil.copy(HERE / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "test_probe.py").write_text(probe, "utf-8")
    quiet = _run(tmp_path, full=False)  # 5: pytest's "no test ran" when the module itself is skipped
    assert quiet.returncode in (0, 5) and "skipped" in quiet.stdout and "failed" not in quiet.stdout, quiet.stdout
    loud = _run(tmp_path, full=True)
    assert loud.returncode != 0 and full_run_says in loud.stdout, loud.stdout
    assert "OPENTOOLLAB_FULL_TESTS=1" in loud.stdout and "opentoollab_no_such_module" in loud.stdout
