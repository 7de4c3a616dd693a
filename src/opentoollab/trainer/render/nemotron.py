"""NVIDIA Nemotron 3 Nano (ChatML, Qwen3-Coder-style XML calls) and Nemotron Nano 2 (``<SPECIAL_1x>`` turns, ``<TOOLCALL>``).

Plain-Python equivalents of chat_templates/nvidia-NVIDIA-Nemotron-3-Nano-30B-A3B.jinja and
nvidia-NVIDIA-Nemotron-Nano-9B-v2.jinja (tests: byte-identical on BFCL, the shared slices and edge cases).

Nemotron 3: every assistant turn carries a think block (``<think></think>`` when empty); with
``truncate_history_thinking`` (default) turns before the last user message lose their reasoning.
``enable_thinking`` (default true) only changes the generation prompt.

Nano 2: thinking is switched by ``/think`` / ``/no_think`` in a system or user message (the last one
wins; the markers are removed from the text). The template renders the final assistant message on
its own: its text after an open ``<think>\\n`` and, when it also calls tools, the calls as a second
assistant turn; earlier assistant turns keep only what follows ``</think>``. The template drops system
messages after the first: such samples are skipped (``template_drops_messages``). Tool results of a wave are one
``<TOOL_RESPONSE>[a, b]`` user turn, the texts joined as they are.
"""

from __future__ import annotations

from typing import Any

from .base import Builder, Chat, PerObject, Rendered, Renderer, Skip, tojson
from .qwen_xml import CALL_FORMAT, coder_tool_result, parse_completion as parse_xml_completion, xml_call, xml_tool
from .completion import json_value
from .xml_calls import after_reasoning, split_content


@PerObject
def _nemotron3_tools(tools: list[dict]) -> str:
    return ("# Tools\n\nYou have access to the following functions:\n\n<tools>"
            + "".join([xml_tool(tool, nemotron=True) for tool in tools]) + "\n</tools>" + CALL_FORMAT)


class Nemotron3Nano(Renderer):
    name = "Nemotron-3-Nano"
    hub_ids = ("nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16", "nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-FP8")
    aliases = ("nemotron3-nano", "nemotron-3", "NVIDIA-Nemotron-3-Nano-30B-A3B")
    template_file = "nvidia-NVIDIA-Nemotron-3-Nano-30B-A3B.jinja"
    has_reasoning = True
    stop = ("<|im_end|>",)
    call_syntax = "qwen_xml"
    parse_completion = staticmethod(parse_xml_completion)

    def __init__(self, enable_thinking: bool = True, truncate_history_thinking: bool = True) -> None:
        self.enable_thinking = enable_thinking
        self.truncate_history_thinking = truncate_history_thinking
        self.generation_prompt = "<|im_start|>assistant\n" + ("<think>\n" if enable_thinking else "<think></think>")

    def template_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        if not self.enable_thinking:
            kwargs["enable_thinking"] = False
        if not self.truncate_history_thinking:
            kwargs["truncate_history_thinking"] = False
        return kwargs

    def render(self, chat: Chat) -> Rendered:
        messages, b = chat.messages, Builder()
        if not messages:
            raise Skip("no_messages", "the template reads messages[0]")
        first = 1 if messages[0]["role"] == "system" else 0
        system = str(messages[0]["content"]) if first else ""
        b.add("<|im_start|>system\n" + system)
        if chat.tools:
            b.add(("\n\n" if system else "") + _nemotron3_tools(chat.tools))
        b.add("<|im_end|>\n")
        last_user = max((i for i in range(first, len(messages)) if messages[i]["role"] == "user"), default=None)
        for i in range(first, len(messages)):
            message = messages[i]
            role = message["role"]
            if role == "assistant":
                self._assistant(b, message, last_user is not None and i < last_user)
            elif role in ("user", "system"):
                b.add("<|im_start|>" + role + "\n" + str(message["content"]) + "<|im_end|>\n")
            elif role == "tool":
                coder_tool_result(b, messages, i, first)
            else:
                b.add("<|im_start|>" + role + "\n" + message["content"] + "<|im_end|>\n")
        return b.done()

    def _assistant(self, b: Builder, message: dict, before_last_user: bool) -> None:
        reasoning, content = message.get("reasoning_content"), message["content"] or ""
        if isinstance(reasoning, str) and reasoning.strip():
            content = "<think>\n" + reasoning + "\n</think>\n" + content
        elif "<think>" not in content and "</think>" not in content:
            content = "<think></think>" + content
        truncated = self.truncate_history_thinking and before_last_user
        b.add("<|im_start|>assistant\n")
        calls = message.get("tool_calls")
        if calls:
            if content.strip():
                if not truncated:
                    body = content.strip() + "\n"
                else:
                    kept = content
                    if "</think>" in kept:
                        kept = kept.split("</think>")[-1]
                    elif "<think>" in kept:
                        kept = kept.split("<think>")[0]
                    body = "<think></think>" + kept.strip() + "\n"
            else:
                body = "<think></think>"
            for call in calls:
                function = call["function"]
                body += xml_call(function) + "\n"
            b.learn(body + "<|im_end|>")
        elif not truncated:
            b.learn(content.strip() + "<|im_end|>")
        else:
            if "<think>" in content and "</think>" in content:
                content = "<think></think>" + content.split("</think>")[-1]
            b.learn(content.strip() + "<|im_end|>")
        b.add("\n")


# --- Nemotron Nano 2 -----------------------------------------------------------------------------------------

NANO2_FORMAT = (
    "]</AVAILABLE_TOOLS>\n\nIf you decide to call any tool(s), use the following format:\n"
    '<TOOLCALL>[{{"name": "tool_name1", "arguments": "tool_args1"}}, {{"name": "tool_name2", "arguments": "tool_args2"}}]'
    "</TOOLCALL>\n\nThe user will execute tool-calls and return responses from tool(s) in this format:\n"
    '<TOOL_RESPONSE>[{{"tool_response1"}}, {{"tool_response2"}}]</TOOL_RESPONSE>\n\n'
    "Based on the tool responses, you can call additional tools if needed, correct tool calls if any errors are "
    "found, or just respond to the user.")
END = "<SPECIAL_12>"


@PerObject
def _nano2_tools(tools: list[dict]) -> str:
    functions = [tool["function"] if isinstance(tool.get("function"), dict) else tool for tool in tools]
    return ("You can use the following tools to assist the user if required:\n<AVAILABLE_TOOLS>["
            + ", ".join([tojson(function) for function in functions]) + NANO2_FORMAT)


def _no_markers(text: str) -> str:
    return text.replace("/think", "").replace("/no_think", "").strip()


def _toolcall(calls: list[dict]) -> str:
    return "<TOOLCALL>[" + ", ".join([
        '{"name": "' + call["function"]["name"] + '", "arguments": '
        + (arguments if isinstance(arguments := call["function"]["arguments"], str) else tojson(arguments)) + "}"
        for call in calls]) + "]</TOOLCALL>"


def parse_nano2_completion(text: str, tools: list[dict] | None = None) -> tuple[str, list[dict[str, Any]] | None]:
    """A Nemotron Nano 2 continuation → (text outside calls, calls or None): ``<TOOLCALL>[{"name", "arguments"}, …]``."""
    return split_content(after_reasoning(text), "<TOOLCALL>", _nano2_calls)


def _nano2_calls(text: str) -> list[dict[str, Any]]:
    start = len("<TOOLCALL>")
    end = text.find("</TOOLCALL>", start)
    value = json_value(text[start:end if end >= 0 else len(text)], "<TOOLCALL>")
    if not isinstance(value, list):
        raise ValueError("<TOOLCALL> must hold a JSON list of calls")
    calls = []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise ValueError(f"not a call object: {str(item)[:100]}")
        arguments = item.get("arguments", {})
        if isinstance(arguments, str):
            arguments = json_value(arguments, f"the arguments of {item['name']!r}") if arguments.strip() else {}
        calls.append({"name": item["name"], "arguments": arguments})
    return calls


class NemotronNano2(Renderer):
    name = "Nemotron-Nano-2"
    hub_ids = ("nvidia/NVIDIA-Nemotron-Nano-9B-v2", "nvidia/NVIDIA-Nemotron-Nano-12B-v2")
    aliases = ("nemotron-nano-v2", "nemotron-nano-9b-v2", "nemotron2")
    template_file = "nvidia-NVIDIA-Nemotron-Nano-9B-v2.jinja"
    generation_prompt = "<SPECIAL_11>Assistant\n<think>\n"
    stop = (END,)
    call_syntax = "nemotron_toolcall"
    lossy_skips = ("template_drops_messages",)  # the template renders these, losing part of the chat
    parse_completion = staticmethod(parse_nano2_completion)

    @staticmethod
    def _thinking(messages: list[dict]) -> bool:
        thinking = True
        for message in messages:
            if message["role"] in ("user", "system"):
                if "/think" in message["content"]:
                    thinking = True
                elif "/no_think" in message["content"]:
                    thinking = False
        return thinking

    def _render(self, chat: Chat, generation: bool) -> Builder:
        messages, b = chat.messages, Builder()
        if not messages:
            raise Skip("no_messages", "the template reads messages[0]")
        think = "<think>\n" if self._thinking(messages) else "<think></think>"
        system = _no_markers(messages[0]["content"] or "") if messages[0]["role"] == "system" else ""
        b.add("<SPECIAL_10>System\n" + system)
        if chat.tools:
            b.add(("\n\n" if system else "") + _nano2_tools(chat.tools))
        b.add("\n\n")
        messages = messages[1:] if messages[0]["role"] == "system" else messages
        if any(message["role"] == "system" for message in messages):
            raise Skip("template_drops_messages", "Nemotron Nano 2's template drops system messages after the first")
        if not messages:
            raise Skip("no_messages", "the template reads the last message after the system prompt")
        last = messages[-1] if messages[-1]["role"] == "assistant" else None
        if last is not None:
            messages = messages[:-1]
        for i, message in enumerate(messages):
            role, content = message["role"], message["content"]
            if role == "user":
                b.add("<SPECIAL_11>User\n" + _no_markers(content or "") + "\n")
            elif role == "tool":
                if i == 0 or messages[i - 1]["role"] != "tool":
                    b.add("<SPECIAL_11>User\n<TOOL_RESPONSE>[")
                b.add(content)
                if i < len(messages) - 1 and messages[i + 1]["role"] == "tool":
                    b.add(", ")
                else:
                    b.add("]</TOOL_RESPONSE>")
            elif role == "assistant":
                if content and "</think>" in content:
                    content = (content.split("</think>")[1] or "").strip()
                body = (content or "").strip()
                if message.get("tool_calls"):
                    body += ("\n" if body else "") + _toolcall(message["tool_calls"])
                b.add("<SPECIAL_11>Assistant\n")
                b.learn(body + "\n" + END)
                b.add("\n")
        last_content = (last["content"] or "").strip() if last is not None else ""
        if generation:
            b.add("<SPECIAL_11>Assistant\n" + think + last_content)
            return b
        if last_content:
            b.add("<SPECIAL_11>Assistant\n" + think)
            b.learn(last_content + "\n" + END)
            b.add("\n")
        if last is not None and last.get("tool_calls"):
            b.add("<SPECIAL_11>Assistant\n")
            b.learn(_toolcall(last["tool_calls"]) + END)
            b.add("\n\n")
        return b

    def render(self, chat: Chat) -> Rendered:
        return self._render(chat, generation=False).done()

    def prompt(self, chat: Chat) -> str:
        return self._render(chat, generation=True).done().text
