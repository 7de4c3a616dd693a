"""``python trainer ...``: turn unified samples into training files for a model's exact chat template."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import click

from ..trainer.recipe import is_mix_spec
from ..trainer.render import BUILTINS
from .common import data_dir_option, fail, print_table, scale_options
from .mix import mix, mix_or_fail
from .show import color_option, highlight_spans, locate_or_fail, span_summary

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
      python trainer show BFCL_multi_turn_base_2 --model Llama-3.1   # one sample, learned spans highlighted

    Every input is checked against the evaluation sets (all of BFCL, API-Bank test data): matching
    samples are removed and reported, and training on an evaluation set itself is refused unless
    --allow-eval is given (then flagged loudly in the output and the manifest).
    """


def _template_options(pairs: tuple[str, ...]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs of ``--template-option`` → keyword arguments (true/false → bool, digits → int)."""
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip().isidentifier():
            raise ValueError(f"--template-option takes KEY=VALUE, got {pair!r}")
        lowered = value.strip().lower()
        options[key.strip()] = (lowered == "true" if lowered in ("true", "false")
                                else int(lowered) if re.fullmatch(r"-?\d+", lowered) else value)
    return options


def _builtin(name: str, options: dict[str, Any]):
    """A built-in renderer with its template options; ValueError naming the options it accepts."""
    import inspect

    from ..trainer.render import get_renderer, renderer_class, resolve_name

    short = resolve_name(name)
    accepted = [] if short is None else [p for p in inspect.signature(renderer_class(short).__init__).parameters
                                         if p != "self"]
    unknown = sorted(set(options) - set(accepted)) if short else []
    if unknown:
        raise ValueError(f"{short} has no template option {', '.join(unknown)}; "
                         f"it accepts: {', '.join(accepted) or 'none'}")
    return get_renderer(name, **options)


def _renderer(model: str | None, chat_template: str | None, tokenizer: str | None, date: str,
              options: dict[str, Any] | None = None):
    """(renderer, manifest info, probe warnings) for the chosen template."""
    from ..trainer.render import DEFAULT, renderer_class, resolve_name
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
    renderer = _builtin(model or DEFAULT, options or {})
    if date != "26 Jul 2024" and hasattr(renderer, "date_string"):
        renderer.date_string = date
    info = {"name": renderer.name, "kind": "builtin", "template": renderer.template_file,
            "special_tokens": dict(renderer.special_tokens)}
    if options:
        info["options"] = dict(options)
    if renderer.notes:
        info["notes"] = list(renderer.notes)
    return renderer, info, []


def _renderer_or_fail(model: str | None, chat_template: str | None, tokenizer: str | None, date: str,
                      option_pairs: tuple[str, ...] = ()):
    """``_renderer``, or one error line and exit 2."""
    try:
        options = _template_options(option_pairs)
        if options and (chat_template or (tokenizer and not model)):
            raise ValueError("--template-option applies to built-in renderers (--model); "
                             "a --chat-template/--tokenizer template takes no options here")
        return _renderer(model, chat_template, tokenizer, date, options)
    except KeyError as exc:
        fail(str(exc.args[0]), 2)
    except (FileNotFoundError, ValueError, OSError) as exc:
        fail(str(exc), 2)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.\-]+", "_", text).strip("_")[:80] or "prepared"


@trainer.command()
@click.option("--datasets", "datasets_", required=True, metavar="LIST",
              help="Comma list of processed corpus names (NAME or NAME/subset) and/or unified .jsonl files.")
@click.option("--model", default=None, metavar="NAME",
              help="Built-in renderer: short name, alias or hub id (e.g. Qwen2.5, Qwen/Qwen2.5-7B-Instruct). "
                   "Default Qwen2.5. Built-ins: " + ", ".join(BUILTINS) + ".")
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
@click.option("--template-option", "template_options", multiple=True, metavar="KEY=VALUE",
              help="A built-in template's option, repeatable: enable_thinking=false (Qwen3, Qwen3.5, GLM-4.7), "
                   "reasoning_effort=high (gpt-oss), tools_in_user_message=false (Llama-4), thinking=false "
                   "(DeepSeek-V3.1) …; an unknown key lists the ones the model accepts. Recorded in the manifest.")
@click.option("--no-validate", is_flag=True, help="Do not validate samples before rendering (faster on trusted input).")
@click.option("--keep-trailing", is_flag=True,
              help="Keep a last tool result or user turn after the last assistant turn (dropped by default: nothing "
                   "is learned from it; counted in the manifest).")
@click.option("--arguments", type=click.Choice(["auto", "text", "object"]), default="auto", show_default=True,
              help="--format messages: tool-call arguments as JSON text (lossless through HF datasets) or objects; "
                   "auto = text when the template prints text arguments as is (Qwen3, Hermes), else objects.")
@click.option("--hf-safe/--no-hf-safe", default=True, show_default=True,
              help="--format messages with object arguments: skip rows whose arguments HF datasets would load with other "
                   "numbers (it re-parses floats with pandas: 0.3 → 0.30000000000000004, 8.854e-12 → 0.0), counted as "
                   "hf_datasets_float; the text format with --tokenizer keeps them exactly.")
@click.option("--trainer", "for_trainer", type=click.Choice(["any", "ms-swift"]), default="any", show_default=True,
              help="--format messages for ms-swift: skip (counted) the rows its template would encode differently from "
                   "the model's official template — a user turn right after tool results (it refuses them), two user "
                   "turns or plain replies in a row (it merges them), text beside calls (it drops the newline).")
@click.option("--max-tokens", type=click.IntRange(1), default=None, metavar="N",
              help="With --tokenizer: skip rows whose rendered text is longer than N tokens (any --format; counted as "
                   "too_long in the manifest and skipped.jsonl) instead of letting the trainer truncate them.")
@click.option("--allow-eval", is_flag=True, help="Allow training on evaluation sets such as BFCL (refused by default: a model "
                                                 "trained on them cannot be evaluated on them); flagged in the output and manifest.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or table.")
@scale_options(default="every core; rendering only from 2,000 samples on")
@data_dir_option
def prepare(store, datasets_, model, chat_template, tokenizer, fmt, out, val_size, seed, reasoning, tool_changes,
            date, template_options, no_validate, keep_trailing, arguments, hf_safe, for_trainer, max_tokens, allow_eval, quiet,
            scale) -> None:
    """Render samples in a model's exact chat template and write trainer-ready files + a manifest.

    Every input sample is either written or skipped with a counted reason (skipped.jsonl), e.g. when
    the official template cannot express it (Llama 3.x and parallel calls).
    """
    from ..trainer.prepare import BadRecord, LineAt, Options, file_info, prepare as run, read_files
    from ..datasets.store import resolve_inputs

    if val_size < 0:
        fail("--val-size must be >= 0", 2)
    if for_trainer != "any" and fmt != "messages":
        fail(f"--trainer {for_trainer} reads --format messages", 2)
    if max_tokens and not tokenizer:
        fail("--max-tokens counts tokens: give --tokenizer PATH_OR_HUB_ID too", 2)
    specs = [s for s in datasets_.split(",") if s.strip()]
    # Every input is checked against the evaluation sets; a plain list (no counts, shares or recipe)
    # keeps its samples and order otherwise: no sampling, shuffling or deduplication.
    plain = {} if is_mix_spec(datasets_) else {"dedup": False, "near_dedup": False, "shuffle": False}
    mixed = mix_or_fail(datasets_, store, seed, allow_eval, quiet, scale.workers, **plain)
    try:
        files = list(dict.fromkeys(mixed[0].files)) if mixed else resolve_inputs(specs, store)
    except FileNotFoundError as exc:
        fail(str(exc), 2)
    if not files:
        fail(f"no input files for --datasets={datasets_}", 2)
    renderer, info, warnings = _renderer_or_fail(model, chat_template, tokenizer, date, template_options)
    options_extra = {"date_string": date}
    token_source = None
    if tokenizer and (fmt == "text" or max_tokens):
        from ..trainer.prepare import load_tokenizer
        from ..trainer.tokenize import set_threads

        set_threads(scale.workers)  # token ids are encoded in batches on this many threads
        try:
            token_source = load_tokenizer(tokenizer)
        except (ImportError, FileNotFoundError, OSError, ValueError) as exc:
            fail(str(exc), 2)
        options_extra["tokenizer"] = tokenizer
    if tokenizer and fmt != "text" and not quiet:
        click.echo(f"note: input_ids/labels are written with --format text only (not {fmt})", err=True)
    for warning in warnings:
        click.secho(f"warning: {warning}", fg="yellow", err=True)
    name = _slug(f"{'+'.join(specs)}-{info['name']}-{fmt}")
    out_dir = Path(out) if out else Path("trainer") / "prepared" / name
    options = Options(format=fmt, val_size=val_size, seed=seed, reasoning=reasoning, tool_changes=tool_changes,
                      validate=not no_validate, tokenizer=token_source, keep_trailing=keep_trailing,
                      arguments=arguments, hf_safe=hf_safe, trainer=for_trainer, max_tokens=max_tokens, extra=options_extra)
    # lines the mix rejected (not JSON, not a valid sample) are skipped here too: in = out + skipped, all in skipped.jsonl
    rejected = [BadRecord(f"{r['file']}:{r['line']}", r["reason"],
                          "invalid_sample" if r["reason"].startswith("invalid sample") else "unreadable")
                for r in (mixed[1].pop("rejected", []) if mixed else [])]
    inputs = ([{"mix": mixed[1]}] if mixed else []) + [file_info(path) for path in files]
    if warnings:
        info["warnings"] = warnings
    # where the mix's lines are: the rendering workers read and parse them (part of the parallel work)
    samples = (itertools.chain(rejected, (LineAt(str(mixed[0].files[i]), offset) for i, offset in mixed[0].picks))
               if mixed else read_files(files))
    manifest = run(samples, renderer, out_dir, options, renderer_info=info, inputs=inputs, name=name,
                   progress=not quiet, workers=scale.workers)
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


@trainer.command()
@click.argument("ref", metavar="ID|FILE:LINE")
@click.option("--model", default=None, metavar="NAME", help="Built-in renderer (default Qwen2.5): " + ", ".join(BUILTINS) + ".")
@click.option("--chat-template", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Render with this Jinja chat template instead of a built-in.")
@click.option("--reasoning/--no-reasoning", default=False, show_default=True, help="As for prepare.")
@click.option("--tool-changes", type=click.Choice(["skip", "union"]), default="union", show_default=True,
              help="Samples whose candidate tools change mid-dialogue: refuse, or render with the union of tools.")
@click.option("--keep-trailing", is_flag=True, help="Keep a last tool result or user turn (prepare drops it by default).")
@click.option("--date", default="26 Jul 2024", show_default=True, help="Date for templates that print today's date.")
@click.option("--template-option", "template_options", multiple=True, metavar="KEY=VALUE",
              help="A built-in template's option, repeatable: enable_thinking=false (Qwen3, Qwen3.5, GLM-4.7), "
                   "reasoning_effort=high (gpt-oss), tools_in_user_message=false (Llama-4), thinking=false "
                   "(DeepSeek-V3.1) …; an unknown key lists the ones the model accepts. Recorded in the manifest.")
@color_option
@data_dir_option
def show(ref, model, chat_template, reasoning, tool_changes, keep_trailing, date, template_options, color,
         store) -> None:
    """Render one sample as prepare would and show what the model learns: the loss spans highlighted
    (reverse green in a terminal, between <LEARN> and </LEARN> otherwise).

    \b
      python trainer show BFCL_multi_turn_base_2 --model Llama-3.1
      python trainer show mix/train.jsonl:7 --color never | less
    """
    from ..trainer.prepare import trim_trailing
    from ..trainer.render import Skip, to_chat

    found = locate_or_fail(ref, store)
    renderer, info, warnings = _renderer_or_fail(model, chat_template, None, date, template_options)
    try:
        chat = to_chat(found.sample, reasoning=reasoning, tool_changes=tool_changes)
        dropped = 0 if keep_trailing else trim_trailing(chat)
        rendered = renderer.render(chat)
    except Skip as exc:
        fail(f"{info['name']} cannot render {ref}: {exc.reason}: {exc.detail}")
    except Exception as exc:  # a malformed sample: one line, no traceback
        fail(f"{ref} cannot be rendered: {type(exc).__name__}: {exc}")
    for warning in warnings:
        click.secho(f"warning: {warning}", fg="yellow", err=True)
    shown = highlight_spans(rendered.text, rendered.spans, color)
    click.echo(shown, color=color, nl=not rendered.text.endswith("\n"))  # the text exactly, ending in one newline
    trailing = f"; {dropped} trailing message(s) dropped (--keep-trailing keeps them)" if dropped else ""
    click.echo(f"── {chat.id or ref} ({found.path}:{found.line}) with {info['name']}: "
               f"{span_summary(rendered.text, rendered.spans)}{trailing}", err=True)


trainer.add_command(mix)
