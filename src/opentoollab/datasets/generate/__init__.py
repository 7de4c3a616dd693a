"""The offline generator: execution-grounded tool-use samples over the sandboxed toolkits, no model needed.

``recipe`` (what a run asks for) → ``engine`` (sample k from seed and k: a category program over
intents, executed in a fresh ``opentoollab.tools`` episode through ``dialogue``) → ``run`` (workers,
resume, checks, rejects, manifest with ``stats``). Intents (one call each) live in ``intents_*``,
category programs in ``programs``, chained calls in ``chains*`` and multi-turn journeys in
``journeys``; wording shared by all in ``phrases``. ``python datasets generate`` drives it.
May import: ``opentoollab.tools``, ``opentoollab.format``.
"""
