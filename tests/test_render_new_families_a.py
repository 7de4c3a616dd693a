"""Issue 17 (first half): Qwen3.5, Qwen3-Coder, GLM-4.7, Kimi-K2, DeepSeek-V3.1, Nemotron-3-Nano, Nemotron-Nano-2.

Each built-in equals its official template (run like transformers: tests.test_render_parity's
environment, fed ``renderer.template_chat`` with ``renderer.template_kwargs``) for every template
option: texts and generation prompts on a stratified BFCL set, every sample of every shared slice
and hand-written edge cases (reasoning on earlier and later turns, text beside calls, empty content,
parallel calls and dependent waves, tools changing, non-ASCII, ``/think`` markers, several system
messages). Each family's completion parser reads back every BFCL call the renderer writes. Default
options are also swept by tests/test_render_parity.py (it enumerates every built-in).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from opentoollab.benchmark.scoring.parse import DecodeError, completion_calls, family_parsers
from opentoollab.trainer.render import BUILTINS, Chat, Skip, get_renderer, to_chat
from opentoollab.trainer.render.base import chat_tools
from opentoollab.trainer.render.jinja import JinjaTemplate, TemplateRaised

sys.path.insert(0, str(Path(__file__).parent))
from render_cases import CASES, WEATHER, FLIGHT  # noqa: E402

FAMILIES = ["Qwen3.5", "Qwen3-Coder", "GLM-4.7", "Kimi-K2", "DeepSeek-V3.1", "Nemotron-3-Nano", "Nemotron-Nano-2"]
VARIANTS = [(name, {}) for name in FAMILIES] + [
    ("Qwen3", {"enable_thinking": False}),
    ("Qwen3.5", {"enable_thinking": False}),
    ("GLM-4.7", {"enable_thinking": False, "clear_thinking": False}),
    ("DeepSeek-V3.1", {"thinking": True}),
    ("Nemotron-3-Nano", {"enable_thinking": False, "truncate_history_thinking": False}),
]
IDS = [name + "".join(f"-{k}={v}" for k, v in options.items()) for name, options in VARIANTS]
ALL_SLICES = {"API-Bank": "api_bank", "ToolACE": "toolace", "xLAM": "xlam_function_calling_60k",
              "Hermes": "hermes_function_calling_v1", "Glaive": "glaive_function_calling_v2", "ToolAlpaca": "toolalpaca",
              "Seal-Tools": "seal_tools", "TaskBench": "taskbench", "MTU-Bench": "mtu_bench", "ToolBench": "toolbench"}
_TEMPLATES: dict = {}


def official(shared: Path, renderer, chat: Chat, generation: bool = False) -> str:
    """The official template's text for the chat as the family feeds it (TemplateRaised when it refuses)."""
    key = (renderer.template_file, tuple(sorted(renderer.template_kwargs().items())))
    if key not in _TEMPLATES:
        source = (shared / "chat_templates" / renderer.template_file).read_text("utf-8")
        _TEMPLATES[key] = JinjaTemplate(source, renderer.special_tokens, **renderer.template_kwargs())
    fed = renderer.template_chat(chat)
    return _TEMPLATES[key].render(fed.messages, fed.tools, add_generation_prompt=generation)


def compare(shared: Path, renderer, chat: Chat, points: int = 1000) -> str:
    """'same' (text, spans and the generation prompts of the first ``points`` turns checked) or the reason both refuse."""
    try:
        rendered = renderer.render(chat)
    except Skip as skip:
        if skip.reason in getattr(renderer, "lossy_skips", ()):  # the template renders it, silently losing a part
            official(shared, renderer, chat)
        else:
            with pytest.raises(TemplateRaised):
                official(shared, renderer, chat)
        return skip.reason
    assert rendered.text == official(shared, renderer, chat), (renderer.name, chat.id)
    for start, end in rendered.spans:
        assert 0 <= start < end <= len(rendered.text)
        learned = rendered.text[start:end]
        assert "<tool_response>" not in learned and "<|im_start|>" not in learned and "<|observation|>" not in learned
        assert "<｜tool▁output▁begin｜>" not in learned and "## Return of" not in learned
    for i, message in enumerate(chat.messages):  # every point where the model speaks next
        if points and (message["role"] == "assistant" or i == len(chat.messages) - 1):
            points -= 1
            point = Chat(chat.id, chat.messages[:i] if message["role"] == "assistant" else chat.messages, chat.tools)
            if not point.messages or point.messages[-1]["role"] == "assistant":
                continue
            try:
                prompt = renderer.prompt(point)
            except Skip:
                with pytest.raises(TemplateRaised):
                    official(shared, renderer, point, generation=True)
                continue
            assert prompt == official(shared, renderer, point, generation=True), (renderer.name, chat.id, i)
    return "same"


# --- hand-written chats: what BFCL and the slices lack ---------------------------------------------------------

def _call(name: str, arguments, cid: str) -> dict:
    return {"type": "function", "id": cid, "function": {"name": name, "arguments": arguments}}


TOOLS = chat_tools([WEATHER, FLIGHT])
EDGE_CHATS = {
    "reasoning_everywhere": [
        {"role": "system", "content": "Sei conciso. /think"},
        {"role": "user", "content": "Tempo a Zürich?"},
        {"role": "assistant", "content": "", "reasoning_content": "Serve il meteo.",
         "tool_calls": [_call("get_weather", {"city": "Zürich", "unit": "c"}, "a1"), _call("get_weather", {"city": "東京"}, "a2")]},
        {"role": "tool", "tool_call_id": "a1", "name": "get_weather", "content": "{\"temp\": 21}"},
        {"role": "tool", "tool_call_id": "a2", "name": "get_weather", "content": "  sunny  "},
        {"role": "assistant", "content": "21 °C a Zürich, sole a Tokyo.", "reasoning_content": "\nHo i dati.\n"},
        {"role": "user", "content": "E un volo ZRH→NRT senza scali? /no_think"},
        {"role": "assistant", "content": "Cerco.", "reasoning_content": "Chiamo find_flight.",
         "tool_calls": [_call("find_flight", {"origin": "ZRH", "dest": "NRT", "max_stops": 0}, "b1")]},
        {"role": "tool", "tool_call_id": "b1", "name": "find_flight", "content": "[]"},
        {"role": "assistant", "content": "Nessun volo diretto.", "reasoning_content": "Lista vuota."},
    ],
    "think_in_content_and_empty_turns": [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "<think>\ngreeting\n</think>\n\nHello!"},
        {"role": "user", "content": "Weather in Paris and Rome?"},
        {"role": "assistant", "content": "",
         "tool_calls": [_call("get_weather", {"city": "Paris", "unit": None}, "c1"), _call("get_weather", {"city": "Rome"}, "c2")]},
        {"role": "tool", "tool_call_id": "c1", "name": "get_weather", "content": ""},
        {"role": "tool", "tool_call_id": "c2", "name": "get_weather", "content": "{\"ok\": true}"},
        {"role": "assistant", "content": ""},
    ],
    "ends_with_text_beside_calls": [
        {"role": "system", "content": "First."},
        {"role": "user", "content": "Flight OSL→FCO, then the weather there."},
        {"role": "assistant", "content": "Looking that up. /think is not a marker here",
         "tool_calls": [_call("find_flight", {"origin": "OSL", "dest": "FCO", "max_stops": 1.5}, "d1"),
                        _call("get_weather", {"city": "Roma", "nested": {"a": [1, True, None]}}, "d2")]},
    ],
    "no_tools_several_systems": [
        {"role": "system", "content": "One."},
        {"role": "user", "content": "Γειά σου"},
        {"role": "system", "content": "Two."},
        {"role": "assistant", "content": "Γειά!"},
        {"role": "user", "content": "  spaced  "},
    ],
}


@pytest.mark.parametrize("model, options", VARIANTS, ids=IDS)
def test_edge_cases_equal_official_for_every_option(model, options, shared):
    renderer = get_renderer(model, **options)
    outcomes = []
    for name, messages in EDGE_CHATS.items():
        for tools in (TOOLS, None):
            outcomes.append(compare(shared, renderer, Chat(f"edge_{name}", messages, tools)))
    for case in CASES:
        for reasoning in (False, True):
            outcomes.append(compare(shared, renderer, to_chat(CASES[case], reasoning=reasoning, tool_changes="union")))
    assert outcomes.count("same") >= len(outcomes) - 2, outcomes  # Qwen3.5 refuses a system message after the first


@pytest.mark.parametrize("model, options", VARIANTS, ids=IDS)
def test_bfcl_stratified_texts_and_prompts_equal_official(model, options, bfcl_samples, shared):
    renderer = get_renderer(model, **options)
    stride = 29 if model in ("Qwen3-Coder", "Nemotron-3-Nano") else 13  # their templates are slow in Jinja
    counted: dict[str, int] = {}
    for subset, samples in sorted(bfcl_samples.items()):
        for sample in samples[::stride]:
            outcome = compare(shared, renderer, to_chat(sample, tool_changes="union"), points=2)
            counted[outcome] = counted.get(outcome, 0) + 1
    assert counted.get("same", 0) > 140, counted
    assert set(counted) <= {"same", "no_user_query", "no_messages"}, counted


@pytest.fixture(scope="module")
def every_slice_sample(tmp_path_factory, shared) -> list:
    """Every sample of every folder of ../shared/samples, converted by its corpus adapter."""
    from opentoollab.datasets.sources import get_source
    from opentoollab.datasets.store import Store, process
    from opentoollab.format.jsonl import iter_samples

    store = Store(tmp_path_factory.mktemp("all_slices"))
    samples = []
    for name, folder in ALL_SLICES.items():
        process(get_source(name), store, origin=shared / "samples" / folder, progress=False)
        samples += [s for path in store.subset_files(name) for s in iter_samples(path)]
    return samples


@pytest.mark.parametrize("model", FAMILIES)
def test_every_shared_slice_sample_equals_official(model, every_slice_sample, shared):
    renderer = get_renderer(model)
    counted: dict[str, int] = {}
    for sample in every_slice_sample:
        hidden = any(m.get("role") == "assistant" and m.get("hidden") for m in sample)
        for reasoning in ((False, True) if hidden else (False,)):
            try:
                chat = to_chat(sample, tool_changes="union", reasoning=reasoning)
            except Skip as skip:
                counted[skip.reason] = counted.get(skip.reason, 0) + 1
                continue
            outcome = compare(shared, renderer, chat, points=0)
            counted[outcome] = counted.get(outcome, 0) + 1
    assert len(every_slice_sample) >= 700 and counted["same"] >= 700, counted


# --- family specifics ------------------------------------------------------------------------------------------

def test_kimi_ids_are_functions_name_index_counted_over_the_chat():
    chat = to_chat(CASES["waves_links"])
    fed = get_renderer("Kimi-K2").template_chat(chat)
    ids = [c["id"] for m in fed.messages for c in m.get("tool_calls") or ()]
    assert ids == ["functions.get_weather:0", "functions.get_weather:1", "functions.find_flight:2", "functions.book:3"]
    assert [m["tool_call_id"] for m in fed.messages if m["role"] == "tool"] == ids
    text = get_renderer("Kimi-K2").render(chat).text
    assert "<|tool_call_begin|>functions.book:3<|tool_call_argument_begin|>{\"flight_id\": \"LX1234\"}" in text
    assert "<|im_system|>book<|im_middle|>## Return of functions.book:3\n" in text
    assert next(m for m in chat.messages if m.get("tool_calls"))["tool_calls"][0]["id"] != ids[0]  # the chat is not changed


def test_deepseek_v31_tools_go_into_the_system_prompt_as_the_model_card_shows():
    tool = {"type": "function", "function": {"name": "convert", "description": "Convert °C.",
                                             "parameters": {"type": "object", "properties": {"t": {"type": "number"}}}}}
    chat = Chat("x", [{"role": "user", "content": "30 °C?"},
                      {"role": "assistant", "content": "", "tool_calls": [_call("convert", {"t": 30}, "e1")]}], [tool])
    text = get_renderer("DeepSeek-V3.1").render(chat).text
    assert text == (
        "<｜begin▁of▁sentence｜>\n\n## Tools\nYou have access to the following tools:\n\n### convert\n"
        "Description: Convert °C.\n\nParameters: {\"type\": \"object\", \"properties\": {\"t\": {\"type\": \"number\"}}}\n\n"
        "IMPORTANT: ALWAYS adhere to this exact format for tool use:\n<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>"
        "tool_call_name<｜tool▁sep｜>tool_call_arguments<｜tool▁call▁end｜>{additional_tool_calls}<｜tool▁calls▁end｜>\n\n"
        "Where:\n- `tool_call_name` must be an exact match to one of the available tools\n"
        "- `tool_call_arguments` must be valid JSON that strictly follows the tool's Parameters Schema\n"
        "- For multiple tool calls, chain them directly without separators or spaces"
        "<｜User｜>30 °C?<｜Assistant｜></think><｜tool▁calls▁begin｜><｜tool▁call▁begin｜>convert<｜tool▁sep｜>{\"t\": 30}"
        "<｜tool▁call▁end｜><｜tool▁calls▁end｜><｜end▁of▁sentence｜>")
    fed = get_renderer("DeepSeek-V3.1").template_chat(chat)
    assert fed.messages[0]["role"] == "system" and fed.messages[2]["tool_calls"][0]["function"]["arguments"] == '{"t": 30}'
    with_system = Chat("y", [{"role": "system", "content": "Be brief."}] + chat.messages, [tool])
    assert get_renderer("DeepSeek-V3.1").render(with_system).text.startswith("<｜begin▁of▁sentence｜>Be brief.\n\n## Tools\n")
    # after tool results the template adds no generation prompt
    after = Chat("z", chat.messages + [{"role": "tool", "tool_call_id": "e1", "name": "convert", "content": "86"}], [tool])
    assert get_renderer("DeepSeek-V3.1").prompt(after).endswith("<｜tool▁output▁begin｜>86<｜tool▁output▁end｜>")


def test_reasoning_is_kept_only_where_each_template_keeps_it():
    chat = Chat("r", EDGE_CHATS["reasoning_everywhere"], TOOLS)
    qwen = get_renderer("Qwen3.5").render(chat).text
    assert "Serve il meteo." not in qwen and "<think>\nChiamo find_flight.\n</think>\n\nCerco." in qwen
    assert "<think>\nLista vuota.\n</think>\n\nNessun volo diretto." in qwen
    glm = get_renderer("GLM-4.7").render(chat).text
    assert "Serve il meteo." not in glm and "<think>Chiamo find_flight.</think>Cerco.<tool_call>find_flight" in glm
    assert "Serve il meteo." in get_renderer("GLM-4.7", clear_thinking=False).render(chat).text
    kimi = get_renderer("Kimi-K2").render(chat).text  # history up to the last plain reply: emptied
    assert "<think></think>Nessun volo diretto." in kimi and "Lista vuota." not in kimi and "Chiamo" not in kimi
    kimi = get_renderer("Kimi-K2").render(Chat("r", chat.messages[:-1], TOOLS)).text  # after it: kept
    assert "<think>Chiamo find_flight.</think>Cerco.<|tool_calls_section_begin|>" in kimi and "Serve il meteo." not in kimi
    nemotron = get_renderer("Nemotron-3-Nano").render(chat).text
    assert "Serve il meteo." not in nemotron and "<think>\nChiamo find_flight.\n</think>\nCerco.\n<tool_call>" in nemotron
    assert "Serve il meteo." in get_renderer("Nemotron-3-Nano", truncate_history_thinking=False).render(chat).text
    for model in ("Qwen3-Coder", "DeepSeek-V3.1", "Nemotron-Nano-2"):  # no reasoning in these templates' history
        assert "Serve il meteo." not in get_renderer(model).render(chat).text


def test_generation_prompts_follow_the_thinking_options():
    chat = Chat("g", [{"role": "user", "content": "hi"}], None)
    assert get_renderer("Qwen3", enable_thinking=False).prompt(chat).endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")
    assert get_renderer("Qwen3").prompt(chat).endswith("<|im_start|>assistant\n")
    assert get_renderer("Qwen3.5").prompt(chat).endswith("<think>\n")
    assert get_renderer("Qwen3.5", enable_thinking=False).prompt(chat).endswith("<think>\n\n</think>\n\n")
    assert get_renderer("GLM-4.7", enable_thinking=False).prompt(chat).endswith("<|assistant|></think>")
    assert get_renderer("DeepSeek-V3.1", thinking=True).prompt(chat).endswith("<｜Assistant｜><think>")
    assert get_renderer("Nemotron-3-Nano", enable_thinking=False).prompt(chat).endswith("<think></think>")
    no_think = Chat("n", [{"role": "user", "content": "hi /no_think"}], None)
    assert get_renderer("Nemotron-Nano-2").prompt(no_think) == "<SPECIAL_10>System\n\n\n<SPECIAL_11>User\nhi\n<SPECIAL_11>Assistant\n<think></think>"


# --- completion parsers: the inverse of the renderers ------------------------------------------------------------

def _written(model: str, arguments_text) -> str:
    """What the family's template writes for one call's arguments (to tell ambiguous values apart)."""
    renderer = get_renderer(model)
    chat = Chat("w", [{"role": "user", "content": "u"},
                      {"role": "assistant", "content": "", "tool_calls": [_call("f", arguments_text, "w1")]}], None)
    return renderer.render(chat).text


@pytest.mark.parametrize("model", FAMILIES)
def test_parse_of_render_gives_back_every_bfcl_call(model, bfcl_samples):
    """Every calling turn of every BFCL sample: the learned text (what the model writes) parses to the same calls.

    The XML and GLM syntaxes write some distinct values alike (``None`` and the string ``"None"``,
    ``False`` and ``"False"`` for a string parameter): there the parse may pick the other value, which
    the template writes identically; that is checked, and it must stay rare.
    """
    renderer = get_renderer(model)
    exact = alike = 0
    for samples in bfcl_samples.values():
        for sample in samples:
            chat = to_chat(sample, tool_changes="union")
            for i, message in enumerate(chat.messages):
                if not message.get("tool_calls"):
                    continue
                rendered = renderer.render(Chat(chat.id, chat.messages[:i + 1], chat.tools))
                start, end = rendered.spans[-1]
                content, calls = completion_calls(rendered.text[start:end], renderer.call_syntax, renderer.stop, chat.tools)
                want = [{"name": c["function"]["name"], "arguments": c["function"]["arguments"]} for c in message["tool_calls"]]
                if calls == want:
                    exact += 1
                    continue
                assert [c["name"] for c in calls] == [c["name"] for c in want], chat.id
                for got, wanted in zip(calls, want):
                    assert _written(model, got["arguments"]) == _written(model, wanted["arguments"]), (chat.id, got, wanted)
                alike += 1
    assert exact > 7000 and alike <= 40, (exact, alike)
    if model in ("Kimi-K2", "DeepSeek-V3.1", "Nemotron-Nano-2"):  # JSON arguments: always exact
        assert alike == 0


COMPLETIONS = {
    "Qwen3.5": ("<think>\nneed weather\n</think>\n\nChecking.\n\n<tool_call>\n<function=get_weather>\n<parameter=city>\n"
                "São Paulo\n</parameter>\n<parameter=unit>\nc\n</parameter>\n</function>\n</tool_call><|im_end|>junk"),
    "Qwen3-Coder": ("Checking.\n<tool_call>\n<function=get_weather>\n<parameter=city>\nSão Paulo\n</parameter>\n"
                    "<parameter=unit>\nc\n</parameter>\n</function>\n</tool_call><|im_end|>"),
    "GLM-4.7": ("need weather</think>Checking.<tool_call>get_weather<arg_key>city</arg_key><arg_value>São Paulo</arg_value>"
                "<arg_key>unit</arg_key><arg_value>c</arg_value></tool_call><|observation|>"),
    "Kimi-K2": ("<think>need weather</think>Checking.<|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:7"
                "<|tool_call_argument_begin|>{\"city\": \"São Paulo\", \"unit\": \"c\"}<|tool_call_end|>"
                "<|tool_calls_section_end|><|im_end|>"),
    "DeepSeek-V3.1": ("Checking.<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>get_weather<｜tool▁sep｜>"
                      "{\"city\": \"São Paulo\", \"unit\": \"c\"}<｜tool▁call▁end｜><｜tool▁calls▁end｜><｜end▁of▁sentence｜>"),
    "Nemotron-3-Nano": ("need weather\n</think>\nChecking.\n<tool_call>\n<function=get_weather>\n<parameter=city>\nSão Paulo\n"
                        "</parameter>\n<parameter=unit>\nc\n</parameter>\n</function>\n</tool_call>\n<|im_end|>"),
    "Nemotron-Nano-2": ("need weather</think>Checking.\n<TOOLCALL>[{\"name\": \"get_weather\", \"arguments\": "
                        "{\"city\": \"São Paulo\", \"unit\": \"c\"}}]</TOOLCALL>\n<SPECIAL_12>"),
}


@pytest.mark.parametrize("model", FAMILIES)
def test_completions_parse_with_reasoning_stop_and_plain_text(model):
    renderer = get_renderer(model)
    assert renderer.call_syntax in family_parsers()
    text, calls = completion_calls(COMPLETIONS[model], renderer.call_syntax, renderer.stop, TOOLS)
    assert (text, calls) == ("Checking.", [{"name": "get_weather", "arguments": {"city": "São Paulo", "unit": "c"}}])
    assert completion_calls("<think>hm</think>It is 4 °C." + renderer.stop[0], renderer.call_syntax, renderer.stop) == \
        ("It is 4 °C.", None)


MALFORMED = {
    "qwen_xml": ["<tool_call>\n<function=f>\n<parameter=x>\n1\n</function>\n</tool_call>", "<tool_call>\n<function=f>\n",
                 "<tool_call>\n<parameter=x>\n1\n</parameter>\n</tool_call>"],
    "glm47": ["<tool_call>f<arg_key>x</arg_key>1</tool_call>", "<tool_call><arg_key>x</arg_key><arg_value>1</arg_value></tool_call>",
              "<tool_call>f<arg_key>x</arg_key><arg_value>1"],
    "kimi": ["<|tool_calls_section_begin|><|tool_call_begin|>functions.f:0<|tool_call_argument_begin|>{\"x\": <|tool_call_end|>",
             "<|tool_calls_section_begin|><|tool_call_begin|>functions.f:0{}<|tool_call_end|>"],
    "deepseek_v31": ["<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>f<｜tool▁sep｜>{x}<｜tool▁call▁end｜>",
                     "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜><｜tool▁sep｜>{}<｜tool▁call▁end｜>"],
    "nemotron_toolcall": ["<TOOLCALL>{\"name\": \"f\"}</TOOLCALL>", "<TOOLCALL>[{\"arguments\": {}}]</TOOLCALL>",
                          "<TOOLCALL>[{\"name\": \"f\", \"arguments\": \"{bad\"}]</TOOLCALL>", "<TOOLCALL>[" + "[" * 100000],
}


@pytest.mark.parametrize("syntax, text", [(s, t) for s, texts in MALFORMED.items() for t in texts])
def test_malformed_calls_are_a_decode_error(syntax, text):
    with pytest.raises(DecodeError):
        completion_calls(text, syntax)


def test_parsers_never_evaluate_and_stay_linear_on_hostile_text():
    code = "__import__('os').system('echo pwned')"
    text = f"<tool_call>\n<function=f>\n<parameter=x>\n{code}\n</parameter>\n</function>\n</tool_call>"
    assert completion_calls(text, "qwen_xml")[1] == [{"name": "f", "arguments": {"x": code}}]
    # a value that itself contains </parameter>, and 200k closing tags: read in one pass, nothing lost
    tricky = "<tool_call>\n<function=f>\n<parameter=code>\na</parameter>b\n</parameter>\n</function>\n</tool_call>"
    assert completion_calls(tricky, "qwen_xml")[1] == [{"name": "f", "arguments": {"code": "a</parameter>b"}}]
    flood = "<tool_call>\n<function=f>\n<parameter=x>\n" + "</parameter>y" * 200_000 + "\n</parameter>\n</function>\n</tool_call>"
    assert len(completion_calls(flood, "qwen_xml")[1][0]["arguments"]["x"]) == 200_000 * len("</parameter>y")
    many = "<tool_call>g<arg_key>k</arg_key><arg_value>v</arg_value></tool_call>" * 20_000
    assert len(completion_calls(many, "glm47")[1]) == 20_000


def test_new_families_are_registered_addressable_and_prepare_writes_them(every_slice_sample, shared, tmp_path):
    """`trainer prepare` for each family: text rows, and TRL/ms-swift message rows the official template turns into them."""
    from click.testing import CliRunner

    from opentoollab.cli.trainer import trainer

    assert all(name in BUILTINS for name in FAMILIES)
    assert get_renderer("moonshotai/Kimi-K2-Thinking").name == "Kimi-K2"
    assert get_renderer("zai-org/GLM-4.7-Flash").name == "GLM-4.7" and get_renderer("qwen3.5-4b").name == "Qwen3.5"
    data = tmp_path / "data.jsonl"
    data.write_text("".join(json.dumps(s, ensure_ascii=False) + "\n" for s in every_slice_sample + list(CASES.values())))
    for model in FAMILIES:
        outputs = {}
        for fmt in ("text", "messages"):
            out = tmp_path / f"{model}-{fmt}"
            result = CliRunner().invoke(trainer, ["prepare", "-q", "--data-dir", str(tmp_path / "store"),  # no eval sets
                                                  "--datasets", str(data), f"--model={model}",
                                                  f"--format={fmt}", "--reasoning", "--tool-changes=union", "--out", str(out)])
            assert result.exit_code == 0, result.output
            outputs[fmt] = [json.loads(line) for line in (out / "train.jsonl").read_text("utf-8").splitlines()]
        manifest = json.loads((tmp_path / f"{model}-text" / "manifest.json").read_text())
        counts = manifest["counts"]
        assert counts["out"] == len(outputs["text"]) > 300 and counts["in"] == counts["out"] + counts["skipped"]
        if model in ("DeepSeek-V3.1", "Kimi-K2"):
            assert manifest["renderer"]["notes"]
        renderer = get_renderer(model)
        template = JinjaTemplate((shared / "chat_templates" / renderer.template_file).read_text(), renderer.special_tokens)
        texts = {row["id"]: row for row in outputs["text"]}  # messages rows HF datasets would change are skipped there
        for row in outputs["messages"][::7]:  # TRL/ms-swift rows → the same text
            text = texts[row["id"]]
            tools = json.loads(row["tools"]) if isinstance(row["tools"], str) else row["tools"]
            assert template.render(row["messages"], tools) == text["text"], (model, row["id"])


RESULT_MARKERS = ("<tool_response>", "## Return of", "<｜tool▁output▁begin｜>", "<TOOL_RESPONSE>", "<|observation|>")


@pytest.mark.parametrize("model", FAMILIES)
def test_benchmark_prompt_mode_reads_each_familys_own_calls(model, bfcl_samples, bfcl_store, tmp_path):
    """`benchmark run --mode prompt` against a local server whose model answers in the family's syntax: full marks."""
    from click.testing import CliRunner
    from openai_server import serve

    from opentoollab.benchmark.scoring import item_of
    from opentoollab.benchmark.scoring.multi_turn import truth_turns
    from opentoollab.benchmark.scoring.parity import gold_calls
    from opentoollab.cli.benchmark import benchmark
    from opentoollab.format.jsonl import write_samples

    renderer = get_renderer(model)
    chosen = (bfcl_samples["simple_python"][:8] + bfcl_samples["parallel"][:4] + bfcl_samples["multiple"][:4]
              + bfcl_samples["irrelevance"][:3] + bfcl_samples["multi_turn_base"][:2])
    answers: dict[tuple, list] = {}
    for sample in chosen:
        item, users = item_of(sample), [m["content"] for m in sample if m["role"] == "user"]
        if item.kind == "ast":
            answers[tuple(users)] = gold_calls(item.functions, item.answers)
        else:
            for n, calls in enumerate(truth_turns(sample)):
                if calls:
                    answers[tuple(users[:n + 1])] = [{"name": c["name"], "arguments": c["parameters"]} for c in calls]

    def written(calls: list[dict]) -> str:  # what the model writes: the learned part of a calling turn
        chat = Chat("w", [{"role": "user", "content": "u"}, {"role": "assistant", "content": "", "tool_calls": [
            _call(c["name"], c["arguments"], f"w{i}") for i, c in enumerate(calls)]}], None)
        rendered = renderer.render(chat)
        return rendered.text[rendered.spans[-1][0]:rendered.spans[-1][1]]

    prompts = []

    def answer(path: str, body: dict):
        prompt = body["prompt"]
        prompts.append(prompt)
        found = [key for key in answers if all(user.strip() in prompt for user in key)]
        key = max(found, key=len, default=None)
        if key is None or any(marker in prompt[prompt.rfind(key[-1].strip()):] for marker in RESULT_MARKERS):
            return 200, {"choices": [{"index": 0, "text": "Done." + renderer.stop[0]}]}
        return 200, {"choices": [{"index": 0, "text": written(answers[key])}]}

    path = tmp_path / "chosen.jsonl"
    write_samples(path, chosen)
    with serve(answer) as url:
        result = CliRunner().invoke(benchmark, ["run", "-d", str(path), "--mode", "prompt", "--model", model, "--base-url", url,
                                                "-j", "2", "--out", str(tmp_path / "out"), "--data-dir", str(bfcl_store.root), "-q"])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["scored"] == len(chosen) and summary["correct"] == len(chosen), summary["categories"]
    assert any(marker in p for p in prompts for marker in RESULT_MARKERS)  # multi-turn results went back in
