"""trainer/tokenize.py: batch encoding of repeated pieces gives exactly the ids and labels of encoding each text whole."""

from __future__ import annotations

import pytest

from opentoollab.trainer.render import get_renderer, to_chat
from opentoollab.trainer.tokenize import RowEncoder, encode_rows, token_labels

tokenizers = pytest.importorskip("tokenizers")
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


@pytest.fixture(scope="module")
def rows(bfcl_samples):
    renderer = get_renderer("Qwen2.5")
    out = []
    for samples in bfcl_samples.values():
        for sample in samples[::9]:
            try:
                rendered = renderer.render(to_chat(sample, tool_changes="union"))
            except Exception:
                continue
            out.append((rendered.text, [list(span) for span in rendered.spans]))
    return out


def _bpe(texts, **added):
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=800, special_tokens=SPECIALS, show_progress=False,
                                                             initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    if added:
        tokenizer.add_special_tokens([AddedToken("<|im_start|>", **added)])
    return tokenizer


def _metaspace(texts):
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.Unigram())
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(prepend_scheme="first")
    tokenizer.train_from_iterator(texts, trainers.UnigramTrainer(vocab_size=600, special_tokens=[*SPECIALS, "<unk>"],
                                                                 unk_token="<unk>", show_progress=False))
    return tokenizer


@pytest.mark.parametrize("kind", ["bpe", "bpe_lstrip", "metaspace"])
def test_row_encoder_gives_the_ids_and_labels_of_each_text_encoded_whole(rows, kind):
    texts = [text for text, _ in rows]
    tokenizer = {"bpe": lambda: _bpe(texts[::4]), "bpe_lstrip": lambda: _bpe(texts[::4], lstrip=True, rstrip=True),
                 "metaspace": lambda: _metaspace(texts[::2])}[kind]()
    expected = [token_labels(tokenizer, text, spans) for text, spans in rows]
    encoder = RowEncoder(tokenizer, max_tokens=50_000)  # small: the cache is emptied several times on the way
    got = []
    for start in range(0, len(rows), 40):
        batch = rows[start:start + 40]
        got += encoder.encode([t for t, _ in batch], [s for _, s in batch])
    assert got == expected
    assert encode_rows(tokenizer, texts[:20], [s for _, s in rows[:20]]) == expected[:20]
    assert any(label != -100 for _ids, labels in got for label in labels)
    if kind == "bpe":
        assert encoder._split is not None and len(encoder._cache) > 0  # the piece cache was used, not bypassed
    if kind == "bpe_lstrip":
        assert encoder._split is None  # an added token that eats whitespace: texts are encoded whole
