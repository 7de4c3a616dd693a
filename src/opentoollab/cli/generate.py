"""``python datasets generate``: fresh tool-use data — offline over sandboxed toolkits, or through LLM pipelines.

This command composes rooms the generator itself may not import: every generated sample is checked
by tag's rule verifier and against every evaluation set the hub knows (trainer's decontamination)
before it is kept. Without ``--out`` the run lands in the data root as the corpus ``generated``
(subset = run name) and is processed like any corpus, so it mixes by name.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from .common import data_dir_option, fail, print_table

CONTEXT = {"help_option_names": ["-h", "--help"]}


def _checks(store, enabled: bool, log) -> list:
    """(name, check) pairs: the tag rule verifier and decontamination against the known evaluation sets."""
    if not enabled:
        return []
    from ..tag.tagging import tag_sample
    from ..trainer.decontaminate import build_index, known_evaluation_sets

    def verified(sample):
        record = tag_sample(sample)
        if record["valid"]:
            return None
        return "; ".join(f"{p['rule']} at {p['path']}: {p['message']}" for p in record["problems"][:3])

    sets, missing = known_evaluation_sets(store, process_missing=True, log=log)
    index, counts = build_index(sets)
    for line in missing:
        log(f"decontamination: {line}")
    log(f"decontamination against {sum(counts.values()):,} evaluation samples in {len(counts)} set(s)")

    def clean(sample):
        hit = index.check(sample)
        return None if hit is None else f"user text overlaps {hit.eval_set} {hit.eval_id} ({hit.kind}): {hit.overlap[:80]!r}"

    return [("tag_rules", verified), ("decontamination", clean)]


@click.command("generate", context_settings=CONTEXT)
@click.option("--n", "n", type=click.IntRange(1, 10_000_000), default=None, help="How many samples [recipe's n; default 1000].")
@click.option("--seed", type=click.IntRange(0), default=None, help="Seed: the same seed and recipe give the same bytes [default 0].")
@click.option("--recipe", type=click.Path(exists=True, dir_okay=False), default=None,
              help="YAML recipe: name, n, seed, categories (weights), toolkits, languages, turns, distractors, files_sampled.")
@click.option("--name", default=None, help="Run name = subset of the corpus 'generated' [recipe's name; default 'offline'].")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Write <name>.jsonl, rejects and manifest here instead of registering the run in the data root.")
@click.option("-j", "--workers", type=click.IntRange(1, 64), default=None, help="Worker processes [all cores].")
@click.option("--verify", is_flag=True, help="Re-execute every call of every sample from its initial state and drop any that differs.")
@click.option("--no-checks", is_flag=True, help="Skip the tag rule verifier and decontamination (not recommended).")
@click.option("--pipeline", default=None, help="Run an LLM pipeline instead (button, toolace, sandbox-agents); needs --base-url and --model.")
@click.option("--input", "input_path", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Pipeline input records (JSONL), e.g. chat data for button.")
@click.option("--base-url", "base_urls", multiple=True, help="OpenAI-compatible server (repeat to load-balance), e.g. http://127.0.0.1:8000/v1.")
@click.option("--model", default=None, help="Model name the server serves.")
@click.option("--api-key", envvar="OPENAI_API_KEY", default=None, help="API key [env OPENAI_API_KEY]; never written anywhere.")
@click.option("--max-concurrency", type=click.IntRange(1, 1024), default=8, show_default=True, help="Requests in flight at once.")
@click.option("--timeout", type=click.FloatRange(1, 3600), default=120.0, show_default=True, help="Seconds per request.")
@click.option("--retries", type=click.IntRange(0, 20), default=4, show_default=True, help="Retries per request (backoff).")
@click.option("--price", default=None, metavar="IN,OUT", help="Pipelines: cost per 1M prompt and completion tokens, for the cost report.")
@click.option("--extra-body", default=None, metavar="JSON",
              help="Pipelines: extra fields for every request, e.g. '{\"chat_template_kwargs\": {\"enable_thinking\": false}}'.")
@click.option("--dry-run", is_flag=True, help="Pipelines: say how many requests each step would make, send none.")
@click.option("--cache", "cache_path", type=click.Path(dir_okay=False), default=None,
              help="Pipelines: step cache file [DATA_DIR/cache/synth.sqlite]; a rerun asks nothing already answered.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or tables.")
@data_dir_option
def generate(n, seed, recipe, name, out, workers, verify, no_checks, pipeline, input_path, base_urls, model, api_key,
             max_concurrency, timeout, retries, price, extra_body, dry_run, cache_path, quiet, store):
    """Generate tool-use samples whose tool results are real (executed in sandboxed toolkits).

    \b
    Offline (no model needed):
      python datasets generate --n 1000 --seed 1            # → processed/generated/offline.jsonl
      python datasets generate --recipe my.yaml --out gen/  # a recipe, written to a folder
    LLM pipelines against your own server:
      python datasets generate --pipeline button --input glaive.jsonl --base-url http://127.0.0.1:8000/v1 --model Qwen/Qwen2.5-7B-Instruct

    Every sample is validated, checked by tag's rule verifier and against every known evaluation
    set; refused and failed draws go to <name>.rejects.jsonl with the reason.
    """
    def log(message: str) -> None:
        if not quiet:
            click.echo(message, err=True)

    if pipeline:
        options = {"max_concurrency": max_concurrency, "timeout": timeout, "retries": retries,
                   "prices": _prices(price), "extra_body": _json_option(extra_body, "--extra-body")}
        _pipeline(pipeline, input_path, base_urls, model, api_key, options, recipe, dry_run,
                  cache_path, seed, n, name, out, no_checks, quiet, store, log)
        return
    from ..datasets.generate.recipe import Recipe, RecipeError, load_recipe

    try:
        base = load_recipe(recipe) if recipe else Recipe()
        run = base.with_overrides(n=n, seed=seed, name=name)
    except RecipeError as exc:
        fail(str(exc), 2)
    from ..datasets.generate.run import run_generation

    dest = Path(out) if out else store.raw_dir("generated")
    checks = _checks(store, not no_checks, log)
    manifest = run_generation(run, dest, workers=workers, verify=verify, checks=checks, progress=not quiet, log=log)
    totals = manifest["totals"]
    if not quiet:
        rows = [{"category": c, "samples": v} for c, v in manifest["categories"].items()]
        print_table(rows, ["category", "samples"])
    click.echo(f"generated {run.name}: requested {totals['requested']} = out {totals['out']} + rejected {totals['rejected']} "
               f"(refused by checks {totals['refused_by_checks']}); {manifest['tools_used']} tools, "
               f"languages {manifest['languages']}, {manifest['run']['seconds']:.1f}s → {dest / (run.name + '.jsonl')}")
    if totals["rejected"]:
        click.echo(f"rejects with reasons: {dest / (run.name + '.rejects.jsonl')}")
    if out:
        return
    _register(store, run.name, manifest, quiet)


def _register(store, subset: str, manifest: dict, quiet: bool) -> None:
    """Record provenance for the raw folder and process the run into processed/generated/<subset>.jsonl."""
    from ..datasets.fetch import write_provenance
    from ..datasets.sources import FetchError, get_source
    from ..datasets.store import process

    raw = store.raw_dir("generated")
    previous = {}
    try:
        previous = json.loads((raw / "provenance.json").read_text("utf-8")).get("runs", {})
    except (OSError, ValueError):
        pass
    runs = {**previous, subset: {"generator": manifest["generator"], "recipe": manifest["recipe"]}}
    write_provenance(raw, kind="generated", runs=runs)
    try:
        processed = process(get_source("generated"), store, subsets=[subset], progress=not quiet)
    except FetchError as exc:
        fail(str(exc))
    totals = processed["subsets"][subset]
    click.echo(f"generated/{subset}: in {totals['in']} = out {totals['out']} + rejected {totals['rejected']} → "
               f"{store.processed_dir('generated') / (subset + '.jsonl')} (mix it by name: generated or generated/{subset})")


def _prices(text: str | None) -> tuple[float, float] | None:
    if not text:
        return None
    try:
        prompt, completion = (float(part) for part in text.split(","))
    except ValueError:
        fail(f"--price {text!r}: two numbers IN,OUT (cost per 1M prompt and completion tokens)", 2)
    return prompt, completion


def _json_option(text: str | None, flag: str):
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError as exc:
        fail(f"{flag} is not JSON: {exc}", 2)
    except RecursionError:
        fail(f"{flag} is nested too deeply", 2)
    if not isinstance(value, dict):
        fail(f"{flag}: a JSON object", 2)
    return value


def _pipeline_recipe(path: str | None) -> dict:
    if not path:
        return {}
    import yaml

    try:
        value = yaml.safe_load(Path(path).read_text("utf-8"))
    except (OSError, yaml.YAMLError, ValueError, RecursionError) as exc:  # ValueError: not UTF-8, huge integers
        fail(f"cannot read recipe {path}: {str(exc)[:300]}".replace("\n", " "), 2)
    if not isinstance(value, dict):
        fail(f"recipe {path}: a YAML mapping", 2)
    return value


def _pipeline(pipeline, input_path, base_urls, model, api_key, options, recipe_path, dry_run,
              cache_path, seed, n, name, out, no_checks, quiet, store, log) -> None:
    try:
        from ..datasets.synth import pipeline_names, run_pipeline
        from ..llm.client import Client
    except ImportError as exc:
        fail(f"LLM pipelines are not available: {exc}")
    if pipeline not in pipeline_names():
        fail(f"unknown pipeline {pipeline!r}; known: {', '.join(pipeline_names())}", 2)
    if not dry_run and (not base_urls or not model):
        fail("--pipeline needs --base-url and --model (or --dry-run)", 2)
    client = None
    if base_urls and model:
        try:
            client = Client.from_options(list(base_urls), model, api_key, options["max_concurrency"],
                                         options["timeout"], options["retries"], options["prices"],
                                         extra_body=options["extra_body"])
        except ValueError as exc:
            fail(f"--base-url: {exc}", 2)
    recipe = _pipeline_recipe(recipe_path)
    if client is None and model:  # a dry run without a server still looks the cache up under this model
        recipe.setdefault("model", model)
    subset = name or recipe.get("subset") or pipeline.replace("-", "_")
    dest = Path(out) if out else store.raw_dir("generated")
    dest.mkdir(parents=True, exist_ok=True)
    checks = dict(_checks(store, not no_checks, log))
    manifest = run_pipeline(
        pipeline, out_path=dest / f"{subset}.jsonl", client=client,
        cache_path=Path(cache_path) if cache_path else store.root / "cache" / "synth.sqlite",
        input_path=Path(input_path) if input_path else None, seed=seed or 0, n=n, recipe=recipe or None, dry_run=dry_run,
        verify=checks.get("tag_rules"), contamination=checks.get("decontamination"), progress=not quiet)
    click.echo(json.dumps(manifest, ensure_ascii=False, indent=1) if not quiet else
               f"{pipeline}: {manifest.get('samples', manifest.get('totals', {}))}")
    if dry_run or out:
        return
    write_manifest = dest / f"{subset}.manifest.json"
    write_manifest.write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", "utf-8")
    _register(store, subset, {"generator": {"name": pipeline}, "recipe": {"model": model, "seed": seed or 0}}, quiet)


__all__ = ["generate"]
