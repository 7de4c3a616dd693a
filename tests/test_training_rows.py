"""Training rows that loaders give back unchanged: HF datasets (JSON and parquet), one sharegpt schema,
ids on every row, trailing context dropped and counted, step records kept by near dedup."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from opentoollab.format.jsonl import write_samples
from opentoollab.trainer.dedup import NearDeduper, step_key, user_turns
from opentoollab.trainer.prepare import Options, prepare, text_arguments_accepted
from opentoollab.trainer.render import get_renderer
from opentoollab.trainer.render.jinja import JinjaTemplate


def _rows(path: Path) -> list:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def _prepare(samples, model: str, out: Path, **options) -> dict:
    renderer = get_renderer(model)
    return prepare(samples, renderer, out, Options(**options), renderer_info={"name": renderer.name}, progress=False)


@pytest.fixture(scope="module")
def corpus(bfcl_samples, slice_samples) -> list:
    """All of BFCL and the real API-Bank slice (the corpora the issue measured)."""
    return [s for subset in bfcl_samples.values() for s in subset] + slice_samples["API-Bank"]


def _dataset(path: Path, cache: Path, kind: str = "json"):
    import datasets

    return datasets.load_dataset(kind, data_files=str(path), split="train", cache_dir=str(cache))


def _load(path: Path, cache: Path, kind: str = "json") -> list:
    return [dict(row) for row in _dataset(path, cache, kind)]


@pytest.mark.parametrize("model,arguments", [("Qwen3", "auto"), ("Hermes-3", "auto"), ("Qwen2.5", "text")])
def test_messages_rows_come_back_unchanged_from_json_and_parquet(model, arguments, corpus, shared, tmp_path):
    manifest = _prepare(corpus, model, tmp_path / "m", format="messages", arguments=arguments)
    assert manifest["options"]["arguments"] == "text"
    written = _rows(tmp_path / "m" / "train.jsonl")
    assert len(written) == manifest["counts"]["out"] > 2000
    dataset = _dataset(tmp_path / "m" / "train.jsonl", tmp_path / "cache")
    loaded = [dict(row) for row in dataset]
    assert sum(a != b for a, b in zip(written, loaded)) == 0 and len(loaded) == len(written)
    dataset.to_parquet(str(tmp_path / "m.parquet"))  # the parquet path: saved by datasets, read back
    again = _load(tmp_path / "m.parquet", tmp_path / "cache", "parquet")
    assert sum(a != b for a, b in zip(written, again)) == 0 and len(again) == len(written)
    if arguments == "auto":  # the official template prints the JSON text exactly as the text rows hold it
        _prepare(corpus, model, tmp_path / "t")
        renderer = get_renderer(model)
        template = JinjaTemplate((shared / "chat_templates" / renderer.template_file).read_text(), renderer.special_tokens)
        for text, row in list(zip(_rows(tmp_path / "t" / "train.jsonl"), written))[::7]:
            assert row["id"] == text["id"]
            tools = json.loads(row["tools"]) if row["tools"] else None  # what TRL does with a string
            assert template.render(row["messages"], tools) == text["text"]


@pytest.mark.parametrize("model", ["Qwen2.5", "Llama-3.1", "Mistral-v0.3"])
def test_object_arguments_rows_that_hf_datasets_would_change_are_skipped_and_counted(model, corpus, tmp_path):
    """Templates that print arguments with tojson need objects; HF datasets re-parses floats in them. With the
    default every written row loads back unchanged and every row it would change is a counted skip; written anyway
    (--no-hf-safe) exactly those rows change."""
    manifest = _prepare(corpus, model, tmp_path / "m", format="messages")
    assert manifest["options"]["arguments"] == "object" and manifest["options"]["hf_safe"] is True
    written = _rows(tmp_path / "m" / "train.jsonl")
    loaded = _load(tmp_path / "m" / "train.jsonl", tmp_path / "cache")
    assert len(loaded) == len(written) and sum(a != b for a, b in zip(written, loaded)) == 0
    unsafe = manifest["counts"]["skipped_by_reason"].get("hf_datasets_float", 0)
    assert unsafe > 0  # BFCL's permittivities (8.854e-12 → 0.0) and the like
    skipped_ids = {json.loads(line)["id"] for line in (tmp_path / "m" / "skipped.jsonl").read_text("utf-8").splitlines()
                   if json.loads(line)["reason"] == "hf_datasets_float"}
    everything = _prepare(corpus, model, tmp_path / "all", format="messages", hf_safe=False)
    assert everything["counts"]["out"] == manifest["counts"]["out"] + unsafe
    rows = _rows(tmp_path / "all" / "train.jsonl")
    again = _load(tmp_path / "all" / "train.jsonl", tmp_path / "cache")
    assert {a["id"] for a, b in zip(rows, again) if a != b} == skipped_ids


def test_templates_that_quote_text_arguments_keep_objects():
    assert text_arguments_accepted(get_renderer("Qwen3")) and text_arguments_accepted(get_renderer("Hermes-3"))
    assert not text_arguments_accepted(get_renderer("Qwen2.5"))
    assert not text_arguments_accepted(get_renderer("Llama-3.1"))


def test_sharegpt_rows_have_one_schema_and_keep_text_beside_calls(corpus, tmp_path):
    manifest = _prepare(corpus, "Qwen2.5", tmp_path / "s", format="sharegpt")
    written = _rows(tmp_path / "s" / "train.jsonl")
    assert {tuple(row) for row in written} == {("id", "conversations", "system", "tools")}
    assert all(isinstance(row["system"], str) and isinstance(row["tools"], str) for row in written)
    with_text = [turn["value"] for row in written for turn in row["conversations"]
                 if turn["from"] == "function_call" and not turn["value"].startswith(("{", "["))]
    assert len(with_text) >= 50  # API-Bank's assistant text written with its call
    for value in with_text:
        text, _, calls = value.partition("\n<tool_call>")
        assert text and calls.endswith("</tool_call>") and json.loads(calls[:-len("</tool_call>")])
    assert _load(tmp_path / "s" / "train.jsonl", tmp_path / "cache") == written
    assert manifest["counts"]["in"] == manifest["counts"]["out"] + manifest["counts"]["skipped"]


PARALLEL = [{"role": "id", "content": "mine_parallel_0"},
            {"role": "candidate_tools", "content": [{"name": "weather", "description": "Weather of a city.", "parameters": {
                "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]},
            {"role": "user", "content": "Weather in Paris and Rome?"},
            {"role": "assistant", "content": "Let me look both up."},
            {"role": "tool_call", "content": [{"name": "weather", "parameters": {"city": "Paris"}},
                                              {"name": "weather", "parameters": {"city": "Rome"}}]},
            {"role": "tool_response", "content": {"weather.0": {"temp": 21.5}, "weather.1": "sunny"}},
            {"role": "assistant", "content": "Paris 21.5°C, Rome sunny."}]


@pytest.mark.parametrize("model,observation", [
    ("Qwen2.5", '{"temp": 21.5}\n</tool_response>\n<tool_response>\nsunny'),
    ("Llama-3.1", None), ("Hermes-3", '["{\\"temp\\": 21.5}", "sunny"]')])
def test_sharegpt_parallel_results_are_one_observation(model, observation, tmp_path):
    manifest = _prepare([PARALLEL], model, tmp_path / "s", format="sharegpt")
    if observation is None:  # Llama 3.x cannot show parallel calls: skipped with the template's reason
        assert manifest["counts"]["skipped_by_reason"] == {"parallel_calls": 1}
        return
    (row,) = _rows(tmp_path / "s" / "train.jsonl")
    assert [t["from"] for t in row["conversations"]] == ["human", "function_call", "observation", "gpt"]
    call = row["conversations"][1]["value"]
    assert call.startswith("Let me look both up.\n<tool_call>[") and call.endswith("]</tool_call>")
    assert row["conversations"][2]["value"] == observation


def test_every_row_has_its_id_and_drawn_twice_gets_a_pointer(slice_samples, tmp_path):
    samples = slice_samples["API-Bank"][:20]
    doubled = samples + samples[:3] + samples[:1]
    for fmt in ("text", "messages", "sharegpt"):
        manifest = _prepare(doubled, "Qwen2.5", tmp_path / fmt, format=fmt)
        ids = [row["id"] for row in _rows(tmp_path / fmt / "train.jsonl")]
        assert len(ids) == len(set(ids)) == manifest["counts"]["out"]
        first = samples[0][0]["content"]
        if first in ids:
            assert f"{first}#2" in ids and f"{first}#3" in ids
        assert manifest["counts"]["copies"] == sum(1 for i in ids if "#" in i.rpartition("/")[2])


def test_trailing_context_is_dropped_and_counted(tmp_path):
    sample = [{"role": "id", "content": "mine_trail_0"},
              {"role": "candidate_tools", "content": [{"name": "ping", "description": "Ping.", "parameters": {"type": "object", "properties": {}}}]},
              {"role": "user", "content": "Ping it."},
              {"role": "tool_call", "content": [{"name": "ping", "parameters": {}}]},
              {"role": "tool_response", "content": {"ping.0": "pong"}},
              {"role": "assistant", "content": "It answered pong."},
              {"role": "user", "content": "Thanks!"}]
    source = tmp_path / "in.jsonl"
    write_samples(source, [sample])
    manifest = _prepare([sample], "Qwen2.5", tmp_path / "a")
    (row,) = _rows(tmp_path / "a" / "train.jsonl")
    assert row["text"].endswith("It answered pong.<|im_end|>\n") and "Thanks!" not in row["text"]
    assert manifest["counts"]["trailing_dropped"] == {"samples": 1, "messages": 1}
    manifest = _prepare([sample], "Qwen2.5", tmp_path / "b", keep_trailing=True)
    (row,) = _rows(tmp_path / "b" / "train.jsonl")
    assert "Thanks!" in row["text"] and manifest["counts"]["trailing_dropped"] == {"samples": 0, "messages": 0}


def test_near_dedup_keeps_step_records(slice_samples):
    """API-Bank lv3 step records share their user text and differ in the call or answer they teach."""
    steps = [s for s in slice_samples["API-Bank"] if "/lv3-train/" in s[0]["content"] or "lv3-train" in s[0]["content"]]
    assert len(steps) == 30

    def removed(grouped: bool) -> int:
        near = NearDeduper()
        return sum(near.check("\n".join(user_turns(s)), s[0]["content"], step_key(s) if grouped else None) is not None
                   for s in steps)

    assert removed(grouped=False) == 20  # user text alone: what a mix removed before
    assert removed(grouped=True) == 0
    twin = [dict(m) for m in steps[0]]
    twin[0] = {"role": "id", "content": "twin"}
    near = NearDeduper()
    near.check("\n".join(user_turns(steps[0])), "a", step_key(steps[0]))
    assert near.check("\n".join(user_turns(twin)), "b", step_key(twin)) is not None  # a true copy still goes


def test_trainer_ms_swift_skips_what_its_template_would_change_and_counts_it(corpus, tmp_path):
    """The ecosystem tier checks the written rows with ms-swift itself; here: each kind is found, counted, and gone."""
    plain = _prepare(corpus, "Qwen2.5", tmp_path / "any", format="messages", arguments="text")
    swift = _prepare(corpus, "Qwen2.5", tmp_path / "swift", format="messages", arguments="text", trainer="ms-swift")
    reasons = swift["counts"]["skipped_by_reason"]
    kinds = {k: reasons.get(k, 0) for k in ("swift_user_after_tool", "swift_merged_turns", "swift_text_beside_calls")}
    assert all(kinds.values()), kinds  # BFCL multi-turn, back-to-back turns, API-Bank's text beside calls
    assert swift["counts"]["out"] == plain["counts"]["out"] - sum(kinds.values())
    for row in _rows(tmp_path / "swift" / "train.jsonl"):
        messages = row["messages"]
        assert not any(a["role"] == "tool" and b["role"] == "user" for a, b in zip(messages, messages[1:]))
        assert not any(m["role"] == "assistant" and m.get("content") and m.get("tool_calls") for m in messages)
    assert swift["options"]["trainer"] == "ms-swift" and plain["options"]["trainer"] == "any"


def test_trainer_ms_swift_needs_the_messages_format(bfcl_store):
    from click.testing import CliRunner

    from opentoollab.cli import main

    result = CliRunner().invoke(main, ["trainer", "prepare", "--datasets=BFCL/parallel", "--allow-eval", "--trainer=ms-swift",
                                       "--data-dir", str(bfcl_store.root)])
    assert result.exit_code == 2 and "--format messages" in result.output
