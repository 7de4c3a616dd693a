"""Reading a model's raw chat-template continuation in its family's call syntax (benchmark --mode prompt)."""

from __future__ import annotations

import pytest

from opentoollab.trainer.render import get_renderer, to_chat
from opentoollab.benchmark.scoring.parse import DecodeError, completion_calls

CALLS = [{"name": "math.gcd", "arguments": {"a": 12, "b": [1, "ü"]}}, {"name": "f", "arguments": {}}]


@pytest.mark.parametrize("model", ["Qwen2.5", "Qwen3", "Hermes-3", "Llama-3.1", "Mistral-v0.3", "Mistral-Nemo"])
def test_what_the_template_renders_for_calls_reads_back_as_those_calls(model):
    """The assistant part a built-in renders for a calling message is exactly what the model would write."""
    renderer = get_renderer(model)
    calls = CALLS[:1] if model.startswith("Llama") else CALLS  # Llama's template takes one call per turn
    sample = [{"role": "id", "content": "T_t_0"}, {"role": "candidate_tools", "content": [
        {"name": c["name"], "description": "d", "parameters": {"type": "object", "properties": {}}} for c in calls]},
        {"role": "user", "content": "go"},
        {"role": "tool_call", "content": [{"name": c["name"], "parameters": c["arguments"], "depend_on": []} for c in calls]}]
    chat = to_chat(sample)
    prompt = renderer.prompt(type(chat)(chat.id, chat.messages[:-1], chat.tools))
    rendered = renderer.render(chat)
    completion = rendered.text[len(prompt):]  # what follows the generation prompt: the model's own words
    assert rendered.text.startswith(prompt) and completion
    text, parsed = completion_calls(completion, renderer.call_syntax, renderer.stop)
    assert parsed == calls and text == ""


def test_reasoning_stop_strings_plain_text_and_separators():
    think = '<think>\nI should call f.\n</think>\n\nLet me check.\n<tool_call>\n{"name": "f", "arguments": {"x": 1}}\n</tool_call>'
    assert completion_calls(think + "<|im_end|>junk", "tool_call_tags", ("<|im_end|>",)) == \
        ("Let me check.", [{"name": "f", "arguments": {"x": 1}}])
    assert completion_calls("The answer is 4.<|im_end|>", "tool_call_tags", ("<|im_end|>",)) == ("The answer is 4.", None)
    llama = '<|python_tag|>{"name": "f", "parameters": {"x": 1}};\n{"name": "g", "parameters": {}}'
    assert completion_calls(llama, "json")[1] == [{"name": "f", "arguments": {"x": 1}}, {"name": "g", "arguments": {}}]
    assert completion_calls("It is sunny.", "json") == ("It is sunny.", None)
    assert completion_calls("No tools needed.</s>", "mistral", ("</s>",)) == ("No tools needed.", None)
    assert completion_calls('<tool_call>{"name": "f", "arguments": {}}</tool_call>', "text") == \
        ('<tool_call>{"name": "f", "arguments": {}}</tool_call>', None)


@pytest.mark.parametrize("syntax, text", [
    ("tool_call_tags", '<tool_call>\n{"name": "f", "arguments": {"x": }\n</tool_call>'),
    ("tool_call_tags", "<tool_call>\n[1, 2]\n</tool_call>"),
    ("json", '{"name": "f", "parameters": {"x": 1}} and then some prose'),
    ("json", '{"parameters": {"x": 1}, "extra": 2}'),
    ("mistral", '[TOOL_CALLS] {"name": "f", "arguments": {}}'),
    ("mistral", '[TOOL_CALLS] [{"name": "f", "arguments": "{not json"}]'),
])
def test_malformed_call_syntax_is_a_decode_error(syntax, text):
    with pytest.raises(DecodeError):
        completion_calls(text, syntax)


def test_unknown_syntax_is_refused():
    with pytest.raises(ValueError, match="unknown call syntax"):
        completion_calls("x", "xml")
