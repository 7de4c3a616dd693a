"""Token ids and loss labels of rendered rows: batch encoding on every core, labels from the spans in one pass.

``encode_rows`` hands a batch of texts to ``tokenizers``' ``encode_batch`` (Rust, one thread per core,
offsets included), then labels each encoding from its character spans: a token is learned
(label = its id) when its character offsets overlap a span, so a token straddling a span edge is
learned (the model has to produce it to produce the span); every other label is ``IGNORE_INDEX``.
The ids are exactly those of encoding each text alone (``token_labels``), batch or not.
"""

from __future__ import annotations

import json
import os
import re
from bisect import bisect_right
from typing import Any, Sequence

IGNORE_INDEX = -100  # what PyTorch's cross-entropy (and every trainer) skips
Spans = Sequence[Sequence[int]]


def token_range(encoding: Any, start: int, end: int) -> tuple[int, int]:
    """Indices ``[first, last)`` of the tokens whose offsets overlap ``[start, end)``.

    Asks the encoding for the tokens at the span's first and last characters, then widens over
    neighbours that also overlap (byte-level BPE splits one character over several tokens), instead
    of turning every offset into a Python tuple (that doubled the cost of tokenizing).
    """
    first, last = encoding.char_to_token(start), encoding.char_to_token(end - 1)
    if first is None or last is None:  # a character no token covers (a normalizer dropped it): scan all
        inside = [i for i, (s, e) in enumerate(encoding.offsets) if s < end and e > start]
        return (inside[0], inside[-1] + 1) if inside else (0, 0)
    while first > 0 and (chars := encoding.token_to_chars(first - 1)) is not None and chars[1] > start:
        first -= 1
    last += 1
    while last < len(encoding) and (chars := encoding.token_to_chars(last)) is not None and chars[0] < end:
        last += 1
    return first, last


def labels_of(encoding: Any, spans: Spans) -> tuple[list[int], list[int]]:
    """(ids, labels) of one encoding: ids inside the spans, ``IGNORE_INDEX`` elsewhere."""
    ids = encoding.ids
    labels = [IGNORE_INDEX] * len(ids)
    for start, end in spans:
        first, last = token_range(encoding, start, end)
        labels[first:last] = ids[first:last]
    return ids, labels


def token_labels(tokenizer: Any, text: str, spans: Spans) -> tuple[list[int], list[int]]:
    """One text: tokenize it whole (special tokens in it are matched; none added) and label it."""
    return labels_of(tokenizer.encode(text, add_special_tokens=False), spans)


def encode_rows(tokenizer: Any, texts: list[str], spans: list[Spans]) -> list[tuple[list[int], list[int]]]:
    """(ids, labels) for each text, encoded as one batch across the cores ``tokenizers`` may use."""
    if len(texts) == 1:
        return [token_labels(tokenizer, texts[0], spans[0])]
    encodings = tokenizer.encode_batch(texts, add_special_tokens=False)
    return [labels_of(encoding, row_spans) for encoding, row_spans in zip(encodings, spans)]


class RowEncoder:
    """``encode_rows`` that encodes each distinct piece of text once: rendered rows repeat whole messages
    (BFCL: a third of the characters are distinct, the rest are the same tool lists and system prompts).

    A piece runs from one added token (``<|im_start|>``…) to the next. ``tokenizers`` always splits the
    text at added tokens before normalizing, pre-tokenizing and applying the model to each part on its
    own, so the ids of a text are the ids of its pieces, one after the other — exactly. This holds when
    no added token strips the whitespace beside it or matches only whole words or normalized text, and
    the tokenizer does not encode special tokens as text; for any other tokenizer, and when the first
    batch of a run does not come out identical both ways (checked), every text is encoded whole.
    For the byte-level BPE tokenizers whose pre-tokenization ``lines_encode_alone`` knows (GPT-2's, and
    the split rules of Qwen2 to Qwen3 and of Llama 3), long pieces are cut further into lines: the same
    tool definition or instruction line then hits the cache inside different tool lists (BFCL: a third
    fewer characters to encode).
    The cache is emptied when it holds ``max_tokens`` tokens (an encoding keeps ~110 bytes per token: ~300 MB).
    """

    def __init__(self, tokenizer: Any, max_tokens: int = 2_500_000) -> None:
        self.tokenizer = tokenizer
        self.max_tokens = max_tokens
        self._cache: dict[str, Any] = {}
        self._cached_tokens = 0
        self._split = _piece_pattern(tokenizer)
        self._lines = self._split is not None and lines_encode_alone(tokenizer)
        self._checked = self._split is None

    def encode(self, texts: list[str], spans: list[Spans]) -> list[tuple[list[int], list[int]]]:
        if self._split is None:
            return encode_rows(self.tokenizer, texts, spans)
        pieces = [self._pieces(text) for text in texts]
        new = list(dict.fromkeys(piece for row in pieces for piece in row if piece not in self._cache))
        if self._cached_tokens > self.max_tokens:
            self._cache.clear()
            self._cached_tokens = 0
            new = list(dict.fromkeys(piece for row in pieces for piece in row))
        for piece, encoding in zip(new, self.tokenizer.encode_batch(new, add_special_tokens=False) if new else ()):
            self._cache[piece] = (encoding, encoding.ids)  # the ids as a list once: each read of .ids copies them
            self._cached_tokens += len(encoding)
        out = []
        for text, row, row_spans in zip(texts, pieces, spans):
            found = self._labels(row, row_spans)
            out.append(found if found is not None else token_labels(self.tokenizer, text, row_spans))
        if not self._checked:  # the first batch: pieces against whole texts, or whole texts from now on
            self._checked = True
            whole = encode_rows(self.tokenizer, texts[:32], spans[:32])
            if whole != out[:32]:
                self._split, self._cache = None, {}
                return encode_rows(self.tokenizer, texts, spans)
        return out

    def _pieces(self, text: str) -> list[str]:
        """The text cut before each added token (``split`` with the token captured: a lookahead split scanned
        every position and cost ~8x more)."""
        parts = self._split.split(text)
        pieces = [parts[0]] if parts[0] else []
        pieces.extend(parts[i] + parts[i + 1] for i in range(1, len(parts), 2))
        if self._lines:  # (the length test here too: most pieces are short, and a call per piece cost ~5%)
            return [line for piece in pieces
                    for line in (cut_lines(piece) if len(piece) >= LINE_PIECE_MIN else (piece,))]
        return pieces

    def _labels(self, row: list[str], spans: Spans) -> tuple[list[int], list[int]] | None:
        ids: list[int] = []
        starts: list[int] = []  # character offset of each piece
        bases: list[int] = []  # index of its first token
        position = 0
        encodings = []
        for piece in row:
            encoding, piece_ids = self._cache[piece]
            encodings.append(encoding)
            starts.append(position)
            bases.append(len(ids))
            ids.extend(piece_ids)
            position += len(piece)
        labels = [IGNORE_INDEX] * len(ids)
        for start, end in spans:
            if end <= start:
                continue
            a, b = bisect_right(starts, start) - 1, bisect_right(starts, end - 1) - 1
            first = _edge(encodings[a], start - starts[a], first=True)
            last = _edge(encodings[b], end - 1 - starts[b], first=False)
            if first is None or last is None:
                return None  # a character no token covers: the whole text decides
            labels[bases[a] + first:bases[b] + last] = ids[bases[a] + first:bases[b] + last]
        return ids, labels


def _edge(encoding: Any, char: int, *, first: bool) -> int | None:
    """The first token overlapping a span that starts at ``char`` (``first``), or one past the last token of
    a span ending at ``char`` (inclusive); widened like ``token_range`` over tokens sharing the character."""
    index = encoding.char_to_token(char)
    if index is None:
        return None
    if first:
        while index > 0 and (chars := encoding.token_to_chars(index - 1)) is not None and chars[1] > char:
            index -= 1
        return index
    index += 1
    while index < len(encoding) and (chars := encoding.token_to_chars(index)) is not None and chars[0] <= char:
        index += 1
    return index


def _piece_pattern(tokenizer: Any) -> "re.Pattern[str] | None":
    """Where texts may be cut into independently encoded pieces (before each added token), or None."""
    if getattr(tokenizer, "encode_special_tokens", False):
        return None
    try:
        added = list(tokenizer.get_added_tokens_decoder().values())
    except AttributeError:
        return None
    if not added or any(t.lstrip or t.rstrip or t.single_word or t.normalized for t in added):
        return None
    contents = sorted({t.content for t in added if t.content}, key=len, reverse=True)
    if any(short in long for i, long in enumerate(contents) for short in contents[i + 1:]):
        return None  # one added token inside another: cutting before the inner one could split the outer
    return re.compile("(" + "|".join(map(re.escape, contents)) + ")")


# --- lines encoded on their own ------------------------------------------------------------------------
# A byte-level BPE tokenizer merges bytes only inside one pre-token (a match of its split regex), after a
# normalizer that works character by character (none, or NFC: "\n" and ASCII compose with nothing).
# For the regexes below, a line end between two printable ASCII characters is always a pre-token boundary
# that no match sees past: no alternative matches "\n" followed by a non-space character (the punctuation
# run's ``[\r\n]*`` and ``\s*[\r\n]+`` end at the line end, the letter run's optional first character
# excludes "\r\n"), the line end is a pre-token of its own or ends the punctuation run before it in
# the text and in the line alone, and the only lookahead, ``\s+(?!\S)``, needs whitespace before the
# line end to matter (GPT-2's ``"x  \n{"``: ``"  \n"`` alone but ``"  ", "\n"`` in the text: not cut, as
# the character before the line end is a space). So encoding the text, or its lines one after the other,
# gives the same ids. Other tokenizers (SentencePiece's Metaspace, o200k's ``[\r\n/]*``, unknown
# regexes) keep whole pieces.
LINE_SAFE_SPLITS = frozenset({
    # Qwen2, Qwen2.5, Qwen3 (tokenizer.json as shipped)
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
    # Llama 3 to 3.3, GLM-4, Mistral's Tekken (digits by threes)
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+"
    r"|\s+(?!\S)|\s+",
})
LINE_PIECE_MIN = 256  # shorter pieces stay whole: looking up their lines costs more than encoding them


def lines_encode_alone(tokenizer: Any) -> bool:
    """Whether ``tokenizer`` gives any text the ids of its lines (``cut_lines``) encoded one after the other."""
    try:
        normalizer = tokenizer.normalizer
        pre = json.loads(tokenizer.pre_tokenizer.__getstate__())
        dropout = tokenizer.model.dropout
    except (AttributeError, TypeError, ValueError):
        return False
    if type(tokenizer.model).__name__ != "BPE" or dropout:
        return False
    if normalizer is not None and json.loads(normalizer.__getstate__()).get("type") != "NFC":
        return False
    if pre.get("type") == "ByteLevel":  # GPT-2's regex inside ByteLevel
        return pre.get("use_regex") is True and pre.get("add_prefix_space") is False
    steps = pre.get("pretokenizers") if pre.get("type") == "Sequence" else None
    if not steps or len(steps) != 2:
        return False
    split, byte_level = steps
    return (split.get("type") == "Split" and split.get("behavior") == "Isolated" and split.get("invert") is False
            and (split.get("pattern") or {}).get("Regex") in LINE_SAFE_SPLITS
            and byte_level.get("type") == "ByteLevel" and byte_level.get("use_regex") is False
            and byte_level.get("add_prefix_space") is False)


def cut_lines(piece: str) -> list[str]:
    """A piece cut after each line end that has a printable ASCII character on both sides (each line keeps its
    ``\n``); pieces under ``LINE_PIECE_MIN`` characters stay whole. Linear in the number of line ends."""
    if len(piece) < LINE_PIECE_MIN:
        return [piece]
    lines = []
    start, last = 0, len(piece) - 1
    at = piece.find("\n", 1)
    while 0 < at < last:
        if "!" <= piece[at - 1] <= "~" and "!" <= piece[at + 1] <= "~":
            lines.append(piece[start:at + 1])
            start = at + 1
        at = piece.find("\n", at + 2)
    lines.append(piece[start:])
    return lines


def set_threads(workers: int | None) -> None:
    """Cap the threads ``tokenizers`` encodes batches on (its Rayon pool reads ``RAYON_NUM_THREADS`` once,
    when it first starts: call this before the first batch). None keeps its default: every core."""
    if workers:
        os.environ["RAYON_NUM_THREADS"] = str(workers)
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")
