"""BFCL v4's memory category (``memory_kv``, ``memory_rec_sum``): questions answered from a memory the model wrote.

Registered as its own corpus, ``BFCL-memory``, read from the same pinned ``bfcl-eval`` wheel as ``BFCL``
(fetching is BFCL's), so that processing BFCL's AST and multi-turn categories is unchanged.

BFCL runs it in two phases: the model first goes through the scenario's prerequisite conversations
(``memory_prereq_conversation/memory_<scenario>.json``) with a memory backend's tools, writing what it
learns; then each question of ``BFCL_v4_memory.json`` is asked with that memory, and the final text answer
must contain one of the possible answers (BFCL's agentic checker, ``benchmark.scoring.memory``).

A question becomes a sample: the backend's tools (``multi_turn_func_doc/memory_<backend>.json``), a system
message (BFCL's scenario setting and its answer-format instruction for agentic categories, read from
``bfcl_eval/constants/default_prompts.py`` in the wheel with ``ast``: string and dict literals only, never
executed) and the question. It has no ``tool_call_ground_truth``: the answer is text, kept with the
scenario, the backend and the prerequisite entry ids in ``meta.bfcl_memory``. The memory content itself
is whatever a model wrote during the prerequisite conversations, so it is not part of the sample.

``memory_vector`` is not converted: its backend embeds text with a sentence-embedding model (BFCL loads
one from the hub), which cannot run offline here.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any, Iterator

from ...format.sample import Sample
from .base import Context, FetchError, RawRecord, Reject
from .bfcl import BFCL, RawFiles, _json_lines, convert_tool
from .literals import literal_constants

MEMORY = ("memory_kv", "memory_rec_sum")
QUESTIONS = "BFCL_v4_memory.json"
PREREQ = "memory_prereq_conversation/memory_{scenario}.json"
FUNC_DOC = "multi_turn_func_doc/{subset}.json"
PROMPTS = "bfcl_eval/constants/default_prompts.py"
FORMAT_PROMPT = "ADDITIONAL_SYSTEM_PROMPT_FOR_AGENTIC_RESPONSE_FORMAT"
SETTINGS = "MEMORY_AGENT_SETTINGS"


def memory_records(files: RawFiles, subset: str, json_lines: Any = _json_lines) -> Iterator[RawRecord]:
    """The questions of BFCL's memory file for one backend, each with its answers, tools and prerequisites."""
    rel = files.find("memory")
    answer_rel = files.find("memory", answers=True)
    if rel is None:
        return
    answers = {}
    if answer_rel:
        for _n, value, error in json_lines(files.read(answer_rel), answer_rel):
            if error is None and isinstance(value, dict) and isinstance(value.get("id"), str):
                answers[value["id"]] = value.get("ground_truth")
    docs_rel = FUNC_DOC.format(subset=subset)
    try:
        docs = [value for _n, value, error in json_lines(files.read(docs_rel), docs_rel) if error is None]
    except (KeyError, FileNotFoundError):
        docs = []
    prompts = literal_constants(_wheel_member(files, PROMPTS), (FORMAT_PROMPT, SETTINGS))
    prereqs: dict[str, list[str]] = {}
    for number, value, error in json_lines(files.read(rel), rel):
        if error:
            yield RawRecord(subset, rel, number, Reject(error, raw=value))
            continue
        scenario = value.get("scenario") if isinstance(value, dict) else None
        if isinstance(scenario, str) and scenario not in prereqs:
            prereqs[scenario] = _prereq_ids(files, scenario, subset, json_lines)
        source_id = value["id"].replace("memory", subset, 1) if isinstance(value, dict) and isinstance(value.get("id"), str) else None
        data = {"entry": value, "ground_truth": answers.get(value.get("id")) if isinstance(value, dict) else None,
                "docs": docs, "prompts": prompts, "prereq": prereqs.get(scenario or "", [])}
        yield RawRecord(subset, rel, number, data, source_id=source_id)


def _wheel_member(files: Any, name: str) -> bytes | None:
    """A file of the bfcl_eval package itself (not its data folder), when the raw files are the wheel."""
    wheel = getattr(files, "wheel", None)
    if wheel is None:
        return None
    try:
        with zipfile.ZipFile(wheel) as archive:
            return archive.read(name)
    except (KeyError, OSError, zipfile.BadZipFile):
        return None


def _prereq_ids(files: Any, scenario: str, subset: str, json_lines: Any) -> list[str]:
    rel = PREREQ.format(scenario=scenario)
    try:
        text = files.read(rel)
    except (KeyError, FileNotFoundError):
        return []
    return [value["id"].replace("memory", subset, 1) for _n, value, error in json_lines(text, rel)
            if error is None and isinstance(value, dict) and isinstance(value.get("id"), str)]


def memory_sample(record: RawRecord, convert_tool: Any, license: str) -> Sample:
    """One memory question → a sample without ground-truth calls (the possible answers go to meta)."""
    data = record.data
    entry, answers = data["entry"], data["ground_truth"]
    if not isinstance(entry, dict) or not isinstance(entry.get("question"), list) or not entry["question"]:
        raise Reject("record lacks a 'question' list")
    if not isinstance(answers, list) or not answers or not all(isinstance(a, str) for a in answers):
        raise Reject(f"no possible answers for {entry.get('id')!r}")
    if not data["docs"]:
        raise Reject(f"the {record.subset} function docs are missing from the download")
    turn = entry["question"][0]
    users = [m.get("content") for m in turn if isinstance(m, dict) and m.get("role") == "user"]
    if len(entry["question"]) != 1 or len(users) != 1 or not isinstance(users[0], str):
        raise Reject("a memory question must be one turn with one user message")
    scenario = entry.get("scenario")
    settings = data["prompts"].get(SETTINGS) or {}
    system = "\n\n".join(part.strip() for part in (settings.get(scenario, ""), data["prompts"].get(FORMAT_PROMPT, ""))
                         if isinstance(part, str) and part.strip())
    meta = {"source": "BFCL-memory", "subset": record.subset, "source_id": record.source_id, "license": license,
            "language": "en", "tags": ["agentic", "memory"],
            "bfcl_memory": {"answers": answers, "scenario": scenario, "backend": record.subset[len("memory_"):],
                            "prereq": data["prereq"]}}
    messages: list[dict[str, Any]] = [{"role": "meta", "content": meta},
                                      {"role": "candidate_tools", "content": [convert_tool(d) for d in data["docs"]]}]
    if system:
        messages.append({"role": "system", "content": system})
    messages.append({"role": "user", "content": users[0]})
    return messages


class BFCLMemory(BFCL):
    name = "BFCL-memory"
    aliases = ("bfcl-agentic-memory",)
    description = "BFCL v4 agentic memory category: memory_kv and memory_rec_sum questions (bfcl-eval wheel)"
    subsets = MEMORY
    evaluation_subsets = MEMORY

    def records(self, raw: Path, subsets: list[str] | None = None) -> Iterator[RawRecord]:
        unknown = sorted(set(subsets or ()) - set(self.subsets))
        if unknown:
            raise FetchError(f"unknown BFCL-memory subsets {unknown}; known: {', '.join(self.subsets)}")
        files = RawFiles(raw)
        for subset in self.subsets:
            if not subsets or subset in subsets:
                yield from memory_records(files, subset)

    def convert(self, record: RawRecord, ctx: Context) -> Sample:
        return memory_sample(record, convert_tool, self.license)
