"""``python tag``: per-sample categories and rule verification, reports, the optional LLM judge.

Owns: categories (``categories``), rule checks (``rules``), tagging files and tag records
(``tagging``), the per-file counts of ``datasets stats`` (``stats``: its structure columns are the
categories, so both commands agree), the numbers of ``tag report`` (``report``; its chart and page are drawn by ``trainer.report``) and the LLM judge (``judge``).
May import: ``opentoollab.datasets``, ``opentoollab.tools``, ``opentoollab.format``.
"""
