"""ToolACE: a malformed tool list in the system prompt rejects the record; the tools are never dropped (issue 20).

Variants of the real record in ../shared/samples/toolace whose embedded function list is broken in one way
each. A sample without its tools would still validate (and its calls would then be plain text or be
rejected for another reason), so each case checks the reject's reason, not just the count.
"""

from __future__ import annotations

import copy
import json

import pytest

from adapter_support import run, write_json
from opentoollab.datasets.sources.toolace import TOOLS_MARKER


@pytest.fixture(scope="module")
def record(shared):
    return json.loads((shared / "samples/toolace/toolace_record_quoted_in_doc.json").read_text("utf-8"))[0]


def _embedded(system: str) -> tuple[int, int, list]:
    """(start, end, the list) of the function list after the marker."""
    start = system.index(TOOLS_MARKER) + len(TOOLS_MARKER)
    start += len(system[start:]) - len(system[start:].lstrip())
    tools, end = json.JSONDecoder().raw_decode(system, start)
    return start, end, tools


def _with_tool_text(record: dict, tool_text: str) -> dict:
    """The record with the JSON list after the marker replaced by ``tool_text``."""
    start, end, _tools = _embedded(record["system"])
    changed = copy.deepcopy(record)
    changed["system"] = record["system"][:start] + tool_text + record["system"][end:]
    return changed


def _tools(record: dict) -> list:
    return _embedded(record["system"])[2]


def _process(tmp_path, record: dict):
    origin = write_json(tmp_path / "raw" / "data.json", [record]).parent
    return run("ToolACE", origin, tmp_path / "data")


def test_the_rebuilt_list_is_accepted(record, tmp_path):
    """Control: the same record with its list written back unchanged converts, tools and all."""
    result = _process(tmp_path, _with_tool_text(record, json.dumps(_tools(record))))
    assert result.manifest["totals"] == {"in": 1, "out": 1, "rejected": 0, "samples": 1}
    assert len(result.samples["train"][0][2]["content"]) == 4


@pytest.mark.parametrize("case, reason", [
    ("truncated", "is not JSON"),
    ("missing_comma", "is not JSON"),
    ("object_not_list", "is not a list"),
    ("names_only", "a tool without a name"),
    ("nameless_tool", "a tool without a name"),
    ("parameters_not_schema", "not an object schema"),
    ("same_name_twice", "two different tools are both named"),
])
def test_a_malformed_tool_list_rejects_the_record(record, tmp_path, case, reason):
    tools = _tools(record)
    text = json.dumps(tools)
    variants = {
        "truncated": text[:-40],
        "missing_comma": text.replace("}, {", "} {", 1),
        "object_not_list": json.dumps(tools[0]),
        "names_only": json.dumps([t["name"] for t in tools]),
        "nameless_tool": json.dumps([{k: v for k, v in t.items() if k != "name"} for t in tools]),
        "parameters_not_schema": json.dumps([{**tools[0], "parameters": "sport: string"}, *tools[1:]]),
        "same_name_twice": json.dumps([*tools, {**tools[1], "description": "another tool under the same name"}]),
    }
    result = _process(tmp_path, _with_tool_text(record, variants[case]))
    assert result.manifest["totals"] == {"in": 1, "out": 0, "rejected": 1, "samples": 0}, result.rejects
    assert reason in result.rejects[0]["reason"] and result.rejects[0]["location"] == 0, result.rejects[0]
