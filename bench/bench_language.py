"""Language detection of user texts: our detector (opentoollab.format.language) beside the alternatives, one run.

    python bench/bench_language.py [--labels bench/language_labels.jsonl] [--repeat 3]

The labelled sample (bench/language_labels.jsonl, 229 user texts of ../shared/samples and BFCL, one JSON per
line: id, text, label, how) was labelled three ways, named in ``how``:
  script                   >= 50% of the letters in one non-Latin script (Hangul ko, kana ja, Han zh, Cyrillic ru,
                           Arabic ar, Thai th, Hebrew he, Devanagari hi): every such BFCL text
  hand                     read one by one: every Latin-script BFCL text that any detector called non-English
                           (Indonesian, Vietnamese, Portuguese, Spanish, Polish, French, German…), Persian in
                           Arabic script, mixed texts (an English request around Chinese data is ``en``), and
                           short English requests the detectors split on; gibberish ("sdfsdf", "ed") left out
  english corpus, ascii    70 drawn (seed 14) from the all-ASCII user texts of the English-only slices
                           (API-Bank, xLAM, Hermes, Glaive, ToolAlpaca, Seal-Tools, TaskBench, MTU-Bench, ToolBench)

Printed per detector: accuracy, the most common mistakes (label→guess) and microseconds per text (model load
excluded, best of --repeat). Compared:
  ours               what conversion and `tag` run: py3langid's model restricted to format.language.LANGUAGES,
                     walked by format.langmodel (its answers are py3langid's, tested), one text per call
  ours, batched      the same, all texts in one call (``detect_languages``), as conversion runs it
  py3langid itself   py3langid's classify, restricted the same way
  former rules       the script ranges + function-word lists `tag` used before (kept here as the baseline)
  lingua             lingua-language-detector on the same languages, when installed (pip install lingua-language-detector)
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from opentoollab.format.language import LANGUAGES, Py3langid, detect_language, detect_languages  # noqa: E402

_SCRIPTS = (  # the former rules: (language, first code point, last code point)
    ("ja", 0x3040, 0x30FF), ("ko", 0xAC00, 0xD7AF), ("zh", 0x4E00, 0x9FFF), ("zh", 0x3400, 0x4DBF),
    ("ru", 0x0400, 0x04FF), ("ar", 0x0600, 0x06FF), ("hi", 0x0900, 0x097F), ("th", 0x0E00, 0x0E7F),
    ("el", 0x0370, 0x03FF), ("he", 0x0590, 0x05FF),
)
_STOPWORDS = {
    "en": {"the", "and", "is", "of", "to", "in", "what", "for", "with", "can", "you", "me", "my", "please", "how", "a", "i", "it", "on", "this"},
    "es": {"el", "la", "de", "que", "y", "en", "los", "por", "para", "con", "una", "es", "del", "las", "cómo", "qué"},
    "fr": {"le", "la", "les", "de", "des", "et", "est", "pour", "une", "dans", "que", "je", "vous", "du", "avec", "pas"},
    "de": {"der", "die", "das", "und", "ist", "nicht", "ich", "mit", "für", "ein", "eine", "zu", "den", "wie", "bitte", "auf"},
    "pt": {"o", "os", "de", "que", "e", "em", "um", "uma", "para", "com", "não", "do", "da", "você", "por", "como"},
    "it": {"il", "di", "che", "e", "la", "per", "un", "una", "non", "sono", "con", "del", "come", "della", "mi", "puoi"},
}


def former_rules(text: str) -> str:
    """The detector `tag` had before issue 14: script ranges, then function words for Latin text."""
    counts: Counter = Counter()
    latin = 0
    for ch in text:
        if ch.isascii():
            latin += ch.isalpha()
            continue
        for language, low, high in _SCRIPTS:
            if low <= ord(ch) <= high:
                counts[language] += 1
                break
        else:
            latin += ch.isalpha()
    if counts:
        language, n = counts.most_common(1)[0]
        if counts["ja"]:
            language, n = "ja", counts["ja"] + counts["zh"]
        if n * 3 >= latin:
            return language
    words = re.findall(r"[^\W\d_]+", text.lower())
    if not words:
        return "und"
    scores = {language: sum(1 for w in words if w in stop) for language, stop in _STOPWORDS.items()}
    best = max(scores, key=scores.get)
    return best if scores[best] >= max(1, len(words) // 20) else "und"


def lingua_detector() -> Callable[[str], str] | None:
    try:
        from lingua import IsoCode639_1, Language, LanguageDetectorBuilder
    except ImportError:
        return None
    languages = []
    for code in LANGUAGES:
        try:
            languages.append(Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())))
        except (AttributeError, ValueError):
            pass  # lingua has no model for it (e.g. "no": it has nb/nn)
    detector = LanguageDetectorBuilder.from_languages(*languages).with_preloaded_language_models().build()

    def detect(text: str) -> str:
        found = detector.detect_language_of(text) if text.strip() else None
        return found.iso_code_639_1.name.lower() if found else "und"
    return detect


def batched_detector(rows: list[dict]) -> Callable[[str], str]:
    """``detect_languages`` over all the texts at once (as conversion does, 256 records at a time); the
    per-text time printed is the batch's time divided by the texts."""
    answers: dict[str, str] = {}

    def detect(text: str) -> str:
        if text not in answers:
            answers.update(zip([r["text"] for r in rows], detect_languages([r["text"] for r in rows])))
        return answers[text]

    def fresh(text: str) -> str:
        if text == rows[0]["text"]:
            answers.clear()  # each timed pass classifies the whole batch again
        return detect(text)
    return fresh


def measure(detect: Callable[[str], str], rows: list[dict], repeat: int) -> tuple[list[str], float]:
    detect(rows[0]["text"])  # loads the model
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        guesses = [detect(row["text"]) for row in rows]
        best = min(best, time.perf_counter() - start)
    return guesses, best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--labels", type=Path, default=REPO / "bench" / "language_labels.jsonl")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.labels.read_text("utf-8").splitlines() if line.strip()]
    print(f"{len(rows)} labelled user texts: {dict(Counter(r['label'] for r in rows).most_common())}")
    print(f"labelled by: {dict(Counter(r['how'] for r in rows))}\n")
    batched = batched_detector(rows)
    detectors = [("ours", detect_language), ("ours, batched", batched), ("py3langid itself", Py3langid().detect),
                 ("former rules", former_rules)]
    lingua = lingua_detector()
    detectors.append(("lingua", lingua) if lingua else ("lingua", None))
    print(f"{'detector':18s} {'right':>9s} {'accuracy':>9s} {'µs/text':>9s}  most common mistakes (label→guess)")
    for name, detect in detectors:
        if detect is None:
            print(f"{name:18s} not installed (pip install lingua-language-detector)")
            continue
        guesses, seconds = measure(detect, rows, args.repeat)
        right = sum(g == r["label"] for g, r in zip(guesses, rows))
        mistakes = Counter(f"{r['label']}→{g}" for g, r in zip(guesses, rows) if g != r["label"])
        print(f"{name:18s} {right:>4d}/{len(rows):<4d} {right / len(rows):>9.1%} {seconds / len(rows) * 1e6:>9.0f}  "
              + ", ".join(f"{k} ×{n}" for k, n in mistakes.most_common(6)))


if __name__ == "__main__":
    main()
