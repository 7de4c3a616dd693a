"""`python trainer prepare` end to end on processed BFCL and hand-written samples."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from opentoollab.cli.trainer import trainer
from opentoollab.trainer.render import Skip, get_renderer, to_chat
from opentoollab.trainer.render.jinja import JinjaTemplate
from opentoollab.format.sample import tool_call_uid

sys.path.insert(0, str(Path(__file__).parent))
from render_cases import CASES  # noqa: E402


def run(args, store=None):
    # BFCL is an evaluation set: rendering it on purpose needs --allow-eval (the refusal is tested below)
    base = ["prepare", "-q", "--allow-eval"] + (["--data-dir", str(store.root)] if store else [])
    return CliRunner().invoke(trainer, base + args, catch_exceptions=False)


def rows(path: Path) -> list:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def test_to_chat_waves_links_ids_and_thoughts():
    chat = to_chat(CASES["waves_links"])
    roles = [(m["role"], len(m.get("tool_calls") or ())) for m in chat.messages]
    assert roles == [("system", 0), ("user", 0), ("assistant", 3), ("tool", 0), ("tool", 0), ("tool", 0),
                     ("assistant", 1), ("tool", 0), ("assistant", 0)]
    first_wave = chat.messages[2]
    assert first_wave["content"] == "Ich schaue nach."
    assert first_wave["tool_calls"][0]["id"] == tool_call_uid("EDGE_cases_0", "get_weather.0")
    assert chat.messages[3]["content"] == "sonnig, 21 °C"  # string result as is
    assert chat.messages[4]["content"] == '{"temp": 19, "sky": "bewölkt"}'  # object result as JSON
    assert chat.messages[6]["tool_calls"][0]["function"]["arguments"] == {"flight_id": "LX1234"}
    assert "x-note" not in json.dumps(chat.tools)
    gt = to_chat(CASES["ground_truth"]).messages[-1]["tool_calls"][0]["function"]["arguments"]
    assert gt == {"origin": "OSL", "dest": "FCO"}
    hidden = to_chat(CASES["hidden_thoughts"], reasoning=True).messages
    assert hidden[1]["reasoning_content"] == "I need the weather first."
    assert hidden[-1]["reasoning_content"] == "4 degrees is cold."
    assert all("reasoning_content" not in m for m in to_chat(CASES["hidden_thoughts"]).messages)
    with pytest.raises(Skip, match="tools_change"):
        to_chat(CASES["tools_change"])
    assert {t["function"]["name"] for t in to_chat(CASES["tools_change"], tool_changes="union").tools} == \
        {"get_weather", "find_flight"}


def test_prepare_text_counts_spans_and_manifest(bfcl_store, tmp_path):
    out = tmp_path / "q"
    result = run(["--datasets=BFCL", "--model=qwen/qwen2.5-7b-instruct", "--out", str(out)], bfcl_store)
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    counts = manifest["counts"]
    assert counts["in"] == 4438 and counts["in"] == counts["out"] + counts["skipped"]
    assert counts["skipped_by_reason"]["tools_change"] == 199  # multi_turn_miss_func
    assert len(rows(out / "skipped.jsonl")) == counts["skipped"]
    assert manifest["renderer"]["name"] == "Qwen2.5" and len([i for i in manifest["inputs"] if "sha256" in i]) == 17
    assert manifest["inputs"][0]["mix"]["decontamination"]["enabled"]  # every prepare is checked against eval sets
    assert all(len(i["sha256"]) == 64 for i in manifest["inputs"][1:])
    written = rows(out / "train.jsonl")
    assert len(written) == counts["out"]
    for row in written[::50]:
        for start, end in row["spans"]:
            part = row["text"][start:end]
            assert part.endswith("<|im_end|>") and row["text"][:start].endswith("<|im_start|>assistant\n")
            assert "<tool_response>" not in part


@pytest.mark.parametrize("model", ["Qwen2.5", "Llama-3.1", "Mistral-Nemo"])
def test_messages_rendered_by_the_official_template_equal_text(model, bfcl_store, shared, tmp_path):
    spec = "BFCL/multi_turn_base,BFCL/parallel,BFCL/live_simple"
    assert run([f"--datasets={spec}", f"--model={model}", "--out", str(tmp_path / "t")], bfcl_store).exit_code == 0
    assert run([f"--datasets={spec}", f"--model={model}", "--format=messages", "--out", str(tmp_path / "m")],
               bfcl_store).exit_code == 0
    renderer = get_renderer(model)
    template = JinjaTemplate((shared / "chat_templates" / renderer.template_file).read_text(), renderer.special_tokens)
    texts, messages = rows(tmp_path / "t" / "train.jsonl"), rows(tmp_path / "m" / "train.jsonl")
    unsafe = {r["id"] for r in rows(tmp_path / "m" / "skipped.jsonl") if r["reason"] == "hf_datasets_float"}
    texts = [t for t in texts if t["id"] not in unsafe]  # rows HF datasets would change (object arguments only)
    assert len(texts) == len(messages) > 0
    for text, row in zip(texts, messages):
        assert row["id"] == text["id"]
        tools = json.loads(row["tools"]) if isinstance(row["tools"], str) else row["tools"]  # as TRL reads it
        assert template.render(row["messages"], tools) == text["text"]


def test_sharegpt_alternates_and_registers(bfcl_store, tmp_path):
    out = tmp_path / "s"
    assert run(["--datasets=BFCL/multi_turn_base,BFCL/parallel", "--format=sharegpt", "--out", str(out)],
               bfcl_store).exit_code == 0
    info = json.loads((out / "dataset_info.json").read_text())
    (entry,) = info.values()
    assert entry["file_name"] == "train.jsonl" and entry["formatting"] == "sharegpt"
    written = rows(out / "train.jsonl")
    assert written
    for row in written:
        turns = row["conversations"]
        assert len(turns) % 2 == 0
        for k, turn in enumerate(turns):
            assert turn["from"] in (("human", "observation") if k % 2 == 0 else ("gpt", "function_call"))
        assert isinstance(json.loads(row["tools"]), list)
    parallel = [r for r in written if isinstance(json.loads(r["conversations"][1]["value"]), list)]
    assert parallel  # a wave of parallel calls is one function_call turn holding a list


def test_val_split_is_deterministic_and_bad_lines_are_counted(tmp_path):
    source = tmp_path / "in.jsonl"
    lines = [json.dumps(CASES[c], ensure_ascii=False) for c in CASES] * 1 + ["{not json"]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    outs = []
    for name, seed in (("a", 1), ("b", 1), ("c", 2)):
        result = run([f"--datasets={source}", "--model=Qwen3", "--val-size=2", f"--seed={seed}",
                      "--tool-changes=union", "--out", str(tmp_path / name)])
        assert result.exit_code == 0, result.output
        outs.append([r["id"] for r in rows(tmp_path / name / "val.jsonl")])
    assert outs[0] == outs[1] and len(outs[0]) == 2
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    # the line that is not JSON is rejected (with its location) by the input check, before rendering
    assert manifest["inputs"][0]["mix"]["removed_ids"]["reject"] == [f"{source}:{len(lines)}"]
    assert manifest["counts"]["in"] == len(lines) and manifest["counts"]["train"] == len(CASES) - 2
    # ...and is skipped by prepare too: every input line is written or in skipped.jsonl with its reason
    skipped = [json.loads(line) for line in (tmp_path / "a" / "skipped.jsonl").read_text("utf-8").splitlines()]
    assert [s["detail"].split(": ")[0] for s in skipped if s["reason"] == "unreadable"] == [f"{source}:{len(lines)}"]


def test_evaluation_data_is_refused_without_allow_eval(bfcl_store, tmp_path):
    result = CliRunner().invoke(trainer, ["prepare", "-q", "--data-dir", str(bfcl_store.root), "--datasets=BFCL",
                                          "--out", str(tmp_path / "x")])
    assert result.exit_code == 2 and "evaluation data" in result.output and "--allow-eval" in result.output
    assert not (tmp_path / "x").exists()
    allowed = run(["--datasets=BFCL/parallel", "--out", str(tmp_path / "y")], bfcl_store)
    assert allowed.exit_code == 0 and "TRAINING ON EVALUATION DATA" in allowed.output
    manifest = json.loads((tmp_path / "y" / "manifest.json").read_text())
    assert "TRAINING ON EVALUATION DATA" in json.dumps(manifest["inputs"][0]["mix"])


def test_chat_template_file_matches_builtin_and_probe_warns(bfcl_store, shared, tmp_path):
    template = shared / "chat_templates" / "Qwen2.5-Instruct.jinja"
    spec = "--datasets=BFCL/simple_python"
    assert run([spec, "--model=Qwen2.5", "--out", str(tmp_path / "b")], bfcl_store).exit_code == 0
    result = run([spec, f"--chat-template={template}", "--out", str(tmp_path / "j")], bfcl_store)
    assert result.exit_code == 0 and "warning" not in result.output
    assert rows(tmp_path / "b" / "train.jsonl") == rows(tmp_path / "j" / "train.jsonl")
    glm = run([spec, f"--chat-template={shared / 'chat_templates' / 'GLM-4-9B-Chat.jinja'}", "--out",
               str(tmp_path / "g")], bfcl_store)
    assert "drops tool calls" in glm.output and "does not show the tools" in glm.output


def test_clear_errors(bfcl_store, tmp_path):
    result = run(["--datasets=BFCL", "--model=nope", "--out", str(tmp_path / "x")], bfcl_store)
    assert result.exit_code == 2 and "no built-in renderer" in result.output
    result = run(["--datasets=NOPE", "--out", str(tmp_path / "x")], bfcl_store)
    assert result.exit_code == 2 and "neither a JSONL file" in result.output


def test_template_options_reach_the_renderer_and_the_manifest(bfcl_store, tmp_path):
    """--template-option sets a built-in's option (here gpt-oss's reasoning effort, printed in its system
    header); an unknown key is refused naming the keys the model accepts."""
    spec = "--datasets=BFCL/simple_python"
    assert run([spec, "--model=gpt-oss", "--out", str(tmp_path / "d")], bfcl_store).exit_code == 0
    result = run([spec, "--model=gpt-oss", "--template-option", "reasoning_effort=high",
                  "--out", str(tmp_path / "h")], bfcl_store)
    assert result.exit_code == 0, result.output
    default, high = rows(tmp_path / "d" / "train.jsonl")[0]["text"], rows(tmp_path / "h" / "train.jsonl")[0]["text"]
    assert "Reasoning: medium" in default and "Reasoning: high" in high
    manifest = json.loads((tmp_path / "h" / "manifest.json").read_text())
    assert manifest["renderer"]["options"] == {"reasoning_effort": "high"}
    refused = run([spec, "--model=Qwen2.5", "--template-option", "enable_thinking=false",
                   "--out", str(tmp_path / "x")], bfcl_store)
    assert refused.exit_code == 2 and "Qwen2.5 has no template option enable_thinking" in refused.output
    thinking = run([spec, "--model=Qwen3", "--template-option", "enable_thinking=false",
                    "--out", str(tmp_path / "q")], bfcl_store)
    assert thinking.exit_code == 0 and json.loads((tmp_path / "q" / "manifest.json").read_text())[
        "renderer"]["options"] == {"enable_thinking": False}
    malformed = run([spec, "--model=Qwen3", "--template-option", "enable_thinking", "--out", str(tmp_path / "m")],
                    bfcl_store)
    assert malformed.exit_code == 2 and "KEY=VALUE" in malformed.output
