"""xLAM function-calling-60k (APIGen): 60,000 single-turn queries with verified (often parallel) calls.

Hub ``Salesforce/xlam-function-calling-60k`` (gated: accept the terms on the hub page, then pass
``--token`` or set ``HF_TOKEN``), one file ``xlam_function_calling_60k.json``: a JSON array of
``{"id", "query", "answers", "tools"}`` where ``answers`` and ``tools`` are JSON *strings*.

- ``tools``: ``[{"name", "description", "parameters": {pname: {"type", "description", "default"?}}}]``,
  a flat parameter map with Python-style type names (``str``, ``List[int]``, ``float, optional``,
  ``Union[...]``). It becomes a JSON Schema object: types mapped (original in ``x-original-type``),
  ``default`` kept, and ``required`` = the parameters neither marked ``optional`` nor given a default.
- ``answers``: ``[{"name", "arguments"}]``; several items are parallel calls. The corpus records no
  results, so they become ``tool_call_ground_truth`` with each argument value as its one candidate
  (DESIGN §1), usable both for training and for BFCL-style scoring.
- ``query`` becomes the user message. An empty ``answers`` list means "no call" (ground truth ``[]``).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from ...format.sample import Sample, loads_strict
from ...format.schema_types import json_type, split_type_args
from .base import Context, RawRecord, Reject
from .hub_json import HubJsonSource
from .textcalls import check_declared, ground_truth, opening, parse_arguments, tool_from_function, unique_tools

DATA_FILE = "xlam_function_calling_60k.json"


def parameter_schema(spec: Any, name: str) -> tuple[dict[str, Any], bool]:
    """One xLAM parameter spec → (JSON Schema, required?)."""
    if not isinstance(spec, dict):
        raise Reject(f"parameter {name!r} is not an object: {str(spec)[:120]}")
    original = spec.get("type")
    if isinstance(original, str):
        typed, optional = _type_schema(original)
        schema = {key: dict(value) if isinstance(value, dict) else value for key, value in typed.items()}
    else:
        schema, optional = ({"x-original-type": original} if original is not None else {}), False
    for key, value in spec.items():
        if key != "type":
            schema[key] = value
    return schema, not optional and "default" not in spec


@lru_cache(maxsize=4096)
def _type_schema(original: str) -> tuple[dict[str, Any], bool]:
    """A Python-style type name → (the type part of a JSON Schema, marked optional?). Cached: the vocabulary is small."""
    parts = split_type_args(original)
    base = parts[0] if parts else ""
    optional = any(part.lower().startswith("optional") for part in parts[1:]) or base.lower().startswith("optional[")
    schema: dict[str, Any] = {}
    mapped = json_type(base) if base else None
    if mapped is not None:
        schema["type"] = mapped
        if mapped == "array":
            items = _item_type(base)
            if items:
                schema["items"] = {"type": items}
    if mapped != original:
        schema["x-original-type"] = original
    return schema, optional


def _item_type(base: str) -> str | None:
    """``List[int]`` → ``integer``; None when the element type is absent or maps to nothing."""
    if "[" not in base or not base.rstrip().endswith("]"):
        return None
    args = split_type_args(base[base.index("[") + 1:base.rstrip().rindex("]")])
    return json_type(args[0]) if len(args) == 1 else None


def convert_tool(raw: Any, where: str) -> dict[str, Any]:
    """An xLAM tool (flat parameter map) → unified tool with a JSON Schema ``parameters`` object."""
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not raw["name"]:
        raise Reject(f"{where}: a tool without a name: {str(raw)[:200]}")
    params = raw.get("parameters") or {}
    if not isinstance(params, dict):
        raise Reject(f"{where}: tool {raw['name']!r} has parameters that are not an object")
    if params.get("type") == "object" and isinstance(params.get("properties"), dict):  # already JSON Schema
        return tool_from_function(raw, where)
    properties, required = {}, []
    for pname, spec in params.items():
        properties[pname], needed = parameter_schema(spec, pname)
        if needed:
            required.append(pname)
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    description = raw.get("description")
    return {"name": raw["name"], "description": description if isinstance(description, str) else "", "parameters": schema}


def _decode(value: Any, field: str) -> Any:
    if isinstance(value, str):
        try:
            return loads_strict(value)
        except ValueError as exc:
            raise Reject(f"'{field}' is not valid JSON ({str(exc)[:200]}; truncated?)") from None
    return value


class XLAM(HubJsonSource):
    name = "xLAM"
    aliases = ("xlam-60k", "xlam-function-calling-60k")
    license = "CC-BY-4.0"
    homepage = "https://huggingface.co/datasets/Salesforce/xlam-function-calling-60k"
    description = "xLAM function-calling-60k (APIGen): single-turn queries with verified parallel/multiple calls"
    subsets = ("train",)
    hub_repo = "Salesforce/xlam-function-calling-60k"
    hub_revision = "26d14ebfe18b1f7b524bd39b404b50af5dc97866"  # main as of 2024-2025, cited by several public pipelines
    hub_files = {DATA_FILE: "train"}

    def source_id(self, value: Any, location: int) -> str | int:
        if isinstance(value, dict) and isinstance(value.get("id"), (int, str)) and not isinstance(value.get("id"), bool):
            return value["id"]
        return location

    def convert(self, record: RawRecord, ctx: Context) -> Sample:
        row = record.data
        if not isinstance(row, dict) or not isinstance(row.get("query"), str):
            raise Reject("record lacks a 'query' string")
        if "answers" not in row:  # the field that holds the answers: without it, "no call" would be a guess
            raise Reject("record lacks 'answers'")
        tools_raw = _decode(row.get("tools", "[]"), "tools")
        answers = _decode(row["answers"], "answers")
        if not isinstance(tools_raw, list) or not isinstance(answers, list):
            raise Reject("'tools' and 'answers' must be JSON lists")
        tools = unique_tools([convert_tool(t, f"tools[{i}]") for i, t in enumerate(tools_raw)], ctx.count)
        declared = {tool["name"] for tool in tools}
        calls = []
        for index, answer in enumerate(answers):
            where = f"answers[{index}]"
            if not isinstance(answer, dict) or not isinstance(answer.get("name"), str):
                raise Reject(f"{where}: not a {{name, arguments}} object: {str(answer)[:200]}")
            check_declared(answer["name"], declared, where)
            calls.append({"name": answer["name"], "parameters": parse_arguments(answer.get("arguments", {}), where)})
        if len(calls) > 1:
            ctx.count("parallel_call_samples")
        messages, meta = opening(self, record, tools, None)
        if not calls:
            meta["tags"] = ["irrelevance"]
        messages.append({"role": "user", "content": row["query"]})
        messages.append({"role": "tool_call_ground_truth", "content": ground_truth(calls)})
        return messages
