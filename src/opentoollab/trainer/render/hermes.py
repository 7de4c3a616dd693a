"""Hermes 2 Pro / Hermes 3 (``tool_use`` variant; plain ChatML ``default`` variant without tools).

Plain-Python equivalents of chat_templates/Hermes-*-tool_use.jinja, including its macro that turns
JSON Schema types into Python type names (quirks kept: arrays print ``list[Union[]]`` because the
template applies ``|items`` to the schema, unknown type names recurse until Jinja fails). Without
tools transformers picks the ``default`` variant: Hermes-3's is on file; Hermes-2-Pro's is not, so
those samples are skipped rather than guessed.
"""

from __future__ import annotations

from typing import Any

from .base import Builder, Chat, PerObject, Rendered, Renderer, Skip, tojson

BOS = "<|begin_of_text|>"
BASIC = {"string": "str", "number": "float", "integer": "int", "boolean": "bool"}
SYSTEM_HEAD = ("<|im_start|>system\nYou are a function calling AI model. You are provided with function signatures within "
               "<tools></tools> XML tags. You may call one or more functions to assist with the user query. Don't make "
               "assumptions about what values to plug into functions. Here are the available tools: <tools> ")
SYSTEM_TAIL = (" </tools>Use the following pydantic model json schema for each tool call you will make: "
               '{"properties": {"name": {"title": "Name", "type": "string"}, "arguments": {"title": "Arguments", '
               '"type": "object"}}, "required": ["name", "arguments"], "title": "FunctionCall", "type": "object"}}\n'
               "For each function call return a json object with function name and arguments within "
               "<tool_call></tool_call> XML tags as follows:\n<tool_call>\n"
               '{"name": <function-name>, "arguments": <args-dict>}\n</tool_call><|im_end|>\n')
_MISSING = object()


def python_type(spec: Any) -> str:
    """The template's ``json_to_python_type`` macro, quirks and all."""
    kind = spec.get("type", _MISSING) if isinstance(spec, dict) else _MISSING
    if isinstance(kind, str) and kind in BASIC:
        return BASIC[kind]
    if kind == "array":
        return "list[Union[]]"  # `json_spec|items` yields key/value pairs, whose `.type` is undefined
    if kind == "object":
        if "additionalProperties" in spec:
            return "dict[str, " + python_type(spec["additionalProperties"]) + "]"
        return "dict"
    if kind is _MISSING or kind is None:
        return "Union[]"  # an undefined type is iterable and empty
    if isinstance(kind, str):
        raise Skip("template_error", f"type {kind!r} makes the template's json_to_python_type recurse forever")
    if isinstance(kind, (list, dict)):
        return "Union[" + ",".join(python_type({"type": t}) for t in kind) + "]"
    raise Skip("template_error", f"type {kind!r} is not iterable in the template")


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise Skip("template_error", f"{what} must be a string for the template")
    return value


def tool_line(tool: dict) -> str:
    function = tool.get("function", tool)
    name = _text(function.get("name"), "tool name")
    description = _text(function.get("description"), "tool description")
    parameters = function.get("parameters") or {}
    properties = parameters.get("properties") if isinstance(parameters, dict) else None
    properties = properties if isinstance(properties, dict) else {}
    signature = ", ".join(key + ": " + python_type(value) for key, value in properties.items())
    args = "".join(("    Args:\n" if k == 0 else "") + "        " + key + "(" + python_type(value) + "): "
                   + (str(value.get("description", "")).strip() if isinstance(value, dict) else "")
                   for k, (key, value) in enumerate(properties.items()))
    shown = "{}" if not properties else tojson(parameters)
    return ('{"type": "function", "function": {"name": "' + name + '", "description": "' + name + "(" + signature + ")"
            + " - " + description + "\n\n" + args + '", "parameters": ' + shown + "}")


tool_text = PerObject(tool_line)
tools_text = PerObject(lambda tools: "\n".join([tool_text(tool) for tool in tools]))


def call_text(call: dict) -> str:
    function = call.get("function", call)
    arguments = function["arguments"]
    shown = arguments if isinstance(arguments, str) else tojson(arguments)
    return '\n<tool_call>\n{"name": "' + function["name"] + '", "arguments": ' + shown + "}\n</tool_call>"


class Hermes2Pro(Renderer):
    name = "Hermes-2-Pro"
    hub_ids = ("NousResearch/Hermes-2-Pro-Llama-3-8B",)
    aliases = ("hermes2pro", "hermes-2-pro-llama-3")
    template_file = "Hermes-2-Pro-Llama-3-8B-tool_use.jinja"
    default_template_file = ""  # the no-tools variant is not on file: skip, never guess
    special_tokens = {"bos_token": BOS, "eos_token": "<|im_end|>"}
    generation_prompt = "<|im_start|>assistant\n"
    stop = ("<|im_end|>",)
    call_syntax = "tool_call_tags"

    def template_for(self, chat: Chat) -> str | None:
        return self.template_file if chat.tools is not None else (self.default_template_file or None)

    def render(self, chat: Chat) -> Rendered:
        if chat.tools is None:
            if not self.default_template_file:
                raise Skip("no_tools_template", f"{self.name}'s default (no-tools) template is not known")
            return self._render_default(chat)
        b, messages = Builder(), chat.messages
        b.add(BOS + SYSTEM_HEAD + tools_text(chat.tools) + SYSTEM_TAIL)
        last = len(messages) - 1
        for i, message in enumerate(messages):
            role = message["role"]
            if role == "assistant" and "tool_calls" in message:
                b.add("<|im_start|>assistant\n")
                b.learn("".join(call_text(call) for call in message["tool_calls"])[1:] + "<|im_end|>")
                b.add("\n")
            elif role == "assistant":
                b.add("<|im_start|>assistant\n")
                b.learn(message["content"] + "<|im_end|>")
                b.add("\n")
            elif role in ("user", "system"):
                b.add("<|im_start|>" + role + "\n" + message["content"] + "<|im_end|>\n")
            elif role == "tool":
                if i > 0 and messages[i - 1]["role"] != "tool":
                    b.add("<|im_start|>tool\n")
                b.add("<tool_response>\n" + str(message["content"]) + ("\n</tool_response>\n" if i < last else "\n</tool_response>"))
                if i == last or messages[i + 1]["role"] != "tool":
                    b.add("<|im_end|>")
        return b.done()

    def _render_default(self, chat: Chat) -> Rendered:
        b, messages = Builder(), chat.messages
        b.add(BOS)
        for i, message in enumerate(messages):
            if i == 0 and message["role"] != "system":
                b.add("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n")
            if message["role"] == "assistant":
                b.add("<|im_start|>assistant\n")
                b.learn(message["content"] + "<|im_end|>")
                b.add("\n")
            else:
                b.add("<|im_start|>" + message["role"] + "\n" + message["content"] + "<|im_end|>\n")
        return b.done()


class Hermes3(Hermes2Pro):
    name = "Hermes-3"
    hub_ids = ("NousResearch/Hermes-3-Llama-3.1-8B", "NousResearch/Hermes-3-Llama-3.1-70B",
               "NousResearch/Hermes-3-Llama-3.1-405B")
    aliases = ("hermes3", "hermes-3-llama-3.1")
    template_file = "Hermes-3-Llama-3.1-8B-tool_use.jinja"
    default_template_file = "Hermes-3-Llama-3.1-70B-default.jinja"
