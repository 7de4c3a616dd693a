"""The store's reject paths (issue 20): whatever an adapter does wrong, the record lands in rejects.jsonl.

An adapter written here drives the real ``process`` pipeline through each way a conversion can fail:
``convert`` raising something other than ``Reject``, returning a value that is not a sample list,
returning a sample that does not validate, returning no sample at all. Each must be counted as
rejected in the manifest and written to rejects.jsonl with its location and reason, so in = out + rejected.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import pytest

from opentoollab.datasets.sources.base import Context, RawRecord, Reject, Source
from opentoollab.datasets.store import Store, process


def _body(record: RawRecord, text: str) -> list[dict]:
    meta = {"source": "Planted", "subset": record.subset, "source_id": record.source_id, "license": "MIT"}
    return [{"role": "meta", "content": meta}, {"role": "candidate_tools", "content": []},
            {"role": "user", "content": text}, {"role": "assistant", "content": "ok"}]


class Planted(Source):
    """Reads ``records.json`` ({"subset": [[kind, text], ...]}); ``kind`` says how ``convert`` behaves."""

    name = "Planted"
    subsets = ("good", "bad")

    def records(self, raw: Path, subsets: list[str] | None = None) -> Iterator[RawRecord]:
        data = json.loads((raw / "records.json").read_text("utf-8"))
        for subset in self.subsets:
            for index, (kind, text) in enumerate(data.get(subset, [])):
                yield RawRecord(subset, "records.json", index, {"kind": kind, "text": text}, f"{subset}-{index}")

    def convert(self, record: RawRecord, ctx: Context):
        kind, text = record.data["kind"], record.data["text"]
        if kind == "ok":
            return _body(record, text)
        if kind == "two":  # one record → two samples
            return [_body(record, text), _body(record, text + " again")]
        if kind == "reject":
            raise Reject("declared bad by the adapter")
        if kind == "crash":
            raise KeyError("adapter bug")
        if kind == "not_a_sample":  # the pipeline itself trips over what came back
            return 42
        if kind == "invalid":
            body = _body(record, text)
            body[2]["content"] = 5  # user content must be a string
            return body
        if kind == "invalid_second":  # the first sample is fine, the second is not: the record is rejected whole
            bad = _body(record, text)
            bad[3]["content"] = None
            return [_body(record, text), bad]
        if kind == "empty":
            return []
        raise AssertionError(kind)


RECORDS = {
    "good": [["ok", "first"], ["crash", "boom"], ["two", "pair"], ["invalid", "typed"], ["ok", "last"]],
    "bad": [["empty", "nothing"], ["not_a_sample", "int"], ["invalid_second", "half"], ["reject", "declared"]],
}
EXPECTED = {  # (subset, location) → a piece of the reason
    ("good", 1): "adapter error: KeyError",
    ("good", 3): "invalid sample",
    ("bad", 0): "the record holds no sample",
    ("bad", 1): "adapter error: TypeError",
    ("bad", 2): "invalid sample",
    ("bad", 3): "declared bad by the adapter",
}


@pytest.fixture(scope="module")
def processed(tmp_path_factory):
    origin = tmp_path_factory.mktemp("planted_raw")
    (origin / "records.json").write_text(json.dumps(RECORDS), "utf-8")
    store = Store(tmp_path_factory.mktemp("planted_data"))
    manifest = process(Planted(), store, origin=origin, progress=False)
    folder = store.processed_dir("Planted")
    rejects = [json.loads(line) for line in (folder / "rejects.jsonl").read_text("utf-8").splitlines()]
    samples = {subset: (folder / f"{subset}.jsonl").read_text("utf-8").splitlines()
               for subset in ("good", "bad") if (folder / f"{subset}.jsonl").is_file()}
    return manifest, rejects, samples


def test_every_failure_kind_is_counted_as_rejected(processed):
    manifest, _rejects, samples = processed
    assert manifest["subsets"]["good"] == {"in": 5, "out": 3, "rejected": 2, "samples": 4, "tools": 0}
    assert manifest["subsets"]["bad"] == {"in": 4, "out": 0, "rejected": 4, "samples": 0, "tools": 0}
    assert manifest["totals"] == {"in": 9, "out": 3, "rejected": 6, "samples": 4}
    assert len(samples["good"]) == 4 and "bad" not in samples  # nothing of a rejected record is written


def test_each_reject_has_its_location_and_reason(processed):
    _manifest, rejects, _samples = processed
    got = {(r["subset"], r["location"]): r for r in rejects}
    assert set(got) == set(EXPECTED)
    for where, reason in EXPECTED.items():
        reject = got[where]
        assert reason in reject["reason"], (where, reject["reason"])
        assert reject["source_file"] == "records.json"
        kind, text = RECORDS[where[0]][where[1]]
        assert reject["raw"] == {"kind": kind, "text": text}  # the raw record is kept for inspection
