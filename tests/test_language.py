"""meta.language from detection on the user turns (format.language), at conversion and in `tag`: one detector."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from adapter_support import run
from opentoollab.format.language import (LANGUAGES, MAX_CHARS, detect_language, detect_languages, sample_language,
                                         user_text, with_language)
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


# ----------------------------------------------------------------------------- the fast classifier
OTHER_SLICES = {"Seal-Tools": "seal_tools", "TaskBench": "taskbench", "ToolAlpaca": "toolalpaca",
                "MTU-Bench": "mtu_bench", "ToolBench": "toolbench"}


@pytest.fixture(scope="module")
def py3langid_classify():
    """py3langid itself, restricted to our languages: what ``detect_language`` must answer."""
    from opentoollab.format.language import Py3langid

    return Py3langid().detect


@pytest.fixture(scope="module")
def user_texts(bfcl_samples, slice_samples, shared, tmp_path_factory) -> list[str]:
    """Every user text of BFCL (17 categories), of all ten ../shared/samples corpora, and the labelled sample."""
    from opentoollab.datasets.sources import get_source
    from opentoollab.datasets.store import Store, process
    from opentoollab.format.jsonl import iter_samples

    store = Store(tmp_path_factory.mktemp("other_slices"))
    others = []
    for name, folder in OTHER_SLICES.items():
        process(get_source(name), store, origin=shared / "samples" / folder, progress=False)
        others += [s for path in store.subset_files(name) for s in iter_samples(path)]
    samples = [s for group in (*bfcl_samples.values(), *slice_samples.values()) for s in group] + others
    texts = [user_text(s) for s in samples]
    texts += [json.loads(line)["text"] for line in LABELS.read_text("utf-8").splitlines()]
    texts += ["HELLO, HOW ARE YOU?", "ÇA VA ?", "\ud800 lone surrogate ok", "a" * 5000, "x", "1 2 3 é"]
    assert len(samples) > 5000  # 4,438 of BFCL, 740 of the ten slices
    return texts


def test_same_answers_as_py3langid_on_every_user_text(user_texts, py3langid_classify):
    """The batched DFA walk and float64 scoring give py3langid's language on every text, one by one and in
    batches, and the exact float32 path (used near ties) agrees too."""
    from opentoollab.format.language import _model

    expected = [py3langid_classify(text) for text in user_texts]
    assert detect_languages(user_texts) == expected
    assert [detect_language(text) for text in user_texts[::7]] == expected[::7]
    model = _model()
    exact = [model.exact(model.encode(text[:MAX_CHARS])) for text in user_texts if any(c.isalpha() for c in text[:MAX_CHARS])]
    assert exact == [e for e, text in zip(expected, user_texts) if any(c.isalpha() for c in text[:MAX_CHARS])]
    assert len(set(expected)) >= 10 and detect_languages([]) == []


def test_dfa_window_is_proved_on_the_tables():
    """The state after any text is the state after its last ``window`` bytes: checked here by walking
    random texts byte by byte against the window rule."""
    import numpy as np
    from opentoollab.format.language import _model

    model = _model()
    assert model.window == 6
    rng = np.random.default_rng(7)
    data = rng.choice(np.frombuffer("the cat 的猫 кот ".encode() + bytes(range(256)), np.uint8), 3000)
    state, states = 0, []
    for byte in data.tolist():  # py3langid's walk
        state = int(model.nextmove[model.rowbase[state] + byte])
        states.append(state)
    assert model.states(data.tobytes()).tolist() == states


def test_model_cache_is_written_once_then_read_and_rebuilt_when_broken(tmp_path, monkeypatch, py3langid_classify):
    from opentoollab.format import langmodel

    monkeypatch.setenv(langmodel.CACHE_ENV, str(tmp_path / "cache"))
    texts = ["Qual a temperatura atual em Divinópolis?", "请帮我查询北京明天的天气", "What's the weather in Boston?"]
    (tmp_path / "cache" / "langid-0ld").mkdir(parents=True)  # another py3langid version's: replaced
    model = langmodel.load_model(LANGUAGES)
    [folder] = (tmp_path / "cache").iterdir()
    assert sorted(p.name for p in folder.iterdir()) == sorted([f"{n}.npy" for n in langmodel._FILES] + ["meta.json"])
    assert json.loads((folder / "meta.json").read_text())["languages"] == list(LANGUAGES)

    def no_build(*args):
        raise AssertionError("the cache was not used")
    monkeypatch.setattr(langmodel, "_build", no_build)
    cached = langmodel.load_model(LANGUAGES)
    assert cached.classify(texts) == model.classify(texts) == [py3langid_classify(t) for t in texts] == ["pt", "zh", "en"]

    monkeypatch.undo()
    monkeypatch.setenv(langmodel.CACHE_ENV, str(tmp_path / "cache"))
    (folder / "nextmove.npy").write_bytes((folder / "nextmove.npy").read_bytes()[:1000])  # cut short
    assert langmodel.load_model(LANGUAGES).classify(texts) == ["pt", "zh", "en"]
    assert langmodel._read(folder) is not None  # rebuilt in place

    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    arrays = {name: __import__("numpy").load(folder / f"{name}.npy") for name in langmodel._FILES}
    langmodel._write(blocked / "langid-x", arrays, {})  # cannot be written: no error, nothing left
    assert blocked.read_text() == "not a folder"


def test_cache_folder_follows_the_environment(monkeypatch, tmp_path):
    from opentoollab.format import langmodel

    monkeypatch.delenv(langmodel.CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert langmodel.cache_root() == tmp_path / "xdg" / "opentoollab"
    monkeypatch.setenv(langmodel.CACHE_ENV, str(tmp_path / "mine"))
    assert langmodel.cache_root() == tmp_path / "mine"
