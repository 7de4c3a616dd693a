"""`benchmark run` on BFCL's memory category: write phase (prerequisite conversations) then the question, in BFCL's
own memory backends from the pinned wheel, scored by BFCL's agentic check (and BFCL's own checker beside it).

A scripted OpenAI-compatible server on 127.0.0.1 plays the model: in the write phase it stores each sentence of
the user's messages that holds a fact it will be asked about (kv: ``core_memory_add``; rec_sum:
``memory_append``); asked the question, it reads its memory back through the backend's tool
(``core_memory_retrieve_all`` / ``memory_retrieve``) and answers with what the tool returned. So an answer is
right only if the memory written in phase 1 came through BFCL's backend into phase 2.
"""

from __future__ import annotations

import importlib
import json
import re
import threading
import zipfile

import pytest
from click.testing import CliRunner

from openai_server import serve
from opentoollab.benchmark.scoring.memory import standardize
from opentoollab.benchmark.scoring.parity import load_official
from opentoollab.cli.benchmark import benchmark
from opentoollab.format.jsonl import iter_samples
from wheel_support import fetched_store

pytest.importorskip("rank_bm25", reason="BFCL's memory backends: pip install -e '.[bfcl-memory]'")
pytest.importorskip("overrides", reason="BFCL's memory backends: pip install -e '.[bfcl-memory]'")

WRITE_PHASE = "You should actively manage your memory data"
SENTENCE = re.compile(r"[^.!?]*[.!?]")


@pytest.fixture(scope="module")
def store(bfcl_wheel, tmp_path_factory):
    return fetched_store(tmp_path_factory.mktemp("memrun"), bfcl_wheel, "BFCL-memory")


@pytest.fixture(scope="module")
def official(bfcl_wheel):
    load_official(bfcl_wheel)
    return importlib.import_module("bfcl_eval.eval_checker.agentic_eval.agentic_checker").agentic_checker


def _prereq_text(wheel, scenario: str) -> str:
    lines = zipfile.ZipFile(wheel).read(f"bfcl_eval/data/memory_prereq_conversation/memory_{scenario}.json").decode().splitlines()
    return "\n".join(m["content"] for line in lines if line.strip() for turn in json.loads(line)["question"] for m in turn)


def _fact(answers: list[str], text: str) -> str | None:
    """A sentence of ``text`` that holds one of the answers (BFCL's whole-word match), short enough to store."""
    for sentence in SENTENCE.findall(text):
        for answer in answers:
            if len(sentence) < 290 and re.search(rf"\b{re.escape(standardize(answer))}\b", standardize(sentence)):
                return sentence.strip()
    return None


@pytest.fixture(scope="module")
def picked(store, bfcl_wheel) -> list[list]:
    """Per backend, two questions of the 'student' scenario whose answer is stated in one sentence of its conversations."""
    text = _prereq_text(bfcl_wheel, "student")
    out = []
    for subset in ("memory_kv", "memory_rec_sum"):
        found = [s for s in iter_samples(store.processed_dir("BFCL-memory") / f"{subset}.jsonl")
                 if s[1]["content"]["bfcl_memory"]["scenario"] == "student" and _fact(s[1]["content"]["bfcl_memory"]["answers"], text)]
        out += found[:2]
    assert len(out) == 4
    return out


class Script:
    def __init__(self, facts: list[list[str]], remember: bool = True) -> None:
        self.facts, self.remember = facts, remember
        self.requests: list[dict] = []
        self.lock = threading.Lock()

    def answer(self, path: str, body: dict) -> tuple[int, dict]:
        with self.lock:
            self.requests.append(body)
        names = {t["function"]["name"] for t in body["tools"]}
        messages = body["messages"]
        last = messages[-1]
        kv = "core_memory_add" in names
        if "{'answer'" not in messages[0]["content"]:  # write phase (no answer-format prompt)
            if last["role"] != "user" or not self.remember:
                return _say("Noted.")
            facts = [f for answers in self.facts for f in [_fact(answers, last["content"])] if f]
            if not facts:
                return _say("Noted.")
            n = sum(1 for m in messages if m["role"] == "tool")
            call = ("core_memory_add", {"key": f"fact_{len(self.requests)}_{n}", "value": facts[0]}) if kv else \
                ("memory_append", {"text": facts[0] + "\n"})
            return _calls([call])
        if last["role"] == "user":  # the question: read the memory back
            return _calls([("core_memory_retrieve_all" if kv else "memory_retrieve", {})])
        return _say(json.dumps({"answer": last["content"], "context": "memory"}))


def _say(text: str) -> tuple[int, dict]:
    return 200, {"choices": [{"message": {"role": "assistant", "content": text}}]}


def _calls(calls: list[tuple[str, dict]]) -> tuple[int, dict]:
    return 200, {"choices": [{"message": {"role": "assistant", "content": None, "tool_calls": [
        {"id": f"c{n}", "type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}
        for n, (name, arguments) in enumerate(calls)]}}]}


def _run(store, picked, tmp_path, script, out="out"):
    data = tmp_path / "questions.jsonl"
    data.write_text("".join(json.dumps(s) + "\n" for s in picked), encoding="utf-8")
    with serve(script.answer) as url:
        return CliRunner().invoke(benchmark, ["run", "-d", str(data), "--model", "m", "--base-url", url, "-q", "-j", "2",
                                              "--out", str(tmp_path / out), "--data-dir", str(store.root)])


@pytest.mark.parametrize("remember", [True, False], ids=["remembers", "forgets"])
def test_write_phase_then_question_in_bfcls_backends(store, picked, tmp_path, official, bfcl_wheel, remember):
    script = Script([s[1]["content"]["bfcl_memory"]["answers"] for s in picked], remember)
    result = _run(store, picked, tmp_path, script)
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    lines = {line["id"]: line for line in map(json.loads, (out / "predictions.jsonl").read_text().splitlines())}
    rows = {row["sample_id"]: row for row in map(json.loads, (out / "results.jsonl").read_text().splitlines())}
    for sample in picked:
        sid, answers = sample[0]["content"], sample[1]["content"]["bfcl_memory"]["answers"]
        assert rows[sid]["valid"] is remember, (sid, lines[sid])
        assert official(lines[sid]["result"], answers)["valid"] is remember  # BFCL's own checker agrees
    prereqs = len(zipfile.ZipFile(bfcl_wheel).read(
        "bfcl_eval/data/memory_prereq_conversation/memory_student.json").decode().strip().splitlines())
    for backend in ("kv", "rec_sum"):  # the write phase ran once per backend, every prerequisite conversation
        snapshot = json.loads((out / "memory" / backend / "student.json").read_text())
        assert len(snapshot["conversations"]) == prereqs
        assert bool(snapshot["memory"].get("core_memory") or snapshot["memory"].get("memory")) is remember
    questions = [b for b in script.requests if "{'answer'" in b["messages"][0]["content"]]
    assert all(b["messages"][0]["content"].startswith("You are an academic-support assistant") for b in questions)
    # the question phase sees the written memory in its system prompt, as BFCL puts it there
    assert all(("There is no content" in b["messages"][0]["content"]) is not remember for b in questions)
    before = len(script.requests)
    again = _run(store, picked, tmp_path, script)
    assert again.exit_code == 0 and len(script.requests) == before  # resumed: nothing asked again


def test_write_phase_resumes_from_its_snapshot(store, picked, tmp_path):
    script = Script([s[1]["content"]["bfcl_memory"]["answers"] for s in picked])
    assert _run(store, picked[:1], tmp_path, script).exit_code == 0
    written = sum(1 for b in script.requests if "{'answer'" not in b["messages"][0]["content"])
    (tmp_path / "out" / "predictions.jsonl").unlink()  # the answers go, the kv snapshot stays
    script.requests.clear()
    assert _run(store, picked[1:2], tmp_path, script).exit_code == 0
    assert written > 0 and all("{'answer'" in b["messages"][0]["content"] for b in script.requests)
