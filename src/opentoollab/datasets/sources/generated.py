"""The corpus ``generated``: samples made by ``python datasets generate``, registered like any corpus.

Its raw folder holds one JSONL file per run name (``downloaded/generated/<name>.jsonl``, already in
the unified format, each sample with its ``meta.generator`` and ``meta.environment``), so
``process``/``stats``/``tag``/``trainer mix -d generated:1000`` work by name; the run name is the subset.
``download generated`` (and ``deal``) generates the default recipe (1,000 samples, seed 0);
``--from DIR`` takes the JSONL files of an earlier ``generate --out DIR``.
"""

from __future__ import annotations


from pathlib import Path
from typing import Any, Iterator

from ..fetch import write_provenance
from .base import SKIPPED, Context, FetchError, RawRecord, Reject, Shard, Source
from .hub_json import iter_jsonl_records

DEFAULT_N = 1000


class Generated(Source):
    name = "generated"
    aliases = ("offline-generated", "opentoollab-generated")
    license = "Apache-2.0"
    homepage = "docs/generate.md"
    description = "Execution-grounded multi-turn tool-use dialogues generated offline over sandboxed toolkits"
    subsets = ()  # one per run name
    infer_links = False  # links are written by the generator itself

    def fetch(self, dest: Path, *, origin: str | None = None, revision: str | None = None,
              token: str | None = None) -> dict[str, Any]:
        if origin:
            folder = Path(origin)
            files = sorted(folder.glob("*.jsonl")) if folder.is_dir() else [folder]
            files = [f for f in files if _is_samples_file(f)]
            if not files or not all(f.is_file() for f in files):
                raise FetchError(f"{origin}: no generated .jsonl files there (write some with `python datasets generate --out DIR`)")
            dest.mkdir(parents=True, exist_ok=True)
            for path in files:
                (dest / path.name).write_bytes(path.read_bytes())
            return write_provenance(dest, kind="local", path=str(folder))
        from ..generate.recipe import Recipe
        from ..generate.run import run_generation

        recipe = Recipe(n=DEFAULT_N)
        manifest = run_generation(recipe, dest, progress=True)
        return write_provenance(dest, kind="generated", generator=manifest["generator"], recipe=manifest["recipe"])

    def records(self, raw: Path, subsets: list[str] | None = None, shard: Shard | None = None) -> Iterator[RawRecord]:
        files = sorted(raw.glob("*.jsonl")) if raw.is_dir() else [raw]
        for path in (f for f in files if _is_samples_file(f)):
            subset = path.stem
            if subsets and subset not in subsets:
                continue
            for line_number, value, error in iter_jsonl_records(path, shard.foreign if shard else None):
                if value is SKIPPED:  # another worker's record: one record per line all the same
                    yield RawRecord(subset, path.name, line_number, SKIPPED)
                    continue
                if error:
                    yield RawRecord(subset, path.name, line_number, Reject(error, raw=value[:2000]))
                    continue
                yield RawRecord(subset, path.name, line_number, value, source_id=_source_id(value))

    def convert(self, record: RawRecord, ctx: Context) -> list[dict[str, Any]]:
        sample = record.data
        if not isinstance(sample, list) or not sample or not all(isinstance(m, dict) for m in sample):
            raise Reject("not a sample (a JSON array of messages)")
        body = sample[1:] if sample[0].get("role") == "id" else sample
        if not any(m.get("role") == "meta" for m in body):
            raise Reject("a generated sample without meta (no provenance to keep)")
        return body

    def version_of(self, raw: Path) -> str | None:
        from ..generate.engine import GENERATOR, GENERATOR_VERSION

        return f"{GENERATOR} {GENERATOR_VERSION}"


def _is_samples_file(path: Path) -> bool:
    """Run outputs beside the samples (rejects, failures of LLM pipelines) are not samples."""
    return path.suffix == ".jsonl" and not path.name.endswith((".rejects.jsonl", ".failures.jsonl"))


def _source_id(value: Any) -> Any:
    if isinstance(value, list):
        for message in value:
            if isinstance(message, dict) and message.get("role") == "meta" and isinstance(message.get("content"), dict):
                found = message["content"].get("source_id")
                return found if isinstance(found, (str, int)) and not isinstance(found, bool) else None
    return None
