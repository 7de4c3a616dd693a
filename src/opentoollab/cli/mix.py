"""``python trainer mix``: build a training mix (unified JSONL + manifest + removal report)."""

from __future__ import annotations

import time

import click

from .common import data_dir_option, fail, print_table, scale_options

CONTEXT = {"help_option_names": ["-h", "--help"]}


def mix_options(function):
    """The options that shape a mix, shared by ``trainer mix`` and ``trainer prepare``."""
    options = [
        click.option("--seed", type=int, default=None, help="Seed for sampling and shuffling [default: recipe's, else 0]."),
        click.option("--subset", "subsets", multiple=True, help="Keep only samples of this subset (meta.subset; repeatable)."),
        click.option("--tag", "tags", multiple=True, help="Keep samples carrying any of these tags (from `python tag run`, or meta.tags); a+b needs both (repeatable)."),
        click.option("--exclude-tag", "exclude_tags", multiple=True, help="Drop samples carrying this tag (repeatable)."),
        click.option("--language", "languages", multiple=True, help="Keep only samples in this language (meta.language; repeatable)."),
        click.option("--no-dedup", is_flag=True, help="Keep exact duplicates (normalized user turns + calls)."),
        click.option("--no-near-dedup", is_flag=True, help="Keep near-duplicates (MinHash/LSH over user text)."),
        click.option("--near-threshold", type=click.FloatRange(0, 1, min_open=True), default=None,
                     help="Jaccard similarity of user text above which samples are near-duplicates [default 0.8]."),
        click.option("--no-decontaminate", is_flag=True, help="Do not check against evaluation sets (a loud warning is recorded)."),
        click.option("--ngram", type=click.IntRange(1), default=None, help="N-gram length for overlap with evaluation sets [default 13]."),
        click.option("--eval-set", "eval_sets", multiple=True,
                     help="Also decontaminate against this corpus (NAME, NAME/subset) or JSONL file (repeatable)."),
        click.option("--allow-eval", is_flag=True, help="Allow evaluation subsets (e.g. BFCL) in the mix: you will not be able "
                                                        "to evaluate on them; recorded as a warning in the manifest."),
        click.option("--no-shuffle", is_flag=True, help="Keep spec order (entry by entry, file order) instead of shuffling."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def mix_overrides(seed, subsets, tags, exclude_tags, languages, no_dedup, no_near_dedup, near_threshold,
                  no_decontaminate, ngram, eval_sets, allow_eval, no_shuffle) -> dict:
    """Command-line options → ``build_mix`` keyword arguments (None = keep the recipe's value)."""
    from ..trainer.recipe import Filters

    filters = Filters(tuple(subsets), tuple(tags), tuple(exclude_tags), tuple(languages))
    return {"seed": seed, "filters": filters if filters else None, "dedup": False if no_dedup else None,
            "near_dedup": False if no_near_dedup else None, "near_threshold": near_threshold,
            "decontaminate": False if no_decontaminate else None, "ngram": ngram,
            "eval_sets": tuple(eval_sets) or None, "allow_eval": True if allow_eval else None,
            "shuffle": False if no_shuffle else None}


def report_mix(manifest: dict, quiet: bool = False) -> None:
    """Per-source table and loud warnings, on stderr-friendly plain text."""
    if not quiet:
        rows = [{"source": r["input"], "amount": r["amount"], "read": r["read"], "rejected": r["rejected"],
                 "filtered": r["filtered"], "contaminated": r["contaminated"], "dup_exact": r["duplicate_exact"],
                 "dup_near": r["duplicate_near"], "available": r["available"], "taken": r["taken"]} for r in manifest["sources"]]
        print_table(rows, ["source", "amount", "read", "rejected", "filtered", "contaminated", "dup_exact", "dup_near",
                           "available", "taken"])
    against = manifest["decontamination"].get("against") or {}
    if against:
        click.echo(f"decontaminated against {len(against)} evaluation set(s), {sum(against.values())} samples: "
                   f"{manifest['decontamination']['removed']} contaminated sample(s) removed")
    for warning in manifest["warnings"]:
        click.secho(f"WARNING: {warning}", fg="red", bold=True)


def mix_or_fail(spec: str, store, seed: int | None, allow_eval: bool, quiet: bool, workers: int | None = 1, **overrides):
    """``build_mix`` for ``trainer prepare``: (mix, manifest without the removal list), reported; errors exit."""
    from ..trainer.mix import MixError, build_mix

    try:
        built, manifest = build_mix(spec, store, seed, progress=not quiet, log=lambda m: click.echo(m, err=True),
                                    allow_eval=True if allow_eval else None, workers=workers, **overrides)
    except MixError as exc:
        fail(str(exc), 2)
    report_mix(manifest, quiet)
    summary = {k: v for k, v in manifest.items() if k != "removed"}
    summary["removed_ids"] = {step: [r.get("id") or f"{r['file']}:{r['line']}" for r in manifest["removed"] if r["step"] == step]
                              for step in ("reject", "decontaminate", "dedup")}
    summary["rejected"] = [r for r in manifest["removed"] if r["step"] == "reject"]  # prepare skips them, counted
    return built, summary


@click.command("mix", context_settings=CONTEXT)
@click.option("--datasets", "-d", "spec", required=True, metavar="SPEC|RECIPE.yaml",
              help="Comma-separated entries NAME[/subset] or FILE.jsonl, each optionally :COUNT (e.g. 2500) or "
                   ":SHARE (e.g. 0.5); or a YAML recipe file (see docs/mixing.md).")
@click.option("--out", "-o", required=True, type=click.Path(dir_okay=False),
              help="Output JSONL; OUT.manifest.json and OUT.removed.jsonl are written beside it.")
@mix_options
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or table.")
@scale_options()
@data_dir_option
def mix(spec, out, quiet, store, scale, **options):
    """Mix corpora into one unified JSONL file: filter, decontaminate, deduplicate, sample.

    \b
    Examples:
      python trainer mix -d ToolACE:2500,xLAM:0.5,generated/run1.jsonl -o mix/train.jsonl --seed 42
      python trainer mix -d recipe.yaml -o mix/train.jsonl

    Every mix is checked against the evaluation sets the hub knows (all BFCL categories, API-Bank
    test data, ...): contaminated samples are removed and listed in OUT.removed.jsonl. The same spec
    and seed give the same bytes.
    """
    from ..trainer.mix import MixError, build_mix, write_mix

    started = time.perf_counter()
    try:
        built, manifest = build_mix(spec, store, progress=not quiet, log=lambda m: click.echo(m, err=True),
                                    workers=scale.workers, **mix_overrides(**options))
        written = write_mix(out, built, manifest)
    except MixError as exc:
        fail(str(exc))
    report_mix(manifest, quiet)
    output = written["output"]
    click.echo(f"wrote {output['samples']} samples → {output['path']} (sha256 {output['sha256'][:12]}…, "
               f"{time.perf_counter() - started:.1f}s); {output['removed']} removals with reasons → {output['removed_report']}")
