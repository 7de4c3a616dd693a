"""The pieces of the LLM pipelines, one by one: templates (sandboxed), inputs, agents' parsing, categories,
checks, and the runner on a step written here (what a user adding a step writes)."""

from __future__ import annotations

from typing import Any

import pytest

from opentoollab.datasets.synth.agents import reply_calls, tools_problem
from opentoollab.datasets.synth.inputs import read_inputs, record_text
from opentoollab.datasets.synth.runner import Item, Runner
from opentoollab.datasets.synth.sample import structure_categories
from opentoollab.datasets.synth.sandbox import category_problem
from opentoollab.datasets.synth.step import Context, Prompts, Record, Step, StepFailure, check_reason, split_messages
from opentoollab.datasets.synth.toolace import call_overlap
from opentoollab.llm import StepCache
from opentoollab.llm.client import Reply
from scripted_llm import ScriptedLLM, say
from synth_helpers import client_for


# ---------------------------------------------------------------------------------- templates
def test_templates_split_into_messages():
    assert split_messages("[[system]]\nStep: x\nRules.\n[[user]]\nHi {a}\n") == [
        {"role": "system", "content": "Step: x\nRules."}, {"role": "user", "content": "Hi {a}"}]
    assert split_messages("just a question") == [{"role": "user", "content": "just a question"}]
    with pytest.raises(StepFailure, match="before the first"):
        split_messages("stray\n[[user]]\nx")


def test_templates_are_sandboxed_strict_and_overridable(tmp_path):
    (tmp_path / "evil.txt").write_text("[[user]]\n{{ ''.__class__.__mro__[1].__subclasses__() }}")
    (tmp_path / "strict.jinja").write_text("[[user]]\n{{ missing }}")
    (tmp_path / "scenario_extractor.txt").write_text("[[user]]\nmine: {{ chat }}")
    prompts = Prompts(tmp_path)
    with pytest.raises(StepFailure, match="SecurityError: access to attribute '__class__'") as info:
        prompts.render("evil", {})
    assert info.value.kind == "template"
    with pytest.raises(StepFailure, match="missing"):
        prompts.render("strict", {})
    assert prompts.render("scenario_extractor", {"chat": "x"}) == [{"role": "user", "content": "mine: x"}]
    assert "Step: scenario_extractor" in Prompts().text("scenario_extractor")  # the package's own
    with pytest.raises(KeyError, match="no prompt template nope"):
        Prompts(tmp_path).text("nope")


def test_every_builtin_step_has_its_template_files():
    from opentoollab.datasets.synth import get_pipeline, pipeline_names

    for name in pipeline_names():
        for cls in get_pipeline(name).steps:
            step = cls()
            for stem, text in step.templates().items():
                assert text.startswith("[[system]]\nStep: " + stem + "\n"), stem


# ---------------------------------------------------------------------------------- inputs
def test_input_text_from_any_chat_layout(tmp_path):
    assert record_text({"system": "SYSTEM: tools", "chat": "USER: hi\n\n\nASSISTANT: hello"}).startswith("USER: hi")
    assert record_text({"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}) == \
        "USER: a\n\nASSISTANT: b"
    assert record_text({"conversations": [{"from": "human", "value": "q"}]}) == "HUMAN: q"
    assert record_text([{"role": "id", "content": "x_y_0"}, {"role": "user", "content": "u"}]) == "USER: u"
    assert record_text({"body": "x", "question": "why?"}, field="question") == "why?"
    assert record_text({"id": 3}) is None
    path = tmp_path / "in.jsonl"
    path.write_text('{"chat": "one"}\nnot json\n{"id": 1}\n{"text": "two"}\n{"text": "three"}\n')
    records, rejected = read_inputs(path, n=2, max_chars=2)
    assert records == [("0", {"chat": "on"}), ("3", {"chat": "tw"})]
    assert [r["index"] for r in rejected] == [1, 2] and "invalid JSON" in rejected[0]["reason"]


# ---------------------------------------------------------------------------------- agents
def _call(name, arguments) -> dict:
    return {"id": "c", "type": "function", "function": {"name": name, "arguments": arguments}}


def test_assistant_calls_are_read_tolerantly_and_checked():
    offered = {"get_weather", "get_time"}
    reply = Reply("", [_call("get_weather", '{"city": "Oslo",}'), _call("get_time", "")])
    assert reply_calls(reply, offered, 5) == [
        {"name": "get_weather", "parameters": {"city": "Oslo"}, "depend_on": []},
        {"name": "get_time", "parameters": {}, "depend_on": []}]
    hermes = Reply('Let me check.\n<tool_call>\n{"name": "get_time", "arguments": {"tz": "UTC"}}\n</tool_call>')
    assert reply_calls(hermes, offered, 5)[0]["parameters"] == {"tz": "UTC"}
    with pytest.raises(StepFailure, match="not among the tools") as info:
        reply_calls(Reply("", [_call("rm_rf", "{}")]), offered, 5)
    assert info.value.kind == "invalid"
    with pytest.raises(StepFailure) as info:
        reply_calls(Reply("", [_call("get_time", "{tz: ")]), offered, 5)
    assert info.value.kind == "bad_json"
    with pytest.raises(StepFailure, match="limit 1"):
        reply_calls(Reply("", [_call("get_time", "{}"), _call("get_time", "{}")]), offered, 1)


def test_generated_functions_are_checked():
    good = {"name": "get_rate", "description": "Rate.", "parameters": {"type": "object", "properties": {
        "base": {"type": "string"}}, "required": ["base"]}}
    assert tools_problem([good]) is None
    assert "must match" in tools_problem([{**good, "name": "get rate"}])
    assert "twice" in tools_problem([good, good])
    assert "not declared" in tools_problem([{**good, "parameters": {"type": "object", "required": ["x"]}}])
    assert "sample format" in tools_problem([{**good, "parameters": {"type": "object", "properties": {
        "base": {"type": "text"}}}}])
    assert tools_problem([]) == "no functions"


# ---------------------------------------------------------------------------------- categories and checks
def _dialogue(*parts) -> list[dict]:
    return [{"role": role, "content": content} for role, content in parts]


def test_categories_read_from_the_messages():
    tools = ("candidate_tools", [{"name": "a"}, {"name": "b"}])
    call = lambda *names, dep=False: ("tool_call", [{"name": n, "parameters": {}, "depend_on": ["a.0"] if dep else []}
                                                   for n in names])
    assert structure_categories(_dialogue(tools, ("user", "q"), call("a"), ("tool_response", {"a.0": 1}))) == {"multiple"}
    assert structure_categories(_dialogue(("candidate_tools", [{"name": "a"}]), ("user", "q"), call("a"))) == {"single"}
    assert structure_categories(_dialogue(tools, ("user", "q"), call("a", "b"))) == {"parallel"}
    assert structure_categories(_dialogue(tools, ("user", "q"), call("a"), ("tool_response", {"a.0": {"error": "x"}}),
                                          call("b", dep=True), ("user", "more"))) == \
        {"multi_step", "dependent", "error_recovery", "multi_turn"}
    assert structure_categories(_dialogue(tools, ("user", "q"), ("assistant", "no"))) == {"no_tool"}


def test_sandbox_categories_are_checked_on_the_dialogue():
    asks = _dialogue(("user", "add it"), ("assistant", "which note?"), ("user", "note-2"),
                     ("tool_call", [{"name": "append", "parameters": {}}]))
    assert category_problem("miss_param", asks, []) is None
    assert "before asking" in category_problem("miss_param", asks[2:], [])
    assert category_problem("no_tool", asks, []) == "no_tool dialogue with calls"
    assert "one user turn" in category_problem("multi_turn", asks[2:], [])
    assert "characters" in category_problem("long_context", asks, [])
    assert category_problem("long_context", [{"role": "user", "content": "x" * 5000}, *asks[3:]], []) is None
    early = _dialogue(("user", "q"), ("tool_call", [{"name": "late", "parameters": {}}]),
                      ("candidate_tools", []), ("user", "go"))
    assert "before it was offered" in category_problem("miss_func", early, ["late"])
    assert "ended before" in category_problem("miss_func", asks, ["late"])


def test_complexity_score_compares_calls():
    ref = [{"name": "a", "parameters": {"x": 1}}, {"name": "b", "parameters": {}}]
    assert call_overlap(ref, ref) == 1.0
    assert call_overlap(ref, [{"name": "a", "parameters": {"x": 2}}, {"name": "b", "parameters": {}}]) == 0.5
    assert call_overlap([], []) == 1.0 and call_overlap([], ref) == 0.0


def test_check_answers_become_one_reason():
    assert check_reason(None) is None and check_reason([]) is None and check_reason("") is None
    assert check_reason("overlaps X") == "overlaps X"
    problems = [{"rule": f"r{i}", "message": "m"} for i in range(5)]
    assert check_reason(problems) == "r0: m; r1: m; r2: m (+2 more)"


# ---------------------------------------------------------------------------------- a step written here
class Shout(Step):
    """A user-written step: one template file, declared fields, a validator."""

    name = "shout"
    inputs = ("word",)
    outputs = ("loud", "length")
    answer_schema = {"type": "object", "properties": {"loud": {"type": "string"}}, "required": ["loud"]}

    def parse(self, answer: Any, view: Record) -> list[Record]:
        return [{"loud": answer.get("loud", ""), "length": len(view["word"])}]

    def validate(self, output: Record, view: Record) -> str | None:
        return None if output["loud"] == view["word"].upper() else "not the word in capitals"


def test_a_new_step_runs_cached_deduplicated_and_validated(tmp_path):
    (tmp_path / "shout.txt").write_text("[[system]]\nStep: shout\nAnswer {\"loud\": WORD IN CAPITALS}.\n"
                                        "[[user]]\n{{ word }}")

    def shout(body):
        word = body["messages"][-1]["content"]
        return say({"loud": word.upper() if word != "bad" else "nope"})

    llm = ScriptedLLM({"shout": shout})
    items = [Item(str(i), {"word": w, "other": i}) for i, w in enumerate(["hi", "bad", "hi", "yo"])]
    with llm.serve() as url, StepCache(tmp_path / "c.sqlite") as cache:
        context = Context(prompts=Prompts(tmp_path))
        runner = Runner([Shout({}, context)], client=client_for(url), cache=cache, context=context, model="m")
        out = runner.run(items)
    # "hi" twice (other fields differ, the step does not read them): one request; "bad" fails validation
    assert len(llm.requests) == 3
    assert [(i.id, i.data["loud"], i.data["other"]) for i in out] == [("0", "HI", 0), ("2", "HI", 2), ("3", "YO", 3)]
    assert out[0].keys["shout"] == out[1].keys["shout"] != out[2].keys["shout"]
    assert [(f["record"], f["kind"], f["message"]) for f in runner.failures] == [("1", "invalid", "not the word in capitals")]
    stats = runner.step_report()["shout"]
    assert (stats["computed"], stats["failed"], stats["requests"], stats["records_out"]) == (2, 1, 3, 3)
