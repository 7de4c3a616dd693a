"""Decontamination against BFCL: verbatim, re-cased and re-punctuated copies are caught, near misses stay."""

from __future__ import annotations

import copy
import shutil

import pytest

from opentoollab.trainer.decontaminate import EvalIndex, EvalSet, build_index, known_evaluation_sets
from opentoollab.trainer.dedup import tokens, user_turns
from opentoollab.datasets.store import Store


def _user(text: str, n: int = 0) -> list[dict]:
    return [{"role": "id", "content": f"Train_x_{n}"}, {"role": "user", "content": text}]


@pytest.fixture(scope="module")
def bfcl_index(bfcl_store):
    sets, missing = known_evaluation_sets(bfcl_store)
    assert not [m for m in missing if m.startswith("BFCL:")]  # BFCL itself (BFCL-memory is its own corpus)
    index, counts = build_index(sets)
    return index, counts


def test_index_covers_every_bfcl_category(bfcl_index, bfcl_samples):
    _index, counts = bfcl_index
    assert {k: v for k, v in counts.items() if k.startswith("BFCL/")} == {f"BFCL/{s}": len(v) for s, v in bfcl_samples.items()}


def test_crafted_cases(bfcl_index, bfcl_samples):
    index, _ = bfcl_index
    question = user_turns(bfcl_samples["simple_python"][0])[0]
    verbatim = index.check(_user(question))
    assert verbatim.kind == "exact" and verbatim.eval_id == "BFCL_simple_python_0"
    changed = index.check(_user(question.upper().replace(".", "?!").replace(" ", " , ")))
    assert changed.kind == "exact" and changed.eval_id == "BFCL_simple_python_0"
    # a clean near miss: same template, other numbers — no 13 tokens in a row are shared
    assert index.check(_user(question.replace("10", "12").replace("5 units", "7 units"))) is None
    # 13 consecutive tokens of a long BFCL turn inside other text
    long_turn = next(t for s in bfcl_samples["multi_turn_base"] for t in user_turns(s) if len(tokens(t)) > 30)
    words = tokens(long_turn)
    inside = index.check(_user("Here is my plan for today: " + " ".join(words[5:18]) + " and that is all."))
    assert inside is not None and inside.kind == "ngram" and inside.overlap == " ".join(words[5:18])
    # 12 of them only: clean
    assert index.check(_user("Here is my plan for today: " + " ".join(words[5:17]) + " and that is all.")) is None


def test_short_turns_are_ignored_and_short_questions_contained_are_caught():
    index = EvalIndex(ngram=13, min_tokens=6, min_contained=8)
    index.add([{"role": "id", "content": "E_s_0"}, {"role": "user", "content": "hi"}], "E/s")
    index.add([{"role": "id", "content": "E_s_1"}, {"role": "user", "content": "Find the prime factors of 450"}], "E/s")
    index.add([{"role": "id", "content": "E_s_2"},
               {"role": "user", "content": "What is the capital city of Brazil today?"}], "E/s")  # 8 tokens
    assert index.check(_user("hi")) is None  # too short to mean anything
    assert index.check(_user("find the PRIME factors of 450!")).kind == "exact"
    assert index.check(_user("Please find the prime factors of 450 now")) is None  # 6 tokens: exact only
    hit = index.check(_user("Quick one. What is the capital city of Brazil today? Thanks"))
    assert hit.kind == "ngram" and hit.eval_id == "E_s_2"


def test_excluded_sets_are_not_checked(bfcl_store, bfcl_samples):
    sets, _ = known_evaluation_sets(bfcl_store)
    index, counts = build_index(sets, exclude={"BFCL/simple_python"})
    assert "BFCL/simple_python" not in counts
    question = user_turns(bfcl_samples["simple_python"][0])[0]
    hit = index.check(_user(question))
    assert hit is None or hit.eval_set != "BFCL/simple_python"


def test_extra_eval_file(tmp_path, bfcl_samples):
    from opentoollab.format.jsonl import write_samples

    path = tmp_path / "mine.jsonl"
    write_samples(path, bfcl_samples["live_simple"][:5])
    index, counts = build_index([EvalSet(str(path), [path])])
    assert counts == {str(path): 5}
    sample = next(s for s in bfcl_samples["live_simple"][:5] if len(tokens(user_turns(s)[0])) >= 6)
    assert index.check(copy.deepcopy(sample)).eval_set == str(path)
    assert index.check(bfcl_samples["live_simple"][50]) is None


def test_missing_bfcl_is_reported_and_a_downloaded_one_is_processed(tmp_path, bfcl_store):
    empty = Store(tmp_path / "empty")
    sets, missing = known_evaluation_sets(empty)
    assert not [s for s in sets if s.name.startswith("BFCL/")]
    assert any(m.startswith("BFCL: not processed") and "datasets deal BFCL" in m for m in missing)
    downloaded = Store(tmp_path / "downloaded")
    shutil.copytree(bfcl_store.raw_dir("BFCL"), downloaded.raw_dir("BFCL"))
    messages = []
    sets, missing = known_evaluation_sets(downloaded, log=messages.append)
    assert any("processing it" in m for m in messages)
    assert len([s for s in sets if s.name.startswith("BFCL/")]) == 17
    assert downloaded.manifest("BFCL")["totals"]["samples"] == bfcl_store.manifest("BFCL")["totals"]["samples"]


def test_mix_without_eval_data_warns_loudly(tmp_path, bfcl_samples):
    from opentoollab.format.jsonl import write_samples
    from opentoollab.trainer.mix import build_mix

    path = tmp_path / "train.jsonl"
    write_samples(path, bfcl_samples["simple_python"][:3])
    mix, manifest = build_mix(str(path), Store(tmp_path / "empty"))
    assert len(mix) == 3
    assert any(w.startswith("NOT CHECKED for contamination against BFCL") for w in manifest["warnings"])
    mix, manifest = build_mix(str(path), Store(tmp_path / "empty"), decontaminate=False)
    assert any(w.startswith("DECONTAMINATION DISABLED") for w in manifest["warnings"])
