"""The unified sample format: the core every other part stands on.

Owns: the JSON Schema of a sample (``schema/``), sample helpers (``sample``: ids, call ids, links),
validation (``validate``), streaming JSONL I/O with atomic writes (``jsonl``), source type names →
JSON Schema (``schema_types``), link inference (``links``) and the literal-only Python call parser
(``pycall``).
May import: the standard library and third-party packages only — nothing else of opentoollab.
"""
