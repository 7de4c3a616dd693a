"""``python datasets``: corpora in and out of the unified format.

Owns: the data root and the process pipeline (``store``), pinned and checksummed fetching
(``fetch``), one adapter module per corpus (``sources/``, with its registry), per-file statistics
(``stats``), parquet export and hub push (``export``), and the offline generator (``generate/``).
May import: ``opentoollab.tools`` and ``opentoollab.format``.
"""
