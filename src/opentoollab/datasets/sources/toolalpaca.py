"""ToolAlpaca (Tang et al., 2023; GitHub ``tangqiaoyu/ToolAlpaca``, ``data/``): simulated tool use over 400+ APIs.

Each file is a JSON array with one element per **API** (not per dialogue): ``Name``, ``Description``,
``Category``, ``Introduction``, ``Documentation`` (an OpenAPI 3 spec as a JSON *string*),
``Function_Projection`` ({function: [path, method]}), ``Function_Description`` (natural-language docs,
plus a ``components`` entry that is not a function), and:

* evaluation files (``eval_simulated.json``, ``eval_real.json``): ``Instructions`` [str] and
  ``Golden_Answers`` [[{"Action", "Action_Input": JSON string}]] — one sample per instruction, the
  golden actions as ``tool_call_ground_truth`` (evaluation subsets);
* the training file (``train_data.json``): ``Instances`` [{input, output, "Final Thought",
  intermediate_steps: [[[action, action_input, thought], observation]]}] — one sample per instance,
  the steps as ``tool_call`` + ``tool_response`` (observations structured when JSON), the thoughts as
  hidden assistant messages and ``output`` as the final answer.

Tools: every function of ``Function_Projection``, its schema read from the OpenAPI operation at that
path and method (path/query/header parameters and the JSON request body's properties; ``$ref`` resolved),
its ``response`` fields from the 200 response's object schema.

Golden answers quirks: placeholders written in place of a value that comes from an earlier step
(``{"animeId": ${animeId from searchAnime}}``, ``"startDate": ${start date of a month}"``) are not JSON;
they are kept verbatim as text values (counted, tagged ``placeholder-values``), and a placeholder that
names an earlier call of the same answer (``from searchAnime``) puts that call in ``depend_on``. Empty
strings (``"gender": ""``) stay ``[""]``, which BFCL's convention reads as "may be omitted" — what
ToolAlpaca's empty filter means. Arguments the function does not declare are kept and tagged
``undeclared-arguments``. Actions that are not functions of the API (the ``getDetails`` ask-the-user
step; functions missing from an API's own spec) are rejected with the name.

Fetched from GitHub at a pinned commit (``github.GitHubFetch``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterator

from ...format.sample import CallNumbering, Sample, loads_strict
from ...format.schema_types import normalize_schema
from .base import Context, RawRecord, Reject, Source, check_subsets, find_files
from .github import GitHubFetch
from .hub_json import iter_json_records
from .textcalls import NotLiteral, ground_truth, loads_lenient, opening, structured_result, undeclared_arguments

GITHUB_REPO = "tangqiaoyu/ToolAlpaca"
GITHUB_COMMIT = "189069998d64a7baf1b4a1c3c4b2e75eb9d05532"
FILES = {"train_data.json": "train", "eval_simulated.json": "eval_simulated", "eval_real.json": "eval_real"}
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
# A ``${...}`` placeholder in value position (after ':', '[' or ','), with the stray quotes the data puts around it.
PLACEHOLDER = re.compile(r'(?<=[:\[,])(\s*)"?(\$\{[^{}"]*\})"?')
FROM_CALL = re.compile(r"^\$\{.*\bfrom\s+([A-Za-z_][\w\-]*)\s*\}$")


# ------------------------------------------------------------------------------------ GitHub fetch
# ------------------------------------------------------------------------------------ OpenAPI → tools
def _resolve(value: Any, spec: dict[str, Any], depth: int = 0) -> Any:
    """A copy with local ``$ref``s replaced by what they point to (recursive schemas cut at depth 6)."""
    if isinstance(value, list):
        return [_resolve(item, spec, depth) for item in value]
    if not isinstance(value, dict):
        return value
    ref = value.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        if depth >= 6:
            return {"type": "object"}
        target: Any = spec
        for step in ref[2:].split("/"):
            target = target.get(step) if isinstance(target, dict) else None
        return _resolve(target, spec, depth + 1) if isinstance(target, dict) else {}
    return {key: _resolve(item, spec, depth) for key, item in value.items()}


def _property(schema: Any, description: Any) -> dict[str, Any]:
    out = normalize_schema(schema) if isinstance(schema, dict) else {}
    if isinstance(description, str) and description and "description" not in out:
        out = {"description": description, **out}
    return out


def _operation_tool(name: str, operation: dict[str, Any], spec: dict[str, Any], fallback: str) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    required: list[str] = []
    for parameter in _resolve(operation.get("parameters") or [], spec):
        if isinstance(parameter, dict) and isinstance(parameter.get("name"), str):
            properties[parameter["name"]] = _property(parameter.get("schema"), parameter.get("description"))
            if parameter.get("required") is True:
                required.append(parameter["name"])
    body = _resolve(operation.get("requestBody"), spec) or {}
    content = body.get("content") if isinstance(body, dict) else None
    schema = next(iter(content.values()), {}).get("schema") if isinstance(content, dict) and content else None
    if isinstance(schema, dict) and isinstance(schema.get("properties"), dict):
        for key, sub in schema["properties"].items():
            properties.setdefault(key, _property(sub, None))
        required += [key for key in schema.get("required") or [] if isinstance(key, str) and key not in required]
    parameters: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        parameters["required"] = required
    description = operation.get("description") or operation.get("summary") or fallback
    tool = {"name": name, "description": description if isinstance(description, str) else "", "parameters": parameters}
    response = _response_fields(operation, spec)
    if response:
        tool["response"] = response
    return tool


def _response_fields(operation: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    responses = operation.get("responses") if isinstance(operation.get("responses"), dict) else {}
    ok = _resolve(responses.get("200") or responses.get("201") or {}, spec)
    content = ok.get("content") if isinstance(ok, dict) else None
    schema = next(iter(content.values()), {}).get("schema") if isinstance(content, dict) and content else None
    fields = {}
    for key, sub in (schema.get("properties") or {}).items() if isinstance(schema, dict) else ():
        sub = normalize_schema(sub) if isinstance(sub, dict) else {}
        field = {k: sub[k] for k in ("description", "type") if k in sub and (k != "type" or isinstance(sub[k], str))}
        fields[key] = field
    return fields


def api_tools(api: dict[str, Any]) -> list[dict[str, Any]]:
    """The functions of one ToolAlpaca API element as unified tools (see the module docstring)."""
    try:
        spec = loads_strict(api["Documentation"]) if isinstance(api.get("Documentation"), str) else api.get("Documentation")
    except ValueError as exc:
        raise Reject(f"'Documentation' is not JSON ({str(exc)[:200]})") from None
    projection = api.get("Function_Projection")
    if not isinstance(spec, dict) or not isinstance(spec.get("paths"), dict) or not isinstance(projection, dict):
        raise Reject("the API lacks an OpenAPI 'Documentation' with paths or a 'Function_Projection'")
    described = api.get("Function_Description") if isinstance(api.get("Function_Description"), dict) else {}
    tools = []
    for name, target in projection.items():
        if not (isinstance(target, list) and len(target) == 2 and all(isinstance(t, str) for t in target)):
            raise Reject(f"Function_Projection[{name!r}] is not [path, method]")
        operation = (spec["paths"].get(target[0]) or {}).get(target[1].lower())
        if not isinstance(operation, dict):
            raise Reject(f"function {name!r}: the spec has no operation {target[1].upper()} {target[0]}")
        fallback = str(described.get(name) or "").split("\nParameters:", 1)[0]
        tools.append(_operation_tool(name, operation, spec, fallback))
    return tools


# ------------------------------------------------------------------------------------ calls
def parse_action_input(text: Any, where: str, ctx: Context) -> tuple[dict[str, Any], list[str]]:
    """An Action_Input → (arguments, the placeholders it holds). Placeholders become text values."""
    if isinstance(text, dict):
        return text, []
    if not isinstance(text, str):
        raise Reject(f"{where}: Action_Input is not a string")
    if not text.strip():
        return {}, []
    try:
        value = loads_lenient(text)
    except NotLiteral:
        repaired = PLACEHOLDER.sub(lambda m: m.group(1) + json.dumps(m.group(2), ensure_ascii=False), text)
        try:
            value = loads_lenient(repaired)
        except NotLiteral:
            raise Reject(f"{where}: Action_Input is not JSON: {text[:200]!r}") from None
    if not isinstance(value, dict):
        raise Reject(f"{where}: Action_Input is not an object: {text[:200]!r}")
    found = [v for v in value.values() if isinstance(v, str) and v.startswith("${") and v.endswith("}")]
    if found:
        ctx.count("toolalpaca_placeholder_values", len(found))
    return value, found


class _Calls:
    """Calls of one sample with ids, declared-tool checks and tags."""

    def __init__(self, tools: list[dict[str, Any]], ctx: Context) -> None:
        self.tools = {tool["name"]: tool for tool in tools}
        self.ctx = ctx
        self.numbering = CallNumbering()
        self.last_id: dict[str, str] = {}
        self.tags: set[str] = set()

    def make(self, name: Any, action_input: Any, where: str) -> tuple[dict[str, Any], str]:
        if not isinstance(name, str) or name not in self.tools:
            why = " (ToolAlpaca's ask-the-user step, not an API function)" if name == "getDetails" else ""
            raise Reject(f"{where}: action {name!r} is not a function of this API{why}; "
                         f"Function_Projection declares {sorted(self.tools)}")
        arguments, placeholders = parse_action_input(action_input, where, self.ctx)
        depend_on = []
        for placeholder in placeholders:
            self.tags.add("placeholder-values")
            match = FROM_CALL.match(placeholder)
            earlier = self.last_id.get(match.group(1)) if match else None
            if earlier and earlier not in depend_on:
                depend_on.append(earlier)
        if undeclared_arguments(self.tools[name], arguments):
            self.tags.add("undeclared-arguments")
            self.ctx.count("toolalpaca_undeclared_arguments")
        cid = self.numbering.next_id(name)
        self.last_id[name] = cid
        return {"name": name, "parameters": arguments, "depend_on": depend_on}, cid


def convert_instruction(api: dict[str, Any], index: int, tools: list[dict[str, Any]], ctx: Context) -> tuple[list, set]:
    instructions, answers = api.get("Instructions"), api.get("Golden_Answers")
    if not isinstance(instructions, list) or not isinstance(answers, list) or index >= len(answers):
        raise Reject(f"instruction {index} has no golden answer")
    if not isinstance(instructions[index], str) or not instructions[index].strip():
        raise Reject(f"instruction {index} is not text")
    golden = answers[index]
    if not isinstance(golden, list):
        raise Reject(f"Golden_Answers[{index}] is not a list of actions")
    calls = _Calls(tools, ctx)
    made = []
    for step, action in enumerate(golden):
        if not isinstance(action, dict):
            raise Reject(f"Golden_Answers[{index}][{step}] is not an {{Action, Action_Input}} object")
        made.append(calls.make(action.get("Action"), action.get("Action_Input", "{}"), f"Golden_Answers[{index}][{step}]")[0])
    return [{"role": "user", "content": instructions[index]},
            {"role": "tool_call_ground_truth", "content": ground_truth(made)}], calls.tags


def _thought(text: Any) -> str:
    """The reasoning part of a step's log (before ``Action:``), without the ``Thought:`` label."""
    text = text if isinstance(text, str) else ""
    text = text.split("\nAction:", 1)[0] if "\nAction:" in text else ("" if text.startswith("Action:") else text)
    return text.strip().removeprefix("Thought:").strip()


def convert_instance(instance: Any, tools: list[dict[str, Any]], ctx: Context) -> tuple[list, set]:
    if not isinstance(instance, dict) or not isinstance(instance.get("input"), str):
        raise Reject("instance lacks an 'input' string")
    steps = instance.get("intermediate_steps") or []
    if not isinstance(steps, list):
        raise Reject("'intermediate_steps' is not a list")
    calls = _Calls(tools, ctx)
    messages: list[dict[str, Any]] = [{"role": "user", "content": instance["input"]}]
    for position, step in enumerate(steps):
        where = f"intermediate_steps[{position}]"
        if not (isinstance(step, list) and len(step) == 2 and isinstance(step[0], list) and len(step[0]) >= 2):
            raise Reject(f"{where}: not [[action, action_input, thought], observation]")
        (action, action_input, *log), observation = step
        thought = _thought(log[0] if log else "")
        if thought:
            messages.append({"role": "assistant", "content": thought, "hidden": True})
        call, cid = calls.make(action, action_input, where)
        result = structured_result(observation) if isinstance(observation, str) else observation
        messages += [{"role": "tool_call", "content": [call]}, {"role": "tool_response", "content": {cid: result}}]
    final_thought = _thought(instance.get("Final Thought"))
    if final_thought:
        messages.append({"role": "assistant", "content": final_thought, "hidden": True})
    if isinstance(instance.get("output"), str) and instance["output"].strip():
        messages.append({"role": "assistant", "content": instance["output"]})
    return messages, calls.tags


class ToolAlpaca(GitHubFetch, Source):
    name = "ToolAlpaca"
    aliases = ("tool-alpaca",)
    license = "Apache-2.0"
    homepage = "https://github.com/tangqiaoyu/ToolAlpaca"
    description = "ToolAlpaca: 400+ simulated APIs (OpenAPI specs), training instances and simulated/real evaluation instructions"
    subsets = ("train", "eval_simulated", "eval_real")
    evaluation_subsets = ("eval_simulated", "eval_real")
    github_repo = GITHUB_REPO
    github_commit = GITHUB_COMMIT
    github_paths = tuple(f"data/{name}" for name in FILES)

    def __init__(self) -> None:
        self._tools: tuple[Any, list[dict[str, Any]]] | None = None  # (API element, its tools): one API at a time

    def records(self, raw: Path, subsets: list[str] | None = None) -> Iterator[RawRecord]:
        check_subsets(self, subsets)
        for path, rel, subset in find_files(raw, FILES):
            if subsets and subset not in subsets:
                continue
            key = "Instances" if subset == "train" else "Instructions"
            for index, api, error in iter_json_records(path):
                if error:
                    yield RawRecord(subset, rel, index, Reject(error, raw=api))
                    continue
                items = api.get(key) if isinstance(api, dict) else None
                name = api.get("Name") if isinstance(api, dict) else None
                if not isinstance(items, list) or not items:
                    yield RawRecord(subset, rel, index, Reject(f"API element without {key}", raw=api), source_id=index)
                    continue
                for item in range(len(items)):
                    yield RawRecord(subset, rel, f"{index}.{key}[{item}]", {"api": api, "item": item},
                                    source_id=f"{name}#{item}" if isinstance(name, str) else f"{index}#{item}")

    def convert(self, record: RawRecord, ctx: Context) -> Sample:
        api, item = record.data["api"], record.data["item"]
        if self._tools is None or self._tools[0] is not api:
            self._tools = (api, api_tools(api))
        tools = self._tools[1]
        if record.subset == "train":
            body, tags = convert_instance(api["Instances"][item], tools, ctx)
        else:
            body, tags = convert_instruction(api, item, tools, ctx)
        messages, meta = opening(self, record, tools, None)
        labels = [f"api:{api['Name']}"] if isinstance(api.get("Name"), str) else []
        labels += [f"category:{api['Category']}"] if isinstance(api.get("Category"), str) else []
        meta["tags"] = labels + sorted(tags)
        return messages + body
