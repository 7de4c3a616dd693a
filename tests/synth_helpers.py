"""Shared pieces of the pipeline tests: recipes, a client for the scripted server, one-call runs, input files."""

from __future__ import annotations

import json
from pathlib import Path

from opentoollab.datasets.synth import run_pipeline
from opentoollab.llm import Client

SANDBOX_RECIPE = {"toolkits": [["math"], ["notes", "calendar"]],
                  "categories": {"base": 1, "miss_func": 1, "multi_turn": 1}}
TOOLACE_RECIPE = {"params": {"toolset_sampler": {"dialog_types": ["single", "dependent"]}}}


def glaive_file(tmp_path: Path, shared: Path) -> Path:
    """The three real Glaive rows of ../shared as a JSONL input file."""
    rows = json.loads((shared / "samples" / "glaive_function_calling_v2" /
                       "glaive_rows_quoted_in_public_code.json").read_text("utf-8"))
    path = tmp_path / "glaive.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), "utf-8")
    return path


def client_for(url: str, **options) -> Client:
    return Client(url, "test-model", max_concurrency=options.pop("max_concurrency", 4), timeout=5, retries=1,
                  sleep=lambda s: None, **options)


def run(name: str, tmp: Path, url: str, **kwargs) -> dict:
    """run_pipeline with outputs and cache under ``tmp``, no progress bar, a scripted-server client by default."""
    kwargs.setdefault("progress", False)
    client = kwargs.pop("client", None) or client_for(url)
    return run_pipeline(name, out_path=tmp / f"{name}.jsonl", client=client, cache_path=tmp / "cache.sqlite",
                        **kwargs)
