"""``toolace``: ToolACE's three modules (seed 001) as steps: TSS → SDG → DLV.

TSS, Tool Self-evolution Synthesis:
  domain → ApiSpeciation (an API context tree: subdomains → functionalities; leaves drawn with a
  diversity level each) → ApiAdaptation (one API declaration per leaf, fitted to its domain and
  diversity level) → ApiEvolution (the API refined: precise descriptions, types, constraints, a
  response description) → ToolsetSampler (APIs of a domain grouped into tool sets, each with a dialog
  type drawn from the recipe: single, parallel, dependent, no_tool).
SDG, Self-guided Dialog Generation:
  DialogGeneration (user, assistant and tool agents; results simulated) → ComplexityEvaluator (the
  target model — the client's model — answers the first user turn with the tools; how many of the
  dialogue's calls it reproduces scores the sample: easy / fit / hard) → SelfGuidedComplication
  (for samples outside the target's zone: guidance that makes the request harder or easier) →
  DialogRegeneration (the agents again, following the guidance).
DLV, Dual-Layer Verification:
  DlvRules (layer 1: the injected rule verifier, tag's rules, on the drafted sample) → DlvJudge
  (layer 2: an LLM judge for hallucinated argument values and answers inconsistent with results).
May import: ``opentoollab.datasets.synth`` modules, ``opentoollab.format``, the standard library.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ...format.sample import canonical_json
from .agents import (Limits, clean, normalize_tool, openai_tools, reply_calls, run_dialogue, simulated_tool,
                     tools_problem, transcript)
from .registry import Pipeline
from .sample import draft_sample
from .step import BatchStep, Context, FilterStep, LocalStep, Record, Session, Step, check_reason, need, text_field

DOMAINS = ("finance", "travel", "weather", "e-commerce", "healthcare", "education", "entertainment", "sports",
           "food and recipes", "real estate", "logistics", "social media", "music", "news", "automotive",
           "energy", "agriculture", "legal", "human resources", "cybersecurity", "gaming", "fitness",
           "astronomy", "translation", "public transport", "insurance", "event planning", "pets",
           "home automation", "scientific computing")
LEVELS = {  # diversity levels of TSS adaptation: how rich an API is
    "simple": "one or two parameters of basic types; a flat result",
    "medium": "two to four parameters including an enum or a number with a range; a result object with a few fields",
    "complex": "four or more parameters including an array or nested object and optional parameters; "
               "a nested result",
}
DIALOG_TYPES = ("single", "parallel", "dependent", "no_tool")
_TEXT = {"type": "string"}


def _object(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(properties)}


# ---------------------------------------------------------------------------------- TSS
class ApiSpeciation(Step):
    """A domain → its API context tree; ``apis_per_domain`` leaves drawn (seeded), each with a diversity level."""

    name = "api_speciation"
    inputs = ("domain",)
    outputs = ("domain", "subdomain", "functionality", "diversity")
    defaults = {"subdomains": 4, "functionalities": 4, "apis_per_domain": 4, "levels": list(LEVELS)}
    answer_schema = _object(subdomains={"type": "array", "items": _object(
        name=_TEXT, functionalities={"type": "array", "items": _TEXT})})
    fan_out = 4.0

    def parse(self, answer: Any, view: Record) -> list[Record]:
        need(isinstance(answer, dict) and isinstance(answer.get("subdomains"), list), "'subdomains' must be a list")
        leaves = []
        for node in answer["subdomains"][:20]:
            if isinstance(node, dict) and isinstance(node.get("name"), str):
                for functionality in (node.get("functionalities") or [])[:20]:
                    if isinstance(functionality, str) and functionality.strip():
                        leaves.append((node["name"].strip()[:200], functionality.strip()[:500]))
        need(bool(leaves), "the API context tree has no functionality")
        rng = self.context.rng(self.name, view["domain"], leaves)
        picked = rng.sample(leaves, min(len(leaves), int(self.params["apis_per_domain"])))
        levels = [lv for lv in self.params["levels"] if lv in LEVELS] or list(LEVELS)
        return [{"domain": view["domain"], "subdomain": sub, "functionality": fn,
                 "diversity": {"level": level, "guide": LEVELS[level]}}
                for (sub, fn), level in zip(picked, (rng.choice(levels) for _ in picked))]


class ApiAdaptation(Step):
    """A leaf of the tree → one API declaration fitted to its domain and diversity level."""

    name = "api_adaptation"
    inputs = ("domain", "subdomain", "functionality", "diversity")
    outputs = ("api",)
    answer_schema = _object(api={"type": "object"})

    def parse(self, answer: Any, view: Record) -> list[Record]:
        need(isinstance(answer, dict), "the answer is not an object")
        api = answer.get("api")
        problem = tools_problem([api])
        need(problem is None, str(problem))
        return [{"api": normalize_tool(api)}]


class ApiEvolution(ApiAdaptation):
    """An API → a refined version: precise descriptions, types and constraints, a described response."""

    name = "api_evolution"
    inputs = ("api", "diversity")


class ToolsetSampler(BatchStep):
    """APIs grouped by domain into tool sets of ``tools_per_dialog`` (seeded), each with a dialog type."""

    name = "toolset_sampler"
    defaults = {"tools_per_dialog": 3, "dialog_types": list(DIALOG_TYPES)}

    def apply_all(self, records: list[Record]) -> list[tuple[Record, list[int]]]:
        size = max(1, int(self.params["tools_per_dialog"]))
        kinds = [k for k in self.params["dialog_types"] if k in DIALOG_TYPES] or list(DIALOG_TYPES)
        by_domain: dict[str, list[int]] = {}
        for index, record in enumerate(records):
            by_domain.setdefault(record["domain"], []).append(index)
        out = []
        for domain, members in by_domain.items():
            unique: dict[str, int] = {}
            for index in members:
                unique.setdefault(records[index]["api"]["name"], index)
            indices = list(unique.values())
            rng = self.context.rng(self.name, domain, [records[i]["api"] for i in indices])
            rng.shuffle(indices)
            for start in range(0, len(indices), size):
                group = indices[start:start + size]
                record = {"domain": domain, "tools": [records[i]["api"] for i in group],
                          "dialog_type": rng.choice(kinds)}
                out.append((record, group))
        return out


# ---------------------------------------------------------------------------------- SDG
class DialogGeneration(Step):
    """User, assistant and tool agents produce a dialogue of the record's dialog type."""

    name = "dialog_generation"
    inputs = ("domain", "tools", "dialog_type", "guidance")
    optional = ("guidance",)
    outputs = ("conversation", "simulated")
    agents = ("user", "assistant", "tool")
    defaults = {"max_user_turns": 2, "max_steps": 4, "max_calls": 6}
    requests_per_record = 6.0

    def run(self, view: Record, session: Session) -> list[Record]:
        limits = Limits(int(self.params["max_user_turns"]), int(self.params["max_steps"]), int(self.params["max_calls"]))
        dialogue = run_dialogue(self, session, view, tools=view["tools"], limits=limits,
                                execute=simulated_tool(self, session, view, view["tools"]))
        made_calls = any(m["role"] == "tool_call" for m in dialogue)
        need(made_calls == (view["dialog_type"] != "no_tool"),
             f"a {view['dialog_type']} dialogue {'with' if made_calls else 'without'} calls")
        return [{"conversation": clean(dialogue), "simulated": made_calls}]


class ComplexityEvaluator(Step):
    """The target model answers the first user turn; the share of reference calls it reproduces is the score."""

    name = "complexity_evaluator"
    inputs = ("tools", "conversation")
    outputs = ("complexity",)

    def run(self, view: Record, session: Session) -> list[Record]:
        dialogue = view["conversation"]
        first_user = next(m["content"] for m in dialogue if m["role"] == "user")
        reference = next((m["content"] for m in dialogue if m["role"] == "tool_call"), [])
        messages = self.render(view, None, first_user=first_user)
        reply = session.chat(messages, tools=openai_tools(view["tools"]) or None)
        try:
            predicted = reply_calls(reply, {t["name"] for t in view["tools"]}, 20)
        except Exception:  # an unusable prediction is a wrong prediction, not a failed record
            predicted = []
        score = call_overlap(reference, predicted)
        level = "easy" if score >= 1.0 else "hard" if score == 0.0 else "fit"
        return [{"complexity": {"score": round(score, 3), "level": level, "predicted": len(predicted),
                                "reference": len(reference)}}]


def call_overlap(reference: list[dict], predicted: list[dict]) -> float:
    """Share of reference calls (name + arguments) found among the predicted ones; no calls vs none = 1."""
    if not reference:
        return 1.0 if not predicted else 0.0
    wanted = [canonical_json([c["name"], c.get("parameters") or {}]) for c in reference]
    got = [canonical_json([c["name"], c.get("parameters") or {}]) for c in predicted]
    hits = 0
    for call in wanted:
        if call in got:
            got.remove(call)
            hits += 1
    return hits / len(wanted)


class SelfGuidedComplication(Step):
    """For a sample too easy (or too hard) for the target model: guidance to make the request harder (easier)."""

    name = "self_guided_complication"
    inputs = ("tools", "conversation", "complexity", "dialog_type")
    outputs = ("guidance",)
    defaults = {"adjust": ["easy", "hard"]}
    answer_schema = _object(guidance=_TEXT)
    skippable = True
    fan_out = 1.0
    requests_per_record = 0.5

    def applies(self, view: Record) -> bool:
        return view["complexity"]["level"] in self.params["adjust"]

    def parse(self, answer: Any, view: Record) -> list[Record]:
        return [{"guidance": text_field(answer, "guidance", 1500)}]


class DialogRegeneration(DialogGeneration):
    """The agents again, the user following the complication guidance."""

    name = "dialog_regeneration"
    prompt = "dialog_generation"
    skippable = True
    requests_per_record = 3.0

    def applies(self, view: Record) -> bool:
        return bool(view.get("guidance"))


# ---------------------------------------------------------------------------------- DLV
class DlvRules(LocalStep):
    """Layer 1: the injected rule verifier on the drafted sample; any problem drops the record."""

    name = "dlv_rules"
    kind = "filter"
    inputs = ("tools", "conversation")
    outputs = ("rule_check",)

    def apply(self, view: Record) -> list[Record]:
        verify = self.context.verify
        if verify is None:
            return [{"rule_check": {"keep": True, "reason": "no rule verifier given"}}]
        reason = check_reason(verify(draft_sample(view)))
        return [{"rule_check": {"keep": reason is None, "reason": reason or "no problem"}}]


class DlvJudge(FilterStep):
    """Layer 2: an LLM judge; drops samples with hallucinated argument values or answers contradicting results."""

    name = "dlv_judge"
    inputs = ("tools", "conversation")
    outputs = ("judge_check",)
    answer_schema = _object(hallucinated={"type": "array", "items": {"type": "object"}},
                            consistent={"type": "boolean"}, reason=_TEXT)

    def variables(self, view: Record) -> dict[str, Any]:
        return {**view, "params": self.params, "transcript": transcript(view["conversation"])}

    def verdict(self, answer: Any, view: Record) -> tuple[bool, str]:
        need(isinstance(answer, dict) and isinstance(answer.get("consistent"), bool), "'consistent' must be a boolean")
        hallucinated = answer.get("hallucinated") or []
        need(isinstance(hallucinated, list), "'hallucinated' must be a list")
        if hallucinated:
            return False, "hallucinated: " + json.dumps(hallucinated, ensure_ascii=False)[:800]
        return bool(answer["consistent"]), str(answer.get("reason") or "")


def start(recipe: dict[str, Any], n: int | None, input_path: Path | None,
          context: Context) -> tuple[list[tuple[str, Record]], list[dict]]:
    """Domains from the recipe (``domains``), the input file (one domain per line), or the built-in list; n caps them."""
    if input_path is not None:
        domains = [line.strip() for line in Path(input_path).read_text("utf-8").splitlines() if line.strip()]
    else:
        domains = list(recipe.get("domains") or DOMAINS)
    domains = list(dict.fromkeys(d for d in domains if isinstance(d, str)))[: n if n is not None else None]
    return [(str(i), {"domain": d}) for i, d in enumerate(domains)], []


PIPELINE = Pipeline(
    name="toolace", version="1", start=start,
    description="ToolACE: API synthesis (speciation, adaptation, evolution), self-guided dialogs, dual-layer verification",
    steps=(ApiSpeciation, ApiAdaptation, ApiEvolution, ToolsetSampler, DialogGeneration, ComplexityEvaluator,
           SelfGuidedComplication, DialogRegeneration, DlvRules, DlvJudge),
)
