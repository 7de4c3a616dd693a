"""`trainer prepare --workers N`: rendering in worker processes writes the same bytes as one process.

Real BFCL samples and the shared corpus slices, with broken lines, an invalid sample, samples the
renderer refuses and repeated samples, in each output format; files compared byte for byte.
"""

from __future__ import annotations

import json
import pickle

import pytest
from click.testing import CliRunner

from opentoollab.cli.trainer import trainer
from opentoollab.format.parallel import default_workers
from opentoollab.trainer import prepare as prep
from opentoollab.trainer.render import get_renderer, to_chat
from opentoollab.trainer.render.base import Rendered, Renderer
from opentoollab.trainer.render.jinja import JinjaRenderer


@pytest.fixture(scope="module")
def corpus(bfcl_samples, slice_samples, tmp_path_factory):
    """A unified JSONL file: every 16th sample of each BFCL subset, 30 of each shared slice, three samples
    drawn again (upsampling), a line that is not JSON, one that is not a sample, and an invalid sample."""
    chosen = [s for samples in bfcl_samples.values() for s in samples[::16]]
    chosen += [s for samples in slice_samples.values() for s in samples[:30]]
    invalid = json.loads(json.dumps(chosen[5]))
    invalid[0]["content"] = "not an id"
    lines = [json.dumps(s, ensure_ascii=False) for s in chosen]
    lines[40:40] = ['{"role": "user", "content": "cut', json.dumps({"not": "a sample"}), json.dumps(invalid)]
    lines += [json.dumps(chosen[3]), json.dumps(chosen[200], ensure_ascii=False), json.dumps(chosen[3])]
    path = tmp_path_factory.mktemp("workers") / "corpus.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def tokenizer_dir(bfcl_samples, tmp_path_factory):
    """A byte-level BPE with Qwen's special tokens, trained here on rendered BFCL chats."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    renderer = get_renderer("Qwen2.5")
    texts = [renderer.render(to_chat(s, tool_changes="union")).text for samples in bfcl_samples.values() for s in samples[::60]]
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.train_from_iterator(texts, trainers.BpeTrainer(
        vocab_size=1000, special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False))
    folder = tmp_path_factory.mktemp("tok")
    tokenizer.save(str(folder / "tokenizer.json"))
    return folder


class Recorded(prep.Workers):
    """The real pool, remembering how many processes each run started."""

    started: list[int] = []

    def __init__(self, workers, *args, **kwargs) -> None:
        super().__init__(workers, *args, **kwargs)
        Recorded.started.append(self.workers if self._pool is not None else 1)


@pytest.fixture
def recorded(monkeypatch):
    monkeypatch.setattr(prep, "Workers", Recorded)
    monkeypatch.setattr(prep, "RENDER_CHUNK", 16)  # many chunks in flight, each worker gets several
    Recorded.started = []
    return Recorded.started


def outputs(folder) -> dict[str, bytes]:
    files = {p.name: p.read_bytes() for p in sorted(folder.iterdir())}
    manifest = json.loads(files.pop("manifest.json"))
    manifest.pop("seconds")
    return {**files, "manifest.json": json.dumps(manifest).encode()}


def run_both(args: list[str], tmp_path, store_dir) -> tuple[dict[str, bytes], dict[str, bytes]]:
    results = []
    for workers in ("1", "2"):
        out = tmp_path / f"w{workers}"
        result = CliRunner().invoke(trainer, ["prepare", "-q", "--data-dir", str(store_dir), "--out", str(out),
                                              "--workers", workers, *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        results.append(outputs(out))
    return results[0], results[1]


FORMATS = {
    # a Jinja template (sent to the workers as its source), token ids spliced into the rows, --max-tokens, a val split
    "text": lambda shared, tok: ["--chat-template", str(shared / "chat_templates" / "Qwen2.5-Instruct.jinja"),
                                 "--tokenizer", str(tok), "--max-tokens", "1500", "--val-size", "0.1"],
    "messages": lambda shared, tok: ["--format", "messages", "--model", "Qwen3", "--val-size", "25"],
    "sharegpt": lambda shared, tok: ["--format", "sharegpt", "--model", "Llama-3.1"],  # refuses parallel calls
}


@pytest.mark.parametrize("fmt", FORMATS)
def test_two_workers_write_the_same_bytes_as_one(fmt, corpus, tokenizer_dir, shared, recorded, tmp_path):
    one, two = run_both(["--datasets", str(corpus), *FORMATS[fmt](shared, tokenizer_dir)], tmp_path, tmp_path / "data")
    assert recorded == [1, 2]  # the second run rendered in two worker processes
    assert one.keys() == two.keys() and {"train.jsonl", "skipped.jsonl", "manifest.json"} <= one.keys()
    for name in one:
        assert one[name] == two[name], name
    manifest = json.loads(one["manifest.json"])
    counts = manifest["counts"]
    lines = corpus.read_text("utf-8").count("\n")
    assert counts["in"] == lines == counts["out"] + counts["skipped"]
    reasons = counts["skipped_by_reason"]
    assert reasons["unreadable"] == 2 and reasons["invalid_sample"] == 1
    assert set(reasons) - {"unreadable", "invalid_sample"}  # samples the renderer (or to_chat) refused
    rows = [json.loads(line) for name in ("train.jsonl", "val.jsonl") if name in one for line in one[name].splitlines()]
    assert len(rows) == counts["out"] and counts["copies"] >= 2
    ids = [row["id"] for row in rows]
    assert any(i.endswith("#2") for i in ids) and len(set(ids)) == len(ids)
    if fmt == "text":
        assert reasons["too_long"] > 0 and manifest["tokens"]["total"] == sum(len(r["input_ids"]) for r in rows)
        assert all(list(r) == ["id", "text", "spans", "input_ids", "labels"] for r in rows)


def test_workers_start_only_when_the_input_is_large_enough():
    items = [b"x"] * (prep.AUTO_PARALLEL_SAMPLES - 1)
    count, again = prep._worker_count(iter(items), None)
    assert count == 1 and list(again) == items
    items = [str(k).encode() for k in range(prep.AUTO_PARALLEL_SAMPLES + 5)]
    count, again = prep._worker_count(iter(items), None)
    assert count == default_workers() and list(again) == items  # looked-ahead items come back in order
    assert prep._worker_count(iter(items[:3]), 2)[0] == 2  # asked for explicitly


class Unpicklable(Renderer):
    """A caller's own renderer holding something that does not pickle: rendered in the calling process."""

    name = "unpicklable"

    def __init__(self) -> None:
        self.inner = get_renderer("Qwen2.5")
        self.hook = lambda text: text

    def render(self, chat) -> Rendered:
        rendered = self.inner.render(chat)
        return Rendered(self.hook(rendered.text), rendered.spans)


def test_every_kind_of_item_and_renderer(bfcl_samples, tmp_path, recorded):
    samples = bfcl_samples["simple_python"][:40] + bfcl_samples["parallel_multiple"][:40]
    source = tmp_path / "in.jsonl"
    lines = [json.dumps(s) + "\n" for s in samples]
    source.write_text("".join(lines), encoding="utf-8")
    offsets = [sum(len(line.encode()) for line in lines[:k]) for k in range(len(lines))]
    broken = json.loads(lines[0])
    broken[3]["content"] = 7  # user text that is a number: the renderer raises, the sample is skipped as an error
    items = [prep.BadRecord("x.jsonl:3", "invalid JSON: cut"), *samples[:30], broken,
             *(line.encode() for line in lines[30:60]), *(prep.LineAt(str(source), o) for o in offsets[60:]), samples[0]]
    options = prep.Options(format="messages", validate=False, val_size=0.2)
    spec = prep.renderer_spec(JinjaRenderer("{{ messages[0]['content'] }}", {"eos_token": "<e>"}, date_string="1 Jan 2025"))
    assert pickle.loads(pickle.dumps(spec))[1:] == ("{{ messages[0]['content'] }}", {"eos_token": "<e>"}, "", "1 Jan 2025")
    assert prep.renderer_spec(Unpicklable()) is None
    written = {}
    for name, renderer, workers in (("one", get_renderer("Qwen2.5"), 1), ("two", get_renderer("Qwen2.5"), 2),
                                    ("unpicklable", Unpicklable(), 2)):
        out = tmp_path / name
        manifest = prep.prepare(iter(items), renderer, out, options, renderer_info={"name": "Qwen2.5"},
                                progress=False, workers=workers)
        written[name] = outputs(out)
        assert manifest["counts"]["in"] == len(items) == manifest["counts"]["out"] + manifest["counts"]["skipped"]
    assert recorded == [1, 2, 1]  # the unpicklable renderer stays in this process
    assert written["one"] == written["two"] == written["unpicklable"]
    skipped = [json.loads(line) for line in written["one"]["skipped.jsonl"].splitlines()]
    assert skipped[0] == {"id": "#0", "reason": "unreadable", "detail": "x.jsonl:3: invalid JSON: cut"}
    assert [s for s in skipped if s["reason"] == "error"] == [skipped[1]] and skipped[1]["id"] == broken[0]["content"]
    assert skipped[1]["detail"].startswith("TypeError: ")  # the exception's text, sent back from the worker
    assert json.loads(written["one"]["manifest.json"])["counts"]["copies"] == 1


def _row_by_row(items: list) -> list:
    """``render_block`` without its ``RowsBlock`` form: each chunk's results one by one."""
    return [prep.render_item(item) for item in items]


@pytest.mark.parametrize("args", [["--val-size", "0.1"], ["--format", "messages", "--model", "Qwen3", "--val-size", "25"],
                                  ["--format", "sharegpt", "--model", "Llama-3.1"]], ids=["text", "messages", "sharegpt"])
def test_chunks_taken_whole_write_what_row_by_row_writes(args, corpus, recorded, tmp_path, monkeypatch):
    from opentoollab.format.parallel import START_METHOD_ENV

    monkeypatch.setenv(START_METHOD_ENV, "fork")  # the workers see the patch below
    written = []
    for name in ("blocks", "row_by_row"):
        if name == "row_by_row":
            monkeypatch.setattr(prep, "render_block", _row_by_row)
        out = tmp_path / name
        result = CliRunner().invoke(trainer, ["prepare", "-q", "--data-dir", str(tmp_path / "data"), "--out", str(out),
                                              "--workers", "2", "--datasets", str(corpus), *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        written.append(outputs(out))
    assert recorded == [2, 2] and written[0] == written[1]
    assert json.loads(written[0]["manifest.json"])["counts"]["copies"] >= 2  # chunks with a repeated sample: row by row


def test_a_chunk_of_rows_comes_back_whole_and_anything_else_row_by_row(bfcl_samples):
    samples = bfcl_samples["simple_python"][:5]
    renderer = get_renderer("Qwen2.5")
    prep.init_worker(prep.renderer_spec(renderer), prep.Options(), prep.row_shape(renderer, "Qwen2.5", prep.Options()), False)
    block = prep.render_block(samples)
    assert isinstance(block, prep.RowsBlock) and block.labels == [s[0]["content"] for s in samples]
    single = [prep.render_item(s)[3] for s in samples]
    assert block.lines == b"".join(line + b"\n" for line in single)
    mixed = prep.render_block([*samples, prep.BadRecord("x.jsonl:1", "invalid JSON")])
    assert isinstance(mixed, list) and mixed[-1][0] == "skip" and [r[3] for r in mixed[:5]] == single
    prep.init_worker(prep.renderer_spec(renderer), prep.Options(), prep.row_shape(renderer, "Qwen2.5", prep.Options()), True)
    assert isinstance(prep.render_block(samples), list)  # texts wanted back (tokenized here): row by row
    prep._WORK.pop("lines").close()
