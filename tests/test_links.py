"""Dependency-link inference (opentoollab.format.links): each rule, the store hook, and BFCL's opt-out."""

from __future__ import annotations

import copy

import pytest

from adapter_support import by_role, run
from opentoollab.format.links import infer_links, is_linkable
from opentoollab.format.sample import assign_call_ids, iter_links, resolve_links
from opentoollab.datasets.sources import Context, get_source


def _sample(*messages):
    return [{"role": "id", "content": "T_t_0"}, {"role": "candidate_tools", "content": []}, *messages]


def _call(name, depend_on=None, **parameters):
    return {"name": name, "parameters": parameters, "depend_on": depend_on or []}


def _calls(sample):
    return [call for m in sample if m["role"] == "tool_call" for call in m["content"]]


def test_trivial_values_are_never_linkable():
    for value in (True, False, None, 0, 1, 9, -9.5, "", "a", "ab", "  x  ", [], {}, [True, 0], {"k": "ab"}):
        assert not is_linkable(value), value
    for value in ("abc", 10, -12.5, 184.5, ["ab", "abc"], {"k": 2739.25}):
        assert is_linkable(value), value


def test_a_token_from_a_result_becomes_a_link_with_depend_on():
    sample = _sample(
        {"role": "user", "content": "my username is foo and my password is bar"},
        {"role": "tool_call", "content": [_call("GetUserToken", username="foo", password="bar")]},
        {"role": "tool_response", "content": {"GetUserToken.0": {"token": "z9x8c7v6b5n4m3q2w1"}}},
        {"role": "tool_call", "content": [_call("AddAgenda", token="z9x8c7v6b5n4m3q2w1", time="2021-09-28 14:00:00")]},
        {"role": "tool_response", "content": {"AddAgenda.0": "success"}},
    )
    original = copy.deepcopy(sample)
    linked, count = infer_links(sample)
    assert sample == original  # pure
    assert count == 1
    add = _calls(linked)[1]
    assert add == _call("AddAgenda", ["GetUserToken.0"], token="<link>GetUserToken.0.token</link>", time="2021-09-28 14:00:00")


def test_user_given_values_echoes_and_same_list_calls_are_not_linked():
    sample = _sample(
        {"role": "user", "content": "Book the Grand Hotel in Paris for 2 nights"},
        {"role": "tool_call", "content": [_call("search", city="Paris"), _call("rate", hotel="Grand Hotel")]},
        {"role": "tool_response", "content": {"search.0": {"city": "Paris", "hotels": ["Grand Hotel", "Ritz Paris"]},
                                               "rate.0": {"hotel": "Grand Hotel", "stars": 5}}},
        {"role": "tool_call", "content": [_call("book", city="Paris", hotel="Grand Hotel", nights=2),
                                          _call("book", hotel="Ritz Paris"), _call("echo", query="Ritz Paris")]},
        {"role": "tool_response", "content": {"book.0": "ok", "book.1": "ok", "echo.0": "Ritz Paris"}},
        {"role": "tool_call", "content": [_call("echo", query="Ritz Paris")]},
        {"role": "tool_response", "content": {"echo.1": "Ritz Paris"}},
    )
    linked, count = infer_links(sample)
    calls = _calls(linked)
    assert calls[2] == _call("book", city="Paris", hotel="Grand Hotel", nights=2)  # user said them first
    assert calls[3] == _call("book", ["search.0"], hotel="<link>search.0.hotels.1</link>")
    assert calls[4] == _call("echo", ["search.0"], query="<link>search.0.hotels.1</link>")  # not book.1's list mate
    # echo.0 answered last, but its result repeats its own input (rule 4), so search.0 is still the source
    assert calls[5]["parameters"]["query"] == "<link>search.0.hotels.1</link>"
    assert count == 3


def test_nested_values_whole_results_and_the_most_recent_result():
    first = [{"role": "tool_call", "content": [_call("first")]},
             {"role": "tool_response", "content": {"first.0": "music://shape of you"}}]
    second = [{"role": "tool_call", "content": [_call("second")]},
              {"role": "tool_response", "content": {"second.0": {"items": [{"url": "music://shape of you", "id": 4711}]}}}]
    play = [{"role": "tool_call", "content": [_call("play", track={"source": "music://shape of you", "ids": [4711, 3]})]},
            {"role": "tool_response", "content": {"play.0": "ok"}},
            {"role": "tool_call_ground_truth", "content": [{"name": "play", "parameters": {"x": [4711]}, "depend_on": []}]}]
    sample = _sample({"role": "user", "content": "go"}, *first, *second, *play)
    linked, count = infer_links(sample)
    call = _calls(linked)[2]
    assert call["parameters"] == {"track": {"source": "<link>second.0.items.0.url</link>",
                                            "ids": ["<link>second.0.items.0.id</link>", 3]}}
    assert call["depend_on"] == ["second.0"] and count == 2
    assert linked[-1] == sample[-1]  # ground truth stays literal
    linked, count = infer_links(_sample({"role": "user", "content": "go"}, *first, *play[:2]))
    assert _calls(linked)[1]["parameters"]["track"]["source"] == "<link>first.0</link>" and count == 1


def test_numbers_must_match_exactly_and_dotted_keys_are_skipped():
    sample = _sample(
        {"role": "user", "content": "go"},
        {"role": "tool_call", "content": [_call("price")]},
        {"role": "tool_response", "content": {"price.0": {"a.b": "dotted key", "total": 4400.0}}},
        {"role": "tool_call", "content": [_call("pay", amount=4400, note="dotted key")]},
        {"role": "tool_response", "content": {"pay.0": "ok"}},
    )
    assert infer_links(sample) == (sample, 0)


@pytest.fixture(scope="module")
def api_bank_runs(shared, tmp_path_factory):
    origin = shared / "samples/api_bank"
    return (run("API-Bank", origin, tmp_path_factory.mktemp("on")),
            run("API-Bank", origin, tmp_path_factory.mktemp("off"), options={"infer_links": False}))


def test_store_hook_counts_links_and_can_be_switched_off(api_bank_runs):
    on, off = api_bank_runs
    links = sum(1 for s in on.all() for call in _calls(s) for _ in iter_links(call["parameters"]))
    assert links > 50 and on.manifest["counters"]["links_inferred"] == links
    assert "links_inferred" not in off.manifest["counters"]
    assert not any("<link>" in str(_calls(s)) for s in off.all())
    assert on.manifest["totals"] == off.manifest["totals"]


def test_resolving_every_inferred_link_gives_back_the_original_values(api_bank_runs):
    on, off = api_bank_runs
    for linked, plain in zip(on.all(), off.all()):
        results = {}
        ids = assign_call_ids(linked)
        for index, (a, b) in enumerate(zip(linked, plain)):
            if a["role"] == "tool_response":
                results.update(a["content"])
            if a["role"] == "tool_call":
                for cid, x, y in zip(ids[index], a["content"], b["content"]):
                    assert resolve_links(x["parameters"], results) == y["parameters"], cid
                    assert set(y["depend_on"]) <= set(x["depend_on"])


def test_adapter_and_inference_agree_with_a_direct_call(shared):
    source = get_source("API-Bank")
    path = shared / "samples/api_bank/lv1-lv2-samples/level-1-given-desc/AddAgenda-level-1-1.jsonl"
    record = next(iter(source.records(path)))
    body = source.convert(record, Context())
    linked, count = infer_links(body)
    assert count == 1
    assert by_role(linked, "tool_call")[1]["content"][0]["parameters"]["token"] == "<link>GetUserToken.0.token</link>"


def test_bfcl_opts_out_and_would_otherwise_get_links(bfcl_store, bfcl_samples):
    assert get_source("BFCL").infer_links is False
    assert "links_inferred" not in bfcl_store.manifest("BFCL")["counters"]
    multi = [s for name, samples in bfcl_samples.items() if name.startswith("multi_turn") for s in samples]
    assert not any("<link>" in str(_calls(s)) for s in multi)
    assert sum(infer_links(s)[1] for s in multi) > 0  # why the opt-out is needed: BFCL values recur in results
