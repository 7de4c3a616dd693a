"""The whole pipeline on a synthetic corpus: process → tag → mix (exact + near dedup + decontamination) → prepare.

    python bench/bench_pipeline.py [--samples 100000 1000000] [--workers N] [--keep DIR]
    python bench/bench_pipeline.py --prepare-workers [--samples 50000] [--runs 3]  # prepare --workers 1 against 2
    python bench/bench_pipeline.py --compare-workers [--samples 100000] [--runs 1]  # process, tag, mix: --workers 1 against 2

Builds N samples in a real corpus layout (a generated run: DIR/raw/<run>.jsonl, read through the
`generated` adapter), a synthetic evaluation set that some training samples copy (so decontamination
removes something), 2% exact and 2% near duplicates, and a byte-level BPE tokenizer trained here. Each
stage runs as the command users type, in its own process; printed per stage: wall seconds, CPU
seconds and the stage process's peak memory (worker processes, with --workers > 1, come on top; their CPU time too).
Target: every stage streams, so peak memory stays under 2 GB at 1,000,000 samples and grows
sub-linearly from 100k to 1M.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WORDS = ("flight hotel weather stock price convert currency book table restaurant city tomorrow send email "
         "meeting calendar remind schedule order pizza track package delivery search news translate text french "
         "german spanish calculate area circle radius movie tickets tonight play song playlist volume light "
         "kitchen thermostat degrees account balance transfer savings checking invoice report quarterly").split()
TYPES = ("string", "integer", "number", "boolean")


def _tools(rng: random.Random, n: int = 200) -> list[dict]:
    tools = []
    for k in range(n):
        params = {f"p{j}_{rng.choice(WORDS)}": {"type": rng.choice(TYPES), "description": " ".join(rng.choices(WORDS, k=6))}
                  for j in range(rng.randint(1, 5))}
        tools.append({"name": f"{rng.choice(WORDS)}_{rng.choice(WORDS)}_{k}", "description": " ".join(rng.choices(WORDS, k=12)),
                      "parameters": {"type": "object", "properties": params, "required": sorted(params)[:1]}})
    return tools


def _value(kind: str, rng: random.Random):
    return {"string": lambda: rng.choice(WORDS), "integer": lambda: rng.randint(0, 999),
            "number": lambda: round(rng.uniform(0, 100), 2), "boolean": lambda: rng.random() < 0.5}[kind]()


def sample(k: int, rng: random.Random, tools: list[dict], run: str) -> list[dict]:
    offered = rng.sample(tools, rng.randint(1, 4))
    tool = offered[0]
    question = " ".join(rng.choices(WORDS, k=rng.randint(12, 30))) + f" (case {k})"
    arguments = {name: _value(spec["type"], rng) for name, spec in tool["parameters"]["properties"].items()}
    meta = {"source": "generated", "subset": run, "source_id": k, "license": "Apache-2.0"}
    return [{"role": "meta", "content": meta}, {"role": "candidate_tools", "content": offered},
            {"role": "user", "content": question},
            {"role": "tool_call", "content": [{"name": tool["name"], "parameters": arguments, "depend_on": []}]},
            {"role": "tool_response", "content": {f"{tool['name']}.0": {"status": "ok", "value": rng.randint(0, 10 ** 6)}}},
            {"role": "assistant", "content": "Done: " + " ".join(rng.choices(WORDS, k=10))}]


def build(folder: Path, n: int, run: str = "synthetic") -> tuple[Path, Path]:
    """The raw run file (with exact and near duplicates and copies of evaluation questions) and the eval set."""
    rng = random.Random(18)
    tools = _tools(rng)
    raw = folder / "raw"
    raw.mkdir(parents=True)
    evaluation = [sample(10 ** 9 + k, rng, tools, "eval") for k in range(2000)]
    recent: list[list[dict]] = []
    with open(raw / f"{run}.jsonl", "w", encoding="utf-8") as out:
        for k in range(n):
            roll = rng.random()
            if roll < 0.02 and recent:  # exact duplicate of a recent sample
                item = json.loads(json.dumps(rng.choice(recent)))
                item[0]["content"]["source_id"] = k
            elif roll < 0.04 and recent:  # near duplicate: the same question with a word added at the end
                item = json.loads(json.dumps(rng.choice(recent)))
                item[2]["content"] += " " + rng.choice(WORDS)
                item[0]["content"]["source_id"] = k
            elif roll < 0.045:  # a benchmark question pasted into training data
                item = sample(k, rng, tools, run)
                item[2]["content"] = rng.choice(evaluation)[2]["content"]
            else:
                item = sample(k, rng, tools, run)
            if len(recent) < 500:
                recent.append(item)
            else:
                recent[rng.randrange(500)] = item
            out.write(json.dumps(item, ensure_ascii=False, separators=(",", ":")) + "\n")
    eval_file = folder / "eval.jsonl"
    with open(eval_file, "w", encoding="utf-8") as out:
        for k, item in enumerate(evaluation):
            out.write(json.dumps([{"role": "id", "content": f"bench_eval_{k}"}, *item], separators=(",", ":")) + "\n")
    return raw, eval_file


def tokenizer(folder: Path, raw: Path) -> Path:
    sys.path.insert(0, str(REPO / "src"))
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    from opentoollab.trainer.render import get_renderer, to_chat

    renderer = get_renderer("Qwen2.5")
    texts = []
    with open(raw, encoding="utf-8") as handle:
        for k, line in zip(range(3000), handle):
            texts.append(renderer.render(to_chat([{"role": "id", "content": f"x_y_{k}"}, *json.loads(line)])).text)
    model = Tokenizer(models.BPE())
    model.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    model.decoder = decoders.ByteLevel()
    model.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=8000, special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
                                                         initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False))
    target = folder / "tokenizer"
    target.mkdir()
    model.save(str(target / "tokenizer.json"))
    return target


STAGES = ("process", "tag", "mix", "prepare")


@contextlib.contextmanager
def scratch(prefix: str, keep: Path | None):
    """A fresh folder for one run (under ``keep``, and kept, when given; else removed afterwards)."""
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=keep))
    try:
        yield folder
    finally:
        if keep is None:
            shutil.rmtree(folder, ignore_errors=True)


def print_load(label: str) -> None:
    load = os.getloadavg()
    print(f"  load average {label}: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}", flush=True)


def stage_commands(folder: Path, raw: Path, eval_file: Path, tok: Path | None = None) -> dict[str, list[str]]:
    """The commands of each stage as users type them (without --workers), reading and writing below ``folder``."""
    data = str(folder / "data")
    commands = {
        "process": ["datasets", "process", "generated", "--from", str(raw), "-q", "--data-dir", data],
        "tag": ["tag", "run", "--datasets", "generated", "-q", "--data-dir", data],
        "mix": ["trainer", "mix", "-d", "generated", "-o", str(folder / "mix.jsonl"), "--eval-set", str(eval_file),
                "-q", "--data-dir", data],
    }
    if tok is not None:
        commands["prepare"] = ["trainer", "prepare", "--datasets", str(folder / "mix.jsonl"), "--model", "Qwen2.5",
                               "--tokenizer", str(tok), "--out", str(folder / "prepared"), "-q", "--data-dir", data]
    return commands


def stage(name: str, command: list[str], one_core: bool = False) -> dict:
    """Run one command (its own process; with ``one_core``, it and its workers on the first allowed core only):
    wall and CPU seconds, peak memory of that process."""
    pin = (lambda: os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})) if one_core else None
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, *command], cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             preexec_fn=pin)
    _pid, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    error = child.stderr.read().decode("utf-8", "replace")
    if status != 0:
        raise SystemExit(f"{name} failed: {error[-2000:]}")
    return {"stage": name, "seconds": seconds, "cpu": usage.ru_utime + usage.ru_stime, "peak_mb": usage.ru_maxrss / 1024}


def pipeline(n: int, workers: int | None, keep: Path | None, stages: tuple[str, ...] = STAGES) -> list[dict]:
    with scratch(f"otl-pipeline-{n}-", keep) as folder:
        started = time.perf_counter()
        raw, eval_file = build(folder, n)
        tok = tokenizer(folder, raw / "synthetic.jsonl")
        print(f"{n:,} samples: built the corpus ({(raw / 'synthetic.jsonl').stat().st_size / 1e6:,.0f} MB) and a "
              f"tokenizer in {time.perf_counter() - started:.1f}s", flush=True)
        jobs = ["--workers", str(workers)] if workers else []
        commands = stage_commands(folder, raw, eval_file, tok)
        rows = [stage(name, [*command, *jobs]) for name, command in commands.items() if name in stages]
        mix = json.loads((folder / "mix.manifest.json").read_text())["totals"] if "mix" in stages else {}
        tokens = json.loads((folder / "prepared" / "manifest.json").read_text()).get("tokens", {}) if "prepare" in stages else {}
        if mix:
            print(f"  mix: read {mix['read']:,}, contaminated {mix['contaminated']:,}, exact dup {mix['duplicate_exact']:,}, "
                  f"near dup {mix['duplicate_near']:,}, taken {mix['taken']:,}; prepare: {tokens.get('total', 0):,} tokens")
        for row in rows:
            print(f"  {row['stage']:8s} {row['seconds']:8.1f}s wall {row['cpu']:8.1f}s cpu  peak {row['peak_mb']:7.0f} MB  "
                  f"{n / row['seconds']:9,.0f} samples/s")
        return rows


def _outputs(folder: Path) -> dict[str, bytes]:
    files = {p.name: p.read_bytes() for p in sorted(folder.iterdir())}
    manifest = json.loads(files.pop("manifest.json"))
    manifest.pop("seconds")
    return {**files, "manifest.json": json.dumps(manifest).encode()}


def prepare_workers(n: int, keep: Path | None, runs: int = 3) -> None:
    """``trainer prepare`` of N unified samples with --workers 1 and 2 (the whole command, in its own process),
    ``runs`` times interleaved: per format the median wall seconds, the rendering stage's (manifest), the
    speed-ups (median, and the range over runs) and whether the files are the same bytes. A third column runs
    --workers 1 pinned to one core (``sched_setaffinity``): with a tokenizer, --workers 1 already keeps 1.3–1.4
    cores busy (it renders while a thread tokenizes on every core), so "2 cores against 1" is only that column."""
    with scratch(f"otl-prepare-{n}-", keep) as folder:
        rng = random.Random(18)
        tools = _tools(rng)
        corpus, plain = folder / "samples.jsonl", folder / "plain.jsonl"  # plain: without ids, for the tokenizer
        with open(corpus, "w", encoding="utf-8") as out, open(plain, "w", encoding="utf-8") as first:
            for k in range(n):
                item = sample(k, rng, tools, "bench")
                out.write(json.dumps([{"role": "id", "content": f"Synthetic_bench_{k}"}, *item], separators=(",", ":")) + "\n")
                if k < 3000:
                    first.write(json.dumps(item) + "\n")
        tok = tokenizer(folder, plain)
        one_core = hasattr(os, "sched_setaffinity") and len(os.sched_getaffinity(0)) > 1
        print(f"trainer prepare, {n:,} samples ({corpus.stat().st_size / 1e6:,.0f} MB), {os.cpu_count()} cores, "
              f"{runs} runs interleaved (medians; the speed-ups' range in brackets)", flush=True)
        print_load("before")
        setups = [("1", 1, False), ("2", 2, False)] + ([("1 core", 1, True)] if one_core else [])
        for label, extra in (("text", []), ("messages", ["--format", "messages", "--no-hf-safe"]),
                             ("sharegpt", ["--format", "sharegpt"]), ("text --tokenizer", ["--tokenizer", str(tok)])):
            wall: dict[str, list[float]] = {key: [] for key, *_ in setups}
            cpu: dict[str, list[float]] = {key: [] for key, *_ in setups}
            rendering: dict[str, list[float]] = {key: [] for key, *_ in setups}
            files: dict[str, dict] = {}
            for _ in range(runs):
                for key, workers, pinned in setups:
                    out = folder / f"out{workers}"
                    shutil.rmtree(out, ignore_errors=True)
                    row = stage("prepare", ["trainer", "prepare", "--datasets", str(corpus), "--model", "Qwen2.5", "--out",
                                            str(out), "-q", "--data-dir", str(folder / "data"), "--workers", str(workers),
                                            *extra], one_core=pinned)
                    wall[key].append(row["seconds"])
                    cpu[key].append(row["cpu"])
                    rendering[key].append(json.loads((out / "manifest.json").read_text())["seconds"])
                    found = _outputs(out)
                    if files.setdefault(key, found) != found:
                        raise SystemExit(f"prepare {label} --workers {workers} wrote other bytes in another run")
            line = (f"  {label:17s} command 1: {_median(wall['1']):5.1f}s  2: {_median(wall['2']):5.1f}s  "
                    f"{_speedup(wall['1'], wall['2'])}  rendering stage {_speedup(rendering['1'], rendering['2'])}")
            if one_core:
                line += (f"   1 core: {_median(wall['1 core']):5.1f}s  2 against 1 core {_speedup(wall['1 core'], wall['2'])}"
                         f"  rendering stage {_speedup(rendering['1 core'], rendering['2'])}")
            same = all(files[key] == files["1"] for key in files)
            print(f"{line}  (target >= 1.7x)  identical bytes: {same}  cores busy "
                  f"{_median(cpu['1']) / _median(wall['1']):.2f} / {_median(cpu['2']) / _median(wall['2']):.2f}", flush=True)
        print_load("after")


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def _speedup(base: list[float], fast: list[float]) -> str:
    """The median speed-up of interleaved runs, and its range over the runs."""
    ratios = sorted(a / b for a, b in zip(base, fast))
    return f"{_median(ratios):.2f}x [{ratios[0]:.2f}-{ratios[-1]:.2f}]"


def _digests(paths: list[Path]) -> dict[str, str]:
    """sha256 of every file below the paths, manifests left out (they hold timings)."""
    sys.path.insert(0, str(REPO / "src"))
    from opentoollab.format.jsonl import sha256_file

    return {str(file): sha256_file(file) for path in paths for file in sorted(path.rglob("*") if path.is_dir() else [path])
            if file.is_file() and not file.name.endswith("manifest.json")}


def compare_workers(n: int, keep: Path | None, runs: int = 1) -> None:
    """process → tag → mix of N samples with --workers 1, then again with --workers 2 in the same folders,
    ``runs`` times: per stage the wall seconds (medians), the speed-up (median and range) and whether every
    output file is the same bytes in every run."""
    with scratch(f"otl-workers-{n}-", keep) as folder:
        raw, eval_file = build(folder, n)
        data = folder / "data"
        print(f"--workers 1 against 2, {n:,} samples, {os.cpu_count()} cores, {runs} run(s)", flush=True)
        print_load("before")
        commands = stage_commands(folder, raw, eval_file)
        outputs = {"process": [data / "processed", data / "tools"], "tag": [data / "tags"],
                   "mix": [folder / "mix.jsonl", folder / "mix.removed.jsonl"]}
        seconds: dict[str, dict[int, list[float]]] = {name: {1: [], 2: []} for name in commands}
        digests: dict[str, list[dict]] = {name: [] for name in commands}
        for _ in range(runs):
            for workers in (1, 2):
                for name, command in commands.items():
                    seconds[name][workers].append(stage(name, [*command, "--workers", str(workers)])["seconds"])
                    digests[name].append(_digests(outputs[name]))
        for name in commands:
            one, two = seconds[name][1], seconds[name][2]
            same = all(found == digests[name][0] for found in digests[name])
            print(f"  {name:8s} 1: {_median(one):7.1f}s  2: {_median(two):7.1f}s  speed-up {_speedup(one, two)} "
                  f"(target >= 1.7x)  identical bytes: {same} ({len(digests[name][0])} files)", flush=True)
        print_load("after")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, nargs="+", default=None, help="[default: 100000 1000000; "
                                                                             "with --prepare-workers 50000]")
    parser.add_argument("--workers", type=int, default=None, help="--workers for every stage [default: the commands' own]")
    parser.add_argument("--keep", type=Path, default=None, help="build under this folder and keep it")
    parser.add_argument("--runs", type=int, default=None, help="with --prepare-workers (default 3) or --compare-workers (default 1): interleaved runs")
    parser.add_argument("--prepare-workers", action="store_true",
                        help="only trainer prepare, --workers 1 against 2 (speed-up, identical bytes)")
    parser.add_argument("--stages", nargs="+", choices=STAGES, default=list(STAGES),
                        help="run only these stages (each needs the ones it reads: mix needs process, prepare needs mix)")
    parser.add_argument("--compare-workers", action="store_true",
                        help="process, tag and mix with --workers 1 against 2 (speed-up, identical bytes)")
    args = parser.parse_args()
    if args.compare_workers:
        for n in args.samples or [100_000]:
            compare_workers(n, args.keep, max(1, args.runs or 1))
        return
    if args.prepare_workers:
        for n in args.samples or [50_000]:
            prepare_workers(n, args.keep, max(1, args.runs or 3))
        return
    args.samples = args.samples or [100_000, 1_000_000]
    results = {n: pipeline(n, args.workers, args.keep, tuple(args.stages)) for n in args.samples}
    if len(results) > 1:
        (small, first), (large, last) = sorted(results.items())[0], sorted(results.items())[-1]
        print(f"peak memory {small:,} → {large:,} samples ({large / small:.0f}x):")
        for a, b in zip(first, last):
            print(f"  {a['stage']:8s} {a['peak_mb']:6.0f} → {b['peak_mb']:6.0f} MB ({b['peak_mb'] / a['peak_mb']:.1f}x)  "
                  f"limit 2048 MB: {'OK' if b['peak_mb'] <= 2048 else 'OVER'}")


if __name__ == "__main__":
    main()
