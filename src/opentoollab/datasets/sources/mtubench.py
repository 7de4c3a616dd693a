"""MTU-Bench (Wang et al., 2024): the MTU-Eval benchmark, five settings of single/multi-turn, single/multi-tool calls.

GitHub ``MTU-Bench-Team/MTU-Bench`` (Apache-2.0), pinned commit below, files
``MTU-Eval/benchmark/{S-S,S-M,M-S,M-M,OOD}_eval.jsonl``: one evaluation point per line,
``{"id", "question", "answer"}``. (The MTU-Instruct training dialogues live on HF ``wpei/MTU-Bench``
in another layout and are not read here.)

- ``question`` is the whole prompt: MTU's instructions (its Thought/Action rendering: dropped, only the
  fact "Today is ..." is kept as ``system``), the tool list, the dialogue so far, the last user turn.
- Tool lists, in every spelling the files use: a Python repr (S-S, M-S) or JSON list of
  ``{name, description, required_parameters, optional_parameters, result_parameters}`` where parameters are
  names, ``{name: default}`` or ``{name, type, description, default?}`` objects; or OOD's
  ``{"apis": [...], "available_parameters": [...]}`` (one parameter pool shared by all APIs: every API
  gets the pool, nothing required, marked ``x-shared-parameter-pool``). ``result_parameters`` → ``response``.
- History: ``user:``/``User:``, ``Thought:`` (→ hidden assistant), ``Action: NAME`` + ``Action Input:``
  (→ ``tool_call``), ``observation: : ...`` (→ ``tool_response`` of that call; an observation in a turn
  without an action repeats an earlier one and is dropped, counted), ``assistant: :``/``Assistant:``;
  M-M writes a turn's calls as ``Action: {api: {args}}`` and has no results, so its calls stay unanswered.
- ``answer`` → ``tool_call_ground_truth`` (one candidate per value, values exactly as written; OOD's
  JSON-string arguments are decoded). "No call" (``{}`` or ``{"": {}}``) → empty ground truth, tag
  ``no-call``. API names with stray spaces (``" adjust_room_temperature"``) are stripped (counted).
  MTU's chained values (``"get_current_temperature.temperature"``) stay as written; the call they name
  goes into ``depend_on``. No link inference: the values are the benchmark's answers, never rewritten.
- Rejected: a tool list that is the unfilled placeholder ``['api_descriptions']`` or unreadable, calls
  to tools the prompt does not list, arguments that are not an object.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ...format.sample import STRICT_DECODER, CallNumbering, Sample
from ...format.pycall import bracket_end
from ...format.schema_types import normalize_schema
from .base import Context, RawRecord, Reject
from .github import GitHubFetch
from .hub_json import HubJsonSource
from .textcalls import NotLiteral, check_declared, ground_truth, loads_lenient, opening, structured_result

SETTINGS = ("S-S", "S-M", "M-S", "M-M", "OOD")
TOOLS_MARKER = "The following is a list of APIs and their parameters that you can use:"
TODAY_RE = re.compile(r"^\s*(?:\d+\.\s*)?(Today is [^\n]*?)\s*$", re.M)
HEADER_RE = re.compile(r"^(user|User|function|Thought|Action Input|Action|observation|assistant|Assistant):[ ]?", re.M)
CHAINED_RE = re.compile(r"^([A-Za-z_][\w]*)\.([\w]+)$")


# ------------------------------------------------------------------------------------------- tools
def literal_prefix(text: str) -> tuple[Any, str]:
    """The JSON or Python literal at the start of ``text`` and the text after it; NotLiteral when none."""
    try:
        value, end = STRICT_DECODER.raw_decode(text)
        return value, text[end:]
    except (ValueError, RecursionError):
        pass
    end = bracket_end(text) if text[:1] in "[{(" else -1
    if end < 0:
        raise NotLiteral("the literal is not closed")
    return loads_lenient(text[:end]), text[end:]


def _property(spec: Any, where: str) -> tuple[str, dict[str, Any]]:
    """One parameter spec (a name, or ``{name, type, description, default?}``) → (name, JSON Schema)."""
    if isinstance(spec, str):
        return spec, {}
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        raise Reject(f"{where}: a parameter without a name: {str(spec)[:160]}")
    return spec["name"], normalize_schema({k: v for k, v in spec.items() if k != "name"})


def _parameters(required: Any, optional: Any, where: str) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    names = []
    for spec in required or []:
        name, schema = _property(spec, where)
        properties[name] = schema
        names.append(name)
    if isinstance(optional, dict):  # S-S: {name: default}
        for name, default in optional.items():
            properties[name] = {"default": default}
    else:
        for spec in optional or []:
            name, schema = _property(spec, where)
            properties[name] = schema
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if names:
        schema["required"] = names
    return schema


def _response(results: Any, where: str) -> dict[str, Any]:
    out = {}
    for spec in results or []:
        name, schema = _property(spec, where)
        out[name] = {k: v for k, v in schema.items() if k in ("description", "type")}
    return out


def tools_of(listing: Any, wanted: dict[str, set[str]], ctx: Context) -> list[dict[str, Any]]:
    """The prompt's tool list (any of MTU's spellings) → unified tools."""
    if isinstance(listing, dict) and isinstance(listing.get("apis"), list):  # OOD: one shared parameter pool
        pool = _parameters([], listing.get("available_parameters") or [], "available_parameters")
        ctx.count("mtubench_shared_parameter_pool_tools", len(listing["apis"]))
        listing = [{**api, "x-shared-parameter-pool": True} for api in listing["apis"]]
    else:
        pool = None
    if not isinstance(listing, list) or not all(isinstance(t, dict) for t in listing):
        raise Reject(f"the prompt's tool list is not a list of API objects: {str(listing)[:120]}")
    tools = []
    for index, api in enumerate(listing):
        where = f"tool {index}"
        if not isinstance(api.get("name"), str) or not api["name"]:
            raise Reject(f"{where}: an API without a name")
        tool: dict[str, Any] = {"name": api["name"], "description": api.get("description") or "",
                                "parameters": pool if pool is not None else
                                _parameters(api.get("required_parameters"), api.get("optional_parameters"), where)}
        response = _response(api.get("result_parameters"), where)
        if response:
            tool["response"] = response
        if api.get("x-shared-parameter-pool"):
            tool["x-shared-parameter-pool"] = True
        tools.append(tool)
    return merge_same_names(tools, wanted, ctx)


def merge_same_names(tools: list[dict[str, Any]], wanted: dict[str, set[str]], ctx: Context) -> list[dict[str, Any]]:
    """One tool per name. Some prompts list two different APIs under one name (S-M merges domains): the
    definition kept is the first whose parameters cover the expected call's arguments (else the first);
    the others stay in ``x-other-definitions`` (renderers show one), counted and tagged by the caller."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for tool in unique_tools_by_text(tools, ctx):
        groups.setdefault(tool["name"], []).append(tool)
    out = []
    for name, group in groups.items():
        if len(group) > 1:
            ctx.count("mtubench_same_name_tools_merged")
            fits = [t for t in group if wanted.get(name, set()) <= set(t["parameters"]["properties"])]
            kept = dict((fits or group)[0])
            kept["x-other-definitions"] = [t for t in group if t is not (fits or group)[0]]
            group = [kept]
        out.append(group[0])
    return out


def unique_tools_by_text(tools: list[dict[str, Any]], ctx: Context) -> list[dict[str, Any]]:
    """Exact repeats of a definition dropped (counted)."""
    seen, out = set(), []
    for tool in tools:
        key = json.dumps(tool, sort_keys=True)
        if key in seen:
            ctx.count("duplicate_tool_definitions_dropped")
            continue
        seen.add(key)
        out.append(tool)
    return out


def split_prompt(question: str) -> tuple[str | None, Any, str]:
    """(the "Today is ..." fact, the tool listing, the dialogue text after it)."""
    head, found, rest = question.partition(TOOLS_MARKER)
    if not found:
        raise Reject("the question has no tool list ('The following is a list of APIs ...')")
    today = TODAY_RE.search(head)
    try:
        listing, dialogue = literal_prefix(rest.lstrip())
    except NotLiteral as exc:
        raise Reject(f"the tool list is neither JSON nor a Python literal ({exc})") from None
    if listing == ["api_descriptions"]:
        raise Reject("the prompt's tool list is the unfilled template placeholder ['api_descriptions']: no tools are given")
    return (today.group(1) if today else None), listing, dialogue


# ------------------------------------------------------------------------------------------ dialogue
class Builder:
    """Messages of one evaluation point: history turns, calls (answered where the data has results)."""

    def __init__(self, messages: list[dict[str, Any]], declared: set[str], ctx: Context) -> None:
        self.messages, self.declared, self.ctx = messages, declared, ctx
        self.numbering = CallNumbering()
        self.latest: dict[str, str] = {}  # API name → id of its latest call
        self.calls: list[dict[str, Any]] = []
        self.ids: list[str] = []
        self.results: dict[str, Any] = {}

    def call(self, name: str, arguments: Any, where: str) -> dict[str, Any]:
        """A call with its id; ``depend_on`` for MTU's chained values ``"api.field"`` naming an earlier call."""
        stripped = name.strip()
        if stripped != name:
            self.ctx.count("mtubench_api_name_spaces_stripped")
        if isinstance(arguments, str):
            if where == "answer":
                self.ctx.count("mtubench_json_string_answer_arguments")
            try:
                arguments = _arguments(arguments)
            except NotLiteral:
                raise Reject(f"{where}: arguments of {stripped!r} are not JSON: {arguments[:160]!r}") from None
        if not isinstance(arguments, dict):
            raise Reject(f"{where}: arguments of {stripped!r} are not an object: {str(arguments)[:160]}")
        check_declared(stripped, self.declared, where)
        depend_on = []
        for value in arguments.values():
            match = CHAINED_RE.match(value) if isinstance(value, str) else None
            if match and match.group(1) in self.latest and self.latest[match.group(1)] not in depend_on:
                depend_on.append(self.latest[match.group(1)])
                self.ctx.count("mtubench_chained_values")
        cid = self.numbering.next_id(stripped)
        self.latest[stripped] = cid
        return {"name": stripped, "parameters": arguments, "depend_on": depend_on, "_id": cid}

    def history_call(self, name: str, arguments: Any, where: str) -> None:
        call = self.call(name, arguments, where)
        self.ids.append(call.pop("_id"))
        self.calls.append(call)

    def observe(self, text: str) -> None:
        open_ids = [cid for cid in self.ids if cid not in self.results]
        if not open_ids:
            if text.strip():
                self.ctx.count("mtubench_observations_without_action_dropped")
            return
        self.results[open_ids[0]] = structured_result(text)

    def flush(self) -> None:
        if not self.calls:
            return
        self.messages.append({"role": "tool_call", "content": self.calls})
        if self.results:
            if len(self.results) != len(self.ids):
                raise Reject(f"calls {self.ids} have results for only {sorted(self.results)}")
            self.messages.append({"role": "tool_response", "content": {cid: self.results[cid] for cid in self.ids}})
        else:
            self.ctx.count("mtubench_calls_without_results")
        self.calls, self.ids, self.results = [], [], {}

    def text(self, role: str, content: str, hidden: bool = False) -> None:
        self.flush()
        message: dict[str, Any] = {"role": role, "content": content}
        if hidden:
            message["hidden"] = True
        self.messages.append(message)


def _arguments(value: Any) -> Any:
    """Arguments as written: an object, or JSON (or a Python repr) text of one; NotLiteral when unreadable."""
    if isinstance(value, str):
        return loads_lenient(value) if value.strip() else {}
    return value


def _argument_names(value: Any) -> set[str]:
    try:
        value = _arguments(value)
    except NotLiteral:
        return set()
    return set(value) if isinstance(value, dict) else set()


def _unquote(text: str, ctx: Context) -> str:
    """``observation: : X`` / ``assistant: : X``: the doubled colon of M-S history lines."""
    text = text.strip()
    if text.startswith(": ") or text == ":":
        ctx.count("mtubench_doubled_colon_removed")
        return text[1:].strip()
    return text


def read_dialogue(text: str, builder: Builder, ctx: Context) -> None:
    text = re.sub(r"^\s*History Dialog:[ \t]*\n?", "", text)
    headers = list(HEADER_RE.finditer(text))
    if not headers or text[:headers[0].start()].strip():
        raise Reject(f"unrecognised dialogue text after the tool list: {text[:160]!r}")
    ends = [h.start() for h in headers[1:]] + [len(text)]
    action: str | None = None
    for index, (header, end) in enumerate(zip(headers, ends)):
        kind, body = header.group(1), text[header.end():end]
        where = f"dialogue line {index}"
        if kind in ("user", "User"):
            builder.text("user", body.strip())
        elif kind in ("assistant", "Assistant"):
            builder.text("assistant", _unquote(body, ctx))
        elif kind == "Thought":
            builder.text("assistant", body.strip(), hidden=True)
        elif kind == "function":
            if body.strip():
                raise Reject(f"{where}: unexpected text after 'function:': {body[:120]!r}")
        elif kind == "observation":
            builder.observe(_unquote(body, ctx))
        elif kind == "Action":
            value = body.strip()
            if value.startswith("{"):  # M-M: the turn's calls as one object {api: {args}}
                try:
                    calls = loads_lenient(value)
                except NotLiteral:
                    raise Reject(f"{where}: the action is not JSON: {value[:160]!r}") from None
                if not isinstance(calls, dict):
                    raise Reject(f"{where}: the action is not an object of calls")
                for name, arguments in calls.items():
                    if name.strip():
                        builder.history_call(name, arguments, where)
            else:
                action = value
        elif kind == "Action Input":
            if action is None:
                raise Reject(f"{where}: 'Action Input' without an 'Action'")
            builder.history_call(action, body.strip(), where)
            action = None
    if action is not None:
        raise Reject(f"an 'Action: {action}' without its 'Action Input'")
    builder.flush()


class MTUBench(GitHubFetch, HubJsonSource):
    name = "MTU-Bench"
    aliases = ("mtubench", "mtu_bench")
    license = "Apache-2.0"
    homepage = "https://github.com/MTU-Bench-Team/MTU-Bench"
    description = "MTU-Bench / MTU-Eval: single- and multi-turn, single- and multi-tool evaluation points (+ OOD)"
    subsets = SETTINGS
    evaluation_subsets = SETTINGS
    infer_links = False  # the answers are the benchmark's: values stay exactly as written
    github_repo = "MTU-Bench-Team/MTU-Bench"
    github_commit = "d0811f831954974c4543880e19b0247209d2e866"
    github_paths = tuple(f"MTU-Eval/benchmark/{setting}_eval.jsonl" for setting in SETTINGS)
    hub_files = {f"{setting}_eval.jsonl": setting for setting in SETTINGS}
    default_subset = "S-S"

    def subset_of(self, value: Any) -> str:
        record_id = value.get("id") if isinstance(value, dict) else None
        if isinstance(record_id, str):
            for setting in SETTINGS:
                if record_id.startswith(setting + "_"):
                    return setting
        return self.default_subset

    def source_id(self, value: Any, location: int) -> str | int:
        record_id = value.get("id") if isinstance(value, dict) else None
        return record_id if isinstance(record_id, str) and record_id else location

    def convert(self, record: RawRecord, ctx: Context) -> Sample:
        row = record.data
        if not isinstance(row, dict) or not isinstance(row.get("question"), str) or "answer" not in row:
            raise Reject("record lacks a 'question' string and an 'answer'")
        answer = row["answer"]
        if isinstance(answer, str):
            answer = loads_lenient(answer) if answer.strip() else {}
        if not isinstance(answer, dict):
            raise Reject(f"'answer' is not an object of calls: {str(answer)[:160]}")
        today, listing, dialogue = split_prompt(row["question"])
        wanted = {name.strip(): _argument_names(args) for name, args in answer.items()}
        tools = tools_of(listing, wanted, ctx)
        messages, meta = opening(self, record, tools, today)
        tags = ["duplicate-tool-name"] if any("x-other-definitions" in tool for tool in tools) else []
        builder = Builder(messages, {tool["name"] for tool in tools}, ctx)
        read_dialogue(dialogue, builder, ctx)
        if messages[-1]["role"] == "assistant":
            ctx.count("mtubench_points_after_an_assistant_turn")
        expected = []
        for name, arguments in answer.items():
            if not name.strip():
                if arguments not in ({}, "", None):
                    raise Reject(f"an answer with an empty API name but arguments: {str(arguments)[:160]}")
                ctx.count("mtubench_no_call_empty_name")
                continue
            call = builder.call(name, arguments, "answer")
            call.pop("_id")
            expected.append(call)
        if not answer:
            ctx.count("mtubench_no_call_empty_object")
        if not expected:
            tags.append("no-call")
        if tags:
            meta["tags"] = tags
        messages.append({"role": "tool_call_ground_truth", "content": ground_truth(expected)})
        return messages
