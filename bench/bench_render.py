"""Built-in renderers vs the official Jinja templates on all of processed BFCL: same output, and how fast.

    python bench/bench_render.py [--data-dir DIR] [--templates ../shared/chat_templates] [--models Qwen2.5,Llama-3.1]

Converts every sample once (to_chat, tool changes rendered as a union so every sample counts), then
for each model renders every chat with the built-in and with the official template (the
transformers-compatible sandbox), checks the texts are identical (or both refuse), and prints times.
The built-ins' per-tool text caches are emptied before each model, so every figure is a cold run
(what one `trainer prepare` pays); each side's time is the best of --repeat passes.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

from opentoollab.format.jsonl import iter_samples
from opentoollab.trainer.render import BUILTINS, Skip, get_renderer, to_chat
from opentoollab.trainer.render.base import PerObject
from opentoollab.trainer.render.jinja import JinjaTemplate, TemplateRaised
from opentoollab.datasets.store import Store


def timed(chats, render, refusal) -> tuple[list, float]:
    """Texts (None where refused) and the seconds the whole pass took (garbage collector off, as timeit does)."""
    texts = []
    gc.collect()
    gc.disable()
    try:
        started = time.perf_counter()
        for chat in chats:
            try:
                texts.append(render(chat))
            except refusal:
                texts.append(None)
        return texts, time.perf_counter() - started
    finally:
        gc.enable()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--templates", default=str(Path(__file__).resolve().parents[2] / "shared" / "chat_templates"))
    parser.add_argument("--models", default=",".join(BUILTINS))
    parser.add_argument("--repeat", type=int, default=3, help="passes per side; the fastest counts")
    args = parser.parse_args()
    store = Store(args.data_dir)
    samples = [s for path in store.subset_files("BFCL") for s in iter_samples(path)]
    if not samples:
        print("no processed BFCL: run `python datasets deal BFCL` first", file=sys.stderr)
        return 1
    started = time.perf_counter()
    chats = [to_chat(s, tool_changes="union") for s in samples]
    print(f"{len(samples)} samples → chats in {time.perf_counter() - started:.2f}s")
    print(f"{'model':28} {'same':>5} {'skip':>5} {'diff':>5} {'built-in s':>10} {'jinja s':>8} {'speed-up':>8}")
    bad = 0
    for model in args.models.split(","):
        renderer = get_renderer(model)
        templates: dict[str, JinjaTemplate] = {}

        def official(chat):
            name = renderer.template_for(chat) if hasattr(renderer, "template_for") else renderer.template_file
            if name is None:
                raise TemplateRaised("no variant")
            if name not in templates:
                templates[name] = JinjaTemplate(Path(args.templates, name).read_text("utf-8"), renderer.special_tokens,
                                                **renderer.template_kwargs())
            chat = renderer.template_chat(chat)  # ids, argument text, tool spec as the family's template needs them
            return templates[name].render(chat.messages, chat.tools)

        t_builtin = t_jinja = float("inf")
        for _ in range(args.repeat):  # best of N passes: the machine is shared, the minimum is the cost
            PerObject.clear_all()
            texts, seconds = timed(chats, lambda chat: renderer.render(chat).text, Skip)
            t_builtin = min(t_builtin, seconds)
            references, seconds = timed(chats, official, TemplateRaised)
            t_jinja = min(t_jinja, seconds)
        same = sum(1 for t, r in zip(texts, references) if t is not None and t == r)
        skipped = sum(1 for t in texts if t is None)
        diff = len(chats) - same - skipped
        bad += diff
        print(f"{model:28} {same:5} {skipped:5} {diff:5} {t_builtin:10.3f} {t_jinja:8.3f} {t_jinja / max(t_builtin, 1e-9):7.1f}x")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
