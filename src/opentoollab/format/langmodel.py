"""py3langid's model as arrays, cached uncompressed, and a batched classifier that gives py3langid's answers.

py3langid ships its model LZMA-compressed (``model.npz.xz``): decompressing it costs ~0.5 s per process,
more than converting BFCL. ``load_model`` keeps the arrays ``format.language`` needs (the byte DFA and the
naive Bayes tables restricted to its languages) as plain ``.npy`` files in the user cache folder
(``$OPENTOOLLAB_CACHE_DIR``, else ``$XDG_CACHE_HOME/opentoollab``, else ``~/.cache/opentoollab``), in a
folder named by the sha256 of py3langid's model file, py3langid's version and the languages; later
processes map them (no pickle: ``allow_pickle=False``). The folder is written under a temporary name and
renamed into place (replacing the folders of other py3langid versions); when it cannot be written the
model is used from memory.

``Model.classify`` answers as ``py3langid``'s ``LanguageIdentifier.classify`` restricted to the same
languages (tests/test_language.py compares the two on every user text of our corpora). It is written from
the model's arrays, and is faster in two ways:

- the DFA walk is done for many texts at once with numpy. py3langid's DFA recognises byte n-grams, so the
  state after a byte depends only on the last ``window`` bytes (``dfa_window`` proves this on the tables
  and finds the window, 6 for py3langid 0.4.0): every position's state is computed in ``window`` lock-step
  gathers instead of one Python step per byte. A model without such a window is classified by py3langid.
- the scores of a text are summed over its features in another order than py3langid's, so they may differ
  from py3langid's float32 sums in the last bits: a bound on that difference decides whether the best class
  is surely py3langid's too; when it is not (near-ties: none among our 5,178 corpus texts) the text is
  scored py3langid's way (``Model.exact``: its float32 expression over the features in first-seen order,
  which is also how a few texts at a time are classified), so the argmax is the same, ties included.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Sequence

import numpy as np

from .jsonl import sha256_file

CACHE_ENV = "OPENTOOLLAB_CACHE_DIR"
CACHE_LAYOUT = 3  # bump when the cached files change meaning
MAX_WINDOW = 12  # longer windows would make the lock-step walk slower than it is worth
FEW = 8  # fewer texts than this are classified one by one (``exact``): the batch set-up costs more
CHUNK_BYTES = 1 << 20  # texts are walked in batches of about this many bytes (bounded memory)
_FILES = ("nextmove", "rows", "output", "ptc", "table", "pc")


def cache_root() -> Path:
    """The user cache folder of OpenToolLab (``$OPENTOOLLAB_CACHE_DIR`` overrides it)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "opentoollab"


def dfa_window(nextmove: np.ndarray, rows: np.ndarray, limit: int = MAX_WINDOW) -> int:
    """The smallest ``w >= 2`` such that the DFA's state after any text equals its state after the text's
    last ``w`` bytes read from state 0; 0 when there is none up to ``limit``.

    Follows the pairs (state after ``u``, state after ``u`` without its first byte) over every string ``u``
    of length k = 1, 2, …: once all pairs at length k have the same transition row, reading any byte puts
    both in the same state, so dropping the first of k + 1 bytes never changes the state: ``w = k``.
    Pairs that already share a row are dropped (they stay together)."""
    nextmove = nextmove.reshape(-1, 256)
    count = len(rows)
    first = nextmove[rows[0]].astype(np.int64)
    p, q = first, np.zeros_like(first)
    for k in range(1, limit + 1):
        apart = rows[p] != rows[q]
        if not apart.any():
            return max(k, 2)  # a window is never too long; two lets the walk read byte pairs
        p, q = p[apart], q[apart]
        keys = np.unique(nextmove[rows[p]].astype(np.int64).ravel() * count + nextmove[rows[q]].ravel())
        p, q = keys // count, keys % count
    return 0


class Model:
    """The arrays of py3langid's model restricted to some languages (see the module docstring)."""

    def __init__(self, classes: list[str], ptc: np.ndarray, table: np.ndarray, pc: np.ndarray,
                 nextmove: np.ndarray, rows: np.ndarray, output: np.ndarray, window: int, largest: float) -> None:
        self.classes, self.window, self.largest = classes, window, largest
        self.table = np.asarray(table)  # ptc as float32 (exact): BLAS sums without a cast per text
        self.ptc, self.pc = np.asarray(ptc), np.asarray(pc)  # plain arrays over the mapped files: faster indexing
        self.nextmove, self.output = np.asarray(nextmove), np.asarray(output)
        self.rowbase = rows.astype(np.int64) << 8  # state → offset of its row in nextmove
        first: dict[str, int] = {}
        self.aliases = []  # (first column, later column) of a label the model holds twice
        for index, label in enumerate(classes):
            if label in first:
                self.aliases.append((first[label], index))
            first.setdefault(label, index)
        self.floor = float(np.finfo(np.float32).min)
        pair = np.arange(1 << 16)  # the state after two bytes read from state 0, by (first << 8 | second)
        self.pairs = nextmove[self.rowbase[nextmove[self.rowbase[0] + (pair >> 8)]] + (pair & 255)]

    @staticmethod
    def encode(text: str) -> bytes:
        """The bytes py3langid walks for a text: lower-cased when all upper case, NFC, UTF-8."""
        if text.isupper():
            text = text.lower()
        return unicodedata.normalize("NFC", text).encode("utf8", errors="surrogatepass")

    def classify(self, texts: Sequence[str]) -> list[str]:
        """The language code of each text (py3langid's ``classify(text)[0]``)."""
        encoded = [self.encode(text) for text in texts]
        if len(encoded) < FEW:
            return [self.exact(data) for data in encoded]
        out: list[str] = []
        start = size = 0
        for end, data in enumerate(encoded, 1):
            size += len(data)
            if size >= CHUNK_BYTES or end == len(encoded):
                out.extend(self._classify_bytes(encoded[start:end]))
                start, size = end, 0
        return out

    def _states(self, data: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """The DFA state after each byte of the texts laid end to end (``starts``, ``lengths``: the texts)."""
        window, size = self.window, len(data)
        padded = np.concatenate([np.zeros(window - 1, np.uint8), data])
        # every position reads the window - 1 bytes before it, the earliest first (two at once: ``pairs``)
        state = self.pairs[(padded[:size].astype(np.intp) << 8) | padded[1:size + 1]]
        for step in range(2, window):
            state = self.nextmove[self.rowbase[state] + padded[step:step + size]]
        # the first window - 1 bytes of a text have fewer bytes before them: walked from state 0 instead
        head = np.zeros(len(starts), np.intp)
        for step in range(min(window - 1, int(lengths.max(initial=0)))):
            live = lengths > step
            where = starts[live] + step
            head[live] = self.nextmove[self.rowbase[head[live]] + data[where]]
            state[where] = head[live]
        return state

    def states(self, data: bytes) -> np.ndarray:
        """The DFA state after each byte of one text (what py3langid's walk passes through)."""
        window, size = self.window, len(data)
        padded = np.frombuffer(bytes(window - 1) + data, np.uint8)
        state = self.pairs[(padded[:size].astype(np.intp) << 8) | padded[1:size + 1]]
        for step in range(2, window):
            state = self.nextmove[self.rowbase[state] + padded[step:step + size]]
        head = 0
        for position, byte in enumerate(data[:window - 1]):  # fewer bytes before them: walked from state 0
            head = state[position] = self.nextmove[self.rowbase[head] + byte]
        return state

    def exact(self, data: bytes) -> str:
        """py3langid's decision for one encoded text, its way: float32 sums over the features in the order
        first seen, aliased labels folded, the first best class."""
        found = self.output[self.states(data)]
        seen = Counter(found[found >= 0].tolist())
        if not seen:  # no feature: every class scores the floor, the first wins
            return self.classes[0]
        counts = np.fromiter(seen.values(), np.float32, len(seen))
        scores = np.log1p(counts) @ self.ptc[np.fromiter(seen.keys(), np.intp, len(seen))] + self.pc
        for i, j in self.aliases:
            scores[i] = max(scores[i], scores[j])
            scores[j] = self.floor
        return self.classes[int(scores.argmax())]

    def _classify_bytes(self, encoded: list[bytes]) -> list[str]:
        count = len(encoded)
        lengths = np.fromiter(map(len, encoded), np.intp, count)
        data = np.frombuffer(b"".join(encoded), np.uint8)
        starts = np.cumsum(lengths) - lengths
        features = self.output[self._states(data, starts, lengths)]
        owner = np.repeat(np.arange(count, dtype=np.intp), lengths)
        hit = features >= 0
        if not hit.any():
            return [self.classes[0]] * count  # no feature anywhere: every class scores the floor, the first wins
        # Each text's (feature, count) pairs, then its scores summed in float32 by BLAS in feature order, not
        # in py3langid's first-seen order: each sum is then within (k + 4) * 2**-23 * (sum of |terms| +
        # |score|) of py3langid's for k features. Where the best class wins by more than twice a larger
        # bound, py3langid picks it too; the rest (near-ties, aliased labels) are decided its way (``exact``).
        keys = np.sort(owner[hit] * len(self.ptc) + features[hit])
        first = np.flatnonzero(np.concatenate([[True], keys[1:] != keys[:-1]]))
        weights = np.log1p(np.diff(np.append(first, len(keys))).astype(np.float32))
        texts, feature = np.divmod(keys[first], len(self.ptc))
        bounds = np.searchsorted(texts, np.arange(count + 1)).tolist()
        scored = [text for text in range(count) if bounds[text] < bounds[text + 1]]
        sums = np.empty((len(scored), len(self.classes)), np.float32)
        for row, text in enumerate(scored):
            a, b = bounds[text], bounds[text + 1]
            sums[row] = weights[a:b] @ self.table[feature[a:b]]
        sums += self.pc
        starts_ = np.array([bounds[text] for text in scored], np.intp)
        sizes = np.array([bounds[text + 1] for text in scored], np.intp) - starts_
        terms = np.add.reduceat(weights.astype(np.float64), starts_) * self.largest if scored else np.zeros(0)
        slack = (sizes + 16) * 2.0 ** -23 * (terms + np.abs(sums).max(axis=1)) * 1.01
        ranked = np.sort(sums, axis=1).astype(np.float64)
        sure = (ranked[:, -1] - ranked[:, -2] > 2 * slack) & (not self.aliases)
        labels: list[str | None] = [self.classes[0]] * count  # no feature: every class scores the floor
        for text, decided, label in zip(scored, sure.tolist(), sums.argmax(axis=1).tolist()):
            labels[text] = self.classes[label] if decided else None
        return [label if label is not None else self.exact(data) for label, data in zip(labels, encoded)]


def _source() -> tuple[Path, str]:
    import py3langid
    from py3langid.langid import MODEL_DIR, MODEL_FILE

    return Path(MODEL_DIR) / MODEL_FILE, str(getattr(py3langid, "__version__", "?"))


def _build(path: Path, languages: Sequence[str]) -> tuple[dict[str, np.ndarray], dict]:
    """The arrays to cache, from py3langid's compressed model."""
    from py3langid.modelio import load_model as load_compressed

    ptc, pc, classes, nextmove, rows, output = load_compressed(path)
    keep = [i for i, label in enumerate(classes) if label in set(languages)]  # py3langid's set_languages
    arrays = {
        "nextmove": np.frombuffer(nextmove, dtype=np.dtype(f"u{nextmove.itemsize}")),
        "rows": np.frombuffer(rows, dtype=np.dtype(f"u{rows.itemsize}")),
        "output": np.asarray(output, dtype=np.int32),
        "ptc": np.ascontiguousarray(np.asarray(ptc)[:, keep]),
        "pc": np.ascontiguousarray(np.asarray(pc)[keep]),
    }
    arrays["table"] = arrays["ptc"].astype(np.float32)
    meta = {"classes": [classes[i] for i in keep], "window": dfa_window(arrays["nextmove"], arrays["rows"]),
            "largest": float(np.abs(arrays["table"]).max(initial=0.0))}
    return arrays, meta


def _model(arrays: dict[str, np.ndarray], meta: dict) -> Model:
    return Model(meta["classes"], arrays["ptc"], arrays["table"], arrays["pc"], arrays["nextmove"],
                 arrays["rows"], arrays["output"], meta["window"], meta["largest"])


def _read(folder: Path) -> Model | None:
    try:
        meta = json.loads((folder / "meta.json").read_text("utf-8"))
        arrays = {name: np.load(folder / f"{name}.npy", mmap_mode="r", allow_pickle=False) for name in _FILES}
        ok = (arrays["ptc"].shape[1] == len(meta["classes"]) and arrays["table"].shape == arrays["ptc"].shape and int(arrays["output"].max()) < len(arrays["ptc"]) and
              len(arrays["rows"]) == len(arrays["output"]) and len(arrays["nextmove"]) % 256 == 0 and
              int(arrays["rows"].max()) < len(arrays["nextmove"]) // 256 and isinstance(meta["window"], int))
        return _model(arrays, meta) if ok else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write(folder: Path, arrays: dict[str, np.ndarray], meta: dict) -> None:
    """The cache folder, complete or not at all (written aside, then renamed; another process may win)."""
    temp = folder.parent / f".{folder.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp"
    try:
        temp.mkdir(parents=True)
        for name, array in arrays.items():
            np.save(temp / f"{name}.npy", array, allow_pickle=False)
        (temp / "meta.json").write_text(json.dumps(meta), "utf-8")
        shutil.rmtree(folder, ignore_errors=True)  # only reached when the folder was unreadable or absent
        os.rename(temp, folder)
    except OSError:
        return
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    for stale in folder.parent.glob("langid-*"):  # models of other py3langid versions: ~60 MB each
        if stale != folder:
            shutil.rmtree(stale, ignore_errors=True)


def load_model(languages: Sequence[str]) -> Model | None:
    """py3langid's model restricted to ``languages``, from the cache when it holds it (written when not);
    None when the DFA has no window (then classify with py3langid itself)."""
    path, version = _source()
    digest = sha256_file(path)
    key = hashlib.sha256(json.dumps([CACHE_LAYOUT, digest, version, list(languages)]).encode()).hexdigest()[:24]
    folder = cache_root() / f"langid-{key}"
    model = _read(folder)
    if model is None:
        arrays, meta = _build(path, languages)
        meta.update(py3langid=version, model_sha256=digest, languages=list(languages))
        _write(folder, arrays, meta)
        model = _model(arrays, meta)
    return model if model.window else None
