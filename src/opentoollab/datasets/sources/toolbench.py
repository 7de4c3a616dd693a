"""ToolBench (Qin et al., 2023; OpenBMB/ToolBench): RapidAPI queries and the DFSDT answer trees of ChatGPT.

GitHub ``OpenBMB/ToolBench`` (Apache-2.0) at the pinned commit holds ``data_example/`` (fetched by
default, checksums pinned); the full release (``data.zip``: ``instruction/``, ``answer/``, 126k+ instances)
is on Google Drive only: unzip it and pass ``--from data/``. Subsets G1/G2/G3 (single-tool,
intra-category multi-tool, intra-collection multi-tool) come from the file or folder name.

- ``instruction/G*_query.json``: ``{query, api_list, relevant APIs, query_id}``. Each ``api_list`` entry becomes
  the function ToolBench shows its models: ``<api>_for_<tool>`` (ToolBench's name standardisation, last 64
  characters), parameters from ``required_parameters``/``optional_parameters`` as a JSON Schema object
  (types: ``NUMBER`` → integer, ``STRING`` → string, ``BOOLEAN`` → boolean, others → string, as ToolBench
  maps them; the original kept in ``x-original-type``; renamed keywords ``id`` → ``is_id`` keep
  ``x-original-name``; a non-empty default as ``example_value``), ``template_response`` → ``response``.
  The sample is the tools + the query (no trajectory: tag ``query-only``); ``relevant APIs`` become tags
  ``relevant:<function>``.
- ``answer/G*_answer/<id>_*.json``: the search tree. The successful path (root → the ``Finish`` call with
  ``give_answer``) is the trajectory: its thoughts → ``assistant``, each action → ``tool_call`` with its real
  observation (``{"error", "response"}``) → ``tool_response``; the ``Finish`` answer → the last ``assistant``
  message (Finish is ToolBench's stop protocol, not a tool, and is left out of the tools). Tools: the
  record's own ``function`` list. Every other branch of the tree (restarts, pruned or abandoned
  paths, ``give_up_and_restart``) is dropped and counted (``toolbench_failed_branch_leaves_dropped``):
  a dead end has no answer to learn, and its shared prefix is already in the sample. ToolBench's
  AutoGPT system prompt (protocol instructions + the tool list) is its rendering and is left out.
- Rejected: trees without a successful path, calls to a name that is not among the record's functions
  (e.g. the tool's own name instead of a subfunction), unreadable arguments.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator

from ...format.sample import Sample, loads_strict
from ...format.schema_types import json_type
from .base import Context, FetchError, RawRecord, Reject
from .hub_json import iter_json_records
from .github import GitHubFetch
from .hub_json import HubJsonSource
from .textcalls import NotLiteral, Trajectory, check_declared, loads_lenient, opening, tool_from_function

SUBSETS = ("G1", "G2", "G3")
QUERY_FILE_RE = re.compile(r"^(G[123])_query\.json$")
ANSWER_DIR_RE = re.compile(r"^(G[123])_answer$")
FINISH = "Finish"
TYPE_MAP = {"NUMBER": "integer", "STRING": "string", "BOOLEAN": "boolean"}
RESERVED = {"from", "class", "return", "false", "true", "id", "and"}
EXAMPLE_FILES = {
    "data_example/instruction/G1_query.json":
        "844bbec415dae93a40df3649bd8b46d7dc1417895e403ec74d189078da7a5c4e",
    "data_example/instruction/G3_query.json":
        "96cf4edf2422301164c9f1ebce0db164850eb19f44d1d9e61c7b8a5388b67198",
    "data_example/answer/G1_answer/10_ChatGPT_DFS_woFilter_w2.json":
        "76a77721640045e07142c669008611e6b82b25007c73427aec771adbf9dd9841",
    "data_example/answer/G1_answer/11_ChatGPT_DFS_woFilter_w2.json":
        "3f935fe99b99beccb727763e8407ab9fdb5f2cf45d85d998327b669ab2ea52ab",
    "data_example/answer/G3_answer/21_ChatGPT_DFS_woFilter_w2.json":
        "5f99a71cae2979600262f7b6b9b475399530496b56f475b03727b27b0cdfb176",
}


def standardize(text: str) -> str:
    """ToolBench's name standardisation: non-word characters → ``_``, runs collapsed, trimmed, lower case;
    a leading digit gets ``get_``."""
    text = re.sub(r"[^\u4e00-\u9fa5a-zA-Z0-9_]", "_", text)
    text = re.sub(r"_+", "_", text).lower().strip("_")
    return "get_" + text if text[:1].isdigit() else text


def keyword_safe(name: str) -> str:
    return f"is_{name}" if name in RESERVED else name


def function_name(api: dict[str, Any]) -> str:
    return f"{keyword_safe(standardize(str(api.get('api_name', ''))))}_for_{standardize(str(api.get('tool_name', '')))}"[-64:]


def _parameter(spec: Any, where: str) -> tuple[str, dict[str, Any]]:
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        raise Reject(f"{where}: a parameter without a name: {str(spec)[:160]}")
    name = keyword_safe(standardize(spec["name"]))
    original = spec.get("type")
    schema: dict[str, Any] = {"type": TYPE_MAP.get(original, "string")}
    if original != schema["type"]:
        schema["x-original-type"] = original
    schema["description"] = spec.get("description") if isinstance(spec.get("description"), str) else ""
    default = spec.get("default")
    if default is not None and str(default) != "":
        schema["example_value"] = default
    if name != spec["name"]:
        schema["x-original-name"] = spec["name"]
    return name, schema


def tool_of_api(api: Any, where: str) -> dict[str, Any]:
    """One ``api_list`` entry → the function ToolBench presents (see the module docstring)."""
    if not isinstance(api, dict) or not isinstance(api.get("api_name"), str) or not isinstance(api.get("tool_name"), str):
        raise Reject(f"{where}: an API without 'api_name'/'tool_name': {str(api)[:160]}")
    if "required_parameters" not in api:
        raise Reject(f"{where}: API {api['api_name']!r} has no parameter lists (names only)")
    name = function_name(api)
    tool_name = standardize(api["tool_name"])
    description = f'This is the subfunction for tool "{tool_name}", you can use this tool.'
    own = str(api.get("api_description") or "").strip()
    if own:
        description += f'The description of this function is: "{own.replace(api["api_name"], name)}"'
    properties, required = {}, []
    for kind in ("required_parameters", "optional_parameters"):
        for spec in api.get(kind) or []:
            pname, schema = _parameter(spec, f"{where} {kind}")
            properties[pname] = schema
            if kind == "required_parameters":
                required.append(pname)
    tool: dict[str, Any] = {"name": name, "description": description,
                            "parameters": {"type": "object", "properties": properties, "required": required}}
    template = api.get("template_response")
    if isinstance(template, dict) and template:
        tool["response"] = {field: _response_type(value) for field, value in template.items()}
    tool["x-toolbench"] = {key: api[key] for key in ("category_name", "tool_name", "api_name", "method") if key in api}
    return tool


def _response_type(value: Any) -> dict[str, Any]:
    if isinstance(value, list):
        return {"type": "array"}
    if isinstance(value, dict):
        return {"type": "object"}
    mapped = json_type(value) if isinstance(value, str) else None
    return {"type": mapped} if mapped else {}


def answer_tool(function: Any, where: str, ctx: Context) -> dict[str, Any]:
    """A function of the answer record: as given; ToolBench's extra ``optional`` list dropped when it only
    restates ``properties`` minus ``required`` (else kept as ``x-optional``)."""
    tool = tool_from_function(function, where)
    parameters = tool["parameters"]
    if "optional" in parameters:
        optional = parameters.pop("optional")
        rest = [p for p in parameters.get("properties", {}) if p not in (parameters.get("required") or [])]
        if sorted(optional or []) != sorted(rest):
            parameters["x-optional"] = optional
        ctx.count("toolbench_optional_lists_dropped")
    return tool


# --------------------------------------------------------------------------------------- answer trees
def _leaves(node: dict[str, Any], path: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    path = path + [node]
    children = node.get("children") or []
    if not children:
        yield path
    for child in children:
        yield from _leaves(child, path)


def _is_answer(path: list[dict[str, Any]]) -> bool:
    if len(path) < 2 or path[-2].get("node_type") != "Action" or path[-2].get("description") != FINISH:
        return False
    try:
        return loads_lenient(path[-1].get("description") or "").get("return_type") == "give_answer"
    except (NotLiteral, AttributeError):
        return False


def successful_path(tree: Any, ctx: Context) -> list[dict[str, Any]]:
    if not isinstance(tree, dict) or not isinstance(tree.get("tree"), dict):
        raise Reject("the record has no search tree")
    paths = list(_leaves(tree["tree"], []))
    winners = [p for p in paths if _is_answer(p)]
    if not winners:
        raise Reject("the tree has no successful path (no Finish with give_answer)")
    ctx.count("toolbench_failed_branch_leaves_dropped", len(paths) - 1)
    return winners[0]


def _arguments(text: Any, where: str) -> dict[str, Any]:
    try:
        value = loads_lenient(text) if isinstance(text, str) and text.strip() else (text or {})
    except NotLiteral:
        raise Reject(f"{where}: the action input is not JSON: {str(text)[:160]!r}") from None
    if not isinstance(value, dict):
        raise Reject(f"{where}: the action input is not an object: {str(value)[:160]}")
    return value


def _observation(text: Any) -> Any:
    if isinstance(text, str):
        try:
            return loads_strict(text)
        except ValueError:
            return text
    return text


class ToolBench(GitHubFetch, HubJsonSource):
    name = "ToolBench"
    aliases = ("tool-bench", "toolllama")
    license = "Apache-2.0"
    homepage = "https://github.com/OpenBMB/ToolBench"
    description = "ToolBench: RapidAPI instructions (G1/G2/G3) and ChatGPT DFSDT answer trees (successful paths)"
    subsets = SUBSETS
    github_repo = "OpenBMB/ToolBench"
    github_commit = "d56fdd89faf8c91fa135090b212bb9057ee5cfc2"
    github_paths = tuple(EXAMPLE_FILES)
    github_sha256 = {path: sha for path, sha in EXAMPLE_FILES.items() if sha}

    def records(self, raw: Path, subsets: list[str] | None = None) -> Iterator[RawRecord]:
        unknown = sorted(set(subsets or ()) - set(SUBSETS))
        if unknown:
            raise FetchError(f"unknown ToolBench subsets {unknown}; known: {', '.join(SUBSETS)}")
        root = raw if raw.is_dir() else raw.parent
        files = [raw] if raw.is_file() else sorted(p for p in raw.rglob("*.json") if p.is_file())
        found = False
        for path in files:
            rel = path.relative_to(root).as_posix()
            query, answer = QUERY_FILE_RE.match(path.name), ANSWER_DIR_RE.match(path.parent.name)
            subset = (query or answer).group(1) if (query or answer) else None
            if subset is None:
                continue
            found = True
            if subsets and subset not in subsets:
                continue
            if answer:
                try:
                    data: Any = loads_strict(path.read_bytes().removeprefix(b"\xef\xbb\xbf"))
                except ValueError as exc:
                    data = Reject(f"not JSON: {str(exc)[:300]}")
                digits = re.match(r"\d+", path.name)
                yield RawRecord(subset, rel, 0, data, source_id=int(digits.group()) if digits else path.stem)
                continue
            for location, value, error in iter_json_records(path):
                if error:
                    yield RawRecord(subset, rel, location, Reject(error, raw=value))
                else:
                    qid = value.get("query_id") if isinstance(value, dict) else None
                    yield RawRecord(subset, rel, location, value, source_id=qid if isinstance(qid, (int, str)) else location)
        if not found:
            raise FetchError(f"{raw} holds no G1/G2/G3 query file (G*_query.json) or answer folder (G*_answer/)")

    def convert(self, record: RawRecord, ctx: Context) -> Sample:
        row = record.data
        if not isinstance(row, dict):
            raise Reject("the record is not an object")
        if "answer_generation" in row:
            return self._trajectory(record, row, ctx)
        return self._query(record, row, ctx)

    def _query(self, record: RawRecord, row: dict[str, Any], ctx: Context) -> Sample:
        if not isinstance(row.get("query"), str) or not isinstance(row.get("api_list"), list):
            raise Reject("a query record without 'query' and 'api_list'")
        tools = [tool_of_api(api, f"api_list[{i}]") for i, api in enumerate(row["api_list"])]
        names = [tool["name"] for tool in tools]
        if len(set(names)) != len(names):
            raise Reject(f"two APIs map to one function name: {sorted({n for n in names if names.count(n) > 1})}")
        messages, meta = opening(self, record, tools, None)
        tags = ["query-only"]
        for pair in row.get("relevant APIs") or []:
            if isinstance(pair, list) and len(pair) == 2:
                tags.append("relevant:" + function_name({"tool_name": pair[0], "api_name": pair[1]}))
        meta["tags"] = tags
        messages.append({"role": "user", "content": row["query"]})
        return messages

    def _trajectory(self, record: RawRecord, row: dict[str, Any], ctx: Context) -> Sample:
        generation = row["answer_generation"]
        if not isinstance(generation, dict) or not isinstance(generation.get("query"), str):
            raise Reject("'answer_generation' lacks the query")
        functions = [f for f in generation.get("function") or [] if not (isinstance(f, dict) and f.get("name") == FINISH)]
        tools = [answer_tool(f, f"function[{i}]", ctx) for i, f in enumerate(functions)]
        declared = {tool["name"] for tool in tools}
        path = successful_path(row.get("tree"), ctx)
        messages, meta = opening(self, record, tools, None)
        meta["tags"] = ["dfs-trajectory"]
        trajectory = Trajectory(messages)
        trajectory.text("user", generation["query"])
        action = None
        for step, node in enumerate(path[1:], 1):
            kind, text = node.get("node_type"), node.get("description")
            where = f"tree step {step}"
            if kind == "Thought":
                if isinstance(text, str) and text.strip():
                    trajectory.text("assistant", text)
            elif kind == "Action":
                action = text
            elif kind == "Action Input":
                arguments = _arguments(text, where)
                if action == FINISH:
                    trajectory.text("assistant", str(arguments.get("final_answer", "")))
                    break
                check_declared(str(action), declared, where)
                trajectory.call(str(action), arguments)
                if "observation" not in node:
                    raise Reject(f"{where}: the call to {action!r} has no observation")
                observation = _observation(node["observation"])
                if isinstance(observation, str):
                    ctx.count("toolbench_observations_kept_as_text")  # not JSON: ToolBench cut it ("...")
                trajectory.answer(observation)
                action = None
            else:
                raise Reject(f"{where}: unknown node type {kind!r}")
        return trajectory.finish()
