"""GLM-4-9B-Chat (original 2024 template) and GLM-4.7 (``<tool_call>NAME<arg_key>…`` calls, think blocks).

Plain-Python equivalent of chat_templates/GLM-4-9B-Chat.jinja for DESIGN §4 messages. The template
reads tools only from a ``tools`` key on a message and calls only from ``metadata``/``content``; it
ignores the ``tools`` argument and ``tool_calls``. Samples with calls are therefore skipped
(``template_drops_tool_calls``); other samples render as the template does, tools unseen (noted).

GLM-4.7 (chat_templates/zai-org-GLM-4.7-Flash.jinja, which stands in for GLM-4.5/4.6): tools as JSON
lines in a system block, calls as ``<tool_call>NAME<arg_key>K</arg_key><arg_value>V</arg_value>…`` right
after the reply text (string values raw, others JSON), results as ``<|observation|><tool_response>…``.
Assistant turns after the last user message show their reasoning (``<think>…</think>``), earlier ones
only ``</think>`` (``clear_thinking=False`` keeps it everywhere); ``enable_thinking`` changes only the
generation prompt. The template has no end-of-turn token: the next role tag ends a reply.
"""

from __future__ import annotations

from typing import Any

from .base import Builder, Chat, PerObject, Rendered, Renderer, Skip, tojson
from .qwen import _split_think
from .xml_calls import after_reasoning, blocks, parameter_types, split_content, typed


class GLM4(Renderer):
    name = "GLM-4"
    hub_ids = ("THUDM/glm-4-9b-chat", "THUDM/glm-4-9b-chat-1m", "zai-org/glm-4-9b-chat")
    aliases = ("glm4", "glm-4-9b-chat", "chatglm4")
    template_file = "GLM-4-9B-Chat.jinja"
    generation_prompt = "<|assistant|>"
    stop = ("<|user|>", "<|observation|>", "<|endoftext|>")

    def render(self, chat: Chat) -> Rendered:
        if any(m.get("tool_calls") for m in chat.messages):
            raise Skip("template_drops_tool_calls", "GLM-4's template ignores tool_calls (it reads metadata/content)")
        b = Builder()
        b.add("[gMASK]<sop>")
        for message in chat.messages:
            content = message["content"]
            if not content:
                continue
            if message["role"] == "assistant":
                b.add("<|assistant|>")
                b.learn("\n" + content)
            else:
                b.add("<|" + message["role"] + "|>\n" + str(content))
        return b.done()


# --- GLM-4.7 -------------------------------------------------------------------------------------------------

GLM47_TOOLS_HEAD = ("<|system|>\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
                    "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n")
GLM47_TOOLS_TAIL = ("</tools>\n\nFor each function call, output the function name and arguments within the following "
                    "XML format:\n<tool_call>{function-name}<arg_key>{arg-key-1}</arg_key><arg_value>{arg-value-1}"
                    "</arg_value><arg_key>{arg-key-2}</arg_key><arg_value>{arg-value-2}</arg_value>...</tool_call>")


@PerObject
def _glm47_tools(tools: list[dict]) -> str:
    return GLM47_TOOLS_HEAD + "".join([tojson(tool) + "\n" for tool in tools]) + GLM47_TOOLS_TAIL


def _glm47_call(call: dict) -> str:
    function = call["function"] if call.get("function") else call
    arguments = function["arguments"]
    if not isinstance(arguments, dict):
        raise Skip("arguments_not_object", "GLM-4.7's template iterates the arguments as an object")
    return "<tool_call>" + function["name"] + "".join([
        "<arg_key>" + str(key) + "</arg_key><arg_value>" + (value if isinstance(value, str) else tojson(value)) + "</arg_value>"
        for key, value in arguments.items()]) + "</tool_call>"


def parse_glm47_completion(text: str, tools: list[dict] | None = None) -> tuple[str, list[dict[str, Any]] | None]:
    """A GLM-4.7 continuation → (text outside calls, calls or None): ``<tool_call>NAME<arg_key>K</arg_key><arg_value>V…``.

    A value is JSON unless its parameter is declared a string (the template writes strings raw).
    """
    return split_content(after_reasoning(text), "<tool_call>", lambda rest: _glm47_calls(rest, tools))


def _glm47_calls(text: str, tools: list[dict] | None) -> list[dict[str, Any]]:
    types = parameter_types(tools)
    calls = []
    for block in blocks(text, "<tool_call>", "</tool_call>"):
        first_key = block.find("<arg_key>")
        name = (block if first_key < 0 else block[:first_key]).strip()
        if not name:
            raise ValueError("a <tool_call> without a function name")
        kinds, arguments = types.get(name, {}), {}
        for pair in blocks(block, "<arg_key>", "</arg_value>"):
            key, _, value = pair.partition("</arg_key>")
            value = value.lstrip()  # GLM models put newlines between the tags
            if not value.startswith("<arg_value>"):
                raise ValueError(f"an argument of {name!r} without its <arg_value>")
            arguments[key.strip()] = typed(value[len("<arg_value>"):], kinds.get(key.strip()), python_words=False)
        calls.append({"name": name, "arguments": arguments})
    return calls


class GLM47(Renderer):
    name = "GLM-4.7"
    hub_ids = ("zai-org/GLM-4.7", "zai-org/GLM-4.7-Flash")
    aliases = ("glm47", "glm-4.7-flash")
    template_file = "zai-org-GLM-4.7-Flash.jinja"
    has_reasoning = True
    stop = ("<|user|>", "<|observation|>", "<|endoftext|>")
    call_syntax = "glm47"
    parse_completion = staticmethod(parse_glm47_completion)

    def __init__(self, enable_thinking: bool = True, clear_thinking: bool = True) -> None:
        self.enable_thinking = enable_thinking
        self.clear_thinking = clear_thinking
        self.generation_prompt = "<|assistant|>" + ("<think>" if enable_thinking else "</think>")

    def template_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        if not self.enable_thinking:
            kwargs["enable_thinking"] = False
        if not self.clear_thinking:
            kwargs["clear_thinking"] = False
        return kwargs

    def render(self, chat: Chat) -> Rendered:
        messages, b = chat.messages, Builder()
        b.add("[gMASK]<sop>")
        if chat.tools:
            b.add(_glm47_tools(chat.tools))
        last_user = max((i for i, m in enumerate(messages) if m["role"] == "user"), default=-1)
        for i, message in enumerate(messages):
            role, content = message["role"], message["content"]
            if role == "user":
                b.add("<|user|>" + content)
            elif role == "assistant":
                reasoning = message.get("reasoning_content")
                if not isinstance(reasoning, str):
                    content, reasoning = _split_think(content) if "</think>" in content else (content, "")
                shown = (not self.clear_thinking or i > last_user) and reasoning
                body = ("<think>" + reasoning.strip() + "</think>" if shown else "</think>") + content.strip()
                b.add("<|assistant|>")
                b.learn(body + "".join([_glm47_call(call) for call in message.get("tool_calls") or ()]))
            elif role == "tool":
                if i == 0 or messages[i - 1]["role"] != "tool":
                    b.add("<|observation|>")
                b.add("<tool_response>" + content + "</tool_response>")
            elif role == "system":
                b.add("<|system|>" + content)
        return b.done()
