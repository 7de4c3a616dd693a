"""A sample → what is scored for it: category, kind, BFCL-shaped function docs and the ground truth.

Kinds: ``ast`` (single-turn calls checked against ``tool_call_ground_truth``), ``irrelevance`` (no call
is right: empty ground truth or the ``irrelevance`` tag), ``relevance`` (any call is right: the
``relevance`` tag), ``multi_turn`` (BFCL multi-turn trajectories, executed in BFCL's environments).
The point a prediction answers is the sample's first ``tool_call_ground_truth``; the messages before
it are the prompt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...format.sample import Sample, meta, sample_id
from .checker import LANGUAGES, Options, mode_of

JSON_TO_BFCL = {"object": "dict", "number": "float", "integer": "integer", "string": "string",
                "boolean": "boolean", "array": "array"}
LANGUAGE_OF = {"simple_java": "java", "simple_javascript": "javascript"}
OWN_SCORERS = {"ACEBench": "acebench", "NESTFUL": "nestful", "ComplexFuncBench": "nestful", "BFCL-memory": "memory",
               "tau2-bench": "tau2"}  # corpus → item kind scored by benchmark/scoring/<kind>.py


@dataclass
class Item:
    sample_id: str
    source_id: str | None
    category: str
    kind: str
    mode: str = "simple"
    functions: list[dict] = field(default_factory=list)
    answers: list[dict] = field(default_factory=list)
    language: str = "python"
    bfcl: bool = False
    sample: Sample | None = None

    def options(self, underscore_to_dot: bool = False) -> Options:
        return Options(language=self.language, underscore_to_dot=underscore_to_dot)


def bfcl_type_schema(schema: Any) -> dict[str, Any]:
    """A unified parameter schema → BFCL's view of it: its original type name, and ``items`` likewise."""
    if not isinstance(schema, dict):
        return {"type": None}
    original = schema.get("x-original-type")
    if not isinstance(original, str):
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), None)
        original = JSON_TO_BFCL.get(kind) if isinstance(kind, str) else None
    out: dict[str, Any] = {"type": original}
    if isinstance(schema.get("items"), dict):
        out["items"] = bfcl_type_schema(schema["items"])
    return out


def bfcl_function(tool: dict[str, Any]) -> dict[str, Any]:
    """A unified tool → a BFCL function doc as the checker reads it."""
    parameters = tool.get("parameters") or {}
    properties = parameters.get("properties") or {}
    return {"name": tool["name"], "parameters": {
        "type": "dict",
        "properties": {name: bfcl_type_schema(sub) for name, sub in properties.items()},
        "required": list(parameters.get("required") or []),
    }}


def ground_truth_index(sample: Sample) -> int | None:
    for index, message in enumerate(sample):
        if message.get("role") == "tool_call_ground_truth":
            return index
    return None


def tools_before(sample: Sample, index: int) -> list[dict]:
    """The candidate tools in force at message ``index``."""
    tools: list[dict] = []
    for message in sample[:index]:
        if message.get("role") == "candidate_tools":
            tools = message.get("content") or []
    return tools


def generic_mode(answers: list[dict], tools: list[dict]) -> str:
    if len(answers) > 1:
        return "parallel"
    return "multiple" if len(tools) > 1 else "simple"


def item_of(sample: Sample) -> Item | None:
    """What to score for a sample; None when it has nothing to score against."""
    info = meta(sample)
    sid = sample_id(sample) or ""
    source, subset = info.get("source") or "", info.get("subset") or ""
    is_bfcl = source == "BFCL"
    category = subset if is_bfcl else f"{source}/{subset}" if source else subset or "unknown"
    tags = set(info.get("tags") or [])
    common = dict(sample_id=sid, source_id=info.get("source_id"), category=category, bfcl=is_bfcl, sample=sample)
    if source in OWN_SCORERS:  # a benchmark judged by its own rules (scoring/<name>.py)
        return Item(kind=OWN_SCORERS[source], **common)
    if is_bfcl and subset.startswith("multi_turn"):
        return Item(kind="multi_turn", **common)
    if "relevance" in tags:
        return Item(kind="relevance", **common)
    index = ground_truth_index(sample)
    if "irrelevance" in tags or (index is not None and not sample[index].get("content")):
        return Item(kind="irrelevance", **common)
    if index is None:
        return None
    tools = tools_before(sample, index)
    answers = sample[index]["content"]
    mode = mode_of(subset) if is_bfcl else generic_mode(answers, tools)
    language = LANGUAGE_OF.get(subset, "python") if is_bfcl else "python"
    assert language in LANGUAGES
    return Item(kind="ast", mode=mode, functions=[bfcl_function(t) for t in tools], answers=answers,
                language=language, **common)
