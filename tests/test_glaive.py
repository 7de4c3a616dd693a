"""Glaive function-calling v2 adapter on the three real rows in ../shared/samples (rows 0, 25475, 107105).

The quirk tests change the real function-calling row's call text into each spelling the samples README
lists (documented by a public test suite over the whole file); each variant is built here and says so.
"""

from __future__ import annotations

import copy
import json

import pytest

from adapter_support import by_role, cli_process, run, write_json
from opentoollab.datasets.sources import Context, Reject
from opentoollab.datasets.sources.glaive import parse_call

REAL_CALL = """<functioncall> {"name": "detect_language", "arguments": '{"text": "Je suis un étudiant"}'} <|endoftext|>"""


@pytest.fixture(scope="module")
def slice_dir(shared):
    return shared / "samples" / "glaive_function_calling_v2"


@pytest.fixture(scope="module")
def rows(slice_dir):
    return json.loads((slice_dir / "glaive_rows_quoted_in_public_code.json").read_text("utf-8"))


@pytest.fixture(scope="module")
def result(slice_dir, tmp_path_factory):
    return run("Glaive", slice_dir, tmp_path_factory.mktemp("glaive"))


def test_every_real_row_converts(result):
    assert result.manifest["totals"] == {"in": 3, "out": 3, "rejected": 0, "samples": 3}


def test_call_with_single_quoted_json_arguments_non_ascii_and_structured_response(result, rows):
    assert REAL_CALL in rows[1]["chat"]
    sample = result.samples["train"][1]
    assert [m["role"] for m in sample] == ["id", "meta", "candidate_tools", "system", "user", "assistant", "user",
                                           "tool_call", "tool_response", "assistant"]
    (tool,) = sample[2]["content"]
    assert tool == {"name": "detect_language", "description": "Detect the language of a given text", "parameters": {
        "type": "object", "properties": {"text": {"type": "string", "description": "The text to detect the language of"}},
        "required": ["text"]}}
    assert sample[3]["content"] == "You are a helpful assistant with access to the following functions. Use them if required -"
    assert sample[6]["content"] == 'Here it is - "Je suis un étudiant"'
    assert sample[7]["content"] == [{"name": "detect_language", "parameters": {"text": "Je suis un étudiant"}, "depend_on": []}]
    assert sample[8]["content"] == {"detect_language.0": {"language": "French"}}
    assert sample[9]["content"] == "The text you provided is in French."  # <|endoftext|> removed
    assert "étudiant" in json.dumps(sample, ensure_ascii=False)


def test_row_without_functions_and_double_newline_turns(result):
    sample = result.samples["train"][2]
    assert sample[1]["content"]["tags"] == ["no-functions"]
    assert sample[2]["content"] == []
    assert [(m["role"], m["content"]) for m in sample[3:]] == [
        ("system", "You are a helpful assistant, with no access to external functions."),
        ("user", "Assign this occupation to the appropriate category\nNurse"),
        ("assistant", "Healthcare"), ("user", "What about an electrician?"), ("assistant", "Skilled Trades")]


def test_refusal_row_has_no_call(result):
    sample = result.samples["train"][0]
    assert not by_role(sample, "tool_call") and sample[-1]["content"].startswith("I'm sorry, but I don't have")


@pytest.mark.parametrize("text, arguments, counter", [
    ("""{"name": "detect_language", "arguments": '{"text": "Je suis un étudiant"}'}""", {"text": "Je suis un étudiant"}, None),
    ("""{"name": "detect_language", "arguments": {"text": "hola"}}""", {"text": "hola"}, None),  # bare object
    ("""{"name": "detect_language", "arguments": '{\n    "text": "hola"\n}'}""", {"text": "hola"}, None),  # pretty-printed
    ("""{"name": "detect_language", "arguments": '{"text": "I'm here"}'}""", {"text": "I'm here"}, None),  # raw ' inside
    ("""{"name": "detect_language", "arguments": '{"text": "it\\'s"}'}""", {"text": "it's"}, None),  # \\' escape
    ("""{"name": "detect_language", "parameters": '{"text": "hola"}'}""", {"text": "hola"},
     "glaive_parameters_key_instead_of_arguments"),
    ("""{"name": "detect_language", "arguments": null}""", {}, "glaive_null_arguments"),
    ("""{"name": "detect_language", "arguments": '{"text": "hola"}'}}""", {"text": "hola"}, "glaive_extra_brace_removed"),
])
def test_call_spellings(text, arguments, counter):
    ctx = Context()
    assert parse_call(text, ctx) == ("detect_language", arguments)
    assert dict(ctx.counters) == ({counter: 1} if counter else {})


@pytest.mark.parametrize("text, reason", [
    ("""{"name": "detect_language", "arguments": '{"text": "Je suis""", "truncated call text"),
    ("""{"name": "detect_language", "arguments": '{"value": Infinity}'}""", "arguments are not JSON"),
    ("""{"name": "detect_language", "arguments": '["hola"]'}""", "arguments are not an object"),
    ("""detect_language(text='hola')""", "unparsable call text"),
])
def test_bad_call_text_is_rejected(text, reason):
    with pytest.raises(Reject, match=reason):
        parse_call(text, Context())


def _with_chat(row: dict, chat: str) -> dict:
    return {**copy.deepcopy(row), "chat": chat}


def test_row_level_quirks(rows, tmp_path):
    real = rows[1]
    chat = real["chat"]
    definition = real["system"][real["system"].index("\n{") + 1:]
    duplicated = {**real, "system": real["system"] + "\n" + definition}
    conflicting = {**real, "system": real["system"] + "\n" + definition.replace("Detect the language", "Guess the language")}
    variants = [
        duplicated,  # 0: the same definition twice → one tool
        _with_chat(real, chat.replace("ASSISTANT: <functioncall>", "ASSISTANT: Let me check. <functioncall>")),  # 1
        _with_chat(real, chat[: chat.index("FUNCTION RESPONSE:")]),  # 2: ends on the call → ground truth
        _with_chat(real, chat.replace("ASSISTANT: The text", "ASSISTANT: ASSISTANT: The text")),  # 3: stray header
        conflicting,  # 4
        _with_chat(real, chat.replace('"name": "detect_language"', '"name": "translate_text"')),  # 5
        _with_chat(real, chat.replace(REAL_CALL, "Sure thing. <|endoftext|>")),  # 6: response without a call
        _with_chat(real, chat.replace("FUNCTION RESPONSE: {\"language\": \"French\"}", "USER: Well?")),  # 7
    ]
    result = run("Glaive", write_json(tmp_path / "glaive-function-calling-v2.json", variants), tmp_path / "data")
    samples = result.samples["train"]
    assert result.manifest["totals"] == {"in": 8, "out": 4, "rejected": 4, "samples": 4}
    assert len(samples[0][2]["content"]) == 1
    assert result.manifest["counters"]["duplicate_tool_definitions_dropped"] == 1
    assert [m["role"] for m in samples[1]][-4:-1] == ["assistant", "tool_call", "tool_response"]
    assert samples[1][-4]["content"] == "Let me check."
    assert samples[2][-1] == {"role": "tool_call_ground_truth", "content": [
        {"name": "detect_language", "parameters": {"text": ["Je suis un étudiant"]}, "depend_on": []}]}
    assert samples[3][-1]["content"] == "The text you provided is in French."
    assert [r["location"] for r in result.rejects] == [4, 5, 6, 7]
    reasons = result.reasons()
    assert "two different tools are both named 'detect_language'" in reasons[0]
    assert "'translate_text', which is not among the declared tools" in reasons[1]
    assert "a tool response without a call" in reasons[2]
    assert "calls without a response" in reasons[3]


def test_cli_process_from_the_slice(slice_dir, tmp_path):
    assert "Glaive: in 3 = out 3 + rejected 0" in cli_process("glaive-fc-v2", slice_dir, tmp_path)
