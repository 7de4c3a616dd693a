"""The rows of each output format of ``trainer prepare`` (text, messages, sharegpt) from a rendered chat.

Every row carries the sample id. Values of any shape (call arguments, tool schemas) are written as JSON
text where the consumer accepts it: Arrow (HF datasets) needs one type per column and turns mixed shapes
into JSON that pandas re-parses with rounded floats (0.6 → 0.6000000000000001, 8.854e-12 → 0.0). A row a
consumer would read differently from what we wrote is skipped with a counted reason (``Skip``), never
written wrong: HF datasets' float round trip (``hf_datasets_keeps``) and, for ``--trainer ms-swift``, the
conversations its template cannot encode as the model's official template does (``swift_problem``).
May import: ``opentoollab.format``, ``opentoollab.trainer.render``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .render.base import Chat, Rendered, Renderer, Skip, tojson

TRAINERS = ("any", "ms-swift")



@dataclass
class RowShape:
    """How rows are written for one renderer (decided once per run)."""

    renderer: Any = None
    text_arguments: bool = False  # messages: tool-call arguments as JSON text
    hf_safe: bool = True  # messages with object arguments: skip rows HF datasets would change ("hf_datasets_float")
    result_join: str | None = None  # sharegpt: how parallel results share one observation (None: a JSON list)
    trainer: str = "any"  # messages: "ms-swift" skips what its template would encode otherwise (swift_problem)


def text_row(chat: Chat, rendered: Rendered, shape: RowShape) -> dict[str, Any]:
    return {"id": chat.id, "text": rendered.text, "spans": rendered.spans}


def _text_arguments(message: dict[str, Any]) -> dict[str, Any]:
    calls = message.get("tool_calls")
    if not calls or all(isinstance(c["function"].get("arguments"), str) for c in calls):
        return message
    return {**message, "tool_calls": [
        {**c, "function": {**c["function"], "arguments": a if isinstance(a := c["function"].get("arguments"), str) else tojson(a)}}
        for c in calls]}


def _has_float(value: Any) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, dict):
        return any(_has_float(v) for v in value.values())
    return isinstance(value, list) and any(_has_float(v) for v in value)


def hf_datasets_keeps(arguments: Any) -> bool:
    """Whether ``load_dataset("json")`` gives these call arguments back unchanged when they are objects.

    HF datasets (5.x) stores a field whose shape varies across rows as JSON text: it parses the line with
    pandas' ujson (imprecise floats), writes the field with it (10 decimals) and parses it again, so
    ``0.3`` comes back ``0.30000000000000004`` and ``8.854e-12`` as ``0.0``. That round trip, run with the
    same functions, decides; values without floats always survive (and without pandas there is no HF datasets).
    """
    if not _has_float(arguments):
        return True
    try:
        from pandas.io.json import ujson_dumps, ujson_loads
    except ImportError:
        return True
    text = json.dumps(arguments)
    return json.dumps(ujson_loads(ujson_dumps(ujson_loads(text)))) == text


def messages_row(chat: Chat, rendered: Rendered, shape: RowShape) -> dict[str, Any]:
    """TRL SFTTrainer / ms-swift conversational rows: ``{"id", "messages", "tools"}``.

    ``tools`` is JSON text (both trainers ``json.loads`` a string), null when the sample has none;
    call arguments are JSON text when the template prints a string as is (``shape.text_arguments``).
    Otherwise they stay objects, and a row HF datasets would load with other values (see
    ``hf_datasets_keeps``) is skipped as ``hf_datasets_float`` unless ``shape.hf_safe`` is off: the
    ``text`` rows with ``--tokenizer`` keep those samples exactly.
    """
    template_chat = getattr(shape.renderer, "template_chat", None)
    if template_chat is not None:
        chat = template_chat(chat)
    messages = [_text_arguments(m) for m in chat.messages] if shape.text_arguments else chat.messages
    if shape.trainer == "ms-swift":
        problem = swift_problem(messages)
        if problem:
            raise Skip(*problem)
    if shape.hf_safe and not shape.text_arguments:
        for message in messages:
            for call in message.get("tool_calls") or []:
                arguments = call["function"].get("arguments")
                if not isinstance(arguments, str) and not hf_datasets_keeps(arguments):
                    raise Skip("hf_datasets_float", f"HF datasets would load {call['function']['name']}'s arguments "
                                                    f"{json.dumps(arguments)[:200]} with other numbers; use the text format with "
                                                    f"--tokenizer for this model, or --no-hf-safe to write it anyway")
    return {"id": chat.id, "messages": messages, "tools": tojson(chat.tools) if chat.tools else None}


SHAREGPT_TAGS = {"role_tag": "from", "content_tag": "value", "user_tag": "human", "assistant_tag": "gpt",
                 "observation_tag": "observation", "function_tag": "function_call", "system_tag": "system"}
# LLaMA-Factory wraps one observation in one ``<tool_response>`` block for these templates; the official
# templates write one block per result, so results joined by this text give the official text.
RESULT_JOINS = {"Qwen2.5": "\n</tool_response>\n<tool_response>\n", "Qwen3": "\n</tool_response>\n<tool_response>\n"}


def sharegpt_row(chat: Chat, rendered: Rendered, shape: RowShape) -> dict[str, Any]:
    """LLaMA-Factory's sharegpt row: human/observation on odd turns, gpt/function_call on even ones.

    Every row has the same columns (``id``, ``conversations``, ``system`` — "" when none — and
    ``tools``, JSON text), so LLaMA-Factory's loader types them from any batch. A wave of parallel
    calls is one ``function_call`` turn holding a JSON list; assistant text written with calls stays
    in front of them as ``TEXT\n<tool_call>CALLS</tool_call>`` (LLaMA-Factory keeps what precedes its
    tool-call tags). The wave's results are one ``observation`` (``shape.result_join``, else a JSON
    list). Trailing context after the last assistant turn is cut (nothing is learned from it and
    LLaMA-Factory requires an even length).
    """
    system = ""
    turns: list[dict[str, str]] = []
    pending_results: list[str] = []

    def flush_results() -> None:
        if pending_results:
            if len(pending_results) == 1:
                value = pending_results[0]
            elif shape.result_join is not None:
                value = shape.result_join.join(pending_results)
            else:
                value = json.dumps(pending_results, ensure_ascii=False)
            turns.append({"from": "observation", "value": value})
            pending_results.clear()

    for i, message in enumerate(chat.messages):
        role = message["role"]
        if role == "system" and i == 0:
            system = message["content"]
            continue
        if role != "tool":
            flush_results()
        if role == "user":
            turns.append({"from": "human", "value": message["content"]})
        elif role == "tool":
            pending_results.append(message["content"])
        elif role == "assistant" and message.get("tool_calls"):
            calls = [{"name": c["function"]["name"], "arguments": c["function"]["arguments"]} for c in message["tool_calls"]]
            value = json.dumps(calls[0] if len(calls) == 1 else calls, ensure_ascii=False)
            if message.get("content"):
                value = f"{message['content']}\n<tool_call>{value}</tool_call>"
            turns.append({"from": "function_call", "value": value})
        elif role == "assistant":
            value = message["content"]
            if message.get("reasoning_content"):
                value = f"<think>\n{message['reasoning_content']}\n</think>\n\n{value}"
            turns.append({"from": "gpt", "value": value})
        else:
            raise Skip("sharegpt_roles", f"a {role} message at position {i} has no sharegpt role")
    flush_results()
    while turns and turns[-1]["from"] in ("human", "observation"):
        turns.pop()
    for k, turn in enumerate(turns):
        expected = ("human", "observation") if k % 2 == 0 else ("gpt", "function_call")
        if turn["from"] not in expected:
            raise Skip("sharegpt_alternation", f"turn {k} is {turn['from']}, LLaMA-Factory needs {'/'.join(expected)}")
    if not turns:
        raise Skip("nothing_to_learn", "no assistant turn")
    return {"id": chat.id, "conversations": turns, "system": system,
            "tools": json.dumps([tool["function"] for tool in chat.tools or []], ensure_ascii=False)}


ROW_BUILDERS = {"text": text_row, "messages": messages_row, "sharegpt": sharegpt_row}


def swift_problem(messages: list[dict[str, Any]]) -> tuple[str, str] | None:
    """Why ms-swift (4.x, Qwen templates) would not encode these messages as the official template does, or None.

    Its encoder pairs every user or tool message with the reply that follows, so it refuses a user turn right
    after tool results; it merges two user turns or two plain replies in a row into one; and its agent
    template writes an assistant's text and calls without the official newline between them.
    """
    for index, (before, after) in enumerate(zip(messages, messages[1:]), start=1):
        if before["role"] == "tool" and after["role"] == "user":
            return "swift_user_after_tool", f"message {index} is a user turn right after tool results"
        if before["role"] == after["role"] and before["role"] in ("user", "assistant") and not before.get("tool_calls"):
            return "swift_merged_turns", f"messages {index - 1} and {index} are both {before['role']} turns"
    for index, message in enumerate(messages):
        if message["role"] == "assistant" and message.get("content") and message.get("tool_calls"):
            return "swift_text_beside_calls", f"message {index} has text beside its calls"
    return None


def dataset_info(name: str, files: dict[str, str]) -> dict[str, Any]:
    """LLaMA-Factory ``dataset_info.json`` entries registering the sharegpt files."""
    entry = {"formatting": "sharegpt", "columns": {"messages": "conversations", "system": "system", "tools": "tools"},
             "tags": SHAREGPT_TAGS}
    return {(name if split == "train" else f"{name}_{split}"): {"file_name": file, **entry} for split, file in files.items()}



def text_arguments_accepted(renderer: Renderer) -> bool:
    """Whether the template prints call arguments given as JSON text exactly as it prints the object.

    Probed by rendering one call both ways (Qwen3 and Hermes check ``arguments is string``; Qwen2.5,
    Llama and Mistral pass them through ``tojson``, which would quote the text).
    """
    arguments = {"city": "Paris", "days": 3, "ratio": 0.6, "tags": ["a", None]}

    def probe(value: Any) -> str:
        call = {"type": "function", "id": "call0abcd", "function": {"name": "probe", "arguments": value}}
        chat = Chat("probe", [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "", "tool_calls": [call]},
                              {"role": "tool", "tool_call_id": "call0abcd", "name": "probe", "content": "ok"},
                              {"role": "assistant", "content": "done"}], None)
        return renderer.render(chat).text

    try:
        return probe(tojson(arguments)) == probe(arguments)
    except Exception:  # a template that refuses text arguments does not accept them
        return False
