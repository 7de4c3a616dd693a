"""``python -m opentoollab GROUP ...`` (same as the ``opentoollab`` console script)."""

from .cli import main

main(prog_name="opentoollab")
