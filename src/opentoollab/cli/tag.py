"""``python tag ...``: per-sample categories and rule checks (``run``), and a report with a chart (``report``)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..datasets.store import resolve_inputs
from .common import data_dir_option, describe_os_error, fail, print_table, scale_options

CONTEXT = {"help_option_names": ["-h", "--help"]}


@click.group(context_settings=CONTEXT)
def tag() -> None:
    """Tag samples by category (single, parallel, multi_turn, irrelevance, …) and check them against
    the tool-use rules (declared tools, required parameters, types, links, answered calls …).

    \b
    Typical use, from the repository root:
      python tag run --datasets BFCL                 # tags → datasets/tags/BFCL/<subset>.jsonl
      python tag run --datasets BFCL --drop-invalid  # + a filtered copy in datasets/tags/BFCL/valid/
      python tag report BFCL                         # table + chart PNG + HTML page

    Samples are never changed: tags are written beside them, one record per sample id.
    """


def _split(values) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


@tag.command(context_settings=CONTEXT)
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@click.option("--datasets", "names", multiple=True, metavar="NAME[,NAME…]",
              help="Processed corpora to tag (NAME or NAME/subset; comma-separated or repeated).")
@click.option("--drop-invalid", is_flag=True,
              help="Also write a filtered copy without the samples that break a rule, with a list of what was dropped and why.")
@click.option("--ignore", "ignore", multiple=True, metavar="RULE[,RULE…]",
              help="Rules that do not make a sample invalid for --drop-invalid (e.g. enum_mismatch).")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Write tags here instead of DATA_DIR/tags/: OUT/<NAME>/<subset>.jsonl per corpus, "
                   "OUT/<stem>.jsonl per FILE (default: <file>.tags.jsonl beside a FILE).")
@click.option("--judge-url", envvar="OPENTOOLLAB_JUDGE_URL", default=None,
              help="Second layer: an OpenAI-compatible server (…/v1) whose model judges hallucinated values "
                   "and response consistency. Off unless given [env OPENTOOLLAB_JUDGE_URL].")
@click.option("--judge-model", default=None, help="Model name for the judge (required with --judge-url).")
@click.option("--judge-key", envvar="OPENAI_API_KEY", default=None, help="API key for the judge server [env OPENAI_API_KEY].")
@click.option("--judge-cache", type=click.Path(dir_okay=False), default=None,
              help="Judge answers cache (SQLite) so reruns do not pay twice [default DATA_DIR/tags/judge_cache.sqlite].")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or table.")
@scale_options()
@data_dir_option
def run(files, names, drop_invalid, ignore, out, judge_url, judge_model, judge_key, judge_cache, quiet, store, scale):
    """Tag FILES (unified JSONL) and/or --datasets corpora: categories, language, counts and rule problems.

    One JSON record per sample (its id, categories, from_meta, language, counts, valid, problems with
    rule code and JSON path) goes to DATA_DIR/tags/<NAME>/<subset>.jsonl (beside a FILE: <stem>.tags.jsonl),
    with manifest.json holding counts per subset. Exit code 0 even when samples are invalid: the
    manifest and the table say how many.
    """
    from tqdm import tqdm

    import contextlib

    from ..tag.tagging import RULES
    from ..tag.writing import corpora_of, plan_units, write_tags

    specs = [*files, *_split(names)]
    if not specs:
        fail("nothing to tag: give FILES or --datasets NAME", 2)
    ignore = _split(ignore)
    unknown = [rule for rule in ignore if rule not in RULES]
    if unknown:
        fail(f"unknown rule(s) {unknown}; rules: {', '.join(RULES)}", 2)
    try:
        inputs = resolve_inputs(specs, store)
    except FileNotFoundError as exc:
        fail(str(exc.args[0]))
    judge, judge_info = None, None
    if judge_url:
        if not judge_model:
            fail("--judge-url needs --judge-model", 2)
        from ..tag.judge import Judge

        cache = Path(judge_cache) if judge_cache else Path(store.root) / "tags" / "judge_cache.sqlite"
        judge = Judge(judge_url, judge_model, api_key=judge_key, cache_path=cache)
        judge_info = judge.info()
    try:
        units = plan_units(inputs, store, out)
    except ValueError as exc:
        fail(str(exc))
    bar = tqdm(desc="tag", unit=" samples", disable=True if quiet else None, leave=False, mininterval=0.5)
    try:
        with contextlib.ExitStack() as locks:
            # the corpora's write locks (sorted: no deadlock), so no `process` swaps a corpus mid-read and
            # no second `tag run` rewrites the same manifest; then plan again on what is there now
            for corpus in corpora_of(units, store):
                locks.enter_context(store.lock(corpus, f"the tags of {corpus}"))
            units = plan_units(resolve_inputs(specs, store), store, out)
            manifests = write_tags(units, drop_invalid=drop_invalid, ignore=ignore, judge=judge,
                                   judge_info=judge_info, progress=bar.update, workers=scale.workers)
    except FileNotFoundError as exc:
        fail(str(exc.args[0]) if exc.filename is None else describe_os_error(exc, store))
    except OSError as exc:
        fail(describe_os_error(exc, store) if exc.filename else str(exc))
    except ValueError as exc:
        fail(str(exc))
    finally:
        bar.close()
        if judge is not None:
            judge.close()
    for manifest_path, manifest in manifests.items():
        rows = [{"subset": key, **entry} for key, entry in manifest["subsets"].items()]
        if not quiet:
            print_table([_row(r) for r in rows], ["subset", "samples", "valid", "invalid", "top problems"])
        totals = manifest["totals"]
        click.echo(f"{totals['samples']} samples tagged, {totals['valid']} valid, {totals['invalid']} with problems "
                   f"→ {manifest_path.parent} (manifest {manifest_path.name})")
        filtered = [entry["filtered"] for entry in manifest["subsets"].values() if "filtered" in entry]
        if drop_invalid and filtered:
            kept = sum(f["kept"] for f in filtered)
            dropped = sum(f["dropped"] for f in filtered)
            click.echo(f"filtered copy: kept {kept}, dropped {dropped} → {Path(filtered[0]['path']).parent} "
                       f"(why: *.dropped.jsonl, manifest.json)")
    if judge is not None:
        click.echo(f"judge: {judge.stats['requests']} request(s), {judge.stats['cached']} answered from cache, "
                   f"{judge.stats['errors']} error(s)")


def _row(entry: dict) -> dict:
    top = ", ".join(f"{rule} {n}" for rule, n in list(entry["problems"].items())[:3])
    return {**entry, "top problems": top or "-"}


@tag.command(context_settings=CONTEXT)
@click.argument("names", nargs=-1, required=True)
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Folder for report.html, categories.png and summary.json [default DATA_DIR/tags/<NAME>/report].")
@click.option("--by", type=click.Choice(["auto", "subset", "corpus"]), default="auto", show_default=True,
              help="Rows of the table and chart: one per subset, or one per corpus (auto: subsets for one corpus).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON instead of a table.")
@data_dir_option
def report(names, out, by, as_json, store):
    """Summary of NAMES' tags (processed corpora or .jsonl files): a table on stdout, a chart of the
    category distribution (PNG) and an HTML page with both.

    Reads the tags `tag run` wrote; corpora not tagged yet are tagged in memory (nothing written
    except the report). The same chart, with every other distribution, a sample browser and the
    rejects, is in the site `python datasets report NAMES` builds.
    """
    from ..tag.report import collect
    from ..trainer.report.tagpage import build_report

    try:
        groups = collect(list(names), store, by=by)
    except FileNotFoundError as exc:
        fail(str(exc.args[0]))
    except ImportError as exc:  # matplotlib missing
        fail(f"{exc}; install the report extra: pip install 'opentoollab[report]'")
    first = Path(names[0])
    if out:
        folder = Path(out)
    elif first.suffix == ".jsonl":
        folder = first.with_name(f"{first.stem}.report")
    else:
        folder = Path(store.root) / "tags" / names[0].partition("/")[0] / "report"
    try:
        result = build_report(groups, folder, names=" ".join(names))
    except ImportError as exc:
        fail(f"{exc}; install the report extra: pip install 'opentoollab[report]'")
    if as_json:
        click.echo(json.dumps(result["summary"], indent=2, ensure_ascii=False))
    else:
        print_table(result["table"], result["columns"])
        if result["problems"]:
            click.echo("")
            print_table(result["problems"], ["rule", "samples", "example"])
    click.echo(f"report: {result['html']} (chart {result['png']})", err=True)
