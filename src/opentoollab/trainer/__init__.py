"""``python trainer``: from unified samples to training rows.

Owns: the renderers (``render/``: one module per model family, byte-exact with the official chat
templates, plus the sandboxed Jinja renderer), ``prepare`` (rows, loss spans, token labels), mixes
(``recipe`` parses mix specs, ``mix`` builds and writes them), ``dedup`` and ``decontaminate``.
May import: ``opentoollab.tag``, ``opentoollab.datasets``, ``opentoollab.tools``, ``opentoollab.format``.
"""
