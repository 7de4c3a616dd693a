"""Our scorer against BFCL's own checker (imported from the pinned wheel) on gold and wrong answers."""

from __future__ import annotations

import json
import random
from collections import Counter

import pytest

from opentoollab.benchmark.scoring import Environments, item_of
from opentoollab.benchmark.scoring.multi_turn import truth_turns
from opentoollab.benchmark.scoring.parity import PARITY_MODEL, bfcl_entries, gold_calls, load_official, mutations, official_output
from opentoollab.benchmark.scoring.score import score_item
from opentoollab.datasets.sources.bfcl import MULTI_TURN


@pytest.fixture(scope="module")
def official(bfcl_wheel):
    return load_official(bfcl_wheel)


@pytest.fixture(scope="module")
def raw(bfcl_store):
    """BFCL's own entries and possible answers, by id, straight from the raw download."""
    return bfcl_entries(bfcl_store.raw_dir("BFCL"))


def _official_verdict(official, entry, answer, calls, item) -> tuple[bool, str | None]:
    """BFCL's ast_checker on our calls: (valid, error_type), error_type None when valid."""
    language = {"python": official.Language.PYTHON, "java": official.Language.JAVA,
                "javascript": official.Language.JAVASCRIPT}[item.language]
    try:
        result = official.ast_checker(entry["function"], official_output(calls), answer, language, item.category,
                                      PARITY_MODEL)
    except Exception:  # BFCL's checker raising counts as a failed item
        return False, "checker_raised"
    return result["valid"], None if result["valid"] else result["error_type"]


def _official_valid(official, entry, answer, calls, item) -> bool:
    return _official_verdict(official, entry, answer, calls, item)[0]


def test_ast_verdicts_equal_official_on_gold_and_wrong_answers(bfcl_samples, raw, official):
    entries, answers = raw
    agree, kinds, gold_valid = 0, Counter(), Counter()
    for subset, samples in bfcl_samples.items():
        for sample in samples:
            item = item_of(sample)
            if item.kind != "ast":
                continue
            gold = gold_calls(item.functions, item.answers, item.language)
            variants = [("gold", gold), *mutations(gold)]
            if item.language != "python":
                variants.append(("python_values", gold_calls(item.functions, item.answers)))
            for kind, calls in variants:
                result = score_item(item, {"calls": calls})[0]
                ours = result["valid"], result["error_type"] or None  # the verdict and the rule that failed
                theirs = _official_verdict(official, entries[item.source_id], answers[item.source_id], calls, item)
                kinds[kind] += 1
                if kind == "gold":
                    gold_valid[subset] += theirs[0]
                assert ours == theirs, (item.source_id, kind, calls)  # verdicts and error types, every one
                agree += 1
    assert agree > 40_000 and len(kinds) >= 14, kinds
    # The wrong answers really are mostly wrong: the comparison is not between two always-true checkers.
    assert sum(gold_valid.values()) > 2400


def test_gold_answers_reach_the_ceiling_in_every_category(bfcl_samples, raw, official):
    """BFCL's possible answers as predictions: every category at the official checker's ceiling."""
    entries, answers = raw
    for subset, samples in bfcl_samples.items():
        ours = theirs = 0
        for sample in samples:
            item = item_of(sample)
            if item.kind != "ast":
                continue
            gold = gold_calls(item.functions, item.answers, item.language)
            ours += score_item(item, {"calls": gold})[0]["valid"]
            theirs += _official_valid(official, entries[item.source_id], answers[item.source_id], gold, item)
        assert ours == theirs, subset
        if subset in ("simple_python", "multiple", "parallel", "live_simple", "live_parallel", "simple_javascript"):
            assert ours == sum(item_of(s).kind == "ast" for s in samples), subset


def test_raw_python_text_scores_like_decoded_calls(bfcl_samples, raw, official):
    """Gold answers written as Python call text (BFCL's prompting format) parse to the same verdicts."""
    entries, answers = raw
    checked = 0
    for subset in ("simple_python", "parallel_multiple", "live_multiple"):
        for sample in bfcl_samples[subset][:150]:
            item = item_of(sample)
            gold = gold_calls(item.functions, item.answers)
            text = "[" + ", ".join(f"{c['name']}(" + ", ".join(f"{k}={v!r}" for k, v in c["arguments"].items()) + ")"
                                   for c in gold) + "]"
            ours = score_item(item, {"result": text})[0]["valid"]
            assert ours == score_item(item, {"calls": gold})[0]["valid"], text
            assert ours == _official_valid(official, entries[item.source_id], answers[item.source_id], gold, item)
            checked += 1
    assert checked == 450


def test_irrelevance_and_relevance(bfcl_samples):
    irrelevant = item_of(bfcl_samples["irrelevance"][0])
    some_tool = irrelevant.sample[2]["content"][0]["name"]
    assert score_item(irrelevant, {"calls": []})[0]["valid"]
    assert score_item(irrelevant, {"result": "Sorry, none of the functions can do that."})[0]["valid"]
    wrong = score_item(irrelevant, {"calls": [{"name": some_tool, "arguments": {}}]})[0]
    assert not wrong["valid"] and wrong["error_type"] == "irrelevance_error:decoder_success"
    relevant = item_of(bfcl_samples["live_relevance"][0])
    assert relevant.kind == "relevance"
    assert score_item(relevant, {"result": f"[{some_tool}(a=1)]"})[0]["valid"]
    assert not score_item(relevant, {"result": "no call here"})[0]["valid"]


def _exec_text(call):
    return f"{call['name']}(" + ",".join(f"{k}={v!r}" for k, v in call["arguments"].items()) + ")"


def _multi_turn_variants(turns):
    """(kind, turns of steps of calls): the gold trajectory and wrong ones."""
    gold = [[[{"name": c["name"], "arguments": c["parameters"]} for c in t]] if t else [] for t in turns]
    yield "gold", gold
    for index, steps in enumerate(gold):
        if steps:
            yield "empty_turn", gold[:index] + [[]] + gold[index + 1:]
            calls = steps[0]
            yield "dropped_last_call", gold[:index] + [[calls[:-1]]] + gold[index + 1:]
            for key, value in calls[-1]["arguments"].items():
                if isinstance(value, str):
                    changed = {**calls[-1], "arguments": {**calls[-1]["arguments"], key: value + "x"}}
                    yield "changed_argument", gold[:index] + [[calls[:-1] + [changed]]] + gold[index + 1:]
                    break
            break
    yield "missing_turn", gold[:-1]


def _same_trajectory(turns, answer_strings) -> bool:
    from opentoollab.tools.bfcl_runtime import parse_call

    for calls, strings in zip(turns, answer_strings):
        parsed = [parse_call(text) for text in strings]
        for call, (name, args, kwargs) in zip(calls, parsed):
            if not args and json.loads(json.dumps(call["parameters"])) != json.loads(json.dumps(kwargs)):
                return False
    return len(turns) == len(answer_strings)


def test_multi_turn_verdicts_equal_official(bfcl_samples, bfcl_store, raw, official):
    entries, answers = raw
    environments = Environments(bfcl_store.raw_dir("BFCL"))
    rng = random.Random(0)
    agree, total, gold_ok, wrong_failed, stale = 0, 0, 0, 0, []
    for subset in MULTI_TURN:
        for n, sample in enumerate(rng.sample(bfcl_samples[subset], 12)):
            item = item_of(sample)
            if not _same_trajectory(truth_turns(sample), answers[item.source_id]):
                stale.append(item.source_id)
                continue
            for m, (kind, turns) in enumerate(_multi_turn_variants(truth_turns(sample))):
                ours = score_item(item, {"turns": turns}, environments=environments)[0]["valid"]
                decoded = [[[_exec_text(c) for c in step] for step in turn] for turn in turns]
                entry = json.loads(json.dumps(entries[item.source_id]))
                if len(decoded) != len(answers[item.source_id]):
                    theirs = False  # BFCL's runner: multi_turn:force_terminated before the checker runs
                else:
                    theirs = official.multi_turn_checker(decoded, answers[item.source_id], entry, subset,
                                                         f"parity_{subset}_{n}_{m}")["valid"]
                total += 1
                agree += ours == theirs
                gold_ok += kind == "gold" and ours
                wrong_failed += kind != "gold" and not ours
    assert agree == total, (agree, total)
    # Samples whose stored calls differ from BFCL's answer strings are a converter matter, not the scorer's.
    assert len(stale) <= 2, stale
    assert gold_ok == 48 - len(stale) and wrong_failed > 100
