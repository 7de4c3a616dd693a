"""`benchmark run` against a small OpenAI-compatible server on 127.0.0.1 that replays BFCL's answers."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from openai_server import serve
from opentoollab.benchmark.run import Client, ClientError
from opentoollab.cli.benchmark import benchmark
from opentoollab.format.jsonl import write_samples
from opentoollab.benchmark.scoring import item_of
from opentoollab.benchmark.scoring.multi_turn import truth_turns
from opentoollab.benchmark.scoring.parity import gold_calls


RESULT_MARKERS = ("<tool_response>", "<|start_header_id|>ipython", "[TOOL_RESULTS]")


class Replay:
    """Answers keyed by the conversation's user messages; ``wrong`` renames every call.

    /v1/completions gets a rendered prompt: the conversation is recognised by the user messages in
    it, and the calls are written in the template family's own syntax (as the model would).
    """

    def __init__(self) -> None:
        self.answers: dict[tuple, list[dict]] = {}
        self.fail_next = 0
        self.wrong = False
        self.requests = 0
        self.completions: list[dict] = []

    def complete(self, body: dict) -> str:
        self.completions.append(body)
        prompt = body["prompt"]
        found = [key for key in self.answers if all(user.strip() in prompt for user in key)]
        key = max(found, key=len, default=None)
        if key is None or any(marker in prompt[prompt.rfind(key[-1].strip()):] for marker in RESULT_MARKERS):
            return "Done."
        calls = [{"name": ("wrong_" if self.wrong else "") + c["name"], "arguments": c["arguments"]} for c in self.answers[key]]
        if "<|im_start|>" in prompt:  # Qwen / Hermes
            return "".join(f'<tool_call>\n{json.dumps(c)}\n</tool_call>\n' for c in calls).rstrip("\n") + "<|im_end|>"
        if "<|start_header_id|>" in prompt:  # Llama 3.x JSON, parallel ones separated by '; '
            return "; ".join(json.dumps({"name": c["name"], "parameters": c["arguments"]}) for c in calls)
        return "[TOOL_CALLS] " + json.dumps(calls)  # Mistral

    def reply(self, body: dict) -> dict:
        messages = body["messages"]
        users = tuple(m["content"] for m in messages if m["role"] == "user")
        last_user = max(i for i, m in enumerate(messages) if m["role"] == "user")
        calls = self.answers.get(users)
        if calls is None or any(m["role"] == "assistant" for m in messages[last_user:]):
            return {"role": "assistant", "content": "Done."}
        sent = {t["function"]["name"].replace("_", "."): t["function"]["name"] for t in body.get("tools", [])}
        return {"role": "assistant", "content": None, "tool_calls": [
            {"id": f"c{i}", "type": "function", "function": {
                "name": ("wrong_" if self.wrong else "") + sent.get(c["name"].replace("_", "."), c["name"]),
                "arguments": json.dumps(c["arguments"])}} for i, c in enumerate(calls)]}


@pytest.fixture()
def server():
    replay = Replay()

    def answer(path: str, body: dict):
        replay.requests += 1
        if path not in ("/v1/chat/completions", "/v1/completions"):
            return 404, b""
        if replay.fail_next:
            replay.fail_next -= 1
            return 503, b"busy"
        if path == "/v1/completions":
            return 200, {"choices": [{"index": 0, "text": replay.complete(body)}]}
        return 200, {"choices": [{"index": 0, "message": replay.reply(body)}]}

    with serve(answer) as url:
        yield replay, url


def test_client_retries_with_backoff_then_gives_up(server):
    replay, url = server
    slept = []
    client = Client(url, "m", retries=3, backoff=0.5, sleep=slept.append)
    replay.fail_next = 2
    assert client.chat([{"role": "user", "content": "hi"}])["content"] == "Done."
    assert slept == [0.5, 1.0] and replay.requests == 3
    replay.fail_next = 10
    with pytest.raises(ClientError, match="gave up after 4 attempts"):
        client.chat([{"role": "user", "content": "hi"}])
    with pytest.raises(ClientError, match="HTTP 404"):
        Client(url.replace("/v1", "/nope"), "m", sleep=slept.append).chat([{"role": "user", "content": "x"}])


def _inputs(bfcl_samples, replay, tmp_path, multi_turn=True):
    chosen = (bfcl_samples["simple_python"][:15] + bfcl_samples["parallel"][:8] + bfcl_samples["irrelevance"][:6]
              + (bfcl_samples["multi_turn_base"][:3] + bfcl_samples["multi_turn_miss_func"][:2] if multi_turn else []))
    for sample in chosen:
        item = item_of(sample)
        users = [m["content"] for m in sample if m["role"] == "user"]
        if item.kind == "ast":
            replay.answers[tuple(users)] = gold_calls(item.functions, item.answers)
        elif item.kind == "multi_turn":
            for n, calls in enumerate(truth_turns(sample)):
                if calls:
                    replay.answers[tuple(users[: n + 1])] = [{"name": c["name"], "arguments": c["parameters"]} for c in calls]
    path = tmp_path / "chosen.jsonl"
    write_samples(path, chosen)
    return path, len(chosen)


def test_run_replaying_gold_answers_scores_full_marks_and_resumes(server, bfcl_samples, bfcl_store, tmp_path):
    replay, url = server
    path, n = _inputs(bfcl_samples, replay, tmp_path)
    out = tmp_path / "run"
    args = ["run", "--datasets", str(path), "--model", "replay", "--base-url", url, "-j", "4", "--out", str(out),
            "--data-dir", str(bfcl_store.root), "-q"]
    result = CliRunner().invoke(benchmark, args)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert len(lines) == n
    assert [line["id"] for line in lines] == [s[0]["content"] for s in map(json.loads, path.read_text().splitlines())]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["scored"] == n and summary["correct"] == n, summary["categories"]
    assert summary["categories"]["multi_turn_base"]["accuracy"] == 1.0
    assert "Multi-Turn Acc" in result.output and len((out / "results.jsonl").read_text().splitlines()) == n

    before = replay.requests
    again = CliRunner().invoke(benchmark, args)
    assert again.exit_code == 0 and replay.requests == before  # everything was already predicted
    assert json.loads((out / "run.json").read_text())["skipped"] == n


def test_run_with_wrong_answers_scores_them_wrong(server, bfcl_samples, bfcl_store, tmp_path):
    replay, url = server
    path, n = _inputs(bfcl_samples, replay, tmp_path)
    replay.wrong = True
    out = tmp_path / "wrong"
    result = CliRunner().invoke(benchmark, ["run", "-d", str(path), "--model", "replay", "--base-url", url,
                                            "--out", str(out), "--data-dir", str(bfcl_store.root), "-q"])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    categories = summary["categories"]
    assert categories["simple_python"]["correct"] == 0 and categories["parallel"]["correct"] == 0
    assert categories["multi_turn_base"]["correct"] == 0
    assert categories["irrelevance"]["correct"] == 6  # the server answers irrelevance items with text


def test_run_explains_missing_server_and_vllm(bfcl_store):
    result = CliRunner().invoke(benchmark, ["run", "-d", "BFCL", "--model", "x", "--data-dir", str(bfcl_store.root)])
    assert result.exit_code == 2 and "--base-url" in result.output
    result = CliRunner().invoke(benchmark, ["run", "-d", "BFCL", "--mode", "prompt", "--base-url", "http://127.0.0.1:9/v1",
                                            "--model", "my-finetune", "--data-dir", str(bfcl_store.root)])
    assert result.exit_code == 2 and "give --renderer" in result.output and "Qwen2.5" in result.output
    result = CliRunner().invoke(benchmark, ["run", "-d", "BFCL", "--mode", "prompt", "--renderer", "gpt-17",
                                            "--base-url", "http://127.0.0.1:9/v1", "--data-dir", str(bfcl_store.root)])
    assert result.exit_code == 2 and "'gpt-17' is not a built-in" in result.output


@pytest.mark.parametrize("model", ["Qwen/Qwen2.5-7B-Instruct", "Llama-3.1", "Mistral-v0.3", "Hermes-3"])
def test_prompt_mode_sends_the_official_prompt_and_reads_each_familys_calls(model, server, bfcl_samples, bfcl_store,
                                                                            tmp_path, shared):
    from opentoollab.trainer.render import get_renderer, to_chat
    from opentoollab.trainer.render.jinja import JinjaTemplate

    replay, url = server
    # Llama's template refuses parallel calls in the history, so its multi-turn conversations cannot go on
    path, n = _inputs(bfcl_samples, replay, tmp_path, multi_turn=not model.startswith("Llama"))
    out = tmp_path / "prompt"
    args = ["run", "-d", str(path), "--mode", "prompt", "--model", model, "--base-url", url, "-j", "3",
            "--out", str(out), "--data-dir", str(bfcl_store.root), "-q"]
    result = CliRunner().invoke(benchmark, args)
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["scored"] == n and summary["correct"] == n, summary["categories"]
    renderer = get_renderer(model)
    assert json.loads((out / "run.json").read_text())["renderer"] == renderer.name

    # what the server got is the official template's text with add_generation_prompt=True
    template = JinjaTemplate((shared / "chat_templates" / renderer.template_file).read_text("utf-8"), renderer.special_tokens)
    sample = bfcl_samples["simple_python"][3]
    end = next(i for i, m in enumerate(sample) if m["role"] == "tool_call_ground_truth")
    chat = to_chat(sample[:end])
    expected = template.render(chat.messages, chat.tools, add_generation_prompt=True)
    bodies = [b for b in replay.completions if b["prompt"] == expected]
    assert len(bodies) == 1 and bodies[0]["stop"] == list(renderer.stop) and bodies[0]["max_tokens"] > 16
    if not model.startswith("Llama"):  # multi-turn: results went back inside the prompt as the template shows them
        markers = {"Qwen2.5": "<tool_response>\n", "Mistral-v0.3": '[TOOL_RESULTS] {"content": ', "Hermes-3": "<|im_start|>tool\n"}
        assert any(markers[renderer.name] in b["prompt"] and b["prompt"].endswith(renderer.generation_prompt)
                   for b in replay.completions)


def test_prompt_mode_scores_wrong_calls_wrong(server, bfcl_samples, bfcl_store, tmp_path):
    replay, url = server
    path, n = _inputs(bfcl_samples, replay, tmp_path)
    replay.wrong = True
    out = tmp_path / "prompt-wrong"
    result = CliRunner().invoke(benchmark, ["run", "-d", str(path), "--mode", "prompt", "--renderer", "qwen3",
                                            "--base-url", url, "--out", str(out), "--data-dir", str(bfcl_store.root), "-q"])
    assert result.exit_code == 0, result.output
    categories = json.loads((out / "summary.json").read_text())["categories"]
    assert categories["simple_python"]["correct"] == 0 and categories["parallel"]["correct"] == 0
    assert categories["multi_turn_base"]["correct"] == 0 and categories["irrelevance"]["correct"] == 6


def test_client_complete_retries_and_reads_text(server):
    replay, url = server
    slept = []
    client = Client(url, "m", retries=2, backoff=0.25, sleep=slept.append)
    replay.fail_next = 1
    assert client.complete("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n", ("<|im_end|>",)) == "Done."
    assert slept == [0.25] and replay.completions[-1]["add_special_tokens"] is False


@pytest.mark.parametrize("arguments", ["[" * 100_000 + "]" * 100_000, '{"n": ' + "9" * 5000 + "}", "{not json"],
                         ids=["nested_100k_deep", "integer_of_5000_digits", "not_json"])
def test_a_reply_with_arguments_that_cannot_be_read_keeps_them_as_text(arguments):
    """A server's reply whose arguments are too deep, too large or not JSON is scored (as a wrong format), not a crash."""
    from opentoollab.benchmark.run import ToolNames, reply_calls

    (call,) = reply_calls({"tool_calls": [{"function": {"name": "f", "arguments": arguments}}]}, ToolNames([]))
    assert call["arguments"] == arguments
