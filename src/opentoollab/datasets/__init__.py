"""``python datasets``: corpora in and out of the unified format.

Owns: the data root and the process pipeline (``store``; its per-record step: ``convert``, also run by
``--workers`` processes and on Ray by ``ray_engine``; where the data folder is: ``datadir``; one sample
by id or FILE:LINE: ``lookup``), pinned and checksummed fetching
(``fetch``), one adapter module per corpus (``sources/``, with its registry), parquet export and hub push (``export``), the offline generator (``generate/``) and the
LLM synthesis pipelines (``synth/``).
May import: ``opentoollab.tools``, ``opentoollab.llm`` and ``opentoollab.format``.
"""
