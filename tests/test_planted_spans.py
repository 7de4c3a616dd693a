"""Loss spans of every built-in renderer (issue 20): each starts right after the family's assistant header and
ends with its end-of-turn text, so the model learns to stop.

The headers and end-of-turn texts below are read off the official templates in ../shared/chat_templates,
not off the renderers. A family added to ``BUILTINS`` without a row here fails loudly: add its row.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import pytest

from opentoollab.trainer.render import BUILTINS, Skip, get_renderer, to_chat

sys.path.insert(0, str(Path(__file__).parent))
from render_cases import CASES  # noqa: E402

CHATML = ("<|im_start|>assistant\n",), "<|im_end|>"
LLAMA3 = ("<|start_header_id|>assistant<|end_header_id|>\n\n",), "<|eot_id|>"
MISTRAL = ("[/INST]", "[/TOOL_RESULTS]"), "</s>"  # no header: the reply follows the user turn or the tool results
DEEPSEEK = ("<｜Assistant｜>",), "<｜end▁of▁sentence｜>"
# GLM-4's template writes no end-of-turn after a reply: the model ends it by writing the next role tag.
GLM = ("<|assistant|>",), None
GLM_NEXT = ("<|user|>", "<|observation|>", "<|system|>")
QWEN_XML = ("<|im_start|>assistant\n", "<|im_start|>assistant"), "<|im_end|>"  # calls open with their own "\n"

# family → (texts a span may start right after, text every span ends with)
SPAN_EDGES: dict[str, tuple[tuple[str, ...], str | tuple[str, ...] | None]] = {
    "Qwen2.5": CHATML, "Qwen3": CHATML, "Hermes-2-Pro": CHATML, "Hermes-3": CHATML,
    "Llama-3.1": LLAMA3, "Llama-3.2": LLAMA3, "Llama-3.3": LLAMA3,
    "Mistral-v0.3": MISTRAL, "Mistral-Nemo": MISTRAL,
    "DeepSeek-R1-Distill-Qwen": DEEPSEEK, "DeepSeek-R1-Distill-Llama": DEEPSEEK, "DeepSeek-V3": DEEPSEEK,
    "GLM-4": GLM,
    "Qwen3.5": QWEN_XML, "Qwen3-Coder": QWEN_XML, "Nemotron-3-Nano": CHATML,
    "Llama-4": (("<|header_start|>assistant<|header_end|>\n\n",), "<|eot|>"),
    "Mistral-Small-3.2": MISTRAL, "Ministral-3-Reasoning": MISTRAL,
    # V3.1: a reply after tool output follows it directly, with no Assistant tag
    "DeepSeek-V3.1": (("<｜Assistant｜></think>", "<｜Assistant｜>", "<｜tool▁output▁end｜>"), "<｜end▁of▁sentence｜>"),
    "GLM-4.7": GLM,
    "Kimi-K2": (("<|im_assistant|>assistant<|im_middle|>",), "<|im_end|>"),
    "Nemotron-Nano-2": (("<SPECIAL_11>Assistant\n", "<SPECIAL_11>Assistant\n<think>\n"), "<SPECIAL_12>"),
    # gpt-oss ends a call with <|call|>, the last reply with <|return|>, earlier ones with <|end|>
    "gpt-oss": (("<|start|>assistant",), ("<|call|>", "<|return|>", "<|end|>")),
    "Granite-4.0": (("<|start_of_role|>assistant<|end_of_role|>",), "<|end_of_text|>"),
    # R+'s template closes a call turn with the fenced JSON only: no <|END_OF_TURN_TOKEN|> after it
    "Command-R+": (("<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>",), ("<|END_OF_TURN_TOKEN|>", "]```\n")),
    "Command-R7B": (("<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>",), "<|END_OF_TURN_TOKEN|>"),
}
# families whose one reply is several messages, all the model's own output, learned as one span
# (gpt-oss: the analysis message, <|end|>, <|start|>assistant, then the final message)
MULTI_MESSAGE_REPLIES = {"gpt-oss"}


def _described(sample: list) -> list:
    """The sample with a description on every tool parameter (some templates, e.g. Command R+, require one)."""
    sample = copy.deepcopy(sample)
    for message in sample:
        if message["role"] == "candidate_tools":
            for tool in message["content"]:
                for name, spec in tool["parameters"]["properties"].items():
                    spec.setdefault("description", name)
    return sample


def _chats():
    for sample in (*CASES.values(), *map(_described, CASES.values())):
        for reasoning in (False, True):
            yield to_chat(sample, tool_changes="union", reasoning=reasoning)


@pytest.mark.parametrize("model", list(BUILTINS))
def test_each_span_starts_after_the_assistant_header_and_ends_with_end_of_turn(model):
    if model not in SPAN_EDGES:
        pytest.fail(f"{model} is a built-in renderer without a row in SPAN_EDGES: add its assistant header(s) and "
                    f"end-of-turn text, read off its official template")
    headers, end = SPAN_EDGES[model]
    renderer = get_renderer(model)
    spans = 0
    for chat in _chats():
        try:
            rendered = renderer.render(chat)
        except Skip:
            continue
        text = rendered.text
        replies = [m for m in chat.messages if m["role"] == "assistant"]
        # at most one span per reply (a template may drop an empty reply), none merged (checked below)
        assert 0 < len(rendered.spans) <= len(replies) or not replies, (chat.id, rendered.spans)
        whole = model in MULTI_MESSAGE_REPLIES
        previous_end = 0
        for start, stop in rendered.spans:
            assert previous_end <= start < stop <= len(text), (chat.id, start, stop)
            previous_end = stop
            learned = text[start:stop]
            assert text[:start].endswith(headers), (chat.id, text[max(0, start - 40):start], learned[:40])
            if end is None:
                assert text[stop:] == "" or text[stop:].startswith(GLM_NEXT), (chat.id, text[stop:stop + 40])
            else:
                assert learned.endswith(end), (chat.id, learned[-40:], text[stop:stop + 20])
                ends = (end,) if isinstance(end, str) else end
                assert whole or sum(learned.count(e) for e in ends) == 1, (chat.id, learned)
            for header in headers:
                assert whole or header not in learned, (chat.id, learned)
        spans += len(rendered.spans)
    assert spans >= 3, f"{model} rendered only {spans} spans from the edge cases"
