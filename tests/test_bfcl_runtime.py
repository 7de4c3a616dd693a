"""Safety and fidelity of executing BFCL calls: ast-only parsing, public methods only, sandbox."""

from __future__ import annotations

import subprocess
import sys

import pytest

from opentoollab.tools.bfcl_runtime import CallSyntaxError, Runtime, SandboxViolation, parse_call, sandboxed


@pytest.mark.parametrize("text", [
    "__import__('os').system('echo hi')",
    "os.system('echo hi')",
    "cd(folder=open('/etc/passwd').read())",
    "cd(folder=x)",
    "cd(**{'folder': 'a'})",
    "cd(*['a'])",
    "cd(folder='a'); rm('b')",
    "lambda: 1",
])
def test_parse_call_refuses_anything_but_one_plain_call_with_literals(text):
    with pytest.raises(CallSyntaxError):
        parse_call(text)


def test_parse_call_reads_literals():
    assert parse_call("mv(source='a b.txt', destination=\"t\")") == ("mv", [], {"source": "a b.txt", "destination": "t"})
    assert parse_call("sort('x.pdf')") == ("sort", ["x.pdf"], {})
    assert parse_call("f(a=[1, -2.5, None], b={'k': (1, 2)}, c=True)")[2] == {"a": [1, -2.5, None], "b": {"k": (1, 2)}, "c": True}


def test_sandbox_blocks_writes_processes_and_network(tmp_path):
    target = tmp_path / "x.txt"
    with sandboxed():
        with pytest.raises(SandboxViolation):
            open(target, "w")
        with pytest.raises(SandboxViolation):
            open(tmp_path / "elsewhere.txt", "r")
        with pytest.raises(SandboxViolation):
            subprocess.run(["true"])
        import socket
        with pytest.raises(SandboxViolation):
            socket.create_connection(("127.0.0.1", 9))
        # Python's own library stays readable (lazy imports)
        with open(sys.modules["json"].__file__, "r") as handle:
            assert handle.read(1)
    assert not target.exists()
    open(target, "w").close()  # outside the block nothing is blocked
    assert target.exists()


def test_session_runs_public_methods_only_with_state(bfcl_wheel):
    runtime = Runtime(bfcl_wheel)
    config = {"GorillaFileSystem": {"root": {"alex": {"type": "directory", "contents": {"notes.txt": {"type": "file", "content": "hi"}}}}}}
    session = runtime.session(config, ["GorillaFileSystem", "MathAPI"])
    assert session.call("ls") == {"current_directory_content": ["notes.txt"]}
    assert session.call("mkdir", [], {"dir_name": "temp"}) is None
    assert "temp" in session.call("ls")["current_directory_content"]  # state carries over
    assert session.call("_load_scenario", [{}]).startswith("Error during execution: name '_load_scenario'")
    assert session.call("system", ["rm -rf /"]) == "Error during execution: name 'system' is not defined"
    assert session.call_text("add(a=1, b=2)") == {"result": 3}
    assert session.call_text("add(a=__import__('os'), b=2)").startswith("Error during execution: arguments of")
    assert session.positional_names("mv") == ["source", "destination"]
