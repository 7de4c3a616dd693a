"""``python -m opentoollab GROUP ...`` (same as the ``opentoollab`` console script)."""

from .cli import exit_quickly, main

try:
    main(prog_name="opentoollab")
finally:
    exit_quickly()
