"""Qwen3.5 and Qwen3-Coder: ChatML with XML tool calls ``<tool_call>\\n<function=NAME>\\n<parameter=K>…``.

Plain-Python equivalents of chat_templates/Qwen-Qwen3.5-4B.jinja and
Qwen-Qwen3-Coder-480B-A35B-Instruct.jinja (tests: byte-identical on BFCL, the shared slices and edge
cases). Arguments must be objects (the templates iterate them); scalar values are written with
Python's ``str`` (``True``, ``None``), objects and arrays as JSON. Qwen3.5 shows ``<think>`` blocks on
every assistant turn after the last real user query (reasoning from ``reasoning_content`` or split out
of ``</think>`` content) and its generation prompt opens a think block (``enable_thinking=False``: an
empty one). Qwen3-Coder has no reasoning; it declares tools as XML (``render_extra_keys``).
"""

from __future__ import annotations

from typing import Any

from .base import Builder, Chat, PerObject, Rendered, Renderer, Skip, tojson
from .qwen import _split_think
from .xml_calls import after_reasoning, parse_xml_calls, split_content, template_str, xml_parameters

HEADER = "<|im_start|>assistant\n"
CALL_FORMAT = (
    "\n\nIf you choose to call a function ONLY reply in the following format with NO suffix:\n\n<tool_call>\n"
    "<function=example_function_name>\n<parameter=example_parameter_1>\nvalue_1\n</parameter>\n"
    "<parameter=example_parameter_2>\nThis is the value for the second parameter\nthat can span\nmultiple lines\n"
    "</parameter>\n</function>\n</tool_call>\n\n<IMPORTANT>\nReminder:\n- Function calls MUST follow the specified "
    "format: an inner <function=...></function> block must be nested within <tool_call></tool_call> XML tags\n"
    "- Required parameters MUST be specified\n- You may provide optional reasoning for your function call in natural "
    "language BEFORE the function call, but NOT after\n- If there is no function call available, answer the question "
    "like normal with your current knowledge and do not tell the user about function calls\n</IMPORTANT>")
CODER_SYSTEM = "You are Qwen, a helpful AI assistant that can interact with a computer to solve tasks."


def parse_completion(text: str, tools: list[dict] | None = None) -> tuple[str, list[dict[str, Any]] | None]:
    """A Qwen3.5 / Qwen3-Coder / Nemotron 3 continuation → (text outside calls, calls or None); values typed by ``tools``."""
    return split_content(after_reasoning(text), "<tool_call>", lambda rest: parse_xml_calls(rest, tools))


# --- Qwen3-Coder / Nemotron 3 tool declarations (XML) -----------------------------------------------------------

def _extra_keys(spec: Any, handled: tuple[str, ...]) -> str:
    """The templates' ``render_extra_keys``: ``\\n<key>value</key>`` for each key not handled (mappings only)."""
    if not isinstance(spec, dict):
        return ""
    return "".join(["\n<" + str(key) + ">" + template_str(value) + "</" + str(key) + ">"
                    for key, value in spec.items() if key not in handled])


def xml_tool(tool: dict, nemotron: bool) -> str:
    """One tool as Qwen3-Coder (or, with ``nemotron``, Nemotron 3) declares it."""
    function = tool["function"] if isinstance(tool.get("function"), dict) else tool
    parts = ["\n<function>\n<name>" + template_str(function.get("name")) + "</name>"]
    if "description" in function:
        parts.append("\n<description>" + template_str(function["description"]).strip() + "</description>")
    parts.append("\n<parameters>")
    parameters = function.get("parameters")
    properties = parameters.get("properties") if isinstance(parameters, dict) else None
    if isinstance(properties, dict):
        for name, fields in properties.items():
            parts.append("\n<parameter>\n<name>" + str(name) + "</name>")
            fields = fields if isinstance(fields, dict) else {}
            if "type" in fields:
                parts.append("\n<type>" + str(fields["type"]) + "</type>")
            if "description" in fields:
                parts.append("\n<description>" + template_str(fields["description"]).strip() + "</description>")
            if nemotron and "enum" in fields:
                parts.append("\n<enum>" + tojson(fields["enum"]) + "</enum>")
            parts.append(_extra_keys(fields, ("name", "type", "description", "enum") if nemotron else ("name", "type", "description")))
            parts.append("\n</parameter>")
    if nemotron:
        parts.append(_extra_keys(parameters, ("type", "properties", "required")))
        if isinstance(parameters, dict) and "required" in parameters:
            parts.append("\n<required>" + tojson(parameters["required"]) + "</required>")
    else:
        parts.append(_extra_keys(parameters, ("type", "properties")))
    parts.append("\n</parameters>")
    parts.append(_extra_keys(function, ("type", "name", "description", "parameters")))
    parts.append("\n</function>")
    return "".join(parts)


@PerObject
def coder_tools_block(tools: list[dict]) -> str:
    return ("\n\n# Tools\n\nYou have access to the following functions:\n\n<tools>"
            + "".join([xml_tool(tool, nemotron=False) for tool in tools]) + "\n</tools>" + CALL_FORMAT)


def tool_results(b: Builder, messages: list[dict], i: int, first: int, block: str, opener: str) -> None:
    """A run of tool messages shares one user turn (``opener`` before the first, unless the run starts the loop)."""
    if i > first and messages[i - 1]["role"] != "tool":
        b.add(opener)
    b.add(block)
    if i == len(messages) - 1 or messages[i + 1]["role"] != "tool":
        b.add("<|im_end|>\n")


class Qwen3Coder(Renderer):
    name = "Qwen3-Coder"
    hub_ids = ("Qwen/Qwen3-Coder-480B-A35B-Instruct", "Qwen/Qwen3-Coder-30B-A3B-Instruct")
    aliases = ("qwen3coder", "qwen3-coder-instruct")
    template_file = "Qwen-Qwen3-Coder-480B-A35B-Instruct.jinja"
    generation_prompt = HEADER
    stop = ("<|im_end|>", "<|endoftext|>")
    call_syntax = "qwen_xml"
    parse_completion = staticmethod(parse_completion)

    def render(self, chat: Chat) -> Rendered:
        messages, b = chat.messages, Builder()
        first = 1 if messages and messages[0]["role"] == "system" else 0
        if first:
            b.add("<|im_start|>system\n" + messages[0]["content"])
        elif chat.tools:
            b.add("<|im_start|>system\n" + CODER_SYSTEM)
        if chat.tools:
            b.add(coder_tools_block(chat.tools))
        if first or chat.tools:
            b.add("<|im_end|>\n")
        for i in range(first, len(messages)):
            message = messages[i]
            role = message["role"]
            if role == "assistant" and message.get("tool_calls"):
                content = message["content"]
                body = "\n" + content.strip() + "\n" if isinstance(content, str) and content.strip() else ""
                for call in message["tool_calls"]:
                    function = call["function"]
                    body += "\n" + xml_call(function)
                b.add("<|im_start|>assistant")
                b.learn(body + "<|im_end|>")
                b.add("\n")
            elif role == "assistant":
                b.add(HEADER)
                b.learn(message["content"] + "<|im_end|>")
                b.add("\n")
            elif role == "tool":
                coder_tool_result(b, messages, i, first)
            else:
                b.add("<|im_start|>" + role + "\n" + message["content"] + "<|im_end|>\n")
        return b.done()


def xml_call(function: dict) -> str:
    """``<tool_call>\n<function=NAME>\n<parameter=…>…</function>\n</tool_call>`` (Skip when arguments are not an object)."""
    arguments = function["arguments"]
    if not isinstance(arguments, dict):
        raise Skip("arguments_not_object", "the template iterates the arguments as an object")
    return "<tool_call>\n<function=" + str(function["name"]) + ">\n" + xml_parameters(arguments) + "</function>\n</tool_call>"


def coder_tool_result(b: Builder, messages: list[dict], i: int, first: int) -> None:
    """Qwen3-Coder's and Nemotron 3's tool result: a ``<tool_response>`` block in a shared user turn."""
    tool_results(b, messages, i, first, "<tool_response>\n" + messages[i]["content"] + "\n</tool_response>\n", "<|im_start|>user\n")


class Qwen35(Renderer):
    name = "Qwen3.5"
    hub_ids = tuple(f"Qwen/Qwen3.5-{size}" for size in ("0.8B", "2B", "4B", "9B", "27B", "35B-A3B", "122B-A10B", "397B-A17B"))
    aliases = ("qwen35", "qwen3_5")
    template_file = "Qwen-Qwen3.5-4B.jinja"
    has_reasoning = True
    stop = ("<|im_end|>", "<|endoftext|>")
    call_syntax = "qwen_xml"
    parse_completion = staticmethod(parse_completion)

    def __init__(self, enable_thinking: bool = True) -> None:
        self.enable_thinking = enable_thinking
        self.generation_prompt = HEADER + ("<think>\n" if enable_thinking else "<think>\n\n</think>\n\n")

    def template_kwargs(self) -> dict[str, Any]:
        return {} if self.enable_thinking else {"enable_thinking": False}

    def render(self, chat: Chat) -> Rendered:
        messages, b = chat.messages, Builder()
        if not messages:
            raise Skip("no_messages", "the template raises 'No messages provided.'")
        system = messages[0]["content"].strip() if messages[0]["role"] == "system" else None
        if chat.tools:
            b.add("<|im_start|>system\n# Tools\n\nYou have access to the following functions:\n\n" + _json_tools_block(chat.tools)
                  + ("\n\n" + system if system else "") + "<|im_end|>\n")
        elif system is not None:
            b.add("<|im_start|>system\n" + system + "<|im_end|>\n")
        last_query = None
        for index in range(len(messages) - 1, -1, -1):
            if messages[index]["role"] == "user":
                content = messages[index]["content"].strip()
                if not (content.startswith("<tool_response>") and content.endswith("</tool_response>")):
                    last_query = index
                    break
        if last_query is None:
            raise Skip("no_user_query", "the template raises 'No user query found in messages.'")
        for i, message in enumerate(messages):
            role, content = message["role"], message["content"].strip()
            if role == "system":
                if i:
                    raise Skip("system_not_first", "the template raises 'System message must be at the beginning.'")
            elif role == "user":
                b.add("<|im_start|>user\n" + content + "<|im_end|>\n")
            elif role == "assistant":
                reasoning = message.get("reasoning_content")
                if not isinstance(reasoning, str):
                    content, reasoning = _split_think(content) if "</think>" in content else (content, "")
                body = "<think>\n" + reasoning.strip() + "\n</think>\n\n" + content if i > last_query else content
                for j, call in enumerate(message.get("tool_calls") or ()):
                    function = call["function"]
                    opener = ("\n\n" if content.strip() else "") if j == 0 else "\n"
                    body += opener + xml_call(function)
                b.add(HEADER)
                b.learn(body + "<|im_end|>")
                b.add("\n")
            elif role == "tool":
                tool_results(b, messages, i, 0, "\n<tool_response>\n" + content + "\n</tool_response>", "<|im_start|>user")
            else:
                raise Skip("unexpected_role", f"the template raises on a {role!r} message")
        return b.done()

    def prompt(self, chat: Chat) -> str:
        return self.render(chat).text + self.generation_prompt


@PerObject
def _json_tools_block(tools: list[dict]) -> str:
    return "<tools>" + "".join(["\n" + tojson(tool) for tool in tools]) + "\n</tools>" + CALL_FORMAT
