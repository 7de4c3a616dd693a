"""The bfcl toolkit: BFCL's own environment classes and declarations through the verified runtime."""

from __future__ import annotations

import copy
import importlib
import json

import jsonschema_rs
import pytest

from conftest import _find_wheel
from opentoollab.tools import Episode, ToolkitError, get_toolkit

if _find_wheel() is None:
    pytest.skip("the pinned bfcl-eval wheel is missing (bash scripts/test.sh fetches it)", allow_module_level=True)

from opentoollab.tools import bfcl_toolkit  # noqa: E402
from opentoollab.tools.bfcl_runtime import CLASS_MODULES, PACKAGE_PREFIX  # noqa: E402

TREE = {"root": {"alex": {"type": "directory", "contents": {
    "notes.txt": {"type": "file", "content": "alpha\nbeta\ngamma\n"},
    "docs": {"type": "directory", "contents": {"plan.md": {"type": "file", "content": "step one\nstep two"}}},
}}}}
CONFIG = {"classes": ["GorillaFileSystem", "MathAPI"], "initial_config": {"GorillaFileSystem": TREE}}
SEQUENCE = [("ls", {}), ("cd", {"folder": "docs"}), ("cat", {"file_name": "plan.md"}), ("pwd", {}),
            ("cd", {"folder": "missing"}), ("touch", {"file_name": "todo.txt"}), ("ls", {}),
            ("grep", {"file_name": "plan.md", "pattern": "two"}), ("wc", {"file_name": "plan.md", "mode": "l"}),
            ("mean", {"numbers": [1, 2, 4]})]


@pytest.fixture(scope="module", autouse=True)
def wheel_env(bfcl_wheel):
    """Point the toolkit at the test wheel (it would also find .cache/wheels on its own)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OPENTOOLLAB_BFCL_WHEEL", str(bfcl_wheel))
        yield


def _official(class_name: str, scenario: dict):
    """A BFCL class instance built exactly as BFCL's executor does, straight from the wheel."""
    module = importlib.import_module(f"{PACKAGE_PREFIX}.{CLASS_MODULES[class_name]}")
    instance = getattr(module, class_name)()
    if class_name != "MathAPI":
        instance._load_scenario(copy.deepcopy(scenario), long_context=False)
    return instance


def test_a_call_sequence_gives_bfcls_own_results():
    kit = get_toolkit("bfcl")(CONFIG)
    assert set(kit.tool_names()) >= {"ls", "cd", "cat", "mean", "add"}
    fs, math = _official("GorillaFileSystem", TREE), _official("MathAPI", {})
    for tool, arguments in SEQUENCE:
        expected = getattr(math if tool == "mean" else fs, tool)(**copy.deepcopy(arguments))
        assert kit.call(tool, arguments) == json.loads(json.dumps(expected)), tool
    assert kit.call("cat", {"file_name": "plan.md"}) == {"file_content": "step one\nstep two"}
    assert kit.call("ls", {})["current_directory_content"] == ["plan.md", "todo.txt"]
    assert kit.call("cd", {"folder": "missing"}) == {"error": "cd: 'missing': No such file or directory"}
    assert [c["name"] for c in kit.snapshot()["calls"]][:3] == ["ls", "cd", "cat"]


def test_replay_is_deterministic_and_instances_do_not_share_state():
    runs = []
    for _ in range(2):
        kit = get_toolkit("bfcl")(CONFIG)
        runs.append(json.dumps([kit.call(tool, arguments) for tool, arguments in SEQUENCE]))
    assert runs[0] == runs[1]
    fresh = get_toolkit("bfcl")(CONFIG)
    assert fresh.call("ls", {}) == {"current_directory_content": ["notes.txt", "docs"]}


def test_declarations_are_bfcls_docs_as_json_schema():
    kit = get_toolkit("bfcl")({"classes": list(CLASS_MODULES), "initial_config": {}})
    tools = kit.tools()
    assert len(tools) == len({t["name"] for t in tools}) == len(kit.tool_names()) > 100
    for tool in tools:
        assert tool["description"]
        assert tool["parameters"]["type"] == "object"
        assert jsonschema_rs.meta.is_valid(tool["parameters"]), tool["name"]
        for name, schema in tool["parameters"].get("properties", {}).items():
            assert schema.get("description"), f"{tool['name']}.{name}"
    cd = kit.declaration("cd")
    assert cd["parameters"]["x-original-type"] == "dict"
    assert cd["parameters"]["properties"]["folder"]["type"] == "string"
    assert "current_working_directory" in cd["response"]
    assert kit.declaration("mean")["parameters"]["properties"]["numbers"]["items"]["type"] == "number"
    # on the class: the default config's tools
    assert get_toolkit("bfcl").tool_names() == sorted(t["name"] for t in get_toolkit("bfcl").tools())


def test_arguments_are_validated_and_failures_are_error_results():
    kit = get_toolkit("bfcl")(CONFIG)
    assert "not of type" in kit.call("cd", {"folder": 3})["error"]
    assert "unexpected argument" in kit.call("ls", {"bogus": True})["error"]
    assert "required" in kit.call("cat", {})["error"]
    assert kit.call("divide", {"a": 1, "b": 0}) == {"error": "Cannot divide by zero"}  # BFCL's own error dict
    assert kit.snapshot()["calls"] == [{"name": "divide", "arguments": {"a": 1, "b": 0}}]
    with pytest.raises(ToolkitError):
        kit.call("system", {"command": "rm -rf /"})
    with pytest.raises(ToolkitError):
        kit.call("_load_scenario", {})


def test_config_errors_and_excluded_functions():
    with pytest.raises(ToolkitError, match="unknown BFCL classes"):
        get_toolkit("bfcl")({"classes": ["WebSearchAPI"]})
    with pytest.raises(ToolkitError):
        get_toolkit("bfcl")({"classes": []})
    kit = get_toolkit("bfcl")({**CONFIG, "excluded_function": ["rm", "mean"]})
    assert "rm" not in kit.tool_names() and "mean" not in kit.tool_names() and "ls" in kit.tool_names()
    with pytest.raises(ToolkitError):
        kit.call("rm", {"file_name": "notes.txt"})


def test_in_an_episode_with_the_service_toolkits():
    with Episode(["bfcl", "math", "calendar"], {"bfcl": CONFIG}) as episode:
        assert episode.call("ls", {}) == {"current_directory_content": ["notes.txt", "docs"]}
        assert episode.call("calculate_mean", {"numbers": [1, 2]}) == {"mean": 1.5, "count": 2}


def test_missing_runtime_is_a_one_line_hint(monkeypatch, tmp_path):
    monkeypatch.setattr(bfcl_toolkit, "find_wheel", lambda: None)
    monkeypatch.setattr(bfcl_toolkit.importlib.util, "find_spec", lambda name: None)
    bfcl_toolkit._runtime_cached.cache_clear()
    try:
        with pytest.raises(ToolkitError, match=r"python datasets download BFCL") as raised:
            get_toolkit("bfcl")(CONFIG)
        assert "\n" not in str(raised.value)
    finally:
        bfcl_toolkit._runtime_cached.cache_clear()


def test_show_in_a_fresh_process_reads_the_verified_wheels_docs():
    """A new process has not imported BFCL yet: `tools show bfcl` must verify the wheel and read its docs
    (it once failed outside a test session that had already loaded the runtime)."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, str(root / "tools"), "show", "bfcl.cd"], capture_output=True, text=True,
                          cwd=root, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["name"] == "cd" and "Traceback" not in done.stderr
