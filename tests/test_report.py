"""`python datasets report`: the static site for BFCL, the shared slices, a mix and hostile files — what it holds
equals the data (every sample, in order, byte for byte; counts per subset; tags' flags; rendered text and spans),
the same inputs give the same bytes whatever the number of workers, and `tag report` still works through it."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import SHARED_SLICES

# the slices conftest processes, and two whose calls link to earlier results
SLICES = {**SHARED_SLICES, "Seal-Tools": "seal_tools", "TaskBench": "taskbench"}
from opentoollab.cli.datasets import datasets
from opentoollab.datasets.sources import get_source
from opentoollab.datasets.store import Store, process
from opentoollab.format.jsonl import iter_samples
from opentoollab.format.sample import resolve_links, sample_id
from opentoollab.tag.tagging import CATEGORIES, load_tags, tag_sample
from opentoollab.trainer.render import get_renderer, to_chat


def read_js(path: Path) -> tuple[str, list]:
    """(function called, its arguments) of one data script: ``OTL.x(a, b, [...]);``."""
    text = path.read_text("utf-8")
    match = re.fullmatch(r"(OTL\.\w+)\((.*)\);\n", text, re.S)
    assert match, path
    return match.group(1), json.loads(f"[{match.group(2)}]")


def index_of(site: Path) -> dict:
    call, (index,) = read_js(site / "data" / "index.js")
    assert call == "OTL.index"
    return index


def chunks_of(site: Path, stem: str = "samples") -> list:
    """Every item of the data files ``stem-NNNNN.js``, in index order."""
    items = []
    for number, start in index_of(site)["chunks"]:
        call, args = read_js(site / "data" / f"{stem}-{number:05d}.js")
        assert args[-2] == number and len(items) == start
        items.extend(args[-1])
    return items


@pytest.fixture(scope="module")
def bfcl_tagged(bfcl_store, tmp_path_factory) -> Store:
    """A copy of processed BFCL (the session store stays untouched) with live_multiple tagged."""
    from opentoollab.cli.tag import tag

    store = Store(tmp_path_factory.mktemp("report-bfcl"))
    shutil.copytree(bfcl_store.processed_dir("BFCL"), store.processed_dir("BFCL"))
    result = CliRunner().invoke(tag, ["run", "--datasets", "BFCL/live_multiple", "-q", "--data-dir", str(store.root)])
    assert result.exit_code == 0, result.output
    return store


@pytest.fixture(scope="module")
def bfcl_site(bfcl_tagged, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sites") / "bfcl"
    result = CliRunner().invoke(datasets, ["report", "BFCL", "--model", "Qwen2.5", "--out", str(out), "-q",
                                           "--data-dir", str(bfcl_tagged.root)])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def slices_store(shared, tmp_path_factory) -> Store:
    """The shared slices processed by their adapters, plus a small offline generated run (links, waves)."""
    store = Store(tmp_path_factory.mktemp("report-slices"))
    for name, folder in SLICES.items():
        process(get_source(name), store, origin=shared / "samples" / folder, progress=False)
    result = CliRunner().invoke(datasets, ["generate", "--n", "80", "--seed", "3", "--data-dir", str(store.root)])
    assert result.exit_code == 0, result.output
    return store


def test_bfcl_site_holds_every_sample_in_order_with_counts_and_flags(bfcl_site, bfcl_tagged):
    summary = json.loads((bfcl_site / "report.json").read_text())
    manifest = bfcl_tagged.manifest("BFCL")
    assert summary["samples"] == manifest["totals"]["samples"] == 4438
    (entry,) = summary["inputs"]
    assert entry["rejected"] == manifest["totals"]["rejected"] == 3
    assert entry["subsets"] == {f"BFCL/{k}": v["samples"] for k, v in manifest["subsets"].items()}
    samples = [s for path in bfcl_tagged.subset_files("BFCL") for s in iter_samples(path)]
    index = index_of(bfcl_site)
    assert index["id"] == [sample_id(s) for s in samples]
    items = chunks_of(bfcl_site)
    assert [item["s"] for item in items] == samples  # every sample, exactly as stored
    # categories and language: the tagger's, for every sample
    for k in range(0, len(samples), 37):
        record = tag_sample(samples[k])
        assert index["cat"][k] == sum(1 << CATEGORIES.index(c) for c in record["categories"])
        assert index["languages"][index["lang"][k]] == record["language"]
    # flags: exactly the stored tags' rules for live_multiple, untagged (None) elsewhere
    tags = load_tags(bfcl_tagged, "BFCL/live_multiple")
    for k, sid in enumerate(index["id"]):
        flags = index["flag"][k]
        if sid in tags:
            assert sorted(index["flags"][f] for f in flags) == sorted({p["rule"] for p in tags[sid]["problems"]})
        else:
            assert flags is None
    assert entry["flagged"] == sum(1 for r in tags.values() if not r["valid"]) > 0


def test_bfcl_rendered_chunks_equal_the_renderer(bfcl_site, bfcl_tagged):
    samples = [s for path in bfcl_tagged.subset_files("BFCL") for s in iter_samples(path)]
    views = chunks_of(bfcl_site, "render-0")
    assert len(views) == len(samples) and index_of(bfcl_site)["models"] == [{"name": "Qwen2.5", "exact": False}]
    renderer = get_renderer("Qwen2.5")
    for k in range(0, len(samples), 53):
        rendered = renderer.render(to_chat(samples[k], tool_changes="union"))
        assert views[k]["t"] == rendered.text and views[k]["s"] == rendered.spans
        assert views[k]["l"] < views[k]["n"]


def test_pages_link_to_files_and_anchors_that_exist(bfcl_site):
    pages = {name: (bfcl_site / name).read_text("utf-8") for name in ("index.html", "samples.html", "rejects.html")}
    for name, page in pages.items():
        for target in re.findall(r'(?:href|src)="([^"]+)"', page):
            if target.startswith("http"):
                continue
            file, _, fragment = target.partition("#")
            assert (bfcl_site / file).is_file(), (name, target)
            if fragment and file == "rejects.html":
                assert f'id="{fragment}"' in pages["rejects.html"], target
    overview = pages["index.html"]
    assert "samples.html#g=0&amp;sub=BFCL%2Fparallel" in overview and "samples.html#g=0&amp;flag=enum_mismatch" in overview
    for chart in re.findall(r'src="(charts/[^"]+)"', overview):
        assert (bfcl_site / chart).read_text().lstrip().startswith("<?xml")
    # the three BFCL rejects are on the rejects page with their source location
    assert pages["rejects.html"].count('<details') == 3 and "BFCL_v4_live_simple.json:107" in pages["rejects.html"]


def test_links_are_resolved_with_their_source_and_waves_follow_depend_on(slices_store, tmp_path):
    from opentoollab.format.sample import assign_call_ids

    out = tmp_path / "site"
    result = CliRunner().invoke(datasets, ["report", "generated", "Seal-Tools", "--out", str(out), "-q",
                                           "--data-dir", str(slices_store.root)])
    assert result.exit_code == 0, result.output
    items = chunks_of(out)
    linked = 0
    for item in items:
        sample, ann = item["s"], item["a"]
        ids = assign_call_ids(sample)
        results = {}
        for k, message in enumerate(sample):
            if message["role"] == "tool_response":
                results.update(message["content"])
            if ids[k] is None:
                continue
            info = ann["calls"][str(k)]
            assert info["ids"] == ids[k]
            position = {cid: w for w, wave in enumerate(info["waves"]) for cid in (ids[k][i] for i in wave)}
            for call, cid in zip(message["content"], ids[k]):  # a call comes after the calls it waits on
                assert all(position[d] < position[cid] for d in call["depend_on"] if d in position)
            if message["role"] != "tool_call":
                continue
            for call in message["content"]:
                for key, value in call["parameters"].items():
                    if isinstance(value, str) and re.fullmatch(r"<link>(.*)</link>", value):
                        body = value[6:-7]
                        entry = ann["links"][body]
                        assert entry["value"] == resolve_links(value, results) and body.startswith(entry["from"])
                        linked += 1
    assert linked >= 10


def test_slices_side_by_side_with_provenance(slices_store, tmp_path):
    names = list(SLICES)
    out = tmp_path / "site"
    result = CliRunner().invoke(datasets, ["report", *names, "--out", str(out), "-q", "--data-dir", str(slices_store.root)])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "report.json").read_text())
    assert [i["label"] for i in summary["inputs"]] == names
    for entry in summary["inputs"]:
        assert entry["samples"] == slices_store.manifest(entry["label"])["totals"]["samples"]
    index = index_of(out)
    assert [index["groups"][index["subsetGroup"][s]] for s in index["sub"]] == [
        name for name in names for path in slices_store.subset_files(name) for _ in iter_samples(path)]
    overview = (out / "index.html").read_text()
    for name in names:
        source = get_source(name)
        assert source.license in overview and source.homepage in overview
    assert len(list((out / "charts").glob("*.svg"))) == 7


def test_a_mix_is_labelled_by_source_and_its_removals_are_its_rejects(slices_store, tmp_path):
    from opentoollab.cli.trainer import trainer

    mix = tmp_path / "mix" / "train.jsonl"
    result = CliRunner().invoke(trainer, ["mix", "-d", "API-Bank:200,Seal-Tools:100", "-o", str(mix), "--seed", "7",
                                          "--allow-eval", "--data-dir", str(slices_store.root)])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(datasets, ["report", str(mix), "-q", "--data-dir", str(slices_store.root)])
    assert result.exit_code == 0, result.output
    site = mix.with_name("train.report")
    summary = json.loads((site / "report.json").read_text())
    (entry,) = summary["inputs"]
    removed = mix.with_name("train.removed.jsonl").read_text().splitlines()
    assert entry["kind"] == "mix" and entry["samples"] == 300 and entry["rejected"] == len(removed)
    assert all(k.startswith(("train:API-Bank/", "train:Seal-Tools/")) for k in entry["subsets"])
    assert sum(v for k, v in entry["subsets"].items() if k.startswith("train:API-Bank/")) == 200
    assert sum(entry["subsets"].values()) == 300
    assert "seed" in (site / "index.html").read_text() and "dedup" in (site / "rejects.html").read_text()


def test_hostile_lines_are_counted_never_crash_and_text_stays_text(tmp_path, bfcl_samples):
    good = bfcl_samples["simple_python"][0]
    script = json.loads(json.dumps(good))
    script[0]["content"] = "evil_x_1"
    script[-2]["content"] = "</script><script>alert(1)</script> \u2028 \ud800"
    lines = [json.dumps(good), "not json", json.dumps(script), '{"a": NaN}', "[" * 5000 + "]" * 5000,
             json.dumps({"role": "user"}), b"\xff\xfe".decode("latin-1"), "",
             json.dumps([{"role": "id", "content": "bad_x_2"}, {"role": "user", "content": 5},
                         {"role": "tool_call", "content": [{"name": "f", "parameters": "x", "depend_on": 5}]}])]
    path = tmp_path / "mine.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "site"
    result = CliRunner().invoke(datasets, ["report", str(path), "--model", "Qwen2.5", "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    (entry,) = json.loads((out / "report.json").read_text())["inputs"]
    assert entry["samples"] + entry["unreadable"] == 8 and entry["samples"] == 3 and entry["unreadable"] == 5
    items = chunks_of(out)
    assert items[1]["s"][-2]["content"] == script[-2]["content"]  # the text itself, not HTML
    views = chunks_of(out, "render-0")
    assert views[2]["skip"]  # a broken sample is not rendered, it says why
    assert "unreadable lines in the input" in (out / "index.html").read_text()
    assert items[2]["a"]["error"].startswith("TypeError")  # its calls could not be annotated, and it says so
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    result = CliRunner().invoke(datasets, ["report", str(empty), "-q"])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "empty.report" / "report.json").read_text())["samples"] == 0


def test_same_bytes_whatever_the_workers_and_refuses_foreign_folders(slices_store, tmp_path):
    from opentoollab.trainer.report import build_site, load_models, resolve

    inputs = resolve(["API-Bank", "generated"], slices_store)
    models = load_models(["Qwen2.5"], [])
    from opentoollab.trainer.report import site as site_module

    chunk = site_module.CHUNK
    site_module.CHUNK = 37  # many data files, so the workers really share the work
    try:
        build_site(inputs, tmp_path / "one", models, jobs=1)
        build_site(inputs, tmp_path / "two", models, jobs=2)
    finally:
        site_module.CHUNK = chunk
    files = sorted(p.relative_to(tmp_path / "one") for p in (tmp_path / "one").rglob("*") if p.is_file())
    assert len([f for f in files if f.name.startswith("samples-")]) > 5
    assert files == sorted(p.relative_to(tmp_path / "two") for p in (tmp_path / "two").rglob("*") if p.is_file())
    for name in files:
        if name.name != "report.json":
            assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes(), name
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    result = CliRunner().invoke(datasets, ["report", "API-Bank", "--out", str(mine), "--data-dir", str(slices_store.root)])
    assert result.exit_code == 1 and "not a report folder" in result.output and (mine / "notes.txt").read_text() == "keep me"
    result = CliRunner().invoke(datasets, ["report", "API-Bank", "--out", str(tmp_path / "one"), "-q",
                                           "--data-dir", str(slices_store.root)])
    assert result.exit_code == 0  # an earlier report is replaced


def test_cli_errors_are_one_line(slices_store, tmp_path):
    root = str(slices_store.root)
    result = CliRunner().invoke(datasets, ["report", "NOPE", "--data-dir", root])
    assert result.exit_code == 1 and "NOPE" in result.output and "Traceback" not in result.output
    result = CliRunner().invoke(datasets, ["report", "API-Bank", "--model", "gpt-17", "--data-dir", root])
    assert result.exit_code == 2 and "no built-in renderer" in result.output
    result = CliRunner().invoke(datasets, ["report", "API-Bank", "--tokenizer", str(tmp_path), "--data-dir", root])
    assert result.exit_code == 2 and "--tokenizer" in result.output


def test_tag_report_draws_with_the_report_charts(bfcl_tagged, tmp_path):
    from opentoollab.cli.tag import tag

    out = tmp_path / "tags"
    result = CliRunner().invoke(tag, ["report", "BFCL/live_multiple", "--out", str(out), "--data-dir", str(bfcl_tagged.root)])
    assert result.exit_code == 0, result.output
    page = (out / "report.html").read_text()
    assert "<table>" in page and "data:image/png;base64," in page and "python datasets report BFCL/live_multiple" in page
    assert (out / "categories.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["rows"][0]["samples"] == 1053


def test_a_tokenizer_gives_exact_token_counts(slices_store, tmp_path):
    tokenizers = pytest.importorskip("tokenizers")
    from opentoollab.trainer.prepare import IGNORE_INDEX, token_labels

    samples = [s for path in slices_store.subset_files("API-Bank") for s in iter_samples(path)]
    renderer = get_renderer("Qwen2.5")
    texts = [renderer.render(to_chat(s, tool_changes="union")).text for s in samples[:60]]
    tokenizer = tokenizers.Tokenizer(tokenizers.models.BPE())
    tokenizer.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.train_from_iterator(texts, tokenizers.trainers.BpeTrainer(
        vocab_size=400, special_tokens=["<|im_start|>", "<|im_end|>"],
        initial_alphabet=tokenizers.pre_tokenizers.ByteLevel.alphabet()))
    (tmp_path / "tok").mkdir()
    tokenizer.save(str(tmp_path / "tok" / "tokenizer.json"))
    out = tmp_path / "site"
    result = CliRunner().invoke(datasets, ["report", "API-Bank", "--model", "Qwen2.5", "--tokenizer", str(tmp_path / "tok"),
                                           "--model", "Llama-3.1", "--out", str(out), "-q", "--data-dir", str(slices_store.root)])
    assert result.exit_code == 0, result.output
    assert index_of(out)["models"] == [{"name": "Qwen2.5", "exact": True}, {"name": "Llama-3.1", "exact": False}]
    views = chunks_of(out, "render-0")
    for sample, view in list(zip(samples, views))[::17]:
        ids, labels = token_labels(tokenizer, view["t"], view["s"])
        assert view["exact"] and view["n"] == len(ids) and view["l"] == sum(1 for x in labels if x != IGNORE_INDEX)
    assert "Qwen2.5 (tokens)" in (out / "charts" / "lengths.svg").read_text()
