"""What a pipeline step is: a small class with prompt template FILES, declared fields and a validator.

A record is a JSON object; a step reads its declared ``inputs`` (the only fields it sees, so the
cache key covers exactly what the step depends on) and returns a list of objects holding its
declared ``outputs``, which the runner merges into the record:

- ``Step`` (model step): ``render`` the prompt, ask once for JSON, ``parse`` the answer into
  output objects (a list of several = fan-out, none = the record is dropped), ``validate`` each.
  Multi-request steps (agent dialogues) override ``run`` and ask through the session.
- ``FilterStep``: a model verdict keeps or drops the record (``verdict`` → (keep, reason)).
- ``LocalStep``: pure code per record, no model, not cached (cheap and deterministic).
- ``BatchStep``: pure code over all records at once (grouping, planning), not cached.

Prompts live in ``prompts/<name>.txt`` (or ``.jinja``; agent steps ``<name>.<agent>.txt``), are
rendered in Jinja's immutable sandbox with undefined variables as errors, and are split into chat
messages at lines ``[[system]]``, ``[[user]]``, ``[[assistant]]``. A folder given in the recipe
(``prompts_dir``) overrides single files. The template text is part of every cache key.
May import: ``opentoollab.llm``, ``opentoollab.format``, the standard library, jinja2.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Callable, ClassVar, Protocol

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ...llm.cache import content_key
from ...llm.client import Reply

Record = dict[str, Any]
MARKER_RE = re.compile(r"^\[\[(system|user|assistant)\]\][ \t]*$", re.M)
SUFFIXES = (".jinja", ".txt")
MAX_TEMPLATE_CHARS = 200_000


class StepFailure(Exception):
    """A record the step could not process. ``kind``: bad_json, refusal, invalid, missing_input, template,
    timeout, http, connection, malformed, error. ``raw``: an excerpt of the offending answer."""

    def __init__(self, kind: str, message: str, raw: str = "") -> None:
        super().__init__(message)
        self.kind, self.raw = kind, raw or ""


# ---------------------------------------------------------------------------------- templates
def _json_filter(value: Any, indent: int | None = None) -> str:
    return json.dumps(value, ensure_ascii=False, indent=indent)


def _clip(text: Any, limit: int = 4000) -> str:
    text = text if isinstance(text, str) else json.dumps(text, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + " …[truncated]"


def sandbox() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False, trim_blocks=True,
                                        lstrip_blocks=True, keep_trailing_newline=False)
    env.filters["json"] = _json_filter
    env.filters["clip"] = _clip
    return env


class Prompts:
    """Template files by stem: ``override`` folder first, then the package's ``prompts/`` folder."""

    def __init__(self, override: str | Path | None = None) -> None:
        self.override = Path(override) if override else None
        self._env = sandbox()
        self._texts: dict[str, str] = {}
        self._compiled: dict[str, Any] = {}

    def text(self, stem: str) -> str:
        """The template's source text (KeyError naming the places looked in when there is none)."""
        if stem not in self._texts:
            self._texts[stem] = self._load(stem)
        return self._texts[stem]

    def _load(self, stem: str) -> str:
        if self.override is not None:
            for suffix in SUFFIXES:
                path = self.override / f"{stem}{suffix}"
                if path.is_file():
                    return path.read_text("utf-8")[:MAX_TEMPLATE_CHARS]
        package = resources.files("opentoollab.datasets.synth").joinpath("prompts")
        for suffix in SUFFIXES:
            entry = package.joinpath(f"{stem}{suffix}")
            if entry.is_file():
                return entry.read_text("utf-8")
        where = f"{self.override} or the package" if self.override else "the package"
        raise KeyError(f"no prompt template {stem}.jinja/.txt in {where}")

    def render(self, stem: str, variables: dict[str, Any]) -> list[dict[str, str]]:
        """The template rendered and split into chat messages."""
        if stem not in self._compiled:
            self._compiled[stem] = self._env.from_string(self.text(stem))
        try:
            text = self._compiled[stem].render(**variables)
        except TemplateError as error:
            raise StepFailure("template", f"{stem}: {type(error).__name__}: {error}") from None
        return split_messages(text)


def split_messages(text: str) -> list[dict[str, str]]:
    """``[[role]]`` marker lines → messages; text without markers is one user message."""
    parts = MARKER_RE.split(text)
    if len(parts) == 1:
        return [{"role": "user", "content": text.strip()}]
    if parts[0].strip():
        raise StepFailure("template", "text before the first [[role]] marker")
    return [{"role": role, "content": body.strip()} for role, body in zip(parts[1::2], parts[2::2])]


# ---------------------------------------------------------------------------------- context
class Session(Protocol):
    """How a step asks the model for one record (the runner's implementation caches and counts)."""

    def chat(self, messages: list[dict[str, Any]], *, tools: list[dict[str, Any]] | None = None,
             schema: dict[str, Any] | None = None, json_mode: bool = False) -> Reply: ...

    def ask_json(self, messages: list[dict[str, Any]], *, schema: dict[str, Any] | None = None,
                 expect: str | None = "object") -> Any: ...


@dataclass
class Context:
    """What every step may use besides its record: run seed, recipe, injected checks, prompts."""

    seed: int = 0
    recipe: dict[str, Any] = field(default_factory=dict)
    prompts: Prompts = field(default_factory=Prompts)
    verify: Callable[[list], Any] | None = None  # sample → problems (list of {rule, path, message}) or a reason
    contamination: Callable[[list], str | None] | None = None

    def rng(self, *parts: Any) -> random.Random:
        """A random generator determined by the seed and ``parts`` (content, never position or time)."""
        return random.Random(int(content_key("rng", self.seed, *parts)[:16], 16))


# ---------------------------------------------------------------------------------- steps
class Step:
    """A model step: one JSON request per record (see the module docstring)."""

    name: ClassVar[str] = ""
    version: ClassVar[str] = "1"
    kind: ClassVar[str] = "map"  # map | filter (output {"keep", "reason"}) | local | batch
    uses_model: ClassVar[bool] = True
    inputs: ClassVar[tuple[str, ...]] = ()
    optional: ClassVar[tuple[str, ...]] = ()  # inputs that may be absent (None in the view)
    outputs: ClassVar[tuple[str, ...]] = ()
    prompt: ClassVar[str] = ""  # template stem; default: the step name
    agents: ClassVar[tuple[str, ...]] = ()  # multi-template steps: one template per agent, <prompt>.<agent>
    answer_schema: ClassVar[dict[str, Any] | None] = None  # JSON Schema of the answer (structured output)
    defaults: ClassVar[dict[str, Any]] = {}
    requests_per_record: ClassVar[float] = 1.0  # dry-run estimates
    fan_out: ClassVar[float] = 1.0
    skippable: ClassVar[bool] = False  # may a recipe leave it out (``skip_steps``)?

    def __init__(self, params: dict[str, Any] | None = None, context: Context | None = None) -> None:
        self.params = {**self.defaults, **(params or {})}
        self.context = context or Context()

    # ---- identity
    def template_stems(self) -> list[str]:
        stem = self.prompt or self.name
        return [f"{stem}.{agent}" for agent in self.agents] if self.agents else [stem] if self.uses_model else []

    def templates(self) -> dict[str, str]:
        """Template stem → source text (part of the cache key)."""
        return {stem: self.context.prompts.text(stem) for stem in self.template_stems()}

    # ---- per record
    def view(self, record: Record) -> Record:
        """The declared inputs of a record; StepFailure when a required one is missing."""
        missing = [f for f in self.inputs if f not in record and f not in self.optional]
        if missing:
            raise StepFailure("missing_input", f"{self.name} needs field(s) {missing}")
        return {f: record.get(f) for f in self.inputs}

    def applies(self, view: Record) -> bool:
        """False: the record passes through this step unchanged (no request)."""
        return True

    def variables(self, view: Record) -> dict[str, Any]:
        return {**view, "params": self.params}

    def render(self, view: Record, agent: str | None = None, **extra: Any) -> list[dict[str, str]]:
        stem = self.prompt or self.name
        return self.context.prompts.render(f"{stem}.{agent}" if agent else stem, {**self.variables(view), **extra})

    def run(self, view: Record, session: Session) -> list[Record]:
        answer = session.ask_json(self.render(view), schema=self.answer_schema)
        try:
            outputs = self.parse(answer, view)
            problem = next((p for p in (self.check(o, view) for o in outputs) if p), None)
            if problem:
                raise StepFailure("invalid", problem)
        except StepFailure as failure:  # keep the answer that was rejected, for the failure log
            failure.raw = failure.raw or json.dumps(answer, ensure_ascii=False)[:2000]
            raise
        return outputs

    def parse(self, answer: Any, view: Record) -> list[Record]:
        """The answer → output objects (StepFailure("invalid") when it has the wrong shape)."""
        raise NotImplementedError

    def check(self, output: Record, view: Record) -> str | None:
        """Declared outputs present and nothing else, then ``validate``."""
        if not isinstance(output, dict):
            return f"{self.name}: an output is not an object"
        extra = sorted(set(output) - set(self.outputs))
        missing = sorted(set(self.outputs) - set(output))
        if extra or missing:
            return f"{self.name}: outputs {sorted(output)} differ from the declared {list(self.outputs)}"
        return self.validate(output, view)

    def validate(self, output: Record, view: Record) -> str | None:
        """A problem with one output, or None. Override per step."""
        return None


class FilterStep(Step):
    """A model verdict keeps or drops the record. The output is ``{outputs[0]: {"keep", "reason"}}``;
    the runner drops records whose verdict says ``keep: false`` (and logs the reason), cached like
    any output so a rerun neither asks again nor forgets why."""

    kind = "filter"
    fan_out = 0.8

    def run(self, view: Record, session: Session) -> list[Record]:
        answer = session.ask_json(self.render(view), schema=self.answer_schema)
        keep, reason = self.verdict(answer, view)
        return [{self.outputs[0]: {"keep": bool(keep), "reason": str(reason)[:1000]}}]

    def verdict(self, answer: Any, view: Record) -> tuple[bool, str]:
        raise NotImplementedError


class LocalStep(Step):
    """Pure code per record; no model, no cache. ``apply`` returns output objects like ``parse``."""

    kind = "local"
    uses_model = False
    requests_per_record = 0.0

    def run(self, view: Record, session: Session) -> list[Record]:
        return self.apply(view)

    def apply(self, view: Record) -> list[Record]:
        raise NotImplementedError


class BatchStep(Step):
    """Pure code over all records at once (grouping, planning): returns the new full records, each with
    the indices of the input records it was made from (their cache keys become its provenance)."""

    kind = "batch"
    uses_model = False
    requests_per_record = 0.0

    def apply_all(self, records: list[Record]) -> list[tuple[Record, list[int]]]:
        raise NotImplementedError


# ---------------------------------------------------------------------------------- helpers for steps
def need(condition: bool, message: str) -> None:
    """StepFailure("invalid") unless ``condition``: validators read as a list of requirements."""
    if not condition:
        raise StepFailure("invalid", message)


def text_field(answer: Any, key: str, max_chars: int = 4000) -> str:
    """A non-empty string field of an object answer."""
    need(isinstance(answer, dict), f"the answer is not an object with {key!r}")
    value = answer.get(key)
    need(isinstance(value, str) and bool(value.strip()), f"{key!r} must be a non-empty string")
    return value.strip()[:max_chars]


def text_list(answer: Any, key: str, limit: int, max_chars: int = 2000) -> list[str]:
    """A list of non-empty strings (at most ``limit``, duplicates dropped)."""
    need(isinstance(answer, dict) and isinstance(answer.get(key), list), f"{key!r} must be a list")
    out: list[str] = []
    for item in answer[key]:
        if isinstance(item, dict) and len(item) == 1:
            item = next(iter(item.values()))
        if isinstance(item, str) and item.strip() and item.strip() not in out:
            out.append(item.strip()[:max_chars])
    need(bool(out), f"{key!r} holds no non-empty string")
    return out[:limit]


def check_reason(found: Any) -> str | None:
    """An injected check's answer as one reason, or None when it passed. Accepted answers: None, ``[]`` or
    ``""`` (passed); a string (the reason); problem dicts ``{rule, path, message}`` (tag's rules)."""
    if not found:
        return None
    if isinstance(found, str):
        return found
    items = [found] if isinstance(found, dict) else list(found) if isinstance(found, (list, tuple)) else [found]
    parts = [f"{p.get('rule', '?')}: {p.get('message', '')}" if isinstance(p, dict) else str(p) for p in items[:3]]
    more = f" (+{len(items) - 3} more)" if len(items) > 3 else ""
    return "; ".join(parts) + more
