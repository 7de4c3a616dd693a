"""Run any Jinja chat template the way ``transformers`` does, inside a sandbox.

Same environment as ``transformers.utils.chat_template_utils``: ``ImmutableSandboxedEnvironment``
with ``trim_blocks``, ``lstrip_blocks``, the ``loopcontrols`` extension and a ``{% generation %}``
tag; a ``tojson`` filter that is ``json.dumps(x, ensure_ascii=False, indent=…, separators=…,
sort_keys=…)``; ``raise_exception``; ``strftime_now``. The render call passes ``messages``,
``tools``, ``documents=None``, ``add_generation_prompt`` and the tokenizer's special tokens.
Dates are frozen (DESIGN §4): ``date_string`` is passed and ``strftime_now`` formats that date.

A template is foreign code, so each render is bounded (``TemplateLimit``, a ``TemplateRaised``):
``RENDER_SECONDS`` of wall time on any thread (a trace hook on the template's own frames checks the
clock at every line and call, so loops without output or calls stop too), ``MAX_OUTPUT_CHARS`` of
rendered text (streamed, counted chunk by chunk), and no single value beyond that size built by an
operator, call, filter or namespace assignment: ``**``/``*`` on integers are refused before they run
when the result would exceed ``MAX_INT_BITS``, and ``'x' * n``, ``a + b`` and format widths when the
string would exceed ``MAX_OUTPUT_CHARS`` (these operators are not constant-folded at compile time).
"""

from __future__ import annotations

import functools
import json
import re
import sys
import threading
import time
from datetime import datetime
from typing import Any

from .base import Chat, Rendered, Renderer, Skip

DEFAULT_DATE = "26 Jul 2024"
RENDER_SECONDS = 10.0  # wall time one render may take
MAX_OUTPUT_CHARS = 8_000_000  # rendered text, and any one string/list a template builds
MAX_INT_BITS = 64_000  # ~19,000 decimal digits: the largest integer a template may compute


def _tojson(x: Any, ensure_ascii: bool = False, indent: Any = None, separators: Any = None, sort_keys: bool = False) -> str:
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


class TemplateRaised(Exception):
    """The template itself refused the messages (``raise_exception`` or a Jinja/type error inside it)."""


class TemplateLimit(TemplateRaised):
    """A render stopped by a limit (time, output size, size of a value); the message says which."""


_RENDER = threading.local()  # the deadline of the render running on this thread


def _tick() -> None:
    deadline = getattr(_RENDER, "deadline", None)
    if deadline is not None and time.monotonic() > deadline:
        raise TemplateLimit(f"the template ran longer than {RENDER_SECONDS:g} s")


def _size(value: Any) -> int:
    return len(value) if isinstance(value, (str, bytes, list, tuple, dict)) else 0


def _check_value(value: Any, what: str) -> Any:
    if _size(value) > MAX_OUTPUT_CHARS:
        raise TemplateLimit(f"{what} would hold {_size(value):,} items (limit {MAX_OUTPUT_CHARS:,})")
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise TemplateLimit(f"{what} is an integer over {MAX_INT_BITS:,} bits")
    return value


_WIDTH = re.compile(r"\d{7,}")  # a format width/precision of a million or more


# Filters and str methods whose integer arguments are sizes of what they build (a width, a count).
_SIZED = {"center", "indent", "truncate", "wordwrap", "batch", "slice", "lipsum", "ljust", "rjust", "zfill",
          "expandtabs"}


def _check_arguments(args: tuple, kwargs: dict, what: str, name: str) -> None:
    for value in (*args, *kwargs.values()):
        if name in _SIZED and isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_OUTPUT_CHARS:
            raise TemplateLimit(f"{what} called with a size of {value:,} (limit {MAX_OUTPUT_CHARS:,})")
        _check_value(value, f"an argument of {what}")


def _check_binop(operator: str, left: Any, right: Any) -> None:
    """Refuse an operation whose result would be too large, before it is computed."""
    ints = isinstance(left, int) and isinstance(right, int)
    if operator == "**" and ints and right > 0 and abs(left) > 1 and right * left.bit_length() > MAX_INT_BITS:
        raise TemplateLimit(f"{operator} result over {MAX_INT_BITS:,} bits")
    if operator == "*":
        if ints and left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise TemplateLimit(f"{operator} result over {MAX_INT_BITS:,} bits")
        for seq, times in ((left, right), (right, left)):
            if _size(seq) and isinstance(times, int) and _size(seq) * times > MAX_OUTPUT_CHARS:
                raise TemplateLimit(f"repetition of {_size(seq):,} items {times:,} times exceeds {MAX_OUTPUT_CHARS:,}")
    if operator == "+" and _size(left) + _size(right) > MAX_OUTPUT_CHARS:
        raise TemplateLimit(f"concatenation exceeds {MAX_OUTPUT_CHARS:,} items")
    if operator == "%" and isinstance(left, str) and _WIDTH.search(left):
        raise TemplateLimit("format width of a million characters or more")


def _guarded(function: Any, what: str, name: str) -> Any:
    """A filter or test that checks its arguments, the clock and the size of its result."""

    @functools.wraps(function)  # keeps jinja's pass_context/pass_eval_context markers
    def guarded(*args: Any, **kwargs: Any) -> Any:
        _tick()
        _check_arguments(args, kwargs, what, name)
        return _check_value(function(*args, **kwargs), f"the result of {what}")

    return guarded


@functools.lru_cache(maxsize=1)
def _generation_extension():
    from jinja2 import nodes
    from jinja2.ext import Extension

    class GenerationTag(Extension):
        """``{% generation %}…{% endgeneration %}`` (transformers' assistant-mask tag): renders its body."""

        tags = {"generation"}

        def parse(self, parser):
            lineno = next(parser.stream).lineno
            body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
            return nodes.CallBlock(self.call_method("_body"), [], [], body).set_lineno(lineno)

        def _body(self, caller):
            return caller()

    return GenerationTag


@functools.lru_cache(maxsize=1)
def _bounded_environment_class():
    from jinja2.sandbox import ImmutableSandboxedEnvironment
    from jinja2.utils import Namespace

    class BoundedNamespace(Namespace):
        def __setitem__(self, name: str, value: Any) -> None:
            _tick()
            super().__setitem__(name, _check_value(value, f"namespace attribute {name!r}"))

    class BoundedEnvironment(ImmutableSandboxedEnvironment):
        """The sandbox plus size checks before operators and calls, and clock checks at each of them."""

        intercepted_binops = frozenset({"**", "*", "+", "%"})

        def __init__(self, **options: Any) -> None:
            super().__init__(**options)
            self.globals["namespace"] = BoundedNamespace
            self.filters = {name: _guarded(f, f"filter {name!r}", name) for name, f in self.filters.items()}
            self.tests = {name: _guarded(f, f"test {name!r}", name) for name, f in self.tests.items()}

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            _tick()
            _check_binop(operator, left, right)
            return super().call_binop(context, operator, left, right)

        def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
            _tick()
            what = getattr(__obj, "__name__", type(__obj).__name__)
            _check_arguments(args, kwargs, what, what)
            return _check_value(super().call(__context, __obj, *args, **kwargs), f"the result of {what}")

        def getattr(self, obj: Any, attribute: str) -> Any:
            _tick()
            # checked when read: the sandbox hands out str.format wrapped, so a call no longer shows its string
            if attribute in ("format", "format_map") and isinstance(obj, str) and _WIDTH.search(obj):
                raise TemplateLimit("format width of a million characters or more")
            return super().getattr(obj, attribute)

        def getitem(self, obj: Any, argument: Any) -> Any:
            _tick()
            return super().getitem(obj, argument)

    return BoundedEnvironment


def bounded_render(template: Any, **kwargs: Any) -> str:
    """``template.render(**kwargs)`` within RENDER_SECONDS and MAX_OUTPUT_CHARS (TemplateLimit otherwise)."""
    deadline = time.monotonic() + RENDER_SECONDS
    code_name = "<template>"

    def local(frame, event, arg):
        if time.monotonic() > deadline:
            raise TemplateLimit(f"the template ran longer than {RENDER_SECONDS:g} s")
        return local

    def calls(frame, event, arg):  # trace only the template's own frames, line by line
        if frame.f_code.co_filename == code_name:
            return local(frame, event, arg)
        return None

    outer, previous = getattr(_RENDER, "deadline", None), sys.gettrace()
    _RENDER.deadline = deadline if outer is None else min(outer, deadline)
    sys.settrace(calls)
    try:
        parts, size = [], 0
        for chunk in template.generate(**kwargs):
            size += len(chunk)
            if size > MAX_OUTPUT_CHARS:
                raise TemplateLimit(f"the template wrote more than {MAX_OUTPUT_CHARS:,} characters")
            parts.append(chunk)
        return "".join(parts)
    finally:
        sys.settrace(previous)
        _RENDER.deadline = outer


@functools.lru_cache(maxsize=64)
def compile_template(source: str, date: str = DEFAULT_DATE):
    """Compile a chat template in the sandboxed, transformers-compatible environment (cached by source)."""
    import jinja2
    import jinja2.ext

    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    frozen = datetime.strptime(date, "%d %b %Y")

    def strftime_now(format):
        return frozen.strftime(format)

    env = _bounded_environment_class()(trim_blocks=True, lstrip_blocks=True,
                                       extensions=[_generation_extension(), jinja2.ext.loopcontrols])
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env.from_string(source)


class JinjaTemplate:
    """One chat template plus the keyword arguments transformers would pass it."""

    def __init__(self, source: str, special_tokens: dict[str, str] | None = None, *,
                 date_string: str = DEFAULT_DATE, **kwargs: Any) -> None:
        self.source = source
        self.date_string = date_string
        try:
            self.template = compile_template(source, date_string)
        except Exception as exc:  # jinja2.TemplateSyntaxError and friends
            raise ValueError(f"chat template does not compile: {exc}") from None
        self.kwargs = {**(special_tokens or {}), "date_string": date_string, **kwargs}

    def render(self, messages: list[dict], tools: list[dict] | None = None, *, add_generation_prompt: bool = False) -> str:
        """``apply_chat_template(messages, tools=tools, tokenize=False)``; TemplateRaised when the template fails."""
        try:
            return bounded_render(self.template, messages=messages, tools=tools, documents=None,
                                  add_generation_prompt=add_generation_prompt, **self.kwargs)
        except TemplateLimit:
            raise
        except MemoryError:
            raise TemplateLimit("the template ran out of memory") from None
        except RecursionError:
            raise TemplateLimit("the template recursed too deeply") from None
        except Exception as exc:  # the template is foreign code: any failure is its verdict on the input
            raise TemplateRaised(f"{type(exc).__name__}: {exc}") from None


def prefix_spans(template: JinjaTemplate, chat: Chat) -> Rendered:
    """Render a chat and find each assistant message's part by rendering prefixes (as TRL/LLaMA-Factory do).

    The part of assistant message i is what ``messages[:i+1]`` adds after ``messages[:i]`` with the
    generation prompt, without trailing whitespace. Templates whose earlier text changes when
    messages are appended (not prefix-stable) are refused: their spans cannot be located safely.
    """
    try:
        text = template.render(chat.messages, chat.tools)
    except TemplateRaised as exc:
        raise Skip("template_error", str(exc)) from None
    spans: list[list[int]] = []
    for i, message in enumerate(chat.messages):
        if message.get("role") != "assistant":
            continue
        try:
            before = template.render(chat.messages[:i], chat.tools, add_generation_prompt=True) if i else ""
            upto = template.render(chat.messages[: i + 1], chat.tools)
        except TemplateRaised as exc:
            raise Skip("template_not_prefix_stable", f"prefix before message {i} does not render: {exc}") from None
        if not (upto.startswith(before) and text.startswith(upto)):
            raise Skip("template_not_prefix_stable", f"text before assistant message {i} changes as messages follow")
        end = len(upto.rstrip())
        if end > len(before):
            if spans and spans[-1][1] >= len(before):
                spans[-1][1] = end
            else:
                spans.append([len(before), end])
    return Rendered(text, spans)


class JinjaRenderer(Renderer):
    """Any chat template (a file or a tokenizer's own), rendered through the sandbox; spans by prefixes."""

    name = "jinja"

    def __init__(self, source: str, special_tokens: dict[str, str] | None = None, *, origin: str = "",
                 date_string: str = DEFAULT_DATE) -> None:
        self.template = JinjaTemplate(source, special_tokens, date_string=date_string)
        self.origin = origin

    def render(self, chat: Chat) -> Rendered:
        return prefix_spans(self.template, chat)

    def prompt(self, chat: Chat) -> str:
        try:
            return self.template.render(chat.messages, chat.tools, add_generation_prompt=True)
        except TemplateRaised as exc:
            raise Skip("template_error", str(exc)) from None


SENTINEL_CALL = "otl_sentinel_fn"
SENTINEL_ARG = "otl-sentinel-argument-7f3a"
SENTINEL_RESULT = "otl-sentinel-result-91c2"


def probe(template: JinjaTemplate) -> list[str]:
    """Warnings about what the template silently drops, found with sentinel values (as TRL probes templates)."""
    tool = {"type": "function", "function": {"name": SENTINEL_CALL, "description": "probe",
                                             "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}}}
    messages = [
        {"role": "user", "content": "probe"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"type": "function", "id": "abcdef012", "function": {"name": SENTINEL_CALL, "arguments": {"q": SENTINEL_ARG}}}]},
        {"role": "tool", "tool_call_id": "abcdef012", "name": SENTINEL_CALL, "content": SENTINEL_RESULT},
        {"role": "assistant", "content": "done"},
    ]
    warnings = []
    try:
        shown = template.render([{"role": "user", "content": "probe"}], [tool])
    except TemplateRaised:
        shown = ""
    if SENTINEL_CALL not in shown:
        warnings.append("the template does not show the tools passed as tools=…")
    try:
        text = template.render(messages, [tool])
    except TemplateRaised as exc:
        return warnings + [f"the template cannot render a tool call with its result ({exc})"]
    if SENTINEL_ARG not in text:
        warnings.append("the template drops tool calls (a sentinel argument does not appear)")
    if SENTINEL_RESULT not in text:
        warnings.append("the template drops tool results (a sentinel result does not appear)")
    return warnings


def _token_text(value: Any) -> str | None:
    if isinstance(value, dict):  # {"content": "<s>", "lstrip": …} in older tokenizer configs
        value = value.get("content")
    return value if isinstance(value, str) else None


def template_from_config(config: dict[str, Any], tools: bool = True) -> str | None:
    """``chat_template`` of a tokenizer config: a string, or named variants (``tool_use`` preferred for tool data)."""
    template = config.get("chat_template")
    if isinstance(template, list):
        named = {item.get("name"): item.get("template") for item in template if isinstance(item, dict)}
        return named.get("tool_use" if tools and "tool_use" in named else "default") or next(iter(named.values()), None)
    return template if isinstance(template, str) else None


def load_tokenizer_template(spec: str, *, revision: str | None = None) -> tuple[str, dict[str, str], str]:
    """(template source, special tokens, origin) from a local tokenizer folder or a hub id.

    Reads ``chat_template.jinja`` when present, else ``chat_template`` in ``tokenizer_config.json``;
    special tokens (``bos_token``, ``eos_token``, …) come from the config. Hub ids go through
    ``huggingface_hub`` (its cache; offline it uses what is cached). Raises FileNotFoundError.
    """
    from pathlib import Path

    folder = Path(spec)
    if folder.is_dir():
        def fetch(name: str):
            path = folder / name
            return path if path.is_file() else None
    else:
        from huggingface_hub import hf_hub_download
        from huggingface_hub.utils import EntryNotFoundError, HfHubHTTPError, LocalEntryNotFoundError

        def fetch(name: str):
            try:
                return Path(hf_hub_download(spec, name, revision=revision))
            except (EntryNotFoundError, LocalEntryNotFoundError, HfHubHTTPError, OSError, ValueError):
                return None

    config_path = fetch("tokenizer_config.json")
    config = json.loads(config_path.read_text("utf-8")) if config_path else {}
    special = {key: text for key, value in config.items()
               if key.endswith("_token") and (text := _token_text(value)) is not None}
    jinja_path = fetch("chat_template.jinja")
    source = jinja_path.read_text("utf-8") if jinja_path else template_from_config(config)
    if not source:
        raise FileNotFoundError(f"no chat template found for {spec!r} (looked for chat_template.jinja and "
                                f"tokenizer_config.json's chat_template)")
    return source, special, spec
