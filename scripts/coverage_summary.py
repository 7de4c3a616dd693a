"""Print the line-coverage summary of the last test run (scripts/test.sh calls it after `coverage combine`).

One line with the total over src/opentoollab (Python subprocesses the tests started included), then
every module under 80% of its lines, marked with whether docs/testing.md states why (``--partial``:
the total only, for runs of some tests). Reads the
combined data file named in pyproject.toml ([tool.coverage.run] data_file).
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
from pathlib import Path

FLOOR = 80.0
REPO = Path(__file__).resolve().parent.parent
REASONS = REPO / "docs" / "testing.md"


def explained() -> set[str]:
    """Module paths (``opentoollab/...py``) that docs/testing.md gives a reason for."""
    text = REASONS.read_text("utf-8") if REASONS.is_file() else ""
    return set(re.findall(r"opentoollab/[\w/]+\.py", text))


def main() -> int:
    import coverage

    partial = "--partial" in sys.argv[1:]  # scripts/test.sh with a test selection: only the total means something

    cov = coverage.Coverage(config_file=str(REPO / "pyproject.toml"))
    cov.load()
    if not cov.get_data().measured_files():
        print("coverage: no data (did the tests run?)")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "coverage.json"
        cov.json_report(outfile=str(out), ignore_errors=True)  # a module moved since the run: skipped
        report = json.loads(out.read_text("utf-8"))
    totals = report["totals"]
    low = []
    for name, entry in sorted(report["files"].items()):
        summary = entry["summary"]
        if summary["num_statements"] and summary["percent_covered"] < FLOOR:
            module = name[name.find("opentoollab/"):]
            low.append((module, summary["percent_covered"]))
    reasons = explained()
    unexplained = [m for m, _p in low if m not in reasons]
    if partial:
        print(f"coverage: {totals['percent_covered']:.1f}% of {totals['num_statements']} library lines "
              f"(subprocesses included; a partial run: per-module figures only after the whole suite)")
        return 0
    print(f"coverage: {totals['percent_covered']:.1f}% of {totals['num_statements']} library lines "
          f"(subprocesses included); {len(low)} module(s) under {FLOOR:.0f}%, "
          f"{len(unexplained)} without a reason in docs/testing.md")
    for module, percent in low:
        print(f"  {percent:5.1f}%  {module}{'' if module in reasons else '   <- no reason stated'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
