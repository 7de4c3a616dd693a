"""Pipelines by name: what a pipeline is, and the one-line-per-pipeline registry.

A ``Pipeline`` is data: a name, a version, its step classes in order, and ``start`` — the function
that makes the first records (from the input file, or from the recipe for pipelines that need no
input). Adding a pipeline = one module defining ``PIPELINE`` + one line in ``REGISTRY``.
May import: ``opentoollab.datasets.synth.step`` and the standard library.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from .step import Context, Record, Step

# start(recipe, n, input_path, context) → ([(record id, record)], [rejected inputs {index, reason}])
Start = Callable[[dict[str, Any], "int | None", "Path | None", Context], tuple[list[tuple[str, Record]], list[dict]]]


@dataclass(frozen=True)
class Pipeline:
    name: str
    version: str
    steps: tuple[type[Step], ...]
    start: Start
    needs_input: bool = False
    description: str = ""

    def build(self, recipe: dict[str, Any], context: Context) -> list[Step]:
        """The step instances for a recipe: per-step ``params`` over global model options; ``skip`` drops optional steps."""
        skip = set(recipe.get("skip_steps") or [])
        unknown = skip - {s.name for s in self.steps if getattr(s, "skippable", False)}
        if unknown:
            raise ValueError(f"{self.name}: cannot skip {sorted(unknown)} (skippable: "
                             f"{[s.name for s in self.steps if getattr(s, 'skippable', False)]})")
        shared = {k: recipe[k] for k in ("temperature", "max_tokens") if k in recipe}
        per_step = recipe.get("params") or {}
        names = {s.name for s in self.steps}
        stray = set(per_step) - names
        if stray:
            raise ValueError(f"{self.name}: params for unknown steps {sorted(stray)}; steps: {sorted(names)}")
        steps = []
        for cls in self.steps:
            if cls.name in skip:
                continue
            params = {**(shared if cls.uses_model else {}), **(per_step.get(cls.name) or {})}
            steps.append(cls(params, context))
        return steps


# name → "module:attribute". Adding a pipeline = one module + one line here.
REGISTRY: dict[str, str] = {
    "button": "opentoollab.datasets.synth.button:PIPELINE",
    "toolace": "opentoollab.datasets.synth.toolace:PIPELINE",
    "sandbox-agents": "opentoollab.datasets.synth.sandbox:PIPELINE",
}


def pipeline_names() -> list[str]:
    return list(REGISTRY)


def get_pipeline(name: str) -> Pipeline:
    """The pipeline by name (case-insensitive); ValueError naming the known ones when unknown."""
    key = name.strip().lower()
    if key not in REGISTRY:
        raise ValueError(f"unknown pipeline {name!r}; known: {', '.join(REGISTRY)}")
    module, attribute = REGISTRY[key].split(":")
    return getattr(importlib.import_module(module), attribute)
