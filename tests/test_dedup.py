"""Deduplication on real BFCL samples: exact (normalized user turns + calls) and near (MinHash/LSH)."""

from __future__ import annotations

import copy

import pytest

from opentoollab.trainer.dedup import ExactDeduper, NearDeduper, exact_key, normalize_text, tokens, user_turns


def _question(sample) -> str:
    return user_turns(sample)[0]


def _with_question(sample, text):
    out = copy.deepcopy(sample)
    next(m for m in out if m["role"] == "user")["content"] = text
    return out


def test_normalization_ignores_case_punctuation_spacing_and_splits_cjk():
    assert normalize_text("Find the  AREA, of a Triangle!") == normalize_text("find the area of a triangle")
    assert tokens("今天查看北京的新闻") == list("今天查看北京的新闻")
    assert tokens("ｆｕｌｌ－ｗｉｄｔｈ ＡＢＣ") == ["full", "width", "abc"]  # NFKC


def test_exact_key_covers_user_turns_and_calls(bfcl_samples):
    sample = bfcl_samples["simple_python"][0]
    shouty = _with_question(sample, _question(sample).upper().replace(".", " !"))
    assert exact_key(shouty) == exact_key(sample)
    other_call = copy.deepcopy(sample)
    other_call[-1]["content"][0]["parameters"]["base"] = [11]
    assert exact_key(other_call) != exact_key(sample)
    assert exact_key(_with_question(sample, _question(sample) + " please")) != exact_key(sample)


def test_exact_deduper_keeps_the_first_copy(bfcl_samples):
    a, b = bfcl_samples["simple_python"][:2]
    dedup = ExactDeduper()
    assert dedup.check(a, "a") is None and dedup.check(b, "b") is None
    hit = dedup.check(_with_question(a, _question(a).lower()), "a2")
    assert hit is not None and (hit.kind, hit.of) == ("exact", "a")
    assert dedup.check(a, "a") is not None  # same label twice is still a duplicate
    assert len(dedup) == 2


def test_all_of_bfcl_simple_has_no_exact_duplicates_but_finds_planted_ones(bfcl_samples):
    samples = bfcl_samples["simple_python"]
    dedup = ExactDeduper()
    assert sum(dedup.check(s, s[0]["content"]) is not None for s in samples) == 0
    assert all(dedup.check(s, "copy") is not None for s in samples[::50])


def test_near_duplicates_by_user_text(bfcl_samples):
    multi = bfcl_samples["multi_turn_base"][0]
    text = "\n".join(user_turns(multi))
    words = text.split()
    one_word_changed = " ".join(words[:-3] + ["definitely"] + words[-2:])
    near = NearDeduper(threshold=0.8)
    assert near.check(text, "orig") is None
    hit = near.check(one_word_changed, "edited")
    assert hit is not None and hit.kind == "near" and hit.of == "orig" and 0.8 <= hit.similarity < 1.0
    # a different multi-turn task is kept, and so is a text with no words at all
    other = "\n".join(user_turns(bfcl_samples["multi_turn_base"][1]))
    assert near.check(other, "other") is None
    assert near.check("?!", "empty") is None
    assert len(near) == 2


def test_near_threshold_is_configurable(bfcl_samples):
    question = _question(bfcl_samples["simple_python"][0])  # "... base of 10 units and height of 5 units."
    changed = question.replace("10", "12").replace("5 units", "7 units")
    strict, loose = NearDeduper(threshold=0.9), NearDeduper(threshold=0.3)
    assert strict.check(question, "q") is None and strict.check(changed, "c") is None
    assert loose.check(question, "q") is None and loose.check(changed, "c") is not None
    with pytest.raises(ValueError):
        NearDeduper(threshold=0)


def test_mix_reports_duplicates_with_reasons(bfcl_samples, bfcl_store, tmp_path):
    from opentoollab.format.jsonl import write_samples
    from opentoollab.trainer.mix import build_mix

    base = bfcl_samples["simple_python"][:30]
    dup = copy.deepcopy(base[3])
    dup[0]["content"] = "Copy_dup_0"
    dup = _with_question(dup, _question(dup).upper())
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    write_samples(first, base)
    write_samples(second, [dup, *base[:5]])
    mix, manifest = build_mix(f"{first},{second}", bfcl_store, decontaminate=False, shuffle=False)
    assert len(mix) == 30
    assert [r["duplicate_exact"] for r in manifest["sources"]] == [0, 6]
    reasons = {r["id"]: r["of"] for r in manifest["removed"] if r["step"] == "dedup"}
    assert reasons["Copy_dup_0"] == base[3][0]["content"]
    mix, manifest = build_mix(f"{first},{second}", bfcl_store, decontaminate=False, dedup=False, near_dedup=False)
    assert len(mix) == 36 and not manifest["removed"]
