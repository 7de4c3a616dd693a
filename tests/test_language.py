"""meta.language from detection on the user turns (format.language), at conversion and in `tag`: one detector."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from adapter_support import run
from opentoollab.format.language import detect_language, sample_language, user_text, with_language
from opentoollab.format.sample import meta
from opentoollab.tag.tagging import tag_sample

LABELS = Path(__file__).resolve().parent.parent / "bench" / "language_labels.jsonl"


def _sample(*turns, language=None):
    info = {"source": "t", "subset": "s", "source_id": 0, "license": "x"}
    if language:
        info["language"] = language
    return [{"role": "id", "content": "t_s_0"}, {"role": "meta", "content": info}, *turns]


def test_labelled_user_texts_of_our_corpora():
    """The labelled sample of bench/bench_language.py (real user texts of BFCL and ../shared/samples)."""
    rows = [json.loads(line) for line in LABELS.read_text("utf-8").splitlines()]
    wrong = [(r["id"], r["label"], detect_language(r["text"])) for r in rows if detect_language(r["text"]) != r["label"]]
    assert len(rows) >= 200 and len(wrong) <= len(rows) * 0.04, wrong
    by_label = Counter(r["label"] for r in rows if detect_language(r["text"]) == r["label"])
    assert {"en", "zh", "ko", "id", "pt", "es", "vi", "ar", "ru", "th"} <= set(by_label)  # not English-only luck


def test_no_letters_is_undetermined():
    assert detect_language("9:45") == detect_language("") == detect_language("\x16 /") == "und"


def test_user_turns_decide_not_the_english_system_prompt():
    sample = _sample({"role": "system", "content": "You are a helpful assistant. Use the tools when needed."},
                     {"role": "user", "content": "请帮我查询北京明天的天气"},
                     {"role": "assistant", "content": "Sure, here is the weather in Beijing tomorrow."})
    assert user_text(sample) == "请帮我查询北京明天的天气"
    assert sample_language(sample) == "zh"


def test_detection_replaces_a_guess_but_not_a_known_language():
    guessed = _sample({"role": "user", "content": "¿Podrías decirme el clima actual en Cancún y en Mérida?"},
                      language="en")
    before = json.dumps(guessed)
    fixed = with_language(guessed)
    assert meta(fixed)["language"] == "es"
    assert json.dumps(guessed) == before  # the input is not changed
    assert with_language(guessed, keep=True) is guessed  # the adapter knows (e.g. ACEBench data_en)
    missing = _sample({"role": "user", "content": "What's the weather in Boston?"})
    assert meta(with_language(missing))["language"] == "en"  # Glaive states none: detection fills it
    no_user = _sample({"role": "system", "content": "Simulate a customer."}, language="en")
    assert with_language(no_user) is no_user  # nothing to detect on: the adapter's value stays
    no_meta = [{"role": "id", "content": "x"}, {"role": "user", "content": "hola, ¿qué tal estás hoy?"}]
    assert with_language(no_meta) is no_meta


def test_bfcl_chinese_prompts_are_zh_at_conversion(bfcl_samples):
    """BFCL's adapter writes "en" for every item; conversion corrects it from the user turns."""
    languages = Counter()
    for samples in bfcl_samples.values():
        for sample in samples:
            language = meta(sample)["language"]
            languages[language] += 1
            assert language == sample_language(sample) or sample_language(sample) == "und", sample[0]
    assert languages["zh"] >= 25 and languages["ko"] >= 10 and languages["en"] > 4000, languages
    live = {s[0]["content"]: s for s in bfcl_samples["live_simple"]}
    assert meta(live["BFCL_live_simple_13"])["language"] == "zh"  # 我想知道上海目前的天气状况…
    assert meta(live["BFCL_live_simple_5"])["language"] == "pt"  # Qual a temperatura atual em Divinópolis


def test_glaive_and_every_slice_get_a_language(slice_samples):
    for name, samples in slice_samples.items():
        for sample in samples:
            if user_text(sample):
                assert meta(sample).get("language") == sample_language(sample), (name, sample[0])
    assert {meta(s).get("language") for s in slice_samples["Glaive"]} == {"en"}


def test_acebench_keeps_its_folder_language(shared, tmp_path):
    """ACEBench knows the language (data_en / data_zh): kept even where detection would say otherwise."""
    result = run("ACEBench", shared / "benchmarks" / "ACEBench", tmp_path)
    disagree = 0
    for subset, samples in result.samples.items():
        for sample in samples:
            assert meta(sample)["language"] == subset.split("_")[0]
            disagree += sample_language(sample) not in ("und", meta(sample)["language"])
    assert disagree >= 1  # the rule matters: at least one en item reads as zh to the detector


def test_tag_uses_meta_language_else_the_same_detector():
    chinese = _sample({"role": "system", "content": "You are a helpful assistant."},
                      {"role": "user", "content": "请问北京的当前天气状况如何？还有上海呢？"},
                      {"role": "assistant", "content": "I will check."})
    assert tag_sample(chinese)["language"] == "zh"  # no meta.language: detected on the user turns
    assert tag_sample(with_language(chinese))["language"] == meta(with_language(chinese))["language"] == "zh"
    stated = _sample({"role": "user", "content": "请问北京的当前天气状况如何？"}, language="en")
    assert tag_sample(stated)["language"] == "en"  # tag trusts what conversion wrote: filters and stats agree


@pytest.mark.parametrize("text,language", [("東京の天気はどうですか", "ja"), ("Какая погода в Москве?", "ru"),
                                           ("Peux-tu me donner la météo actuelle pour Paris ?", "fr")])
def test_scripts_and_latin_languages(text, language):
    assert detect_language(text) == language
