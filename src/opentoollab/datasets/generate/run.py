"""Running a generation: worker processes, resumable partial output, checks, rejects and the manifest.

``run_generation`` writes ``<out>/<name>.jsonl`` (samples in order of k), ``<name>.rejects.jsonl``
(every draw that failed or a check refused, with its reason) and ``<name>.manifest.json``. It writes
to ``.partial`` files first and renames at the end; a killed run restarts where it stopped (the
samples already written are kept, since sample k depends only on recipe, seed and k).
May import: ``opentoollab.tools``, ``opentoollab.format``, this package.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Callable, Iterator

from ...format.jsonl import folder_lock, write_json
from ...format.parallel import Workers, fresh_start_method
from ...format.sample import Sample, dumps_sample
from ...format.validate import validate_sample
from .engine import GENERATOR, GENERATOR_VERSION, generate, replay
from .recipe import Recipe
from .stats import GenerationStats

CHUNK = 25
Check = Callable[[Sample], "str | None"]  # a reason to refuse a sample, or None


def _work(job: tuple[Recipe, int, int, bool]) -> list[tuple[int, str | None, list[str]]]:
    recipe, start, stop, verify = job
    out = []
    for k, sample, reasons in generate(recipe, start, stop):
        if sample is not None:
            problems = [str(p) for p in validate_sample(sample)]
            if not problems and verify:
                problems = [f"re-execution differs: {d}" for d in replay(sample)]
            if problems:
                reasons = reasons + problems[:3]
                sample = None
        out.append((k, dumps_sample(sample) if sample is not None else None, reasons))
    return out


def _chunks(recipe: Recipe, start: int, verify: bool) -> Iterator[tuple[Recipe, int, int, bool]]:
    for low in range(start, recipe.n, CHUNK):
        yield recipe, low, min(low + CHUNK, recipe.n), verify


def _resume(partial: Path, rejects_partial: Path, state: Path, recipe: Recipe) -> int:
    """How many samples k are already decided in a partial run of the same recipe (0: start afresh)."""
    try:
        saved = json.loads(state.read_text("utf-8"))
    except (OSError, ValueError, RecursionError):
        saved = None
    done = saved.get("done") if isinstance(saved, dict) else None
    if (not isinstance(saved, dict) or saved.get("recipe_sha256") != recipe.sha256() or saved.get("seed") != recipe.seed
            or not isinstance(done, int) or isinstance(done, bool) or not 0 <= done <= recipe.n
            or not _partial_intact(partial, rejects_partial, done)):
        for path in (partial, rejects_partial):
            path.unlink(missing_ok=True)
        return 0
    # keep exactly the lines of the decided k (a crash may have left a half-written tail)
    for path in (partial, rejects_partial):
        if not path.exists():
            continue
        kept = []
        for line in path.read_text("utf-8").splitlines():
            try:
                value = json.loads(line)
            except ValueError:
                break
            k = value["k"] if isinstance(value, dict) else value[1]["content"]["source_id"]
            if k < done:
                kept.append(line)
        path.write_text("".join(line + "\n" for line in kept), "utf-8")
    return done


def _partial_intact(partial: Path, rejects_partial: Path, done: int) -> bool:
    """Do the partial files read as this module wrote them (UTF-8 JSON lines with an integer k)? A damaged file
    means starting afresh (sample k depends only on recipe, seed and k), never a traceback."""
    try:
        for path in (partial, rejects_partial):
            if not path.exists():
                continue
            for line in path.read_text("utf-8").splitlines():
                try:
                    value = json.loads(line)
                except ValueError:
                    continue  # a half-written tail: cut below
                k = value["k"] if isinstance(value, dict) and path == rejects_partial else value[1]["content"]["source_id"]
                if not isinstance(k, int) or isinstance(k, bool):
                    return False
    except (OSError, ValueError, KeyError, IndexError, TypeError, RecursionError):
        return False
    return True


def run_generation(recipe: Recipe, out_dir: Path, *, workers: int | None = None, verify: bool = False,
                   checks: list[tuple[str, Check]] | None = None, progress: bool = True,
                   log: Callable[[str], None] = lambda _m: None) -> dict[str, Any]:
    """Generate ``recipe.n`` samples into ``out_dir``; return the manifest (also written beside them).

    Holds ``out_dir/.<name>.lock`` throughout: a second run of the same recipe into the same folder waits
    (then fails with ``LockBusy``) instead of appending to the same partial files."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with folder_lock(out_dir / f".{recipe.name}.lock", str(out_dir / f"{recipe.name}.jsonl"), notify=log):
        return _run_generation(recipe, out_dir, workers=workers, verify=verify, checks=checks, progress=progress,
                               log=log)


def _run_generation(recipe: Recipe, out_dir: Path, *, workers: int | None, verify: bool,
                    checks: list[tuple[str, Check]] | None, progress: bool,
                    log: Callable[[str], None]) -> dict[str, Any]:
    started = time.perf_counter()
    final, rejects = out_dir / f"{recipe.name}.jsonl", out_dir / f"{recipe.name}.rejects.jsonl"
    partial, rejects_partial = final.with_suffix(".jsonl.partial"), rejects.with_suffix(".jsonl.partial")
    state_path = out_dir / f".{recipe.name}.partial.json"
    done = _resume(partial, rejects_partial, state_path, recipe)
    if done:
        log(f"resuming {recipe.name}: samples 0–{done - 1} already generated")
    workers = max(1, workers or os.cpu_count() or 1)
    stats, refused = GenerationStats(), 0
    if done:
        for line in partial.read_text("utf-8").splitlines():
            stats.add(json.loads(line))
    redraws = 0
    from tqdm import tqdm

    bar = tqdm(total=recipe.n, initial=done, desc=f"generate {recipe.name}", unit="sample", disable=not progress, mininterval=0.5)
    # the shared pool (a worker that dies stops the run with an error), started from a clean interpreter: a
    # parent that has used a threaded library (polars, tokenizers) can leave locks held in a plain fork child
    pool = Workers(workers, preload=[__name__], method=fresh_start_method())
    try:
        results = pool.imap(_work, _chunks(recipe, done, verify), chunk=1)
        with open(partial, "a", encoding="utf-8", newline="\n") as out, open(rejects_partial, "a", encoding="utf-8", newline="\n") as bad:
            for chunk in results:
                for k, text, reasons in chunk:
                    redraws += len(reasons) if text is not None else 0
                    reason = None if text is not None else "; ".join(reasons[-3:]) or "no realisable draw"
                    sample = json.loads(text) if text is not None else None
                    for name, check in checks or ():
                        if sample is not None:
                            problem = check(sample)
                            if problem:
                                reason, sample = f"{name}: {problem}", None
                    if sample is None:
                        refused += text is not None
                        bad.write(json.dumps({"k": k, "reason": reason, "sample": json.loads(text) if text else None},
                                             ensure_ascii=False) + "\n")
                    else:
                        out.write(text + "\n")
                        stats.add(sample)
                    bar.update(1)
                out.flush()
                bad.flush()
                write_json(state_path, {"recipe_sha256": recipe.sha256(), "seed": recipe.seed, "done": chunk[-1][0] + 1})
    finally:
        bar.close()
        pool.close()
    os.replace(partial, final)
    os.replace(rejects_partial, rejects)
    state_path.unlink(missing_ok=True)
    rejected = recipe.n - stats.samples
    manifest = {
        "generator": {"name": GENERATOR, "version": GENERATOR_VERSION},
        "recipe": {**json.loads(json.dumps(recipe.__dict__)), "sha256": recipe.sha256()},
        "totals": {"requested": recipe.n, "out": stats.samples, "rejected": rejected, "refused_by_checks": refused,
                   "redrawn": redraws},
        "verified_by_reexecution": verify,
        "checks": [name for name, _ in checks or ()],
        **stats.as_dict(),
        "run": {"seconds": round(time.perf_counter() - started, 3), "workers": workers, "resumed_from": done},
    }
    write_json(out_dir / f"{recipe.name}.manifest.json", manifest)
    return manifest
