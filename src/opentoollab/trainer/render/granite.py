"""IBM Granite 4.0 (``<|start_of_role|>role<|end_of_role|>…<|end_of_text|>``, ``<tool_call>`` JSON blocks).

Plain-Python equivalent of chat_templates/ibm-granite-granite-4.0.jinja (no ``documents``, which
tool data does not carry): the tool list joins the system prompt (or stands in for it), a default
system prompt when there is neither, text beside calls kept before them, consecutive tool results
in one user turn of ``<tool_response>`` blocks. Calls read back through the ``tool_call_tags`` syntax
the scorer already has (the same blocks Qwen and Hermes write).
"""

from __future__ import annotations

from .base import Builder, Chat, PerObject, Rendered, Renderer, require_str, tojson

DEFAULT_SYSTEM = "You are a helpful assistant. Please ensure responses are professional, accurate, and safe."
TOOLS_PREFIX = ("You are a helpful assistant with access to the following tools. You may call one or more tools to "
                "assist with the user query.\n\nYou are provided with function signatures within <tools></tools> "
                "XML tags:\n<tools>")
TOOLS_SUFFIX = ("\n</tools>\n\nFor each tool call, return a json object with function name and arguments within "
                "<tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": "
                "<args-json-object>}\n</tool_call>. If a tool does not exist in the provided list of tools, notify the "
                "user that you do not have the ability to fulfill the request.")
HEADER = "<|start_of_role|>assistant<|end_of_role|>"

tool_json = PerObject(tojson)
tools_text = PerObject(lambda tools: TOOLS_PREFIX + "".join(["\n" + tool_json(t) for t in tools]) + TOOLS_SUFFIX)


def call_block(call: dict) -> str:
    function = call.get("function") or call
    arguments = function["arguments"]
    return ('<tool_call>\n{"name": "' + function["name"] + '", "arguments": '
            + (arguments if isinstance(arguments, str) else tojson(arguments)) + "}\n</tool_call>")


class Granite4(Renderer):
    name = "Granite-4.0"
    hub_ids = ("ibm-granite/granite-4.0-h-small", "ibm-granite/granite-4.0-h-tiny", "ibm-granite/granite-4.0-h-micro",
               "ibm-granite/granite-4.0-micro")
    aliases = ("granite4", "granite-4", "granite")
    template_file = "ibm-granite-granite-4.0.jinja"
    special_tokens = {"bos_token": "<|end_of_text|>", "eos_token": "<|end_of_text|>"}
    generation_prompt = HEADER
    stop = ("<|end_of_text|>",)
    call_syntax = "tool_call_tags"

    def render(self, chat: Chat) -> Rendered:
        messages, tools, b = chat.messages, chat.tools, Builder()
        system = ""
        if messages and messages[0]["role"] == "system":
            system = require_str(messages[0]["content"], "system content")
            if tools:
                system += "\n\n" + tools_text(tools)
        elif tools:
            system = tools_text(tools)
        b.add("<|start_of_role|>system<|end_of_role|>" + (system or DEFAULT_SYSTEM) + "<|end_of_text|>\n")
        last = len(messages) - 1
        for i, message in enumerate(messages):
            role, content = message["role"], require_str(message["content"], f"{message['role']} content")
            if role == "user" or (role == "system" and i > 0):
                b.add("<|start_of_role|>" + role + "<|end_of_role|>" + content + "<|end_of_text|>\n")
            elif role == "assistant":
                calls = message.get("tool_calls") or ()
                b.add(HEADER)
                b.learn(content + "".join([("\n" if j or content else "") + call_block(call)
                                           for j, call in enumerate(calls)]) + "<|end_of_text|>")
                b.add("\n")
            elif role == "tool":
                if i == 0 or messages[i - 1]["role"] != "tool":
                    b.add("<|start_of_role|>user<|end_of_role|>")
                b.add("\n<tool_response>\n" + content + "\n</tool_response>")
                if i == last or messages[i + 1]["role"] != "tool":
                    b.add("<|end_of_text|>\n")
        return b.done()
