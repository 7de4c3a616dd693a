"""Tagging and rule verification: BFCL categories, each rule broken and kept, CLI, filters, report, judge."""

from __future__ import annotations

import copy
import json

import pytest
from click.testing import CliRunner

from openai_server import serve
from opentoollab.format.sample import sample_id
from opentoollab.tag.tagging import SHAPES, detect_language, load_tags, matches, tag_sample

# What each BFCL subset implies (call shape, special tags); the multi-turn shape is not BFCL's.
EXPECTED = {
    "simple_python": ("single", set()), "simple_java": ("single", set()), "simple_javascript": ("single", set()),
    "live_simple": ("single", set()), "multiple": ("multiple", set()), "live_multiple": ("multiple", set()),
    "parallel": ("parallel", set()), "live_parallel": ("parallel", set()),
    "parallel_multiple": ("parallel_multiple", set()), "live_parallel_multiple": ("parallel_multiple", set()),
    "irrelevance": ("no_call", {"irrelevance"}), "live_irrelevance": ("no_call", {"irrelevance"}),
    "live_relevance": (None, {"relevance"}),
    "multi_turn_base": (None, {"multi_turn"}), "multi_turn_miss_func": (None, {"multi_turn", "miss_func"}),
    "multi_turn_miss_param": (None, {"multi_turn", "miss_param"}),
    "multi_turn_long_context": (None, {"multi_turn", "long_context"}),
}
SPECIAL_MT = {"miss_func", "miss_param", "long_context"}


@pytest.fixture(scope="session")
def bfcl_records(bfcl_samples):
    return {subset: [tag_sample(s) for s in samples] for subset, samples in bfcl_samples.items()}


def test_bfcl_categories_agree_with_subsets(bfcl_records):
    assert set(bfcl_records) == set(EXPECTED)
    for subset, records in bfcl_records.items():
        shape, special = EXPECTED[subset]
        for record in records:
            cats = set(record["categories"])
            shapes = cats & set(SHAPES)
            assert special <= cats, (record["id"], cats)
            if shape:
                assert shapes == {shape}, (record["id"], cats)
            if subset.startswith("multi_turn"):
                assert cats & SPECIAL_MT == special - {"multi_turn"}, (record["id"], cats)
            else:
                assert not cats & {"miss_func", "miss_param"}, record["id"]
            if subset == "live_relevance":
                assert not shapes


def test_structure_not_meta_decides_where_it_can(bfcl_records):
    # Only documented meta-only cases come from meta: miss_param, relevance, the one-turn multi_turn
    # samples, long_context without a long message, and parallel-with-several-tools.
    for subset, records in bfcl_records.items():
        for record in records:
            for name in record["from_meta"]:
                assert name in {"miss_param", "relevance", "multi_turn", "long_context", "parallel", "irrelevance"}
                if name == "multi_turn":
                    assert record["counts"]["turns"] == 1
                if name == "parallel":
                    assert record["counts"]["tools"] > 1
    assert all("miss_func" not in r["from_meta"] for r in bfcl_records["multi_turn_miss_func"])
    assert all("irrelevance" not in r["from_meta"] for r in bfcl_records["irrelevance"])
    # multi-step: BFCL multi-turn chains each turn's calls, so every turn with 2+ calls is a multi-step wave
    assert any("multi_step" in r["categories"] and "dependent" in r["categories"] for r in bfcl_records["multi_turn_base"])
    assert not any("dependent" in r["categories"] for r in bfcl_records["parallel"])


def test_bfcl_flags_are_real(bfcl_records, bfcl_samples):
    """Every flag on BFCL is checked against the sample itself, independently of the checker's logic."""
    by_id = {sample_id(s): s for samples in bfcl_samples.values() for s in samples}
    rules = set()
    for records in bfcl_records.values():
        for record in records:
            sample = by_id[record["id"]]
            for problem in record["problems"]:
                rules.add(problem["rule"])
                assert problem["rule"] in {"type_mismatch", "enum_mismatch", "undeclared_param", "missing_required",
                                           "tool_enum_conflict", "duplicate_turn"}, problem
                path = problem["path"]
                index = int(path[2:path.index("]")])
                message = sample[index]
                if problem["rule"] == "duplicate_turn":
                    assert message == sample[index - 1]
                elif problem["rule"] == "tool_enum_conflict":
                    assert message["role"] == "candidate_tools"
                elif problem["rule"] in ("undeclared_param", "missing_required"):
                    position = int(path.split(".content[")[1].split("]")[0])
                    call = message["content"][position]
                    tool = next(t for t in _tools_before(sample, index) if t["name"] == call["name"])
                    declared = set(tool["parameters"]["properties"])
                    if problem["rule"] == "undeclared_param":
                        assert path.rsplit(".", 1)[1] not in declared
                    else:
                        assert not set(tool["parameters"]["required"]) <= set(call["parameters"])
                else:
                    assert message["role"] in ("tool_call", "tool_call_ground_truth")
    # what BFCL v4 really holds (see docs/tag.md): typos in enums, wrong-type candidates, a misnamed parameter
    assert {"type_mismatch", "enum_mismatch", "undeclared_param", "missing_required"} <= rules
    flagged = sum(not r["valid"] for records in bfcl_records.values() for r in records)
    assert 0 < flagged < 0.05 * sum(len(r) for r in bfcl_records.values())


def _tools_before(sample, index):
    tools = []
    for message in sample[:index]:
        if message["role"] == "candidate_tools":
            tools = message["content"]
    return tools


# ---------------------------------------------------------------------------- each rule: broken and kept
def _base():
    """A valid executed trajectory: two dependent calls with a link, then an answer."""
    tool_a = {"name": "find", "description": "Find a city id.", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}},
        "required": ["city"]}}
    tool_b = {"name": "weather", "description": "Weather by id.", "parameters": {
        "type": "object", "properties": {"id": {"type": "integer"}, "days": {"type": "number"}}, "required": ["id"]}}
    return [
        {"role": "id", "content": "T_x_0"},
        {"role": "candidate_tools", "content": [tool_a, tool_b]},
        {"role": "user", "content": "What is the weather in Paris for the next 2 days?"},
        {"role": "tool_call", "content": [
            {"name": "find", "parameters": {"city": "Paris", "unit": "c"}, "depend_on": []},
            {"name": "weather", "parameters": {"id": "<link>find.0.id</link>", "days": 2}, "depend_on": ["find.0"]}]},
        {"role": "tool_response", "content": {"find.0": {"id": 7}, "weather.0": {"sky": "sun"}}},
        {"role": "assistant", "content": "Sunny."},
    ]


def _rules(sample):
    return {(p["rule"], p["path"]) for p in tag_sample(sample)["problems"]}


def test_valid_sample_is_clean_and_categorised():
    record = tag_sample(_base())
    assert record["valid"] and record["problems"] == []
    assert record["categories"] == ["multiple", "dependent", "multi_step"]
    assert record["counts"]["calls"] == 2 and record["counts"]["waves"] == 2 and record["language"] == "en"


def _break(mutate):
    sample = _base()
    mutate(sample)
    return _rules(sample)


@pytest.mark.parametrize("mutate, expected", [
    (lambda s: s[1]["content"][0]["parameters"]["properties"]["city"].update(minLength="x"),
     ("tool_schema_invalid", "$[1].content[0].parameters.properties.city.minLength")),
    (lambda s: s[1]["content"][0]["parameters"]["properties"]["city"].update(pattern="(unclosed"),
     ("tool_schema_invalid", "$[1].content[0].parameters.properties.city.pattern")),
    (lambda s: s[1]["content"][0]["parameters"]["properties"]["unit"].update(type="array"),
     ("tool_enum_conflict", "$[1].content[0].parameters.properties.unit.enum")),
    (lambda s: s[1]["content"].pop(1), ("unknown_tool", "$[3].content[1].name")),
    (lambda s: s[3]["content"][0]["parameters"].pop("city"), ("missing_required", "$[3].content[0].parameters")),
    (lambda s: s[3]["content"][1]["parameters"].update(days="two"), ("type_mismatch", "$[3].content[1].parameters.days")),
    (lambda s: s[3]["content"][0]["parameters"].update(unit="kelvin"), ("enum_mismatch", "$[3].content[0].parameters.unit")),
    (lambda s: s[3]["content"][0]["parameters"].update(country="FR"), ("undeclared_param", "$[3].content[0].parameters.country")),
    (lambda s: s[3]["content"][1]["parameters"].update(id="<link>find.0.code</link>"), ("link_unresolved", "$[3].content[1].parameters.id")),
    (lambda s: s.pop(4), ("call_unanswered", "$[3]")),
    (lambda s: s[5].update(content="  "), ("empty_turn", "$[5].content")),
    (lambda s: s.insert(3, dict(s[2])), ("duplicate_turn", "$[3]")),
])
def test_each_rule_breaks_and_is_reported_with_its_path(mutate, expected):
    assert expected in _break(mutate)


def test_kept_variants_are_not_flagged():
    # links resolved to real results are type-checked as the resolved value (id 7 is an integer)
    assert _rules(_base()) == set()
    # integer where a number is declared, a value equal to the declared default, open objects
    sample = _base()
    sample[1]["content"][1]["parameters"]["properties"]["days"]["default"] = None
    sample[3]["content"][1]["parameters"]["days"] = None
    sample[1]["content"][0]["parameters"]["additionalProperties"] = True
    sample[3]["content"][0]["parameters"]["extra"] = 1
    assert _rules(sample) == set()
    # ground truth: "" means may omit; BFCL nested candidate lists in an object are accepted
    truth = [{"role": "id", "content": "T_x_1"},
             {"role": "candidate_tools", "content": [{"name": "book", "description": "", "parameters": {
                 "type": "object", "required": ["who"], "properties": {
                     "who": {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}}},
                     "n": {"type": "integer"}}}}]},
             {"role": "user", "content": "Book for Ann, 30."},
             {"role": "tool_call_ground_truth", "content": [{"name": "book", "parameters": {
                 "who": [{"name": ["Ann", "ann"], "age": [30, ""]}], "n": ["", 1]}, "depend_on": []}]}]
    assert _rules(truth) == set()
    assert tag_sample(truth)["categories"] == ["single"]
    truth[3]["content"][0]["parameters"]["who"][0]["age"] = ["thirty"]
    assert _rules(truth) == {("type_mismatch", "$[3].content[0].parameters.who[0].age[0]")}


def test_broken_input_never_crashes():
    for bad in ([], {"role": "user"}, [{"role": "id", "content": "x"}], "text", [{"role": "user", "content": 3}]):
        record = tag_sample(bad)
        assert not record["valid"] and record["problems"][0]["rule"] == "schema"


def test_language_detection():
    assert detect_language("请问北京的当前天气状况如何？") == "zh"
    assert detect_language("What is the weather like in Boston?") == "en"
    assert detect_language("¿Cuál es el clima en la ciudad de Madrid para el fin de semana?") == "es"
    assert detect_language("東京の天気はどうですか") == "ja"


def test_matches():
    record = {"categories": ["parallel", "dependent"], "valid": False, "language": "zh",
              "problems": [{"rule": "type_mismatch", "path": "$", "message": ""}]}
    assert matches(record, ["parallel"]) and matches(record, ["single", "parallel+dependent"])
    assert not matches(record, ["parallel+multi_turn"])
    assert not matches(record, [], ["invalid"]) and not matches(record, ["parallel"], ["lang:zh"])
    assert matches(record, ["problem:type_mismatch"]) and matches(None, []) and not matches(None, ["parallel"])


# ---------------------------------------------------------------------------- CLI, files, report
def test_cli_run_drop_invalid_and_report(bfcl_store, tmp_path):
    from opentoollab.cli.tag import tag

    runner = CliRunner()
    root = str(bfcl_store.root)
    result = runner.invoke(tag, ["run", "--datasets", "BFCL/live_multiple,BFCL/multi_turn_miss_func",
                                 "--drop-invalid", "-q", "--data-dir", root])
    assert result.exit_code == 0, result.output
    tags = load_tags(bfcl_store, "BFCL")
    samples = {sample_id(s): s for name in ("live_multiple", "multi_turn_miss_func")
               for s in map(json.loads, (bfcl_store.processed_dir("BFCL") / f"{name}.jsonl").read_text().splitlines())}
    assert set(tags) == set(samples)
    folder = bfcl_store.root / "tags" / "BFCL"
    manifest = json.loads((folder / "manifest.json").read_text())
    row = manifest["subsets"]["live_multiple"]
    assert row["samples"] == 1053 == row["valid"] + row["invalid"]
    filtered = row["filtered"]
    assert filtered["in"] == filtered["kept"] + filtered["dropped"] and filtered["dropped"] == row["invalid"]
    kept = [json.loads(line) for line in (folder / "valid" / "live_multiple.jsonl").read_text().splitlines()]
    dropped = [json.loads(line) for line in (folder / "valid" / "live_multiple.dropped.jsonl").read_text().splitlines()]
    assert len(kept) == filtered["kept"] and all(tags[sample_id(s)]["valid"] for s in kept)
    assert all(samples[sample_id(s)] == s for s in kept)  # copied, never changed
    assert {d["id"] for d in dropped} == {i for i, r in tags.items() if not r["valid"] and i.startswith("BFCL_live_multiple")}
    assert all(d["rules"] and d["problems"] for d in dropped)
    # --ignore makes a rule non-blocking
    result = runner.invoke(tag, ["run", "--datasets", "BFCL/live_multiple", "--drop-invalid", "-q", "--data-dir", root,
                                 "--ignore", "enum_mismatch,tool_enum_conflict,type_mismatch"])
    assert result.exit_code == 0
    again = json.loads((folder / "valid" / "manifest.json").read_text())["subsets"]["live_multiple"]
    assert again["dropped"] < filtered["dropped"] and "enum_mismatch" not in again["dropped_by_rule"]

    out = tmp_path / "report"
    result = runner.invoke(tag, ["report", "BFCL/live_multiple", "--out", str(out), "--data-dir", root])
    assert result.exit_code == 0, result.output
    assert "multiple" in result.output and "1053" in result.output
    page = (out / "report.html").read_text()
    assert "<table>" in page and "data:image/png;base64," in page
    assert (out / "categories.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_file_input_and_errors(tmp_path, bfcl_samples):
    from opentoollab.cli.tag import tag

    good = bfcl_samples["parallel"][0]
    broken = copy.deepcopy(good)
    broken[-1]["content"][0]["name"] = "nope"
    path = tmp_path / "mine.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps(broken) + "\nnot json\n")
    runner = CliRunner()
    result = runner.invoke(tag, ["run", str(path), "-q", "--data-dir", str(tmp_path / "data")])
    assert result.exit_code == 0, result.output
    lines = [json.loads(l) for l in (tmp_path / "mine.tags.jsonl").read_text().splitlines()]
    assert [l["valid"] for l in lines] == [True, False, False]
    assert lines[1]["problems"][0]["rule"] == "unknown_tool" and lines[2]["problems"][0]["rule"] == "json"
    assert (tmp_path / "mine.tags.manifest.json").is_file()
    result = runner.invoke(tag, ["run", "--datasets", "NOPE", "--data-dir", str(tmp_path / "data")])
    assert result.exit_code == 1 and "error:" in result.output and "Traceback" not in result.output
    result = runner.invoke(tag, ["run", str(path), "--ignore", "bogus"])
    assert result.exit_code == 2


# ---------------------------------------------------------------------------- the optional LLM judge
JUDGE_CALLS: list = []


def _judge(path: str, body: dict):
    JUDGE_CALLS.append(body)
    text = body["messages"][-1]["content"]
    # a tiny but real judge: flags a call whose city value never appears in the user's words
    user = " ".join(line for line in text.splitlines() if line.startswith("[user]"))
    flagged = [{"call": "find.0", "parameter": "city", "reason": "not in dialogue"}] if "Paris" not in user else []
    answer = json.dumps({"hallucinated": flagged, "consistent": "Rainy" not in text, "reason": "checked"})
    return 200, {"choices": [{"message": {"role": "assistant", "content": f"```json\n{answer}\n```"}}]}


@pytest.fixture()
def judge_server():
    JUDGE_CALLS.clear()
    with serve(_judge) as url:
        yield url


def test_judge_flags_and_caches(judge_server, tmp_path):
    from opentoollab.cli.tag import tag

    clean = _base()
    invented = _base()
    invented[0]["content"] = "T_x_1"
    invented[2]["content"] = "What is the weather for the next 2 days?"
    contradict = _base()
    contradict[0]["content"] = "T_x_2"
    contradict[5]["content"] = "Rainy."
    path = tmp_path / "judged.jsonl"
    path.write_text("".join(json.dumps(s) + "\n" for s in (clean, invented, contradict)))
    args = ["run", str(path), "-q", "--judge-url", judge_server, "--judge-model", "tiny",
            "--judge-cache", str(tmp_path / "cache.sqlite")]
    result = CliRunner().invoke(tag, args)
    assert result.exit_code == 0, result.output
    assert len(JUDGE_CALLS) == 3 and JUDGE_CALLS[0]["model"] == "tiny"
    records = [json.loads(l) for l in (tmp_path / "judged.tags.jsonl").read_text().splitlines()]
    assert records[0]["valid"] and not records[0]["judge"]["cached"]
    assert [p["rule"] for p in records[1]["problems"]] == ["judge_hallucinated_value"]
    assert records[1]["problems"][0]["path"] == "$[3].content[0].parameters.city"
    assert [p["rule"] for p in records[2]["problems"]] == ["judge_inconsistent_response"]
    result = CliRunner().invoke(tag, args)  # rerun: every answer from the cache, no new request
    assert result.exit_code == 0 and len(JUDGE_CALLS) == 3 and "3 answered from cache" in result.output
    assert all(json.loads(l)["judge"]["cached"] for l in (tmp_path / "judged.tags.jsonl").read_text().splitlines())


def test_a_judge_answer_that_cannot_be_read_is_no_verdict_not_a_crash():
    """The judge's answer is a model's text: JSON too deep for the standard parser or with an integer past the digit
    limit counts as an answer with no JSON object (an error in the record), like prose does."""
    from opentoollab.tag.judge import parse_verdict

    assert parse_verdict('Sure: {"correct": true} ok') == {"correct": True}
    for answer in ('{"a":' * 5000 + "1" + "}" * 5000, '{"n": ' + "9" * 5000 + "}", "no json here"):
        assert parse_verdict(answer) is None
