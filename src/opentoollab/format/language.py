"""The language of a sample: one detector for conversion (``meta.language``) and for ``tag``.

``detect_language(text)`` is py3langid (a maintained fork of langid.py: a naive Bayes model over byte
n-grams, shipped inside the wheel, no download) restricted to ``LANGUAGES``, the languages tool-use corpora
are written in: the restriction keeps short requests ("play baby shark", "help me") out of languages nobody
writes prompts in. On our labelled sample (``bench/bench_language.py``) it is right on 97% of user texts,
against 75% for the script-and-function-word rules it replaced, which missed Indonesian, Vietnamese and
Polish and gave up on short English requests.

``sample_language(sample)`` detects on the user turns only: system prompts and tool output are mostly
English boilerplate whatever language the user writes. ``with_language(sample, keep)`` is the conversion
step: the detected language replaces what the adapter wrote in ``meta.language`` unless ``keep`` (the
adapter knows the language from the corpus's own labelling, e.g. ACEBench's ``data_zh``); when detection
finds nothing (no user text, no letters) the adapter's value stays.
May import: nothing of opentoollab but ``format``.
"""

from __future__ import annotations

import functools
from typing import Any

from .sample import Sample

UNDETERMINED = "und"
LANGUAGES = (
    "en", "zh", "ja", "ko", "es", "fr", "de", "pt", "it", "nl", "ru", "uk", "pl", "cs", "tr", "ar", "fa", "he",
    "hi", "bn", "th", "vi", "id", "ms", "sv", "da", "no", "fi", "ro", "hu", "el",
)
MAX_CHARS = 2000  # the opening of a long text decides as well as all of it, at bounded cost


@functools.lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_modelpath(MODEL_DIR / MODEL_FILE)
    identifier.set_languages(list(LANGUAGES))
    return identifier


def detect_language(text: str) -> str:
    """ISO 639-1 code of the text's language (one of ``LANGUAGES``), ``und`` when it has no letters."""
    text = text[:MAX_CHARS]
    if not any(ch.isalpha() for ch in text):
        return UNDETERMINED
    return str(_identifier().classify(text)[0])


def user_text(sample: Sample) -> str:
    """The user turns of a sample, one per line (string contents only)."""
    return "\n".join(m["content"] for m in sample if m.get("role") == "user" and isinstance(m.get("content"), str))


def sample_language(sample: Sample) -> str:
    """Language detected on the sample's user turns (``und`` without user text)."""
    return detect_language(user_text(sample))


def with_language(sample: Sample, keep: bool = False) -> Sample:
    """The sample with ``meta.language`` set from detection (see the module docstring for the rule).

    Returns the same list when nothing changes; otherwise a new list with a new meta object (the input
    is not modified). A sample without a meta message is returned as it is.
    """
    for index, message in enumerate(sample):
        if message.get("role") != "meta" or not isinstance(message.get("content"), dict):
            continue
        meta: dict[str, Any] = message["content"]
        if keep and meta.get("language"):
            return sample
        detected = sample_language(sample)
        if detected == UNDETERMINED or detected == meta.get("language"):
            return sample
        changed = list(sample)
        changed[index] = {**message, "content": {**meta, "language": detected}}
        return changed
    return sample
