"""BFCL multi-turn scoring (``multi_turn_eval/multi_turn_checker.py``), executed safely.

The model's calls, turn by turn and step by step, run in BFCL's environment classes from the entry's
``initial_config`` (through :mod:`opentoollab.tools.bfcl_runtime`: parsed values, never ``eval``); the
ground-truth calls of the sample run in a second set of instances. After every turn that has
ground-truth calls, as in BFCL:

* the model must have made at least one call in that turn (``multi_turn:empty_turn_model_response``);
* every instance's public attributes must equal the ground truth's (``multi_turn:instance_state_mismatch``);
* each ground-truth result text must be among the model's results so far, as a multiset
  (``multi_turn:execution_response_mismatch``).

A model that answered a different number of turns is ``multi_turn:force_terminated``.
"""

from __future__ import annotations

import copy
import threading
from pathlib import Path
from typing import Any

from ...tools.bfcl_runtime import Runtime, RuntimeUnavailable, Session, bfcl_text
from ...format.sample import Sample
from .checker import OK, verdict

Turns = list[list[list[dict[str, Any]]]]  # turn → step → calls


def truth_turns(sample: Sample) -> list[list[dict[str, Any]]]:
    """The ground-truth calls per user turn (turns = user messages) of a trajectory sample."""
    turns: list[list[dict[str, Any]]] = []
    for message in sample:
        role = message.get("role")
        if role == "user":
            turns.append([])
        elif role == "tool_call" and turns:
            turns[-1].extend(message.get("content") or [])
    return turns


def clean_turns(turns: Any) -> Turns:
    """Drop steps that hold no well-formed call, as BFCL drops steps it cannot decode."""
    out: Turns = []
    for turn in turns if isinstance(turns, list) else []:
        steps = []
        for step in turn if isinstance(turn, list) else []:
            if isinstance(step, list) and step and all(
                    isinstance(c, dict) and isinstance(c.get("name"), str) and type(c.get("arguments")) is dict
                    for c in step):
                steps.append(step)
        out.append(steps)
    return out


class Environments:
    """BFCL's multi-turn entries (initial_config, involved_classes) and classes, from the raw download."""

    def __init__(self, raw_dir: Path, *, trust: bool = False) -> None:
        self.raw_dir = Path(raw_dir)
        self.trust = trust  # --trust-runtime: allow a bfcl_eval wheel that is not the pinned release
        self._entries: dict[str, dict] | None = None
        self._runtime: Runtime | None = None
        self._lock = threading.Lock()  # benchmark runs ask from several threads

    def _load(self) -> None:
        from ...datasets.sources.bfcl import MULTI_TURN, RawFiles, _json_lines  # BFCL's raw layout lives there

        files = RawFiles(self.raw_dir)
        entries: dict[str, dict] = {}
        for category in MULTI_TURN:
            rel = files.find(category)
            if rel is None:
                continue
            for _number, value, error in _json_lines(files.read(rel), rel):
                if error is None and isinstance(value, dict) and isinstance(value.get("id"), str):
                    entries[value["id"]] = value
        wheel = files.wheel
        if wheel is None:
            candidates = sorted(self.raw_dir.glob("runtime/bfcl_eval-*.whl"))
            wheel = candidates[-1] if candidates else None
        self._runtime = Runtime(wheel, trust=self.trust)
        self._entries = entries

    def sessions(self, source_id: str, category: str) -> tuple[Session, Session]:
        """Two fresh sessions (model, ground truth) for an entry; KeyError / RuntimeUnavailable when missing."""
        with self._lock:
            if self._entries is None:
                self._load()
        entry = self._entries[source_id]
        config, involved = entry.get("initial_config") or {}, entry.get("involved_classes") or []
        long_context = "long_context" in category
        return (self._runtime.session(config, involved, long_context=long_context),
                self._runtime.session(config, involved, long_context=long_context))


def run_calls(session: Session, calls: list[dict[str, Any]], key: str) -> list[str]:
    """Execute calls in order; BFCL's result texts."""
    # Deep copies: BFCL's classes keep and later mutate argument lists (TwitterAPI.mention extends
    # a tweet's mentions), which must never reach the sample or the model's prediction.
    return [bfcl_text(session.call(c["name"], [], copy.deepcopy(dict(c.get(key) or {})))) for c in calls]


def check_multi_turn(model_turns: Turns, truth: list[list[dict[str, Any]]], model: Session,
                     ground_truth: Session) -> dict[str, Any]:
    if len(model_turns) != len(truth):
        return verdict(False, "multi_turn:force_terminated", f"The length of the model result turns "
                       f"({len(model_turns)}) does not match the length of the ground truth turns ({len(truth)}).")
    all_model_results: list[str] = []
    for index, (steps, truth_calls) in enumerate(zip(model_turns, truth)):
        for step in steps:
            all_model_results.extend(run_calls(model, step, "arguments"))
        truth_results = run_calls(ground_truth, truth_calls, "parameters")
        if not truth_calls:
            continue  # BFCL still runs the model's calls here, so later state checks see them
        if not steps:
            return verdict(False, "multi_turn:empty_turn_model_response", f"Model response list is empty for turn {index}")
        for class_name, truth_instance in ground_truth.instances.items():
            differences = _differences(model.instances[class_name], truth_instance)
            if differences:
                return verdict(False, "multi_turn:instance_state_mismatch", f"Model instance for {class_name} does "
                               f"not match the state with ground truth instance (turn {index}): {', '.join(differences)}.")
        missing = _missing(truth_results, all_model_results)
        if missing:
            return verdict(False, "multi_turn:execution_response_mismatch", f"Model response execution results so "
                           f"far do not contain all the ground truth response execution results for turn {index}: "
                           f"missing {[m[:200] for m in missing]}")
    return OK


def _differences(model_instance: Any, truth_instance: Any) -> list[str]:
    return [name for name in vars(truth_instance)
            if not name.startswith("_") and getattr(model_instance, name) != getattr(truth_instance, name)]


def _missing(expected: list[str], got: list[str]) -> list[str]:
    pool = list(got)
    missing = []
    for item in expected:
        try:
            pool.remove(item)
        except ValueError:
            missing.append(item)
    return missing


__all__ = ["Environments", "RuntimeUnavailable", "check_multi_turn", "clean_turns", "truth_turns"]
