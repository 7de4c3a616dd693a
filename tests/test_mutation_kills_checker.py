"""What the mutation run of the BFCL checker (``scripts/mutation.py checker``) found unpinned.

A verdict's ``error_type`` and ``error`` are what score reports show per sample (results.jsonl): BFCL's
own error type and message(s), joined into one string where BFCL keeps a list (without the per-candidate
detail BFCL adds to a parallel mismatch). Most tests compare the whole verdict with BFCL's checker from the
pinned wheel: on every AST item's gold and wrong answers, and on hand-made items for the rules the data
never reaches. The rest pin our own verdicts where BFCL's checker raises instead. docs/testing.md lists
the surviving mutants, each equivalent to the original.
"""

from __future__ import annotations

from collections import Counter

import pytest

from opentoollab.benchmark.scoring import Item, item_of, parse_text
from opentoollab.benchmark.scoring.parity import (PARITY_MODEL, bfcl_entries, gold_calls, load_official, mutations,
                                                  official_output)
from opentoollab.benchmark.scoring.score import score_item

RIGHT = {"valid": True, "error_type": "", "error": ""}


@pytest.fixture(scope="module")
def official(bfcl_wheel):
    return load_official(bfcl_wheel)


def _ours(result: dict) -> dict:
    return {"valid": result["valid"], "error_type": result["error_type"], "error": result["error"]}


def _official(official, functions, calls, possible, category, language="python") -> dict:
    """BFCL's ast_checker as one verdict: its error type when invalid, its message strings joined."""
    language_enum = getattr(official.Language, language.upper())
    result = official.ast_checker(functions, official_output(calls), possible, language_enum, category, PARITY_MODEL)
    if result["valid"]:
        return RIGHT
    return {"valid": False, "error_type": result["error_type"],
            "error": " ".join(e for e in result["error"] if isinstance(e, str))}


def test_verdicts_and_messages_equal_bfcls_on_every_ast_item(bfcl_samples, bfcl_store, official):
    """Every rule's message as BFCL writes it (naming the parameter, the value given and what was expected)."""
    entries, answers = bfcl_entries(bfcl_store.raw_dir("BFCL"))
    seen = Counter()
    for samples in bfcl_samples.values():
        for sample in samples:
            item = item_of(sample)
            if item.kind != "ast":
                continue
            gold = gold_calls(item.functions, item.answers, item.language)
            for kind, calls in [("gold", gold), *mutations(gold)]:
                ours = _ours(score_item(item, {"calls": calls})[0])
                theirs = _official(official, entries[item.source_id]["function"], calls, answers[item.source_id],
                                   item.category, item.language)
                assert ours == theirs, (item.source_id, kind, calls)
                seen[theirs["error_type"]] += 1
    assert len(seen) >= 18 and seen[""] > 10_000, seen  # the 17 error types the data reaches, and right answers


# ------------------------------------------------------------------ hand-made items for rules the data never reaches
def _doc(properties: dict, required: tuple = (), name: str = "f") -> dict:
    return {"name": name, "parameters": {"type": "dict", "required": list(required), "properties": properties}}


def _item(properties: dict, parameters: dict, kind: str = "ast", **doc) -> Item:
    return Item(sample_id="Kill_checker_0", source_id=None, category="simple_python", kind=kind, mode="simple",
                functions=[_doc(properties, **doc)], answers=[{"name": "f", "parameters": parameters}], bfcl=True)


INTS = {"type": "array", "items": {"type": "integer"}}
ROWS = {"type": "array", "items": {"type": "dict"}}
CASES = [  # (properties, possible answers, the model's arguments, BFCL's error type)
    # nested type check: an item of the wrong type, then (no answer to fall back on) the outer type too
    ({"xs": INTS}, {"xs": [[1, 2]]}, {"xs": [1, "2"]}, "type_error:nested"),
    ({"xs": INTS}, {"xs": []}, {"xs": [1, 2]}, "type_error:simple"),
    # `items` is read only for array and tuple
    ({"n": {"type": "integer", "items": {"type": "string"}}}, {"n": [[1]]}, {"n": 1}, "value_error:others"),
    # a dict where the answer only allows leaving it out
    ({"opts": {"type": "dict"}}, {"opts": [""]}, {"opts": {"a": 1}}, "dict_checker:unclear"),
    # a missing key; a wrong value or key and a missing key: both messages
    ({"opts": {"type": "dict"}}, {"opts": [{"a": ["x"], "b": [1]}]}, {"opts": {"a": "X"}}, "value_error:dict_key"),
    ({"opts": {"type": "dict"}}, {"opts": [{"a": ["X y"], "b": [1]}]}, {"opts": {"a": "z"}}, "value_error:dict_key"),
    ({"opts": {"type": "dict"}}, {"opts": [{"a": ["x"], "b": [1]}]}, {"opts": {"c": 1}}, "value_error:dict_key"),
    ({"opts": {"type": "dict"}}, {"opts": [{"a": ["Café's"]}]}, {"opts": {"a": "x"}}, "value_error:dict_value"),
    # list of dicts: a candidate of another length is skipped, the next one still tried
    ({"rows": ROWS}, {"rows": [[{"a": [1]}], [{"a": [1]}, {"a": [2]}]]}, {"rows": [{"a": 1}, {"a": 2}]}, ""),
    ({"rows": ROWS}, {"rows": [[{"a": [1]}], [{"a": [1]}, {"a": [2]}]]}, {"rows": [{"a": 1}, {"a": 3}]},
     "value_error:dict_value"),
    # strings: lower-cased (not upper-cased: "ß" stays apart from "ss"), single quotes read as double ones
    ({"s": {"type": "string"}}, {"s": ["Straße"]}, {"s": "STRASSE"}, "value_error:string"),
    ({"s": {"type": "string"}}, {"s": ['say "hi"']}, {"s": "say 'hi'"}, ""),
]


@pytest.mark.parametrize("properties, possible, arguments, error_type", CASES)
def test_hand_made_verdicts_equal_bfcls(official, properties, possible, arguments, error_type):
    item = _item(properties, possible)
    calls = [{"name": "f", "arguments": arguments}]
    theirs = _official(official, item.functions, calls, [{"f": possible}], "simple_python")
    assert theirs["error_type"] == error_type  # the case reaches the rule it is meant for
    assert _ours(score_item(item, {"calls": calls})[0]) == theirs


def test_parallel_mismatch_names_the_calls_left_unmatched(official):
    item = _item({"a": {"type": "integer"}}, {"a": [1]})
    item.mode, item.category = "parallel", "parallel"
    item.answers = [{"name": "f", "parameters": {"a": [1]}}, {"name": "f", "parameters": {"a": [2]}}]
    calls = [{"name": "f", "arguments": {"a": 1}}, {"name": "f", "arguments": {"a": 3}}]
    theirs = _official(official, item.functions, calls, [{"f": {"a": [1]}}, {"f": {"a": [2]}}], "parallel")
    assert _ours(score_item(item, {"calls": calls})[0]) == theirs
    assert "among index [1] of model output for index 1" in theirs["error"]


@pytest.mark.parametrize("properties, text, error_type", [
    ({"pair": {"type": "tuple", "items": {"type": "integer"}}}, "f(pair=(1, 2))", ""),  # a tuple for a tuple: a list
    ({"pair": {"type": "tuple", "items": {"type": "integer"}}}, "f(pair='12')", "type_error:simple"),
    ({"pair": INTS}, "f(pair=(1, 2))", "type_error:simple"),  # a tuple is no array
])
def test_python_tuples_in_model_text_are_checked_like_bfcl(official, properties, text, error_type):
    item = _item(properties, {"pair": [[1, 2]]})
    theirs = _official(official, item.functions, parse_text(text), [{"f": {"pair": [[1, 2]]}}], "simple_python")
    assert theirs["error_type"] == error_type
    assert _ours(score_item(item, {"result": text})[0]) == theirs


# ------------------------------------------------------------------ our verdicts where BFCL's checker raises
def test_parameter_without_a_type_is_checked_by_value_only():
    """Docs of other corpora: no type constraint; a string still compares like BFCL's strings (case-insensitive)."""
    item = _item({"city": {"type": None}}, {"city": ["Oslo"]})
    assert _ours(score_item(item, {"calls": [{"name": "f", "arguments": {"city": "OSLO"}}]})[0]) == RIGHT
    wrong = score_item(item, {"calls": [{"name": "f", "arguments": {"city": 5}}]})[0]
    assert wrong["error_type"] == "value_error:others" and "'city'" in wrong["error"] and "5" in wrong["error"]


def test_doc_without_required_list_requires_nothing():
    item = Item(sample_id="Kill_checker_0", source_id=None, category="simple_python", kind="ast",
                functions=[{"name": "f", "parameters": {"type": "dict", "properties": {"a": {"type": "integer"}}}}],
                answers=[{"name": "f", "parameters": {"a": [1, ""]}}])
    assert _ours(score_item(item, {"calls": [{"name": "f", "arguments": {}}]})[0]) == RIGHT
    assert _ours(score_item(item, {"calls": [{"name": "f", "arguments": {"a": 1}}]})[0]) == RIGHT


def test_number_past_float_range_is_scored_wrong_with_the_reason():
    item = _item({"x": {"type": "float"}}, {"x": [1.0]})
    result = score_item(item, {"result": "f(x=1" + "0" * 400 + ")"})[0]
    assert result["valid"] is False and result["error_type"] == "checker:limit"
    assert "OverflowError" in result["error"] and "int too large to convert to float" in result["error"]


def test_item_the_checker_cannot_check_is_scored_wrong_with_the_reason():
    item = _item({"a": {"type": "integer"}}, {"a": [1]})
    item.mode, item.answers = "multiple", [{"name": "missing_doc", "parameters": {"a": [1]}}]
    result = score_item(item, {"calls": [{"name": "missing_doc", "arguments": {"a": 1}}]})[0]
    assert result["valid"] is False and result["error_type"] == "checker:unsupported"
    assert "KeyError" in result["error"] and "'missing_doc'" in result["error"]  # names the function without a doc
    odd = "T" * 600  # a Java type BFCL has no conversion for: the excerpt of the exception stays at 500 characters
    java = Item(sample_id="Kill_checker_0", source_id=None, category="simple_java", kind="ast", language="java",
                functions=[_doc({"a": {"type": odd}})], answers=[{"name": "f", "parameters": {"a": [1]}}])
    result = score_item(java, {"calls": [{"name": "f", "arguments": {"a": "1"}}]})[0]
    assert result["error_type"] == "checker:unsupported" and "KeyError" in result["error"]
    assert len(result["error"][result["error"].index("'T"):]) == 500


def test_calls_whose_arguments_are_no_object_are_no_call_list():
    """BFCL's is_function_calling_format_output: such output is the wrong format, and no call for irrelevance."""
    bad = {"calls": [{"name": "f", "arguments": [1]}]}
    result = score_item(_item({"a": {"type": "integer"}}, {"a": [1]}), bad)[0]
    assert result["valid"] is False and result["error_type"] == "ast_decoder:decoder_wrong_output_format"
    irrelevance = _item({"a": {"type": "integer"}}, {}, kind="irrelevance")
    assert _ours(score_item(irrelevance, bad)[0]) == RIGHT  # a right answer shows no error type or message
    relevance = _item({"a": {"type": "integer"}}, {}, kind="relevance")
    assert _ours(score_item(relevance, {"calls": [{"name": "f", "arguments": {"a": 1}}]})[0]) == RIGHT
