"""What a generation run asks for: how many samples, the category mix, toolkits, languages, lengths.

A recipe is YAML (``--recipe FILE``) or the defaults below; ``--n``/``--seed`` override. Every field
is checked with a one-line error naming it. The recipe's canonical JSON is hashed into each
sample's ``meta.generator.recipe_sha256``, so a sample says exactly what produced it.
May import: the standard library, pyyaml.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

CATEGORIES = ("single", "parallel", "multiple", "dependent", "multi_step", "multi_turn", "miss_param",
              "miss_func", "no_tool", "long_context", "error_recovery")
TOOLKITS = ("files", "sql", "tables", "math", "calendar", "notes", "tickets", "shop")
LANGUAGES = ("en", "zh")

DEFAULT_MIX = {"single": 10, "parallel": 10, "multiple": 10, "dependent": 12, "multi_step": 8, "multi_turn": 14,
               "miss_param": 8, "miss_func": 6, "no_tool": 6, "long_context": 6, "error_recovery": 10}


class RecipeError(ValueError):
    """A recipe field that cannot be used; the message names it."""


@dataclass(frozen=True)
class Recipe:
    name: str = "offline"
    n: int = 1000
    seed: int = 0
    categories: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_MIX))
    toolkits: tuple[str, ...] = TOOLKITS
    languages: dict[str, float] = field(default_factory=lambda: {"en": 0.6, "zh": 0.4})
    turns: tuple[int, int] = (2, 5)  # user turns of a multi_turn sample (inclusive)
    distractors: tuple[int, int] = (2, 4)  # extra tools offered beside the needed ones
    files_sampled: int = 24  # files of the seed tree copied into each episode (dynamic file sampling)

    def sha256(self) -> str:
        """Hash of what shapes the samples (``n`` excluded: sample k does not depend on how many follow)."""
        data = asdict(self)
        data.pop("n")
        return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()

    def with_overrides(self, *, n: int | None = None, seed: int | None = None, name: str | None = None) -> "Recipe":
        values = asdict(self)
        values.update({k: v for k, v in (("n", n), ("seed", seed), ("name", name)) if v is not None})
        return make_recipe(values)


def make_recipe(values: dict[str, Any]) -> Recipe:
    """A checked Recipe from a mapping (YAML or overrides)."""
    known = set(Recipe.__dataclass_fields__)
    unknown = sorted(set(values) - known)
    if unknown:
        raise RecipeError(f"unknown recipe field(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    out: dict[str, Any] = {}
    if "name" in values:
        name = values["name"]
        if (not isinstance(name, str) or not name or len(name) > 100 or name.startswith("-")
                or not all(c.isascii() and (c.isalnum() or c in "-_") for c in name)):
            raise RecipeError("recipe name: 1-100 ASCII letters, digits, '-' and '_' (not starting with '-')")
        out["name"] = name
    for key in ("n", "seed", "files_sampled"):
        if key in values:
            value = values[key]
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise RecipeError(f"recipe {key}: a non-negative integer, got {value!r}")
            out[key] = value
    if out.get("n", 1) > 10_000_000:
        raise RecipeError("recipe n: at most 10,000,000 samples per run")
    if out.get("seed", 0) >= 2 ** 63:
        raise RecipeError("recipe seed: below 2**63")
    if out.get("files_sampled", 0) > 10_000:
        raise RecipeError("recipe files_sampled: at most 10,000")
    if "categories" in values:
        out["categories"] = _weights(values["categories"], CATEGORIES, "categories")
    if "languages" in values:
        out["languages"] = _weights(values["languages"], LANGUAGES, "languages")
    if "toolkits" in values:
        kits = values["toolkits"]
        if (not isinstance(kits, (list, tuple)) or not kits
                or any(not isinstance(k, str) or k not in TOOLKITS for k in kits)):
            raise RecipeError(f"recipe toolkits: a non-empty list of {', '.join(TOOLKITS)}")
        out["toolkits"] = tuple(dict.fromkeys(kits))
    for key, low, high in (("turns", 2, 5), ("distractors", 0, 8)):
        if key in values:
            pair = values[key]
            if (not isinstance(pair, (list, tuple)) or len(pair) != 2
                    or not all(isinstance(v, int) and not isinstance(v, bool) for v in pair)
                    or not low <= pair[0] <= pair[1] <= high):
                raise RecipeError(f"recipe {key}: [min, max] with {low} ≤ min ≤ max ≤ {high}")
            out[key] = tuple(pair)
    return Recipe(**out)


def _weights(value: Any, allowed: tuple[str, ...], what: str) -> dict[str, float]:
    if isinstance(value, (list, tuple)):
        if not all(isinstance(k, str) for k in value):
            raise RecipeError(f"recipe {what}: a mapping name → weight, or a list of names")
        value = {k: 1 for k in value}
    if not isinstance(value, dict) or not value:
        raise RecipeError(f"recipe {what}: a mapping name → weight, or a list of names")
    bad = [k for k in value if k not in allowed]
    if bad:
        raise RecipeError(f"recipe {what}: unknown {', '.join(map(str, bad))}; known: {', '.join(allowed)}")
    weights = {}
    for key in allowed:  # a fixed order, whatever the file's order
        if key in value:
            weight = value[key]
            if (not isinstance(weight, (int, float)) or isinstance(weight, bool) or not 0 <= weight <= 1e9):
                raise RecipeError(f"recipe {what}.{key}: a number from 0 to 1e9")
            if weight:
                weights[key] = float(weight)
    if not weights:
        raise RecipeError(f"recipe {what}: every weight is zero")
    return weights


def load_recipe(path: str | Path) -> Recipe:
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text("utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise RecipeError(f"cannot read recipe {path}: {str(exc)[:300]}".replace("\n", " ")) from None
    if not isinstance(data, dict):
        raise RecipeError(f"recipe {path}: a YAML mapping of fields")
    return make_recipe(data)
