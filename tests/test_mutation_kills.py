"""Behaviour the mutation run (scripts/mutation.py, docs/testing.md) found untested in the core modules.

Each test names the mutants it kills; a mutant that survives everything and is not listed in
docs/testing.md as equivalent is a missing test.
"""

from __future__ import annotations

from opentoollab.trainer.render.base import Builder


def test_builder_merges_adjacent_learned_pieces_and_splits_at_context():
    """Kills Builder.learn mutants that break the merge of back-to-back learned pieces."""
    b = Builder()
    b.add("<ctx>")
    b.learn("ab")
    b.learn("cde")  # directly after a learned piece: one span
    b.learn("")  # nothing learned, nothing changed
    b.add("--")
    b.learn("f")
    b.learn("gh")
    b.add("")  # an empty context piece does not split a span either
    b.learn("i")
    rendered = b.done()
    assert rendered.text == "<ctx>abcde--fghi"
    assert rendered.spans == [[5, 10], [12, 16]]
    assert [rendered.text[s:e] for s, e in rendered.spans] == ["abcde", "fghi"]


# ---------------------------------------------------------------------------------------------- trainer/dedup.py
def _dialogue(user: str, reply: str, call: str = "get_weather", hidden: str | None = None) -> list[dict]:
    sample = [{"role": "id", "content": "Kill_dedup_0"}, {"role": "candidate_tools", "content": []},
              {"role": "user", "content": user},
              {"role": "tool_call", "content": [{"name": call, "parameters": {"city": "Oslo"}, "depend_on": []}]},
              {"role": "tool_response", "content": {f"{call}.0": {"temp": 4}}}]
    if hidden is not None:
        sample.append({"role": "assistant", "content": hidden, "hidden": True})
    return sample + [{"role": "assistant", "content": reply}]


def test_normalized_text_is_tokens_joined_by_one_space():
    from opentoollab.trainer.dedup import normalize_text

    assert normalize_text("  Find the AREA,\tof a\n triangle! ") == "find the area of a triangle"


def test_exact_key_depends_on_call_names_and_user_text_only():
    from opentoollab.trainer.dedup import exact_key

    base = _dialogue("Weather in Oslo?", "4 degrees.")
    key = exact_key(base)
    assert len(key) == 16  # the documented 16-byte key
    assert exact_key(_dialogue("Weather in Oslo?", "4 degrees.", call="get_forecast")) != key
    assert exact_key(_dialogue("weather in OSLO", "Another reply.")) == key  # replies are not part of it
    other_tools = [dict(m) for m in base]
    other_tools[1] = {"role": "candidate_tools", "content": [{"name": "x", "description": "", "parameters": {}}]}
    assert exact_key(other_tools) == key  # only call messages count, not every message with list content


def test_step_key_separates_what_a_step_teaches():
    from opentoollab.trainer.dedup import step_key

    base = step_key(_dialogue("Weather in Oslo?", "It is 4 degrees."))
    assert len(base) == 16
    assert step_key(_dialogue("Weather in Oslo?", "It is 4 degrees.")) == base
    assert step_key(_dialogue("Something else entirely", "IT IS 4 DEGREES!")) == base  # user text is not part of it
    assert step_key(_dialogue("Weather in Oslo?", "It is 5 degrees.")) != base  # a visible reply is
    assert step_key(_dialogue("Weather in Oslo?", "It is 4 degrees.", call="get_forecast")) != base  # so are calls
    assert step_key(_dialogue("Weather in Oslo?", "It is 4 degrees.", hidden="let me think")) == base  # hidden not


def test_duplicate_reports_similarity_to_four_places():
    from opentoollab.trainer.dedup import Duplicate

    assert Duplicate("near", "A_b_1", 0.123456).as_dict() == {"kind": "near", "of": "A_b_1", "similarity": 0.1235}


def test_near_duplicates_are_only_joined_within_a_group():
    from opentoollab.trainer.dedup import NearDeduper

    text = "please book a table for two at the italian place near the station tonight at eight"
    near = NearDeduper()
    assert near.check(text, "first", group=b"a") is None
    assert near.check(text, "second", group=b"b") is None  # same text, another group: kept
    hit = near.check(text, "third", group=b"b")  # the group-a candidate comes first and is passed over
    assert hit is not None and hit.of == "second"
    hit = near.check(text, "fourth", group=b"a")
    assert hit is not None and hit.of == "first"
    assert near.check(text, "ungrouped") is None and len(near) == 3


# ---------------------------------------------------------------------------------------------- trainer/decontaminate.py
def _asked(*turns: str, sid: str | None = "Kill_eval_0") -> list[dict]:
    head = [{"role": "id", "content": sid}] if sid else []
    return head + [{"role": "candidate_tools", "content": []}] + [{"role": "user", "content": t} for t in turns]


WORDS = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa".split()


def test_contamination_record_and_windows():
    from opentoollab.trainer.decontaminate import Contamination, _windows

    assert Contamination("ngram", "BFCL/simple", "BFCL_simple_3", "a b c").as_dict() == {
        "kind": "ngram", "eval_set": "BFCL/simple", "eval_id": "BFCL_simple_3", "overlap": "a b c"}
    assert list(_windows(list("abcd"), 2)) == [("a", "b"), ("b", "c"), ("c", "d")]
    assert list(_windows(list("ab"), 2)) == [("a", "b")] and list(_windows(list("a"), 2)) == []


def test_eval_index_limits_must_be_positive():
    import pytest

    from opentoollab.trainer.decontaminate import EvalIndex

    for ngram, min_tokens in ((0, 6), (13, 0)):
        with pytest.raises(ValueError, match="^ngram and min_tokens must be positive$"):
            EvalIndex(ngram, min_tokens)
    index = EvalIndex(1, 1)
    assert (index.ngram, index.min_tokens, index.samples) == (1, 1, 0)


def test_eval_index_reads_every_turn_and_reports_the_longest_overlap():
    from opentoollab.trainer.decontaminate import EvalIndex

    index = EvalIndex()
    # a short turn, then an exact-only turn (6..7 tokens), then a long one: none stops the reading of the next
    index.add(_asked("hi", " ".join(WORDS[:7]), " ".join(WORDS[2:16]), sid="Kill_eval_0"), "set/long")
    index.add(_asked(" ".join(WORDS[:8]), sid=None), "set/short")  # no id: named by its position
    assert index.samples == 2
    hit = index.check(_asked("Well: " + " ".join(WORDS[:7]).upper() + "!"))
    assert hit is None  # an exact-only turn is matched whole, not inside a longer one
    hit = index.check(_asked(" ".join(WORDS[:7])))
    assert hit.as_dict() == {"kind": "exact", "eval_set": "set/long", "eval_id": "Kill_eval_0",
                             "overlap": " ".join(WORDS[:7])}
    # the training turn holds the 8-gram of "set/short" and a 13-gram of "set/long": the longer n-gram is reported
    hit = index.check(_asked("so " + " ".join(WORDS) + " then"))
    assert (hit.kind, hit.eval_set, hit.eval_id, hit.overlap) == ("ngram", "set/long", "Kill_eval_0", " ".join(WORDS[2:15]))
    hit = index.check(_asked("so " + " ".join(WORDS[:8]) + " then"))
    assert (hit.kind, hit.eval_set, hit.eval_id) == ("ngram", "set/short", "#1")


def test_build_index_passes_its_sizes_and_skips_only_excluded_sets(tmp_path):
    from opentoollab.format.jsonl import write_samples
    from opentoollab.trainer.decontaminate import EvalSet, build_index

    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    write_samples(first, [[{"role": "id", "content": "Kill_a_0"}, *_asked(" ".join(WORDS[:9]), sid=None)]],
                  validate=False)
    write_samples(second, [[{"role": "id", "content": "Kill_b_0"}, *_asked(" ".join(WORDS[5:14]), sid=None)]],
                  validate=False)
    index, counts = build_index([EvalSet("a", [first]), EvalSet("b", [second])], ngram=5, min_tokens=3,
                                exclude={"a"})
    assert counts == {"b": 1} and (index.ngram, index.min_tokens) == (5, 3)
    assert index.check(_asked("x " + " ".join(WORDS[7:12]) + " y")).eval_id == "Kill_b_0"  # a 5-gram of b
    assert index.check(_asked(" ".join(WORDS[:4]) + " zulu")) is None  # a's text was left out


def test_shingles_of_short_and_long_texts():
    from opentoollab.trainer.dedup import shingles

    assert shingles("?!", 3) == []
    assert shingles("Hello, World", 3) == [b"hello\x1fworld"]  # shorter than a shingle: the whole text
    assert shingles("a b c", 3) == [b"a\x1fb\x1fc"]
    assert shingles("a b c d", 3) == [b"a\x1fb\x1fc", b"b\x1fc\x1fd"]


def test_near_deduper_threshold_range_and_permutation_count():
    import pytest

    from opentoollab.trainer.dedup import NearDeduper

    for bad in (0.0, -0.1, 1.01):
        with pytest.raises(ValueError, match=r"threshold must be in \(0, 1\], got"):
            NearDeduper(threshold=bad)
    exact_only = NearDeduper(threshold=1.0)  # 1.0 is allowed: identical texts only
    assert exact_only.check("one two three four five", "a") is None
    assert exact_only.check("one two three four five", "b").of == "a"
    small = NearDeduper(num_perm=64)
    assert small.signature("one two three four five").hashvalues.shape == (64,)
    assert small.check("one two three four five six", "a") is None
    assert small.check("one two three four five six", "b").similarity == 1.0


def test_evaluation_sets_that_cannot_be_read_are_reported_and_the_others_still_looked_at(tmp_path, monkeypatch):
    """A corrupt download, or an adapter that cannot be imported, is named in ``missing``; the search goes on."""
    import opentoollab.datasets.sources as sources
    from opentoollab.datasets.fetch import write_provenance
    from opentoollab.datasets.store import Store
    from opentoollab.trainer.decontaminate import known_evaluation_sets

    store = Store(tmp_path)
    for name in ("ACEBench", "API-Bank"):  # downloaded, then changed on disk: processing them fails its checksums
        raw = store.raw_dir(name)
        raw.mkdir(parents=True)
        (raw / "data.json").write_text("[]", "utf-8")
        write_provenance(raw, kind="local", path="nowhere")
        (raw / "data.json").write_text("[1]", "utf-8")
    evaluation = [n for n in sources.source_names() if sources.get_source(n).evaluation_subsets]
    found, missing = known_evaluation_sets(store)
    assert found == [] and len(missing) == len(evaluation)  # every source was looked at, none stopped the search
    assert sorted(m.split(":")[0] for m in missing if "cannot be processed" in m) == ["ACEBench", "API-Bank"]
    assert any(m.startswith("BFCL: not processed in ") for m in missing)

    real = sources.get_source

    def unloadable(name):
        if name == "ACEBench":
            raise ImportError("no module named acebench_helpers")
        return real(name)

    monkeypatch.setattr(sources, "get_source", unloadable)
    _found, missing = known_evaluation_sets(store, process_missing=False)
    assert "ACEBench: adapter cannot be loaded (no module named acebench_helpers)" in missing
    assert len(missing) == len(evaluation)
