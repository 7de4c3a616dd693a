"""gpt-oss, Llama 4, Mistral Small 3.2, Ministral reasoning, Granite 4.0, Command R+ and R7B built-ins.

Each equals its official template as transformers runs it (the sandbox of render/jinja.py, given the
renderer's ``template_chat`` and ``template_kwargs``) on every fifth sample of each BFCL subset, every sample of
the shared slices, the shared edge cases and hand-made schemas that hit each template's quirks; its
generation prompt equals ``add_generation_prompt=True``; and its completion parser reads back exactly
the calls it rendered, on every calling message of every BFCL sample.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from opentoollab.benchmark.scoring.parse import DecodeError, completion_calls
from opentoollab.trainer.render import BUILTINS, Chat, Skip, get_renderer, renderer_class, to_chat
from opentoollab.trainer.render.jinja import TemplateRaised

sys.path.insert(0, str(Path(__file__).parent))
from render_cases import CASES  # noqa: E402
from test_render_parity import check, official, official_prompt  # noqa: E402

MODELS = ["gpt-oss", "Llama-4", "Mistral-Small-3.2", "Ministral-3-Reasoning", "Granite-4.0", "Command-R+",
          "Command-R7B"]
STRIDE = 5


def tally(outcomes: dict, key: str) -> None:
    outcomes[key] = outcomes.get(key, 0) + 1


@pytest.mark.parametrize("model", MODELS)
def test_equals_official_on_bfcl_every_subset(model, bfcl_samples, shared):
    renderer, outcomes = get_renderer(model), {}
    for subset, samples in sorted(bfcl_samples.items()):
        for sample in samples[::STRIDE]:
            tally(outcomes, check(shared, renderer, to_chat(sample, tool_changes="union")))
    assert outcomes.get("same", 0) > 600, outcomes
    if model == "gpt-oss":
        assert outcomes.get("parallel_calls", 0) > 50  # BFCL's parallel subsets
    if model in ("Llama-4", "Granite-4.0", "Command-R7B", "Mistral-Small-3.2"):
        assert set(outcomes) <= {"same", "empty_assistant_turn"}, outcomes


@pytest.mark.parametrize("model", MODELS)
def test_equals_official_on_every_shared_slice_sample(model, slice_samples, shared):
    renderer, outcomes = get_renderer(model), {}
    for samples in slice_samples.values():
        for sample in samples:
            for reasoning in (False, True) if renderer.has_reasoning else (False,):
                try:
                    chat = to_chat(sample, tool_changes="union", reasoning=reasoning)
                except Skip as skip:
                    tally(outcomes, skip.reason)
                    continue
                tally(outcomes, check(shared, renderer, chat))
    assert outcomes.get("same", 0) > 300, outcomes


@pytest.mark.parametrize("model", MODELS)
def test_equals_official_on_edge_cases(model, shared):
    renderer, outcomes = get_renderer(model), {}
    for case in CASES.values():
        for reasoning in (False, True):
            for policy in ("skip", "union"):
                try:
                    chat = to_chat(case, reasoning=reasoning, tool_changes=policy)
                except Skip:
                    continue
                tally(outcomes, check(shared, renderer, chat))
    assert outcomes.get("same", 0) >= 4, outcomes


def _points(chat: Chat):
    """Where the model speaks next: before each assistant message, and after a final user turn or result."""
    for i, message in enumerate(chat.messages):
        if message["role"] == "assistant":
            yield Chat(chat.id, chat.messages[:i], chat.tools)
    if chat.messages and chat.messages[-1]["role"] in ("user", "tool"):
        yield chat


@pytest.mark.parametrize("model", MODELS)
def test_generation_prompt_equals_official(model, bfcl_samples, shared):
    renderer = get_renderer(model)
    chats = [to_chat(s, tool_changes="union") for samples in bfcl_samples.values() for s in samples[::60]]
    chats += [to_chat(c, tool_changes="union", reasoning=True) for c in CASES.values()]
    same = 0
    for chat in chats:
        for point in _points(chat):
            try:
                text = renderer.prompt(point)
            except Skip as skip:
                if skip.reason not in getattr(renderer, "lossy_skips", ()):
                    with pytest.raises(TemplateRaised):
                        official_prompt(shared, renderer, point)
                continue
            assert text == official_prompt(shared, renderer, point), (model, point.id, len(point.messages))
            assert text.endswith(renderer.generation_prompt)
            same += 1
    assert same > 80, same


def _calls(message: dict) -> list[dict]:
    return [{"name": c["function"]["name"], "arguments": c["function"]["arguments"]} for c in message["tool_calls"]]


@pytest.mark.parametrize("model", MODELS)
def test_completion_parser_reads_back_every_rendered_call_on_bfcl(model, bfcl_samples):
    """parse(render(calls)) == calls: the learned text of each calling message, read in the family's syntax."""
    renderer, checked, skipped = get_renderer(model), 0, 0
    for samples in bfcl_samples.values():
        for sample in samples:
            chat = to_chat(sample, tool_changes="union")
            for i, message in enumerate(chat.messages):
                if not message.get("tool_calls"):
                    continue
                try:
                    rendered = renderer.render(Chat(chat.id, chat.messages[: i + 1], chat.tools))
                except Skip:
                    skipped += 1
                    continue
                start, end = rendered.spans[-1]
                text, calls = completion_calls(rendered.text[start:end], renderer.call_syntax, renderer.stop)
                assert calls == _calls(message), (model, chat.id, i)
                checked += 1
    assert checked > 3000, (checked, skipped)


def test_builtins_resolve_by_name_alias_and_hub_id():
    for short in MODELS:
        assert short in BUILTINS
        cls = renderer_class(short)
        for name in (short, short.lower(), *cls.aliases, *cls.hub_ids):
            assert get_renderer(name).name == short, name
    assert get_renderer("openai/gpt-oss-120b").name == "gpt-oss"
    assert get_renderer("CohereLabs/c4ai-command-r7b-12-2024").name == "Command-R7B"


# ------------------------------------------------------------------------------ hand-made template quirks
def _tool(name: str, properties: dict, required: list | None = None, description: str = "Does things.") -> dict:
    parameters = {"type": "object", "properties": properties}
    if required is not None:
        parameters["required"] = required
    return {"type": "function", "function": {"name": name, "description": description, "parameters": parameters}}


SCHEMAS = [
    _tool("mixed", {
        "q": {"type": "string", "description": "Query ü"},
        "n": {"type": "integer", "default": 5, "description": "How many"},
        "mode": {"type": "string", "enum": ["a", "b"], "default": "a"},
        "tags": {"type": "array", "items": {"type": "string"}, "nullable": True, "description": "Tags"},
        "matrix": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}, "description": "M"},
        "rows": {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "integer"}}},
                 "description": "R"},
        "anything": {"type": ["string", "integer"], "description": "Either"},
        "choice": {"oneOf": [{"type": "string", "description": "text"}, {"type": "integer", "default": 3}],
                   "description": "One of"},
        "flag": {"type": "boolean", "default": False, "description": "F"},
        "nested": {"type": "object", "properties": {"x": {"type": "number"}, "y": {"type": "string"}},
                   "required": ["x"], "description": "N"},
        "free": {"type": "object", "additionalProperties": {"type": "integer"}, "description": "map"},
        "untyped": {"description": "no type"},
    }, ["q", "nested"]),
    _tool("bare", {}),
    _tool("noreq", {"a": {"type": "number", "description": "A"}}),
]
# what Command R+'s type macro can print (objects need additionalProperties, parameters a description)
PLAIN = [
    _tool("plain", {"s": {"type": "string", "description": "S"}, "xs": {"type": "array", "items": {"type": "integer"},
                                                                        "description": "Xs"},
                    "m": {"type": "object", "additionalProperties": {"type": "string"}, "description": "M"},
                    "u": {"type": ["string", "integer"], "description": "U"}, "v": {"description": "V"},
                    "b": {"type": "boolean", "description": "B"}}, ["s"], description="Plain ü."),
    _tool("nodesc", {"n": {"type": "number", "description": "N"}}, description=""),
]


def _dialogues() -> list[Chat]:
    def call(cid: str, name: str, arguments) -> dict:
        return {"type": "function", "id": cid, "function": {"name": name, "arguments": arguments}}

    args = {"q": "Zürich “quoted” \u2028 line", "nested": {"x": 1.5}, "free": {"k": 1}, "tags": ["a", "ß"]}
    one = [{"role": "system", "content": "  Sé breve.  "}, {"role": "user", "content": " Hola 你好 "},
           {"role": "assistant", "content": "Let me look.", "reasoning_content": "Need a lookup.",
            "tool_calls": [call("abcdef012", "mixed", args)]},
           {"role": "tool", "tool_call_id": "abcdef012", "name": "mixed", "content": "{\"ok\": true}"},
           {"role": "assistant", "content": "Done: ok.", "reasoning_content": "It worked."}]
    no_text = [one[1], {**one[2], "content": ""}, one[3], {"role": "assistant", "content": ""}]
    waves = [one[1], {"role": "assistant", "content": "", "tool_calls": [call("aaaaaaaa1", "bare", {})]},
             {"role": "tool", "tool_call_id": "aaaaaaaa1", "name": "bare", "content": "r1"},
             {"role": "assistant", "content": "", "tool_calls": [call("bbbbbbbb2", "noreq", {"a": 2})]},
             {"role": "tool", "tool_call_id": "bbbbbbbb2", "name": "noreq", "content": "r2"},
             {"role": "assistant", "content": "Both done."}, {"role": "user", "content": "Thanks"},
             {"role": "assistant", "content": "Welcome."}]
    return [Chat(f"quirks_{i}", messages, tools) for i, (messages, tools) in enumerate(
        [(one, SCHEMAS), (no_text, SCHEMAS), (waves, SCHEMAS), (one, SCHEMAS[1:]), (waves[:6], None),
         (one, PLAIN), (no_text, PLAIN), (waves, PLAIN)])]


@pytest.mark.parametrize("model", MODELS)
def test_equals_official_on_schema_quirks_reasoning_and_text_beside_calls(model, shared):
    renderer, outcomes = get_renderer(model), {}
    for chat in _dialogues():
        tally(outcomes, check(shared, renderer, chat))
        for point in _points(chat):
            try:
                text = renderer.prompt(point)
            except Skip:
                continue
            assert text == official_prompt(shared, renderer, point), (point.id, len(point.messages))
    assert outcomes.get("same", 0) >= 2, outcomes


@pytest.mark.parametrize("model, kwargs", [("gpt-oss", {"reasoning_effort": "high"}),
                                           ("Llama-4", {"tools_in_user_message": False})])
def test_keyword_arguments_equal_the_template_given_them(model, kwargs, shared):
    renderer = type(get_renderer(model))(**kwargs)
    assert renderer.template_kwargs() == kwargs
    outcomes: dict = {}
    for chat in _dialogues():
        tally(outcomes, check(shared, renderer, chat))
    assert outcomes.get("same", 0) >= 3, outcomes
    if model == "gpt-oss":
        assert "Reasoning: high" in renderer.render(_dialogues()[1]).text
    else:  # the tool list moves from the first user turn into the system turn
        text = renderer.render(_dialogues()[0]).text
        assert text.index("You have access to the following functions") < text.index("<|header_start|>user")


def test_gpt_oss_skips_parallel_calls_its_template_would_cut_to_the_first(shared):
    renderer = get_renderer("gpt-oss")
    chat = to_chat(CASES["waves_links"])
    with pytest.raises(Skip, match="parallel_calls"):
        renderer.render(chat)
    text = official(shared, renderer, chat)  # renders, with one <|call|> per calling message: the other calls are gone
    assert text.count("<|call|>") == sum(1 for m in chat.messages if m.get("tool_calls")) == 2
    assert sum(len(m.get("tool_calls") or ()) for m in chat.messages) == 4


def test_reasoning_kept_where_each_template_keeps_it():
    chat = _dialogues()[0]
    with pytest.raises(Skip, match="text_and_reasoning"):  # the template raises on text and thinking beside a call
        get_renderer("gpt-oss").render(chat)
    messages = [m if not m.get("tool_calls") else {**m, "content": ""} for m in chat.messages]
    harmony = get_renderer("gpt-oss").render(Chat(chat.id, messages, chat.tools)).text
    # an answered calling turn loses its analysis; the last turn of a training text shows it
    assert "Need a lookup." not in harmony and "<|channel|>analysis<|message|>It worked.<|end|>" in harmony
    assert harmony.endswith("<|channel|>final<|message|>Done: ok.<|return|>")
    unanswered = get_renderer("gpt-oss").prompt(Chat(chat.id, messages[:4], chat.tools))
    assert "<|channel|>analysis<|message|>Need a lookup.<|end|><|start|>assistant to=functions.mixed" in unanswered
    ministral = get_renderer("Ministral-3-Reasoning").render(chat).text
    assert "[THINK]Need a lookup.[/THINK]Let me look.[TOOL_CALLS]mixed[ARGS]" in ministral
    assert "[THINK]It worked.[/THINK]Done: ok.</s>" in ministral
    r7b = get_renderer("Command-R7B").render(chat).text
    assert "<|START_THINKING|>Let me look.<|END_THINKING|>" in r7b  # the text beside the call is the plan


@pytest.mark.parametrize("model, completion, expected", [
    ("gpt-oss", "<|channel|>analysis<|message|>think<|end|><|start|>assistant<|channel|>commentary "
                'to=functions.get_weather <|constrain|>json<|message|>{"city": "Paris"}<|call|>',
     ("", [{"name": "get_weather", "arguments": {"city": "Paris"}}])),
    ("gpt-oss", "<|channel|>analysis<|message|>easy<|end|><|start|>assistant<|channel|>final<|message|>Hi!<|return|>",
     ("Hi!", None)),
    ("Llama-4", '<|python_start|>[{"name": "f", "parameters": {"x": 1}}]<|python_end|><|eot|>',
     ("", [{"name": "f", "arguments": {"x": 1}}])),
    ("Llama-4", "Just text.<|eot|>", ("Just text.", None)),
    ("Mistral-Small-3.2", 'Sure.[TOOL_CALLS]f[ARGS]{"a": [1]}[TOOL_CALLS]g[CALL_ID]abc123XYZ[ARGS]{}</s>',
     ("Sure.", [{"name": "f", "arguments": {"a": [1]}}, {"name": "g", "arguments": {}}])),
    ("Ministral-3-Reasoning", "[THINK]hmm[/THINK]Answer.</s>", ("Answer.", None)),
    ("Ministral-3-Reasoning", "[THINK]never ends", ("", None)),
    ("Command-R+", 'Searching.\nAction: ```json\n[{"tool_name": "f", "parameters": {"q": "x"}}]\n```',
     ("Searching.", [{"name": "f", "arguments": {"q": "x"}}])),
    ("Command-R+", 'Action:\n```json\n[{"tool_name": "directly-answer", "parameters": {}}]\n```', ("", None)),
    ("Command-R7B", "<|START_RESPONSE|>Hello<|END_RESPONSE|><|END_OF_TURN_TOKEN|>", ("Hello", None)),
    ("Granite-4.0", 'Ok.\n<tool_call>\n{"name": "f", "arguments": {}}\n</tool_call><|end_of_text|>',
     ("Ok.", [{"name": "f", "arguments": {}}])),
])
def test_completion_parsers_read_what_models_write(model, completion, expected):
    renderer = get_renderer(model)
    assert completion_calls(completion, renderer.call_syntax, renderer.stop) == expected


@pytest.mark.parametrize("model, completion", [
    ("gpt-oss", ' to=functions.f<|channel|>commentary json<|message|>{"a": '),
    ("Llama-4", '<|python_start|><|python_end|>{"name": "f", "parameters": {}} trailing prose'),
    ("Mistral-Small-3.2", "[TOOL_CALLS]f[ARGS]{not json"),
    ("Mistral-Small-3.2", "[TOOL_CALLS][ARGS]{}"),
    ("Command-R+", 'Action: ```json\n[{"parameters": {}}]\n```'),
    ("Command-R7B", "<|START_ACTION|>[{\"tool_name\": \"f\", \"parameters\": {]<|END_ACTION|>"),
    ("Command-R7B", "<|START_ACTION|>" + "[" * 100_000 + "<|END_ACTION|>"),  # nesting: an error, not a crash
])
def test_malformed_completions_are_decode_errors(model, completion):
    renderer = get_renderer(model)
    with pytest.raises(DecodeError):
        completion_calls(completion, renderer.call_syntax, renderer.stop)


@pytest.mark.parametrize("model", MODELS)
def test_benchmark_prompt_mode_reads_each_familys_calls(model, bfcl_samples, bfcl_store, tmp_path):
    """``benchmark run --mode prompt`` against a local server that answers in the family's own syntax (the text the
    renderer writes for the gold calls): every reply is read back into the right calls and scored correct."""
    from click.testing import CliRunner
    from openai_server import serve

    from opentoollab.benchmark.scoring import item_of
    from opentoollab.benchmark.scoring.parity import gold_calls
    from opentoollab.cli.benchmark import benchmark
    from opentoollab.format.jsonl import write_samples

    renderer, answers, chosen = get_renderer(model), {}, []
    pool = bfcl_samples["simple_python"][:12] + bfcl_samples["parallel"][:6] + bfcl_samples["irrelevance"][:4]
    for sample in pool:
        item = item_of(sample)
        calls = gold_calls(item.functions, item.answers)
        end = next(i for i, m in enumerate(sample) if m["role"] == "tool_call_ground_truth")
        chat = to_chat(sample[:end], tool_changes="union")
        message = {"role": "assistant", "content": "", "tool_calls": [
            {"type": "function", "id": f"call{i:05d}", "function": {"name": c["name"], "arguments": c["arguments"]}}
            for i, c in enumerate(calls)]}
        try:
            renderer.prompt(chat)
            rendered = renderer.render(Chat(chat.id, chat.messages + [message], chat.tools)) if calls else None
        except Skip:
            continue
        user = [m["content"] for m in chat.messages if m["role"] == "user"][-1].strip()
        answers[user] = rendered.text[slice(*rendered.spans[-1])] if rendered else "Nothing to call."
        chosen.append(sample)
    assert len(chosen) >= 12

    def answer(path: str, body: dict):
        if path != "/v1/completions":
            return 404, b""
        found = [user for user in answers if user in body["prompt"]]
        return 200, {"choices": [{"index": 0, "text": answers[max(found, key=len)] if found else "?"}]}

    path, out = tmp_path / "chosen.jsonl", tmp_path / "run"
    write_samples(path, chosen)
    with serve(answer) as url:
        result = CliRunner().invoke(benchmark, ["run", "-d", str(path), "--mode", "prompt", "--renderer", model,
                                                "--base-url", url, "-j", "2", "--out", str(out),
                                                "--data-dir", str(bfcl_store.root), "-q"])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["scored"] == len(chosen) and summary["correct"] == len(chosen), summary
