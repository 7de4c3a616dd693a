"""From a pipeline's final record to a unified sample: messages, links, categories and provenance.

A pipeline ends with records holding ``tools`` (the first tool list), ``conversation`` (unified
messages without ids: user, assistant, tool_call, tool_response, a later candidate_tools) and
optionally ``system``, ``categories`` (what the recipe asked for, e.g. miss_param), ``simulated``
and ``environment``. ``build_sample`` adds the id and meta, infers ``<link>`` references where a
later argument equals an earlier result (``format.links``), and the categories are read from the
structure (single, multiple, parallel, dependent, multi_step, multi_turn, no_tool, error_recovery)
plus the requested ones. Pure functions.
May import: ``opentoollab.format`` and the standard library.
"""

from __future__ import annotations

from typing import Any

from ...format.links import infer_links
from ...format.sample import Sample, make_sample_id

CATEGORY_ORDER = ("single", "parallel", "multiple", "dependent", "multi_step", "multi_turn", "miss_param",
                  "miss_func", "no_tool", "long_context", "error_recovery")
LICENSE = "other"  # generated text: the model's and the inputs' terms apply; a recipe may name a license


def structure_categories(sample: Sample) -> set[str]:
    """Categories read from the messages themselves."""
    found: set[str] = set()
    users = calls = 0
    steps_since_user = 0
    tools = 0
    names: set[str] = set()
    error_seen = False
    for message in sample:
        role, content = message["role"], message["content"]
        if role == "candidate_tools":
            tools = max(tools, len(content))
        elif role == "user":
            users += 1
            steps_since_user = 0
        elif role == "tool_call":
            calls += len(content)
            names.update(call["name"] for call in content)
            steps_since_user += 1
            if len(content) > 1:
                found.add("parallel")
            if steps_since_user > 1:
                found.add("multi_step")
            if any(call.get("depend_on") for call in content):
                found.add("dependent")
            if error_seen:
                found.add("error_recovery")
        elif role == "tool_response":
            error_seen = any(isinstance(r, dict) and "error" in r for r in content.values())
    if calls == 0:
        found.add("no_tool")
    elif calls == 1:
        found.add("multiple" if tools > 1 else "single")
    if users > 1:
        found.add("multi_turn")
    return found


def ordered(categories: set[str]) -> list[str]:
    known = [c for c in CATEGORY_ORDER if c in categories]
    return known + sorted(categories - set(CATEGORY_ORDER))


def draft_sample(record: dict[str, Any], sample_id: str = "synth_check_0") -> Sample:
    """The record's messages as a sample (id, tools, system, dialogue) with inferred links; no meta."""
    sample: Sample = [{"role": "id", "content": sample_id},
                      {"role": "candidate_tools", "content": list(record.get("tools") or [])}]
    if isinstance(record.get("system"), str) and record["system"].strip():
        sample.append({"role": "system", "content": record["system"]})
    sample.extend({"role": m["role"], "content": m["content"]} for m in record.get("conversation") or [])
    linked, _ = infer_links(sample)
    return linked


def build_sample(record: dict[str, Any], *, pipeline: str, subset: str, k: int, source_id: str,
                 generator: dict[str, Any], license: str = LICENSE) -> Sample:
    """The final sample of one record: ``<pipeline>_<subset>_<k>``, meta with provenance, linked calls."""
    body = draft_sample(record, make_sample_id(pipeline, subset, k))
    categories = ordered(structure_categories(body) | set(record.get("categories") or []))
    meta: dict[str, Any] = {"source": pipeline, "subset": subset, "source_id": source_id, "license": license,
                            "categories": categories, "generator": generator}
    if record.get("environment"):
        meta["environment"] = record["environment"]
    if record.get("simulated"):
        meta["simulated"] = True
    return [body[0], {"role": "meta", "content": meta}, *body[1:]]
