"""``python benchmark score|run``: BFCL-compatible scores for predictions, and model runs through OpenAI-compatible servers."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import click

from ..format.jsonl import write_json, write_jsonl
from ..llm.client import public_url
from ..datasets.store import Store, iter_inputs, resolve_inputs
from .common import data_dir_option, fail, print_table

CONTEXT = {"help_option_names": ["-h", "--help"]}


class DefaultRun(click.Group):
    """``python benchmark --datasets=BFCL --model_path=…`` (seed 003) means ``python benchmark run …``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0].startswith("--") and args[0] not in ("--help", "-h"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


@click.group(cls=DefaultRun, context_settings=CONTEXT)
def benchmark() -> None:
    """Score model outputs the way BFCL does, on BFCL or any corpus with ground truth.

    \b
      python benchmark score --datasets BFCL --predictions preds.jsonl --out runs/x
      python benchmark run --datasets BFCL --model NAME --base-url http://127.0.0.1:8000/v1
      python benchmark --datasets BFCL --model_path PATH     # starts `vllm serve PATH`, then runs
    """


def _datasets_option(function):
    return click.option("--datasets", "-d", required=True, multiple=True,
                        help="Processed corpora by name (BFCL, BFCL/simple_python, …) or .jsonl files; "
                             "repeat or separate with commas.")(function)


def _specs(datasets: tuple[str, ...]) -> list[str]:
    return [part for value in datasets for part in value.split(",") if part.strip()]


def _environments(store: Store, trust_runtime: bool = False):
    from ..benchmark.scoring.multi_turn import Environments

    raw = store.raw_dir("BFCL")
    return Environments(raw, trust=trust_runtime) if raw.is_dir() else None


def _runtimes(store: Store, trust_runtime: bool = False) -> dict:
    """Benchmark environments from their raw downloads (τ²-bench's domains from its pinned wheel)."""
    from ..datasets.sources import FetchError
    from ..datasets.sources.tau2 import wheel_of
    from ..tools.tau2_runtime import Tau2Runtime

    try:
        return {"tau2-bench": Tau2Runtime(wheel_of(store.raw_dir("tau2-bench")), trust=trust_runtime)}
    except FetchError:  # not downloaded: τ²-bench items say so when scored
        return {}


def _own_tables(kind: str, layout: dict) -> list:
    import importlib

    return importlib.import_module(f"opentoollab.benchmark.scoring.{kind}").tables(layout)


def _trust_option(function):
    return click.option("--trust-runtime", is_flag=True,
                        help="Run a bfcl_eval wheel that is not the pinned release (its sha256 differs); "
                             "recorded in the output.")(function)


def _score_and_report(specs: list[str], store: Store, predictions: Path, out: Path | None,
                      underscore_to_dot: bool, quiet: bool, trust_runtime: bool = False) -> dict:
    from ..benchmark.scoring import read_predictions, score
    from ..benchmark.scoring.items import OWN_SCORERS
    from ..benchmark.scoring.report import NA, percent

    try:
        resolve_inputs(specs, store)
    except FileNotFoundError as exc:
        fail(str(exc), 2)
    started = time.perf_counter()
    try:
        rows, summary = score(iter_inputs(specs, store), read_predictions(predictions),
                              environments=_environments(store, trust_runtime), underscore_to_dot=underscore_to_dot,
                              progress=not quiet, runtimes=_runtimes(store, trust_runtime))
    except ValueError as exc:  # a dataset file that is not JSONL
        fail(str(exc))
    summary["seconds"] = round(time.perf_counter() - started, 3)
    summary["inputs"] = {"datasets": specs, "predictions": str(predictions), "underscore_to_dot": underscore_to_dot,
                         **({"trust_runtime": True} if trust_runtime else {})}
    if out is not None:
        write_jsonl(out / "results.jsonl", rows)
        write_json(out / "summary.json", summary)
    table = [{"category": c, "n": e["scored"], "correct": e["correct"], "missing": e["missing"],
              "accuracy": percent(e["accuracy"]) if e["accuracy"] is not None else NA,
              "exact": percent(e["metrics"]["exact_match"]) if "metrics" in e else "",
              "tool F1": percent(e["metrics"]["tool_f1"]) if "metrics" in e else "",
              "param acc": percent(e["metrics"]["param_accuracy"]) if "metrics" in e else ""}
             for c, e in summary["categories"].items()]
    print_table(table, ["category", "n", "correct", "missing", "accuracy", "exact", "tool F1", "param acc"])
    if "bfcl" in summary:
        click.echo("")
        print_table([{"BFCL": r["metric"], "accuracy": percent(r["accuracy"])} for r in summary["bfcl"]["table"]],
                    ["BFCL", "accuracy"])
    for kind in sorted(set(OWN_SCORERS.values())):  # each benchmark's own table(s): scoring/<kind>.py
        for columns, table, note in (_own_tables(kind, summary[kind]) if summary.get(kind) else []):
            click.echo("")
            print_table(table, columns)
            if note:
                click.echo(note)
    click.echo(f"\n{summary['predictions']} prediction lines: scored {summary['scored']} + rejected "
               f"{summary['rejected']} {summary['rejected_by_reason'] or ''}; correct {summary['correct']}; "
               f"{summary['seconds']}s" + (f" → {out}" if out else ""))
    if not summary["scored"]:
        click.echo("no prediction was scored: every accuracy is N/A (not 0%)", err=True)
    if summary.get("invalid_samples"):
        click.echo(f"{summary['invalid_samples']} evaluation sample(s) are not valid samples and were not scored "
                   f"(`python datasets validate FILE` says why)", err=True)
    return summary


@benchmark.command(context_settings=CONTEXT)
@_datasets_option
@click.option("--predictions", "-p", required=True, type=click.Path(exists=True, dir_okay=False),
              help="JSONL: {id, calls:[{name, arguments}]} or {id, result:'raw text'} (BFCL result files too); "
                   "multi-turn: {id, turns:[[[calls of a step], …], …]}.")
@click.option("--out", "-o", type=click.Path(file_okay=False), default=None,
              help="Write results.jsonl and summary.json here.")
@click.option("--underscore-to-dot", is_flag=True,
              help="The model saw tool names with '.' replaced by '_' (BFCL's flag for OpenAI-style FC models).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@_trust_option
@data_dir_option
def score(datasets, predictions, out, underscore_to_dot, quiet, trust_runtime, store: Store) -> None:
    """Score predictions against the ground truth of processed corpora (BFCL's checker, rule by rule).

    A prediction names its sample by our id (BFCL_simple_python_0) or the source's own id
    (simple_python_0). Raw text is parsed as <tool_call> blocks, JSON, or Python call syntax (with
    ast; never eval); BFCL's Java/JavaScript items with BFCL's own tree-sitter grammars (extra
    'bfcl-langs'). Prints per-category accuracy, exact match / tool F1 / parameter accuracy
    (Hungarian-matched), and for BFCL its leaderboard layout.
    """
    _score_and_report(_specs(datasets), store, Path(predictions), Path(out) if out else None, underscore_to_dot, quiet,
                      trust_runtime)


@benchmark.command(context_settings=CONTEXT)
@_datasets_option
@click.option("--model", "-m", default=None, help="Model name the server serves (default: the --model_path).")
@click.option("--base-url", default=None, help="OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1.")
@click.option("--api-key", envvar="OPENAI_API_KEY", default=None, help="Bearer token [env OPENAI_API_KEY].")
@click.option("--mode", type=click.Choice(["fc", "prompt"]), default="fc", show_default=True,
              help="fc: send tools to /v1/chat/completions, read tool_calls. prompt: render the exact chat-template "
                   "prompt with a built-in renderer, send it to /v1/completions, read the family's call syntax.")
@click.option("--renderer", default=None, metavar="NAME",
              help="Built-in renderer for --mode prompt (Qwen2.5, Llama-3.1, Mistral-v0.3, Hermes-3, …) "
                   "[default: found from --model / --model_path when it names a known model].")
@click.option("--concurrency", "-j", type=click.IntRange(1, 256), default=4, show_default=True)
@click.option("--limit", type=click.IntRange(1), default=None,
              help="Only N scorable samples, spread over the categories (the first of each, then the second…): smoke runs.")
@click.option("--retries", type=click.IntRange(0), default=5, show_default=True)
@click.option("--timeout", type=float, default=120.0, show_default=True, help="Seconds per request.")
@click.option("--max-tokens", type=int, default=None)
@click.option("--model_path", "--model-path", "model_path", default=None,
              help="Start `vllm serve PATH` on 127.0.0.1 for the run (needs vLLM).")
@click.option("--port", type=int, default=8000, show_default=True, help="Port for --model_path.")
@click.option("--out", "-o", type=click.Path(file_okay=False), default=None,
              help="Output folder [default: benchmark/runs/<model>]; predictions.jsonl there is resumed.")
@click.option("--user-model", default=None,
              help="τ²-bench, ACEBench agent multi_turn: the simulated user's model (the benchmark's own "
                   "user-simulator prompt, temperature 0).")
@click.option("--user-base-url", default=None,
              help="OpenAI-compatible server of --user-model [default: --base-url].")
@click.option("--user-api-key", envvar="OPENTOOLLAB_USER_API_KEY", default=None, show_envvar=True,
              help="Bearer token for --user-base-url [default: --api-key when the user runs on the same server]; "
                   "never written anywhere.")
@click.option("--max-steps", type=click.IntRange(1), default=None,
              help="τ²-bench / ACEBench agent: messages per conversation before it stops [default: the "
                   "benchmark's own: τ²-bench 200, ACEBench 40].")
@click.option("--quiet", "-q", is_flag=True)
@_trust_option
@data_dir_option
def run(datasets, model, base_url, api_key, mode, renderer, concurrency, limit, retries, timeout, max_tokens, model_path,
        port, out, user_model, user_base_url, user_api_key, max_steps, quiet, trust_runtime, store: Store) -> None:
    """Query a model for every scorable sample, write predictions.jsonl, then score them.

    Resumable: re-running with the same --out skips samples already predicted. BFCL multi-turn
    samples run against BFCL's environments, feeding each call's result back to the model.
    τ²-bench conversations run in τ²-bench's domain environments with a simulated user (--user-model);
    ACEBench's agent items in its scenario classes (multi_turn with --user-model too).
    """
    from ..benchmark.run import Client, across_categories
    from ..benchmark.run import run as run_items
    from ..benchmark.scoring.items import item_of

    specs = _specs(datasets)
    template = _prompt_renderer(renderer, model or model_path) if mode == "prompt" else None
    if not base_url and not model_path:
        fail("give --base-url of a running OpenAI-compatible server, or --model_path to start vLLM", 2)
    try:
        resolve_inputs(specs, store)
    except FileNotFoundError as exc:
        fail(str(exc), 2)
    model = model or model_path
    out_dir = Path(out) if out else Path("benchmark") / "runs" / _slug(model)
    server = _start_vllm(model_path, port) if model_path and not base_url else None
    try:
        base_url = base_url or f"http://127.0.0.1:{port}/v1"
        if server is not None:
            _wait_ready(base_url, server)
        items = (item for item in map(item_of, iter_inputs(specs, store)) if item is not None)
        if limit:
            items = across_categories(items, limit)
        client = Client(base_url, model, api_key, timeout=timeout, retries=retries, max_tokens=max_tokens)
        user = Client(user_base_url or base_url, user_model, user_api_key if user_api_key or user_base_url else api_key,
                      timeout=timeout, retries=retries) if user_model else None
        counts = run_items(client, items, out_dir / "predictions.jsonl", concurrency=concurrency,
                           environments=_environments(store, trust_runtime), progress=not quiet, renderer=template,
                           loops=_agent_loops(store, trust_runtime, user, max_steps, out_dir))
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=60)
    write_json(out_dir / "run.json", {"model": model, "base_url": base_url, "mode": mode, "datasets": specs,
                                      **({"user_model": user_model, "user_base_url": public_url(user_base_url or base_url),
                                          "max_steps": max_steps} if user_model else {}),
                                      **({"trust_runtime": True} if trust_runtime else {}),
                                      **({"renderer": template.name} if template else {}), **counts})
    click.echo(f"predictions: {counts['written']} new, {counts['skipped']} from before, {counts['failed']} failed "
               f"→ {out_dir / 'predictions.jsonl'}", err=True)
    for failure in counts["failures"][:5]:
        click.echo(f"  failed {failure['id']}: {failure['error']}", err=True)
    _score_and_report(specs, store, out_dir / "predictions.jsonl", out_dir, False, quiet, trust_runtime)
    if counts["failed"]:
        fail(f"{counts['failed']} sample(s) failed (details in {out_dir / 'run.json'}); re-run to retry them")


def _agent_loops(store: Store, trust_runtime: bool, user, max_steps: int | None, out_dir: Path) -> dict:
    """Item kind → agent loop (benchmark/loops/) for the benchmarks whose environments are at hand."""
    from ..tools.bfcl_runtime import RuntimeUnavailable

    loops: dict = {}
    bfcl = next((store.raw_dir(n) for n in ("BFCL-memory", "BFCL") if store.raw_dir(n).is_dir()), None)
    if bfcl is not None:  # BFCL memory: the backends and prerequisite conversations of BFCL's download
        from ..benchmark.loops.memory import MemoryLoop
        from ..datasets.sources import FetchError

        try:
            loops["memory"] = MemoryLoop(bfcl, out_dir / "memory", trust=trust_runtime)
        except (FetchError, RuntimeUnavailable, OSError):
            pass  # memory items then fail with the reason
    if store.raw_dir("ACEBench").is_dir():  # ACEBench's agent items: its pinned scenario classes (+ user for multi_turn)
        from ..benchmark.loops.acebench import AceBenchLoop
        from ..datasets.sources.acebench import SHA256
        from ..tools.acebench_runtime import AceRuntime

        loops["acebench_agent"] = AceBenchLoop(AceRuntime(store.raw_dir("ACEBench"), SHA256, trust=trust_runtime), user,
                                               max_turns=max_steps)
    runtime = _runtimes(store, trust_runtime).get("tau2-bench")
    if user is not None and runtime is not None:
        from ..benchmark.loops.tau2 import Tau2Loop

        try:
            loops["tau2"] = Tau2Loop(runtime, user, max_steps=max_steps)
        except RuntimeUnavailable as exc:
            fail(str(exc))
    return loops


def _prompt_renderer(name: str | None, model: str | None):
    """The built-in renderer for --mode prompt: --renderer, else the one --model names."""
    from ..trainer.render import BUILTINS, get_renderer, resolve_name

    short = resolve_name(name) if name else (resolve_name(model) or resolve_name(Path(model).name)) if model else None
    if short is None:
        what = f"--renderer {name!r} is not a built-in" if name else "give --renderer"
        fail(f"--mode prompt: {what}; choose one of {', '.join(BUILTINS)}", 2)
    return get_renderer(short)


def _slug(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name.strip("/").split("/")[-1]) or "model"


def _start_vllm(path: str, port: int) -> subprocess.Popen:
    import importlib.util

    command = shutil.which("vllm")
    if command is None and importlib.util.find_spec("vllm") is None:
        fail("vLLM is not installed: `pip install vllm` (Linux + NVIDIA GPU), or start any OpenAI-compatible server "
             "yourself and pass --base-url", 2)
    argv = [command, "serve", path] if command else [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", path]
    argv += ["--host", "127.0.0.1", "--port", str(port), "--enable-auto-tool-choice", "--tool-call-parser", "hermes"]
    click.echo(f"starting: {' '.join(argv)}", err=True)
    return subprocess.Popen(argv)


def _wait_ready(base_url: str, server: subprocess.Popen, seconds: float = 900) -> None:
    import urllib.request

    deadline = time.time() + seconds
    while time.time() < deadline:
        if server.poll() is not None:
            fail(f"vllm exited with code {server.returncode} before serving")
        try:
            with urllib.request.urlopen(base_url.rstrip("/") + "/models", timeout=5):
                return
        except OSError:
            time.sleep(3)
    fail(f"vllm did not answer on {base_url} within {seconds:.0f}s")
