"""TaskBench (Shen et al., 2023; GitHub ``microsoft/JARVIS``, ``taskbench/data_<domain>/``): tool graphs in three domains.

Per domain folder (``data_huggingface``, ``data_multimedia``, ``data_dailylifeapis``):

* ``tool_desc.json`` ``{"nodes": [...]}`` → the candidate tools (the whole domain, as TaskBench prompts them).
  dailylifeapis nodes ``{id, desc, parameters: [{name, type, desc}]}`` → a JSON Schema object (``date`` →
  ``string``, original kept); huggingface/multimedia nodes ``{id, desc, input-type, output-type}`` → one
  string parameter per input, named by its type (``image``; a repeated type gets ``image_2``), with the
  types kept in ``x-input-type``/``x-output-type``.
* ``data.json`` (JSONL despite the name) ``{id, type: single|chain|dag, instruction | user_request,
  task_nodes, task_links, ...}`` → user = the request text itself; ``task_nodes`` → ``tool_call_ground_truth``
  (each value its one candidate). dailylifeapis arguments are ``[{name, value}]`` (names kept as written, even
  when the tool declares another name: tagged ``undeclared-arguments``); resource domains pass positional
  arguments, ``"<node-j>"`` meaning the output of node j → ``<link>ID</link>``. ``task_links``
  ``{source, target}`` (tool names) and ``<node-j>`` references become ``depend_on`` of the target (the later
  call) pointing at the source (the earlier one); calls are put in dependency order (stable), counted when
  the file's order had to change. ``task_nodes``/``task_links`` given as JSON strings are decoded.
* ``user_requests.json`` (JSONL ``{id, user_request}``): requests of ids that ``data.json`` does not hold (or
  every request, when the folder has no ``data.json``) become request-only samples (tools + user, tag
  ``request-only``); a request whose id ``data.json`` holds is rejected as converted there.

All three domains are evaluation subsets.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator

from ...format.sample import CallNumbering, Sample, loads_strict
from ...format.schema_types import json_type
from .base import Context, FetchError, RawRecord, Reject, Source, check_subsets
from .hub_json import iter_json_records
from .textcalls import ground_truth, opening, undeclared_arguments
from .github import GitHubFetch

DOMAINS = ("huggingface", "multimedia", "dailylifeapis")
NODE_REF = re.compile(r"^<node-(0|[1-9][0-9]*)>$")
DATA, REQUESTS, TOOLS = "data.json", "user_requests.json", "tool_desc.json"


def _parameter(spec: dict[str, Any]) -> dict[str, Any]:
    original = spec.get("type")
    out: dict[str, Any] = {"description": str(spec.get("desc") or "")}
    mapped = json_type(original) if isinstance(original, str) else None
    if mapped:
        out["type"] = mapped
    if original is not None and mapped != original:
        out["x-original-type"] = original
    return out


def convert_tool(node: Any) -> dict[str, Any]:
    """One ``tool_desc.json`` node → a unified tool."""
    if not isinstance(node, dict) or not isinstance(node.get("id"), str):
        raise FetchError(f"a tool_desc node without an id: {str(node)[:200]}")
    tool: dict[str, Any] = {"name": node["id"], "description": str(node.get("desc") or "")}
    if isinstance(node.get("parameters"), list):
        properties = {p["name"]: _parameter(p) for p in node["parameters"] if isinstance(p, dict) and isinstance(p.get("name"), str)}
        tool["parameters"] = {"type": "object", "properties": properties}
        return tool
    properties = {}
    for kind in node.get("input-type") or []:
        key, n = str(kind), 2
        while key in properties:
            key, n = f"{kind}_{n}", n + 1
        properties[key] = {"type": "string", "description": f"input {kind}"}
    tool["parameters"] = {"type": "object", "properties": properties}
    tool["x-input-type"] = list(node.get("input-type") or [])
    tool["x-output-type"] = list(node.get("output-type") or [])
    return tool


def _decoded(value: Any, field: str) -> Any:
    if isinstance(value, str):
        try:
            return loads_strict(value)
        except ValueError:
            raise Reject(f"'{field}' is a string that is not JSON: {value[:200]!r}") from None
    return value


def _order(nodes: list[dict[str, Any]], needs: list[set[int]]) -> list[int]:
    """Node indices with every node after the nodes it needs (stable); Reject on a cycle."""
    done: list[int] = []
    placed: set[int] = set()
    while len(done) < len(nodes):
        ready = [i for i in range(len(nodes)) if i not in placed and needs[i] <= placed]
        if not ready:
            raise Reject("task_links/<node-j> references form a cycle")
        done.append(ready[0])
        placed.add(ready[0])
    return done


def _arguments(node: dict[str, Any], tool: dict[str, Any], where: str) -> tuple[dict[str, Any], set[int]]:
    """A node's arguments → (parameters, indices of the nodes whose output it takes)."""
    raw = node.get("arguments", [])
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list):
        raise Reject(f"{where}: arguments are not a list")
    parameters: dict[str, Any] = {}
    refs: set[int] = set()
    names = list(tool["parameters"]["properties"])
    for position, argument in enumerate(raw):
        if isinstance(argument, dict) and isinstance(argument.get("name"), str):
            key, value = argument["name"], argument.get("value")
        elif "x-input-type" in tool:
            if position >= len(names):
                raise Reject(f"{where}: {len(raw)} arguments for the {len(names)} inputs of {tool['name']!r}")
            key, value = names[position], argument
        else:
            raise Reject(f"{where}: argument {position} is not a {{name, value}} object")
        if key in parameters:
            raise Reject(f"{where}: argument {key!r} is given twice")
        match = NODE_REF.match(value) if isinstance(value, str) else None
        if match:
            refs.add(int(match.group(1)))
        parameters[key] = value
    return parameters, refs


def convert_graph(data: dict[str, Any], tools: dict[str, dict[str, Any]], ctx: Context) -> tuple[list, list[str]]:
    request = data.get("instruction", data.get("user_request"))
    if not isinstance(request, str) or not request.strip():
        raise Reject("record lacks an 'instruction'/'user_request' string")
    nodes, links = _decoded(data.get("task_nodes"), "task_nodes"), _decoded(data.get("task_links", []), "task_links")
    if not isinstance(nodes, list) or not nodes or not isinstance(links, list):
        raise Reject("record lacks a non-empty task_nodes list or a task_links list")
    tags: list[str] = []
    by_name: dict[str, list[int]] = {}
    parsed, needs = [], []
    for index, node in enumerate(nodes):
        where = f"task_nodes[{index}]"
        if not isinstance(node, dict) or not isinstance(node.get("task"), str):
            raise Reject(f"{where}: not a {{task, arguments}} object")
        tool = tools.get(node["task"])
        if tool is None:
            raise Reject(f"{where}: {node['task']!r} is not in tool_desc.json")
        parameters, refs = _arguments(node, tool, where)
        if any(ref >= len(nodes) or ref == index for ref in refs):
            raise Reject(f"{where}: a <node-j> reference names no other node")
        if undeclared_arguments(tool, parameters) and "undeclared-arguments" not in tags:
            tags.append("undeclared-arguments")
            ctx.count("taskbench_undeclared_argument_samples")
        by_name.setdefault(node["task"], []).append(index)
        parsed.append((node["task"], parameters))
        needs.append(set(refs))
    for position, link in enumerate(links):
        ends = [link.get(k) for k in ("source", "target")] if isinstance(link, dict) else [None, None]
        found = [by_name.get(end) if isinstance(end, str) else None for end in ends]
        if not all(found) or any(len(f) != 1 for f in found):
            raise Reject(f"task_links[{position}]: {ends} must each name exactly one task node")
        needs[found[1][0]].add(found[0][0])
    order = _order(nodes, needs)
    if order != list(range(len(nodes))):
        ctx.count("taskbench_nodes_reordered")
    numbering, ids, calls = CallNumbering(), {}, []
    for index in order:
        name, parameters = parsed[index]
        ids[index] = numbering.next_id(name)
        linked = {k: f"<link>{ids[int(NODE_REF.match(v).group(1))]}</link>" if isinstance(v, str) and NODE_REF.match(v) else v
                  for k, v in parameters.items()}
        calls.append({"name": name, "parameters": linked, "depend_on": [ids[j] for j in sorted(needs[index], key=order.index)]})
    kind = data.get("type")
    return [{"role": "user", "content": request}, {"role": "tool_call_ground_truth", "content": ground_truth(calls)}], \
        ([f"graph:{kind}"] if isinstance(kind, str) else []) + tags


def _domain(folder: Path) -> str | None:
    name = folder.name.removeprefix("data_")
    return name if name in DOMAINS else None


class TaskBench(GitHubFetch, Source):
    name = "TaskBench"
    aliases = ("task-bench", "jarvis-taskbench")
    license = "MIT"
    homepage = "https://github.com/microsoft/JARVIS/tree/main/taskbench"
    description = "TaskBench: task automation over tool graphs (huggingface, multimedia, dailylifeapis), with dependencies"
    subsets = DOMAINS
    evaluation_subsets = DOMAINS
    github_repo = "microsoft/JARVIS"
    github_commit = "c62e0faac76c4a2907cabe2cfe4bbe5f2e613400"
    github_paths = tuple(f"taskbench/data_{d}/{f}" for d in DOMAINS for f in (TOOLS, REQUESTS, DATA))
    github_optional = tuple(f"taskbench/data_{d}/{DATA}" for d in DOMAINS)  # data.json is on the hub (microsoft/Taskbench)

    def __init__(self) -> None:
        self._tools: dict[str, dict[str, Any]] = {}

    def _folders(self, raw: Path) -> list[Path]:
        if raw.is_file():
            return [raw.parent]
        folders = sorted({p.parent for name in (DATA, REQUESTS) for p in raw.rglob(name)}, key=lambda p: p.as_posix())
        if not folders:
            raise FetchError(f"{raw} holds no TaskBench {DATA} or {REQUESTS}")
        return folders

    def records(self, raw: Path, subsets: list[str] | None = None) -> Iterator[RawRecord]:
        check_subsets(self, subsets)
        base = raw.parent if raw.is_file() else raw
        for folder in sorted(self._folders(raw), key=lambda f: DOMAINS.index(_domain(f)) if _domain(f) else len(DOMAINS)):
            subset = _domain(folder)
            if subset is None:
                raise FetchError(f"{folder} is not a TaskBench domain folder (data_{'/data_'.join(DOMAINS)})")
            if subsets and subset not in subsets:
                continue
            self._tools, tools_error, bad_nodes = self._load_tools(folder)
            tools_rel = (folder / TOOLS).relative_to(base).as_posix() if (folder / TOOLS).is_relative_to(base) else TOOLS
            for index, node, reason in bad_nodes:  # each bad tool node is one reject; the other tools are kept
                yield RawRecord(subset, tools_rel, f"nodes[{index}]", Reject(f"tool definition dropped: {reason}", raw=node))
            annotated: set[str] = set()
            for name in (DATA, REQUESTS):
                path = folder / name
                if not path.is_file() or (raw.is_file() and path != raw):
                    continue
                rel = path.relative_to(base).as_posix()
                for line, value, error in iter_json_records(path):
                    record_id = value.get("id") if isinstance(value, dict) and not error else None
                    record_id = record_id if isinstance(record_id, (str, int)) and not isinstance(record_id, bool) else None
                    if error or not self._tools:
                        yield RawRecord(subset, rel, line, Reject(error or tools_error or f"no usable {TOOLS} in {folder}",
                                                                  raw=value))
                    elif name == REQUESTS and record_id in annotated:
                        yield RawRecord(subset, rel, line, Reject(f"request {record_id} is converted from {DATA} (with its calls)",
                                                                  raw=value))
                    else:
                        if name == DATA and isinstance(record_id, str):
                            annotated.add(record_id)
                        yield RawRecord(subset, rel, line, value, source_id=record_id if isinstance(record_id, (str, int)) else line)

    def _load_tools(self, folder: Path) -> tuple[dict[str, dict[str, Any]], str | None, list[tuple[int, Any, str]]]:
        """(name → tool, why there are none, bad nodes as (index, raw, reason)); never raises on content."""
        path = folder / TOOLS
        if not path.is_file():
            return {}, None, []
        try:
            document = loads_strict(path.read_bytes().removeprefix(b"\xef\xbb\xbf"))
        except ValueError as exc:
            return {}, f"{TOOLS} is not JSON: {str(exc)[:300]}", []
        nodes = document.get("nodes") if isinstance(document, dict) else None
        if not isinstance(nodes, list):
            return {}, f"{TOOLS} is not a {{\"nodes\": [...]}} JSON object", []
        tools: dict[str, dict[str, Any]] = {}
        bad = []
        for index, node in enumerate(nodes):
            try:
                tool = convert_tool(node)
            except Exception as exc:
                bad.append((index, node, f"{TOOLS} nodes[{index}]: {type(exc).__name__}: {str(exc)[:300]}"))
                continue
            tools[tool["name"]] = tool
        return tools, None, bad

    def convert(self, record: RawRecord, ctx: Context) -> Sample:
        data = record.data
        if not isinstance(data, dict):
            raise Reject("record is not an object")
        if "task_nodes" in data:
            body, tags = convert_graph(data, self._tools, ctx)
        elif isinstance(data.get("user_request"), str) and data["user_request"].strip():
            body, tags = [{"role": "user", "content": data["user_request"]}], ["request-only"]
        else:
            raise Reject("record has neither task_nodes nor a user_request")
        messages, meta = opening(self, record, list(self._tools.values()), None)
        meta["tags"] = tags
        return messages + body
