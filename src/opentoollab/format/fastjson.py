"""orjson where it gives exactly the bytes of the standard ``json`` module, else nothing (then use ``json``).

The format's writers (``sample.dumps_sample``, ``sample.canonical_json``) and ``sample.json_problem``
try this first, so output is byte-identical with or without orjson. Where orjson and ``json`` part ways:

- floats: orjson writes ``1e16``/``1e-7``/``0.00001``, Python ``1e+16``/``1e-07``/``1e-05``. Output
  holding a digit followed by ``e``, or ``0.0000``, goes the slow way (also when that text is inside a
  string: a false alarm only costs time). All other finite floats print the same (shortest round trip).
- ``NaN``/``Infinity`` become ``null`` in orjson: unless the caller knows the value is finite, output
  holding ``null`` goes the slow way (where ``json`` writes ``NaN`` or raises).
- integers beyond 64 bits, lone surrogates, non-string keys, subclasses of str/int/dict/list,
  dataclasses, datetimes: orjson refuses them here (passthrough options) and ``json`` decides.

Values are what JSON parsing gives (dict, list, str, int, float, bool, None); an ``Enum`` or ``UUID``
instance, which ``json`` refuses and orjson writes, is not a JSON value of a sample.
Reading stays with ``json``: orjson parses integers beyond 64 bits as floats, and guarding against that
cost as much as it saved.
"""

from __future__ import annotations

import json
from typing import Any

try:  # optional at runtime: everything works (slower) without it
    import orjson
except ImportError:  # pragma: no cover - orjson is a dependency
    orjson = None

AVAILABLE = orjson is not None
if orjson is not None:
    _PASSTHROUGH = orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME
    _OPTIONS = {False: _PASSTHROUGH, True: _PASSTHROUGH | orjson.OPT_SORT_KEYS}
_DIGITS = bytes.maketrans(b"0123456789", b"0000000000")


def _float_risk(data: bytes) -> bool:
    """Could orjson have printed a float differently from Python's repr here?"""
    return b"e" in data and b"0e" in data.translate(_DIGITS) or b"0.0000" in data


def quoted(text: str) -> str:
    """``json.dumps(text, ensure_ascii=False)`` of a string: the text in quotes when nothing in it is escaped
    (printable, no quote or backslash), ~10x cheaper than the call."""
    if text.isprintable() and '"' not in text and "\\" not in text:
        return '"' + text + '"'
    return json.dumps(text, ensure_ascii=False)


def dumps_bytes(value: Any, *, sort_keys: bool = False, finite: bool = False, unchecked: bool = False) -> bytes | None:
    """UTF-8 bytes equal to ``json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=…)``,
    or None when orjson is missing, refuses the value, or its answer could differ (then use ``json``).

    ``finite=True`` promises the value holds no NaN/Infinity (validated, or parsed strictly), which lets
    output with ``null`` in it stay on the fast path. ``unchecked=True`` returns orjson's bytes whatever
    its floats look like: for callers that only need to know orjson could write the value.
    """
    if orjson is None:
        return None
    try:
        data = orjson.dumps(value, option=_OPTIONS[sort_keys])
    except TypeError:  # orjson.JSONEncodeError: big ints, surrogates, non-str keys, subclasses, depth > 255
        return None
    return data if unchecked else exact_bytes(data, finite=finite)


def exact_bytes(data: bytes, *, finite: bool = False) -> bytes | None:
    """orjson's bytes (``unchecked=True``) when they are the ``json`` module's too, else None."""
    if _float_risk(data) or (not finite and b"null" in data):
        return None
    return data


def dumps(value: Any, *, sort_keys: bool = False, finite: bool = False) -> str | None:
    """``dumps_bytes`` as text (None: use ``json``)."""
    data = dumps_bytes(value, sort_keys=sort_keys, finite=finite)
    return None if data is None else data.decode("utf-8")
