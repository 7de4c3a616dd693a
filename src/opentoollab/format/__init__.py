"""The unified sample format: the core every other part stands on.

Owns: the JSON Schema of a sample (``schema/``), sample helpers (``sample``: ids, call ids, links),
validation (``validate``), streaming JSONL I/O with atomic writes (``jsonl``), source type names →
JSON Schema (``schema_types``), link inference (``links``), the literal-only Python call parser
(``pycall``), the language of a sample (``language``: one detector for conversion and ``tag``; ``langmodel``: its
cached model and batched classifier), orjson with
the json module's exact bytes (``fastjson``) and the ordered, bounded parallel map every command uses (``parallel``).
May import: the standard library and third-party packages only — nothing else of opentoollab.
"""
