"""Near-dedup at its threshold (issue 20): pairs just above and just below it, and the 0.8 default through build_mix.

The pairs are texts of distinct words with a few words replaced, so their word-3-gram Jaccard
similarity is known exactly; MinHash estimates it. Which pairs datasketch's LSH proposes as
candidates is asked of datasketch itself (same threshold and permutation count as the deduper), so
the tests know that a below-threshold pair *reached* the similarity check and was turned away by it.
"""

from __future__ import annotations

from functools import lru_cache

import pytest
from datasketch import MinHashLSH

from opentoollab.datasets.store import Store
from opentoollab.format.jsonl import write_samples
from opentoollab.trainer.dedup import DEFAULT_NUM_PERM, NearDeduper


def _words(start: int, n: int) -> list[str]:
    return [f"w{start + i}" for i in range(n)]


def _replace(words: list[str], k: int) -> list[str]:
    """``k`` evenly spaced words replaced by new ones."""
    out, step = list(words), len(words) // (k + 1)
    for j in range(1, k + 1):
        out[j * step] = "x" + out[j * step]
    return out


def _jaccard(a: list[str], b: list[str]) -> float:
    grams_a = {tuple(a[i:i + 3]) for i in range(len(a) - 2)}
    grams_b = {tuple(b[i:i + 3]) for i in range(len(b) - 2)}
    return len(grams_a & grams_b) / len(grams_a | grams_b)


@lru_cache(maxsize=None)
def pairs() -> tuple[dict, ...]:
    """(original, variant, exact Jaccard, MinHash estimate, proposed by LSH at 0.7 / 0.8) for a grid of sizes."""
    signer = NearDeduper()
    out = []
    for number, (n, k) in enumerate((n, k) for n in range(30, 130, 4) for k in range(1, 7)):
        a = _words(number * 1000, n)
        b = _replace(a, k)
        sig_a, sig_b = signer.signature(" ".join(a)), signer.signature(" ".join(b))
        proposed = {}
        for threshold in (0.7, 0.8):
            lsh = MinHashLSH(threshold=threshold, num_perm=DEFAULT_NUM_PERM)
            lsh.insert("a", sig_a)
            proposed[threshold] = bool(lsh.query(sig_b))
        out.append({"a": " ".join(a), "b": " ".join(b), "jaccard": _jaccard(a, b),
                    "estimate": float((sig_a.hashvalues == sig_b.hashvalues).mean()), "proposed": proposed})
    return tuple(out)


def test_minhash_estimates_the_jaccard_similarity():
    errors = [abs(p["estimate"] - p["jaccard"]) for p in pairs()]
    assert sum(errors) / len(errors) < 0.05 and max(errors) < 0.15


def test_pairs_just_above_the_threshold_are_duplicates_and_just_below_are_not():
    above = [p for p in pairs() if 0.8 <= p["estimate"] < 0.9]
    below = [p for p in pairs() if 0.7 <= p["estimate"] < 0.8]
    for pair in above + below:
        near = NearDeduper(threshold=0.8)
        assert near.check(pair["a"], "a") is None
        hit = near.check(pair["b"], "b")
        if pair in below:
            assert hit is None, pair
            assert len(near) == 2  # the variant was kept and remembered
        elif pair["proposed"][0.8]:  # LSH may miss a true pair (a false negative); a proposed one is confirmed
            assert hit is not None and hit.of == "a" and hit.similarity == pytest.approx(pair["estimate"]), pair
            assert len(near) == 1
    # The below-threshold pairs include some that LSH proposes: the similarity check is what turns them away.
    assert sum(p["proposed"][0.8] for p in below) >= 3
    assert sum(p["proposed"][0.8] for p in above) >= 10


def _sample(label: str, text: str) -> list[dict]:
    return [{"role": "id", "content": label},
            {"role": "meta", "content": {"source": "Planted", "subset": "dedup", "source_id": label, "license": "MIT"}},
            {"role": "candidate_tools", "content": []},
            {"role": "user", "content": text}, {"role": "assistant", "content": "ok"}]


def test_build_mix_uses_the_default_threshold_of_0_8(tmp_path):
    from opentoollab.trainer.mix import build_mix

    # removed at 0.8, kept at 0.95: estimates in [0.8, 0.95) that LSH at 0.8 proposes
    above = [p for p in pairs() if 0.8 <= p["estimate"] < 0.95 and p["proposed"][0.8]]
    # kept at 0.8, removed at 0.7: estimates in [0.7, 0.8) that LSH at 0.7 proposes
    below = [p for p in pairs() if 0.7 <= p["estimate"] < 0.8 and p["proposed"][0.7]]
    assert len(above) >= 5 and len(below) >= 3
    samples, expected, first_of = [], [], {}
    for pair in above + below:
        a, b = f"Planted_dedup_{len(samples)}", f"Planted_dedup_{len(samples) + 1}"
        samples += [_sample(a, pair["a"]), _sample(b, pair["b"])]
        first_of[b] = a
        if pair in above:
            expected.append(b)
    path = tmp_path / "pairs.jsonl"
    write_samples(path, samples)
    mix, manifest = build_mix(str(path), Store(tmp_path / "data"), decontaminate=False, shuffle=False)
    assert manifest["dedup"]["near"]["threshold"] == 0.8
    removed = [r for r in manifest["removed"] if r["step"] == "dedup"]
    assert sorted(r["id"] for r in removed) == sorted(expected)
    assert all(r["kind"] == "near" and r["of"] == first_of[r["id"]] and r["similarity"] >= 0.8 for r in removed)
    assert len(list(mix)) == len(samples) - len(above)


def test_a_similarity_equal_to_the_threshold_is_a_duplicate():
    """Jaccard ≥ threshold: with the threshold set to a pair's exact estimate, the pair is a duplicate."""
    checked = 0
    signer = NearDeduper()
    for pair in pairs():
        if not 0.5 <= pair["estimate"] <= 0.9:
            continue
        lsh = MinHashLSH(threshold=pair["estimate"], num_perm=DEFAULT_NUM_PERM)
        lsh.insert("a", signer.signature(pair["a"]))
        if not lsh.query(signer.signature(pair["b"])):
            continue
        near = NearDeduper(threshold=pair["estimate"])
        near.check(pair["a"], "a")
        hit = near.check(pair["b"], "b")
        assert hit is not None and hit.similarity == pair["estimate"], pair
        checked += 1
    assert checked >= 20
