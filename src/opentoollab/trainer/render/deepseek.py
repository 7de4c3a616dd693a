"""DeepSeek-R1-Distill (Qwen / Llama) and DeepSeek-V3 (GGUF-era template).

Plain-Python equivalents of chat_templates/DeepSeek-R1-Distill-*.jinja and DeepSeek-V3.jinja for
DESIGN §4 messages. These templates ignore ``tools`` and write a call only when the message's
``content`` is null, while DESIGN §4 gives tool-calling messages ``content: ""``: the official
template would silently drop every call, so samples with calls are skipped (``template_drops_tool_calls``).
"""

from __future__ import annotations

from .base import Builder, Chat, Rendered, Renderer, Skip

BOS = "<｜begin▁of▁sentence｜>"
EOS = "<｜end▁of▁sentence｜>"


class R1DistillQwen(Renderer):
    name = "DeepSeek-R1-Distill-Qwen"
    hub_ids = tuple(f"deepseek-ai/DeepSeek-R1-Distill-Qwen-{size}" for size in ("1.5B", "7B", "14B", "32B"))
    aliases = ("r1-distill-qwen", "deepseek-r1-qwen")
    template_file = "DeepSeek-R1-Distill-Qwen.jinja"
    special_tokens = {"bos_token": BOS, "eos_token": EOS}
    has_reasoning = True  # the model thinks, but the template drops past reasoning (`</think>` split)
    strips_think = True
    generation_prompt = "<｜Assistant｜><think>\n"
    stop = (EOS,)

    def system_prompt(self, systems: list[str]) -> str:
        return systems[-1] if systems else ""

    def render(self, chat: Chat) -> Rendered:
        if any(m.get("tool_calls") for m in chat.messages):
            raise Skip("template_drops_tool_calls",
                       f"{self.name}'s template renders calls only when content is null (DESIGN §4 gives \"\")")
        b = Builder()
        b.add(BOS + self.system_prompt([m["content"] for m in chat.messages if m["role"] == "system"]))
        for message in chat.messages:
            if message["role"] == "user":
                b.add("<｜User｜>" + message["content"])
            elif message["role"] == "assistant":
                content = message["content"]
                if self.strips_think and "</think>" in content:
                    content = content.split("</think>")[-1]
                b.add("<｜Assistant｜>")
                b.learn(content + EOS)
        return b.done()


class R1DistillLlama(R1DistillQwen):
    name = "DeepSeek-R1-Distill-Llama"
    hub_ids = ("deepseek-ai/DeepSeek-R1-Distill-Llama-8B", "deepseek-ai/DeepSeek-R1-Distill-Llama-70B")
    aliases = ("r1-distill-llama", "deepseek-r1-llama")
    template_file = "DeepSeek-R1-Distill-Llama.jinja"


class DeepSeekV3(R1DistillQwen):
    name = "DeepSeek-V3"
    hub_ids = ("deepseek-ai/DeepSeek-V3", "deepseek-ai/DeepSeek-V3-Base")
    aliases = ("deepseek-v3", "deepseekv3")
    template_file = "DeepSeek-V3.jinja"
    has_reasoning = False
    strips_think = False
    generation_prompt = "<｜Assistant｜>"

    def system_prompt(self, systems: list[str]) -> str:
        return "\n\n".join(systems)
