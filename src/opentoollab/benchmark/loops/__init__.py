"""Agent loops of `benchmark run`: conversations driven in a benchmark's own environment, one module per benchmark.

Each loop is a callable ``loop(ask, item) → prediction line`` that ``benchmark.run.predict`` calls for the
items of its kind (``ask`` is the run's model seam: fc or prompt mode); the line is what the benchmark's
scorer in ``benchmark/scoring/<name>.py`` reads. ``tau2``: τ²-bench's agent + simulated-user loop;
``memory``: BFCL's memory write phase (prerequisite conversations), then the question; ``acebench``: ACEBench's
agent multi-step / multi-turn (simulated user) inference loop in its scenario classes.
May import: ``opentoollab.benchmark.scoring`` and every room below ``benchmark`` (never ``benchmark.run``,
which calls the loops).
"""
