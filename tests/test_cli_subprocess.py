"""Commands run the way users run them, as subprocesses: ``python -m opentoollab`` and ``python tools …``.

Coverage follows these subprocesses (scripts/test.sh, pyproject.toml ``patch = subprocess``); before, the
entry module and most of cli/tools.py were only ever run by hand.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_python_m_opentoollab_lists_every_command_group():
    from opentoollab.cli import GROUPS

    done = run("-m", "opentoollab", "--help", cwd=REPO / "src")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Usage: opentoollab")
    for group in GROUPS:
        assert f"\n  {group} " in done.stdout, group


def test_tools_list_shows_toolkits_and_says_when_no_catalog_exists(tmp_path):
    from opentoollab.tools.base import REGISTRY

    done = run("tools", "list", "--data-dir", str(tmp_path))
    assert done.returncode == 0, done.stderr
    names = [line.split()[0] for line in done.stdout.splitlines()[2:] if line.strip()]
    assert set(REGISTRY) <= set(names)
    assert "no corpus tool catalogs" in done.stdout


def test_tools_show_and_list_one_toolkit_as_json():
    shown = run("tools", "show", "math.calculate_mean")
    assert shown.returncode == 0, shown.stderr
    declaration = json.loads(shown.stdout)
    assert declaration["name"] == "calculate_mean" and "numbers" in declaration["parameters"]["properties"]
    listed = run("tools", "list", "math", "--grep", "MEAN", "--json")
    assert listed.returncode == 0, listed.stderr
    tools = [json.loads(line) for line in listed.stdout.splitlines()]
    assert declaration in tools and all("mean" in (t["name"] + t["description"]).lower() for t in tools)


def test_tools_run_executes_one_call_in_a_sandbox():
    done = run("tools", "run", "math.calculate_mean", "--args", json.dumps({"numbers": [1, 2, 4]}))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["count"] == 3 and result["mean"] == pytest.approx(7 / 3)


@pytest.mark.parametrize("args, message", [
    (["run", "math.calculate_mean", "--args", '{"numbers": [1, 2'], "--args is not JSON"),
    (["run", "math.no_such_tool"], "has no tool 'no_such_tool'"),
    (["run", "math"], "name the tool"),
    (["show", "no_such_kit"], "no_such_kit"),
    (["show", "math.no_such_tool"], "has no tool 'no_such_tool'"),
])
def test_tools_errors_are_one_line_with_exit_code_2(args, message):
    done = run("tools", *args)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert message in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_tools_run_state_file_must_be_json(tmp_path):
    state = tmp_path / "state.json"
    state.write_text("{not json", "utf-8")
    done = run("tools", "run", "math.calculate_mean", "--args", '{"numbers": [1]}', "--state", str(state))
    assert done.returncode == 2 and "is not JSON" in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_the_entry_keeps_exit_codes_atexit_handlers_and_output_when_it_exits_quickly(tmp_path):
    """``run_group`` freezes what is alive before the interpreter exits (its shutdown collections skip it):
    exit codes, atexit handlers, buffered output and files written at exit are as without it."""
    marker = tmp_path / "atexit.txt"
    script = ("import atexit, gc, sys; from opentoollab.cli import run_group\n"
              f"handle = open({str(marker)!r}, 'w'); handle.write('x' * 100000)  # left open: closed at exit\n"
              "atexit.register(lambda: print('frozen', gc.get_freeze_count() > 0, file=sys.stderr))\n"
              "sys.argv = ['datasets'] + sys.argv[1:]; run_group('datasets')\n")
    done = run("-c", script, "validate", str(tmp_path / "missing.jsonl"))
    assert done.returncode == 2 and "frozen True" in done.stderr  # a usage error's code, the handler ran
    assert marker.read_text() == "x" * 100000
    done = run("-c", script, "list", "--data-dir", str(tmp_path))
    assert done.returncode == 0 and "frozen True" in done.stderr and "BFCL" in done.stdout
