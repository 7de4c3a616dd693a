"""BFCL multi-turn results are stored as the executor's JSON values, not as the text BFCL's scorer compares (issue 20).

BFCL's ``execute_multi_turn_func_call`` returns a dict result as ``json.dumps`` text, a string as is, and
anything else as ``str()``. A sample must hold the value itself: the dict (so links and renderers see its
fields), never that text. Compared here against BFCL's own executor, imported from the pinned wheel.
"""

from __future__ import annotations

import json
import zipfile

import pytest

from opentoollab.datasets.sources.bfcl import MULTI_TURN
from opentoollab.tools.bfcl_runtime import bfcl_text

STRIDE = 8  # BFCL's executor on every 8th record (100 records); the cheap structural check covers all of them


def _object_text(text: str) -> dict | None:
    """The dict when ``text`` is exactly how BFCL's executor writes a dict result (json.dumps), else None."""
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) and json.dumps(value) == text else None


def _results(sample: list) -> list[list]:
    return [list(m["content"].values()) for m in sample if m["role"] == "tool_response"]


@pytest.fixture(scope="module")
def raw(bfcl_wheel):
    out = {}
    with zipfile.ZipFile(bfcl_wheel) as wheel:
        for category in MULTI_TURN:
            questions = [json.loads(l) for l in wheel.read(f"bfcl_eval/data/BFCL_v4_{category}.json").decode().splitlines()
                         if l.strip()]
            answers = [json.loads(l) for l in
                       wheel.read(f"bfcl_eval/data/possible_answer/BFCL_v4_{category}.json").decode().splitlines() if l.strip()]
            out[category] = ({q["id"]: q for q in questions}, {a["id"]: a["ground_truth"] for a in answers})
    return out


def test_no_result_is_stored_as_json_text(bfcl_samples):
    kinds: dict[str, int] = {}
    for category in MULTI_TURN:
        for sample in bfcl_samples[category]:
            for turn in _results(sample):
                for value in turn:
                    kind = type(value).__name__
                    kinds[kind] = kinds.get(kind, 0) + 1
                    if isinstance(value, str):
                        assert _object_text(value) is None, (sample[0]["content"], value[:200])
    assert kinds.get("dict", 0) > 2000 and kinds.get("dict", 0) > 10 * kinds.get("str", 0), kinds


def test_results_equal_the_values_bfcls_executor_returns(bfcl_samples, raw, official_bfcl):
    execute = official_bfcl.multi_turn_utils.execute_multi_turn_func_call
    compared = values = 0
    for category in MULTI_TURN:
        entries, answers = raw[category]
        for sample in bfcl_samples[category][::STRIDE]:
            source_id = sample[1]["content"]["source_id"]
            entry = entries[source_id]
            theirs = []
            for turn in answers[source_id]:
                if turn:
                    texts, _ = execute(turn, entry["initial_config"], entry["involved_classes"], "opentoollab_planted",
                                       source_id, long_context="long_context" in category, is_evaL_run=True)
                    theirs.append(texts)
            ours = _results(sample)
            assert len(ours) == len(theirs), source_id
            for mine, reference in zip(ours, theirs):
                assert len(mine) == len(reference), source_id
                for value, text in zip(mine, reference):
                    as_dict = _object_text(text)
                    if as_dict is not None:  # the executor got a dict: the sample holds that dict
                        assert value == as_dict and isinstance(value, dict), (source_id, value)
                    else:  # a string result is kept as is; lists, numbers... as values printing the same
                        assert bfcl_text(value) == text, (source_id, value, text)
                    values += 1
            compared += 1
    assert compared >= 90 and values > 300, (compared, values)
