"""LLM-driven synthesis: pipelines of small steps, resumable through the content-addressed step cache.

Owns: the step model (``step``: prompt template files, declared fields, validators), the runner
(``runner``: bounded concurrency, cache, failure accounting, dry runs), the agents (``agents``: user,
assistant and tool agents), sample assembly (``sample``), input reading (``inputs``), the built-in
pipelines (``button``, ``toolace``, ``sandbox``), their registry (``registry``) and ``run_pipeline``
(``run``). Prompts are files in ``prompts/``.
May import: ``opentoollab.llm``, ``opentoollab.tools``, ``opentoollab.format`` and ``opentoollab.datasets``
— never ``tag`` or ``trainer``: the rule verifier and the decontamination check come in as callables.
"""

from __future__ import annotations

from .registry import REGISTRY, Pipeline, get_pipeline, pipeline_names
from .run import run_pipeline

__all__ = ["Pipeline", "REGISTRY", "get_pipeline", "pipeline_names", "run_pipeline"]
