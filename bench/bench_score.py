"""Scoring speed on all BFCL predictions: ours vs BFCL's official checker (imported from the wheel), in one run.

    python bench/bench_score.py [--data-dir DIR]      # needs BFCL processed (python datasets deal BFCL)

Predictions: BFCL's possible answers (gold) plus every deliberately wrong variant of them
(scoring.parity.mutations), for all single-turn AST items; multi-turn gold trajectories separately.
Prints items/s for both checkers and the agreement rate.
"""

from __future__ import annotations

import argparse
import time

from opentoollab.benchmark.scoring import Environments, item_of
from opentoollab.benchmark.scoring.checker import check_calls
from opentoollab.benchmark.scoring.multi_turn import truth_turns
from opentoollab.benchmark.scoring.parity import PARITY_MODEL, bfcl_entries, gold_calls, load_official, mutations, official_output
from opentoollab.benchmark.scoring.score import score_item
from opentoollab.datasets.sources.bfcl import RawFiles
from opentoollab.datasets.store import Store, iter_inputs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    store = Store(parser.parse_args().data_dir)
    official = load_official(RawFiles(store.raw_dir("BFCL")).wheel)
    entries, answers = bfcl_entries(store.raw_dir("BFCL"))
    languages = {"python": official.Language.PYTHON, "java": official.Language.JAVA, "javascript": official.Language.JAVASCRIPT}

    cases, multi = [], []
    for sample in iter_inputs(["BFCL"], store):
        item = item_of(sample)
        if item.kind == "ast":
            gold = gold_calls(item.functions, item.answers, item.language)
            cases += [(item, calls) for _kind, calls in [("gold", gold), *mutations(gold)]]
        elif item.kind == "multi_turn":
            multi.append((item, [[[{"name": c["name"], "arguments": c["parameters"]} for c in t]] if t else []
                                 for t in truth_turns(sample)]))

    started = time.perf_counter()
    ours = [check_calls(item.functions, calls, item.answers, item.mode, item.options())["valid"] for item, calls in cases]
    t_checker = time.perf_counter() - started
    started = time.perf_counter()
    full = [score_item(item, {"calls": calls})[0]["valid"] for item, calls in cases]
    t_full = time.perf_counter() - started
    started = time.perf_counter()
    theirs = []
    for item, calls in cases:
        try:
            theirs.append(official.ast_checker(entries[item.source_id]["function"], official_output(calls),
                                               answers[item.source_id], languages[item.language], item.category,
                                               PARITY_MODEL)["valid"])
        except Exception:
            theirs.append(False)
    t_official = time.perf_counter() - started
    agree = sum(a == b for a, b in zip(full, theirs))
    n = len(cases)
    print(f"AST predictions: {n} (gold + wrong variants), agreement with the official checker {agree}/{n} = {agree / n:.4%}")
    print(f"  ours, checker only        {t_checker:7.2f}s  {n / t_checker:10.0f}/s")
    print(f"  ours, + decode + metrics  {t_full:7.2f}s  {n / t_full:10.0f}/s")
    print(f"  official ast_checker      {t_official:7.2f}s  {n / t_official:10.0f}/s")
    assert ours == full

    environments = Environments(store.raw_dir("BFCL"))
    started = time.perf_counter()
    valid = sum(score_item(item, {"turns": turns}, environments=environments)[0]["valid"] for item, turns in multi)
    t_multi = time.perf_counter() - started
    print(f"multi-turn gold trajectories: {valid}/{len(multi)} valid, {t_multi:.2f}s, {len(multi) / t_multi:.0f}/s "
          f"(executed in BFCL's environments; official timing needs eval of call strings, not run here)")


if __name__ == "__main__":
    main()
