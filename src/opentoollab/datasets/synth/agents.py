"""User, assistant and tool agents: one dialogue per record, every request through the step's session.

The user agent (template ``<stem>.user``) answers JSON ``{"message": str, "done": bool}``: the next
user message, or ``done`` once its goals are met. The assistant agent (``<stem>.assistant``, a system
prompt) gets the dialogue as chat messages and the tools in force as OpenAI ``tools``; its
``tool_calls`` (or ``<tool_call>{…}</tool_call>`` blocks in its text, for servers without a tool
parser) are executed by ``execute`` — a real environment, or the tool agent (``<stem>.tool``,
JSON ``{"result": …}``) simulating a result — until it answers in plain text. A tool held out for
BFCL's miss_func appears with a new ``candidate_tools`` message before the user turn that reveals it.

The dialogue is built directly as unified messages (``user``, ``assistant``, ``tool_call``,
``tool_response``, ``candidate_tools``) with call ids numbered the way the format numbers them.
May import: ``opentoollab.llm``, ``opentoollab.format``, the standard library.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Callable

from ...format.sample import CallNumbering, tool_call_uid
from ...format.schema_types import normalize_schema, strip_extensions
from ...format.validate import validate_sample
from ...llm.client import Reply
from ...llm.jsonparse import ParseError, parse_json
from .step import Record, Session, Step, StepFailure, need, text_field

Message = dict[str, Any]
Execute = Callable[[str, dict[str, Any], list[Message]], Any]  # (tool, arguments, dialogue so far) → result
NAME_OK = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
HERMES_CALL_RE = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|\Z)", re.S)
TRANSCRIPT_CHARS = 1500  # per message in the text the user and tool agents read


@dataclass
class Limits:
    """Bounds of one dialogue."""

    max_user_turns: int = 3
    max_steps: int = 6  # assistant requests per user turn
    max_calls: int = 8  # calls in one assistant reply


def openai_tools(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Unified tools → OpenAI ``tools`` (``x-`` keys dropped)."""
    return [{"type": "function", "function": {"name": t["name"], "description": t.get("description", ""),
                                              "parameters": strip_extensions(t.get("parameters") or {})}}
            for t in tools]


def chat_messages(system: list[Message], dialogue: list[Message]) -> list[Message]:
    """The assistant agent's view: its system prompt, then the dialogue as OpenAI chat messages."""
    out = [dict(m) for m in system]
    numbering = CallNumbering()
    for message in dialogue:
        role, content = message["role"], message["content"]
        if role in ("user", "assistant"):
            out.append({"role": role, "content": content})
        elif role == "tool_call":
            calls = []
            for call in content:
                uid = "call_" + tool_call_uid("synth", numbering.next_id(call["name"]))
                calls.append({"id": uid, "type": "function", "function": {
                    "name": call["name"], "arguments": json.dumps(call["parameters"], ensure_ascii=False)}})
            if out and out[-1]["role"] == "assistant" and "tool_calls" not in out[-1] and message.get("_joined"):
                out[-1]["tool_calls"] = calls
            else:
                out.append({"role": "assistant", "content": "", "tool_calls": calls})
        elif role == "tool_response":
            for cid, result in content.items():
                out.append({"role": "tool", "tool_call_id": "call_" + tool_call_uid("synth", cid),
                            "content": result if isinstance(result, str) else json.dumps(result, ensure_ascii=False)})
    return out


def transcript(dialogue: list[Message]) -> str:
    """The dialogue as plain text for the user and tool agents (each message clipped)."""
    lines = []
    numbering = CallNumbering()
    for message in dialogue:
        role, content = message["role"], message["content"]
        if role in ("user", "assistant"):
            lines.append(f"[{role}] {content[:TRANSCRIPT_CHARS]}")
        elif role == "tool_call":
            for call in content:
                args = json.dumps(call["parameters"], ensure_ascii=False)[:TRANSCRIPT_CHARS]
                lines.append(f"[call {numbering.next_id(call['name'])}] {call['name']}({args})")
        elif role == "tool_response":
            for cid, result in content.items():
                lines.append(f"[result {cid}] {json.dumps(result, ensure_ascii=False)[:TRANSCRIPT_CHARS]}")
        elif role == "candidate_tools":
            lines.append(f"[new tools available] {', '.join(t['name'] for t in content)}")
    return "\n".join(lines)


def _arguments(raw: Any, name: str) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return {}
    try:
        value = parse_json(raw, "object") if isinstance(raw, str) else raw
    except ParseError as error:
        raise StepFailure("bad_json", f"arguments of {name}: {error}", str(raw)[:2000]) from None
    need(isinstance(value, dict), f"arguments of {name} are not a JSON object")
    return value


def reply_calls(reply: Reply, offered: set[str], max_calls: int) -> list[dict[str, Any]]:
    """The calls of an assistant reply as unified calls; StepFailure for unusable ones."""
    raw_calls: list[tuple[str, Any]] = []
    for tool_call in reply.tool_calls:
        function = tool_call.get("function") if isinstance(tool_call, dict) else None
        function = function if isinstance(function, dict) else {}
        name = function.get("name")
        raw_calls.append((name if isinstance(name, str) else "", function.get("arguments")))
    if not raw_calls and "<tool_call>" in reply.content:
        for block in HERMES_CALL_RE.findall(reply.content):
            try:
                call = parse_json(block, "object")
            except ParseError as error:
                raise StepFailure("bad_json", f"<tool_call> block: {error}", block[:2000]) from None
            name = call.get("name")
            raw_calls.append((name if isinstance(name, str) else "", call.get("arguments", call.get("parameters"))))
    need(len(raw_calls) <= max_calls, f"{len(raw_calls)} calls in one reply (limit {max_calls})")
    calls = []
    for name, arguments in raw_calls:
        need(name in offered, f"the assistant called {name!r}, which is not among the tools offered")
        calls.append({"name": name, "parameters": _arguments(arguments, name), "depend_on": []})
    return calls


def visible_text(reply: Reply) -> str:
    """The reply's text without tool-call blocks and reasoning."""
    text = HERMES_CALL_RE.sub("", reply.content)
    text = re.sub(r"<think>.*?(?:</think>|\Z)", "", text, flags=re.S)
    return text.strip()


def simulated_tool(step: Step, session: Session, view: Record, tools: list[dict[str, Any]]) -> Execute:
    """The tool agent: a model writes each result (``{"result": …}``) from the declaration and arguments."""
    by_name = {t["name"]: t for t in tools}

    def execute(name: str, arguments: dict[str, Any], dialogue: list[Message]) -> Any:
        messages = step.render(view, "tool", tool=by_name[name], arguments=arguments, transcript=transcript(dialogue))
        answer = session.ask_json(messages)
        need(isinstance(answer, dict) and "result" in answer, "the tool agent's answer has no 'result'")
        result = answer["result"]
        need(result is not None and result != "" and result != {}, "the tool agent returned an empty result")
        return result

    return execute


def run_dialogue(step: Step, session: Session, view: Record, *, tools: list[dict[str, Any]], execute: Execute,
                 limits: Limits, held_out: list[str] | tuple[str, ...] = (), reveal_turn: int = 1,
                 **variables: Any) -> list[Message]:
    """One dialogue between the agents of ``step`` (templates ``<stem>.user`` and ``<stem>.assistant``)."""
    dialogue: list[Message] = []
    numbering = CallNumbering()
    in_force = [t for t in tools if t["name"] not in held_out]
    system = step.render(view, "assistant", **variables)
    for turn in range(limits.max_user_turns):
        if held_out and turn == reveal_turn:
            in_force = list(tools)
            dialogue.append({"role": "candidate_tools", "content": in_force})
        user = session.ask_json(step.render(view, "user", turn=turn, transcript=transcript(dialogue),
                                            tools_in_force=in_force, **variables))
        if turn > 0 and isinstance(user, dict) and user.get("done") is True:
            break
        dialogue.append({"role": "user", "content": text_field(user, "message", 20_000)})
        _assistant_turn(session, system, dialogue, in_force, execute, limits, numbering)
    if held_out and dialogue and dialogue[-1]["role"] == "candidate_tools":
        dialogue.pop()
    need(any(m["role"] == "user" for m in dialogue), "the dialogue has no user message")
    return dialogue


def _assistant_turn(session: Session, system: list[Message], dialogue: list[Message], tools: list[dict[str, Any]],
                    execute: Execute, limits: Limits, numbering: CallNumbering) -> None:
    """Assistant requests until a plain-text answer; every call executed and answered in between."""
    offered = {t["name"] for t in tools}
    spec = openai_tools(tools) if tools else None
    for _ in range(limits.max_steps):
        reply = session.chat(chat_messages(system, dialogue), tools=spec)
        if reply.refusal:
            raise StepFailure("refusal", reply.refusal, reply.content)
        calls = reply_calls(reply, offered, limits.max_calls)
        text = visible_text(reply)
        if not calls:
            need(bool(text), "the assistant answered nothing")
            dialogue.append({"role": "assistant", "content": text})
            return
        if text:
            dialogue.append({"role": "assistant", "content": text})
        ids = [numbering.next_id(call["name"]) for call in calls]
        dialogue.append({"role": "tool_call", "content": calls, "_joined": bool(text)})
        results = {}
        for cid, call in zip(ids, calls):
            results[cid] = execute(call["name"], call["parameters"], dialogue)
        dialogue.append({"role": "tool_response", "content": results})
    raise StepFailure("invalid", f"no final answer after {limits.max_steps} assistant steps")


def clean(dialogue: list[Message]) -> list[Message]:
    """Unified messages only (runtime markers dropped)."""
    return [{"role": m["role"], "content": m["content"]} for m in dialogue]


def tool_problem(tool: Any) -> str | None:
    """Why a generated tool declaration is unusable, or None."""
    if not isinstance(tool, dict):
        return "a function is not an object"
    name = tool.get("name")
    if not isinstance(name, str) or not NAME_OK.match(name):
        return f"function name {name!r} must match [a-zA-Z0-9_-]{{1,64}}"
    if not isinstance(tool.get("description"), str) or not tool["description"].strip():
        return f"{name}: no description"
    parameters = tool.get("parameters")
    if not isinstance(parameters, dict) or parameters.get("type") != "object":
        return f"{name}: parameters must be a JSON Schema object"
    properties = parameters.get("properties", {})
    if not isinstance(properties, dict):
        return f"{name}: parameters.properties must be an object"
    required = parameters.get("required", [])
    if not isinstance(required, list) or any(r not in properties for r in required):
        return f"{name}: required names a parameter that is not declared"
    return None


def normalize_tool(tool: dict[str, Any]) -> dict[str, Any]:
    """A generated declaration in the unified shape: name, description, JSON-Schema parameters (+ response)."""
    out = {"name": tool["name"], "description": tool["description"].strip(),
           "parameters": normalize_schema(tool["parameters"])}
    out["parameters"].setdefault("properties", {})
    if isinstance(tool.get("response"), dict) and tool["response"]:
        out["response"] = {k: v for k, v in tool["response"].items() if isinstance(v, dict)}
    return out


def tools_problem(tools: Any, max_tools: int = 20) -> str | None:
    """Why a generated tool list is unusable (shape, names, duplicates, the format's schema), or None."""
    if not isinstance(tools, list) or not tools:
        return "no functions"
    if len(tools) > max_tools:
        return f"{len(tools)} functions (limit {max_tools})"
    for tool in tools:
        problem = tool_problem(tool)
        if problem:
            return problem
    names = [t["name"] for t in tools]
    if len(set(names)) != len(names):
        return f"function names declared twice: {sorted({n for n in names if names.count(n) > 1})}"
    probe = [{"role": "id", "content": "synth_check_0"}, {"role": "candidate_tools", "content": tools},
             {"role": "user", "content": "?"}]
    problems = validate_sample(probe)
    return f"functions break the sample format: {problems[0]}" if problems else None
