"""gpt-oss (OpenAI harmony): ``<|start|>role<|channel|>…<|message|>…<|end|>``, tools as a TypeScript namespace.

Plain-Python equivalent of chat_templates/openai-gpt-oss-20b.jinja (kwargs ``reasoning_effort``,
default ``medium``, and ``model_identity``; no ``builtin_tools``). The date the template takes from
``strftime_now`` is frozen to ``current_date`` (2024-07-26, the project's fixed date, DESIGN §4).

What the template does with a chat, kept: the first system message is the developer's
``# Instructions``; reasoning is the ``thinking`` field (``template_chat`` renames ``reasoning_content``
to it, as transformers 5 aliases them), shown as an ``analysis`` message on a calling turn only while
no final answer follows it, and on the last assistant message of a training text; text beside a call
becomes that ``analysis`` message too (the template has no other place for it); tool results are
JSON-quoted. Skipped with the template's reason: more than one call in a message (``parallel_calls``:
it renders only the first), system messages after the first (``template_drops_messages``: it drops
them), both text and reasoning beside a call, and channel tags inside content (it raises).
"""

from __future__ import annotations

import re
from typing import Any

from .base import Builder, Chat, PerObject, Rendered, Renderer, Skip, tojson
from .completion import arguments_of

START = "<|start|>assistant"
ANALYSIS, FINAL = "<|channel|>analysis<|message|>", "<|channel|>final<|message|>"
CHANNEL_TAGS = (ANALYSIS, FINAL)
_MISSING = object()


def _get(spec: Any, key: str) -> Any:
    """``spec.key`` in Jinja: the dict entry, or undefined (``_MISSING``) for anything else."""
    return spec.get(key, _MISSING) if isinstance(spec, dict) else _MISSING


def _text(value: Any) -> str:
    """How Jinja prints a value (``{{ x }}``)."""
    return value if isinstance(value, str) else str(value)


def _concat(left: str, value: Any, what: str) -> str:
    """``left + value`` in the template: anything but a string raises there, so it skips here."""
    if not isinstance(value, str):
        raise Skip("template_error", f"{what} is {'missing' if value is _MISSING else type(value).__name__}; "
                                     f"the template adds it to a string")
    return left + value


def _contains(container: Any, item: str) -> bool:
    if container is _MISSING or not container:
        container = []
    try:
        return item in container
    except TypeError:
        raise Skip("template_error", f"'required' is {type(container).__name__}") from None


def ts_type(spec: Any, required: Any = None) -> str:
    """The template's ``render_typescript_type`` macro, quirks included (its ``has_object_variants`` flag
    is set inside a loop, so Jinja scoping never lets it be true: every ``oneOf`` is written out)."""
    kind = _get(spec, "type")
    if kind == "array":
        items = _get(spec, "items")
        if items is not _MISSING and items:
            inner_kind = _get(items, "type")
            if inner_kind == "string":
                out = "string[]"
            elif inner_kind in ("number", "integer"):
                out = "number[]"
            elif inner_kind == "boolean":
                out = "boolean[]"
            else:
                inner = ts_type(items, required)
                out = "any[]" if inner == "object | object" or len(inner) > 50 else inner + "[]"
        else:
            out = "any[]"
        nullable = _get(spec, "nullable")
        return out + (" | null" if nullable is not _MISSING and nullable else "")
    if isinstance(kind, (list, tuple)) and kind:  # iterable, not a string or mapping, [0] defined
        return " | ".join(_text(k) for k in kind) if len(kind) > 1 else _text(kind[0])
    one_of = _get(spec, "oneOf")
    if one_of is not _MISSING and one_of:
        if not isinstance(one_of, (list, tuple)):
            raise Skip("template_error", "oneOf is not a list")
        parts = []
        for index, variant in enumerate(one_of):
            part = ts_type(variant, required)
            description = _get(variant, "description")
            if description is not _MISSING and description:
                part += _concat("// ", description, "a oneOf description")
            default = _get(variant, "default")
            if default is not _MISSING:
                part += " " * 20 + "// default: " + tojson(default)
            if index < len(one_of) - 1:
                part += " | \n"
            parts.append(part)
        return "".join(parts)
    if kind == "string":
        enum = _get(spec, "enum")
        if enum is not _MISSING and enum:
            return '"' + '" | "'.join(_text(e) for e in enum) + '"'
        nullable = _get(spec, "nullable")
        return "string" + (" | null" if nullable is not _MISSING and nullable else "")
    if kind in ("number", "integer"):
        return "number"
    if kind == "boolean":
        return "boolean"
    if kind == "object":
        properties = _get(spec, "properties")
        if properties is _MISSING or not properties:
            return "object"
        if not isinstance(properties, dict):
            raise Skip("template_error", "properties is not an object")
        inner_required = _get(spec, "required")
        inner_required = [] if inner_required is _MISSING or not inner_required else inner_required
        fields = []
        for name, prop in properties.items():
            fields.append(name + ("" if _contains(inner_required, name) else "?") + ": \n" + " " * 16
                          + ts_type(prop, inner_required))
        return "{\n" + ", ".join(fields) + "}"
    return "any"


def _tool_text(tool: dict) -> str:
    function = tool.get("function", _MISSING) if isinstance(tool, dict) else _MISSING
    if not isinstance(function, dict):
        raise Skip("template_error", "a tool without a function")
    out = _concat("// ", function.get("description", _MISSING), "a tool's description") + "\n"
    out += _concat("type ", function.get("name", _MISSING), "a tool's name") + " = "
    parameters = function.get("parameters")
    properties = _get(parameters, "properties")
    if not parameters or properties is _MISSING or not properties:
        return out + "() => any;\n\n"
    if not isinstance(properties, dict):
        raise Skip("template_error", "parameters.properties is not an object")
    required = _get(parameters, "required")
    parts = ["(_: {\n"]
    for name, spec in properties.items():
        description = _get(spec, "description")
        if description is not _MISSING and description:
            parts.append(_concat("// ", description, "a parameter description") + "\n")
        parts.append(name + ("" if _contains(required, name) else "?") + ": " + ts_type(spec, required))
        default = _get(spec, "default")
        if default is not _MISSING:
            enum, one_of = _get(spec, "enum"), _get(spec, "oneOf")
            if enum is not _MISSING and enum:
                parts.append(_concat(", // default: ", default, "a default beside an enum"))
            elif one_of is not _MISSING and one_of:
                parts.append(_concat("// default: ", default, "a default beside oneOf"))
            else:
                parts.append(", // default: " + tojson(default))
        parts.append(",\n")
    return out + "".join(parts) + "}) => any;\n\n"


tool_text = PerObject(_tool_text)
namespace_text = PerObject(lambda tools: "## functions\n\nnamespace functions {\n\n"
                           + "".join([tool_text(tool) for tool in tools]) + "} // namespace functions")


def _thinking_chat(chat: Chat) -> Chat:
    """``reasoning_content`` renamed ``thinking``, the field this template reads (transformers 5 aliases them)."""
    if not any("reasoning_content" in m for m in chat.messages):
        return chat
    messages = [m if "reasoning_content" not in m else
                {("thinking" if k == "reasoning_content" else k): v for k, v in m.items()} for m in chat.messages]
    return Chat(chat.id, messages, chat.tools, chat.notes)


class GptOss(Renderer):
    name = "gpt-oss"
    hub_ids = ("openai/gpt-oss-20b", "openai/gpt-oss-120b")
    aliases = ("gptoss", "gpt-oss-20b", "gpt-oss-120b", "harmony")
    template_file = "openai-gpt-oss-20b.jinja"
    special_tokens = {"bos_token": "<|startoftext|>", "eos_token": "<|return|>"}
    has_reasoning = True
    generation_prompt = START
    stop = ("<|call|>", "<|return|>")
    call_syntax = "harmony"
    lossy_skips = ("parallel_calls", "template_drops_messages")  # the template renders these, losing part of the chat
    current_date = "2024-07-26"  # strftime_now("%Y-%m-%d") of the frozen date (DESIGN §4)
    model_identity = "You are ChatGPT, a large language model trained by OpenAI."

    def __init__(self, reasoning_effort: str = "medium") -> None:
        self.reasoning_effort = reasoning_effort

    def template_kwargs(self) -> dict[str, Any]:
        return {"reasoning_effort": self.reasoning_effort}

    def template_chat(self, chat: Chat) -> Chat:
        return _thinking_chat(chat)

    def render(self, chat: Chat) -> Rendered:
        return self._render(chat, generation=False)

    def prompt(self, chat: Chat) -> str:
        return self._render(chat, generation=True).text + START

    def system_text(self, tools: list | None) -> str:
        return ("<|start|>system<|message|>" + self.model_identity + "\nKnowledge cutoff: 2024-06\nCurrent date: "
                + self.current_date + "\n\nReasoning: " + self.reasoning_effort + "\n\n# Valid channels: analysis, "
                "commentary, final. Channel must be included for every message."
                + ("\nCalls to these tools must go to the commentary channel: 'functions'." if tools else "") + "<|end|>")

    def _render(self, chat: Chat, generation: bool) -> Rendered:
        messages, tools, b = _thinking_chat(chat).messages, chat.tools, Builder()
        b.add(self.system_text(tools))
        developer = ""
        if messages and messages[0]["role"] in ("developer", "system"):
            developer, messages = messages[0]["content"], messages[1:]
        if developer or tools:
            b.add("<|start|>developer<|message|>" + ("# Instructions\n\n" + _text(developer) + "\n\n" if developer else "")
                  + ("# Tools\n\n" + namespace_text(tools) if tools else "") + "<|end|>")
        last_call: str | None = None
        for index, message in enumerate(messages):
            role = message["role"]
            if role == "assistant":
                last_call = self._assistant(b, message, messages, index, generation, last_call)
            elif role == "tool":
                if last_call is None:
                    raise Skip("template_error", "Message has tool role, but there was no previous assistant message "
                                                 "with a tool call!")
                b.add("<|start|>functions." + last_call + " to=assistant<|channel|>commentary<|message|>"
                      + tojson(message["content"]) + "<|end|>")
            elif role == "user":
                b.add(_concat("<|start|>user<|message|>", message["content"], "user content") + "<|end|>")
            else:
                raise Skip("template_drops_messages", f"gpt-oss's template drops {role} messages after the first message")
        return b.done()

    @staticmethod
    def _assistant(b: Builder, message: dict, messages: list[dict], index: int, generation: bool,
                   last_call: str | None) -> str | None:
        content, thinking = message.get("content", _MISSING), message.get("thinking", _MISSING)
        for value in (content, thinking):
            if isinstance(value, str) and any(tag in value for tag in CHANNEL_TAGS):
                raise Skip("template_error", "You have passed a message containing <|channel|> tags")
        if "tool_calls" in message:
            calls = message["tool_calls"]
            if len(calls) != 1:
                raise Skip("parallel_calls" if calls else "template_error",
                           "gpt-oss's template renders only the first call of a message (one call per message)")
            answered = any(m["role"] == "assistant" and "tool_calls" not in m for m in messages[index + 1:])
            if content and content is not _MISSING and thinking and thinking is not _MISSING:
                raise Skip("text_and_reasoning_beside_call", "Cannot pass both content and thinking in an assistant "
                                                             "message with tool calls!")
            analysis = ""
            for value in (content, thinking):
                if value and value is not _MISSING and not answered:
                    analysis = _concat(START + ANALYSIS, value, "the analysis message") + "<|end|>"
                    break
            call = calls[0]
            function = call.get("function") or call
            name = function.get("name", _MISSING)
            b.add(START)
            b.learn(analysis[len(START):] + (START if analysis else "")
                    + _concat(" to=functions.", name, "the call's name") + "<|channel|>commentary "
                    + _text(function.get("content_type", "json")) + "<|message|>"
                    + tojson(function.get("arguments")) + "<|call|>")
            return name
        b.add(START)
        if index == len(messages) - 1 and not generation:
            shown = ""
            if thinking is not _MISSING:
                shown = _concat(ANALYSIS, thinking, "thinking") + "<|end|>" + START
            b.learn(shown + _concat(FINAL, content, "assistant content") + "<|return|>")
            return last_call
        b.learn(_concat(FINAL, content, "assistant content") + "<|end|>")
        return None

    @staticmethod
    def parse_completion(text: str) -> tuple[str, list[dict[str, Any]] | None]:
        """Harmony after ``<|start|>assistant``: messages split at ``<|start|>``; a message whose header names a
        ``to=functions.NAME`` recipient (before or after ``<|channel|>``, with or without ``<|constrain|>``)
        is a call with JSON arguments; ``final`` messages are the text; ``analysis`` (reasoning) is dropped."""
        finals, calls = [], []
        for segment in text.split("<|start|>"):
            header, marker, body = segment.partition("<|message|>")
            if not marker:
                if segment.strip() and segment.strip() != "assistant":
                    finals.append(segment.strip())  # no harmony structure: plain text
                continue
            for end in ("<|end|>", "<|call|>", "<|return|>"):
                body = body.split(end, 1)[0]
            recipient = _RECIPIENT.search(header)
            if recipient:
                name = recipient.group(1)
                name = name[len("functions."):] if name.startswith("functions.") else name
                calls.append({"name": name, "arguments": arguments_of(body, name) if body.strip() else {}})
            elif _CHANNEL.search(header) is None or _CHANNEL.search(header).group(1) == "final":
                finals.append(body)
        return "\n".join(finals).strip(), calls or None


_RECIPIENT = re.compile(r"\bto=([^\s<]+)")
_CHANNEL = re.compile(r"<\|channel\|>\s*(\w+)")
