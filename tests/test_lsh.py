"""The batched LSH index and near-dedup rounds: the same candidates as datasketch's MinHashLSH, the same
decisions as one sample at a time, on real BFCL questions and planted near-copies."""

from __future__ import annotations

import random

import numpy as np
import pytest

from opentoollab.trainer.dedup import NearDeduper, user_turns
from opentoollab.trainer.lsh import KNOWN_BANDS, BandIndex, bands_and_rows


@pytest.fixture(scope="module")
def minhashes(bfcl_samples) -> list:
    """MinHash values of real BFCL user text, each followed by near and exact copies of it."""
    rng = random.Random(7)
    signer = NearDeduper()
    texts = []
    for samples in bfcl_samples.values():
        for sample in samples[::4]:
            text = "\n".join(user_turns(sample))
            words = text.split()
            texts.append(text)
            if len(words) > 12 and rng.random() < 0.5:
                texts.append(" ".join(words[:-1]))  # a near copy
            if rng.random() < 0.2:
                texts.append(text)  # an exact copy
    return [row for row in map(signer.signature, texts) if row is not None]


@pytest.fixture(scope="module")
def signatures(minhashes) -> np.ndarray:
    return np.array([row.hashvalues for row in minhashes])


def test_known_band_choices_are_datasketchs():
    from datasketch.lsh import _optimal_param

    for (threshold, num_perm), choice in KNOWN_BANDS.items():
        assert _optimal_param(threshold, num_perm, 0.5, 0.5) == choice == bands_and_rows(threshold, num_perm)
    assert bands_and_rows(0.65, 64) == _optimal_param(0.65, 64, 0.5, 0.5)  # not stored: asked


@pytest.mark.parametrize("start", [BandIndex.START, 8])
def test_batches_give_datasketchs_candidates_through_growth(signatures, minhashes, monkeypatch, start):
    """Tables that start tiny grow many times (keys wrap around the end of a table when they are moved)."""
    from datasketch import MinHashLSH

    monkeypatch.setattr(BandIndex, "START", start)
    index = BandIndex(0.8, 128)
    reference = MinHashLSH(threshold=0.8, num_perm=128)
    proposed = 0
    for begin in range(0, len(signatures), 97):
        batch = signatures[begin:begin + 97].astype(np.uint32)
        keys = index.band_keys(batch)
        heads = index.lookup(keys)
        for offset, values in enumerate(batch):
            expected = sorted(reference.query(minhashes[begin + offset]))
            assert sorted(index.candidates(values, heads[offset])) == expected
            proposed += bool(expected)
        assert index.insert_many(batch, keys) == begin
        for offset in range(len(batch)):
            reference.insert(begin + offset, minhashes[begin + offset], check_duplication=False)
    assert proposed > 50 and len(index) == len(signatures)
    assert all(np.array_equal(index.row(i), signatures[i]) for i in range(0, len(signatures), 13))
    assert int(index._used.max()) * 2 <= index._cap and (start > 8 or index._cap >= 64 * start)


@pytest.mark.parametrize("size", [1, 5, 64, 5000])
def test_check_batch_decides_as_one_sample_at_a_time(signatures, size):
    groups = [bytes([i % 3]) if i % 5 == 0 else None for i in range(len(signatures))]  # some in other groups
    labels = [f"s{i}" for i in range(len(signatures))]
    one, batched = NearDeduper(), NearDeduper()
    expected = [one.check_values(values, label, group) for values, label, group in zip(signatures, labels, groups)]
    got = []
    for begin in range(0, len(signatures), size):
        got += batched.check_batch(signatures[begin:begin + size], labels[begin:begin + size], groups[begin:begin + size])
    assert got == expected
    assert sum(d is not None for d in got) > 20 and len(one) == len(batched)
    assert {d.of for d in got if d is not None} <= set(labels)
