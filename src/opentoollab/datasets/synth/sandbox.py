"""``sandbox-agents``: LLM user and assistant agents acting on REAL environments (seed 000).

episode k → EpisodePlanner (seeded: toolkits, a category, the environment seed, a user persona, for
miss_func the held-out tool) → TaskGenerator (a scenario and the user's goals for that environment's actual
state) → AgentDialogue (the user agent talks, the assistant agent gets the episode's tools as
OpenAI ``tools``, and every call it makes is EXECUTED in ``opentoollab.tools.Episode`` — results
are never simulated; the held-out tool of miss_func appears with a new ``candidate_tools`` message
at the second user turn). Categories come from the recipe (``categories``: weights of base,
multi_turn, miss_param, miss_func, no_tool, long_context) through the user agent's prompt, and
are checked on the dialogue. ``meta.environment`` says how to rebuild the world and re-run every call.
May import: ``opentoollab.tools``, ``opentoollab.datasets.synth`` modules, ``opentoollab.format``, stdlib.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from ...format.sample import canonical_json
from ...llm.cache import content_key
from ...tools import Episode, ToolkitError, get_toolkit
from .agents import Limits, clean, run_dialogue
from .registry import Pipeline
from .step import Context, LocalStep, Record, Session, Step, StepFailure, need, text_field, text_list

CATEGORIES = {"base": 3, "multi_turn": 2, "miss_param": 1, "miss_func": 1, "no_tool": 1, "long_context": 1}
PREFERRED = (["math"], ["notes"], ["calendar"], ["shop"], ["tickets"], ["files"], ["sql"], ["tables"],
             ["notes", "calendar"], ["shop", "tickets"], ["files", "tables"])
STATE_CHARS = 4000
PERSONAS = ("a student", "a small-business owner", "a nurse on shifts", "a software engineer", "a retired teacher",
            "a project manager", "a parent organising a family", "a freelance designer", "a researcher",
            "a customer-support lead", "a sales representative", "a traveller")


def available_toolkits(sets: list[list[str]]) -> list[list[str]]:
    """The toolkit sets whose modules import (others are skipped, so new toolkits can land any time)."""
    out = []
    for kits in sets:
        try:
            for kit in kits:
                get_toolkit(kit)
        except (ToolkitError, ImportError):
            continue
        out.append(list(kits))
    return out


def declarations(toolkits: list[str]) -> list[dict[str, Any]]:
    return [tool for kit in toolkits for tool in get_toolkit(kit).tools()]


def environment_config(toolkits: list[str], env_seed: int) -> dict[str, Any]:
    """Each toolkit's initial state for a seed (its module's ``seed_config`` when it has one)."""
    config: dict[str, Any] = {}
    for kit in toolkits:
        cls = get_toolkit(kit)
        seeded = getattr(sys.modules.get(cls.__module__), "seed_config", None)
        config[cls.name] = seeded(env_seed) if callable(seeded) else cls.default_config()
        if cls.uses_files:
            config["files"] = {"seed": env_seed, "sample": 20}
    return config


class EpisodePlanner(LocalStep):
    """Episode k → toolkits, category, environment seed, held-out tool, user persona: drawn with the run's seed."""

    name = "episode_planner"
    inputs = ("episode",)
    outputs = ("toolkits", "category", "env_seed", "held_out", "persona")
    defaults = {"toolkits": None, "categories": None}

    def apply(self, view: Record) -> list[Record]:
        recipe = self.context.recipe
        sets = available_toolkits(self.params["toolkits"] or recipe.get("toolkits") or [list(s) for s in PREFERRED])
        need(bool(sets), "none of the recipe's toolkits is available")
        weights = self.params["categories"] or recipe.get("categories") or CATEGORIES
        unknown = set(weights) - set(CATEGORIES)
        need(not unknown, f"unknown categories {sorted(unknown)}; known: {list(CATEGORIES)}")
        rng = self.context.rng(self.name, view["episode"])
        kits = rng.choice(sets)
        names = [c for c in weights if weights[c] > 0]
        category = rng.choices(names, weights=[weights[c] for c in names])[0]
        held_out = None
        if category == "miss_func":
            tools = declarations(kits)
            need(len(tools) > 1, f"miss_func needs toolkits with more than one tool ({kits})")
            held_out = rng.choice(tools)["name"]
        return [{"toolkits": kits, "category": category, "env_seed": rng.randrange(1_000_000), "held_out": held_out,
                 "persona": rng.choice(PERSONAS)}]


class TaskGenerator(Step):
    """The environment's tools and actual state → a scenario and the user's goals for the category."""

    name = "task_generator"
    inputs = ("toolkits", "category", "env_seed", "held_out", "persona")
    outputs = ("task",)
    answer_schema = {"type": "object", "properties": {"scenario": {"type": "string"},
                                                      "goals": {"type": "array", "items": {"type": "string"}}},
                     "required": ["scenario", "goals"]}

    def variables(self, view: Record) -> dict[str, Any]:
        with Episode(view["toolkits"], environment_config(view["toolkits"], view["env_seed"])) as episode:
            state = {name: kit.snapshot() for name, kit in episode.toolkits.items()}
            tools = episode.tools()
        return {**view, "params": self.params, "tools": tools,
                "state": json.dumps(state, ensure_ascii=False, default=str)[:STATE_CHARS]}

    def parse(self, answer: Any, view: Record) -> list[Record]:
        return [{"task": {"scenario": text_field(answer, "scenario", 1500), "goals": text_list(answer, "goals", 5, 800)}}]


class AgentDialogue(Step):
    """User and assistant agents over a real Episode: the assistant's calls are executed, never simulated."""

    name = "agent_dialogue"
    inputs = ("toolkits", "category", "env_seed", "held_out", "task")
    outputs = ("tools", "conversation", "simulated", "environment", "categories")
    agents = ("user", "assistant")
    defaults = {"max_user_turns": 3, "max_steps": 6, "max_calls": 6, "long_context_chars": 4000}
    requests_per_record = 6.0

    def run(self, view: Record, session: Session) -> list[Record]:
        kits, category = view["toolkits"], view["category"]
        config = environment_config(kits, view["env_seed"])
        limits = Limits(int(self.params["max_user_turns"]), int(self.params["max_steps"]), int(self.params["max_calls"]))
        held_out = [view["held_out"]] if view["held_out"] else []
        with Episode(kits, config) as episode:
            tools = episode.tools()

            def execute(name: str, arguments: dict[str, Any], dialogue: list) -> Any:
                try:
                    return episode.call(name, arguments)
                except ToolkitError as error:
                    raise StepFailure("invalid", f"environment refused {name}: {error}") from None

            dialogue = run_dialogue(self, session, view, tools=tools, execute=execute, limits=limits,
                                    held_out=held_out, reveal_turn=1)
        problem = category_problem(category, dialogue, held_out, int(self.params["long_context_chars"]))
        need(problem is None, str(problem))
        environment = {"toolkits": kits, "seed": view["env_seed"],
                       "config_sha256": content_key("config", canonical_json(config))}
        return [{"tools": [t for t in tools if t["name"] not in held_out], "conversation": clean(dialogue),
                 "simulated": False, "environment": environment,
                 "categories": [] if category == "base" else [category]}]


def category_problem(category: str, dialogue: list[dict[str, Any]], held_out: list[str],
                     long_chars: int = 4000) -> str | None:
    """Does the dialogue show what its category promises? (cheap structural checks)"""
    roles = [m["role"] for m in dialogue]
    calls = [c for m in dialogue if m["role"] == "tool_call" for c in m["content"]]
    if category == "no_tool" and calls:
        return "no_tool dialogue with calls"
    if category != "no_tool" and not calls:
        return f"{category} dialogue without any call"
    if category == "multi_turn" and roles.count("user") < 2:
        return "multi_turn dialogue with one user turn"
    if category == "miss_param":
        first_user = roles.index("user")
        following = next((r for r in roles[first_user + 1:] if r in ("assistant", "tool_call")), None)
        if following != "assistant":
            return "miss_param: the assistant called a tool before asking for the missing detail"
    if category == "long_context":
        context = sum(len(m["content"]) if isinstance(m["content"], str) else len(json.dumps(m["content"]))
                      for m in dialogue if m["role"] in ("user", "tool_response"))
        if context < long_chars:
            return f"long_context dialogue with {context} characters of user text and results (< {long_chars})"
    if category == "miss_func":
        if "candidate_tools" not in roles:
            return "miss_func dialogue ended before the held-out tool was offered"
        reveal = roles.index("candidate_tools")
        if any(c["name"] in held_out for m in dialogue[:reveal] if m["role"] == "tool_call" for c in m["content"]):
            return "miss_func: the held-out tool was called before it was offered"
    return None


def start(recipe: dict[str, Any], n: int | None, input_path: Path | None,
          context: Context) -> tuple[list[tuple[str, Record]], list[dict]]:
    """``n`` episodes (default: the recipe's ``episodes``, else 10)."""
    if input_path is not None:
        raise ValueError("sandbox-agents takes no input file: the recipe's toolkits and categories drive it")
    count = n if n is not None else int(recipe.get("episodes", 10))
    return [(str(k), {"episode": k}) for k in range(count)], []


PIPELINE = Pipeline(
    name="sandbox-agents", version="1", start=start,
    description="LLM user and assistant agents over real tool environments (executed, never simulated)",
    steps=(EpisodePlanner, TaskGenerator, AgentDialogue),
)
