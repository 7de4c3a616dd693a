"""``python benchmark``: scoring predictions the way the benchmarks do, and running models.

Owns: BFCL-compatible scoring (``scoring/``: checker, parsers, multi-turn execution, metrics,
reports, parity helpers against the official checker) and model runs against OpenAI-compatible
servers (``run``).
May import: every room below it — ``opentoollab.trainer`` (renderers for prompt mode),
``opentoollab.tag``, ``opentoollab.datasets``, ``opentoollab.tools``, ``opentoollab.format``.
"""
