"""Renderers: a unified sample → the exact text of a model's chat template, with loss spans.

``get_renderer("Qwen2.5")`` (case/dash/underscore-insensitive; short names, aliases and hub ids
like ``Qwen/Qwen2.5-7B-Instruct``) gives a built-in renderer; ``to_chat`` (base.py) is the one
sample → messages conversion they all share; jinja.py runs any other template in a sandbox.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

from .base import Chat, Rendered, Renderer, Skip, to_chat

# short name → (module, class); order = how `--help` and the docs list them
BUILTINS: dict[str, tuple[str, str]] = {
    "Qwen2.5": ("qwen", "Qwen25"),
    "Qwen3": ("qwen", "Qwen3"),
    "Qwen3.5": ("qwen_xml", "Qwen35"),
    "Qwen3-Coder": ("qwen_xml", "Qwen3Coder"),
    "Llama-3.1": ("llama", "Llama31"),
    "Llama-3.2": ("llama", "Llama32"),
    "Llama-3.3": ("llama", "Llama33"),
    "Llama-4": ("llama", "Llama4"),
    "Mistral-v0.3": ("mistral", "MistralV03"),
    "Mistral-Nemo": ("mistral", "MistralNemo"),
    "Mistral-Small-3.2": ("mistral", "MistralSmall32"),
    "Ministral-3-Reasoning": ("mistral", "MinistralReasoning"),
    "Hermes-2-Pro": ("hermes", "Hermes2Pro"),
    "Hermes-3": ("hermes", "Hermes3"),
    "DeepSeek-R1-Distill-Qwen": ("deepseek", "R1DistillQwen"),
    "DeepSeek-R1-Distill-Llama": ("deepseek", "R1DistillLlama"),
    "DeepSeek-V3": ("deepseek", "DeepSeekV3"),
    "DeepSeek-V3.1": ("deepseek", "DeepSeekV31"),
    "GLM-4": ("glm", "GLM4"),
    "GLM-4.7": ("glm", "GLM47"),
    "Kimi-K2": ("kimi", "KimiK2"),
    "Nemotron-3-Nano": ("nemotron", "Nemotron3Nano"),
    "Nemotron-Nano-2": ("nemotron", "NemotronNano2"),
    "gpt-oss": ("gpt_oss", "GptOss"),
    "Granite-4.0": ("granite", "Granite4"),
    "Command-R+": ("cohere", "CommandRPlus"),
    "Command-R7B": ("cohere", "CommandR7B"),
}
DEFAULT = "Qwen2.5"


def _key(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name.strip().lower())


def renderer_class(short: str) -> type[Renderer]:
    module, attribute = BUILTINS[short]
    return getattr(importlib.import_module(f"{__name__}.{module}"), attribute)


def _index() -> dict[str, str]:
    index: dict[str, str] = {}
    for short in BUILTINS:
        cls = renderer_class(short)
        for name in (short, *cls.aliases, *cls.hub_ids):
            index[_key(name)] = short
            if "/" in name:
                index.setdefault(_key(name.split("/", 1)[1]), short)
    return index


def resolve_name(name: str) -> str | None:
    """The built-in short name for a name, alias or hub id (None when there is no built-in)."""
    return _index().get(_key(name))


def get_renderer(name: str, **options: Any) -> Renderer:
    """A built-in renderer by name, with its template options (``enable_thinking=False`` …); KeyError when unknown."""
    short = resolve_name(name)
    if short is None:
        raise KeyError(f"no built-in renderer for {name!r}; choose one of {', '.join(BUILTINS)} "
                       f"or pass --chat-template/--tokenizer")
    return renderer_class(short)(**options)


__all__ = ["BUILTINS", "DEFAULT", "Chat", "Rendered", "Renderer", "Skip", "get_renderer", "renderer_class",
           "resolve_name", "to_chat"]
