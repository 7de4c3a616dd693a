"""Seal-Tools (Wu et al., 2024; GitHub ``fairyshine/Seal-Tools``, folder ``Seal-Tools_Dataset/``): 4,076 tools, nested calls.

* ``tool.jsonl`` (CRLF): ``{"api_name", "api_description", "field", "parameters": {p: {"type": "str"|"int"|
  "float"|"bool"|…, "description"}}, "required": [...], "responses": {field: {"type", "description"}}}`` →
  unified tools (Python type names → JSON Schema, originals in ``x-original-type``; ``responses`` → ``response``;
  ``field`` kept as ``x-field``).
* ``train.jsonl``, ``dev.jsonl``, ``test_in_domain.jsonl``, ``test_out_domain.jsonl``: ``{"id", "query",
  "calling": [{"api", "parameters", "responses": ["API_call_0", ...]}]}``. ``query`` is the user message; the
  calls become ``tool_call_ground_truth`` (the corpus has no results), each value its one candidate.
* Nested calls: each label ``API_call_N`` of a call's ``responses`` names one of its tool's response fields,
  in declaration order, numbered across the record. A parameter value ``"API_call_N"`` (or ``"API_call_N
  response"``) is that field of that earlier call: it becomes ``<link>ID.FIELD</link>`` and the call lists the
  earlier one in ``depend_on``. A label that names no earlier call's field is a reject.
* The records carry no tool list: the candidate tools are the tools the record calls (joined from
  ``tool.jsonl``), which gives the answer away; every sample says so with the tag
  ``candidate-tools-are-the-answer`` in ``meta``. Seal-Tools' own evaluation retrieves tools first.

Not converted: ``dataset_in_old_format/`` and ``dataset_for_finetune/`` (the same records in older layouts and
as rendered prompts) and ``field.jsonl`` (the domain taxonomy, not records). ``dev`` and both test sets are
evaluation subsets.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator

from ...format.sample import CallNumbering, Sample
from ...format.schema_types import normalize_schema
from .base import Context, FetchError, RawRecord, Reject, Source, check_subsets, find_files
from .hub_json import iter_json_records
from .textcalls import ground_truth, opening, undeclared_arguments
from .github import GitHubFetch

FOLDER = "Seal-Tools_Dataset"
RECORD_FILES = {"train.jsonl": "train", "dev.jsonl": "dev", "test_in_domain.jsonl": "test_in_domain",
                "test_out_domain.jsonl": "test_out_domain"}
TOOL_FILE = "tool.jsonl"
OTHER_LAYOUTS = ("dataset_in_old_format", "dataset_for_finetune")
LABEL = re.compile(r"^API_call_(0|[1-9][0-9]*)( response)?$")
TAG = "candidate-tools-are-the-answer"


def convert_tool(raw: Any) -> dict[str, Any]:
    """One ``tool.jsonl`` line → a unified tool."""
    if not isinstance(raw, dict) or not isinstance(raw.get("api_name"), str) or not raw["api_name"]:
        raise ValueError(f"a tool without api_name: {str(raw)[:200]}")
    params = raw.get("parameters") or {}
    properties = {}
    for key, spec in params.items() if isinstance(params, dict) else ():
        spec = spec if isinstance(spec, dict) else {"description": str(spec)}
        properties[key] = normalize_schema({"description": spec.get("description", ""),
                                            **{k: v for k, v in spec.items() if k != "description"}})
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    required = [r for r in raw.get("required") or [] if isinstance(r, str)]
    if required:
        schema["required"] = required
    tool = {"name": raw["api_name"], "description": str(raw.get("api_description") or ""), "parameters": schema}
    responses = raw.get("responses")
    if isinstance(responses, dict) and responses:
        tool["response"] = {}
        for key, spec in responses.items():
            spec = normalize_schema(spec) if isinstance(spec, dict) else {}
            tool["response"][key] = {k: spec[k] for k in ("description", "type") if isinstance(spec.get(k), str)}
    if isinstance(raw.get("field"), str):
        tool["x-field"] = raw["field"]
    return tool


def load_catalog(path: Path) -> tuple[dict[str, dict[str, Any]], list[tuple[int, Any, str]]]:
    """``tool.jsonl`` → (name → tool (the first definition of a name wins), bad lines as (line, raw, reason))."""
    catalog: dict[str, dict[str, Any]] = {}
    bad: list[tuple[int, Any, str]] = []
    for line, value, error in iter_json_records(path):
        if error is None:
            try:
                tool = convert_tool(value)
            except Exception as exc:  # a malformed tool line is reported, the other tools are kept
                error = f"{TOOL_FILE} line {line}: {type(exc).__name__}: {str(exc)[:300]}"
            else:
                catalog.setdefault(tool["name"], tool)
                continue
        bad.append((line, value, error))
    return catalog, bad


def _link(value: Any, labels: dict[int, tuple[str, str]], where: str) -> tuple[Any, str | None]:
    """A parameter value → (value, call id it refers to): ``"API_call_N"`` becomes ``<link>ID.FIELD</link>``."""
    match = LABEL.match(value) if isinstance(value, str) else None
    if match is None:
        return value, None
    number = int(match.group(1))
    if number not in labels:
        raise Reject(f"{where}: {value!r} names no response of an earlier call")
    cid, field = labels[number]
    return f"<link>{cid}.{field}</link>", cid


def convert_record(data: Any, catalog: dict[str, dict[str, Any]], ctx: Context) -> tuple[list, list, list[str]]:
    """One record → (the tools it calls, the messages after them, tags)."""
    if not isinstance(data, dict) or not isinstance(data.get("query"), str) or not isinstance(data.get("calling"), list):
        raise Reject("record lacks a 'query' string or a 'calling' list")
    numbering = CallNumbering()
    labels: dict[int, tuple[str, str]] = {}  # API_call_N → (call id, response field)
    calls, tools, tags = [], {}, []
    for position, item in enumerate(data["calling"]):
        where = f"calling[{position}]"
        if not isinstance(item, dict) or not isinstance(item.get("api"), str) or not isinstance(item.get("parameters", {}), dict):
            raise Reject(f"{where}: not an {{api, parameters, responses}} object")
        tool = catalog.get(item["api"])
        if tool is None:
            raise Reject(f"{where}: {item['api']!r} is not in tool.jsonl")
        tools.setdefault(tool["name"], tool)
        parameters, depend_on = {}, []
        for key, value in item.get("parameters", {}).items():
            parameters[key], source = _link(value, labels, f"{where}.parameters.{key}")
            if source and source not in depend_on:
                depend_on.append(source)
        if depend_on:
            ctx.count("sealtools_nested_values", sum(1 for v in parameters.values() if isinstance(v, str) and v.startswith("<link>")))
        if undeclared_arguments(tool, parameters) and "undeclared-arguments" not in tags:
            tags.append("undeclared-arguments")
        cid = numbering.next_id(tool["name"])
        fields = list(tool.get("response") or {})
        own = item.get("responses") or []
        if not isinstance(own, list) or len(own) > len(fields):
            raise Reject(f"{where}: {len(own)} response labels for the {len(fields)} response fields of {tool['name']!r}")
        for label, field in zip(own, fields):
            match = LABEL.match(label) if isinstance(label, str) else None
            if match is None:
                raise Reject(f"{where}: response label {label!r} is not API_call_N")
            labels[int(match.group(1))] = (cid, field)
        calls.append({"name": tool["name"], "parameters": parameters, "depend_on": depend_on})
    body = [{"role": "user", "content": data["query"]}, {"role": "tool_call_ground_truth", "content": ground_truth(calls)}]
    level = re.search(r"-(easy|difficult)-", str(data.get("id", "")))
    return list(tools.values()), body, [TAG, *tags] + ([f"difficulty:{level.group(1)}"] if level else [])


class SealTools(GitHubFetch, Source):
    name = "Seal-Tools"
    aliases = ("Seal-Tool", "sealtools")
    license = "Apache-2.0"
    homepage = "https://github.com/fairyshine/Seal-Tools"
    description = "Seal-Tools: 4,076 generated tools, single and nested (dependent) multi-call instances"
    subsets = ("train", "dev", "test_in_domain", "test_out_domain")
    evaluation_subsets = ("dev", "test_in_domain", "test_out_domain")
    github_repo = "fairyshine/Seal-Tools"
    github_commit = "ce753ecd60ed08dd376984035de531ab8421f1c6"
    github_paths = tuple(f"{FOLDER}/{name}" for name in (TOOL_FILE, *RECORD_FILES))
    github_optional = (f"{FOLDER}/train.jsonl",)

    def __init__(self) -> None:
        self._catalog: dict[str, dict[str, Any]] = {}

    def records(self, raw: Path, subsets: list[str] | None = None) -> Iterator[RawRecord]:
        check_subsets(self, subsets)
        files = [f for f in find_files(raw, RECORD_FILES) if not set(Path(f[1]).parts) & set(OTHER_LAYOUTS)]
        reported: set[Path] = set()
        for path, rel, subset in files:
            if subsets and subset not in subsets:
                continue
            tool_file = path.parent / TOOL_FILE
            self._catalog, bad_tools = load_catalog(tool_file) if tool_file.is_file() else ({}, [])
            if tool_file not in reported:  # each bad tool line is one reject, in the first subset that reads it
                reported.add(tool_file)
                tool_rel = (Path(rel).parent / TOOL_FILE).as_posix()
                for line, value, error in bad_tools:
                    yield RawRecord(subset, tool_rel, line, Reject(f"tool definition dropped: {error}", raw=value))
            for line, value, error in iter_json_records(path):
                if error or not self._catalog:
                    reason = error or f"no {TOOL_FILE} beside {rel}: the records name tools it defines"
                    yield RawRecord(subset, rel, line, Reject(reason, raw=value))
                    continue
                source_id = value.get("id") if isinstance(value, dict) and isinstance(value.get("id"), str) else line
                yield RawRecord(subset, rel, line, value, source_id=source_id)

    def convert(self, record: RawRecord, ctx: Context) -> Sample:
        tools, body, tags = convert_record(record.data, self._catalog, ctx)
        messages, meta = opening(self, record, tools, None)
        meta["tags"] = tags
        return messages + body
