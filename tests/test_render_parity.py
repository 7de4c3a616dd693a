"""Every built-in renderer equals its official chat template byte for byte (run like transformers runs it).

All of BFCL for the four families whose templates are most intricate; a deterministic stratified
subset (every subset represented) for the others; bench/bench_render.py sweeps all of it for all.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from opentoollab.trainer.render import BUILTINS, Skip, get_renderer, renderer_class, to_chat
from opentoollab.trainer.render.jinja import JinjaTemplate, TemplateRaised, prefix_spans

sys.path.insert(0, str(Path(__file__).parent))
from render_cases import CASES  # noqa: E402

FULL = {"Qwen2.5", "Llama-3.1", "Hermes-3", "Mistral-v0.3"}
STRIDE = 7


def official(shared: Path, renderer, chat) -> str:
    """The official template's text for a chat (TemplateRaised when it refuses)."""
    name = renderer.template_for(chat) if hasattr(renderer, "template_for") else renderer.template_file
    if name is None:
        raise TemplateRaised("no template variant for this input")
    source = (shared / "chat_templates" / name).read_text("utf-8")
    chat = renderer.template_chat(chat)  # the chat in the family's own form (ids, argument text, tools in system)
    return JinjaTemplate(source, renderer.special_tokens, **renderer.template_kwargs()).render(chat.messages, chat.tools)


def check(shared: Path, renderer, chat) -> str:
    """Compare one chat; returns 'same' or the skip reason (after checking the official template agrees)."""
    try:
        rendered = renderer.render(chat)
    except Skip as skip:
        try:
            text = official(shared, renderer, chat)
        except TemplateRaised:
            return skip.reason  # the official template refuses too
        if skip.reason in getattr(renderer, "lossy_skips", ()):  # it renders, silently losing part of the chat
            return skip.reason
        assert skip.reason == "template_drops_tool_calls", (chat.id, skip)
        # ...or it ignores the calls: the same text comes out with every tool_calls key removed
        bare = [{k: v for k, v in m.items() if k != "tool_calls"} for m in chat.messages]
        assert text == official(shared, renderer, type(chat)(chat.id, bare, chat.tools)), chat.id
        return skip.reason
    assert rendered.text == official(shared, renderer, chat), chat.id
    for start, end in rendered.spans:
        assert 0 <= start < end <= len(rendered.text)
    return "same"


def _chats(bfcl_samples, model: str, reasoning: bool = False):
    for subset, samples in sorted(bfcl_samples.items()):
        chosen = samples if model in FULL else samples[::STRIDE]
        for sample in chosen:
            yield to_chat(sample, tool_changes="union", reasoning=reasoning)


@pytest.mark.slow  # the parity sweep: .ci/run's second tier (pytest -m slow)
@pytest.mark.parametrize("model", list(BUILTINS))
def test_builtin_equals_official_on_bfcl(model, bfcl_samples, shared):
    renderer = get_renderer(model)
    outcomes: dict[str, int] = {}
    for chat in _chats(bfcl_samples, model):
        outcome = check(shared, renderer, chat)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    assert outcomes.get("same", 0) > 0, outcomes
    if model.startswith("Llama-3"):
        assert outcomes.get("parallel_calls", 0) > 0  # BFCL parallel subsets: the template raises
    if model.startswith(("Qwen", "Hermes")):
        assert set(outcomes) == {"same"} or model == "Hermes-2-Pro", outcomes


@pytest.mark.parametrize("model", list(BUILTINS))
def test_builtin_equals_official_on_every_shared_slice_sample(model, slice_samples, shared):
    """API-Bank, ToolACE, xLAM, Hermes and Glaive as their adapters convert them: every sample, every model."""
    renderer = get_renderer(model)
    outcomes: dict[str, int] = {}
    for corpus, samples in slice_samples.items():
        for sample in samples:
            for reasoning in (False, True):
                try:
                    chat = to_chat(sample, tool_changes="union", reasoning=reasoning)
                except Skip as skip:
                    outcomes[skip.reason] = outcomes.get(skip.reason, 0) + 1
                    continue
                outcome = check(shared, renderer, chat)
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
    assert sum(len(v) for v in slice_samples.values()) >= 330
    assert outcomes.get("same", 0) > 0, outcomes


@pytest.mark.parametrize("model", list(BUILTINS))
@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("reasoning", [False, True])
def test_builtin_equals_official_on_edge_cases(model, case, reasoning, shared):
    renderer = get_renderer(model)
    for policy in ("skip", "union"):
        try:
            chat = to_chat(CASES[case], reasoning=reasoning, tool_changes=policy)
        except Skip as skip:
            assert case == "tools_change" and policy == "skip" and skip.reason == "tools_change"
            continue
        check(shared, renderer, chat)


def test_every_builtin_is_addressable_by_short_name_alias_and_hub_id():
    for short in BUILTINS:
        cls = renderer_class(short)
        for name in (short, short.lower(), short.upper().replace("-", "_"), *cls.aliases, *cls.hub_ids):
            assert get_renderer(name).name == short, name
        assert cls.template_file
    assert get_renderer("Qwen/Qwen2.5-7B-Instruct").name == "Qwen2.5"
    with pytest.raises(KeyError, match="choose one of"):
        get_renderer("gpt-17")


@pytest.mark.parametrize("model", ["Qwen2.5", "Llama-3.1", "Llama-3.2"])  # prefix-stable templates
def test_spans_equal_what_appending_each_assistant_message_adds(model, bfcl_samples, shared):
    """Independent check of the loss spans: the official template's prefix renders locate the same parts."""
    renderer = get_renderer(model)
    source = (shared / "chat_templates" / renderer.template_file).read_text("utf-8")
    template = JinjaTemplate(source, renderer.special_tokens)
    chats = [to_chat(s, tool_changes="union") for samples in bfcl_samples.values() for s in samples[::40]]
    chats += [to_chat(CASES[c], tool_changes="union") for c in CASES if c != "no_tools"]
    compared = 0
    for chat in chats:
        try:
            built = renderer.render(chat)
        except Skip:
            continue
        assert built.spans == prefix_spans(template, chat).spans, chat.id
        compared += 1
    assert compared > 50


def test_spans_cover_exactly_the_assistant_parts():
    chat = to_chat(CASES["waves_links"])
    rendered = get_renderer("Qwen2.5").render(chat)
    learned = [rendered.text[s:e] for s, e in rendered.spans]
    assert len(learned) == 3  # two waves + the final answer
    assert learned[0].startswith("Ich schaue nach.\n<tool_call>") and learned[0].endswith("</tool_call><|im_end|>")
    assert learned[0].count("<tool_call>") == 3 and '"flight_id"' not in learned[0]
    assert '"flight_id": "LX1234"' in learned[1]  # the link replaced by the real result
    assert learned[2] == "Erledigt: Zürich sonnig, München bewölkt; Flug LX1234 gebucht.<|im_end|>"
    for text in learned:
        assert "<tool_response>" not in text and "<|im_start|>" not in text


def official_prompt(shared: Path, renderer, chat) -> str:
    name = renderer.template_for(chat) if hasattr(renderer, "template_for") else renderer.template_file
    if name is None:
        raise TemplateRaised("no template variant for this input")
    source = (shared / "chat_templates" / name).read_text("utf-8")
    chat = renderer.template_chat(chat)
    return JinjaTemplate(source, renderer.special_tokens, **renderer.template_kwargs()).render(
        chat.messages, chat.tools, add_generation_prompt=True)


def _prompt_points(chat):
    """Every point where the model speaks next: the messages before each assistant message, and the whole chat
    when it ends with a user turn or tool results."""
    Chat = type(chat)
    for i, message in enumerate(chat.messages):
        if message["role"] == "assistant":
            yield Chat(chat.id, chat.messages[:i], chat.tools)
    if chat.messages and chat.messages[-1]["role"] in ("user", "tool"):
        yield chat


@pytest.mark.parametrize("model", list(BUILTINS))
def test_generation_prompt_equals_official_with_add_generation_prompt(model, bfcl_samples, shared):
    """renderer.prompt(chat) == the official template with add_generation_prompt=True (what benchmark --mode prompt sends)."""
    renderer = get_renderer(model)
    chats = [to_chat(s, tool_changes="union") for samples in bfcl_samples.values() for s in samples[::25]]
    chats += [to_chat(CASES[c], tool_changes="union") for c in CASES]
    # the benchmark's single-turn prompts: the sample up to its ground truth
    for samples in bfcl_samples.values():
        for sample in samples[::25]:
            end = next((i for i, m in enumerate(sample) if m["role"] == "tool_call_ground_truth"), None)
            if end is not None:
                chats.append(to_chat(sample[:end], tool_changes="union"))
    same = refused = 0
    for chat in chats:
        for point in _prompt_points(chat):
            try:
                text = renderer.prompt(point)
            except Skip as skip:
                if skip.reason not in ("template_drops_tool_calls", *getattr(renderer, "lossy_skips", ())):
                    with pytest.raises(TemplateRaised):
                        official_prompt(shared, renderer, point)
                refused += 1
                continue
            assert text == official_prompt(shared, renderer, point), (model, point.id, len(point.messages))
            # DeepSeek-V3.1's template opens no reply after tool results: the model continues right after them
            assert text.endswith(renderer.generation_prompt) or (model == "DeepSeek-V3.1" and point.messages[-1]["role"] == "tool")
            same += 1
    assert same > 150, (same, refused)
