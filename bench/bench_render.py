"""Built-in renderers vs the official Jinja templates on all of processed BFCL: same output, and how fast.

    python bench/bench_render.py [--data-dir DIR] [--templates ../shared/chat_templates] [--models Qwen2.5,Llama-3.1]

Converts every sample once (to_chat, tool changes rendered as a union so every sample counts), then
for each model renders every chat with the built-in and with the official template (the
transformers-compatible sandbox), checks the texts are identical (or both refuse), and prints times.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from opentoollab.jsonl import iter_samples
from opentoollab.render import BUILTINS, Skip, get_renderer, to_chat
from opentoollab.render.jinja import JinjaTemplate, TemplateRaised
from opentoollab.store import Store


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--templates", default=str(Path(__file__).resolve().parents[2] / "shared" / "chat_templates"))
    parser.add_argument("--models", default=",".join(BUILTINS))
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
        same = skipped = diff = 0
        t_builtin = t_jinja = 0.0
        for chat in chats:
            name = renderer.template_for(chat) if hasattr(renderer, "template_for") else renderer.template_file
            t0 = time.perf_counter()
            try:
                text = renderer.render(chat).text
            except Skip:
                text = None
            t1 = time.perf_counter()
            try:
                if name is None:
                    raise TemplateRaised("no variant")
                if name not in templates:
                    templates[name] = JinjaTemplate(Path(args.templates, name).read_text("utf-8"), renderer.special_tokens)
                reference = templates[name].render(chat.messages, chat.tools)
            except TemplateRaised:
                reference = None
            t2 = time.perf_counter()
            t_builtin += t1 - t0
            t_jinja += t2 - t1
            if text is None:
                skipped += 1
            elif text == reference:
                same += 1
            else:
                diff += 1
        bad += diff
        print(f"{model:28} {same:5} {skipped:5} {diff:5} {t_builtin:10.3f} {t_jinja:8.3f} {t_jinja / max(t_builtin, 1e-9):7.1f}x")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
