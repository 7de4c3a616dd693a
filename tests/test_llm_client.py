"""The LLM client, the tolerant JSON reader and the step cache (opentoollab.llm), against a real local server."""

from __future__ import annotations

import json
import threading
import time
import urllib.request

import pytest

from openai_server import serve
from opentoollab.llm import Client, ClientError, ParseError, StepCache, content_key, parse_json
from opentoollab.llm.client import Refusal, parse_reply


def completion(content: str | None = "ok", *, usage=(10, 5), **message) -> dict:
    return {"choices": [{"index": 0, "message": {"role": "assistant", "content": content, **message},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": usage[0], "completion_tokens": usage[1]}}


def scripted(answers: list):
    """A server answering from a list (status, payload) in order; records the bodies it got."""
    bodies: list[dict] = []
    lock = threading.Lock()

    def answer(path, body):
        with lock:
            bodies.append(body)
            return answers[min(len(bodies), len(answers)) - 1]

    return answer, bodies


# ---------------------------------------------------------------------------------- tolerant JSON
@pytest.mark.parametrize("text, expected", [
    ('{"a": 1}', {"a": 1}),
    ('Sure! Here it is:\n```json\n{"a": [1, 2]}\n```\nAnything else?', {"a": [1, 2]}),
    ('The answer is {"a": {"b": "}"}} as requested.', {"a": {"b": "}"}}),
    ('{"a": [1, 2,], "b": {"c": 3,},}', {"a": [1, 2], "b": {"c": 3}}),
    ("{'a': True, 'b': None}", {"a": True, "b": None}),
    ('{"ok": True, "none": None}', {"ok": True, "none": None}),
    ('<think>maybe {"wrong": 1}</think>\n{"right": 2}', {"right": 2}),
    ('```\n[1, 2, 3]\n```', [1, 2, 3]),
])
def test_parse_json_reads_what_models_write(text, expected):
    assert parse_json(text) == expected


def test_parse_json_says_what_is_wrong():
    with pytest.raises(ParseError, match="truncated"):
        parse_json('{"a": [1, 2')
    with pytest.raises(ParseError, match="no JSON value"):
        parse_json("I think the scenario is a bank.")
    with pytest.raises(ParseError, match="expected a JSON object"):
        parse_json("[1, 2]", "object")
    with pytest.raises(ParseError, match="empty"):
        parse_json("   ")
    # a string containing a comma before a bracket is not "repaired"
    assert parse_json('{"a": "x, ]"}') == {"a": "x, ]"}


def test_refusals_are_told_apart_from_bad_json():
    from opentoollab.llm.client import Reply

    with pytest.raises(Refusal):
        parse_reply(Reply("I'm sorry, but I can't help with that."))
    with pytest.raises(Refusal):
        parse_reply(Reply("", refusal="policy"))
    with pytest.raises(ParseError, match="max_tokens"):
        parse_reply(Reply('{"a": "long', finish_reason="length"))


# ---------------------------------------------------------------------------------- client
def test_retries_with_exponential_backoff_then_succeeds():
    answer, bodies = scripted([(500, {"error": "busy"}), (503, {"error": "busy"}), (200, completion("fine"))])
    slept: list[float] = []
    with serve(answer) as url:
        client = Client(url, "m", retries=3, backoff=0.5, sleep=slept.append)
        reply = client.chat([{"role": "user", "content": "hi"}])
    assert reply.content == "fine"
    assert slept == [0.5, 1.0]
    stats = client.stats()
    assert (stats["requests"], stats["http_requests"], stats["retries"], stats["failures"]) == (1, 3, 2, 0)
    assert len(bodies) == 3


def test_gives_up_after_retries_and_does_not_retry_client_errors():
    answer, bodies = scripted([(500, {"error": "down"})])
    with serve(answer) as url:
        client = Client(url, "m", retries=2, sleep=lambda s: None)
        with pytest.raises(ClientError, match="gave up after 3 attempts") as info:
            client.chat([{"role": "user", "content": "hi"}])
    assert info.value.kind == "http" and len(bodies) == 3
    answer, bodies = scripted([(404, {"error": "no such model"})])
    with serve(answer) as url:
        client = Client(url, "m", retries=5, sleep=lambda s: None)
        with pytest.raises(ClientError) as info:
            client.chat([{"role": "user", "content": "hi"}])
    assert info.value.status == 404 and len(bodies) == 1 and client.stats()["failures"] == 1


def test_retry_after_header_is_honoured(monkeypatch):
    import urllib.error
    from email.message import Message

    calls = []

    def fake_urlopen(request, timeout):
        calls.append(1)
        if len(calls) == 1:
            headers = Message()
            headers["Retry-After"] = "7"
            raise urllib.error.HTTPError(request.full_url, 429, "slow down", headers, None)
        return _Response(completion("ok"))

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    slept: list[float] = []
    client = Client("http://x/v1", "m", retries=2, sleep=slept.append)
    assert client.chat([{"role": "user", "content": "hi"}]).content == "ok"
    assert slept == [7.0]


class _Response:
    def __init__(self, payload):
        self.data = json.dumps(payload).encode()

    def read(self):
        return self.data

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_timeouts_and_garbage_bodies_are_classified():
    def slow(path, body):
        time.sleep(0.4)
        return 200, completion("late")

    with serve(slow) as url:
        client = Client(url, "m", timeout=0.1, retries=1, sleep=lambda s: None)
        with pytest.raises(ClientError) as info:
            client.chat([{"role": "user", "content": "hi"}])
    assert info.value.kind == "timeout"
    with serve(lambda p, b: (200, b"<html>oops</html>")) as url:
        client = Client(url, "m", retries=1, sleep=lambda s: None)
        with pytest.raises(ClientError) as info:
            client.chat([{"role": "user", "content": "hi"}])
    assert info.value.kind == "malformed"


def test_structured_output_falls_back_and_remembers():
    bodies = []

    def answer(path, body):
        bodies.append(body)
        if "response_format" in body:
            return 400, {"error": "response_format is not supported"}
        return 200, completion('```json\n{"a": 1}\n```')

    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    with serve(answer) as url:
        client = Client(url, "m", sleep=lambda s: None)
        value, _ = client.chat_json([{"role": "user", "content": "a?"}], schema=schema)
        assert value == {"a": 1}
        assert [b.get("response_format", {}).get("type") for b in bodies] == ["json_schema", "json_object", None]
        bodies.clear()
        assert client.chat_json([{"role": "user", "content": "a?"}], schema=schema)[0] == {"a": 1}
    assert [b.get("response_format") for b in bodies] == [None]  # remembered: no second rejection
    assert client.stats()["response_format_fallbacks"] == 2 and client.stats()["structured_output"] == []


def test_a_bad_request_is_not_blamed_on_response_format():
    answer, bodies = scripted([(400, {"error": "context too long"})])
    with serve(answer) as url:
        client = Client(url, "m", sleep=lambda s: None)
        with pytest.raises(ClientError) as info:
            client.chat_json([{"role": "user", "content": "x"}])
    assert info.value.status == 400
    assert [b.get("response_format", {}).get("type") for b in bodies] == ["json_object", None]
    assert client.stats()["structured_output"] == ["json_schema", "json_object"]  # nothing remembered


def test_json_schema_is_sent_when_accepted():
    answer, bodies = scripted([(200, completion('{"a": 2}'))])
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}
    with serve(answer) as url:
        value, _ = Client(url, "m").chat_json([{"role": "user", "content": "a?"}], schema=schema)
    assert value == {"a": 2}
    assert bodies[0]["response_format"] == {"type": "json_schema",
                                            "json_schema": {"name": "answer", "schema": schema, "strict": False}}


def test_tokens_and_cost_are_accounted():
    answer, _ = scripted([(200, completion("x", usage=(1000, 250)))])
    with serve(answer) as url:
        client = Client(url, "m", prices=(2.0, 8.0))
        for _ in range(4):
            client.chat([{"role": "user", "content": "hi"}])
    stats = client.stats()
    assert (stats["prompt_tokens"], stats["completion_tokens"], stats["total_tokens"]) == (4000, 1000, 5000)
    assert stats["cost"] == {"amount": 0.016, "per_1m_input": 2.0, "per_1m_output": 8.0}


def test_concurrency_is_bounded_and_urls_are_balanced():
    state = {"now": 0, "max": 0}
    lock = threading.Lock()
    hits: dict[str, int] = {}

    def make(name):
        def answer(path, body):
            with lock:
                state["now"] += 1
                state["max"] = max(state["max"], state["now"])
                hits[name] = hits.get(name, 0) + 1
            time.sleep(0.03)
            with lock:
                state["now"] -= 1
            return 200, completion("ok")
        return answer

    with serve(make("a")) as url_a, serve(make("b")) as url_b:
        client = Client.from_options([f"{url_a},{url_b}"], "m", max_concurrency=3)
        threads = [threading.Thread(target=client.chat, args=([{"role": "user", "content": str(i)}],))
                   for i in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert 2 <= state["max"] <= 3
    assert hits["a"] >= 4 and hits["b"] >= 4 and hits["a"] + hits["b"] == 12
    assert [e["requests"] for e in client.stats()["endpoints"]] == [hits["a"], hits["b"]]


def test_api_key_is_sent_but_never_shown(monkeypatch):
    seen = []

    def fake_urlopen(request, timeout):
        seen.append(request.get_header("Authorization"))
        return _Response(completion("ok"))

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env-123")
    client = Client(["http://user:pw@host:8000"], "m")
    client.chat([{"role": "user", "content": "hi"}])
    assert seen == ["Bearer sk-from-env-123"]
    shown = repr(client) + json.dumps(client.info()) + json.dumps(client.stats())
    assert "sk-from-env" not in shown and "pw@" not in shown and "http://host:8000/v1" in shown
    explicit = Client("http://h/v1", "m", api_key="sk-explicit")
    explicit.chat([{"role": "user", "content": "hi"}])
    assert seen[-1] == "Bearer sk-explicit"


# ---------------------------------------------------------------------------------- cache
def test_content_key_is_canonical_and_sensitive():
    assert content_key({"a": 1, "b": [1, 2]}) == content_key({"b": [1, 2], "a": 1})
    assert content_key({"a": 1}) != content_key({"a": 1.5})
    assert content_key("x", 1) != content_key("x", "1")


def test_cache_stores_outputs_failures_and_answers(tmp_path):
    path = tmp_path / "c.sqlite"
    with StepCache(path) as cache:
        assert cache.get_outputs("k") is None
        assert cache.put_failure("k", "s", "bad_json", "no JSON", "lol") == 1
        assert cache.put_failure("k", "s", "timeout", "slow") == 2
        assert cache.get_failure("k")["kind"] == "timeout"
        cache.put_answer("a1", "k", "s", {"content": "x"})
        cache.put_outputs("k", "s", [{"x": 1}])
        assert cache.get_failure("k") is None  # a success clears the failure
        assert cache.drop_answers("k") == 1 and cache.get_answer("a1") is None
    with StepCache(path) as cache:  # persisted
        assert cache.get_outputs("k") == [{"x": 1}]
        assert cache.counts() == {"outputs": 1, "failures": 0, "answers": 0}


def test_cache_is_safe_for_threads(tmp_path):
    with StepCache(tmp_path / "c.sqlite") as cache:
        def work(t):
            for i in range(50):
                cache.put_outputs(f"{t}-{i}", "s", [{"i": i}])
                assert cache.get_outputs(f"{t}-{i}") == [{"i": i}]

        threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert cache.counts()["outputs"] == 400
