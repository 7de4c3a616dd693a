"""Mixes: spec parsing, exact counts, determinism, filters, and planted BFCL questions removed and reported.

The BFCL-free corpora are real records: Seal-Tools' dev and test queries from ../shared/samples,
turned into unified samples here (their tool definitions from Seal-Tools' tool.jsonl).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from opentoollab.format.jsonl import iter_samples, write_samples
from opentoollab.trainer.mix import build_mix, write_mix
from opentoollab.trainer.recipe import Entry, Filters, MixError, load_spec, parse_datasets, sample_tags
from opentoollab.format.sample import dumps_sample, meta, sample_id
from opentoollab.format.schema_types import normalize_schema

SEAL = "samples/seal_tools/Seal-Tools_Dataset"


def seal_tools_samples(shared: Path, split: str) -> list[list[dict]]:
    """Real Seal-Tools queries of one split as unified samples (candidate tools + user + ground truth)."""
    tools = {}
    for line in (shared / SEAL / "tool.jsonl").read_text("utf-8").splitlines():
        if line.strip():
            tool = json.loads(line)
            tools[tool["api_name"]] = {
                "name": tool["api_name"], "description": tool["api_description"],
                "parameters": normalize_schema({"type": "dict", "properties": tool["parameters"], "required": tool["required"]}),
            }
    samples = []
    for n, line in enumerate((shared / SEAL / f"{split}.jsonl").read_text("utf-8").splitlines()):
        record = json.loads(line)
        calls = [{"name": c["api"], "parameters": {k: [v] for k, v in c["parameters"].items()}, "depend_on": []}
                 for c in record["calling"]]
        used = sorted({c["name"] for c in calls})
        samples.append([
            {"role": "id", "content": f"SealTools_{split}_{n}"},
            {"role": "meta", "content": {"source": "SealTools", "subset": split, "source_id": record["id"],
                                         "license": "Apache-2.0", "language": "en",
                                         "tags": ["difficult" if "difficult" in record["id"] else "easy"]}},
            {"role": "candidate_tools", "content": [tools[name] for name in used]},
            {"role": "user", "content": record["query"]},
            {"role": "tool_call_ground_truth", "content": calls},
        ])
    return samples


@pytest.fixture(scope="module")
def corpora(tmp_path_factory, shared) -> dict[str, Path]:
    """Three BFCL-free unified JSONL files written from real Seal-Tools records."""
    root = tmp_path_factory.mktemp("corpora")
    out = {}
    for split in ("dev", "test_in_domain", "test_out_domain"):
        out[split] = root / f"{split}.jsonl"
        write_samples(out[split], seal_tools_samples(shared, split))
    return out


def _ids(samples) -> list[str]:
    return [sample_id(s) for s in samples]


# --- spec parsing -----------------------------------------------------------------------------------


def test_command_line_spec_parses_counts_shares_and_paths():
    entries = parse_datasets("ToolACE:2500, xLAM:0.5,generated/run1.jsonl,BFCL/simple_python:10")
    assert entries == [Entry("ToolACE", 2500), Entry("xLAM", None, 0.5), Entry("generated/run1.jsonl"),
                       Entry("BFCL/simple_python", 10)]
    for bad in ("ToolACE:0", "ToolACE:-3", "ToolACE:0.0", ","):
        with pytest.raises(MixError):
            parse_datasets(bad)


def test_recipe_parses_filters_and_rejects_unknown_keys(tmp_path, corpora):
    recipe = tmp_path / "mix.yaml"
    recipe.write_text(f"""
seed: 7
datasets:
  - input: {corpora['dev']}
    count: 5
    tags: [easy]
  - "{corpora['test_in_domain']}:0.5"
dedup: {{near: false}}
decontaminate: {{ngram: 10}}
""", "utf-8")
    spec = load_spec(recipe)
    assert spec.seed == 7 and not spec.near_dedup and spec.ngram == 10
    assert spec.entries[0].count == 5 and spec.entries[0].filters.tags == ("easy",)
    assert spec.entries[1].share == 0.5
    recipe.write_text("datasets: [a.jsonl]\ndedupe: {near: false}\n", "utf-8")
    with pytest.raises(MixError, match="dedupe"):
        load_spec(recipe)


# --- counts, determinism ------------------------------------------------------------------------------


def test_exact_counts_shares_and_upsampling(corpora, bfcl_store):
    spec = f"{corpora['dev']}:12,{corpora['test_in_domain']}:0.25,{corpora['test_out_domain']}:150"
    mix, manifest = build_mix(spec, bfcl_store, seed=3)
    samples = list(mix)
    rows = manifest["sources"]
    assert [r["taken"] for r in rows] == [12, round(0.25 * rows[1]["available"]), 150]
    assert len(samples) == sum(r["taken"] for r in rows)
    for row in rows:
        assert row["read"] == (row["rejected"] + row["filtered"] + row["contaminated"] + row["duplicate_exact"]
                               + row["duplicate_near"] + row["available"])
    # 150 from 60 available: every sample at least twice, none more than three times, and a warning
    assert rows[2]["upsampled"] and any("with replacement" in w for w in manifest["warnings"])
    out_domain = [sample_id(s) for s in samples if meta(s)["subset"] == "test_out_domain"]
    counts = {i: out_domain.count(i) for i in set(out_domain)}
    assert len(counts) == rows[2]["available"] and set(counts.values()) <= {2, 3}
    # without replacement: no id twice
    dev = [sample_id(s) for s in samples if meta(s)["subset"] == "dev"]
    assert len(set(dev)) == 12


def test_same_spec_and_seed_give_same_bytes(corpora, bfcl_store, tmp_path):
    spec = f"{corpora['dev']}:20,{corpora['test_in_domain']}:0.5,{corpora['test_out_domain']}"
    first, second, other = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "c.jsonl"
    write_mix(first, *build_mix(spec, bfcl_store, seed=11))
    write_mix(second, *build_mix(spec, bfcl_store, seed=11))
    write_mix(other, *build_mix(spec, bfcl_store, seed=12))
    assert first.read_bytes() == second.read_bytes()
    manifests = {}
    for name, path in (("a", first), ("b", second)):
        manifest = json.loads((tmp_path / f"{name}.manifest.json").read_text("utf-8"))
        # the manifests differ only in where their files are (compared as values: a path may hold any text)
        assert manifest["output"].pop("path") == str(path)
        assert manifest["output"].pop("removed_report") == str(tmp_path / f"{name}.removed.jsonl")
        manifests[name] = manifest
    assert manifests["a"] == manifests["b"]
    assert first.read_bytes() != other.read_bytes()
    assert sorted(first.read_bytes().splitlines()) != sorted(other.read_bytes().splitlines())  # a different draw


def test_filters_by_tag_subset_and_language(corpora, bfcl_store):
    everything = list(build_mix(str(corpora["dev"]), bfcl_store, decontaminate=False)[0])
    easy, manifest = build_mix(str(corpora["dev"]), bfcl_store, filters=Filters(tags=("easy",)), decontaminate=False)
    easy = list(easy)
    assert easy and all("easy" in meta(s)["tags"] for s in easy)
    assert manifest["sources"][0]["filtered"] == sum("easy" not in meta(s)["tags"] for s in everything) > 0
    none, manifest = build_mix(str(corpora["dev"]), bfcl_store, filters=Filters(languages=("zh",)), decontaminate=False)
    assert len(none) == 0 and manifest["sources"][0]["filtered"] == manifest["sources"][0]["read"]
    subset, _ = build_mix(f"{corpora['dev']},{corpora['test_in_domain']}", bfcl_store,
                          filters=Filters(subsets=("test_in_domain",)), shuffle=False)
    assert {meta(s)["subset"] for s in subset} == {"test_in_domain"}


def test_tags_as_a_mapping_are_read_too():
    sample = [{"role": "id", "content": "X_a_0"},
              {"role": "meta", "content": {"tags": {"multi_turn": True, "domain": ["travel", "finance"], "parallel": False}}}]
    assert sample_tags(sample) == {"multi_turn", "domain", "domain:travel", "domain:finance"}


def test_malformed_lines_are_rejected_with_location(corpora, bfcl_store, tmp_path):
    bad = tmp_path / "bad.jsonl"
    lines = corpora["dev"].read_text("utf-8").splitlines()[:3]
    broken = json.loads(lines[1])
    broken[4]["content"][0]["name"] = "not_a_candidate_tool"
    bad.write_text("\n".join([lines[0], "{not json", dumps_sample(broken), lines[2]]) + "\n", "utf-8")
    mix, manifest = build_mix(str(bad), bfcl_store)
    assert len(mix) == 2 and manifest["sources"][0]["rejected"] == 2
    rejects = [r for r in manifest["removed"] if r["step"] == "reject"]
    assert [(r["line"], r["reason"].split(":")[0]) for r in rejects] == [(2, "invalid JSON"), (3, "invalid sample")]


def test_lines_read_strictly_or_not_keep_their_verdicts(corpora):
    """A line is read strictly where it can be (its validation then checks the nesting with the schema) and as the
    standard parser reads it otherwise: either way the sample and the reason for a reject are what they were."""
    from opentoollab.trainer.mix_work import parse_sample_line

    good = corpora["dev"].read_text("utf-8").splitlines()[0]
    sample = json.loads(good)
    big = json.loads(good)
    big[1]["content"]["rank"] = 12345678901234567890123  # 23 digits: exact as the standard parser reads it
    with_nan = json.dumps([sample[0], {**sample[1], "content": {**sample[1]["content"], "rank": float("nan")}},
                           *sample[2:]])
    cases = {
        "good": (good.encode(), sample, None),
        "crlf": (good.encode() + b"\r\n", sample, None),
        "big_integer": (json.dumps(big).encode(), big, None),
        "nan": (with_nan.encode(), None, "invalid sample: json at $: the number nan is not JSON (NaN/Infinity)"),
        "overflow": (with_nan.replace("NaN", "1e400").encode(), None,
                     "invalid sample: json at $: the number inf is not JSON (NaN/Infinity)"),
        "not_utf8": (good.encode()[:-2] + b"\xff]", None, "invalid JSON"),
        "not_json": (b"{not json", None, "invalid JSON"),
        "too_deep": (b"[" * 100_000 + b"]" * 100_000, None, "invalid JSON"),  # the standard parser would recurse
        "object": (b'{"role": "id"}', None, "not a sample (a JSON array of message objects)"),
    }
    for name, (raw, expected, reason) in cases.items():
        found, why = parse_sample_line(raw, True)
        assert found == expected, name
        assert (why if why is None else why[:len(reason)]) == reason, (name, why)


def test_any_number_of_workers_and_block_size_writes_the_same_bytes(corpora, bfcl_store, tmp_path, monkeypatch):
    """Lines reach the workers in byte ranges (here a few hundred bytes: many blocks, lines split across
    none); decisions, removal records and the written lines are the same for 1, 2 or 3 workers."""
    import opentoollab.trainer.mix as mix_module
    from opentoollab.trainer.mix_work import filter_view

    lines = corpora["dev"].read_bytes().splitlines()
    reworded = json.loads(lines[5])
    reworded[3]["content"] = reworded[3]["content"].upper() + " !"  # an exact duplicate after normalization
    near = json.loads(lines[9])
    near[0]["content"] = "SealTools_dev_9009"
    near[3]["content"] += " now"  # a near duplicate
    spaced = b"  " + json.dumps(json.loads(lines[1])).encode() + b"  \r"  # not as the mix writes it: rewritten
    mixed = [lines[0], b"", b"{broken", spaced, *lines[2:], dumps_sample(reworded).encode(),
             dumps_sample(near).encode(), b"[1, 2]"]
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join(mixed))  # no newline at the end
    runs = []
    for workers, block in ((1, None), (1, 300), (2, 300), (3, 1000)):
        monkeypatch.setattr(mix_module, "BLOCK_BYTES", block or 1 << 19)
        for options in ({}, {"filters": Filters(tags=("easy",))}, {"near_dedup": False}):
            out = tmp_path / f"w{workers}-{block}-{len(runs)}.jsonl"
            mix, manifest = build_mix(f"{path}:200,{corpora['test_in_domain']}:0.5", bfcl_store, seed=5,
                                      workers=workers, **options)
            write_mix(out, mix, manifest)
            expected = b"".join(dumps_sample(sample).encode() + b"\n" for sample in mix)  # parsed and written again
            assert out.read_bytes() == expected
            runs.append((options.keys(), expected, out.with_name(out.stem + ".removed.jsonl").read_bytes()))
    assert all(run == runs[i % 3] for i, run in enumerate(runs))
    removed = [json.loads(line) for line in runs[0][2].splitlines()]
    assert {(r["step"], r.get("kind")) for r in removed} >= {("reject", None), ("dedup", "exact"), ("dedup", "near")}
    assert [r["line"] for r in removed if r["step"] == "reject"] == [3, len(mixed)]
    assert runs[1][1] != runs[0][1] != runs[2][1]
    for line in lines[:50]:  # what the workers send for the filters decides as the whole sample does
        sample = json.loads(line)
        for kept in (Filters(tags=("easy",)), Filters(languages=("en",)), Filters(subsets=("dev",)), Filters(tags=("difficult",))):
            assert kept.accepts(filter_view(sample)) == kept.accepts(sample)


# --- evaluation data: refused, or allowed loudly -------------------------------------------------------


def test_evaluation_subset_needs_explicit_flag(bfcl_store, tmp_path):
    with pytest.raises(MixError, match="allow-eval"):
        build_mix("BFCL/simple_python:10", bfcl_store)
    mix, manifest = build_mix("BFCL/simple_python:10", bfcl_store, allow_eval=True)
    assert len(mix) == 10 and manifest["trained_on_evaluation"] == ["BFCL/simple_python"]
    assert any(w.startswith("TRAINING ON EVALUATION DATA") for w in manifest["warnings"])
    assert "BFCL/simple_python" not in manifest["decontamination"]["against"]
    assert "BFCL/multiple" in manifest["decontamination"]["against"]


# --- the acceptance case ----------------------------------------------------------------------


def planted_corpus(path: Path, clean: list, bfcl_samples) -> dict[str, str]:
    """``clean`` plus three BFCL questions (verbatim; re-cased and re-punctuated; inside a longer prompt)
    and one near miss (other numbers); returns planted sample id → the BFCL sample id it copies."""
    planted: dict[str, str] = {}
    extra = []

    def plant(n: int, source: list, text: str, label: str) -> None:
        sample = json.loads(json.dumps(clean[n]))
        sample[0]["content"] = f"SealTools_planted_{label}"
        next(m for m in sample if m["role"] == "user")["content"] = text
        extra.append(sample)
        if source is not None:
            planted[sample[0]["content"]] = sample_id(source)

    simple = bfcl_samples["simple_python"]
    question = lambda s: next(m["content"] for m in s if m["role"] == "user")  # noqa: E731
    plant(1, simple[0], question(simple[0]), "0")
    longer = next(s for s in simple[1:] if len(question(s).split()) >= 12 and "," in question(s))
    plant(2, longer, question(longer).upper().replace(",", " ;").replace(".", "!!").replace(" ", "  "), "1")
    multi = bfcl_samples["multi_turn_base"][3]
    turn = [m["content"] for m in multi if m["role"] == "user"][1]
    plant(3, multi, f"Before anything else, please note this. {turn} Thanks a lot!", "2")
    # "Find the area of a triangle with a base of 10 units and height of 5 units." with other numbers
    near_miss = question(simple[0]).replace("10", "12").replace("5 units", "7 units")
    assert near_miss != question(simple[0])
    plant(4, None, near_miss, "3")
    write_samples(path, clean + extra)
    return planted


def test_planted_bfcl_questions_are_removed_exactly_and_reported(corpora, bfcl_store, bfcl_samples, tmp_path, shared):
    from opentoollab.trainer.dedup import normalize_text, user_turns

    dirty = tmp_path / "dirty.jsonl"
    planted = planted_corpus(dirty, seal_tools_samples(shared, "dev"), bfcl_samples)
    spec = f"{corpora['test_in_domain']},{dirty},{corpora['test_out_domain']}:40"
    mix, manifest = build_mix(spec, bfcl_store, seed=1)
    contaminated = {r["id"]: r for r in manifest["removed"] if r["step"] == "decontaminate"}
    assert set(contaminated) == set(planted)
    assert [r["contaminated"] for r in manifest["sources"]] == [0, 3, 0]
    assert manifest["decontamination"]["removed"] == 3
    assert set(manifest["decontamination"]["against"]) == {f"BFCL/{s}" for s in bfcl_samples}
    ids = set(_ids(mix))
    assert "SealTools_planted_3" in ids and not ids & set(planted)
    assert {i: r["kind"] for i, r in contaminated.items()} == {
        "SealTools_planted_0": "exact", "SealTools_planted_1": "exact", "SealTools_planted_2": "ngram"}
    assert contaminated["SealTools_planted_0"]["eval_id"] == planted["SealTools_planted_0"]
    assert contaminated["SealTools_planted_1"]["eval_id"] == planted["SealTools_planted_1"]
    # the reported eval sample really holds the overlapping text (BFCL repeats multi-turn questions across categories)
    by_id = {sample_id(s): s for subset in bfcl_samples.values() for s in subset}
    hit = contaminated["SealTools_planted_2"]
    assert len(hit["overlap"].split()) == 13
    assert any(hit["overlap"] in normalize_text(t) for t in user_turns(by_id[hit["eval_id"]]))


# --- command line --------------------------------------------------------------------------------------


def test_cli_mix_writes_jsonl_manifest_and_report(corpora, bfcl_store, bfcl_samples, tmp_path, shared):
    from opentoollab.cli.mix import mix as mix_command

    dirty = tmp_path / "dirty.jsonl"
    planted = planted_corpus(dirty, seal_tools_samples(shared, "dev"), bfcl_samples)
    out = tmp_path / "out" / "train.jsonl"
    args = ["--datasets", f"{dirty},{corpora['test_in_domain']}:30", "--out", str(out), "--seed", "5",
            "--data-dir", str(bfcl_store.root)]
    result = CliRunner().invoke(mix_command, args)
    assert result.exit_code == 0, result.output
    assert "contaminated" in result.output and "3" in result.output
    manifest = json.loads((tmp_path / "out" / "train.manifest.json").read_text())
    removed = [json.loads(line) for line in (tmp_path / "out" / "train.removed.jsonl").read_text().splitlines()]
    assert {r["id"] for r in removed if r["step"] == "decontaminate"} == set(planted)
    assert manifest["output"]["samples"] == len(list(iter_samples(out)))
    result = CliRunner().invoke(mix_command, ["--datasets", "BFCL:5", "--out", str(out), "--data-dir", str(bfcl_store.root)])
    assert result.exit_code == 1 and "allow-eval" in result.output and "Traceback" not in result.output
    result = CliRunner().invoke(mix_command, ["--datasets", "BFCL/simple_python:5", "--allow-eval", "--out", str(out),
                                              "--data-dir", str(bfcl_store.root)])
    assert result.exit_code == 0 and "TRAINING ON EVALUATION DATA" in result.output
    assert json.loads((tmp_path / "out" / "train.manifest.json").read_text())["trained_on_evaluation"] == ["BFCL/simple_python"]


def test_trainer_prepare_takes_a_mix_spec(corpora, bfcl_store, bfcl_samples, tmp_path, shared):
    from opentoollab.cli.trainer import trainer

    dirty = tmp_path / "dirty.jsonl"
    planted = planted_corpus(dirty, seal_tools_samples(shared, "dev"), bfcl_samples)
    out = tmp_path / "prepared"
    spec = f"{dirty},{corpora['test_in_domain']}:25"
    args = ["prepare", "--datasets", spec, "--model", "Qwen2.5", "--format", "messages", "--out", str(out),
            "--data-dir", str(bfcl_store.root), "-q"]
    result = CliRunner().invoke(trainer, args)
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    mixed = manifest["inputs"][0]["mix"]
    assert sorted(mixed["removed_ids"]["decontaminate"]) == sorted(planted)
    expected_in = sum(r["taken"] for r in mixed["sources"])
    assert manifest["counts"]["in"] == expected_in == mixed["sources"][0]["available"] + 25
    # the same spec through `trainer mix` gives the same samples
    mix, _ = build_mix(spec, bfcl_store, seed=0)
    assert len(mix) == expected_in
    result = CliRunner().invoke(trainer, ["prepare", "--datasets", "BFCL/simple_python:5", "--out", str(out),
                                          "--data-dir", str(bfcl_store.root), "-q"])
    assert result.exit_code == 2 and "allow-eval" in result.output


def test_tag_filters_read_python_tag_records(corpora, bfcl_store, tmp_path):
    """Tags written by the tagger beside a file (<stem>.tags.jsonl) drive --tag / --exclude-tag."""
    from opentoollab.format.jsonl import write_jsonl
    from opentoollab.tag.tagging import tag_file, tags_path_for

    path = tmp_path / "dev.jsonl"
    path.write_bytes(corpora["dev"].read_bytes())
    records = [record for _n, _line, record in tag_file(path)]
    write_jsonl(tags_path_for(path), records)
    wanted = {r["id"] for r in records if "single" in r["categories"]}
    assert 0 < len(wanted) < len(records)
    single, manifest = build_mix(str(path), bfcl_store, filters=Filters(tags=("single",)), decontaminate=False)
    assert set(_ids(single)) == wanted
    rest, _ = build_mix(str(path), bfcl_store, filters=Filters(exclude_tags=("single",)), decontaminate=False)
    assert set(_ids(rest)) == {r["id"] for r in records} - wanted
    both, _ = build_mix(str(path), bfcl_store, filters=Filters(tags=("single+easy",)), decontaminate=False)
    assert set(_ids(both)) == {i for i in wanted if i in {sample_id(s) for s in single if "easy" in meta(s)["tags"]}}
