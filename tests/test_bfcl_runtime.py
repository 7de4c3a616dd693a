"""Safety and fidelity of executing BFCL calls: ast-only parsing, public methods only, sandbox."""

from __future__ import annotations

import datetime
import enum
import functools
import json
import subprocess
import sys
import uuid

import pytest

from opentoollab.tools.bfcl_runtime import (CallLimitExceeded, CallSyntaxError, Runtime, SandboxViolation, bfcl_text,
                                            parse_call, sandboxed, storable)


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


class _Color(enum.Enum):
    RED = "red"


class _Level(enum.IntEnum):
    HIGH = 3


class _Text(str):
    pass


def _storable_by_definition(value):
    """What ``storable`` is specified to return: the JSON round trip when BFCL's text of it stays the same."""
    text = bfcl_text(value)
    try:
        plain = json.loads(json.dumps(value, ensure_ascii=False))
    except (TypeError, ValueError):
        return text
    return plain if bfcl_text(plain) == text else text


@pytest.mark.parametrize("value", [
    {"a": [1, 2.5, None, True], "b": {"c": "d"}}, {"t": (1, (2, 3))}, {"x": float("nan")}, {"x": float("inf")},
    {"n": 2 ** 70}, {"n": 2 ** 64 - 1}, {"n": -(2 ** 63) - 1}, {1: "int key"}, {1: "a", "1": "b"}, {"s": "\ud800"},
    {"s": "\ud83d\ude00"}, {"s": "😀 café"}, {"s": "NaN is text"}, {"e": _Color.RED}, {"e": _Level.HIGH},
    {"u": uuid.UUID(int=1)}, {"k": _Text("sub")}, {_Text("key"): 1}, {"d": datetime.date(2024, 1, 1)}, {"f": -0.0},
    {"f": 1e16}, {"deep": functools.reduce(lambda inner, _: [inner], range(300), 1)}, "text", _Text("sub"), None,
    [1, "a"], [("a", 1)], (1,), 3, 2.5, True, {"x"},
])
def test_storable_is_the_json_round_trip_whatever_the_value(value):
    stored = storable(value)
    expected = _storable_by_definition(value)
    assert type(stored) is type(expected) and repr(stored) == repr(expected)
    assert bfcl_text(stored) == bfcl_text(value)


def test_call_stored_encodes_once_and_hands_methods_their_own_arguments(bfcl_wheel):
    runtime = Runtime(bfcl_wheel)
    config = {"TwitterAPI": {"username": "john", "password": "pw", "authenticated": True, "tweets": {}}}
    session = runtime.session(config, ["TwitterAPI", "MathAPI"])
    tags, mentions = ["#a"], ["@b"]
    posted = session.call_stored("post_tweet", [], {"content": "hi", "tags": tags, "mentions": mentions})
    assert tags == ["#a"] and mentions == ["@b"]  # the method got copies
    assert posted == storable(session.call("get_tweet", [], {"tweet_id": posted["id"]}))
    assert session.call_stored("mean", [[1, 2, 3]]) == {"result": 2.0}
    assert session.call_stored("nope") == "Error during execution: name 'nope' is not defined"
    with pytest.raises(CallLimitExceeded):
        session.call_stored("power", [], {"base": 10, "exponent": 10 ** 6}, strict=True)


def test_public_methods_are_looked_up_once_per_class_unless_an_instance_holds_its_own(bfcl_wheel):
    runtime = Runtime(bfcl_wheel)
    first = runtime.session({}, ["MathAPI"])
    assert "add" in first.owner and "_load_scenario" not in first.owner
    math_api = runtime.cls("MathAPI")
    extra = math_api()
    extra.shortcut = extra.add  # a bound method in the instance's own attributes is a public method too
    assert runtime.public_methods("MathAPI", extra) == sorted([*runtime.public_methods("MathAPI", math_api()), "shortcut"])
