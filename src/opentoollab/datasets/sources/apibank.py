"""API-Bank (Li et al., 2023; HF ``liminghao1630/API-Bank``, GitHub AlibabaResearch/DAMO-ConvAI ``api-bank/``).

Every layout of the release is read:

* ``lv1-lv2-samples/<folder>/*.jsonl`` — one dialogue per file, one turn per line (``User``/``AI``/``API``
  rows with ``param_dict`` and ``result``). Tool definitions are not in these files (the authors keep
  them as Python code): they are taken from the test data of the same folder tree (which declares the
  same APIs), from ``ToolSearcher`` results inside the dialogue, and only when none of those has it,
  derived from the calls themselves (marked ``"x-derived-from-calls": true``, counted).
* ``test-data/level-{1,2}-{api,response}.json``, ``test-data/level-3-batch-inf*.json`` and
  ``training-data/*.json`` — alpaca-style ``{instruction, input, output}`` evaluation points: tool
  definitions as JSON lines (in ``instruction`` after "API descriptions:", or ``apiCode`` lines at the
  top of ``input``), the history as ``User:``/``AI:``/``API-Request: [Name(k='v')]->result`` text, and
  the target: an ``API-Request`` (→ ``tool_call_ground_truth``) or the AI reply (→ ``assistant``).
* ``test-data/level-3.json`` — ``{requirement, response, apis}``: one complete level-3 chain.

Prompt templates (the "Generate an API request in the format of ..." text) are API-Bank's rendering,
not content, and are left out; the facts they carry ("The current year is 2023.", lv3-train's
``{{time}}`` filled from the ``TIME: ...`` glued to the user text) become the ``system`` message. The
ICL file keeps its demonstration prompt as ``system``, since that is what makes it a separate subset.

Stated dependencies: an API found by ``ToolSearcher`` joins the candidate tools after that search's
result (a new ``candidate_tools`` message), and every later call of it lists the search in
``depend_on``. Value dependencies along the chains (a token from ``GetUserToken``, a time from
``QueryMeeting``) are found by ``opentoollab.format.links`` during processing.

Not converted: ``lv3-samples/*.txt`` (free-text scenario seeds for the authors' annotators: no tool
definitions, calls in an order that is not an execution order, unquoted argument values, no results)
and ``data/all_apis.csv`` (an early API design catalogue whose parameter names differ from the data).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator

from ..fetch import copy_local, hub_snapshot, write_provenance
from ...format.pycall import PREFIX, CallSyntaxError, parse_api_request, parse_python_value, parse_result
from ...format.sample import CallNumbering, Sample
from ...format.schema_types import normalize_schema
from .base import Context, FetchError, RawRecord, Reject
from .hub_json import HubJsonSource, iter_array_file, iter_jsonl_records

HUB_REPO = "liminghao1630/API-Bank"
# No commit sha of the hub repository could be looked up offline; "main" is pinned here and the
# provenance record keeps the sha256 of every fetched file, so a later change is detected.
HUB_REVISION = "main"
HUB_PATTERNS = ["*.json", "*.jsonl", "*.md", "*.txt", "*.csv"]
LICENSE = "Apache-2.0"

DIALOGUE_SUBSETS = ("level-1-given-desc", "level-2-toolsearcher")
TEST_SUBSETS = ("level-1-api", "level-1-response", "level-2-api", "level-2-response", "level-3",
                "level-3-batch-inf", "level-3-batch-inf-response", "level-3-batch-inf-icl")
TRAIN_SUBSETS = ("lv1-api-train", "lv1-response-train", "lv2-api-train", "lv2-response-train",
                 "lv3-train", "lv3-api-train", "lv3-response-train")
TOOL_SEARCHER = "ToolSearcher"
# ToolSearcher's definition exactly as API-Bank's own test files declare it (dialogue files omit it).
TOOL_SEARCHER_DEF = {
    "name": TOOL_SEARCHER, "description": "Searches for relevant tools in library based on the keywords.",
    "input_parameters": {"keywords": {"type": "str", "description": "The keyword to search for."}},
    "output_parameters": {"best_matchs": {"type": "Union[List[dict], dict]", "description": "The best match tool(s)."}},
}
TURN = re.compile(r"^(User|AI|API-Request|Generate API Request|Generate AI Response):[ ]?", re.M)
FACT = re.compile(r"^The current (?:year|time|date) is .*$", re.M)
GLUED_TIME = re.compile(r"^(?P<text>.*?)\s*TIME: (?P<time>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\s*$", re.S)
TOOL_HEADER = re.compile(r"API descriptions?:\n")
WRAPPER_KEYS = {"api_name", "input", "output", "exception"}


# ---------------------------------------------------------------------------------------------- tools
def _property(spec: Any) -> dict[str, Any]:
    if not isinstance(spec, dict):
        return {"description": str(spec)}
    out = {"description": spec["description"]} if isinstance(spec.get("description"), str) else {}
    return normalize_schema({**out, **{k: v for k, v in spec.items() if k != "description"}})


def _fields(value: Any, tool: str) -> dict[str, Any]:
    """A parameter map; ``None``, ``{}`` and the set ``{'none'}`` some generated definitions hold mean none."""
    if isinstance(value, dict):
        return value
    if not value or (isinstance(value, list) and all(str(v).lower() == "none" for v in value)):
        return {}
    raise Reject(f"tool {tool!r}: parameters are not an object: {str(value)[:200]}")


def convert_tool(definition: Any) -> dict[str, Any]:
    """An API-Bank definition (``name``/``input_parameters`` or ``apiCode``/``parameters``) → unified tool."""
    if not isinstance(definition, dict):
        raise Reject(f"tool definition is not an object: {str(definition)[:200]}")
    name = definition.get("name", definition.get("apiCode"))
    if not isinstance(name, str) or not name:
        raise Reject(f"tool definition without a name: {str(definition)[:200]}")
    inputs = _fields(definition.get("input_parameters", definition.get("parameters")), name)
    outputs = _fields(definition.get("output_parameters", definition.get("response")), name)
    description = definition.get("description")
    tool = {"name": name, "description": description if isinstance(description, str) else "",
            "parameters": {"type": "object", "properties": {p: _property(s) for p, s in inputs.items()}}}
    if outputs:
        tool["response"] = {field: _property(spec) for field, spec in outputs.items()}
    return tool


_PY_TYPES = {str: "string", bool: "boolean", int: "integer", float: "number", list: "array", dict: "object"}


def derived_tool(name: str, calls: list[dict[str, Any]]) -> dict[str, Any]:
    """A tool for an API whose definition the corpus does not ship: parameter names and value types of its calls."""
    properties: dict[str, Any] = {}
    for arguments in calls:
        for key, value in arguments.items():
            kind = _PY_TYPES.get(type(value))
            properties.setdefault(key, {"type": kind} if kind else {})
    return {"name": name, "description": "", "parameters": {"type": "object", "properties": properties},
            "x-derived-from-calls": True}


def found_definitions(result: Any) -> list[Any]:
    """The tool definitions in a ToolSearcher result (one object or a list of them)."""
    items = result if isinstance(result, list) else [result]
    return [item for item in items if isinstance(item, dict) and isinstance(item.get("name"), str)
            and "input_parameters" in item]


def unwrap_result(result: Any) -> Any:
    """``{api_name, input, output, exception}`` (the echo API-Bank prints) → the output, or output+exception."""
    if isinstance(result, dict) and "output" in result and set(result) <= WRAPPER_KEYS:
        if result.get("exception") is None:
            return result["output"]
        return {"output": result["output"], "exception": result["exception"]}
    return result


# ------------------------------------------------------------------------------------------ building
class Builder:
    """Messages of one API-Bank sample: tools in force, ToolSearcher discoveries, call ids."""

    def __init__(self, tools: list[dict[str, Any]], ctx: Context, catalog: dict[str, dict[str, Any]] | None = None) -> None:
        self.ctx = ctx
        self.catalog = catalog or {}
        self.tools: dict[str, dict[str, Any]] = {}
        for tool in tools:
            self.tools.setdefault(tool["name"], tool)
        self.messages: list[dict[str, Any]] = [{"role": "candidate_tools", "content": list(self.tools.values())}]
        self.numbering = CallNumbering()
        self.found_by: dict[str, str] = {}  # tool name → id of the ToolSearcher call that found it

    def text(self, role: str, content: str) -> None:
        self.messages.append({"role": role, "content": content})

    def _call(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        if name not in self.tools:
            if name not in self.catalog:
                raise Reject(f"call to {name!r}, which is neither declared nor found by ToolSearcher before it")
            # The record calls an API-Bank API its prompt did not list (level-2 test data calls
            # GetUserToken that way): declare the corpus's own definition of it from the start.
            self.tools[name] = self.catalog[name]
            for message in self.messages:
                if message["role"] == "candidate_tools":
                    message["content"] = [*message["content"], self.catalog[name]]
            self.ctx.count("apibank_undeclared_tools_added_from_catalog")
        return {"name": name, "parameters": arguments, "depend_on": [self.found_by[name]] if name in self.found_by else []}

    def call(self, name: str, arguments: dict[str, Any], result: Any) -> None:
        call = self._call(name, arguments)
        cid = self.numbering.next_id(name)
        self.messages.append({"role": "tool_call", "content": [call]})
        self.messages.append({"role": "tool_response", "content": {cid: result}})
        if name == TOOL_SEARCHER:
            added = False
            for definition in found_definitions(result):
                tool = convert_tool(definition)
                self.found_by[tool["name"]] = cid
                if tool["name"] not in self.tools:
                    self.tools[tool["name"]] = tool
                    added = True
            if added:
                self.messages.append({"role": "candidate_tools", "content": list(self.tools.values())})

    def ground_truth(self, calls: list[dict[str, Any]]) -> None:
        content = []
        for item in calls:
            call = self._call(item["name"], item["arguments"])
            self.numbering.next_id(item["name"])
            content.append({**call, "parameters": {k: [v] for k, v in call["parameters"].items()}})
        self.messages.append({"role": "tool_call_ground_truth", "content": content})


def _tool_lines(text: str, where: str) -> list[dict[str, Any]]:
    tools = []
    for line in text.splitlines():
        if line.strip():
            try:
                tools.append(convert_tool(parse_python_value(line)))
            except CallSyntaxError:
                raise Reject(f"{where}: tool definition line is not JSON: {line[:200]!r}") from None
    return tools


def split_turns(text: str) -> list[tuple[str, str]]:
    """``User: ...\\nAI: ...\\nAPI-Request: ...`` → [(speaker, text)]; lines without a prefix continue a turn."""
    marks = list(TURN.finditer(text))
    if marks and text[:marks[0].start()].strip():
        raise Reject(f"history text before the first turn: {text[:marks[0].start()][:200]!r}")
    turns = []
    for mark, following in zip(marks, marks[1:] + [None]):
        end = following.start() if following else len(text)
        turns.append((mark.group(1), text[mark.end():end].rstrip("\n")))
    return turns


def _request(text: str, builder: Builder, where: str) -> tuple[list[dict[str, Any]], str | None]:
    """Parse an API-Request with ``ast``; fall back to API-Bank's own loose reading (counted)."""
    try:
        return parse_api_request(text, builder.tools)
    except CallSyntaxError:
        pass
    try:
        parsed = parse_api_request(text, builder.tools, loose=True)
    except CallSyntaxError as exc:
        raise Reject(f"{where}: {exc}") from None
    builder.ctx.count("apibank_loose_call_syntax")
    return parsed


def _history(builder: Builder, turns: list[tuple[str, str]], where: str) -> str | None:
    """File the history turns; return the TIME glued to a user turn (lv3 training data), if any."""
    glued_time = None
    for speaker, text in turns:
        if speaker == "User":
            match = GLUED_TIME.match(text)
            if match:
                text, glued_time = match.group("text"), match.group("time")
            builder.text("user", text)
        elif speaker == "AI":
            builder.text("assistant", text)
        elif speaker == "API-Request":
            calls, result_text = _request(text, builder, where)
            if result_text is None or len(calls) != 1:
                raise Reject(f"{where}: a history API-Request needs exactly one call and its ->result: {text[:200]!r}")
            builder.call(calls[0]["name"], calls[0]["arguments"], unwrap_result(parse_result(result_text, bare_names=True)))
    return glued_time


def _system(instruction: str, subset: str, glued_time: str | None, ctx: Context) -> str | None:
    preamble = TOOL_HEADER.split(instruction, 1)[0]
    if subset.endswith("-icl"):
        return preamble.strip() or None
    facts = []
    for fact in FACT.findall(preamble.split("\nInput:", 1)[0]):
        if "{{time}}" in fact:
            if glued_time is None:
                ctx.count("apibank_time_placeholder_unfilled")
                continue
            fact = fact.replace("{{time}}", glued_time)
        facts.append(fact.strip())
    return "\n".join(facts) or None


def convert_alpaca(data: dict[str, Any], subset: str, ctx: Context, catalog: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    instruction = data.get("instruction")
    source_input = data.get("input")
    target = data.get("expected_output", data.get("output"))
    if not all(isinstance(v, str) for v in (instruction, source_input, target)):
        raise Reject("record lacks instruction/input/output strings")
    header = TOOL_HEADER.search(instruction)
    tools = _tool_lines(instruction[header.end():], "instruction") if header else []
    lines = source_input.split("\n")
    head = 0
    while head < len(lines) and lines[head].lstrip().startswith("{"):
        head += 1
    tools += _tool_lines("\n".join(lines[:head]), "input")
    builder = Builder(tools, ctx, catalog)
    turns = split_turns("\n".join(lines[head:]))
    if not turns or turns[-1][0] not in ("Generate API Request", "Generate AI Response"):
        raise Reject("input does not end with 'Generate API Request:' or 'Generate AI Response:'")
    glued_time = _history(builder, turns[:-1], "input")
    system = _system(instruction, subset, glued_time, ctx)
    if system:
        builder.messages.insert(1, {"role": "system", "content": system})
    target = target.strip()
    if target.startswith(PREFIX):
        calls, result = _request(target, builder, "output")
        if result is not None:
            raise Reject(f"output: the expected API-Request carries a result: {target[:200]!r}")
        builder.ground_truth(calls)
    else:
        builder.text("assistant", target[3:].lstrip() if target.startswith("AI:") else target)
    return builder.messages


def convert_level3(data: dict[str, Any], ctx: Context, catalog: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    requirement, response, apis = data.get("requirement"), data.get("response"), data.get("apis")
    if not isinstance(requirement, str) or not isinstance(response, str) or not isinstance(apis, list):
        raise Reject("level-3 record lacks requirement/response strings or an apis list")
    steps = []
    for position, step in enumerate(apis):
        if not isinstance(step, dict) or not isinstance(step.get("api_name"), str) or not isinstance(step.get("input"), dict):
            raise Reject(f"apis[{position}] lacks api_name or an input object")
        steps.append((step["api_name"], step["input"], unwrap_result(step.get("output"))))
    builder = Builder(_dialogue_tools(steps, catalog), ctx)
    builder.text("user", requirement.strip())
    for name, arguments, result in steps:
        builder.call(name, arguments, result)
    builder.text("assistant", response.strip())
    return builder.messages


def _dialogue_tools(steps: list[tuple[str, dict, Any]], catalog: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Tools a dialogue starts with: every API it calls that no ToolSearcher has found before its first call."""
    found: set[str] = set()
    first: dict[str, list[dict]] = {}
    initial: list[str] = []
    for name, arguments, result in steps:
        if name not in found and name not in first:
            initial.append(name)
        first.setdefault(name, []).append(arguments)
        if name == TOOL_SEARCHER:
            found.update(d["name"] for d in found_definitions(result))
    tools = []
    for name in initial:
        if name == TOOL_SEARCHER:
            tools.append(convert_tool(TOOL_SEARCHER_DEF))
        elif name in catalog:
            tools.append(catalog[name])
        else:
            tools.append(derived_tool(name, first[name]))
    return tools


def convert_dialogue(rows: list[Any], catalog: dict[str, dict[str, Any]], ctx: Context) -> list[dict[str, Any]]:
    steps = []
    for number, row in enumerate(rows, 1):
        if not isinstance(row, dict) or row.get("role") not in ("User", "AI", "API"):
            raise Reject(f"line {number}: not a User/AI/API turn: {str(row)[:200]}")
        if row["role"] == "API":
            if not isinstance(row.get("api_name"), str) or not isinstance(row.get("param_dict"), dict):
                raise Reject(f"line {number}: API turn lacks api_name or param_dict")
            steps.append((row["api_name"], row["param_dict"], unwrap_result(row.get("result"))))
        elif not isinstance(row.get("text"), str):
            raise Reject(f"line {number}: {row['role']} turn without text")
    tools = _dialogue_tools(steps, catalog)
    ctx.count("apibank_tools_derived", sum(1 for tool in tools if tool.get("x-derived-from-calls")))
    builder = Builder(tools, ctx)
    for row in rows:
        if row["role"] == "API":
            builder.call(row["api_name"], row["param_dict"], unwrap_result(row.get("result")))
        else:
            builder.text("user" if row["role"] == "User" else "assistant", row["text"])
    return builder.messages


# ------------------------------------------------------------------------------------------ reading
def _subset_of(path: Path) -> str:
    if path.suffix == ".jsonl":
        return path.parent.name if path.parent.name in DIALOGUE_SUBSETS else "dialogues"
    return path.stem


class APIBank(HubJsonSource):
    """Reads its own many-file layout; shares the hub provenance handling (``version_of``) of HubJsonSource."""

    name = "API-Bank"
    aliases = ("apibank", "api_bank")
    license = LICENSE
    homepage = "https://github.com/AlibabaResearch/DAMO-ConvAI/tree/main/api-bank"
    description = "API-Bank: level-1/2/3 test data, lv1-3 training data and the lv1-lv2 dialogues (ToolSearcher chains)"
    subsets = DIALOGUE_SUBSETS + TEST_SUBSETS + TRAIN_SUBSETS + ("dialogues",)
    evaluation_subsets = TEST_SUBSETS
    hub_repo = HUB_REPO
    hub_revision = HUB_REVISION

    def __init__(self) -> None:
        self._catalog: dict[str, dict[str, Any]] = {}

    def fetch(self, dest: Path, *, origin: str | None = None, revision: str | None = None,
              token: str | None = None, **_ignored: Any) -> dict[str, Any]:
        if origin in (None, "hub"):
            rev = revision or HUB_REVISION
            commit = hub_snapshot(HUB_REPO, rev, dest, token=token, allow_patterns=HUB_PATTERNS)
            return write_provenance(dest, kind="hub", repo=HUB_REPO, revision=commit, requested=rev)
        path = Path(origin)
        copy_local(path, dest)
        return write_provenance(dest, kind="local", path=str(path.resolve()))

    def _files(self, raw: Path) -> list[Path]:
        if raw.is_file():
            return [raw]
        files = [p for p in sorted(raw.rglob("*")) if p.is_file() and p.suffix in (".json", ".jsonl")
                 and p.name != "provenance.json" and not any(part.startswith(".") for part in p.relative_to(raw).parts)]
        if not files:
            raise FetchError(f"{raw} holds no API-Bank .json/.jsonl files")
        order = {subset: i for i, subset in enumerate(self.subsets)}
        return sorted(files, key=lambda p: (order.get(_subset_of(p), len(order)), p.as_posix()))

    def _build_catalog(self, files: list[Path]) -> None:
        """Tool definitions declared in the test/training data, for the dialogue files that lack them."""
        self._catalog = {}
        for path in files:
            if path.suffix != ".json":
                continue
            for _index, record, error in iter_array_file(path):
                instruction = record.get("instruction") if isinstance(record, dict) and not error else None
                header = TOOL_HEADER.search(instruction) if isinstance(instruction, str) else None
                if header is None:
                    continue
                try:
                    for tool in _tool_lines(instruction[header.end():], "catalog"):
                        self._catalog.setdefault(tool["name"], tool)
                except Reject:
                    continue

    def records(self, raw: Path, subsets: list[str] | None = None) -> Iterator[RawRecord]:
        unknown = sorted(set(subsets or ()) - set(self.subsets))
        if unknown:
            raise FetchError(f"unknown API-Bank subsets {unknown}; known: {', '.join(self.subsets)}")
        files = self._files(raw)
        self._build_catalog(files)
        base = raw if raw.is_dir() else raw.parent
        for path in files:
            subset = _subset_of(path)
            if subsets and subset not in subsets:
                continue
            rel = path.relative_to(base).as_posix()
            if path.suffix == ".jsonl":
                yield self._dialogue_record(path, rel, subset)
                continue
            for index, record, error in iter_array_file(path):  # one bad element loses only itself
                if error:
                    yield RawRecord(subset, rel, index, Reject(f"{rel}: {error}", raw=record))
                else:
                    yield RawRecord(subset, rel, index, record, source_id=_record_id(record, index))

    def _dialogue_record(self, path: Path, rel: str, subset: str) -> RawRecord:
        rows = []
        for number, row, error in iter_jsonl_records(path):
            if error:
                return RawRecord(subset, rel, number, Reject(error, raw=row))
            rows.append(row)
        return RawRecord(subset, rel, 1, {"dialogue": rows}, source_id=path.stem)

    def convert(self, record: RawRecord, ctx: Context) -> Sample:
        data = record.data
        if not isinstance(data, dict):
            raise Reject("record is not an object")
        if "dialogue" in data:
            body = convert_dialogue(data["dialogue"], self._catalog, ctx)
        elif "apis" in data:
            body = convert_level3(data, ctx, self._catalog)
        else:
            body = convert_alpaca(data, record.subset, ctx, self._catalog)
        meta = {"source": self.name, "subset": record.subset,
                "source_id": record.source_id if record.source_id is not None else record.location,
                "license": self.license, "language": "en"}
        return [{"role": "meta", "content": meta}, *body]


def _record_id(record: Any, index: int) -> str | int:
    if isinstance(record, dict):
        if isinstance(record.get("file"), (str, int)) and isinstance(record.get("id"), (str, int)):
            return f"{record['file']}#{record['id']}"
        if isinstance(record.get("sample_id"), (str, int)) and isinstance(record.get("api_id"), (str, int)):
            return f"{record['sample_id']}.{record['api_id']}"
    return index
