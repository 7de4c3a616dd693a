"""The language of a sample: one detector for conversion (``meta.language``) and for ``tag``.

``detect_language(text)`` is py3langid (a maintained fork of langid.py: a naive Bayes model over byte
n-grams, shipped inside the wheel, no download) restricted to ``LANGUAGES``, the languages tool-use corpora
are written in: the restriction keeps short requests ("play baby shark", "help me") out of languages nobody
writes prompts in. On our labelled sample (``bench/bench_language.py``) it is right on 97% of user texts,
against 75% for the script-and-function-word rules it replaced, which missed Indonesian, Vietnamese and
Polish and gave up on short English requests.

The answers are py3langid's, computed faster by ``format.langmodel`` from the same model: loaded from an
uncompressed copy in the user cache (~15 ms instead of ~0.5 s of LZMA per process) and walked for many texts
at once. ``detect_languages(texts)`` classifies a batch (conversion sends 256 records' user texts at a
time: ~15 µs a text, against ~150 µs for py3langid); ``detect_language`` is one text (~45 µs).

``sample_language(sample)`` detects on the user turns only: system prompts and tool output are mostly
English boilerplate whatever language the user writes. ``with_language(sample, keep)`` is the conversion
step: the detected language replaces what the adapter wrote in ``meta.language`` unless ``keep`` (the
adapter knows the language from the corpus's own labelling, e.g. ACEBench's ``data_zh``); when detection
finds nothing (no user text, no letters) the adapter's value stays.
May import: nothing of opentoollab but ``format``.
"""

from __future__ import annotations

import functools
from typing import Any, Iterable, Mapping, Sequence

from .sample import Sample

UNDETERMINED = "und"
LANGUAGES = (
    "en", "zh", "ja", "ko", "es", "fr", "de", "pt", "it", "nl", "ru", "uk", "pl", "cs", "tr", "ar", "fa", "he",
    "hi", "bn", "th", "vi", "id", "ms", "sv", "da", "no", "fi", "ro", "hu", "el",
)
MAX_CHARS = 2000  # the opening of a long text decides as well as all of it, at bounded cost


@functools.lru_cache(maxsize=1)
def _model():
    """The classifier: py3langid's model arrays from the user cache (``format.langmodel``), or py3langid."""
    from .langmodel import load_model

    return load_model(LANGUAGES) or Py3langid()


class Py3langid:
    """py3langid itself restricted to ``LANGUAGES``: used when its model's DFA has no bounded window, and
    the reference the tests and ``bench/bench_language.py`` compare ``detect_language`` with."""

    def __init__(self) -> None:
        from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

        self.identifier = LanguageIdentifier.from_modelpath(MODEL_DIR / MODEL_FILE)
        self.identifier.set_languages(list(LANGUAGES))

    def classify(self, texts: Sequence[str]) -> list[str]:
        return [str(self.identifier.classify(text)[0]) for text in texts]

    def detect(self, text: str) -> str:
        """``detect_language`` computed by py3langid."""
        text = text[:MAX_CHARS]
        return self.classify([text])[0] if any(ch.isalpha() for ch in text) else UNDETERMINED


def preload() -> None:
    """Load the classifier now: worker processes forked afterwards share it (numpy and the model's mapped
    arrays) instead of each importing and loading them (~50 ms per worker on the 8 BFCL categories)."""
    _model()


def detect_languages(texts: Iterable[str]) -> list[str]:
    """``detect_language`` of each text, classified together (much faster per text than one by one)."""
    texts = [text[:MAX_CHARS] for text in texts]
    found = [i for i, text in enumerate(texts) if any(ch.isalpha() for ch in text)]
    languages = [UNDETERMINED] * len(texts)
    if found:
        for index, language in zip(found, _model().classify([texts[i] for i in found])):
            languages[index] = language
    return languages


def detect_language(text: str) -> str:
    """ISO 639-1 code of the text's language (one of ``LANGUAGES``), ``und`` when it has no letters."""
    return detect_languages([text])[0]


def user_text(sample: Sample) -> str:
    """The user turns of a sample, one per line (string contents only)."""
    return "\n".join(m["content"] for m in sample if m.get("role") == "user" and isinstance(m.get("content"), str))


def sample_language(sample: Sample) -> str:
    """Language detected on the sample's user turns (``und`` without user text)."""
    return detect_language(user_text(sample))


def with_language(sample: Sample, keep: bool = False, known: Mapping[str, str] | None = None) -> Sample:
    """The sample with ``meta.language`` set from detection (see the module docstring for the rule).

    Returns the same list when nothing changes; otherwise a new list with a new meta object (the input
    is not modified). A sample without a meta message is returned as it is. ``known`` maps user texts
    to their language when they were detected beforehand, in a batch (``detect_languages``).
    """
    for index, message in enumerate(sample):
        if message.get("role") != "meta" or not isinstance(message.get("content"), dict):
            continue
        meta: dict[str, Any] = message["content"]
        if keep and meta.get("language"):
            return sample
        text = user_text(sample)
        detected = known[text] if known is not None and text in known else detect_language(text)
        if detected == UNDETERMINED or detected == meta.get("language"):
            return sample
        changed = list(sample)
        changed[index] = {**message, "content": {**meta, "language": detected}}
        return changed
    return sample
