"""The offline generator: seeded task programs executed in fresh episodes → unified samples.

Sample ``k`` of a run depends only on (recipe, seed, k): its random stream is seeded with
``"{seed}/{k}"``, its episode is built from a seed derived the same way, and nothing machine-dependent
(clock, temp paths, process ids) reaches it. So a run can be split across processes, resumed, or
extended, and the same bytes come out. ``replay`` re-executes a sample's calls from its recorded
initial state (``meta.environment``) and reports any result that differs.
May import: ``opentoollab.tools``, ``opentoollab.format``, this package.
"""

from __future__ import annotations

import hashlib
import importlib
import random
from typing import Any, Iterator

from ...format.sample import CALL_ROLES, Sample, assign_call_ids, resolve_links
from ...tools.base import REGISTRY, get_toolkit
from ...tools.episode import Episode
from . import chains, chains_files, intents_files, intents_more, intents_services, journeys, programs  # noqa: F401  (modules register on import)
from .chains import CHAINS
from .dialogue import Dialogue, ProgramError
from .intents import INTENTS, World
from .recipe import Recipe

GENERATOR = "opentoollab-offline"
GENERATOR_VERSION = "1"
LICENSE = "Apache-2.0"
SIMPLE = {"single": programs.single, "multiple": programs.multiple, "parallel": programs.parallel,
          "multi_turn": programs.multi_turn, "miss_param": programs.miss_param, "miss_func": programs.miss_func,
          "no_tool": programs.no_tool}
CHEAP = ("math", "calendar", "notes", "tickets", "shop")  # toolkits without a file tree: distractor sources




def episode_config(toolkits: list[str], seed: int, files_sampled: int) -> dict[str, Any]:
    """The initial state of every toolkit of an episode, rebuilt from one seed (recorded in meta)."""
    config: dict[str, Any] = {}
    for name in toolkits:
        module = importlib.import_module(REGISTRY[name][0])
        if hasattr(module, "seed_config"):
            config[name] = module.seed_config(seed)
    if any(get_toolkit(name).uses_files for name in toolkits):
        config["files"] = {"seed": seed, "sample": files_sampled}
    return config


def _world(config: dict[str, Any]) -> World:
    files = []
    if "files" in config:
        from ...tools.seedtree import tree_manifest

        files = tree_manifest(config["files"])
    return World(config, files)


def _choose(rng: random.Random, weights: dict[str, float]) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _digest(*parts: Any) -> int:
    return int.from_bytes(hashlib.sha256("/".join(map(str, parts)).encode()).digest()[:4], "big")


def build_sample(recipe: Recipe, k: int, attempt: int = 0) -> Sample:
    """Sample ``k`` of a run (ProgramError when its draw cannot be realised; the caller redraws)."""
    rng = random.Random(f"{recipe.seed}/{k}/{attempt}")
    category = _choose(rng, recipe.categories)
    lang = _choose(rng, recipe.languages)
    allowed = list(recipe.toolkits)
    chained = [(name, kits, fn) for name, (kits, fn) in CHAINS.get(category, {}).items() if all(k in allowed for k in kits)]
    if category in SIMPLE and not (chained and rng.random() < 0.5):
        keys = [key for key, (kit, _fn) in INTENTS.items() if kit in allowed]
        if not keys:
            raise ProgramError("no intents for these toolkits")
        main = INTENTS[rng.choice(keys)][0]
        needed = [main]
        run = SIMPLE[category]
    else:
        options = chained
        if not options:
            raise ProgramError(f"no {category} program for these toolkits")
        _name, needed, function = options[rng.randrange(len(options))]
        needed = list(needed)
        run = function
    extra = [t for t in CHEAP if t in allowed and t not in needed]
    toolkits = needed + rng.sample(extra, min(len(extra), rng.randint(1, 2)))
    episode_seed = _digest(recipe.seed, k, attempt)
    config = episode_config(toolkits, episode_seed, recipe.files_sampled)
    world = _world(config)
    with Episode(toolkits, config) as episode:
        intent_keys = [key for key, (kit, _fn) in INTENTS.items() if kit in needed]
        distractors = [tool["name"] for tool in episode.tools()]
        plan = programs.Plan(intent_keys, distractors, recipe.distractors, recipe.turns)
        dialogue = Dialogue(episode)
        categories = run(dialogue, world, rng, lang, plan)
    meta = {
        "source": "generated", "subset": recipe.name, "source_id": k, "license": LICENSE, "language": lang,
        "categories": categories,
        "generator": {"name": GENERATOR, "version": GENERATOR_VERSION, "seed": recipe.seed,
                      "recipe_sha256": recipe.sha256()},
        "environment": {"toolkits": toolkits, "seed": episode_seed, "files_sampled": recipe.files_sampled},
    }
    return [{"role": "id", "content": f"generated_{recipe.name}_{k}"}, {"role": "meta", "content": meta}, *dialogue.messages]


MAX_ATTEMPTS = 20


def generate(recipe: Recipe, start: int = 0, stop: int | None = None) -> Iterator[tuple[int, Sample | None, list[str]]]:
    """Samples ``start``..``stop`` of a run: (k, sample or None, reasons of the draws that were redrawn)."""
    stop = recipe.n if stop is None else stop
    for k in range(start, stop):
        reasons: list[str] = []
        for attempt in range(MAX_ATTEMPTS):
            try:
                yield k, build_sample(recipe, k, attempt), reasons
                break
            except ProgramError as exc:
                reasons.append(str(exc))
            except Exception as exc:  # noqa: BLE001 - a program bug costs one draw (reported), never the run
                reasons.append(f"internal error: {type(exc).__name__}: {exc}")
        else:
            yield k, None, reasons


# ----------------------------------------------------------------------------------------- replay
def replay(sample: Sample) -> list[str]:
    """Re-execute every call from the recorded initial state; a list of differences (empty: identical)."""
    meta = next((m["content"] for m in sample if m["role"] == "meta"), {})
    environment = meta.get("environment")
    if not isinstance(environment, dict):
        return ["no meta.environment to rebuild the episode from"]
    toolkits = environment["toolkits"]
    config = episode_config(toolkits, environment["seed"], environment.get("files_sampled", 24))
    ids = assign_call_ids(sample)
    problems: list[str] = []
    results: dict[str, Any] = {}
    with Episode(toolkits, config) as episode:
        for index, message in enumerate(sample):
            if message["role"] not in CALL_ROLES or message["role"] == "tool_call_ground_truth":
                continue
            recorded = sample[index + 1]["content"] if index + 1 < len(sample) else {}
            for cid, call in zip(ids[index] or [], message["content"]):
                arguments = resolve_links(call["parameters"], {**results, **{d: recorded.get(d) for d in call.get("depend_on", []) if d in recorded and d not in results}})
                result = episode.call(call["name"], arguments)
                results[cid] = result
                if result != recorded.get(cid):
                    problems.append(f"{cid}: recorded {recorded.get(cid)!r:.120} but re-execution gave {result!r:.120}")
    return problems
