"""The renderers' fast paths: exact JSON encoders, shared chat tools, per-object text caches."""

from __future__ import annotations

import copy
import json

from opentoollab.trainer.render import get_renderer, to_chat
from opentoollab.trainer.render.base import PerObject, chat_tools, tojson, tojson_indent

ODD_VALUES = [
    {}, [], {"a": []}, {"a": {}}, [[[]]], "plain", "", 0, -7, 10**40, 1.5, -0.0, 1e100, 2.5e-8, True, False, None,
    float("nan"), float("inf"), float("-inf"), "ünï\ncode \"quoted\" \\ \u2028 \x00",
    {"nested": {"list": [1, {"x": [None, True]}], "empty": {}}}, {1: "int key", 2.5: "float key", True: "bool key"},
    {"tuple": (1, "a")}, ("top", "tuple"),
]


def test_encoders_equal_json_dumps_on_every_bfcl_tool_and_odd_values(bfcl_samples):
    values = list(ODD_VALUES)
    for samples in bfcl_samples.values():
        for sample in samples:
            for message in sample:
                if message["role"] == "candidate_tools":
                    values.extend(message["content"])
    assert len(values) > 30000
    for value in values:
        assert tojson(value) == json.dumps(value, ensure_ascii=False)
        assert tojson_indent(value) == json.dumps(value, ensure_ascii=False, indent=4)
        assert tojson_indent(value, 2) == json.dumps(value, ensure_ascii=False, indent=2)


def test_equal_tool_lists_are_shared_and_different_ones_are_not(bfcl_samples):
    first, second = bfcl_samples["multi_turn_base"][:2]
    a, b = to_chat(first, tool_changes="union"), to_chat(copy.deepcopy(first), tool_changes="union")
    assert a.tools is b.tools  # loaded twice, converted once
    tools = next(m["content"] for m in first if m["role"] == "candidate_tools")
    reordered = [dict(reversed(list(tools[0].items())))] + tools[1:]
    retyped = copy.deepcopy(tools)
    retyped[0]["parameters"]["properties"] = {**retyped[0]["parameters"]["properties"], "n": {"type": "integer", "default": 1}}
    retyped_float = copy.deepcopy(retyped)
    retyped_float[0]["parameters"]["properties"]["n"]["default"] = 1.0
    retyped_bool = copy.deepcopy(retyped)
    retyped_bool[0]["parameters"]["properties"]["n"]["default"] = True
    shared = {id(chat_tools(t)) for t in (tools, reordered, retyped, retyped_float, retyped_bool)}
    assert len(shared) == 5  # key order, 1 / 1.0 / True all count
    renderer = get_renderer("Qwen2.5")
    texts = set()
    for variant in (retyped, retyped_float, retyped_bool):
        sample = [m if m["role"] != "candidate_tools" else {"role": "candidate_tools", "content": variant} for m in first]
        texts.add(renderer.render(to_chat(sample, tool_changes="union")).text)
    assert len(texts) == 3 and any('"default": 1.0' in t for t in texts) and any('"default": true' in t for t in texts)
    assert chat_tools([]) is None


def test_per_object_cache_never_serves_another_objects_text():
    calls = []
    cached = PerObject(lambda value: calls.append(1) or tojson(value))
    for n in range(2000):  # short-lived lists: ids get reused by CPython once an object dies
        assert cached([n, str(n)]) == f'[{n}, "{n}"]'
    kept = [1, 2]
    assert cached(kept) == cached(kept) == "[1, 2]"
    assert len(calls) == 2001
    PerObject.clear_all()
    assert cached(kept) == "[1, 2]" and len(calls) == 2002
