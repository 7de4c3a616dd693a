"""Mistral v0.3 ("v3") and Mistral-Nemo ("v3-tekken"): ``[INST]``, ``[AVAILABLE_TOOLS]``, ``[TOOL_CALLS]``.

Plain-Python equivalents of chat_templates/Mistral-7B-Instruct-v0.3.jinja and
Mistral-Nemo-Instruct-2407.jinja, quirks included: tools go before every user message equal to the
last one, the system prompt only joins a user message that ends the chat, assistant content beside
calls is dropped, and user/assistant turns must alternate (Skip otherwise, as the template raises).
"""

from __future__ import annotations


from .base import Builder, Chat, PerObject, Rendered, Renderer, Skip, tojson

ALTERNATION = "After the optional system message, conversation roles must alternate user/assistant/user/assistant/..."
BAD_ID = "Tool call IDs should be alphanumeric strings with length 9!"


def _tool_json(tool: dict) -> str:
    fields = [('"' + key + '": "' + val + '"') if isinstance(val, str) else ('"' + key + '": ' + tojson(val))
              for key, val in tool["function"].items() if key != "return"]
    return '{"type": "function", "function": {' + ", ".join(fields) + "}}"


tool_json = PerObject(_tool_json)
tools_json = PerObject(lambda tools: ", ".join([tool_json(tool) for tool in tools]))


class MistralV03(Renderer):
    name = "Mistral-v0.3"
    hub_ids = ("mistralai/Mistral-7B-Instruct-v0.3", "mistralai/Mistral-Large-Instruct-2407",
               "mistralai/Mixtral-8x22B-Instruct-v0.1")
    aliases = ("mistral", "mistral-7b-instruct-v0.3", "mistral-v3")
    template_file = "Mistral-7B-Instruct-v0.3.jinja"
    special_tokens = {"bos_token": "<s>", "eos_token": "</s>"}
    stop = ("</s>",)  # no generation prompt: the model continues right after [/INST]
    call_syntax = "mistral"
    space = " "  # v3 puts spaces after its control tokens; tekken does not

    def assistant_text(self, content: str) -> str:
        return " " + content.strip()

    def render(self, chat: Chat) -> Rendered:
        messages, tools, sp, eos = chat.messages, chat.tools, self.space, self.special_tokens["eos_token"]
        system = None
        if messages and messages[0]["role"] == "system":
            system, messages = messages[0]["content"], messages[1:]
        users = [m for m in messages if m["role"] == "user"]
        turn = 0
        for message in messages:
            if not (message["role"] in ("tool", "tool_results") or message.get("tool_calls") is not None):
                if (message["role"] == "user") != (turn % 2 == 0):
                    raise Skip("roles_not_alternating", ALTERNATION)
                turn += 1
        b = Builder()
        b.add(self.special_tokens["bos_token"])
        available = None if tools is None else ("[AVAILABLE_TOOLS]" + sp + "[" + tools_json(tools)
                                                 + ("]" if tools else "") + "[/AVAILABLE_TOOLS]")
        for i, message in enumerate(messages):
            role = message["role"]
            if role == "user":
                if available is not None and message == users[-1]:  # the template compares by value
                    b.add(available)
                if i == len(messages) - 1 and system is not None:
                    b.add("[INST]" + sp + system + "\n\n" + message["content"] + "[/INST]")
                else:
                    b.add("[INST]" + sp + message["content"] + "[/INST]")
            elif message.get("tool_calls") is not None:
                parts = []
                for call in message["tool_calls"]:
                    if len(call.get("id", "")) != 9:
                        raise Skip("template_error", BAD_ID)
                    parts.append(tojson(call["function"])[:-1] + ', "id": "' + call["id"] + '"}')
                b.learn("[TOOL_CALLS]" + sp + "[" + ", ".join(parts) + ("]" + eos if parts else ""))
            elif role == "assistant":
                b.learn(self.assistant_text(message["content"]) + eos)
            elif role in ("tool", "tool_results"):
                if len(message.get("tool_call_id", "")) != 9:
                    raise Skip("template_error", BAD_ID)
                b.add("[TOOL_RESULTS]" + sp + '{"content": ' + str(message["content"]) + ", "
                      + '"call_id": "' + message["tool_call_id"] + '"}[/TOOL_RESULTS]')
            else:
                raise Skip("template_error", "Only user and assistant roles are supported, with the exception of an "
                                             "initial optional system message!")
        return b.done()


class MistralNemo(MistralV03):
    name = "Mistral-Nemo"
    hub_ids = ("mistralai/Mistral-Nemo-Instruct-2407",)
    aliases = ("mistral-nemo-instruct-2407", "nemo")
    template_file = "Mistral-Nemo-Instruct-2407.jinja"
    space = ""

    def assistant_text(self, content: str) -> str:
        return content
