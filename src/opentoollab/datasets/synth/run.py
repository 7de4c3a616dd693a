"""``run_pipeline``: a pipeline by name, from first records to validated samples, failures and a manifest.

The command line composes it with the checks of higher rooms, passed in as callables: ``verify``
(sample → rule problems; tag's rule verifier, DLV layer 1) and ``contamination`` (sample → reason
or None; trainer's decontamination against every evaluation set). Samples are written atomically
(one per line, ids ``<pipeline>_<subset>_<k>`` with k counting kept samples), every failure and
rejection to ``<out>.failures.jsonl``; the returned manifest counts everything per step.
May import: ``opentoollab.llm``, ``opentoollab.format``, ``opentoollab.datasets.synth`` modules, stdlib.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable

from ...format.jsonl import write_jsonl, write_samples
from ...format.sample import SCHEMA_VERSION, Sample, canonical_json
from ...format.validate import validate_sample
from ...llm.cache import StepCache
from ...llm.client import Client
from .registry import Pipeline, get_pipeline
from .runner import Item, Runner
from .sample import LICENSE, build_sample
from .step import Context, Prompts, Step, check_reason

SUBSET_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
Verify = Callable[[list], Any]  # sample → problem dicts {rule, path, message}, or a reason string; empty = passed
Contamination = Callable[[list], "str | None"]


def recipe_sha256(recipe: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(recipe).encode("utf-8")).hexdigest()


def failures_path(out_path: Path) -> Path:
    return Path(out_path).with_suffix(".failures.jsonl")


def run_pipeline(name: str, *, out_path: Path, client: Client | None, cache_path: Path,
                 input_path: Path | None = None, seed: int = 0, n: int | None = None,
                 recipe: dict[str, Any] | None = None, dry_run: bool = False, verify: Verify | None = None,
                 contamination: Contamination | None = None, progress: bool = True) -> dict[str, Any]:
    """Run pipeline ``name``; write validated samples (JSONL) to ``out_path`` atomically, failures to
    ``out_path.with_suffix('.failures.jsonl')``; return the manifest (per step: requests, cache hits,
    failures by kind, tokens, cost; samples out; rejections by verify/contamination with reasons).
    ``dry_run``: no request is made and nothing is written; the manifest says how many requests each
    step would make (cache hits excluded). The cache is looked up under the client's model (or the
    recipe's ``model``), so pass the client of the real run for an exact count. The subset (sample ids
    ``<name>_<subset>_<k>``, ``meta.subset``) is the recipe's ``subset``, else the output file's stem."""
    started = time.time()
    pipeline = get_pipeline(name)
    recipe = dict(recipe or {})
    subset = str(recipe.get("subset") or (Path(out_path).stem if SUBSET_RE.match(Path(out_path).stem) else "default"))
    if not SUBSET_RE.match(subset):
        raise ValueError(f"subset {subset!r}: letters, digits, '_', '.', '-' only")
    if client is None and not dry_run:
        raise ValueError("a client is needed unless dry_run")
    context = Context(seed=seed, recipe=recipe, prompts=Prompts(recipe.get("prompts_dir")), verify=verify,
                      contamination=contamination)
    steps = pipeline.build(recipe, context)
    for step in steps:
        step.templates()  # a missing template fails now, before any request
    records, rejected_inputs = pipeline.start(recipe, n, Path(input_path) if input_path else None, context)
    model = client.model if client is not None else str(recipe.get("model") or "")
    with StepCache(cache_path) as cache:
        runner = Runner(steps, client=client, cache=cache, context=context, model=model, dry_run=dry_run,
                        retry_failures=bool(recipe.get("retry_failures", True)), progress=progress)
        final = runner.run([Item(rid, data) for rid, data in records])
        cache_counts = cache.counts()
    generator = {"name": pipeline.name, "version": pipeline.version, "seed": seed,
                 "recipe_sha256": recipe_sha256(recipe), "model": model}
    manifest: dict[str, Any] = {
        "pipeline": pipeline.name, "pipeline_version": pipeline.version, "subset": subset, "seed": seed,
        "recipe_sha256": generator["recipe_sha256"], "model": model, "dry_run": dry_run,
        "schema_version": SCHEMA_VERSION, "client": client.info() if client is not None else None,
        "input": {"path": str(input_path) if input_path else None, "records": len(records),
                  "rejected": len(rejected_inputs)},
        "steps": runner.step_report(),
    }
    rejects: list[dict[str, Any]] = []
    if not dry_run:
        samples, rejects, summary = finish(final, steps, pipeline, subset, generator, recipe, verify, contamination)
        write_samples(out_path, samples)
        rows = [{"step": "input", "record": str(r["index"]), "kind": "no_text", "message": r["reason"]}
                for r in rejected_inputs] + runner.failures + \
               [{"kind": "filtered", **d} for d in runner.dropped] + rejects
        write_jsonl(failures_path(out_path), rows)
        manifest["samples"] = summary
        manifest["output"] = {"samples": str(out_path), "failures": str(failures_path(out_path))}
    kinds = Counter(f["kind"] for f in runner.failures)
    manifest["failures"] = {"total": len(runner.failures), "by_kind": dict(sorted(kinds.items())),
                            "filtered": len(runner.dropped), "rejected_samples": len(rejects)}
    manifest["usage"] = client.stats() if client is not None else None
    manifest["cache"] = {"path": str(cache_path), **cache_counts}
    manifest["run"] = {"seconds": round(time.time() - started, 3)}
    return manifest


def finish(items: list[Item], steps: list[Step], pipeline: Pipeline, subset: str, generator: dict[str, Any],
           recipe: dict[str, Any], verify: Verify | None,
           contamination: Contamination | None) -> tuple[list[Sample], list[dict[str, Any]], dict[str, Any]]:
    """Final records → kept samples (validated, verified, decontaminated), rejections and a summary."""
    versions = {step.name: step.version for step in steps}
    license_ = str(recipe.get("license") or LICENSE)
    samples: list[Sample] = []
    rejects: list[dict[str, Any]] = []
    reasons: Counter = Counter()
    for item in items:
        provenance = {**generator, "steps": {s: {"version": versions.get(s, "?"), "cache_key": k}
                                             for s, k in item.keys.items()}}
        try:
            sample = build_sample(item.data, pipeline=pipeline.name, subset=subset, k=len(samples),
                                  source_id=item.id, generator=provenance, license=license_)
        except (KeyError, TypeError, ValueError) as error:
            rejects.append(_reject(item, "build", f"{type(error).__name__}: {error}"))
            reasons["build"] += 1
            continue
        kind, message = check_sample(sample, verify, contamination)
        if kind is not None:
            rejects.append(_reject(item, kind, message))
            reasons[kind] += 1
            continue
        samples.append(sample)
    summary = {"out": len(samples), "rejected": dict(sorted(reasons.items())),
               "reasons": dict(Counter(r["message"].split(":")[0] for r in rejects).most_common(20))}
    return samples, rejects, summary


def check_sample(sample: Sample, verify: Verify | None, contamination: Contamination | None) -> tuple[str | None, str]:
    """(rejection kind, message) or (None, ""): the format's validation, then ``verify``, then ``contamination``."""
    problems = validate_sample(sample)
    if problems:
        return "invalid", f"{problems[0].rule}: {problems[0]}"
    if verify is not None:
        try:
            found = verify(sample)
        except Exception as error:  # a broken verifier must not lose the run
            return "verify_error", f"{type(error).__name__}: {error}"
        reason = check_reason(found)
        if reason:
            return "verify", reason
    if contamination is not None:
        try:
            reason = contamination(sample)
        except Exception as error:
            return "contamination_error", f"{type(error).__name__}: {error}"
        if reason:
            return "contamination", str(reason)
    return None, ""


def _reject(item: Item, kind: str, message: str) -> dict[str, Any]:
    return {"step": "output", "record": item.id, "key": "", "kind": kind, "message": message[:2000]}
