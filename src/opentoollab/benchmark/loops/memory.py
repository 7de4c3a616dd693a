"""BFCL's memory category for `benchmark run`: the prerequisite conversations write the memory, then the question.

BFCL's flow (``bfcl_eval.utils.process_memory_test_case`` and the base handler), per backend and scenario:

1. **Write phase**, once: the scenario's prerequisite conversations (``memory_prereq_conversation/
   memory_<scenario>.json`` of the BFCL download), in order, each a multi-turn conversation with the
   backend's tools. Each starts from the memory the previous one left (the first from an empty memory) and
   gets BFCL's memory system prompt — ``MEMORY_BACKEND_INSTRUCTION_UNIFIED`` (rec_sum) or ``…_CORE_ARCHIVAL``
   (kv) filled with the scenario setting and the backend's ``_dump_core_memory_to_context()``. Every call
   runs in BFCL's backend class (``tools.bfcl_memory``), up to BFCL's 20 steps per user turn (more ends the
   conversation, as BFCL's force-quit does). The final memory is kept in ``<snapshots>/<backend>/<scenario>.json``
   (BFCL's snapshot layout), so a resumed run does not write it again.
2. **Question**: a fresh backend on that memory; the system prompt is the memory prompt followed by BFCL's
   agentic answer-format prompt (BFCL prepends the former to the latter); the model may call the memory
   tools (20 steps), and its last reply without calls is the answer.

The prediction line ``{"id", "source_id", "result": <answer>, "steps"}`` is what ``scoring.memory`` checks.
"""

from __future__ import annotations

import copy
import json
import threading
import zipfile
from pathlib import Path
from typing import Any, Callable

from ...datasets.sources.bfcl import RawFiles, _json_lines
from ...datasets.sources.literals import literal_constants
from ...format.jsonl import write_json
from ...format.sample import meta
from ...tools.bfcl_memory import MemorySession
from ...tools.bfcl_runtime import Runtime, RuntimeUnavailable, bfcl_text
from ..scoring.items import Item, tools_before

Ask = Callable[[list[dict], list[dict], str], tuple[dict[str, Any], "list[dict] | None"]]
MAX_STEPS = 20  # BFCL's MAXIMUM_STEP_LIMIT per user turn
PROMPTS = "bfcl_eval/constants/default_prompts.py"
PREREQ = "memory_prereq_conversation/memory_{scenario}.json"
NAMES = ("MEMORY_AGENT_SETTINGS", "MEMORY_BACKEND_INSTRUCTION_UNIFIED", "MEMORY_BACKEND_INSTRUCTION_CORE_ARCHIVAL",
         "ADDITIONAL_SYSTEM_PROMPT_FOR_AGENTIC_RESPONSE_FORMAT")


class MemoryLoop:
    """Answers BFCL memory questions after the scenario's write phase (see the module docstring)."""

    def __init__(self, raw_dir: Path, snapshots: Path, *, trust: bool = False) -> None:
        self.files = RawFiles(Path(raw_dir))
        if self.files.wheel is None:
            raise RuntimeUnavailable(f"{raw_dir} holds no bfcl_eval wheel (BFCL's memory classes come from it)")
        self.runtime = Runtime(self.files.wheel, trust=trust)
        with zipfile.ZipFile(self.files.wheel) as archive:
            self.prompts = literal_constants(archive.read(PROMPTS), NAMES)
        missing = [name for name in NAMES if name not in self.prompts]
        if missing:
            raise RuntimeUnavailable(f"BFCL's prompts lack {', '.join(missing)}")
        self.snapshots = Path(snapshots)
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._guard = threading.Lock()

    def __call__(self, ask: Ask, item: Item) -> dict[str, Any]:
        info = meta(item.sample or []).get("bfcl_memory") or {}
        backend, scenario = info.get("backend"), info.get("scenario")
        if not isinstance(backend, str) or not isinstance(scenario, str):
            raise RuntimeUnavailable("the sample lacks meta.bfcl_memory (backend, scenario): process BFCL-memory again")
        sample = item.sample or []
        tools = tools_before(sample, len(sample))
        memory = self.written(ask, backend, scenario, tools)
        session = MemorySession(self.runtime, backend, memory)
        question = [m["content"] for m in sample if m.get("role") == "user"]
        messages = [{"role": "system", "content": self.system(backend, scenario, session)
                     + "\n\n" + self.prompts["ADDITIONAL_SYSTEM_PROMPT_FOR_AGENTIC_RESPONSE_FORMAT"]},
                    *({"role": "user", "content": text} for text in question)]
        steps, answer = converse(ask, session, messages, tools, "q")
        out: dict[str, Any] = {"id": item.sample_id, "source_id": item.source_id, "steps": steps}
        if answer is not None:
            out["result"] = answer
        return out

    def system(self, backend: str, scenario: str, session: MemorySession) -> str:
        """BFCL's ``add_memory_instruction_system_prompt`` text for the backend's current memory."""
        template = self.prompts["MEMORY_BACKEND_INSTRUCTION_UNIFIED" if backend == "rec_sum"
                                else "MEMORY_BACKEND_INSTRUCTION_CORE_ARCHIVAL"]
        setting = self.prompts["MEMORY_AGENT_SETTINGS"].get(scenario)
        if setting is None:
            raise RuntimeUnavailable(f"BFCL has no memory scenario {scenario!r}")
        return template.format(scenario_setting=setting, memory_content=session.context())

    def written(self, ask: Ask, backend: str, scenario: str, tools: list[dict]) -> dict[str, Any]:
        """The memory after the scenario's prerequisite conversations (run once; kept for resumed runs)."""
        with self._guard:
            lock = self._locks.setdefault((backend, scenario), threading.Lock())
        path = self.snapshots / backend / f"{scenario}.json"
        with lock:
            if path.is_file():
                try:
                    return json.loads(path.read_text(encoding="utf-8"))["memory"]
                except (ValueError, KeyError, OSError):
                    pass  # a damaged snapshot is written again
            memory: dict[str, Any] | None = None
            log = []
            for entry in self.prerequisites(scenario):
                session = MemorySession(self.runtime, backend, memory)
                messages = [{"role": "system", "content": self.system(backend, scenario, session)}]
                steps = 0
                for number, turn in enumerate(entry.get("question") or []):
                    messages += [{"role": m["role"], "content": m["content"]} for m in turn if isinstance(m, dict)]
                    taken, _answer = converse(ask, session, messages, tools, f"{entry.get('id')}_{number}")
                    steps += taken
                    if taken >= MAX_STEPS:  # BFCL's force quit ends the conversation
                        break
                memory = session.snapshot()
                log.append({"id": str(entry.get("id", "")).replace("memory", f"memory_{backend}", 1), "steps": steps})
            memory = memory if memory is not None else MemorySession(self.runtime, backend).snapshot()
            write_json(path, {"backend": backend, "scenario": scenario, "conversations": log, "memory": memory})
            return copy.deepcopy(memory)

    def prerequisites(self, scenario: str) -> list[dict[str, Any]]:
        rel = PREREQ.format(scenario=scenario)
        try:
            text = self.files.read(rel)
        except (KeyError, FileNotFoundError):
            raise RuntimeUnavailable(f"BFCL's download lacks {rel}") from None
        return [value for _n, value, error in _json_lines(text, rel) if error is None and isinstance(value, dict)]


def converse(ask: Ask, session: MemorySession, messages: list[dict], tools: list[dict], tag: str) -> tuple[int, str | None]:
    """One user turn: the model's steps with every call run in the backend; (steps, final reply text or None)."""
    for step in range(MAX_STEPS):
        reply, calls = ask(messages, tools, f"{tag}_{step}")
        messages.append(reply)
        if not calls or not all(isinstance(call["arguments"], dict) for call in calls):
            return step, reply.get("content") or ""  # BFCL: a reply that does not decode to calls ends the turn
        for tool_call, call in zip(reply["tool_calls"], calls):
            result = bfcl_text(session.call(call["name"], [], copy.deepcopy(call["arguments"])))
            messages.append({"role": "tool", "tool_call_id": tool_call["id"], "name": call["name"], "content": result})
    return MAX_STEPS, None
