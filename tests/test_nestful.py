"""NESTFUL and ComplexFuncBench from the pinned nestful-wrapper wheel: adapters, links, and the sequence metrics."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from adapter_support import by_role
from opentoollab.benchmark.scoring.items import item_of
from opentoollab.benchmark.scoring.nestful import sequence_scores
from opentoollab.benchmark.scoring.score import Prediction, score, score_item
from opentoollab.datasets.sources import FetchError, get_source
from opentoollab.datasets.sources.nestful import WHEEL
from opentoollab.datasets.store import Store, process
from opentoollab.format.jsonl import iter_samples
from wheel_support import fetched_store, pinned_wheel


@pytest.fixture(scope="module")
def wheel() -> Path:
    return pinned_wheel(WHEEL, "OPENTOOLLAB_NESTFUL_WHEEL")


@pytest.fixture(scope="module")
def store(wheel, tmp_path_factory) -> Store:
    return fetched_store(tmp_path_factory.mktemp("nestful"), wheel, "NESTFUL", "ComplexFuncBench")


def _samples(store, name, subset):
    return list(iter_samples(store.processed_dir(name) / f"{subset}.jsonl"))


def _raw(wheel, path):
    return json.loads(zipfile.ZipFile(wheel).read(f"data_v1/{path}"))


def test_every_sequence_converts_and_every_subset_is_an_evaluation_set(store):
    nestful, cfb = store.manifest("NESTFUL"), store.manifest("ComplexFuncBench")
    assert {s: (r["in"], r["out"], r["rejected"]) for s, r in nestful["subsets"].items()} == {
        "executable": (85, 85, 0), "glaive": (169, 169, 0), "sgd": (46, 46, 0)}
    assert cfb["subsets"]["test"]["in"] == cfb["subsets"]["test"]["out"] == 1000
    assert nestful["source"]["version"] == "nestful-wrapper 0.1.7"
    assert set(get_source("NESTFUL").evaluation_subsets) == {"executable", "glaive", "sgd"}
    assert get_source("complex-func-bench").evaluation_subsets == ("test",)


def test_references_become_links_and_depend_on(store, wheel):
    flights = _samples(store, "NESTFUL", "executable")[0]
    truth = by_role(flights, "tool_call_ground_truth")[0]["content"]
    assert [c["name"] for c in truth] == ["SkyScrapperSearchAirport", "SkyScrapperSearchAirport", "SkyScrapperFlightSearch",
                                          "TripadvisorSearchLocation", "TripadvisorSearchHotels"]
    assert truth[2]["parameters"]["originSkyId"] == ["<link>SkyScrapperSearchAirport.0.skyId</link>"]
    assert truth[2]["parameters"]["destinationEntityId"] == ["<link>SkyScrapperSearchAirport.1.entityId</link>"]
    assert truth[2]["depend_on"] == ["SkyScrapperSearchAirport.0", "SkyScrapperSearchAirport.1"]
    assert truth[4]["depend_on"] == ["TripadvisorSearchLocation.0"] and truth[0]["depend_on"] == []
    assert flights[1]["content"]["nestful"]["var_result"] == {"flights": "$var3$", "hotels": "$var5$"}
    assert by_role(flights, "user")[0]["content"].startswith("Find flights from New York to London")
    # a reference inside text, and a list index
    rate = by_role(_samples(store, "NESTFUL", "executable")[14], "tool_call_ground_truth")[0]["content"][1]
    assert rate["parameters"]["numbers"] == ["5 * <link>Alpha_Vantage_CURRENCY_EXCHANGE_RATE.0.Exchange Rate</link>"]
    books = by_role(_samples(store, "NESTFUL", "executable")[32], "tool_call_ground_truth")[0]["content"][1]
    assert books["parameters"]["authorID"] == ["<link>Goodreads_Search_Book_By_Keyword.0.author.0.id</link>"]
    # "$100-$200" is a price, not a reference
    price = by_role(_samples(store, "NESTFUL", "glaive")[147], "tool_call_ground_truth")[0]["content"][0]
    assert price["parameters"]["price_range"] == ["$100-$200"]
    tools = by_role(flights, "candidate_tools")[0]["content"]
    assert len(tools) == 39 and tools[0]["parameters"]["required"][:2] == ["originSkyId", "destinationSkyId"]
    car = by_role(_samples(store, "ComplexFuncBench", "test")[0], "tool_call_ground_truth")[0]["content"][1]
    assert car["parameters"]["pick_up_latitude"] == ["<link>Search_Car_Location.0.coordinates.latitude</link>"]


def test_gold_scores_full_marks_in_every_form(store, wheel):
    """NESTFUL's own output (labels), relabelled, and our link form all read as the same sequence."""
    files = {"executable": "executable/executable-data.json", "glaive": "non-executable/non-executable-glaive-data.json",
             "sgd": "non-executable/non-executable-sgd-data.json"}
    for subset, path in files.items():
        for index, (record, sample) in enumerate(zip(_raw(wheel, path), _samples(store, "NESTFUL", subset))):
            item = item_of(sample)
            relabelled = json.loads(json.dumps(record["output"]).replace("$var", "$step").replace('"label": "var', '"label": "step'))
            ours = [{"name": c["name"], "arguments": {k: v[0] for k, v in c["parameters"].items()}}
                    for c in by_role(sample, "tool_call_ground_truth")[0]["content"]]
            for value in ({"result": json.dumps(record["output"])}, {"calls": relabelled}, {"calls": ours},
                          {"result": "Here is the plan:\n" + json.dumps(record["output"], indent=2)}):
                result, _ = score_item(item, value)
                assert result["valid"] and set(result["scores"].values()) == {1.0}, (subset, index, value)


def test_metrics_on_hand_checked_sequences():
    a = ("search", {"q": "London"})
    b = ("book", {"id": "<link>search.0.id</link>", "n": 2})
    c = ("notify", {"to": "me", "ok": True})
    gold = [a, b, c]
    assert sequence_scores(gold, gold) == {"f1_function": 1.0, "f1_parameter": 1.0, "partial_sequence_accuracy": 1.0,
                                           "full_sequence_accuracy": 1.0}
    # last call dropped: names P=1 R=2/3 → F1 0.8; triples 3 of 5 → P=1 R=3/5 → 0.75; 2 of 3 calls
    assert sequence_scores([a, b], gold) == pytest.approx(
        {"f1_function": 0.8, "f1_parameter": 0.75, "partial_sequence_accuracy": 2 / 3, "full_sequence_accuracy": 0.0})
    # order swapped: every metric but the full sequence is perfect
    assert sequence_scores([a, c, b], gold) == pytest.approx(
        {"f1_function": 1.0, "f1_parameter": 1.0, "partial_sequence_accuracy": 1.0, "full_sequence_accuracy": 0.0})
    # an extra call: names P=3/4 R=1 → 6/7; triples P=5/6 R=1 → 10/11
    extra = ("log", {"msg": "x"})
    assert sequence_scores([a, b, c, extra], gold) == pytest.approx(
        {"f1_function": 6 / 7, "f1_parameter": 10 / 11, "partial_sequence_accuracy": 1.0, "full_sequence_accuracy": 0.0})
    # a broken reference (the right field of another call) and a wrong type: 3 of 5 triples, 1 of 3 calls
    wrong = [a, ("book", {"id": "<link>notify.0.id</link>", "n": 2}), ("notify", {"to": "me", "ok": 1})]
    assert sequence_scores(wrong, gold) == pytest.approx(
        {"f1_function": 1.0, "f1_parameter": 0.6, "partial_sequence_accuracy": 1 / 3, "full_sequence_accuracy": 0.0})
    # 2 == 2.0 is the same number; an empty prediction scores 0
    assert sequence_scores([a, ("book", {"id": "<link>search.0.id</link>", "n": 2.0}), c], gold)["full_sequence_accuracy"] == 1.0
    assert sequence_scores([], gold) == {"f1_function": 0.0, "f1_parameter": 0.0, "partial_sequence_accuracy": 0.0,
                                         "full_sequence_accuracy": 0.0}


def test_summary_averages_per_item_and_bad_answers_score_zero(store):
    samples = _samples(store, "NESTFUL", "sgd")[:4]
    gold = [[{"name": c["name"], "arguments": {k: v[0] for k, v in c["parameters"].items()}}
             for c in by_role(s, "tool_call_ground_truth")[0]["content"]] for s in samples]
    predictions = [Prediction("sgd_0", 1, {"id": "sgd_0", "calls": gold[0]}),
                   Prediction("sgd_1", 2, {"id": "sgd_1", "calls": gold[1][:1]}),
                   Prediction("sgd_2", 3, {"id": "sgd_2", "result": "I would search first, then book."}),
                   Prediction("sgd_3", 4, {"id": "sgd_3", "calls": list(reversed(gold[3]))})]
    rows, summary = score(samples, predictions)
    assert [r["valid"] for r in rows] == [True, False, False, len(gold[3]) == 1]
    assert rows[2]["error_type"] == "nestful:decoder_failed" and rows[2]["scores"]["f1_function"] == 0.0
    figures = summary["nestful"]["NESTFUL/sgd"]
    assert figures["items"] == 4 and figures["win_rate"].startswith("not scored offline")
    expected = sum(r["scores"]["partial_sequence_accuracy"] for r in rows) / 4
    assert figures["partial_sequence_accuracy"] == pytest.approx(expected)
    assert figures["full_sequence_accuracy"] == pytest.approx(sum(r["valid"] for r in rows) / 4)


def test_broken_records_are_rejected_and_the_wheel_is_checked(wheel, tmp_path):
    folder = tmp_path / "copy" / "data_v1" / "non-executable"
    folder.mkdir(parents=True)
    records = _raw(wheel, "non-executable/non-executable-sgd-data.json")[:3]
    records[0]["output"][1]["arguments"]["type"] = "$var7.type$"  # no call has that label
    records[1]["output"][0]["name"] = "NotInTheCatalogue"
    (folder / "non-executable-sgd-data.json").write_text(json.dumps(records), encoding="utf-8")
    (folder / "non-executable-sgd-spec.json").write_bytes(
        zipfile.ZipFile(wheel).read("data_v1/non-executable/non-executable-sgd-spec.json"))
    store = Store(tmp_path / "data")
    manifest = process(get_source("NESTFUL"), store, origin=tmp_path / "copy", progress=False)
    assert manifest["totals"] == {**manifest["totals"], "in": 3, "out": 1, "rejected": 2}
    reasons = [json.loads(line)["reason"] for line in (store.processed_dir("NESTFUL") / "rejects.jsonl").read_text().splitlines()]
    assert any("'$var7.type$' names no earlier call" in r for r in reasons)
    assert any("'NotInTheCatalogue', which the catalogue does not declare" in r for r in reasons)
    tampered = tmp_path / "wheels" / WHEEL
    tampered.parent.mkdir()
    shutil.copy(wheel, tampered)
    with open(tampered, "ab") as handle:
        handle.write(b"\0")
    with pytest.raises(FetchError, match="does not match the pinned"):
        get_source("NESTFUL").fetch(tmp_path / "dl", find_links=str(tampered.parent))


def test_decontamination_reads_both_evaluation_sets(store):
    from opentoollab.trainer.decontaminate import known_evaluation_sets

    sets, _missing = known_evaluation_sets(store)
    names = {s.name for s in sets}
    assert {"NESTFUL/executable", "NESTFUL/glaive", "NESTFUL/sgd", "ComplexFuncBench/test"} <= names


def test_benchmark_run_through_an_openai_compatible_server(store, wheel, tmp_path):
    """`benchmark run -d NESTFUL/sgd`: the server answers with NESTFUL's gold sequence as tool calls."""
    from click.testing import CliRunner

    from openai_server import serve
    from opentoollab.cli.benchmark import benchmark

    by_input = {r["input"].strip(): r["output"] for r in _raw(wheel, "non-executable/non-executable-sgd-data.json")}
    sent = []

    def answer(path, body):
        sent.append(body)
        calls = [c for c in by_input[body["messages"][-1]["content"]] if c["name"] != "var_result"]
        return 200, {"choices": [{"message": {"role": "assistant", "content": None, "tool_calls": [
            {"id": f"c{i}", "type": "function", "function": {"name": c["name"], "arguments": json.dumps(c["arguments"])}}
            for i, c in enumerate(calls)]}}]}

    out = tmp_path / "run"
    with serve(answer) as url:
        result = CliRunner().invoke(benchmark, ["run", "-d", "NESTFUL/sgd", "--model", "replay", "--base-url", url,
                                                "--out", str(out), "--data-dir", str(store.root), "-q"])
    assert result.exit_code == 0, result.output
    assert len(sent) == 46 and all(len(body["tools"]) == 30 for body in sent)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["nestful"]["NESTFUL/sgd"]["full_sequence_accuracy"] == 1.0 and summary["correct"] == 46
    assert "partial_sequence_accuracy" in result.output and "win rate: not scored offline" in result.output


@pytest.mark.parametrize("arguments", ["[" * 100_000 + "]" * 100_000, '{"n": ' + "9" * 5000 + "}"],
                         ids=["nested_100k_deep", "integer_of_5000_digits"])
def test_hostile_arguments_are_a_decoder_failure_not_a_crash(arguments):
    from opentoollab.benchmark.scoring.nestful import score_sample

    sample = [{"role": "tool_call_ground_truth", "content": [{"name": "f", "parameters": {"x": [1]}}]}]
    verdict = score_sample(sample, {"calls": [{"name": "f", "arguments": arguments}]})
    assert verdict["valid"] is False and verdict["error_type"] == "nestful:decoder_failed"
    assert "too deep or too large" in verdict["error"]
