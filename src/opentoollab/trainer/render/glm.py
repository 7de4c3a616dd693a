"""GLM-4-9B-Chat (original 2024 template): ``[gMASK]<sop>`` then ``<|role|>\\ncontent`` per non-empty message.

Plain-Python equivalent of chat_templates/GLM-4-9B-Chat.jinja for DESIGN §4 messages. The template
reads tools only from a ``tools`` key on a message and calls only from ``metadata``/``content``; it
ignores the ``tools`` argument and ``tool_calls``. Samples with calls are therefore skipped
(``template_drops_tool_calls``); other samples render as the template does, tools unseen (noted).
"""

from __future__ import annotations

from .base import Builder, Chat, Rendered, Renderer, Skip


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
