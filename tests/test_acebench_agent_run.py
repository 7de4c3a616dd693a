"""`benchmark run` on ACEBench's agent items: ACEBench's inference loop in its own scenario classes, then its scorer.

A scripted OpenAI-compatible server on 127.0.0.1 plays the agent (it replays an item's milestone calls, one per
step, then says "finish conversation") and, for multi_turn, the simulated user. The same script also drives
ACEBench's *official* inference loop (``APIModelInference.multi_step_inference`` / ``multi_turn_inference``
imported from ../shared/benchmarks/ACEBench, its OpenAI client replaced by one that asks the script): both give
the same end state and process on every item, and ACEBench's ``agent_eval`` gives the verdict our scorer gives.
"""

from __future__ import annotations

import json
import re
import sys
import types
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapter_support import run as process_corpus
from openai_server import serve
from opentoollab.benchmark.loops.acebench import decode_calls
from opentoollab.cli.benchmark import benchmark
from opentoollab.datasets.sources import get_source
from opentoollab.datasets.store import Store

SUBSETS = ("en_agent_multi_step", "en_agent_multi_turn", "zh_agent_multi_step", "zh_agent_multi_turn")
STOP = "finish conversation"


@pytest.fixture(scope="module")
def ace(shared) -> Path:
    return shared / "benchmarks" / "ACEBench"


def downloaded(ace: Path, root: Path, subsets: list[str]) -> Store:
    """A data root as `datasets download ACEBench --from <reference copy>` + `process` leave it."""
    store = Store(root)
    get_source("ACEBench").fetch(store.raw_dir("ACEBench"), origin=str(ace))
    process_corpus("ACEBench", store.raw_dir("ACEBench"), root, subsets=subsets)
    return store


@pytest.fixture(scope="module")
def store(ace, tmp_path_factory) -> Store:
    return downloaded(ace, tmp_path_factory.mktemp("ace_agent"), list(SUBSETS))


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def items(ace) -> dict[str, list[tuple[dict, dict]]]:
    out = {}
    for subset in SUBSETS:
        language, category = subset.split("_", 1)
        folder = ace / "data_all" / f"data_{language}"
        out[subset] = list(zip(_lines(folder / f"data_{category}.json"),
                               _lines(folder / "possible_answer" / f"data_{category}.json")))
    return out


def _stones(answer: dict) -> list[str]:
    stones = answer["mile_stone"]
    return list(stones[0] if stones and isinstance(stones[0], list) else stones)


def spoiled(stones: list[str]) -> list[str]:
    """The last two calls with their first string argument changed (a call with none is dropped).

    Two, because ACEBench does not check every class: its expected ``ReminderAPI`` never matches the class
    ``ReminderApi``, so a wrong reminder alone still passes (officially and here)."""
    out = list(stones[:-2])
    for stone in stones[-2:]:
        changed, count = re.subn(r"=(['\"])[^'\"]*\1", "='zz-spoiled'", stone, count=1)
        out += [changed] if count else []
    return out


class Script:
    """Both sides of the conversation, keyed by what the prompts show (the item's question / the user's opening)."""

    def __init__(self, chosen: dict[str, list[tuple[dict, dict]]], spoil: bool = False) -> None:
        self.agent: dict[str, list[str]] = {}  # key in the dialogue text → the agent's replies
        self.users: dict[str, str] = {}  # instruction → the user's opening
        for subset, pairs in chosen.items():
            for entry, answer in pairs:
                stones = spoiled(_stones(answer)) if spoil else _stones(answer)
                # ACEBench asks each question twice (other initial states): the first item's calls serve both
                if "multi_turn" in subset:
                    opening = self.users.setdefault(entry["question"], f"Hello, I am calling about {subset}:{entry['id']}.")
                    self.agent.setdefault(opening, stones)
                else:
                    self.agent.setdefault(entry["question"], stones)

    def reply(self, messages: list[dict]) -> str:
        system = messages[0]["content"]
        user_side = next((q for q in self.users if q and q in system), None)
        if user_side is not None:
            return self.users[user_side] if len(messages) == 2 else STOP
        text = messages[-1]["content"]
        key = max((k for k in self.agent if k in text), key=len, default=None)
        if key is None:  # an item this script does not play
            return STOP
        done = text.count("\nexecution result:") + text.count("\nexecution:")
        stones = self.agent[key]
        return stones[done] if done < len(stones) else STOP

    def answer(self, path: str, body: dict):
        assert "tools" not in body  # ACEBench's API list is in the prompt
        return 200, {"choices": [{"message": {"role": "assistant", "content": self.reply(body["messages"])}}]}


@pytest.fixture(scope="module")
def official(ace, tmp_path_factory):
    """ACEBench's eval_main and APIModelInference; the OpenAI SDK is replaced by a client that asks ``Script``."""
    out = tmp_path_factory.mktemp("ace_official")

    class Client:
        script: Script | None = None

        def __init__(self, base_url=None, api_key=None):
            self.chat = types.SimpleNamespace(completions=types.SimpleNamespace(create=self.create))

        def create(self, messages, model, **_kwargs):
            content = Client.script.reply(messages)
            return types.SimpleNamespace(choices=[types.SimpleNamespace(message=types.SimpleNamespace(content=content))])

    saved = sys.modules.get("openai")
    sys.modules["openai"] = types.SimpleNamespace(OpenAI=Client)
    sys.path.insert(0, str(ace))
    try:
        import eval_main
        from model_inference.apimodel_inference import APIModelInference
    finally:
        sys.path.remove(str(ace))
        if saved is None:
            sys.modules.pop("openai", None)
        else:
            sys.modules["openai"] = saved
    eval_main.OUTPUT_PATH = str(out / "score")
    eval_main.convert_result_to_excel = lambda *args, **kwargs: None
    return types.SimpleNamespace(eval=eval_main, Inference=APIModelInference, Client=Client)


def _official_run(official, script: Script, subset: str, entry: dict, tag: str) -> tuple[list, list]:
    language, category = subset.split("_", 1)
    official.Client.script = script
    inference = official.Inference(f"gpt-{tag}-{language}", user_model="gpt-user", language=language)
    run = inference.multi_turn_inference if "multi_turn" in category else inference.multi_step_inference
    result, process = run(entry["question"], entry["initial_config"], entry["function"], entry["involved_classes"],
                          entry["id"].split("_")[-1], entry.get("time", ""))
    return json.loads(json.dumps(result)), process


def _run(store: Store, script: Script, out: Path, subsets=SUBSETS, extra=()) -> tuple[dict, dict]:
    with serve(script.answer) as url:
        result = CliRunner().invoke(benchmark, [
            "run", "-d", ",".join(f"ACEBench/{s}" for s in subsets), "--model", "replay", "--base-url", url,
            "--user-model", "simulated-user", "--out", str(out), "--data-dir", str(store.root), "-q", "-j", "2", "--retries", "0", *extra])
    predictions = {line["source_id"] + "@" + line["id"].split("_", 2)[1]: line for line in _lines(out / "predictions.jsonl")} \
        if (out / "predictions.jsonl").is_file() else {}
    rows = {row["source_id"] + "@" + row["category"].split("/")[1].split("_")[0]: row
            for row in _lines(out / "results.jsonl")} if (out / "results.jsonl").is_file() else {}
    return {"result": result, "predictions": predictions}, rows


def _official_verdict(official, subset: str, entry: dict, answer: dict, state: list, process: list, tmp: Path) -> tuple:
    language, category = subset.split("_", 1)
    official.eval.language = language
    (tmp / "score_all" / f"score_{language}" / "m").mkdir(parents=True, exist_ok=True)
    return official.eval.agent_eval([{"id": entry["id"], "result": state, "process": process}], [entry], [answer],
                                    category, "m")


def test_every_item_runs_as_acebench_runs_it_and_gold_replays_score_1(store, items, official, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # ACEBench writes dialogue tables and score files below the working folder
    script = Script(items)
    run, rows = _run(store, script, tmp_path / "gold")
    assert run["result"].exit_code == 0, run["result"].output
    assert len(run["predictions"]) == sum(len(v) for v in items.values()) == 100
    mismatched, verdicts = [], []
    for subset, pairs in items.items():
        language = subset.split("_")[0]
        for entry, answer in pairs:
            key = f"{entry['id']}@{language}"
            mine = run["predictions"][key]
            state, process = _official_run(official, script, subset, entry, "gold")
            if (mine["result"], mine["process"]) != (state, process):
                mismatched.append((subset, entry["id"]))
            accuracy, process_accuracy = _official_verdict(official, subset, entry, answer, state, process, tmp_path)
            verdicts.append((subset, rows[key]["valid"], accuracy == 1))
    assert not mismatched, mismatched[:5]
    assert all(ours == theirs for _subset, ours, theirs in verdicts)
    right = {subset: sum(1 for s, ours, _ in verdicts if s == subset and ours) for subset in SUBSETS}
    # replays whose milestone calls all parse (many hold ``'Domino's'``) reach the expected end state
    assert all(count >= 2 for count in right.values()), right
    print(f"\nACEBench agent gold replays right {right}; ours = official on all 100 end states, processes, verdicts")
    summary = json.loads((tmp_path / "gold" / "summary.json").read_text())
    assert "agent_multi_step" in summary["acebench"]["en"]["categories"]
    assert "ACEBench (zh)" in run["result"].output


def test_a_spoiled_call_fails_as_acebench_judges_it(store, items, official, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    gold = Script(items)
    chosen = {}
    for subset, pairs in items.items():  # the first two items per subset whose gold replay is right (officially)
        right = [(e, a) for e, a in pairs if gold.agent.get(e["question"], gold.agent.get(gold.users.get(e["question"])))
                 == _stones(a) and _official_verdict(official, subset, e, a, *_official_run(official, gold, subset, e, "pick"),
                                                     tmp_path)[0] == 1]
        chosen[subset] = right[:2]
    assert all(len(v) == 2 for v in chosen.values())
    script = Script(chosen, spoil=True)
    run, rows = _run(store, script, tmp_path / "spoiled")
    failed = 0
    for subset, pairs in chosen.items():
        for entry, answer in pairs:
            key = f"{entry['id']}@{subset.split('_')[0]}"
            state, process = _official_run(official, script, subset, entry, "spoiled")
            mine = run["predictions"][key]
            assert (mine["result"], mine["process"]) == (state, process)
            accuracy, process_accuracy = _official_verdict(official, subset, entry, answer, state, process, tmp_path)
            assert not rows[key]["valid"] and accuracy == 0, (key, process)
            failed += 1
            assert round(rows[key]["process"], 3) == process_accuracy
    assert failed == 8


def test_the_prompts_are_acebenchs_own(store, items, tmp_path):
    seen = []
    script = Script(items)

    def answer(path, body):
        seen.append(body["messages"])
        return script.answer(path, body)

    with serve(answer) as url:
        result = CliRunner().invoke(benchmark, [
            "run", "-d", "ACEBench/zh_agent_multi_turn", "--model", "replay", "--base-url", url, "--user-model", "u",
            "--out", str(tmp_path / "p"), "--data-dir", str(store.root), "-q", "--limit", "1"])
    assert result.exit_code == 0, result.output
    user, agent = seen[0], seen[1]
    assert user[1] == {"role": "user", "content": "今天有什么需要帮助的吗？"} and "Instruction:" in user[0]["content"]
    assert agent[0]["content"].startswith("你是一个AI系统") and "对话历史1..t:\nuser:Hello, I am calling" in agent[1]["content"]
    entry = items["zh_agent_multi_turn"][0][0]
    assert str(entry["function"]) in agent[1]["content"]  # the API list as ACEBench's str.format writes it


def test_decoding_follows_acebench(tmp_path):
    assert decode_calls("[send_message(sender_name='Eve', n=1+2)]") == [("send_message", {"sender_name": "Eve", "n": 3}, None)]
    assert decode_calls(" a(x=f(y=1))")[0] == ("a", None, "name 'f' is not defined")  # ACEBench's nested call
    assert decode_calls("[m.b(x=1)]")[0] == ("b", None, "name 'm' is not defined")
    assert decode_calls("[abc]") == []
    with pytest.raises(ValueError):
        decode_calls("[f(x=1), 3]")
    with pytest.raises(ValueError):
        decode_calls("[f(x=__import__('os').system('true') + 1)]")  # never evaluated


def test_a_tampered_scenario_file_is_refused_and_multi_turn_needs_a_user(ace, items, tmp_path):
    root = tmp_path / "data"
    store = downloaded(ace, root, ["en_agent_multi_step", "en_agent_multi_turn"])
    scenarios = store.raw_dir("ACEBench") / "model_inference" / "multi_step" / "scenariosen"
    for target in scenarios.rglob("*.py"):  # whichever classes the first items involve: all are changed
        target.write_text(target.read_text("utf-8") + "\nimport os\n", "utf-8")
    script = Script(items)
    with serve(script.answer) as url:
        result = CliRunner().invoke(benchmark, [
            "run", "-d", "ACEBench/en_agent_multi_step,ACEBench/en_agent_multi_turn", "--model", "m", "--base-url", url,
            "--out", str(tmp_path / "t"), "--data-dir", str(root), "-q", "--limit", "4"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    failures = {f["id"]: f["error"] for f in json.loads((tmp_path / "t" / "run.json").read_text())["failures"]}
    assert len(failures) == 4
    step = [e for i, e in failures.items() if "multi_step" in i]
    turn = [e for i, e in failures.items() if "multi_turn" in i]
    assert step and all("refusing ACEBench's model_inference/multi_step/scenariosen/" in e and "sha256" in e
                        for e in step), step
    assert turn and all("--user-model" in e for e in turn)
