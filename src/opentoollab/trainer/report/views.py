"""A sample as a model sees it: the chat-template text with its learned spans, and token counts.

``Model`` pairs a renderer with an optional tokenizer; ``Model.view(sample)`` is what the sample
browser's template toggle shows. Samples a template cannot express get the renderer's skip reason,
never a differently rendered text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...tag.categories import approx_tokens
from ..prepare import IGNORE_INDEX, load_tokenizer, token_labels
from ..render import Renderer, Skip, get_renderer, resolve_name, to_chat


@dataclass
class Model:
    name: str
    renderer: Renderer
    tokenizer: Any = None  # a tokenizers.Tokenizer, or None: lengths are then approximate
    tokenizer_spec: str | None = None  # where it came from (workers load their own)

    @property
    def length_label(self) -> str:
        return f"{self.name} (tokens)" if self.tokenizer is not None else f"{self.name} (≈tokens)"

    def view(self, sample: Any) -> dict[str, Any]:
        """{"t": text, "s": spans, "n": tokens, "l": learned tokens, "exact": tokenizer?} or {"skip": reason}."""
        try:
            rendered = self.renderer.render(to_chat(sample, tool_changes="union"))
        except Skip as exc:
            return {"skip": exc.reason, "detail": exc.detail[:300]}
        except (KeyError, TypeError, AttributeError, ValueError) as exc:  # a sample the schema would refuse
            return {"skip": "unrenderable", "detail": f"{type(exc).__name__}: {exc}"[:300]}
        view: dict[str, Any] = {"t": rendered.text, "s": rendered.spans}
        if self.tokenizer is not None:
            ids, labels = token_labels(self.tokenizer, rendered.text, rendered.spans)
            view.update(n=len(ids), l=sum(1 for label in labels if label != IGNORE_INDEX), exact=True)
        else:
            view.update(n=approx_tokens(rendered.text),
                        l=sum(approx_tokens(rendered.text[a:b]) for a, b in rendered.spans), exact=False)
        return view


def load_models(names: list[str], tokenizers: list[str]) -> list[Model]:
    """Renderers by name (``Qwen2.5``, aliases, hub ids); ``tokenizers[i]`` (a folder or hub id) goes with
    ``names[i]``. Raises KeyError (unknown model), ImportError or FileNotFoundError (tokenizer)."""
    if len([t for t in tokenizers if t]) > len(names):
        raise KeyError("more --tokenizer than --model options: each tokenizer goes with the --model at its position")
    models = []
    for index, name in enumerate(names):
        renderer = get_renderer(name)
        spec = tokenizers[index] if index < len(tokenizers) and tokenizers[index] else None
        models.append(Model(resolve_name(name) or name, renderer, load_tokenizer(spec) if spec else None, spec))
    return models
