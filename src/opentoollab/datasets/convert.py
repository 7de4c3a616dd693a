"""One raw record → what the processed folder gets from it: sample lines, tool entries, or a reject line.

``convert_record`` is the pure per-record step of ``store.process``: the adapter's ``convert``, link
inference, validation and JSON encoding. It runs in the main process, in ``--workers`` processes
(``convert_shard``: every N-th record) or in Ray tasks, with the same result, because nothing in it
depends on which records came before: a sample's number (its id) is given to it when it is written,
and its bytes are assembled from the id and the encoded body (``sample_line``).
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import inspect
import json
from typing import Any, Callable, Iterator, NamedTuple

from ..format.language import detect_languages, user_text, with_language
from ..format.links import infer_links
from ..format.sample import canonical_json, dumps_lenient, dumps_sample, make_sample_id
from ..format import fastjson
from ..format.validate import checked_sample, validate_sample
from .sources import Context, RawRecord, Reject, Source
from .sources.base import SKIPPED, Shard


class Tool(NamedTuple):
    """A catalog entry: the tool's name, its canonical JSON (identity and sort key) and its line text."""

    name: str
    key: str
    text: str


class Converted(NamedTuple):
    """What one record gave. ``kind``: ``"samples"`` (``bodies``: encoded samples without their id message,
    ``tools``: per sample the digests of its candidate tools, ``new_tools``: entries first seen by this
    converter), ``"reject"`` (``reason`` and ``raw``) or ``"invalid"`` (``bodies`` are the samples as
    objects: the reason is worded with their real ids where they are numbered)."""

    subset: str
    kind: str
    bodies: list = []
    tools: list = []
    new_tools: dict = {}
    reason: str = ""
    reject_line: str = ""
    where: tuple = ()  # "invalid": (source file, location, raw record) for its reject line
    links: int | None = None  # links inferred (None: inference never ran)


def tool_digest(key: str) -> bytes:
    return hashlib.blake2b(key.encode("utf-8"), digest_size=16).digest()


def _digest_and_key(tool: dict) -> tuple[bytes, str]:
    key = canonical_json(tool, finite=True)  # validated: no NaN/Infinity
    return tool_digest(key), key


class ToolTable:
    """Canonical keys of tool definitions, computed once per tool object (adapters often reuse one object
    for every sample that offers the tool), and which digests this converter has already reported."""

    def __init__(self, limit: int = 20_000) -> None:
        self._keys: dict[int, tuple[dict, tuple[bytes, str]]] = {}  # tool object → (digest, canonical key)
        self._texts: dict[int, tuple[dict, str]] = {}  # tool object → its catalog line
        self._limit = limit
        self.reported: set[tuple[str, bytes]] = set()  # (subset, digest) already sent with its entry

    def _once(self, cache: dict[int, tuple[dict, Any]], tool: dict, compute: Callable[[dict], Any]) -> Any:
        """``compute(tool)``, remembered for this tool object (a full cache is emptied)."""
        hit = cache.get(id(tool))
        if hit is not None and hit[0] is tool:
            return hit[1]
        if len(cache) >= self._limit:
            cache.clear()
        value = compute(tool)
        cache[id(tool)] = (tool, value)
        return value

    def digest(self, tool: dict) -> tuple[bytes, str]:
        """(digest, canonical key) of a tool definition."""
        return self._once(self._keys, tool, _digest_and_key)

    def text(self, tool: dict) -> str:
        """The catalog line of a tool definition (its own key order)."""
        return self._once(self._texts, tool, lambda t: dumps_sample(t, finite=True))

    def entry(self, tool: dict) -> tuple[bytes, Tool]:
        digest, key = self.digest(tool)
        return digest, Tool(tool["name"], key, self.text(tool))


def reject_line(subset: str, source_file: str, location: Any, reason: str, raw: Any) -> str:
    """A line of rejects.jsonl (lenient: the raw record may hold what strict JSON cannot)."""
    return dumps_lenient({"subset": subset, "source_file": source_file, "location": location,
                          "reason": reason, "raw": raw}) + "\n"


def _rejected(record: RawRecord, reason: str, raw: Any) -> Converted:
    return Converted(record.subset, "reject", reason=reason,
                     reject_line=reject_line(record.subset, record.source_file, record.location, reason, raw))


def convert_record(source: Source, record: RawRecord, ctx: Context, infer: bool, table: ToolTable) -> Converted:
    """The adapter's conversion of one record, link inference, validation and encoding (never raises on data)."""
    return _finish(source, record, _adapt(source, record, ctx), infer, table)


def _adapt(source: Source, record: RawRecord, ctx: Context) -> Any:
    """What the adapter made of a record (a reject when it refused it): step 1 of ``convert_record``."""
    if isinstance(record.data, Reject):
        return _rejected(record, str(record.data), getattr(record.data, "raw", None))
    try:
        return source.convert(record, ctx)
    except Reject as exc:
        return _rejected(record, str(exc), record.data)
    except Exception as exc:  # an adapter bug must not lose the record silently either
        return _rejected(record, f"adapter error: {type(exc).__name__}: {exc}", record.data)


def _samples(produced: Any) -> list:
    return [produced] if produced and isinstance(produced[0], dict) else list(produced)


def _finish(source: Source, record: RawRecord, produced: Any, infer: bool, table: ToolTable,
            known: dict[str, str] | None = None) -> Converted:
    """Step 2 of ``convert_record``: link inference, ``meta.language`` (``known``: languages of user texts
    detected beforehand), validation and encoding of what the adapter produced."""
    if isinstance(produced, Converted):
        return produced
    placeholder = {"role": "id", "content": make_sample_id(source.name, record.subset, 0)}
    links = None
    try:  # what the adapter returned may be anything: it is validated before it is written
        samples = _samples(produced)
        bodies, encodings = [], []
        for body in samples:
            if infer:
                body, linked = infer_links(body)
                links = (links or 0) + linked
            body = with_language(body, keep=source.language_known, known=known)  # meta.language from the user turns
            bodies.append(body)
            problems, encoded = checked_sample([placeholder, *body])
            if problems:  # the id's number changes no verdict, only a message's words
                return Converted(record.subset, "invalid", bodies=bodies, links=links,
                                 where=(record.source_file, record.location, record.data))
            encodings.append(encoded)
        if not bodies:
            return _rejected(record, "the record holds no sample", record.data)._replace(links=links)
        texts, tools, new = [], [], {}
        head = b"[" + json.dumps(placeholder, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        for body, encoded in zip(bodies, encodings):
            texts.append(_body_text(body, encoded, head))
            digests = []
            for message in body:
                if message["role"] == "candidate_tools":
                    for tool in message["content"]:
                        digest, key = table.digest(tool)
                        digests.append(digest)
                        if (record.subset, digest) not in table.reported:  # first time in this subset here
                            table.reported.add((record.subset, digest))
                            new[digest] = Tool(tool["name"], key, table.text(tool))
            tools.append(digests)
    except Exception as exc:
        return _rejected(record, f"adapter error: {type(exc).__name__}: {str(exc)[:500]}", record.data)._replace(links=links)
    return Converted(record.subset, "samples", bodies=texts, tools=tools, new_tools=new, links=links)


def _body_text(body: list, encoded: bytes | None, head: bytes) -> bytes:
    """``dumps_sample(body, finite=True)`` as UTF-8, cut from the bytes validation encoded ``[placeholder, *body]``
    to (``head``: ``[`` and the placeholder's JSON) where they are the ``json`` module's: one encoding, not two
    (and bytes all the way to the file: no decoding here and encoding again in the writing process)."""
    if encoded is not None and encoded.startswith(head):
        rest = encoded[len(head):]
        exact = fastjson.exact_bytes(b"[]" if rest == b"]" else b"[" + rest[1:], finite=True)
        if exact is not None:
            return exact
    return dumps_sample(body, finite=True).encode("utf-8")


def invalid_reason(name: str, subset: str, first: int, bodies: list) -> str:
    """The reject reason of an invalid record whose samples would have been numbered from ``first``."""
    for offset, body in enumerate(bodies):
        problems = validate_sample([{"role": "id", "content": make_sample_id(name, subset, first + offset)}, *body])
        if problems:
            return "invalid sample: " + "; ".join(str(p) for p in problems[:5])
    return "invalid sample"  # pragma: no cover - only when validation depends on more than the id


def sample_line(identifier: str, body: bytes) -> bytes:
    """The JSONL line of a sample from its id and its encoded body: ``dumps_sample([id message, *body])`` as UTF-8."""
    head = ('[{"role":"id","content":' + fastjson.quoted(identifier) + "}").encode("utf-8")
    return head + b"]\n" if body == b"[]" else b"".join((head, b",", memoryview(body)[1:], b"\n"))


CHUNK = 256  # records whose user texts have their language detected together (one batch per chunk)


def _user_texts(produced: list) -> list[str]:
    """The user texts of what the adapter produced, for one batched language detection (see ``_finish``)."""
    texts = []
    for item in produced:
        if isinstance(item, Converted):
            continue
        try:
            texts.extend(user_text(body) for body in _samples(item))
        except Exception:  # malformed: ``_finish`` meets the error itself and rejects the record
            continue
    return texts


def convert_shard(index: int, count: int, source: Source, raw: Any, subsets: list[str] | None,
                  options: dict[str, Any], infer: bool) -> Iterator[Any]:
    """Records ``index``, ``index + count``, … of a source, converted (a ``--workers`` process runs one
    shard; every shard reads all records, so sources that set up state while reading work unchanged:
    each record is given to the adapter as soon as it is read). The last item is the shard's adapter
    counters."""
    with _fewer_collections():
        yield from _convert_shard(index, count, source, raw, subsets, options, infer)


def _records(source: Source, raw: Any, subsets: list[str] | None, index: int, count: int) -> Iterator[RawRecord]:
    """The source's records; with several workers, the others' left unparsed where the adapter can (``Shard``)."""
    if count > 1 and "shard" in inspect.signature(source.records).parameters:
        return source.records(raw, subsets, shard=Shard(index, count))
    return source.records(raw, subsets)


@contextlib.contextmanager
def _fewer_collections(threshold: int = 20_000) -> Iterator[None]:
    """Conversion allocates millions of small acyclic dicts and lists, and the records it holds (``CHUNK``)
    and its caches survive many of Python's default collections (every 700 allocations): ~10% of the
    time. A collection every ``threshold`` allocations instead, restored afterwards (left alone when
    something already raised it)."""
    before = gc.get_threshold()
    if before[0] >= threshold:
        yield
        return
    gc.set_threshold(threshold, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _convert_shard(index: int, count: int, source: Source, raw: Any, subsets: list[str] | None,
                   options: dict[str, Any], infer: bool) -> Iterator[Any]:
    ctx = Context(options=dict(options))
    table = ToolTable()
    pending: list[tuple[RawRecord, Any]] = []

    def finish() -> Iterator[Converted]:
        texts = list(dict.fromkeys(_user_texts([produced for _, produced in pending])))
        known = dict(zip(texts, detect_languages(texts)))
        for record, produced in pending:
            yield _finish(source, record, produced, infer, table, known)
        pending.clear()

    for position, record in enumerate(_records(source, raw, subsets, index, count)):
        if position % count == index:
            if record.data is SKIPPED:
                raise RuntimeError(f"{source.name}: record {position} ({record.source_file}:{record.location}) was left "
                                   f"unparsed for another worker: the adapter's records are out of step with its reader")
            pending.append((record, _adapt(source, record, ctx)))
            if len(pending) >= CHUNK:
                yield from finish()
    yield from finish()
    yield dict(ctx.counters)
