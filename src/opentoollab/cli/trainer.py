"""``python trainer ...``: turn unified samples into training files for a model's exact chat template."""

from __future__ import annotations

import re
from pathlib import Path

import click

from ..trainer.recipe import is_mix_spec
from .common import data_dir_option, fail, print_table
from .mix import mix, mix_or_fail

CONTEXT = {"help_option_names": ["-h", "--help"]}


@click.group(context_settings=CONTEXT)
def trainer() -> None:
    """Prepare training files: a model's exact chat text with loss spans, or TRL / LLaMA-Factory rows.

    \b
    Typical use, from the repository root:
      python trainer prepare --datasets=ToolACE,xLAM --model=Qwen2.5
      python trainer prepare --datasets=ToolACE:2500,xLAM:0.5 --model=Llama-3.1 --format=sharegpt
      python trainer prepare --datasets=my.jsonl --tokenizer=./my-model --val-size=0.05
      python trainer prepare --datasets=xLAM --model=Qwen2.5 --tokenizer=Qwen/Qwen2.5-7B-Instruct   # + input_ids/labels
      python trainer mix -d ToolACE:2500,xLAM:0.5 -o mix/train.jsonl --seed 42

    Every input is checked against the evaluation sets (all of BFCL, API-Bank test data): matching
    samples are removed and reported, and training on an evaluation set itself is refused unless
    --allow-eval is given (then flagged loudly in the output and the manifest).
    """


def _renderer(model: str | None, chat_template: str | None, tokenizer: str | None, date: str):
    """(renderer, manifest info, probe warnings) for the chosen template."""
    from ..trainer.render import DEFAULT, get_renderer, renderer_class, resolve_name
    from ..trainer.render.jinja import JinjaRenderer, load_tokenizer_template, probe

    if chat_template or (tokenizer and not model):
        special: dict[str, str] = {}
        short = resolve_name(model) if model else None
        if short:
            special = dict(renderer_class(short).special_tokens)
        if tokenizer and not chat_template:
            source, tokens, origin = load_tokenizer_template(tokenizer)
            special.update(tokens)
        if chat_template:
            source, origin = Path(chat_template).read_text("utf-8"), chat_template
        renderer = JinjaRenderer(source, special, origin=origin, date_string=date)
        import hashlib

        info = {"name": model or Path(origin).stem, "kind": "jinja", "template": origin,
                "template_sha256": hashlib.sha256(source.encode("utf-8")).hexdigest(), "special_tokens": special}
        return renderer, info, probe(renderer.template)
    renderer = get_renderer(model or DEFAULT)
    if date != "26 Jul 2024" and hasattr(renderer, "date_string"):
        renderer.date_string = date
    info = {"name": renderer.name, "kind": "builtin", "template": renderer.template_file,
            "special_tokens": dict(renderer.special_tokens)}
    return renderer, info, []


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.\-]+", "_", text).strip("_")[:80] or "prepared"


@trainer.command()
@click.option("--datasets", "datasets_", required=True, metavar="LIST",
              help="Comma list of processed corpus names (NAME or NAME/subset) and/or unified .jsonl files.")
@click.option("--model", default=None, metavar="NAME",
              help="Built-in renderer: short name, alias or hub id (e.g. Qwen2.5, Qwen/Qwen2.5-7B-Instruct). "
                   "Default Qwen2.5. Built-ins: " + "Qwen2.5, Qwen3, Llama-3.1/3.2/3.3, Mistral-v0.3, Mistral-Nemo, "
                   "Hermes-2-Pro, Hermes-3, DeepSeek-R1-Distill-Qwen/Llama, DeepSeek-V3, GLM-4.")
@click.option("--chat-template", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Render with this Jinja chat template instead of a built-in (sandboxed, like transformers).")
@click.option("--tokenizer", default=None, metavar="PATH_OR_HUB_ID",
              help="A tokenizer folder or hub id. --format text rows then also get input_ids and labels (-100 outside "
                   "the spans; needs tokenizer.json and the 'tokenize' extra). Without --model/--chat-template the "
                   "text is rendered with the tokenizer's own chat template.")
@click.option("--format", "fmt", type=click.Choice(["text", "messages", "sharegpt"]), default="text", show_default=True,
              help="text: {id, text, spans}; messages: TRL/ms-swift {messages, tools}; sharegpt: LLaMA-Factory.")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Output folder [default: trainer/prepared/<datasets>-<model>-<format>].")
@click.option("--val-size", type=float, default=0.0, show_default=True,
              help="Validation split: a fraction (< 1) or a number of samples (>= 1).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the validation split.")
@click.option("--reasoning/--no-reasoning", default=False, show_default=True,
              help="Put hidden assistant thoughts into reasoning_content (templates with a reasoning channel show it).")
@click.option("--tool-changes", type=click.Choice(["skip", "union"]), default="skip", show_default=True,
              help="Samples whose candidate tools change mid-dialogue: skip them, or render with the union of tools.")
@click.option("--date", default="26 Jul 2024", show_default=True, help="Date for templates that print today's date.")
@click.option("--no-validate", is_flag=True, help="Do not validate samples before rendering (faster on trusted input).")
@click.option("--allow-eval", is_flag=True, help="Allow training on evaluation sets such as BFCL (refused by default: a model "
                                                 "trained on them cannot be evaluated on them); flagged in the output and manifest.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or table.")
@data_dir_option
def prepare(store, datasets_, model, chat_template, tokenizer, fmt, out, val_size, seed, reasoning, tool_changes,
            date, no_validate, allow_eval, quiet) -> None:
    """Render samples in a model's exact chat template and write trainer-ready files + a manifest.

    Every input sample is either written or skipped with a counted reason (skipped.jsonl), e.g. when
    the official template cannot express it (Llama 3.x and parallel calls).
    """
    from ..trainer.prepare import Options, file_info, prepare as run, read_files
    from ..datasets.store import resolve_inputs

    if val_size < 0:
        fail("--val-size must be >= 0", 2)
    specs = [s for s in datasets_.split(",") if s.strip()]
    # Every input is checked against the evaluation sets; a plain list (no counts, shares or recipe)
    # keeps its samples and order otherwise: no sampling, shuffling or deduplication.
    plain = {} if is_mix_spec(datasets_) else {"dedup": False, "near_dedup": False, "shuffle": False}
    mixed = mix_or_fail(datasets_, store, seed, allow_eval, quiet, **plain)
    try:
        files = list(dict.fromkeys(mixed[0].files)) if mixed else resolve_inputs(specs, store)
    except FileNotFoundError as exc:
        fail(str(exc), 2)
    if not files:
        fail(f"no input files for --datasets={datasets_}", 2)
    try:
        renderer, info, warnings = _renderer(model, chat_template, tokenizer, date)
    except KeyError as exc:
        fail(str(exc.args[0]), 2)
    except (FileNotFoundError, ValueError, OSError) as exc:
        fail(str(exc), 2)
    options_extra = {"date_string": date}
    token_source = None
    if tokenizer and fmt == "text":
        from ..trainer.prepare import load_tokenizer

        try:
            token_source = load_tokenizer(tokenizer)
        except (ImportError, FileNotFoundError, OSError, ValueError) as exc:
            fail(str(exc), 2)
        options_extra["tokenizer"] = tokenizer
    elif tokenizer and not quiet:
        click.echo(f"note: input_ids/labels are written with --format text only (not {fmt})", err=True)
    for warning in warnings:
        click.secho(f"warning: {warning}", fg="yellow", err=True)
    name = _slug(f"{'+'.join(specs)}-{info['name']}-{fmt}")
    out_dir = Path(out) if out else Path("trainer") / "prepared" / name
    options = Options(format=fmt, val_size=val_size, seed=seed, reasoning=reasoning, tool_changes=tool_changes,
                      validate=not no_validate, tokenizer=token_source, extra=options_extra)
    inputs = ([{"mix": mixed[1]}] if mixed else []) + [file_info(path) for path in files]
    if warnings:
        info["warnings"] = warnings
    manifest = run(mixed[0] if mixed else read_files(files), renderer, out_dir, options, renderer_info=info, inputs=inputs, name=name,
                   progress=not quiet)
    counts = manifest["counts"]
    if not quiet and counts["skipped_by_reason"]:
        print_table([{"reason": r, "samples": n} for r, n in counts["skipped_by_reason"].items()], ["reason", "samples"])
    tokens = manifest.get("tokens")
    click.echo(f"{info['name']} ({fmt}): in {counts['in']} = out {counts['out']} (train {counts['train']}, "
               f"val {counts['val']}) + skipped {counts['skipped']}; "
               + (f"{tokens['total']:,} tokens ({tokens['learned']:,} learned); " if tokens else "")
               + f"{manifest['seconds']:.1f}s → {out_dir}")
    if counts["out"] == 0:
        fail(f"nothing was written; reasons in {out_dir / 'skipped.jsonl'}")


trainer.add_command(mix)
