"""`benchmark run` against a small OpenAI-compatible server on 127.0.0.1 that replays BFCL's answers."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner

from opentoollab.benchmark_run import Client, ClientError
from opentoollab.cli.benchmark import benchmark
from opentoollab.jsonl import write_samples
from opentoollab.scoring import item_of
from opentoollab.scoring.multi_turn import truth_turns
from opentoollab.scoring.parity import gold_calls


class Replay:
    """Answers keyed by the conversation's user messages; ``wrong`` renames every call."""

    def __init__(self) -> None:
        self.answers: dict[tuple, list[dict]] = {}
        self.fail_next = 0
        self.wrong = False
        self.requests = 0

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

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            replay.requests += 1
            if self.path != "/v1/chat/completions":
                self.send_response(404)
                self.end_headers()
                return
            if replay.fail_next:
                replay.fail_next -= 1
                self.send_response(503)
                self.end_headers()
                self.wfile.write(b"busy")
                return
            data = json.dumps({"choices": [{"index": 0, "message": replay.reply(body)}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield replay, f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()


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


def _inputs(bfcl_samples, replay, tmp_path):
    chosen = (bfcl_samples["simple_python"][:15] + bfcl_samples["parallel"][:8] + bfcl_samples["irrelevance"][:6]
              + bfcl_samples["multi_turn_base"][:3] + bfcl_samples["multi_turn_miss_func"][:2])
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
                                            "--data-dir", str(bfcl_store.root)])
    assert result.exit_code == 2 and "renderers" in result.output
