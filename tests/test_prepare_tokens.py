"""`trainer prepare --tokenizer`: input_ids and labels, with a real BPE tokenizer trained here on BFCL text (no network)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from opentoollab.cli.trainer import trainer
from opentoollab.trainer.prepare import IGNORE_INDEX
from opentoollab.trainer.render import get_renderer, to_chat

tokenizers = pytest.importorskip("tokenizers")

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
SPEC = "BFCL/multi_turn_base,BFCL/simple_python,BFCL/live_multiple"


@pytest.fixture(scope="module")
def tokenizer_dir(bfcl_samples, shared, tmp_path_factory):
    """A byte-level BPE (Qwen-style specials) trained on rendered BFCL chats, saved as a tokenizer folder.

    It is saved with truncation at 64 tokens switched on, as some tokenizer.json files are: prepare
    must not cut rows.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    renderer = get_renderer("Qwen2.5")
    texts = [renderer.render(to_chat(s, tool_changes="union")).text
             for samples in bfcl_samples.values() for s in samples[::60]]
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.train_from_iterator(texts, trainers.BpeTrainer(
        vocab_size=1500, special_tokens=SPECIALS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tokenizer.enable_truncation(64)
    folder = tmp_path_factory.mktemp("tok")
    tokenizer.save(str(folder / "tokenizer.json"))
    config = {"chat_template": (shared / "chat_templates" / "Qwen2.5-Instruct.jinja").read_text("utf-8"),
              "eos_token": "<|im_end|>"}
    (folder / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")
    return folder


def prepare(args, store):
    return CliRunner().invoke(trainer, ["prepare", "-q", "--allow-eval", "--data-dir", str(store.root), *args], catch_exceptions=False)


def rows(path):
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def test_labels_are_the_tokens_whose_offsets_fall_in_the_spans(tokenizer_dir, bfcl_store, tmp_path):
    from tokenizers import Tokenizer

    out = tmp_path / "tok"
    result = prepare([f"--datasets={SPEC}", "--model=Qwen2.5", f"--tokenizer={tokenizer_dir}", "--out", str(out)], bfcl_store)
    assert result.exit_code == 0, result.output
    written = rows(out / "train.jsonl")
    reference = Tokenizer.from_file(str(tokenizer_dir / "tokenizer.json"))
    reference.no_truncation()
    im_end = reference.token_to_id("<|im_end|>")
    straddling = 0
    assert len(written) > 1000
    for row in written[::7]:  # every subset, every 7th row: the per-token check below is plain Python
        encoding = reference.encode(row["text"], add_special_tokens=False)
        assert row["input_ids"] == encoding.ids and len(row["labels"]) == len(row["input_ids"]) > 64
        assert reference.decode(row["input_ids"], skip_special_tokens=False) == row["text"]  # the whole text, uncut
        for token_id, label, (start, end) in zip(encoding.ids, row["labels"], encoding.offsets):
            inside = any(start < b and end > a for a, b in row["spans"])
            assert label == (token_id if inside else IGNORE_INDEX)
            straddling += inside and not any(a <= start and end <= b for a, b in row["spans"])
        learned = [t for t, label in zip(row["input_ids"], row["labels"]) if label != IGNORE_INDEX]
        assert learned.count(im_end) == len(row["spans"])  # each assistant turn's end token is learned...
        assert row["input_ids"].count(im_end) > learned.count(im_end)  # ...the system/user/tool ones are not
    assert straddling == 0  # ChatML: byte-level pre-tokenization never merges across a span edge
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["tokens"]["total"] == sum(len(r["input_ids"]) for r in written)
    assert manifest["tokens"]["learned"] == sum(sum(1 for x in r["labels"] if x != IGNORE_INDEX) for r in written)
    assert manifest["tokens"]["longest"] == max(len(r["input_ids"]) for r in written)
    assert manifest["options"]["tokenizer"] == str(tokenizer_dir) and "tokens (" in result.output


def test_tokenizers_own_template_gives_the_same_rows(tokenizer_dir, bfcl_store, tmp_path):
    spec = "--datasets=BFCL/simple_python"
    built_in = prepare([spec, "--model=Qwen2.5", f"--tokenizer={tokenizer_dir}", "--out", str(tmp_path / "b")], bfcl_store)
    own = prepare([spec, f"--tokenizer={tokenizer_dir}", "--out", str(tmp_path / "o")], bfcl_store)
    assert built_in.exit_code == 0 and own.exit_code == 0, own.output
    assert rows(tmp_path / "b" / "train.jsonl") == rows(tmp_path / "o" / "train.jsonl")
    assert json.loads((tmp_path / "o" / "manifest.json").read_text())["renderer"]["kind"] == "jinja"


def test_other_formats_and_missing_tokenizer_json(tokenizer_dir, bfcl_store, tmp_path):
    spec = "--datasets=BFCL/simple_python"
    result = CliRunner().invoke(trainer, ["prepare", "--allow-eval", "--data-dir", str(bfcl_store.root), spec, "--model=Qwen2.5",
                                          f"--tokenizer={tokenizer_dir}", "--format=messages", "--out", str(tmp_path / "m")])
    assert result.exit_code == 0 and "--format text only" in result.output
    assert "input_ids" not in rows(tmp_path / "m" / "train.jsonl")[0]
    empty = tmp_path / "no-tokenizer"
    empty.mkdir()
    result = prepare([spec, "--model=Qwen2.5", f"--tokenizer={empty}", "--out", str(tmp_path / "x")], bfcl_store)
    assert result.exit_code == 2 and "has no tokenizer.json" in result.output


def test_span_edges_inside_multibyte_characters(tokenizer_dir):
    """Non-ASCII text at span edges (byte-level BPE splits such characters over several tokens)."""
    import sys
    from pathlib import Path

    from opentoollab.trainer.prepare import load_tokenizer, token_labels

    sys.path.insert(0, str(Path(__file__).parent))
    from render_cases import CASES

    tokenizer = load_tokenizer(str(tokenizer_dir))
    checked = 0
    for case in CASES.values():
        rendered = get_renderer("Qwen2.5").render(to_chat(case, tool_changes="union"))
        for spans in (rendered.spans, [[a + 1, b - 1] for a, b in rendered.spans if b - a > 2]):  # edges mid-character too
            ids, labels = token_labels(tokenizer, rendered.text, spans)
            encoding = tokenizer.encode(rendered.text, add_special_tokens=False)
            expected = [t if any(s < b and e > a for a, b in spans) else IGNORE_INDEX
                        for t, (s, e) in zip(encoding.ids, encoding.offsets)]
            assert labels == expected
            checked += 1
    assert checked == 2 * len(CASES)
