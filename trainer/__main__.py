"""`python trainer ...` from the repository root: a thin entry over the opentoollab library."""

import sys
from pathlib import Path

try:
    from opentoollab.cli import run_group
except ImportError:  # not installed yet: use the source tree beside this folder
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    from opentoollab.cli import run_group

run_group("trainer")
