"""Llama 3.1 / 3.2 / 3.3 Instruct (header tokens, tools in the first user turn, one call per turn) and Llama 4.

Plain-Python equivalents of chat_templates/Llama-3.{1,2,3}-Instruct.jinja for messages without
``builtin_tools`` (3.1 and 3.2 differ only there and in where the date comes from; the date is
frozen per DESIGN §4). The official templates raise on parallel calls; so do these (Skip).
Llama 4 (:class:`Llama4`) keeps the tool prompt but takes parallel calls and the text beside them.
"""

from __future__ import annotations

from .base import Builder, Chat, PerObject, Rendered, Renderer, Skip, tojson, tojson_indent
from .completion import json_values, named_call

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


# ---------------------------------------------------------------------------------------------- Llama 4
L4_HEADER = "<|header_start|>assistant<|header_end|>\n\n"
L4_SYSTEM_TOOLS = ("You have access to the following functions. To call a function, please respond with JSON for a "
                   'function call.Respond in the format {"name": function name, "parameters": dictionary of argument '
                   "name and its value}.Do not use variables.\n\n")


class Llama4(Renderer):
    """Llama 4 Scout / Maverick (chat_templates/meta-llama-Llama-4-Scout-17B-16E-Instruct.jinja).

    Like Llama 3 (tools as indented JSON in the first user turn by default, results through ``tojson``),
    but parallel calls are written back to back and the text beside them goes between
    ``<|python_start|>`` and ``<|python_end|>``. Kwarg ``tools_in_user_message`` (default true: false moves
    the tool list into the system turn, which then needs a system message). The template reads no date.
    """

    name = "Llama-4"
    hub_ids = ("meta-llama/Llama-4-Scout-17B-16E-Instruct", "meta-llama/Llama-4-Maverick-17B-128E-Instruct",
               "meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8")
    aliases = ("llama4", "Llama-4-Scout", "Llama-4-Maverick")
    template_file = "meta-llama-Llama-4-Scout-17B-16E-Instruct.jinja"
    special_tokens = {"bos_token": BOS, "eos_token": "<|eot|>"}
    generation_prompt = L4_HEADER
    stop = ("<|eot|>", "<|eom|>")
    call_syntax = "llama4"

    def __init__(self, tools_in_user_message: bool = True) -> None:
        self.tools_in_user_message = tools_in_user_message

    def template_kwargs(self) -> dict:
        return {"tools_in_user_message": self.tools_in_user_message}

    def render(self, chat: Chat) -> Rendered:
        b, messages, tools = Builder(), chat.messages, chat.tools
        b.add(BOS)
        if messages and messages[0]["role"] == "system":
            system, messages = messages[0]["content"].strip(), messages[1:]
            b.add("<|header_start|>system<|header_end|>\n\n" + ("Environment: ipython\n" if tools is not None else "")
                  + (L4_SYSTEM_TOOLS + tools_text(tools) if tools is not None and not self.tools_in_user_message else "")
                  + system + "<|eot|>")
        if self.tools_in_user_message and tools is not None:
            if not messages:
                raise Skip("template_error", "Cannot put tools in the first user message when there's no first user message!")
            first, messages = messages[0]["content"].strip(), messages[1:]
            b.add("<|header_start|>user<|header_end|>\n\n" + TOOLS_PROMPT + tools_text(tools) + first + "<|eot|>")
        for message in messages:
            role = message["role"]
            if not (role in ("ipython", "tool") or "tool_calls" in message):
                if role == "assistant":
                    b.add(L4_HEADER)
                    b.learn(message["content"] + "<|eot|>")
                else:
                    b.add("<|header_start|>" + role + "<|header_end|>\n\n" + message["content"] + "<|eot|>")
            elif "tool_calls" in message and message["tool_calls"]:
                b.add(L4_HEADER)
                b.learn("<|python_start|>" + message["content"] + "<|python_end|>" + "".join([
                    '{"name": "' + call["function"]["name"] + '", "parameters": ' + tojson(call["function"]["arguments"]) + "}"
                    for call in message["tool_calls"]]) + "<|eot|>")
            elif role in ("tool", "ipython"):
                content = message["content"]
                shown = tojson(content) if isinstance(content, (str, list, dict)) else str(content)
                b.add("<|header_start|>ipython<|header_end|>\n\n" + shown + "<|eot|>")
        return b.done()

    @staticmethod
    def parse_completion(text: str) -> tuple[str, list[dict] | None]:
        """``<|python_start|>TEXT<|python_end|>{"name", "parameters"}…`` (calls back to back, or inside the
        python block), or bare JSON calls; anything else is plain text."""
        body = text.strip()
        if body.startswith("<|python_start|>"):
            inner, marker, after = body[len("<|python_start|>"):].partition("<|python_end|>")
            if after.strip() or not inner.lstrip().startswith(("{", "[")):
                return inner.strip(), _llama_calls(after) if after.strip() else None
            return "", _llama_calls(inner)
        if body.startswith("{"):
            return "", _llama_calls(body)
        return body, None


def _llama_calls(text: str) -> list[dict]:
    values = json_values(text.strip(), "a Llama call")
    items = [item for value in values for item in (value if isinstance(value, list) else [value])]
    return [named_call(item, "name", "parameters" if isinstance(item, dict) and "parameters" in item else "arguments")
            for item in items]
