"""ToolBench adapter on the real slice in ../shared/samples/toolbench (data_example/ of OpenBMB/ToolBench)."""

from __future__ import annotations

import copy
import json

import pytest

from adapter_support import by_role, cli_process, run, write_json
from opentoollab.datasets.sources import get_source


@pytest.fixture(scope="module")
def origin(shared):
    return shared / "samples/toolbench"


@pytest.fixture(scope="module")
def result(origin, tmp_path_factory):
    return run("ToolBench", origin, tmp_path_factory.mktemp("toolbench"))


def _answer(origin, name):
    return json.loads((origin / "data_example/answer" / name).read_text("utf-8"))


def _trajectory(result, subset, source_id):
    return next(s for s in result.samples[subset] if s[1]["content"]["source_id"] == source_id
                and "dfs-trajectory" in s[1]["content"]["tags"])


def test_counts_and_the_one_reject(result):
    assert {s: (r["in"], r["out"], r["rejected"]) for s, r in result.manifest["subsets"].items()} == {
        "G1": (7, 7, 0), "G3": (3, 2, 1)}  # G1: 5 queries + 2 trees; G3: 2 queries + 1 tree
    [reject] = result.rejects
    assert reject["source_file"] == "data_example/answer/G3_answer/21_ChatGPT_DFS_woFilter_w2.json"
    assert reject["reason"] == "tree step 4: call to 'dota_2_steam_web', which is not among the declared tools"
    assert get_source("toolbench").evaluation_subsets == ()


@pytest.mark.parametrize("name,source_id", [("G1_answer/10_ChatGPT_DFS_woFilter_w2.json", 10),
                                            ("G1_answer/11_ChatGPT_DFS_woFilter_w2.json", 11)])
def test_successful_path_is_the_trajectory_with_real_responses(origin, result, name, source_id):
    raw = _answer(origin, name)["answer_generation"]
    sample = _trajectory(result, "G1", source_id)
    steps = raw["train_messages"][-1][2:]  # ToolBench's own extraction of the winning chain
    calls = [c for m in by_role(sample, "tool_call") for c in m["content"]]
    wanted = [m["function_call"] for m in steps if m["role"] == "assistant" and m["function_call"]["name"] != "Finish"]
    assert [(c["name"], c["parameters"]) for c in calls] == [(f["name"], json.loads(f["arguments"])) for f in wanted]
    results = [v for m in by_role(sample, "tool_response") for v in m["content"].values()]
    real = [m["content"] for m in steps if m["role"] == "function"]
    for got, text in zip(results, real, strict=True):
        assert got == text or got == json.loads(text)  # a truncated observation ("...") stays the exact text
    assert sample[-1] == {"role": "assistant", "content": json.loads(raw["final_answer"])["final_answer"]}
    assert by_role(sample, "user")[0]["content"] == raw["query"]
    assert "Finish" not in [t["name"] for t in sample[2]["content"]]
    thoughts = [m["content"] for m in steps if m["role"] == "assistant" and m["content"]]
    assert [m["content"] for m in by_role(sample, "assistant")[:-1]] == thoughts


def test_query_api_list_to_json_schema(origin, result):
    raw = json.loads((origin / "data_example/instruction/G3_query.json").read_text("utf-8"))[0]
    sample = next(s for s in result.samples["G3"] if s[1]["content"]["source_id"] == raw["query_id"])
    assert [m["role"] for m in sample] == ["id", "meta", "candidate_tools", "user"]
    assert sample[-1]["content"] == raw["query"]
    tools = {t["name"]: t for t in sample[2]["content"]}
    assert len(tools) == len(raw["api_list"])
    recipe = tools["detailed_cocktail_recipe_by_id_for_the_cocktail_db"]
    assert recipe["parameters"] == {"type": "object", "required": ["is_id"], "properties": {"is_id": {
        "type": "string", "description": "", "example_value": "45", "x-original-name": "id"}}}
    assert recipe["response"]["ingredients"] == {"type": "array"} and recipe["x-toolbench"]["api_name"] == "Detailed Cocktail Recipe by ID"
    assert tools["iex_short_interest_list_for_investors_exchange_iex_trading"]["parameters"]["properties"]["symbol"][
        "x-original-type"] == "STRING"
    assert "relevant:list_of_cocktails_for_the_cocktail_db" in sample[1]["content"]["tags"]
    assert "query-only" in sample[1]["content"]["tags"]


def test_failed_branches_are_dropped_and_counted(origin, tmp_path):
    """A variant of the real tree with a dead-end sibling (give_up_and_restart) before the winning branch."""
    real = _answer(origin, "G1_answer/10_ChatGPT_DFS_woFilter_w2.json")
    tree = copy.deepcopy(real)
    root = tree["tree"]["tree"]
    dead = copy.deepcopy(root["children"][0])
    leaf = dead
    while leaf.get("children"):
        leaf = leaf["children"][0]
    leaf["description"] = json.dumps({"return_type": "give_up_and_restart"})
    root["children"].insert(0, dead)
    write_json(tmp_path / "raw/answer/G1_answer/10_variant.json", tree)
    lost = copy.deepcopy(real)
    lost["tree"]["tree"]["children"] = [dead]
    write_json(tmp_path / "raw/answer/G1_answer/12_variant.json", lost)
    got = run("ToolBench", tmp_path / "raw", tmp_path / "out")
    assert got.manifest["counters"]["toolbench_failed_branch_leaves_dropped"] == 1
    assert got.reasons() == ["the tree has no successful path (no Finish with give_answer)"]
    [sample] = got.samples["G1"]
    assert [c["content"][0]["name"] for c in by_role(sample, "tool_call")] == [
        "transitaires_for_transitaires", "transitaire_for_transitaires"]


def test_cli_process_as_a_user_runs_it(origin, tmp_path):
    out = cli_process("tool-bench", origin, tmp_path)
    assert "ToolBench: in 10 = out 9 + rejected 1" in out
