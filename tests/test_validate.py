"""Every validation rule (schema layer and semantic layer) with a passing and a failing case."""

from __future__ import annotations

import copy

import pytest

from opentoollab.format.sample import assign_call_ids, first_candidates, resolve_links, split_link, tool_call_uid
from opentoollab.format.validate import checked_sample, validate_sample

WEATHER = {
    "name": "get_weather",
    "description": "Current weather of a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    "response": {"temperature": {"description": "°C", "type": "number"}},
}
CITY = {
    "name": "geo.city_of",
    "description": "City of a person (a dotted name, as in BFCL).",
    "parameters": {"type": "object", "properties": {"person": {"type": "string"}}},
}


def good() -> list:
    """A sample using every role: dependent calls with a link, hidden thought, ground truth."""
    return copy.deepcopy([
        {"role": "id", "content": "Demo_unit_0"},
        {"role": "meta", "content": {"source": "Demo", "subset": "unit", "source_id": 7, "license": "MIT"}},
        {"role": "candidate_tools", "content": [WEATHER, CITY]},
        {"role": "system", "content": "You are helpful."},
        {"role": "user", "content": "Weather where Zoë lives?"},
        {"role": "assistant", "hidden": True, "content": "Find the city first."},
        {"role": "tool_call", "content": [
            {"name": "geo.city_of", "parameters": {"person": "Zoë"}, "depend_on": []},
            {"name": "get_weather", "parameters": {"city": "<link>geo.city_of.0.city</link>"}, "depend_on": ["geo.city_of.0"]},
        ]},
        {"role": "tool_response", "content": {"geo.city_of.0": {"city": "Paris"}, "get_weather.0": {"temperature": 21.5}}},
        {"role": "assistant", "content": "21.5 °C in Paris."},
        {"role": "user", "content": "And in Rome?"},
        {"role": "tool_call_ground_truth", "content": [{"name": "get_weather", "parameters": {"city": ["Rome", "Roma"]}}]},
    ])


def rules(sample) -> set[str]:
    return {problem.rule for problem in validate_sample(sample)}


def test_good_sample_is_valid():
    assert validate_sample(good()) == []


def mutate(fn):
    sample = good()
    fn(sample)
    return sample


BROKEN = {
    # schema layer
    "schema": [
        lambda s: s.__setitem__(0, {"role": "user", "content": "no id"}),
        lambda s: s[4].__setitem__("content", 42),
        lambda s: s.__setitem__(10, {"role": "tool_call_ground_truth", "content": [{"name": "get_weather", "parameters": {"city": []}}]}),
        lambda s: s[2]["content"][0]["parameters"].__setitem__("type", "dict"),
        lambda s: s[6]["content"][0].__setitem__("id", "x"),
        lambda s: s.append({"role": "observer", "content": "?"}),
    ],
    "id_format": [lambda s: s[0].__setitem__("content", "no-underscores")],
    "id_position": [lambda s: s.insert(4, {"role": "id", "content": "Demo_unit_1"})],
    "meta_position": [lambda s: s.insert(4, s.pop(1))],
    "tools_position": [lambda s: s.insert(4, s.pop(2))],
    "duplicate_tool": [lambda s: s[2]["content"].append(copy.deepcopy(WEATHER))],
    "system_position": [lambda s: s.insert(5, {"role": "system", "content": "late"})],
    "response_position": [lambda s: s.insert(7, {"role": "assistant", "content": "wait"})],
    "response_missing": [lambda s: s[7]["content"].pop("get_weather.0")],
    "response_unknown": [lambda s: s[7]["content"].__setitem__("get_weather.1", 1)],
    "tools_missing": [lambda s: s.pop(2)],
    "unknown_tool": [lambda s: s[10]["content"][0].__setitem__("name", "get_forecast")],
    "call_id_format": [lambda s: s[6]["content"][1].__setitem__("depend_on", ["geo.city_of"])],
    "depend_on_unknown": [
        lambda s: s[6]["content"][0].__setitem__("depend_on", ["get_weather.0"]),  # a later call
        lambda s: s[6]["content"][1].__setitem__("depend_on", ["get_weather.0"]),  # itself
    ],
    "depend_on_duplicate": [lambda s: s[6]["content"][1].__setitem__("depend_on", ["geo.city_of.0", "geo.city_of.0"])],
    "link_not_in_depend_on": [lambda s: s[6]["content"][1].__setitem__("depend_on", [])],
    "no_user": [lambda s: [s.pop(9), s.pop(4)]],
}


@pytest.mark.parametrize("rule,index", [(rule, i) for rule, fns in BROKEN.items() for i in range(len(fns))])
def test_each_rule_fails_on_its_broken_sample(rule, index):
    sample = mutate(BROKEN[rule][index])
    assert rule in rules(sample), validate_sample(sample)


def test_problems_carry_json_paths():
    sample = mutate(lambda s: s[6]["content"][1].__setitem__("depend_on", ["nope.0"]))
    (problem,) = [p for p in validate_sample(sample) if p.rule == "depend_on_unknown"]
    assert problem.path == "$[6].content[1].depend_on[0]"
    schema_problem = validate_sample(mutate(lambda s: s[4].__setitem__("content", 42)))[0]
    assert schema_problem.path == "$[4].content"


def test_later_candidate_tools_change_the_tools_in_force():
    sample = good()
    sample.insert(9, {"role": "candidate_tools", "content": [CITY]})
    assert "unknown_tool" in rules(sample)  # get_weather is gone after the new list
    sample[9]["content"].append(WEATHER)
    assert validate_sample(sample) == []


def test_dependency_on_an_earlier_message_and_ground_truth_ids():
    sample = good()
    sample[10]["content"][0]["depend_on"] = ["geo.city_of.0"]
    sample[10]["content"][0]["parameters"]["city"] = ["<link>geo.city_of.0.city</link>"]
    assert validate_sample(sample) == []
    # ground-truth calls count towards ids: get_weather.0 in the tool_call, get_weather.1 here
    assert assign_call_ids(sample)[10] == ["get_weather.1"]


def test_non_sample_inputs_are_reported_not_raised():
    for bad in (None, {}, "text", [], [{"role": "id"}], [{"role": "id", "content": "A_b_0"}, 5]):
        assert validate_sample(bad), bad


def test_links_resolve_with_types_and_inside_text():
    results = {"geo.city_of.0": {"city": "Paris", "zip": [75001, 75002]}, "a.b.c.0": "whole"}
    assert resolve_links("<link>geo.city_of.0.zip.1</link>", results) == 75002
    assert resolve_links("<link>geo.city_of.0.zip</link>", results) == [75001, 75002]
    assert resolve_links("in <link>geo.city_of.0.city</link>!", results) == "in Paris!"
    assert resolve_links({"x": ["<link>a.b.c.0</link>"]}, results) == {"x": ["whole"]}
    assert split_link("a.b.c.0", ["a.b.0", "a.b.c.0"]) == ("a.b.c.0", [])


def test_first_candidates_and_call_uid():
    assert first_candidates({"a": ["", 2], "b": [""], "c": [{"k": [1]}]}) == {"a": 2, "c": {"k": [1]}}
    uid = tool_call_uid("BFCL_simple_python_0", "math.factorial.0")
    assert len(uid) == 9 and int(uid, 16) >= 0
    assert uid != tool_call_uid("BFCL_simple_python_1", "math.factorial.0")


def _deep(levels: int) -> list:
    """A sample whose call arguments nest so that the whole sample is ``levels`` deep."""
    sample = good()
    value: object = "x"
    for _ in range(levels - 6):  # the sample, message, list of calls, call, its parameters, the list: 6 levels
        value = [value]
    sample[10]["content"][0]["parameters"]["city"] = ["Rome", value]
    return sample


LINE_CASES = {
    "good": good,
    "deep_at_the_limit": lambda: _deep(100),
    "one_level_too_deep": lambda: _deep(101),
    **{f"{rule}_{i}": (lambda fn=fn: mutate(fn)) for rule, fns in BROKEN.items() for i, fn in enumerate(fns)},
    # what only the standard parser reads: validation must still see it all (not plain, so no shortcut)
    "lone_surrogate": lambda: mutate(lambda s: s[4].__setitem__("content", "half \ud800 a pair")),
    "integer_of_19_digits": lambda: mutate(lambda s: s[1]["content"].__setitem__("rank", 10 ** 18)),
    "integer_past_the_limit": lambda: mutate(lambda s: s[1]["content"].__setitem__("rank", 1 << 14000)),
    # more brackets than ORJSON_SAFE_BRACKETS (a long multi-turn sample) but shallow: still plain
    "many_brackets_shallow": lambda: mutate(lambda s: s[1]["content"].__setitem__("rows", [{"n": [i]} for i in range(300)])),
    # orjson reads it, but nesting past ORJSON_SAFE_BRACKETS is the standard parser's to judge
    "nested_past_the_plain_limit": lambda: _deep(450),
}
NOT_PLAIN = {"lone_surrogate", "integer_of_19_digits", "integer_past_the_limit", "nested_past_the_plain_limit"}


@pytest.mark.parametrize("name", sorted(LINE_CASES))
@pytest.mark.parametrize("escaped", [False, True])
def test_a_sample_read_strictly_has_the_same_problems(name, escaped):
    """``validate_sample(sample, strict=True)`` (the nesting checked by the schema validator) finds what the full
    check finds, with links written out or as \\u escapes in the line."""
    import json

    from opentoollab.format.sample import loads_line_or_lenient

    sample = LINE_CASES[name]()
    line = json.dumps(sample, ensure_ascii=escaped).encode("utf-8", "backslashreplace")  # a lone surrogate as \\ud800
    if escaped:  # every '<' escaped: a link the line does not show as text
        line = line.replace(b"<", b"\\u003c")
    read, strict = loads_line_or_lenient(line)
    assert read == sample and strict == (name not in NOT_PLAIN)
    assert validate_sample(read, strict) == validate_sample(sample)
    assert checked_sample(read, strict) == checked_sample(sample)  # the tagger's: problems and orjson's bytes


def test_the_nesting_limit_is_found_on_the_strict_path_too():
    from opentoollab.format.sample import MAX_DEPTH

    assert validate_sample(_deep(MAX_DEPTH), strict=True) == []
    (problem,) = validate_sample(_deep(MAX_DEPTH + 1), strict=True)
    assert problem.rule == "json" and f"deeper than {MAX_DEPTH}" in problem.message


def test_a_line_only_the_lenient_parser_reads_is_not_strict():
    import json

    from opentoollab.format.sample import loads_line_or_lenient

    sample = good()
    sample[1]["content"]["score"] = float("nan")
    read, strict = loads_line_or_lenient(json.dumps(sample).encode())
    assert not strict and read[1]["content"]["score"] != read[1]["content"]["score"]  # NaN, read as it was
    assert [p.rule for p in validate_sample(read, strict)] == ["json"]
