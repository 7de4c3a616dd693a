"""BFCL-compatible scoring of model outputs on any corpus with ground truth (DESIGN §3, the scorer seam).

* :mod:`.checker` — BFCL's AST checker rule by rule; :mod:`.converters` — its Java/JS value converters;
* :mod:`.parse` — raw model text → calls (``ast`` / JSON / ``<tool_call>``, never ``eval``); :mod:`.langs` —
  BFCL's tree-sitter parsers for raw Java/JavaScript answers (extra ``bfcl-langs``);
* :mod:`.multi_turn` — BFCL's multi-turn checker, executing calls in BFCL's environments safely;
* :mod:`.metrics` — exact match, tool and parameter accuracy with Hungarian matching;
* :mod:`.items` — a sample → what is scored; :mod:`.score` — predictions → verdicts and summary;
* :mod:`.report` — BFCL's leaderboard aggregation;
* benchmarks judged by their own rules (``items.OWN_SCORERS``: corpus → module with ``score_sample`` and
  ``layout``): :mod:`.acebench` (+ :mod:`.acebench_rules`), :mod:`.nestful` (NESTFUL, ComplexFuncBench),
  :mod:`.memory` (BFCL-memory), :mod:`.tau2` (τ²-bench).
"""

from .checker import Options, check_calls
from .items import Item, item_of
from .multi_turn import Environments
from .parse import DecodeError, parse_text
from .score import Prediction, read_predictions, score

__all__ = ["DecodeError", "Environments", "Item", "Options", "Prediction", "check_calls", "item_of", "parse_text",
           "read_predictions", "score"]
