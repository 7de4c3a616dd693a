"""`trainer prepare --tokenizer` against the transformers path users would write instead, in one process.

    python bench/bench_tokenize.py [--data-dir DIR] [--model Qwen2.5] [--vocab 32000] [--repeat 2]

Needs processed BFCL (python datasets deal BFCL) and transformers (pip install -e '.[bench]').
A byte-level BPE tokenizer is trained here on the rendered BFCL text (no network) and saved as a
tokenizer folder with the model's official chat template, so both sides use the same tokenizer:

  ours          trainer.prepare as `trainer prepare` runs it: given where each sample's line is (a mix's picks),
                read + parse + validate + render + input_ids + labels + write the rows
  transformers  AutoTokenizer.apply_chat_template(messages, tools, tokenize=False) for every row, then one
                batch call tokenizer(texts) — no reading, no labels, no writing (the chats are given)

Checks the input_ids are identical row by row and prints both times and the ratio (target >= 2x).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from opentoollab.datasets.store import Store  # noqa: E402
from opentoollab.format.jsonl import iter_samples  # noqa: E402
from opentoollab.trainer.prepare import LineAt, Options, load_tokenizer, prepare, trim_trailing  # noqa: E402
from opentoollab.trainer.render import Skip, get_renderer, to_chat  # noqa: E402

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


def train_tokenizer(texts: list[str], vocab: int, folder: Path, template: str) -> None:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.train_from_iterator(texts, trainers.BpeTrainer(
        vocab_size=vocab, special_tokens=SPECIALS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False))
    tokenizer.save(str(folder / "tokenizer.json"))
    config = {"tokenizer_class": "PreTrainedTokenizerFast", "chat_template": template, "eos_token": "<|im_end|>",
              "pad_token": "<|endoftext|>", "model_max_length": 1 << 30}
    (folder / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")


def lines_at(paths: list[Path]) -> list[LineAt]:
    """Where every sample's line is, as `trainer prepare` hands its mix's picks to ``prepare``."""
    found = []
    for path in paths:
        with open(path, "rb") as handle:
            offset = 0
            for line in handle:
                if line.strip():
                    found.append(LineAt(str(path), offset))
                offset += len(line)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--model", default="Qwen2.5")
    parser.add_argument("--templates", default=str(REPO.parent / "shared" / "chat_templates"))
    parser.add_argument("--vocab", type=int, default=32000)
    parser.add_argument("--repeat", type=int, default=2, help="passes per side; the fastest counts")
    parser.add_argument("--workers", type=int, default=None, help="prepare's workers [default: its own, every core]")
    args = parser.parse_args()
    try:
        from transformers import AutoTokenizer
    except ImportError:
        print("needs transformers: pip install -e '.[bench]'", file=sys.stderr)
        return 1
    store = Store(args.data_dir)
    files = store.subset_files("BFCL")
    if not files:
        print("no processed BFCL: run `python datasets deal BFCL` first", file=sys.stderr)
        return 1
    renderer = get_renderer(args.model)
    template = (Path(args.templates) / renderer.template_file).read_text("utf-8")
    samples = [s for path in files for s in iter_samples(path)]
    chats = []
    for sample in samples:
        try:
            chat = to_chat(sample)
            trim_trailing(chat)
            rendered = renderer.render(chat)
        except Skip:
            continue
        if rendered.spans:
            chats.append((chat.id, renderer.template_chat(chat), rendered.text))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "tok"
        folder.mkdir()
        started = time.perf_counter()
        train_tokenizer([text for _, _, text in chats[::3]], args.vocab, folder, template)
        print(f"{len(samples)} samples, {len(chats)} rows; tokenizer (byte-level BPE, {args.vocab} tokens) trained in "
              f"{time.perf_counter() - started:.1f}s")
        hf = AutoTokenizer.from_pretrained(str(folder))
        ours_best = theirs_best = float("inf")
        for _ in range(args.repeat):
            out = Path(tmp) / "prepared"
            started = time.perf_counter()
            options = Options(format="text", tokenizer=load_tokenizer(str(folder)))
            manifest = prepare(lines_at(files), get_renderer(args.model), out, options,
                               renderer_info={"name": args.model}, progress=False, workers=args.workers)
            ours_best = min(ours_best, time.perf_counter() - started)
            started = time.perf_counter()
            texts = [hf.apply_chat_template(chat.messages, tools=chat.tools, tokenize=False) for _, chat, _ in chats]
            reference = hf(texts, add_special_tokens=False)["input_ids"]
            theirs_best = min(theirs_best, time.perf_counter() - started)
        rows = {}
        with open(out / "train.jsonl", encoding="utf-8") as handle:
            for line in handle:
                row = json.loads(line)
                rows[row["id"]] = row["input_ids"]
    same = sum(1 for (identifier, _, _), ids in zip(chats, reference) if rows.get(identifier) == ids)
    texts_same = sum(1 for (_, _, text), theirs in zip(chats, texts) if text == theirs)
    tokens = manifest["tokens"]
    print(f"rows {manifest['counts']['out']} (reference {len(reference)}), {tokens['total']:,} tokens "
          f"({tokens['learned']:,} learned); texts identical {texts_same}/{len(chats)}, "
          f"input_ids identical {same}/{len(chats)}")
    print(f"ours (prepare, everything) {ours_best:.2f}s   transformers (template + batch tokenize) {theirs_best:.2f}s   "
          f"ratio {theirs_best / ours_best:.2f}x (target >= 2x)")
    return 0 if same == len(chats) == manifest["counts"]["out"] else 1


if __name__ == "__main__":
    sys.exit(main())
