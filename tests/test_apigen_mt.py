"""APIGen-MT-5k adapter.

NO REAL RECORD of this corpus exists in ../shared/samples. The record below is BUILT HERE from the
documented layout (``conversations`` of human/gpt/function_call/observation turns, ``tools`` and the
``function_call`` values as JSON strings, ``system`` the domain policy, a ``think`` pseudo-tool); its
values are invented in the style of the tau-bench retail domain.
"""

from __future__ import annotations

import copy
import json

import pytest

from adapter_support import by_role, cli_process, run, write_json

TOOLS = [
    {"name": "find_user_id_by_email", "description": "Find user id by email.",
     "parameters": {"type": "object", "properties": {"email": {"type": "string", "description": "The email of the user."}},
                    "required": ["email"]}},
    {"name": "get_order_details", "description": "Get the status and details of an order.",
     "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]}},
    {"name": "think", "description": "Use the tool to think about something.",
     "parameters": {"type": "object", "properties": {"thought": {"type": "string"}}, "required": ["thought"]}},
]


def fc(name: str, **arguments) -> dict:
    return {"from": "function_call", "value": json.dumps({"name": name, "arguments": arguments})}


@pytest.fixture()
def record() -> dict:
    """A record in the documented layout (constructed, see the module docstring)."""
    return {
        "conversations": [
            {"from": "human", "value": "Hi, I'm José. My email is jose.garcia@example.com; where is order #W2378156?"},
            fc("find_user_id_by_email", email="jose.garcia@example.com"),
            {"from": "observation", "value": "jose_garcia_1234"},
            fc("think", thought="The user is authenticated; look the order up."),
            {"from": "observation", "value": ""},
            fc("get_order_details", order_id="#W2378156"),
            {"from": "observation", "value": json.dumps({"order_id": "#W2378156", "status": "delivered",
                                                         "items": [{"name": "Mechanical Keyboard", "price": 268.77}]})},
            {"from": "gpt", "value": "Your order #W2378156 was delivered."},
            {"from": "human", "value": "Thanks!"},
        ],
        "tools": json.dumps(TOOLS),
        "system": "# Retail agent policy\nAs a retail agent, you can help users cancel or modify pending orders.",
    }


def test_documented_layout_converts_field_by_field(record, tmp_path):
    result = run("APIGen-MT", write_json(tmp_path / "apigen-mt_5k.json", [record]), tmp_path / "data")
    assert result.manifest["totals"] == {"in": 1, "out": 1, "rejected": 0, "samples": 1}
    sample = result.samples["train"][0]
    assert sample[0]["content"] == "APIGen-MT_train_0"
    assert sample[1]["content"] == {"source": "APIGen-MT", "subset": "train", "source_id": 0,
                                    "license": "CC-BY-NC-4.0", "language": "en"}
    assert [t["name"] for t in sample[2]["content"]] == ["find_user_id_by_email", "get_order_details", "think"]
    assert sample[3] == {"role": "system", "content": record["system"]}
    assert [m["role"] for m in sample[4:]] == ["user", "tool_call", "tool_response", "tool_call", "tool_response",
                                               "tool_call", "tool_response", "assistant", "user"]
    responses = by_role(sample, "tool_response")
    assert responses[0]["content"] == {"find_user_id_by_email.0": "jose_garcia_1234"}  # text result stays text
    assert responses[1]["content"] == {"think.0": ""}
    order = responses[2]["content"]["get_order_details.0"]  # JSON result becomes structured
    assert order["items"][0] == {"name": "Mechanical Keyboard", "price": 268.77}
    assert by_role(sample, "tool_call")[2]["content"] == [
        {"name": "get_order_details", "parameters": {"order_id": "#W2378156"}, "depend_on": []}]
    assert "José" in sample[4]["content"]


def test_tools_given_as_a_list_and_consecutive_calls_grouped(record, tmp_path):
    row = copy.deepcopy(record)
    row["tools"] = TOOLS  # a loader that already decoded the JSON string
    turns = row["conversations"]
    turns[1:7] = [fc("find_user_id_by_email", email="jose.garcia@example.com"), fc("get_order_details", order_id="#W2378156"),
                  {"from": "observation", "value": "jose_garcia_1234"}, {"from": "observation", "value": "{\"status\": \"delivered\"}"}]
    sample = run("APIGen-MT", write_json(tmp_path / "rows.json", [row]), tmp_path / "data").samples["train"][0]
    (calls,) = [m["content"] for m in by_role(sample, "tool_call")]
    assert [c["name"] for c in calls] == ["find_user_id_by_email", "get_order_details"]
    assert by_role(sample, "tool_response")[0]["content"] == {
        "find_user_id_by_email.0": "jose_garcia_1234", "get_order_details.0": {"status": "delivered"}}


def test_bad_records_are_rejected_with_reasons(record, tmp_path):
    def variant(index, turn):
        row = copy.deepcopy(record)
        row["conversations"][index] = turn
        return row

    rows = [
        variant(1, {"from": "function_call", "value": '{"name": "find_user_id_by_email", "arguments": {"email": "jo'}),
        variant(1, fc("cancel_pending_order", order_id="#W1")),
        variant(1, {"from": "gpt", "value": "Let me look."}),  # the next observation answers no call
        variant(8, {"from": "narrator", "value": "?"}),
        {**record, "tools": "[{\"name\": \"find_user_id_by_email\""},
    ]
    result = run("APIGen-MT", write_json(tmp_path / "apigen-mt_5k.json", rows), tmp_path / "data")
    assert result.manifest["totals"] == {"in": 5, "out": 0, "rejected": 5, "samples": 0}
    reasons = result.reasons()
    assert "the function_call is not JSON (truncated?)" in reasons[0]
    assert "'cancel_pending_order', which is not among the declared tools" in reasons[1]
    assert "a tool response without a call" in reasons[2]
    assert "unknown turn kind 'narrator'" in reasons[3]
    assert "'tools' is not valid JSON" in reasons[4]


def test_cli_process(record, tmp_path):
    folder = tmp_path / "APIGen-MT-5k"
    write_json(folder / "apigen-mt_5k.json", [record, record])
    assert "APIGen-MT: in 2 = out 2 + rejected 0" in cli_process("apigen-mt-5k", folder, tmp_path / "data")
