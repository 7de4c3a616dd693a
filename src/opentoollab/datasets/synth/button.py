"""``button``: DataFlow's FuncCallPipeline after the BUTTON paper (seed 004), step for step.

chat → ScenarioExtractor → scenario → ScenarioExpander (optional) → scenarios → AtomTaskGenerator →
atom tasks (each assigned a composition type) → SequentialTaskGenerator / ParaSeqTaskGenerator →
composition task + sub-tasks → CompositionTaskFilter → FunctionGenerator → functions →
MultiTurnConversationGenerator (user, assistant and tool agents; results simulated by the tool
agent, so samples say ``simulated: true``).
May import: ``opentoollab.datasets.synth`` modules, ``opentoollab.format``, the standard library.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .agents import Limits, clean, normalize_tool, run_dialogue, simulated_tool, tools_problem
from .inputs import DEFAULT_MAX_CHARS, read_inputs
from .registry import Pipeline
from .step import Context, FilterStep, Record, Session, Step, need, text_field, text_list

COMPOSITIONS = ("sequential", "parallel_sequential")
_TEXT = {"type": "string"}


def _object(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(properties)}


class ScenarioExtractor(Step):
    """A dialogue → a short description of the real-world scenario it happens in."""

    name = "scenario_extractor"
    inputs = ("chat",)
    outputs = ("scenario",)
    answer_schema = _object(scenario=_TEXT)

    def parse(self, answer: Any, view: Record) -> list[Record]:
        return [{"scenario": text_field(answer, "scenario", 1500)}]


class ScenarioExpander(Step):
    """A scenario → itself plus ``expansions`` new, different scenarios of the same kind."""

    name = "scenario_expander"
    inputs = ("scenario",)
    outputs = ("scenario", "scenario_origin")
    defaults = {"expansions": 1}
    answer_schema = _object(scenarios={"type": "array", "items": _TEXT})
    skippable = True
    fan_out = 2.0

    def parse(self, answer: Any, view: Record) -> list[Record]:
        new = [s for s in text_list(answer, "scenarios", int(self.params["expansions"]), 1500) if s != view["scenario"]]
        return [{"scenario": view["scenario"], "scenario_origin": "extracted"}] + \
            [{"scenario": s, "scenario_origin": "expanded"} for s in new]


class AtomTaskGenerator(Step):
    """A scenario → ``tasks`` atomic tasks (one function call each), each given a composition type in turn."""

    name = "atom_task_generator"
    inputs = ("scenario",)
    outputs = ("atom_task", "composition_type")
    defaults = {"tasks": 2, "compositions": list(COMPOSITIONS)}
    answer_schema = _object(tasks={"type": "array", "items": _TEXT})
    fan_out = 2.0

    def parse(self, answer: Any, view: Record) -> list[Record]:
        kinds = [k for k in self.params["compositions"] if k in COMPOSITIONS]
        need(bool(kinds), f"compositions must name some of {COMPOSITIONS}")
        tasks = text_list(answer, "tasks", int(self.params["tasks"]), 600)
        return [{"atom_task": task, "composition_type": kinds[i % len(kinds)]} for i, task in enumerate(tasks)]


class SequentialTaskGenerator(Step):
    """An atomic task → a subsequent task that needs its result, and their composition."""

    name = "sequential_task_generator"
    inputs = ("scenario", "atom_task", "composition_type")
    outputs = ("sub_tasks", "composition_task")
    answer_schema = _object(subsequent_task=_TEXT, composition_task=_TEXT)

    def applies(self, view: Record) -> bool:
        return view["composition_type"] == "sequential"

    def parse(self, answer: Any, view: Record) -> list[Record]:
        later = text_field(answer, "subsequent_task", 600)
        return [{"sub_tasks": [view["atom_task"], later], "composition_task": text_field(answer, "composition_task", 1500)}]


class ParaSeqTaskGenerator(Step):
    """An atomic task → a parallel task and a subsequent task needing both results, and their composition."""

    name = "para_seq_task_generator"
    inputs = ("scenario", "atom_task", "composition_type")
    outputs = ("sub_tasks", "composition_task")
    answer_schema = _object(parallel_task=_TEXT, subsequent_task=_TEXT, composition_task=_TEXT)

    def applies(self, view: Record) -> bool:
        return view["composition_type"] == "parallel_sequential"

    def parse(self, answer: Any, view: Record) -> list[Record]:
        parallel, later = text_field(answer, "parallel_task", 600), text_field(answer, "subsequent_task", 600)
        return [{"sub_tasks": [view["atom_task"], parallel, later],
                 "composition_task": text_field(answer, "composition_task", 1500)}]


class CompositionTaskFilter(FilterStep):
    """Keeps a composition task only if it is complete: solvable by its sub-tasks, each needed, coherent."""

    name = "composition_task_filter"
    inputs = ("composition_task", "sub_tasks", "composition_type")
    outputs = ("composition_check",)
    answer_schema = _object(valid={"type": "boolean"}, reason=_TEXT)

    def verdict(self, answer: Any, view: Record) -> tuple[bool, str]:
        need(isinstance(answer, dict) and isinstance(answer.get("valid"), bool), "'valid' must be true or false")
        return answer["valid"], str(answer.get("reason") or "")


class FunctionGenerator(Step):
    """A composition task and its sub-tasks → the functions (JSON-Schema declarations) that solve them."""

    name = "function_generator"
    inputs = ("composition_task", "sub_tasks")
    outputs = ("tools",)
    defaults = {"max_functions": 6}
    answer_schema = _object(functions={"type": "array", "items": {"type": "object"}})

    def parse(self, answer: Any, view: Record) -> list[Record]:
        need(isinstance(answer, dict) and isinstance(answer.get("functions"), list), "'functions' must be a list")
        problem = tools_problem(answer["functions"], int(self.params["max_functions"]))
        need(problem is None, str(problem))
        return [{"tools": [normalize_tool(t) for t in answer["functions"]]}]

    def validate(self, output: Record, view: Record) -> str | None:
        return tools_problem(output["tools"], int(self.params["max_functions"]))


class MultiTurnConversationGenerator(Step):
    """User, assistant and tool agents act out the composition task with the generated functions."""

    name = "multi_turn_conversation_generator"
    inputs = ("composition_task", "sub_tasks", "tools")
    outputs = ("conversation", "simulated")
    agents = ("user", "assistant", "tool")
    defaults = {"max_user_turns": 2, "max_steps": 5, "max_calls": 6}
    requests_per_record = 6.0

    def run(self, view: Record, session: Session) -> list[Record]:
        tools = view["tools"]
        limits = Limits(int(self.params["max_user_turns"]), int(self.params["max_steps"]), int(self.params["max_calls"]))
        dialogue = run_dialogue(self, session, view, tools=tools, limits=limits,
                                execute=simulated_tool(self, session, view, tools))
        need(any(m["role"] == "tool_call" for m in dialogue), "the dialogue made no function call")
        return [{"conversation": clean(dialogue), "simulated": True}]


def start(recipe: dict[str, Any], n: int | None, input_path: Path | None,
          context: Context) -> tuple[list[tuple[str, Record]], list[dict]]:
    """The input file's records as ``{"chat": text}``."""
    if input_path is None:
        raise ValueError("the button pipeline reads chat data: give an input file (JSONL or JSON)")
    return read_inputs(input_path, n=n, field=recipe.get("input_field"),
                       max_chars=int(recipe.get("input_max_chars", DEFAULT_MAX_CHARS)))


PIPELINE = Pipeline(
    name="button", version="1", needs_input=True, start=start,
    description="DataFlow/BUTTON: scenarios from chats → atomic and composed tasks → functions → multi-agent dialogues",
    steps=(ScenarioExtractor, ScenarioExpander, AtomTaskGenerator, SequentialTaskGenerator, ParaSeqTaskGenerator,
           CompositionTaskFilter, FunctionGenerator, MultiTurnConversationGenerator),
)
