"""Llama 3.1 / 3.2 / 3.3 Instruct (header tokens, tools in the first user turn, one call per turn).

Plain-Python equivalents of chat_templates/Llama-3.{1,2,3}-Instruct.jinja for messages without
``builtin_tools`` (3.1 and 3.2 differ only there and in where the date comes from; the date is
frozen per DESIGN §4). The official templates raise on parallel calls; so do these (Skip).
"""

from __future__ import annotations

from .base import Builder, Chat, PerObject, Rendered, Renderer, Skip, tojson, tojson_indent

BOS = "<|begin_of_text|>"
HEADER = "<|start_header_id|>assistant<|end_header_id|>\n\n"  # generation prompt: context
TOOLS_PROMPT = ("Given the following functions, please respond with a JSON for a function call "
                "with its proper arguments that best answers the given prompt.\n\n"
                'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.'
                "Do not use variables.\n\n")

# the template's `tool | tojson(indent=4)`, once per (shared) tool object
tool_json = PerObject(lambda tool: tojson_indent(tool, 4) + "\n\n")
tools_text = PerObject(lambda tools: "".join([tool_json(tool) for tool in tools]))


class Llama31(Renderer):
    name = "Llama-3.1"
    hub_ids = ("meta-llama/Llama-3.1-8B-Instruct", "meta-llama/Llama-3.1-70B-Instruct",
               "meta-llama/Llama-3.1-405B-Instruct", "meta-llama/Meta-Llama-3.1-8B-Instruct",
               "meta-llama/Meta-Llama-3.1-70B-Instruct")
    aliases = ("llama3.1", "Llama-3.1-Instruct")
    template_file = "Llama-3.1-Instruct.jinja"
    special_tokens = {"bos_token": BOS, "eos_token": "<|eot_id|>"}
    date_string = "26 Jul 2024"
    generation_prompt = HEADER
    stop = ("<|eot_id|>", "<|eom_id|>")
    call_syntax = "json"

    def render(self, chat: Chat) -> Rendered:
        b, messages, tools = Builder(), chat.messages, chat.tools
        system = ""
        if messages and messages[0]["role"] == "system":
            system, messages = messages[0]["content"].strip(), messages[1:]
        b.add(BOS + "<|start_header_id|>system<|end_header_id|>\n\n" + ("Environment: ipython\n" if tools is not None else "")
              + "Cutting Knowledge Date: December 2023\nToday Date: " + self.date_string + "\n\n" + system + "<|eot_id|>")
        if tools is not None:
            if not messages:
                raise Skip("template_error", "Cannot put tools in the first user message when there's no first user message!")
            first, messages = messages[0]["content"].strip(), messages[1:]
            b.add("<|start_header_id|>user<|end_header_id|>\n\n" + TOOLS_PROMPT
                  + tools_text(tools) + first + "<|eot_id|>")
        for message in messages:
            role = message["role"]
            if "tool_calls" in message:
                if len(message["tool_calls"]) != 1:
                    raise Skip("parallel_calls", "This model only supports single tool-calls at once!")
                call = message["tool_calls"][0]["function"]
                b.add(HEADER)
                b.learn('{"name": "' + call["name"] + '", "parameters": '
                        + tojson(call["arguments"]) + "}<|eot_id|>")
            elif role in ("tool", "ipython"):
                content = message["content"]
                shown = tojson(content) if isinstance(content, (str, list, dict)) else str(content)
                b.add("<|start_header_id|>ipython<|end_header_id|>\n\n" + shown + "<|eot_id|>")
            elif role == "assistant":
                b.add(HEADER)
                b.learn(message["content"].strip() + "<|eot_id|>")
            else:
                b.add("<|start_header_id|>" + role + "<|end_header_id|>\n\n" + message["content"].strip() + "<|eot_id|>")
        return b.done()


class Llama32(Llama31):
    name = "Llama-3.2"
    hub_ids = ("meta-llama/Llama-3.2-1B-Instruct", "meta-llama/Llama-3.2-3B-Instruct")
    aliases = ("llama3.2", "Llama-3.2-Instruct")
    template_file = "Llama-3.2-Instruct.jinja"


class Llama33(Llama31):
    name = "Llama-3.3"
    hub_ids = ("meta-llama/Llama-3.3-70B-Instruct",)
    aliases = ("llama3.3", "Llama-3.3-Instruct")
    template_file = "Llama-3.3-Instruct.jinja"
