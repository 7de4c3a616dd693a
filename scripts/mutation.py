"""Mutation testing of the core modules with mutmut (not part of CI: about an hour on 2 cores).

    python scripts/mutation.py                 # every group
    python scripts/mutation.py dedup checker   # some groups
    python scripts/mutation.py --list          # the groups, their modules and tests

Each group maps a few library modules to the fast tests that exercise them. A group runs in its
own copy of the repository under ``.cache/mutation/<group>`` (mutmut rewrites the files it mutates,
so the working tree is never touched), with mutmut 3 from a venv in ``.cache/mutmut-venv`` that
this script creates (mutmut needs a newer libcst than the main environment may hold). The figures
(mutants, killed, survived per module) go to ``.cache/mutation/<group>.json`` and are printed as the
table kept in docs/testing.md, followed by every surviving mutant's diff. Rerun a group whenever its
modules change, and explain each survivor there (equivalent) or add a test that kills it.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / ".cache"
VENV = CACHE / "mutmut-venv"
MUTMUT = "mutmut==3.8.1"
SRC = "src/opentoollab/"

LINKS_FAST = [f"tests/test_links.py::{name}" for name in (
    "test_trivial_values_are_never_linkable", "test_a_token_from_a_result_becomes_a_link_with_depend_on",
    "test_user_given_values_echoes_and_same_list_calls_are_not_linked",
    "test_nested_values_whole_results_and_the_most_recent_result",
    "test_numbers_must_match_exactly_and_dotted_keys_are_skipped", "test_store_hook_counts_links_and_can_be_switched_off",
    "test_resolving_every_inferred_link_gives_back_the_original_values", "test_adapter_and_inference_agree_with_a_direct_call")]
CONCURRENCY_FAST = [f"tests/test_concurrency.py::{name}" for name in (
    "test_a_busy_lock_is_one_clear_line", "test_a_kill_between_the_renames_is_finished_by_the_next_run",
    "test_catalog_and_folder_are_one_unit_when_the_catalog_rename_fails",
    "test_leftovers_of_killed_runs_are_cleaned_or_recovered", "test_tag_run_out_keeps_each_corpus_apart")]
STORE_FAST = [f"tests/test_store.py::{name}" for name in (
    "test_bad_records_go_to_rejects_with_location_and_reason", "test_cli_exit_code_only_fails_when_a_whole_subset_fails",
    "test_corrupt_download_is_caught_by_checksum")]

# group → (modules to mutate, tests that run against them, mutant-name globs to restrict to (all when empty)).
# Groups in PREBUILT mutate nothing that processing runs: their tests read one BFCL data root processed up front
# (tests/conftest.py, OPENTOOLLAB_TEST_BFCL_DATA) instead of processing BFCL again for every mutant.
GROUPS: dict[str, tuple[list[str], list[str], list[str]]] = {
    # format and store skip the tests that process all of BFCL (bfcl_store, the two-run race: 6-12 s per mutant);
    # tests/test_mutation_kills_core.py processes a few real BFCL records instead (carry-over, byte identity)
    "format": ([SRC + "format/sample.py", SRC + "format/validate.py", SRC + "format/jsonl.py", SRC + "format/links.py"],
               ["tests/test_validate.py", *LINKS_FAST, "tests/test_fuzz_inputs.py", "tests/test_security_limits.py",
                *CONCURRENCY_FAST, "tests/test_planted_store_rejects.py", "tests/test_mutation_kills.py",
                "tests/test_mutation_kills_core.py"], []),
    "store": ([SRC + "datasets/store.py", SRC + "datasets/convert.py"],  # convert: one record's conversion
              ["tests/test_planted_store_rejects.py", *STORE_FAST, *CONCURRENCY_FAST, "tests/test_toolace.py",
               "tests/test_links.py::test_store_hook_counts_links_and_can_be_switched_off",
               "tests/test_mutation_kills.py", "tests/test_mutation_kills_core.py"],
              # the pipeline's bookkeeping: totals, reject paths, the atomic swap, subset carry-over (about 14 min on
              # 2 shared cores; paths, CLI lookups, progress bars and the per-record conversion helpers are left out)
              [f"opentoollab.datasets.store.x_{name}__mutmut_*" for name in (
                  "_process", "_carry_over", "_merge_rejects")]
              + [f"opentoollab.datasets.convert.x_{name}__mutmut_*" for name in ("_rejected", "invalid_reason")]),
    "dedup": ([SRC + "trainer/dedup.py", SRC + "trainer/decontaminate.py"],
              ["tests/test_planted_dedup.py", "tests/test_dedup.py", "tests/test_decontaminate.py",
               "tests/test_mutation_kills.py"], []),
    "checker": ([SRC + "benchmark/scoring/checker.py"],
                ["tests/test_score_rules.py", "tests/test_score_parity.py", "tests/test_mutation_kills.py",
                 "tests/test_mutation_kills_checker.py"], []),
    # the renderers' span logic: Builder (every renderer marks its learned text through it)
    "spans": ([SRC + "trainer/render/base.py"],
              ["tests/test_planted_spans.py", "tests/test_render_parity.py::test_spans_cover_exactly_the_assistant_parts",
               "tests/test_render_parity.py::test_spans_equal_what_appending_each_assistant_message_adds",
               "tests/test_mutation_kills.py"],
              ["opentoollab.trainer.render.base.xǁBuilderǁ*"]),
}


PREBUILT = {"dedup", "checker", "spans"}
ENTRY_FOLDERS = ("datasets", "tools", "trainer", "benchmark", "tag")


def ensure_venv() -> Path:
    python = VENV / "bin" / "python"
    if not (VENV / "bin" / "mutmut").is_file():
        subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", MUTMUT], check=True)
    return python


def prepare(group: str, work: Path) -> None:
    """A fresh copy of what the tests need, with the group's [tool.mutmut] section."""
    modules, tests, _names = GROUPS[group]
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", ".locks")
    for name in ("src", "tests"):
        shutil.copytree(REPO / name, work / name, ignore=ignore, symlinks=True)
    for name in ENTRY_FOLDERS:  # the `python datasets ...` entry points, without the data users keep beside them
        (work / name).mkdir()
        shutil.copy(REPO / name / "__main__.py", work / name / "__main__.py")
    (work / "shared").symlink_to(REPO.parent / "shared")  # conftest reads ../shared beside mutants/, where tests run
    tests = [t for t in tests if (REPO / t.split("::")[0]).is_file()]
    config = (REPO / "pyproject.toml").read_text("utf-8")
    config += ("\n[tool.mutmut]\n"
               "source_paths = [\"src\"]\n"
               f"also_copy = {json.dumps(list(ENTRY_FOLDERS))}\n"
               f"only_mutate = {json.dumps(modules)}\n"
               f"pytest_add_cli_args_test_selection = {json.dumps(tests)}\n"
               "pytest_add_cli_args = [\"-p\", \"no:cacheprovider\", \"-x\", \"-q\"]\n"
               "use_git_change_detection = false\n")
    (work / "pyproject.toml").write_text(config, "utf-8")


SUMMARY = r"""
import json, sys
from pathlib import Path
from mutmut.__main__ import status_by_exit_code
out = {}
for meta in sorted(Path("mutants/src").rglob("*.py.meta")):
    module = str(meta.relative_to("mutants"))[: -len(".meta")]
    codes = json.loads(meta.read_text())["exit_code_by_key"]
    names = sys.argv[1:]
    import fnmatch
    if names:
        codes = {k: v for k, v in codes.items() if any(fnmatch.fnmatch(k, n) for n in names)}
    statuses = {k: status_by_exit_code[v] for k, v in codes.items()}
    out[module] = statuses
print(json.dumps(out))
"""


BUILD_BFCL = """
import sys
from opentoollab.datasets.sources import get_source
from opentoollab.datasets.store import Store, process
from opentoollab.format.jsonl import atomic_dir
store, source = Store(sys.argv[1]), get_source("BFCL")
with atomic_dir(store.raw_dir("BFCL"), "download") as staging:
    source.fetch(staging, find_links=sys.argv[2])
process(source, store, progress=False)
"""


def prebuilt_bfcl(work: Path) -> Path:
    """BFCL processed once by the copy's own (unmutated) code, for the groups in PREBUILT."""
    root = work / "bfcl-data"
    shutil.rmtree(root, ignore_errors=True)
    subprocess.run([sys.executable, "-c", BUILD_BFCL, str(root), str(CACHE / "wheels")], check=True,
                   env=dict(os.environ, PYTHONPATH=str(work / "src")))
    return root


KILLED_OR_TIMEOUT = {1, 3, 24, -24, 36, 152, 255}  # mutmut's exit codes for "killed" and "timeout"


def survivors_of(work: Path, only: list[str]) -> list[str]:
    """The mutants of the last run in ``work`` that were not killed (or not run), among the group's ``only`` globs."""
    names = []
    for meta in (work / "mutants").rglob("*.py.meta"):
        codes = json.loads(meta.read_text("utf-8"))["exit_code_by_key"]
        names += [name for name, code in codes.items() if code not in KILLED_OR_TIMEOUT
                  and (not only or any(fnmatch.fnmatch(name, glob) for glob in only))]
    return names


def run_group(group: str, python: Path, children: int, rerun: bool = False) -> dict:
    """Mutate and test one group; ``rerun``: only the previous run's survivors, with the tests as they are now."""
    _modules, _tests, names = GROUPS[group]
    work = CACHE / "mutation" / group
    if rerun and (work / "mutants").is_dir():
        for folder in (work / "tests", work / "mutants" / "tests"):
            shutil.rmtree(folder)
            shutil.copytree(REPO / "tests", folder, ignore=shutil.ignore_patterns("__pycache__"))
        selected = survivors_of(work, names)
    else:
        prepare(group, work)
        selected = names
    env = dict(os.environ, OPENTOOLLAB_BFCL_WHEEL=str(CACHE / "wheels" / "bfcl_eval-2026.3.23-py3-none-any.whl"))
    env.pop("PYTHONPATH", None)
    env.pop("OPENTOOLLAB_TEST_BFCL_DATA", None)
    if group in PREBUILT:
        env["OPENTOOLLAB_TEST_BFCL_DATA"] = str(work / "bfcl-data") if rerun else str(prebuilt_bfcl(work))
    started = time.time()
    with open(work / "mutmut.log", "w") as log:
        subprocess.run([str(VENV / "bin" / "mutmut"), "run", "--max-children", str(children), *selected],
                       cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
    done = subprocess.run([str(python), "-c", SUMMARY, *names], cwd=work, env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{group}: reading mutmut's results failed (see {work / 'mutmut.log'}):\n{done.stderr}")
    statuses = json.loads(done.stdout)
    survivors = {}
    for module, by_name in statuses.items():
        for name, status in by_name.items():
            if status not in ("killed", "timeout"):
                show = subprocess.run([str(VENV / "bin" / "mutmut"), "show", name], cwd=work, env=env,
                                      capture_output=True, text=True)
                survivors[name] = {"status": status, "diff": show.stdout}
    result = {"group": group, "seconds": round(time.time() - started), "statuses": statuses, "survivors": survivors}
    (CACHE / "mutation" / f"{group}.json").write_text(json.dumps(result, indent=1, ensure_ascii=False), "utf-8")
    return result


def table(results: list[dict]) -> str:
    rows = ["| module | mutants | killed | survived | score |", "|---|---:|---:|---:|---:|"]
    total = killed = 0
    for result in results:
        for module, by_name in result["statuses"].items():
            n = len(by_name)
            k = sum(s in ("killed", "timeout") for s in by_name.values())
            total, killed = total + n, killed + k
            rows.append(f"| {module.removeprefix('src/')} | {n} | {k} | {n - k} | {100 * k / max(n, 1):.1f}% |")
    rows.append(f"| **all** | {total} | {killed} | {total - killed} | {100 * killed / max(total, 1):.1f}% |")
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("groups", nargs="*", help=f"groups to run (default: all of {', '.join(GROUPS)})")
    parser.add_argument("--list", action="store_true", help="show the groups and exit")
    parser.add_argument("--children", type=int, default=2, help="parallel mutmut workers (default 2)")
    parser.add_argument("--report", action="store_true", help="print the table of the stored results, run nothing")
    parser.add_argument("--rerun-survivors", action="store_true",
                        help="run only the last run's surviving mutants again, against the tests as they are now")
    args = parser.parse_args()
    if args.list:
        for group, (modules, tests, names) in GROUPS.items():
            print(f"{group}:\n  mutate: {' '.join(modules)}{'  only ' + ' '.join(names) if names else ''}\n"
                  f"  tests:  {' '.join(tests)}")
        return 0
    unknown = set(args.groups) - set(GROUPS)
    if unknown:
        parser.error(f"unknown group(s) {', '.join(sorted(unknown))}; known: {', '.join(GROUPS)}")
    groups = args.groups or list(GROUPS)
    results = []
    if args.report:
        for group in groups:
            path = CACHE / "mutation" / f"{group}.json"
            if path.is_file():
                results.append(json.loads(path.read_text("utf-8")))
    else:
        python = ensure_venv()
        for group in groups:
            print(f"mutation: {group} ...", flush=True)
            results.append(run_group(group, python, args.children, rerun=args.rerun_survivors))
            print(f"mutation: {group} done in {results[-1]['seconds']} s", flush=True)
    print(table(results))
    for result in results:
        for name, survivor in result["survivors"].items():
            print(f"\n--- {survivor['status']}: {name}\n{survivor['diff'].strip()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
