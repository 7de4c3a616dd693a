"""Qwen2.5-Instruct and Qwen3 (ChatML, ``<tool_call>`` JSON blocks, tool results as a user turn).

Plain-Python equivalents of the official templates (chat_templates/Qwen2.5-Instruct.jinja,
Qwen3.jinja); tests prove them byte-identical on every BFCL sample.
"""

from __future__ import annotations


from .base import Builder, Chat, PerObject, Rendered, Renderer, tojson

DEFAULT_SYSTEM = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."
TOOLS_HEAD = ("# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
              "You are provided with function signatures within <tools></tools> XML tags:\n<tools>")
TOOLS_TAIL = ("\n</tools>\n\nFor each function call, return a json object with function name and arguments within "
              "<tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": "
              "<args-json-object>}\n</tool_call><|im_end|>\n")
HEADER = "<|im_start|>assistant\n"  # the generation prompt: context, not learned


tool_json = PerObject(tojson)


@PerObject
def tools_block(tools: list[dict]) -> str:
    return TOOLS_HEAD + "".join(["\n" + tool_json(tool) for tool in tools]) + TOOLS_TAIL


def assistant_turn(b: Builder, body: str) -> None:
    """``<|im_start|>assistant\\n`` + body + ``<|im_end|>\\n``; body and the end token are learned."""
    b.add(HEADER)
    b.learn(body + "<|im_end|>")
    b.add("\n")


def tool_results(b: Builder, messages: list[dict], i: int) -> None:
    """Consecutive tool messages share one user turn of ``<tool_response>`` blocks."""
    if i == 0 or messages[i - 1]["role"] != "tool":
        b.add("<|im_start|>user")
    b.add("\n<tool_response>\n" + messages[i]["content"] + "\n</tool_response>")
    if i == len(messages) - 1 or messages[i + 1]["role"] != "tool":
        b.add("<|im_end|>\n")


def call_block(call: dict, raw_strings: bool) -> str:
    function = call.get("function") or call
    arguments = function["arguments"]
    text = arguments if raw_strings and isinstance(arguments, str) else tojson(arguments)
    return '<tool_call>\n{"name": "' + function["name"] + '", "arguments": ' + text + "}\n</tool_call>"


class Qwen25(Renderer):
    name = "Qwen2.5"
    hub_ids = ("Qwen/Qwen2.5-0.5B-Instruct", "Qwen/Qwen2.5-1.5B-Instruct", "Qwen/Qwen2.5-3B-Instruct",
               "Qwen/Qwen2.5-7B-Instruct", "Qwen/Qwen2.5-14B-Instruct", "Qwen/Qwen2.5-32B-Instruct",
               "Qwen/Qwen2.5-72B-Instruct")
    aliases = ("Qwen2.5-Instruct", "qwen2_5", "qwen25")
    template_file = "Qwen2.5-Instruct.jinja"
    generation_prompt = HEADER
    stop = ("<|im_end|>", "<|endoftext|>")
    call_syntax = "tool_call_tags"

    def render(self, chat: Chat) -> Rendered:
        messages, b = chat.messages, Builder()
        add = b.add
        system = messages[0]["content"] if messages and messages[0]["role"] == "system" else None
        if chat.tools:
            add("<|im_start|>system\n" + (DEFAULT_SYSTEM if system is None else system) + "\n\n" + tools_block(chat.tools))
        else:
            add("<|im_start|>system\n" + (DEFAULT_SYSTEM if system is None else system) + "<|im_end|>\n")
        for i, message in enumerate(messages):
            role = message["role"]
            if role == "user" or (role == "system" and i > 0):
                add("<|im_start|>" + role + "\n" + message["content"] + "<|im_end|>\n")
            elif role == "tool":
                tool_results(b, messages, i)
            elif role == "assistant":
                calls = message.get("tool_calls")
                if calls:
                    # '<|im_start|>assistant' ('\n' + content)? ('\n<tool_call>…')+: the first '\n' is the header's
                    content = message["content"]
                    body = ("\n" + content if content else "") + "".join(["\n" + call_block(call, False) for call in calls])
                    assistant_turn(b, body[1:])
                else:
                    assistant_turn(b, message["content"])
        return b.done()


def _split_think(content: str) -> tuple[str, str]:
    """Qwen3's split of ``…</think>answer`` into (answer, reasoning), exactly as its template does."""
    answer = content.split("</think>")[-1].lstrip("\n")
    reasoning = content.split("</think>")[0].rstrip("\n").split("<think>")[-1].lstrip("\n")
    return answer, reasoning


class Qwen3(Renderer):
    name = "Qwen3"
    hub_ids = ("Qwen/Qwen3-0.6B", "Qwen/Qwen3-1.7B", "Qwen/Qwen3-4B", "Qwen/Qwen3-8B", "Qwen/Qwen3-14B",
               "Qwen/Qwen3-32B", "Qwen/Qwen3-30B-A3B", "Qwen/Qwen3-235B-A22B")
    aliases = ("qwen-3",)
    template_file = "Qwen3.jinja"
    has_reasoning = True
    generation_prompt = HEADER
    stop = ("<|im_end|>", "<|endoftext|>")
    call_syntax = "tool_call_tags"

    def __init__(self, enable_thinking: bool = True) -> None:
        """``enable_thinking=False``: the generation prompt closes an empty think block (the rendered chat is the same)."""
        self.enable_thinking = enable_thinking
        self.generation_prompt = HEADER if enable_thinking else HEADER + "<think>\n\n</think>\n\n"

    def template_kwargs(self) -> dict:
        return {} if self.enable_thinking else {"enable_thinking": False}

    def render(self, chat: Chat) -> Rendered:
        messages, b = chat.messages, Builder()
        system = messages[0]["content"] if messages and messages[0]["role"] == "system" else None
        if chat.tools:
            b.add("<|im_start|>system\n" + ("" if system is None else system + "\n\n") + tools_block(chat.tools))
        elif system is not None:
            b.add("<|im_start|>system\n" + system + "<|im_end|>\n")
        last_query = len(messages) - 1
        for index in range(len(messages) - 1, -1, -1):
            message = messages[index]
            if message["role"] == "user" and not (message["content"].startswith("<tool_response>")
                                                   and message["content"].endswith("</tool_response>")):
                last_query = index
                break
        for i, message in enumerate(messages):
            role = message["role"]
            if role == "user" or (role == "system" and i > 0):
                b.add("<|im_start|>" + role + "\n" + message["content"] + "<|im_end|>\n")
            elif role == "assistant":
                content, reasoning = message["content"], ""
                if message.get("reasoning_content") is not None:
                    reasoning = message["reasoning_content"]
                elif "</think>" in content:
                    content, reasoning = _split_think(content)
                if i > last_query and (i == len(messages) - 1 or reasoning):
                    body = "<think>\n" + reasoning.strip("\n") + "\n</think>\n\n" + content.lstrip("\n")
                else:
                    body = content
                for j, call in enumerate(message.get("tool_calls") or ()):
                    body += ("\n" if (j == 0 and content) or j > 0 else "") + call_block(call, raw_strings=True)
                assistant_turn(b, body)
            elif role == "tool":
                tool_results(b, messages, i)
        return b.done()
