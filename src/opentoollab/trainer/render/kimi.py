"""Kimi K2 (Thinking): ``<|im_user|>…<|im_middle|>…<|im_end|>`` turns with a tool-call section per assistant turn.

Plain-Python equivalent of chat_templates/moonshotai-Kimi-K2-Thinking.jinja (tests: byte-identical on
BFCL, the shared slices and edge cases). The template writes tool-call ids verbatim, and Kimi's
models are trained on ids of the form ``functions.NAME:IDX`` (IDX counts the chat's calls from 0):
:meth:`KimiK2.template_chat` gives the chat's calls and results those ids. Assistant turns up to the
last one without calls show an empty ``<think></think>``; the ones after it keep their
``reasoning_content``. Tools are declared as one compact JSON list; a tool result's turn is named
after the tool (the message's ``name``).
"""

from __future__ import annotations

import json
from typing import Any

from .base import Builder, Chat, PerObject, Rendered, Renderer, tojson
from .xml_calls import sectioned_calls

DEFAULT_SYSTEM = "<|im_system|>system<|im_middle|>You are Kimi, an AI assistant created by Moonshot AI.<|im_end|>"
SECTION_BEGIN, SECTION_END = "<|tool_calls_section_begin|>", "<|tool_calls_section_end|>"
CALL_BEGIN, ARGUMENT_BEGIN, CALL_END = "<|tool_call_begin|>", "<|tool_call_argument_begin|>", "<|tool_call_end|>"


@PerObject
def _declaration(tools: list[dict]) -> str:
    return "<|im_system|>tool_declare<|im_middle|>" + json.dumps(tools, ensure_ascii=False, separators=(",", ":")) + "<|im_end|>"


def kimi_ids(chat: Chat) -> Chat:
    """The chat with every call id (and each result's ``tool_call_id``) as ``functions.NAME:IDX``."""
    renamed: dict[str, str] = {}
    messages = []
    for message in chat.messages:
        if message.get("tool_calls"):
            calls = []
            for call in message["tool_calls"]:
                new_id = f"functions.{call['function']['name']}:{len(renamed)}"
                renamed[call.get("id")] = new_id
                calls.append({**call, "id": new_id})
            message = {**message, "tool_calls": calls}
        elif message["role"] == "tool" and message.get("tool_call_id") in renamed:
            message = {**message, "tool_call_id": renamed[message["tool_call_id"]]}
        messages.append(message)
    return Chat(chat.id, messages, chat.tools, chat.notes)


def _calls(calls: list[dict]) -> str:
    parts = [SECTION_BEGIN]
    for call in calls:
        arguments = call["function"]["arguments"]
        parts.append(CALL_BEGIN + str(call["id"]) + ARGUMENT_BEGIN
                     + (arguments if isinstance(arguments, str) else tojson(arguments)) + CALL_END)
    parts.append(SECTION_END)
    return "".join(parts)


def parse_completion(text: str, tools: list[dict] | None = None) -> tuple[str, list[dict[str, Any]] | None]:
    """A Kimi K2 continuation → (text outside calls, calls or None); names come from ``functions.NAME:IDX`` ids."""
    content, found = sectioned_calls(text, SECTION_BEGIN, SECTION_END, CALL_BEGIN, ARGUMENT_BEGIN, CALL_END)
    if found is None:
        return content, None
    calls = []
    for identifier, arguments in found:
        name = identifier[len("functions."):] if identifier.startswith("functions.") else identifier
        head, colon, index = name.rpartition(":")
        name = head if colon and index.isdigit() else name
        if not name:
            raise ValueError(f"a tool call id without a name: {identifier[:100]!r}")
        calls.append({"name": name, "arguments": arguments})
    return content, calls


class KimiK2(Renderer):
    name = "Kimi-K2"
    hub_ids = ("moonshotai/Kimi-K2-Thinking",)
    aliases = ("kimi-k2-thinking", "kimik2", "kimi")
    template_file = "moonshotai-Kimi-K2-Thinking.jinja"
    has_reasoning = True
    generation_prompt = "<|im_assistant|>assistant<|im_middle|>"
    stop = ("<|im_end|>",)
    call_syntax = "kimi"
    notes = ("tool-call ids: rewritten to Kimi's functions.NAME:IDX (IDX counts the chat's calls from 0) in calls and results",)
    parse_completion = staticmethod(parse_completion)

    def template_chat(self, chat: Chat) -> Chat:
        return kimi_ids(chat)

    def render(self, chat: Chat) -> Rendered:
        messages, b = kimi_ids(chat).messages, Builder()
        last_plain = next((i for i in range(len(messages) - 1, -1, -1)
                           if messages[i]["role"] == "assistant" and not messages[i].get("tool_calls")), -1)
        if chat.tools:
            b.add(_declaration(chat.tools))
        if not messages or messages[0]["role"] != "system":
            b.add(DEFAULT_SYSTEM)
        for i, message in enumerate(messages):
            role, content = message["role"], message.get("content")
            content = content if isinstance(content, str) else ""
            name = message.get("name") or role
            if role == "assistant":
                b.add("<|im_assistant|>" + name + "<|im_middle|>")
                reasoning = message.get("reasoning_content", "") if i > last_plain else ""
                body = "<think>" + str(reasoning) + "</think>" + content
                if message.get("tool_calls"):
                    body += _calls(message["tool_calls"])
                b.learn(body + "<|im_end|>")
            elif role == "tool":
                b.add("<|im_system|>" + name + "<|im_middle|>## Return of " + str(message.get("tool_call_id")) + "\n"
                      + content + "<|im_end|>")
            else:
                b.add(("<|im_user|>" if role == "user" else "<|im_system|>") + name + "<|im_middle|>" + content + "<|im_end|>")
        return b.done()
