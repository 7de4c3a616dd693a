"""``process --engine ray``: the same per-record conversion as Ray Data jobs, on one machine or a cluster.

The records of a corpus are split into shards as ``--workers`` splits them (shard ``i`` of ``n`` takes
records ``i, i + n, …``; each reads the raw files itself, so the raw folder must be readable at the
same path on every node: a shared file system or the same download on each). Each shard is one row of
a Ray Dataset, ``flat_map`` runs ``convert.convert_shard`` on it, and a distributed sort on (position,
shard) puts the results back in record order; the driver writes the files exactly as the local
pipeline does, so the output is byte-identical to a single-process run. Needs the ``ray`` extra.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any, Iterator

from .convert import convert_shard
from .sources import Source


def _shard_rows(row: dict[str, Any], source: Source, raw: str, subsets: list[str] | None, options: dict[str, Any],
                infer: bool, count: int) -> Iterator[dict[str, Any]]:
    shard = int(row["shard"])
    for position, item in enumerate(convert_shard(shard, count, source, Path(raw), subsets, options, infer)):
        yield {"position": position, "shard": shard, "item": pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL)}


def ray_converted(source: Source, raw: Path, subsets: list[str] | None, options: dict[str, Any], infer: bool, *,
                  workers: int, address: str | None = None) -> Iterator[Any]:
    """``store._converted`` on Ray: every record's ``Converted`` in record order, then each shard's counters."""
    try:
        import ray
    except ImportError:
        raise ImportError("--engine ray needs Ray: pip install 'opentoollab[ray]'") from None
    started_here = not ray.is_initialized()
    if started_here:
        settings: dict[str, Any] = {"ignore_reinit_error": True, "include_dashboard": False, "log_to_driver": False}
        if address:
            settings["address"] = address
        else:
            settings["num_cpus"] = max(1, workers)
        ray.init(**settings)
    try:
        shards = max(1, workers if not address else int(ray.cluster_resources().get("CPU", workers)))
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True
        context.enable_progress_bars = False
        dataset = ray.data.from_items([{"shard": i} for i in range(shards)], override_num_blocks=shards)
        dataset = dataset.flat_map(_shard_rows, fn_kwargs={"source": source, "raw": str(raw), "subsets": subsets,
                                                           "options": dict(options), "infer": infer, "count": shards})
        for row in dataset.sort(["position", "shard"]).iter_rows():
            yield pickle.loads(row["item"])
    finally:
        if started_here:
            ray.shutdown()
