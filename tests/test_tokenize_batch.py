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


# --- lines encoded on their own (lines_encode_alone, cut_lines) -------------------------------------------
QWEN2_SPLIT = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
LLAMA3_SPLIT = QWEN2_SPLIT.replace(r"\p{N}|", r"\p{N}{1,3}|")
O200K_LIKE = QWEN2_SPLIT.replace(r"[\r\n]*|", r"[\r\n/]*|")  # the punctuation run goes on past a line end into '/'


def _pre_tokenizer(kind):
    from tokenizers import Regex, pre_tokenizers

    if kind == "gpt2":
        return pre_tokenizers.ByteLevel(add_prefix_space=False)
    pattern = {"qwen2": QWEN2_SPLIT, "llama3": LLAMA3_SPLIT, "o200k_like": O200K_LIKE}[kind]
    return pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(pattern), behavior="isolated", invert=False),
                                    pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])


def _split_bpe(texts, kind):
    from tokenizers import normalizers

    tokenizer = _bpe(texts)  # trained with GPT-2's ByteLevel: the vocabulary serves every split rule
    tokenizer.pre_tokenizer = _pre_tokenizer(kind)
    if kind == "qwen2":
        tokenizer.normalizer = normalizers.NFC()
    return tokenizer


TRICKY = ["x  \n{a}", "}\n/b", "a\n'll", "\t\n{", "é\n\u0301x", "a\r\n{", "1\n2", "[\n]", "a\n\nb", "a \n b",
          ":\n  c", "}\n{\"k\": 1}", "ab\n's", "a\n\u00a0b", "x\n\x1cy", "q\n\u2028r"]


def _tricky_texts():
    import random

    rng = random.Random(7)
    alphabet = ["a", "Z", " ", "  ", "\n", "\n\n", "{", "}", "/", "'", "s", "ll", "1", "23", "\t", "\r", "é", "\u0301",
                "\u00a0", ":", '"', "[", "]"]
    texts = [("filler line\n" * 30) + case + "\nend" for case in TRICKY]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(260, 600))) for _ in range(600)]
    return texts


@pytest.mark.parametrize("kind", ["gpt2", "qwen2", "llama3"])
def test_lines_cut_where_the_pre_tokenizer_splits_the_text_anyway(kind):
    """Every cut ``cut_lines`` makes is a pre-token boundary of the whole text with the same pre-tokens on both
    sides, on text built to catch the regexes' lookahead and line-end rules; a cut at every line end is not."""
    from opentoollab.trainer.tokenize import cut_lines

    pre = _pre_tokenizer(kind)

    def words(text):
        return [word for word, _ in pre.pre_tokenize_str(text)]

    naive_breaks = 0
    for text in _tricky_texts():
        lines = cut_lines(text)
        assert "".join(lines) == text
        assert [w for line in lines for w in words(line)] == words(text), repr(text)
        naive = [w for i, line in enumerate(text.split("\n")) for w in words(line + "\n" * (i < text.count("\n")))]
        naive_breaks += naive != words(text)
    assert naive_breaks > 0  # the rule matters: cutting at every line end changes the pre-tokens


@pytest.mark.parametrize("kind", ["gpt2", "qwen2", "llama3", "o200k_like"])
def test_row_encoder_cuts_lines_only_for_tokenizers_it_knows_and_gives_the_whole_texts_ids(rows, kind):
    texts = [text for text, _ in rows]
    tokenizer = _split_bpe(texts[::4], kind)
    tricky = [(text, [[len(text) // 3, len(text) // 2]]) for text in _tricky_texts()[:80]]
    cases = rows + tricky
    encoder = RowEncoder(tokenizer, max_tokens=50_000)
    assert encoder._lines == (kind != "o200k_like")
    got = []
    for start in range(0, len(cases), 40):
        batch = cases[start:start + 40]
        got += encoder.encode([t for t, _ in batch], [s for _, s in batch])
    assert got == [token_labels(tokenizer, text, spans) for text, spans in cases]
    assert encoder._split is not None  # not fallen back to whole texts after the first batch
    if encoder._lines:  # tool lists were cut into lines: more, shorter pieces than at added tokens alone
        assert max(map(len, encoder._cache)) < max(len(p) for t in texts for p in encoder._split.split(t))


def test_lines_are_not_cut_for_a_normalizer_or_prefix_space_that_looks_across_them(rows):
    from tokenizers import normalizers, pre_tokenizers

    from opentoollab.trainer.tokenize import lines_encode_alone

    tokenizer = _split_bpe([text for text, _ in rows[::4]], "qwen2")
    assert lines_encode_alone(tokenizer)
    tokenizer.normalizer = normalizers.Sequence([normalizers.NFC(), normalizers.Strip()])
    assert not lines_encode_alone(tokenizer)
    tokenizer.normalizer = None
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    assert not lines_encode_alone(tokenizer)
