"""`tag run --workers N`: the same bytes for any N, and the same lines as tagging one line at a time.

``write_tags`` hands workers byte ranges of whole lines; these tests cut a file holding real BFCL samples
(valid and invalid) and hostile lines into many small blocks and check that every file it writes (tags,
filtered copy, dropped list, manifests) is the same for 1, 2 and 3 workers, and that the records are
``tag_file``'s (which reads through ``format.jsonl.iter_lines``) line for line.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from opentoollab.datasets.store import Store
from opentoollab.tag import tagging, writing

REPO = Path(__file__).resolve().parent.parent
HOSTILE = [
    b"",  # blank
    b"   \t",  # whitespace only
    b"not json",
    b'{"a": 1}',  # JSON but not a sample
    b"[]",
    b"\xff\xfe not UTF-8",
    b'[{"role":"id","content":"x_y_1"},{"role":"user","content":"NaN ahead"},{"role":"assistant","content":NaN}]',
    b'[{"role":"id","content":"BFCL_odd_\\ud800"},{"role":"user","content":"a lone surrogate in the id"}]',
    b'[{"role":"id","content":"BFCL_crlf_0"},{"role":"user","content":"hi"},{"role":"assistant","content":"yo"}]\r',
    b"[1, 2",  # cut
    b'["caf\xc3',  # a character cut at the end of the line (the error names the bytes from there on)
]


def _hostile_file(path: Path, bfcl_samples: dict[str, list]) -> Path:
    rows = [json.dumps(s, ensure_ascii=False).encode("utf-8")
            for subset in ("live_multiple", "parallel", "multi_turn_miss_func", "live_irrelevance")
            for s in bfcl_samples[subset][:40]]
    rows[3] = json.dumps(json.loads(rows[3]) + [{"role": "user", "content": "é" * 3000}], ensure_ascii=False).encode()
    rows[30] = b"\xef\xbb\xbf" + rows[30]  # a BOM is skipped on the first line only
    lines = [b"\xef\xbb\xbf" + rows[0], *rows[1:20], *HOSTILE, *rows[20:]]
    path.write_bytes(b"\n".join(lines))  # the last line has no newline
    return path


def _files(folder: Path) -> dict[str, bytes]:
    out = {}
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = file.read_bytes()
        if file.name.endswith("manifest.json"):  # timings differ between runs, and where the output went
            data = re.sub(rb'\n *"(written_at|seconds)": [^\n]*', b"", data).replace(str(folder).encode(), b"OUT")
        out[file.relative_to(folder).as_posix()] = data
    return out


def test_any_number_of_workers_writes_the_same_bytes_as_one_line_at_a_time(tmp_path, bfcl_samples, monkeypatch):
    source = _hostile_file(tmp_path / "mixed.jsonl", bfcl_samples)
    monkeypatch.setattr(writing, "BLOCK_BYTES", 1500)  # many blocks; lines longer than a read
    store = Store(tmp_path / "data")
    outputs = []
    for workers in (1, 2, 3):
        out = tmp_path / f"w{workers}"
        writing.write_tags(writing.plan_units([source], store, out), drop_invalid=True,
                           ignore=["tool_enum_conflict"], workers=workers)
        outputs.append(_files(out))
    assert outputs[0] == outputs[1] == outputs[2]
    assert set(outputs[0]) == {"manifest.json", "mixed.jsonl", "valid/manifest.json", "valid/mixed.jsonl",
                               "valid/mixed.dropped.jsonl"}

    reference = list(tagging.tag_file(source))  # line by line through format.jsonl.iter_lines
    written = outputs[0]["mixed.jsonl"].splitlines()
    assert [json.loads(line) for line in written] == [record for _n, _t, record in reference]
    assert [record["line"] for _n, _t, record in reference][:2] == [1, 2]
    assert len(written) == 160 + len(HOSTILE) - 2  # blank lines are no samples
    kept = [text for _n, text, record in reference
            if not [p for p in record["problems"] if p["rule"] != "tool_enum_conflict"]]
    assert outputs[0]["valid/mixed.jsonl"].decode().splitlines() == kept
    manifest = json.loads(outputs[0]["manifest.json"])["subsets"]["mixed"]
    summary = tagging.summarize(record for _n, _t, record in reference)
    assert json.dumps({k: manifest[k] for k in summary}) == json.dumps(summary)  # also the order of keys
    assert 0 < summary["valid"] < summary["samples"]
    assert manifest["sha256"] == tagging.file_digest(source)
    assert manifest["filtered"]["kept"] == len(kept) and manifest["filtered"]["in"] == summary["samples"]
    odd = [json.loads(line) for line in written if b"ud800" in line]  # written escaped, read back the same
    assert [record["id"] for record in odd] == ["BFCL_odd_\ud800"]


def test_cli_workers_give_the_same_tags_for_a_corpus(tmp_path, bfcl_store):
    results = []
    for workers in ("1", "2"):
        out = tmp_path / f"tags{workers}"
        result = subprocess.run([sys.executable, "tag", "run", "--datasets", "BFCL/live_multiple,BFCL/multi_turn_base",
                                 "--drop-invalid", "-q", "--workers", workers, "--out", str(out),
                                 "--data-dir", str(bfcl_store.root)],
                                cwd=REPO, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        results.append(_files(out))
    assert results[0] == results[1]
    assert len(results[0]["BFCL/live_multiple.jsonl"].splitlines()) == 1053


@pytest.mark.parametrize("size", [1, 7, 64])
def test_blocks_cover_the_file_in_whole_lines(tmp_path, monkeypatch, size):
    import hashlib

    data = b"a\n\nbb\r\nccc\n" * 5 + b"x" * 100 + b"\nlast"
    path = tmp_path / "f.jsonl"
    path.write_bytes(data)
    monkeypatch.setattr(writing, "BLOCK_BYTES", size)
    digest = hashlib.sha256()
    blocks = list(writing._blocks(path, digest))
    assert digest.hexdigest() == hashlib.sha256(data).hexdigest()
    assert b"".join(data[o:o + s] for o, s, _n in blocks) == data
    for offset, size_, number in blocks:
        assert number == data[:offset].count(b"\n") + 1
        assert offset == 0 or data[offset - 1:offset] == b"\n"


def test_tallies_merged_in_order_count_as_one_tally():
    # ties in counts keep first-seen order: rules in the order a record lists them, whatever block they are in
    records = [{"valid": False, "categories": ["single"], "language": "fr", "counts": {"tokens": 3},
                "problems": [{"rule": "unknown_tool"}, {"rule": "call_unanswered"}, {"rule": "unknown_tool"}]},
               {"valid": True, "categories": ["parallel", "multi_turn"], "language": "en", "counts": {"tokens": 5},
                "problems": []},
               {"valid": False, "categories": ["single"], "language": "en", "counts": {},
                "problems": [{"rule": "type_mismatch"}, {"rule": "empty_turn"}]}]
    whole = tagging.summarize(records)
    assert list(whole["problems"]) == ["unknown_tool", "call_unanswered", "type_mismatch", "empty_turn"]
    for size in (1, 2):
        merged = tagging.Tally()
        for start in range(0, len(records), size):
            part = tagging.Tally()
            for record in records[start:start + size]:
                part.add(record)
            merged.merge(part)
        assert json.dumps(merged.result()) == json.dumps(whole)


def test_token_counts_without_building_the_text_are_the_texts(bfcl_samples):
    from opentoollab.tag.categories import _text, approx_tokens, content_tokens

    tricky = [{"a,b": "x: y", "": [], "k": {}}, ["é, ü: 日本", "😀", "\u2028", "\x7f"], {"q": 'say "hi": ok'},
              {"path": "C:\\dir"}, [1.5, 1e16, 1e-7, 0.00001, -0.0, 10 ** 20, True, None], {"n": None},
              [[], {}, [[{}]]], {"s": "a,b,c:d", "t": [", ", ": "]}]
    contents = tricky + [m["content"] for samples in bfcl_samples.values() for s in samples[:30] for m in s
                         if not isinstance(m["content"], str)]
    for content in contents:
        expected = approx_tokens(_text(content))
        assert content_tokens(content) == expected, content
        assert content_tokens(content, finite=True) == expected, content
    assert content_tokens({"x": float("nan")}) == approx_tokens(_text({"x": float("nan")}))
