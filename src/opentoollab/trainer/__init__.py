"""``python trainer``: from unified samples to training rows.

Owns: the renderers (``render/``: one module per model family, byte-exact with the official chat
templates, plus the sandboxed Jinja renderer), ``prepare`` (rows, loss spans, token labels), mixes
(``recipe`` parses mix specs, ``mix`` builds and writes them, ``mix_work`` is its per-line work for worker
processes), ``dedup`` (with ``lsh``, its compact index) and ``decontaminate``, token ids and labels in
batches (``tokenize``), and the
static report site (``report/``, ``python datasets report``: it reads tags and renders chat templates).
May import: ``opentoollab.tag``, ``opentoollab.datasets``, ``opentoollab.tools``, ``opentoollab.format``.
"""
