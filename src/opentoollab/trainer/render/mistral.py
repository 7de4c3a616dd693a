"""Mistral v0.3 ("v3") and Mistral-Nemo ("v3-tekken"): ``[INST]``, ``[AVAILABLE_TOOLS]``, ``[TOOL_CALLS]``.

Plain-Python equivalents of chat_templates/Mistral-7B-Instruct-v0.3.jinja and
Mistral-Nemo-Instruct-2407.jinja, quirks included: tools go before every user message equal to the
last one, the system prompt only joins a user message that ends the chat, assistant content beside
calls is dropped, and user/assistant turns must alternate (Skip otherwise, as the template raises).

The tekken v11+ templates Mistral generates with mistral-common (Mistral Small 3.2, the Ministral /
Magistral reasoning models) write each call as ``[TOOL_CALLS]name[CALL_ID]id[ARGS]{…}`` (reasoning
models: no ids) and keep the text beside calls; ``parse_tekken`` reads such completions back.
"""

from __future__ import annotations


from .base import Builder, Chat, PerObject, Rendered, Renderer, Skip, require_str, tojson
from .completion import arguments_of, json_prefix, json_values, named_call

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


# ------------------------------------------------------------------------- tekken v11+: [TOOL_CALLS]name[ARGS]
REASONING_SYSTEM = (
    "# HOW YOU SHOULD THINK AND ANSWER\n\nFirst draft your thinking process (inner monologue) until you arrive at a "
    "response. Format your response using Markdown, and use LaTeX for any mathematical equations. Write both your "
    "thoughts and the response in the same language as the input.\n\nYour thinking process must follow the template "
    "below:[THINK]Your thoughts or/and draft, like working through an exercise on scratch paper. Be as casual and as "
    "long as you want until you are confident to generate the response to the user.[/THINK]Here, provide a "
    "self-contained response.")
NO_CONTENT = "Assistant message must have a string or a list of chunks in content or a list of tool calls."
tools_list_json = PerObject(tojson)  # `tools|tojson`: the whole list, compact


def _arguments_text(arguments: object) -> str:
    if not isinstance(arguments, str):
        return tojson(arguments)
    return arguments or "{}"


def _merged(messages: list[dict]) -> list[dict]:
    """The v11 template's aggregation: consecutive messages of one role (not system/tool) become one, texts
    joined by a blank line, calls concatenated."""
    out: list[dict] = []
    for message in messages:
        role = message["role"]
        if out and role == out[-1]["role"] and role not in ("system", "tool"):
            group = out[-1]
        else:
            group = {"role": role, "texts": [], "calls": [], "message": message}
            out.append(group)
        content = message.get("content")
        if content is not None:
            group["texts"].append(require_str(content, f"{role} content"))
        if message.get("tool_calls") is not None:
            group["calls"].extend(message["tool_calls"])
    return [g["message"] if g["role"] == "tool" else
            {"role": g["role"], "content": "\n\n".join(g["texts"]), **({"tool_calls": g["calls"]} if g["calls"] else {})}
            for g in out]


_ALLOWED_AFTER = {"system": ("user", "assistant", "system"), "user": ("assistant", "system", "user"),
                  "assistant": ("assistant", "user", "tool"), "tool": ("assistant", "tool", "user")}


def parse_tekken(text: str) -> tuple[str, list[dict] | None]:
    """``[THINK]…[/THINK]`` (dropped) ``text`` then ``[TOOL_CALLS]name[CALL_ID]id[ARGS]{…}`` per call (``[CALL_ID]``
    optional); the older ``[TOOL_CALLS][{"name", "arguments"}, …]`` list is read too."""
    if "[/THINK]" in text:
        text = text.rsplit("[/THINK]", 1)[1]
    elif text.lstrip().startswith("[THINK]"):
        return "", None  # reasoning that never ended: no answer, no call
    content, *parts = text.split("[TOOL_CALLS]")
    if not parts:
        return content.strip(), None
    calls = []
    for part in parts:
        if "[ARGS]" not in part:
            values = json_values(part.strip(), "[TOOL_CALLS]")
            calls += [named_call(item, "name", "arguments") for value in values
                      for item in (value if isinstance(value, list) else [value])]
            continue
        head, _, arguments = part.partition("[ARGS]")
        name = head.split("[CALL_ID]", 1)[0].strip()
        if not name:
            raise ValueError("[TOOL_CALLS] without a function name")
        value, end = json_prefix(arguments, len(arguments) - len(arguments.lstrip()), f"the arguments of {name!r}")
        if arguments[end:].strip():
            raise ValueError(f"text after the arguments of {name!r}: {arguments[end:end + 50]!r}")
        calls.append({"name": name, "arguments": arguments_of(value, name)})
    return content.strip(), calls


class MistralSmall32(Renderer):
    """Mistral Small 3.2 (tekken v11; chat_templates/mistral-common-v11_image.Mistral-Small-3.2.jinja).

    Mistral's own template: system prompts in ``[SYSTEM_PROMPT]`` where they occur, the tool list before
    the last user turn, each call ``[TOOL_CALLS]name[CALL_ID]id[ARGS]{…}`` after the turn's text (kept),
    results ``[TOOL_RESULTS]id[TOOL_CONTENT]…``; 9-character ids (the chat's). Consecutive turns of one
    role are merged as the template merges them; an order it refuses (a tool result right after a user
    turn, a system prompt right before a tool result) or an empty assistant turn is skipped.
    """

    name = "Mistral-Small-3.2"
    hub_ids = ("mistralai/Mistral-Small-3.2-24B-Instruct-2506",)
    aliases = ("mistral-small-3.2", "mistral-small-3.2-24b-instruct-2506", "mistral-small")
    template_file = "mistral-common-v11_image.Mistral-Small-3.2.jinja"
    special_tokens = {"bos_token": "<s>", "eos_token": "</s>"}
    stop = ("</s>",)  # no generation prompt: the model continues right after [/INST] or [/TOOL_RESULTS]
    call_syntax = "mistral_v11"
    parse_completion = staticmethod(parse_tekken)

    def render(self, chat: Chat) -> Rendered:
        messages, tools = _merged(chat.messages), chat.tools
        if messages and messages[0]["role"] not in ("user", "system"):
            raise Skip("template_error", f"Conversation must start with a user or system message, got {messages[0]['role']}.")
        for before, message in zip(messages, messages[1:]):
            if message["role"] not in _ALLOWED_AFTER.get(before["role"], (message["role"],)):
                raise Skip("roles_out_of_order", f"Unexpected role '{message['role']}' after role '{before['role']}'")
        last_user = sum(1 for m in messages if m["role"] == "user") - 1
        b, user_index = Builder(), 0
        b.add("<s>")
        for message in messages:
            role = message["role"]
            if role == "user":
                if user_index == last_user and tools:
                    b.add("[AVAILABLE_TOOLS]" + tools_list_json(tools) + "[/AVAILABLE_TOOLS]")
                b.add("[INST]" + message["content"] + "[/INST]")
                user_index += 1
            elif role == "assistant":
                calls = message.get("tool_calls") or []
                if not message["content"] and not calls:
                    raise Skip("empty_assistant_turn", NO_CONTENT)
                parts = [message["content"]]
                for call in calls:
                    if len(call.get("id") or "") != 9:
                        raise Skip("template_error", "Tool call must have an id of 9 characters or numbers.")
                    parts.append("[TOOL_CALLS]" + call["function"]["name"] + "[CALL_ID]" + call["id"] + "[ARGS]"
                                 + _arguments_text(call["function"]["arguments"]))
                b.learn("".join(parts) + "</s>")
            elif role == "tool":
                call_id = message.get("call_id") if len(message.get("call_id") or "") == 9 else message.get("tool_call_id")
                if len(call_id or "") != 9:
                    raise Skip("template_error", "Tool message must have a call_id or tool_call_id of 9 characters or numbers.")
                b.add("[TOOL_RESULTS]" + call_id + "[TOOL_CONTENT]" + str(message["content"]) + "[/TOOL_RESULTS]")
            elif role == "system":
                b.add("[SYSTEM_PROMPT]" + message["content"] + "[/SYSTEM_PROMPT]")
            else:
                raise Skip("template_error", f"Only user, assistant, system and tool roles are supported, got {role}.")
        return b.done()


def _thinking_chunks(chat: Chat) -> Chat:
    """Assistant ``reasoning_content`` as the ``thinking`` content chunk the reasoning template reads
    (mistral-common's ThinkChunk), followed by the text: ``[THINK]…[/THINK]text``."""
    if not any("reasoning_content" in m for m in chat.messages):
        return chat
    messages = []
    for m in chat.messages:
        if "reasoning_content" in m:
            thinking = {"type": "thinking", "thinking": m["reasoning_content"]}
            m = {k: v for k, v in m.items() if k != "reasoning_content"}
            m["content"] = [thinking] + ([{"type": "text", "text": m["content"]}] if m.get("content") else [])
        messages.append(m)
    return Chat(chat.id, messages, chat.tools, chat.notes)


class MinistralReasoning(Renderer):
    """Mistral reasoning models, ``[THINK]`` style (chat_templates/mistralai-Ministral-3-14B-Reasoning-2512.jinja).

    A default reasoning system prompt when the chat has none; the tool list once after the system prompt;
    calls ``[TOOL_CALLS]name[ARGS]{…}`` (no ids) after the turn's text; results ``[TOOL_RESULTS]…``.
    Reasoning (``reasoning_content``) is written ``[THINK]…[/THINK]`` before the turn's text in every
    assistant turn that has it: the template reads it as a ``thinking`` content chunk, which
    ``template_chat`` builds. User and answer turns must alternate (tool turns aside), system prompts
    after the first are refused (both skipped, as the template raises), as is an empty assistant turn.
    """

    name = "Ministral-3-Reasoning"
    hub_ids = ("mistralai/Ministral-3-14B-Reasoning-2512", "mistralai/Ministral-3-8B-Reasoning-2512",
               "mistralai/Ministral-3-3B-Reasoning-2512")
    aliases = ("ministral-reasoning", "ministral-3-reasoning", "ministral-3-14b-reasoning-2512")
    template_file = "mistralai-Ministral-3-14B-Reasoning-2512.jinja"
    special_tokens = {"bos_token": "<s>", "eos_token": "</s>"}
    has_reasoning = True
    stop = ("</s>",)
    call_syntax = "mistral_v11"
    parse_completion = staticmethod(parse_tekken)

    def template_chat(self, chat: Chat) -> Chat:
        return _thinking_chunks(chat)

    def render(self, chat: Chat) -> Rendered:
        messages, tools, b = chat.messages, chat.tools, Builder()
        if messages and messages[0]["role"] == "system":
            b.add("<s>[SYSTEM_PROMPT]" + require_str(messages[0]["content"], "system content") + "[/SYSTEM_PROMPT]")
            messages = messages[1:]
        else:
            b.add("<s>[SYSTEM_PROMPT]" + REASONING_SYSTEM + "[/SYSTEM_PROMPT]")
        if tools:
            b.add("[AVAILABLE_TOOLS]" + tools_list_json(tools) + "[/AVAILABLE_TOOLS]")
        turn = 0
        for message in messages:
            if message["role"] == "user" or (message["role"] == "assistant" and not message.get("tool_calls")):
                if (message["role"] == "user") != (turn % 2 == 0):
                    raise Skip("roles_not_alternating", "After the optional system message, conversation roles must "
                                                        "alternate user and assistant roles except for tool calls and results.")
                turn += 1
        for message in messages:
            role = message["role"]
            if role == "user":
                b.add("[INST]" + require_str(message["content"], "user content") + "[/INST]")
            elif role == "assistant":
                calls = message.get("tool_calls") or []
                reasoning = message.get("reasoning_content")
                if not message["content"] and not calls and reasoning is None:
                    raise Skip("empty_assistant_turn", NO_CONTENT)
                shown = "" if reasoning is None else "[THINK]" + require_str(reasoning, "reasoning") + "[/THINK]"
                b.learn(shown + message["content"] + "".join(
                    ["[TOOL_CALLS]" + c["function"]["name"] + "[ARGS]" + _arguments_text(c["function"]["arguments"])
                     for c in calls]) + "</s>")
            elif role == "tool":
                b.add("[TOOL_RESULTS]" + str(message["content"]) + "[/TOOL_RESULTS]")
            else:
                raise Skip("template_error", f"Only user, assistant and tool roles are supported, got {role}.")
        return b.done()
