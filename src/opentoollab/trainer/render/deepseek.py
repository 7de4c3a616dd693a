"""DeepSeek-R1-Distill (Qwen / Llama) and DeepSeek-V3 (GGUF-era template).

Plain-Python equivalents of chat_templates/DeepSeek-R1-Distill-*.jinja and DeepSeek-V3.jinja for
DESIGN §4 messages. These templates ignore ``tools`` and write a call only when the message's
``content`` is null, while DESIGN §4 gives tool-calling messages ``content: ""``: the official
template would silently drop every call, so samples with calls are skipped (``template_drops_tool_calls``).

DeepSeek-V3.1 (chat_templates/DeepSeek-V3.1.jinja) writes calls whatever the content, as
``NAME<｜tool▁sep｜>ARGS`` with ARGS a JSON string, and never reads ``tools``: as the model card
documents, the tool spec goes into the system prompt (``{system}\n\n## Tools…``), which
:func:`v31_chat` does before rendering (recorded in the manifest's renderer notes). Past reasoning is
never shown (``</think>`` content is cut); ``thinking=True`` opens the generation prompt with ``<think>``.
"""

from __future__ import annotations

import json
from typing import Any

from .base import Builder, Chat, PerObject, Rendered, Renderer, Skip, tojson
from .xml_calls import sectioned_calls

BOS = "<｜begin▁of▁sentence｜>"
EOS = "<｜end▁of▁sentence｜>"


class R1DistillQwen(Renderer):
    name = "DeepSeek-R1-Distill-Qwen"
    hub_ids = tuple(f"deepseek-ai/DeepSeek-R1-Distill-Qwen-{size}" for size in ("1.5B", "7B", "14B", "32B"))
    aliases = ("r1-distill-qwen", "deepseek-r1-qwen")
    template_file = "DeepSeek-R1-Distill-Qwen.jinja"
    special_tokens = {"bos_token": BOS, "eos_token": EOS}
    has_reasoning = True  # the model thinks, but the template drops past reasoning (`</think>` split)
    strips_think = True
    generation_prompt = "<｜Assistant｜><think>\n"
    stop = (EOS,)

    def system_prompt(self, systems: list[str]) -> str:
        return systems[-1] if systems else ""

    def render(self, chat: Chat) -> Rendered:
        if any(m.get("tool_calls") for m in chat.messages):
            raise Skip("template_drops_tool_calls",
                       f"{self.name}'s template renders calls only when content is null (DESIGN §4 gives \"\")")
        b = Builder()
        b.add(BOS + self.system_prompt([m["content"] for m in chat.messages if m["role"] == "system"]))
        for message in chat.messages:
            if message["role"] == "user":
                b.add("<｜User｜>" + message["content"])
            elif message["role"] == "assistant":
                content = message["content"]
                if self.strips_think and "</think>" in content:
                    content = content.split("</think>")[-1]
                b.add("<｜Assistant｜>")
                b.learn(content + EOS)
        return b.done()


class R1DistillLlama(R1DistillQwen):
    name = "DeepSeek-R1-Distill-Llama"
    hub_ids = ("deepseek-ai/DeepSeek-R1-Distill-Llama-8B", "deepseek-ai/DeepSeek-R1-Distill-Llama-70B")
    aliases = ("r1-distill-llama", "deepseek-r1-llama")
    template_file = "DeepSeek-R1-Distill-Llama.jinja"


class DeepSeekV3(R1DistillQwen):
    name = "DeepSeek-V3"
    hub_ids = ("deepseek-ai/DeepSeek-V3", "deepseek-ai/DeepSeek-V3-Base")
    aliases = ("deepseek-v3", "deepseekv3")
    template_file = "DeepSeek-V3.jinja"
    has_reasoning = False
    strips_think = False
    generation_prompt = "<｜Assistant｜>"

    def system_prompt(self, systems: list[str]) -> str:
        return "\n\n".join(systems)


# --- DeepSeek-V3.1 ---------------------------------------------------------------------------------------------

CALLS_BEGIN, CALLS_END = "<｜tool▁calls▁begin｜>", "<｜tool▁calls▁end｜>"
CALL_BEGIN, CALL_SEP, CALL_END = "<｜tool▁call▁begin｜>", "<｜tool▁sep｜>", "<｜tool▁call▁end｜>"
V31_TOOLS_TAIL = (
    "IMPORTANT: ALWAYS adhere to this exact format for tool use:\n" + CALLS_BEGIN + CALL_BEGIN + "tool_call_name" + CALL_SEP
    + "tool_call_arguments" + CALL_END + "{additional_tool_calls}" + CALLS_END + "\n\nWhere:\n"
    "- `tool_call_name` must be an exact match to one of the available tools\n"
    "- `tool_call_arguments` must be valid JSON that strictly follows the tool's Parameters Schema\n"
    "- For multiple tool calls, chain them directly without separators or spaces")


@PerObject
def tool_description(tools: list[dict]) -> str:
    """The ``## Tools`` block of the DeepSeek-V3.1 model card (``json.dumps(parameters)``: ASCII-escaped)."""
    sections = []
    for tool in tools:
        function = tool["function"] if isinstance(tool.get("function"), dict) else tool
        sections.append("### " + str(function.get("name")) + "\nDescription: " + str(function.get("description", ""))
                        + "\n\nParameters: " + json.dumps(function.get("parameters", {})) + "\n\n")
    return "## Tools\nYou have access to the following tools:\n\n" + "".join(sections) + V31_TOOLS_TAIL


def v31_chat(chat: Chat) -> Chat:
    """The chat as DeepSeek-V3.1's template needs it: arguments as JSON text, the tool spec in the system prompt.

    The template never reads ``tools``; the model card places ``{system prompt}\\n\\n{tool_description}``
    after the BOS token, so the description is appended to the last system message (or is one).
    """
    messages = [{**m, "tool_calls": [{**c, "function": {**c["function"], "arguments": _json_text(c["function"]["arguments"])}}
                                     for c in m["tool_calls"]]} if m.get("tool_calls") else m for m in chat.messages]
    if chat.tools:
        last = max((i for i, m in enumerate(messages) if m["role"] == "system"), default=None)
        if last is None:
            messages.insert(0, {"role": "system", "content": "\n\n" + tool_description(chat.tools)})
        else:
            messages[last] = {**messages[last], "content": messages[last]["content"] + "\n\n" + tool_description(chat.tools)}
    return Chat(chat.id, messages, chat.tools, chat.notes)


def _json_text(arguments: Any) -> str:
    return arguments if isinstance(arguments, str) else tojson(arguments)


def parse_v31_completion(text: str, tools: list[dict] | None = None) -> tuple[str, list[dict[str, Any]] | None]:
    """A DeepSeek-V3.1 continuation → (text outside calls, calls or None): ``NAME<｜tool▁sep｜>JSON`` per call."""
    content, found = sectioned_calls(text, CALLS_BEGIN, CALLS_END, CALL_BEGIN, CALL_SEP, CALL_END)
    if found is None:
        return content, None
    if any(not name for name, _ in found):
        raise ValueError("a tool call without a name")
    return content, [{"name": name, "arguments": arguments} for name, arguments in found]


class DeepSeekV31(Renderer):
    name = "DeepSeek-V3.1"
    hub_ids = ("deepseek-ai/DeepSeek-V3.1",)
    aliases = ("deepseekv31", "deepseek-v3.1-chat")
    template_file = "DeepSeek-V3.1.jinja"
    special_tokens = {"bos_token": BOS, "eos_token": EOS}
    stop = (EOS,)
    call_syntax = "deepseek_v31"
    notes = ("tools: the template does not render the tools list; the tool spec is written into the system prompt "
             "as the DeepSeek-V3.1 model card documents it ({system}\n\n## Tools … Parameters: json.dumps(parameters))",
             "arguments: passed to the template as JSON text (it concatenates them)")
    parse_completion = staticmethod(parse_v31_completion)

    def __init__(self, thinking: bool = False) -> None:
        self.thinking = thinking
        self.generation_prompt = "<｜Assistant｜>" + ("<think>" if thinking else "</think>")

    def template_kwargs(self) -> dict[str, Any]:
        return {"thinking": True} if self.thinking else {}

    def template_chat(self, chat: Chat) -> Chat:
        return v31_chat(chat)

    def _render(self, chat: Chat) -> tuple[Builder, bool]:
        messages, b = v31_chat(chat).messages, Builder()
        b.add(BOS + "\n\n".join([m["content"] for m in messages if m["role"] == "system"]))
        last_user = is_tool = False
        for message in messages:
            role = message["role"]
            if role == "user":
                is_tool, last_user = False, True
                b.add("<｜User｜>" + message["content"])
            elif role == "assistant" and message.get("tool_calls") is not None:
                if last_user:
                    b.add("<｜Assistant｜></think>")
                last_user = is_tool = False
                body = "".join([(CALLS_BEGIN if k == 0 else "") + CALL_BEGIN + call["function"]["name"] + CALL_SEP
                                + call["function"]["arguments"] + CALL_END for k, call in enumerate(message["tool_calls"])])
                b.learn(message["content"] + body + CALLS_END + EOS)
            elif role == "assistant":
                if last_user:
                    b.add("<｜Assistant｜></think>")
                last_user = False
                content = message["content"]
                if is_tool:
                    is_tool = False
                elif "</think>" in content:
                    content = content.split("</think>", 1)[1]
                b.learn(content + EOS)
            elif role == "tool":
                last_user, is_tool = False, True
                b.add("<｜tool▁output▁begin｜>" + message["content"] + "<｜tool▁output▁end｜>")
        return b, last_user and not is_tool

    def render(self, chat: Chat) -> Rendered:
        return self._render(chat)[0].done()

    def prompt(self, chat: Chat) -> str:
        """After tool results the template adds no generation prompt: the model continues right after them."""
        b, opens = self._render(chat)
        return b.done().text + (self.generation_prompt if opens else "")
