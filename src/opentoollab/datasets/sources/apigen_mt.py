"""APIGen-MT-5k: 5,000 verified multi-turn agent trajectories in the tau-bench retail and airline domains.

IMPLEMENTED FROM THE DOCUMENTED LAYOUT, NOT FROM REAL BYTES: no record of this corpus was available
while writing this adapter (the hub repository is gated and nothing public quotes a whole row). The
layout below is the one the dataset card and public loaders describe; the tests use a record built
from it and say so.

Hub ``Salesforce/APIGen-MT-5k`` (gated, CC-BY-NC-4.0), one file ``apigen-mt_5k.json``: a JSON array of
``{"conversations": [{"from", "value"}], "tools": str, "system": str}``:

- ``system`` (the domain policy) → ``system``; ``tools`` is a JSON string of ``{name, description,
  parameters}`` functions (JSON Schema parameters) → ``candidate_tools``; it includes the ``think``
  pseudo-tool, kept as declared.
- ``from``: ``human`` → ``user``; ``gpt`` → ``assistant``; ``function_call`` (value: a JSON string
  ``{"name", "arguments"}``) → a call; ``observation`` → the result of the oldest unanswered call
  (structured when it is JSON, else its text; ``think`` results are empty strings).
- Calls in consecutive ``function_call`` turns before their observations form one ``tool_call``.
  The corpus states no dependencies between calls, so none are written here.
"""

from __future__ import annotations

from typing import Any

from ...format.sample import Sample, loads_strict
from .base import Context, RawRecord, Reject
from .hub_json import HubJsonSource
from .textcalls import (NotLiteral, Trajectory, check_declared, loads_lenient, opening, parse_arguments,
                        structured_result, tool_from_function, unique_tools)

DATA_FILE = "apigen-mt_5k.json"


def _tools(value: Any) -> list[Any]:
    if isinstance(value, str):
        try:
            value = loads_strict(value) if value.strip() else []
        except ValueError as exc:
            raise Reject(f"'tools' is not valid JSON ({str(exc)[:200]})") from None
    if not isinstance(value, list):
        raise Reject("'tools' is not a list")
    return value


def _call(value: Any, where: str) -> tuple[str, dict[str, Any]]:
    if isinstance(value, str):
        try:
            value = loads_lenient(value)
        except NotLiteral:
            raise Reject(f"{where}: the function_call is not JSON (truncated?): {value[:200]!r}") from None
    if not isinstance(value, dict) or not isinstance(value.get("name"), str):
        raise Reject(f"{where}: the function_call is not a {{name, arguments}} object")
    return value["name"], parse_arguments(value.get("arguments", {}), where)


class APIGenMT(HubJsonSource):
    name = "APIGen-MT"
    aliases = ("apigen-mt-5k",)
    license = "CC-BY-NC-4.0"
    homepage = "https://huggingface.co/datasets/Salesforce/APIGen-MT-5k"
    description = "APIGen-MT-5k: verified multi-turn agent trajectories (tau-bench retail and airline)"
    subsets = ("train",)
    hub_repo = "Salesforce/APIGen-MT-5k"
    # Pinned from a public list of pinned hub revisions (not verified against the hub from here);
    # the file's sha256 at that revision is the one a public analysis of the corpus reports.
    hub_revision = "abc4a517d67c541f85f6470cbd8fd3186b36830e"
    hub_files = {DATA_FILE: "train"}
    file_sha256 = {DATA_FILE: "5225b54198c1d4d2ae9ff14ddd98341751677138efe64ded10dcb770276b5841"}

    def convert(self, record: RawRecord, ctx: Context) -> Sample:
        row = record.data
        if not isinstance(row, dict) or not isinstance(row.get("conversations"), list):
            raise Reject("record lacks a 'conversations' list")
        tools = unique_tools([tool_from_function(t, f"tools[{i}]") for i, t in enumerate(_tools(row.get("tools", "[]")))],
                             ctx.count)
        declared = {tool["name"] for tool in tools}
        messages, _meta = opening(self, record, tools, row.get("system"))
        trajectory = Trajectory(messages)
        for index, turn in enumerate(row["conversations"]):
            where = f"conversations[{index}]"
            if not isinstance(turn, dict) or not isinstance(turn.get("value"), (str, dict)):
                raise Reject(f"{where}: not a {{from, value}} turn")
            role, value = turn.get("from"), turn["value"]
            if role == "function_call":
                name, arguments = _call(value, where)
                check_declared(name, declared, where)
                trajectory.call(name, arguments)
            elif role == "observation":
                trajectory.answer(structured_result(value) if isinstance(value, str) else value)
            elif role in ("human", "user", "gpt", "assistant") and isinstance(value, str):
                trajectory.text("user" if role in ("human", "user") else "assistant", value)
            elif role == "system" and isinstance(value, str):
                if any(m["role"] == "user" for m in messages):
                    raise Reject(f"{where}: a system turn after the dialogue began")
                messages.insert(2, {"role": "system", "content": value})
            else:
                raise Reject(f"{where}: unknown turn kind {role!r}")
        return trajectory.finish()
