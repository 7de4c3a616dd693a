"""Per-sample categories and rule verification (``python tag run``), and tags as filters.

``tag_sample(sample) -> record`` is pure: it never changes the sample. A record is::

    {"id", "categories": [...], "from_meta": [...], "language", "counts": {turns, calls, waves,
     tools, tokens}, "valid": bool, "problems": [{"rule", "path", "message"}]}

Categories (structure of the sample unless listed in ``from_meta``):

- call shape, exactly one per sample with known answers, decided by the widest call wave:
  ``no_call`` (answers known, no call), ``single`` (one call, one tool in force), ``multiple``
  (one call per wave, several tools in force), ``parallel`` (several independent calls in one
  wave, one tool), ``parallel_multiple`` (several calls in one wave, several tools). When one
  function is called several times while several tools are offered, structure cannot tell
  ``parallel`` from ``parallel_multiple`` (BFCL files such samples under both); a meta hint
  (``meta.subset``/``meta.tags``) decides, else ``parallel_multiple``.
- ``dependent`` (any ``depend_on``), ``multi_step`` (several call waves after one user message),
  ``multi_turn`` (several user messages; or a ``multi_turn`` meta hint).
- special: ``irrelevance`` (tools given and an explicit empty ground truth, or meta), ``relevance``
  (meta only: BFCL's "any call is right", no answer given, so no shape), ``miss_func`` (a later
  ``candidate_tools`` adds tools, or meta), ``long_context`` (a message of at least
  ``LONG_MESSAGE_TOKENS`` approximate tokens, or meta), ``miss_param`` (meta only: an unanswered
  user turn looks the same whether a parameter was missing or the turn needed no call).

Verification rules (reason codes, each problem with a JSON path into the sample):
``schema`` (sample JSON Schema; other rules are skipped), ``tool_schema_invalid``,
``unknown_tool``, ``missing_required``, ``type_mismatch``, ``enum_mismatch``, ``value_invalid``
(other JSON Schema keywords such as ``minimum`` or ``pattern``), ``undeclared_param``,
``link_unresolved``, ``call_unanswered``, ``empty_turn``, ``duplicate_turn``, ``tool_enum_conflict``
(an ``enum`` none of whose values has the declared type, e.g. string values on an ``array``: values
are then checked without that enum), plus the foundation validator's semantic rules
(``depend_on_unknown``, ``link_not_in_depend_on``…). Ground-truth parameters are lists of
acceptable values: every candidate except ``""`` (omit) is checked, with the candidate index in the
path; a nested object may hold candidate lists per key (BFCL's convention), accepted when either
reading conforms. A value equal to the parameter's declared ``default`` conforms (BFCL's
``None`` for an optional parameter whose default is ``None``).

Filtering (used by the mixing spec)::

    from opentoollab.tagging import load_tags, matches
    tags = load_tags(store, "BFCL")              # {sample_id: record}; also "BFCL/subset" or a .jsonl path
    keep = [s for s in samples if matches(tags[sample_id(s)], include=["parallel", "multi_turn+dependent"],
                                          exclude=["invalid", "lang:zh"])]

``record_tags(record)`` is what ``matches`` sees: the categories, ``valid``/``invalid``,
``lang:<code>`` and ``problem:<rule>``. An include item ``a+b`` needs both tags.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import time
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from .sample import (
    CALL_ROLES,
    LinkError,
    Sample,
    assign_call_ids,
    canonical_json,
    dumps_sample,
    iter_links,
    meta as sample_meta,
    resolve_links,
    sample_id,
)
from .validate import validate_sample

TAGGER_VERSION = "1"

SHAPES = ("no_call", "single", "multiple", "parallel", "parallel_multiple")
FLOW = ("dependent", "multi_step", "multi_turn")
SPECIAL = ("irrelevance", "relevance", "miss_param", "miss_func", "long_context")
CATEGORIES = SHAPES + FLOW + SPECIAL

RULES = (
    "schema", "tool_schema_invalid", "unknown_tool", "missing_required", "type_mismatch", "enum_mismatch",
    "value_invalid", "undeclared_param", "link_unresolved", "call_unanswered", "empty_turn",
    "duplicate_turn", "tool_enum_conflict",
    "judge_hallucinated_value", "judge_inconsistent_response",  # only with the optional LLM judge
)
# Validator rules that one of RULES above already reports (so they are not listed twice).
_COVERED = {"unknown_tool": "unknown_tool", "response_missing": "call_unanswered"}

LONG_MESSAGE_TOKENS = 1000
_META_HINT_RE = re.compile(
    r"(?:^|_)(parallel_multiple|parallel|multi_turn|miss_param|miss_func|long_context|irrelevance|relevance)(?=_|$)")

Record = dict[str, Any]
_ASCII_RE = re.compile(r"[\x00-\x7f]+")


# ----------------------------------------------------------------------------- small helpers
def approx_tokens(text: str) -> int:
    """Rough token count without a tokenizer: ~4 ASCII characters per token, one per other character."""
    other = 0 if text.isascii() else len(_ASCII_RE.sub("", text))
    return math.ceil((len(text) - other) / 4 + other)


def _text(content: Any) -> str:
    return content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)


_SCRIPTS = (  # (language, first code point, last code point)
    ("ja", 0x3040, 0x30FF), ("ko", 0xAC00, 0xD7AF), ("zh", 0x4E00, 0x9FFF), ("zh", 0x3400, 0x4DBF),
    ("ru", 0x0400, 0x04FF), ("ar", 0x0600, 0x06FF), ("hi", 0x0900, 0x097F), ("th", 0x0E00, 0x0E7F),
    ("el", 0x0370, 0x03FF), ("he", 0x0590, 0x05FF),
)
_STOPWORDS = {
    "en": {"the", "and", "is", "of", "to", "in", "what", "for", "with", "can", "you", "me", "my", "please", "how", "a", "i", "it", "on", "this"},
    "es": {"el", "la", "de", "que", "y", "en", "los", "por", "para", "con", "una", "es", "del", "las", "cómo", "qué"},
    "fr": {"le", "la", "les", "de", "des", "et", "est", "pour", "une", "dans", "que", "je", "vous", "du", "avec", "pas"},
    "de": {"der", "die", "das", "und", "ist", "nicht", "ich", "mit", "für", "ein", "eine", "zu", "den", "wie", "bitte", "auf"},
    "pt": {"o", "os", "de", "que", "e", "em", "um", "uma", "para", "com", "não", "do", "da", "você", "por", "como"},
    "it": {"il", "di", "che", "e", "la", "per", "un", "una", "non", "sono", "con", "del", "come", "della", "mi", "puoi"},
}


def detect_language(text: str) -> str:
    """Language of the dialogue text: by script (zh, ja, ko, ru, ar…), for Latin script by function
    words (en, es, fr, de, pt, it); ``und`` when nothing decides."""
    counts: Counter = Counter()
    latin = 0
    for ch in text:
        code = ord(ch)
        if ch.isascii():
            latin += ch.isalpha()
            continue
        for language, low, high in _SCRIPTS:
            if low <= code <= high:
                counts[language] += 1
                break
        else:
            latin += ch.isalpha()
    if counts:
        language, n = counts.most_common(1)[0]
        if counts["ja"]:  # Japanese mixes kana with kanji
            language, n = "ja", counts["ja"] + counts["zh"]
        # one ideograph carries about as much as a short Latin word
        if n * 3 >= latin:
            return language
    words = re.findall(r"[^\W\d_]+", text.lower())
    if not words:
        return "und"
    scores = {language: sum(1 for w in words if w in stop) for language, stop in _STOPWORDS.items()}
    best = max(scores, key=scores.get)
    return best if scores[best] >= max(1, len(words) // 20) else "und"


def meta_hints(meta: dict[str, Any]) -> set[str]:
    """Category names a sample's meta states: ``meta.tags`` entries and names inside ``meta.subset``."""
    hints = {tag for tag in meta.get("tags") or [] if isinstance(tag, str) and tag in CATEGORIES}
    subset = meta.get("subset")
    if isinstance(subset, str):
        hints.update(_META_HINT_RE.findall(subset))
    return hints


def _waves(calls: list[dict], ids: list[str]) -> list[list[int]]:
    """Split one call list into waves: a call goes out once every call it depends on has been answered."""
    position = {cid: i for i, cid in enumerate(ids)}
    level: list[int] = []
    for index, call in enumerate(calls):
        deps = [position[d] for d in call.get("depend_on") or [] if d in position and position[d] < index]
        level.append(1 + max((level[d] for d in deps), default=-1))
    waves: dict[int, list[int]] = {}
    for index, lv in enumerate(level):
        waves.setdefault(lv, []).append(index)
    return [waves[k] for k in sorted(waves)]


# ----------------------------------------------------------------------------- schemas
@lru_cache(maxsize=65536)
def _schema_error(schema_text: str) -> tuple[str, str] | None:
    """(path, message) of the first meta-schema error of a tool's parameter schema, or None."""
    from jsonschema import Draft202012Validator, exceptions, validators

    import jsonschema_rs

    schema = json.loads(schema_text)
    try:  # fast path: jsonschema-rs checks against the declared draft's meta-schema and compiles patterns
        fast_ok = jsonschema_rs.meta.is_valid(schema) and bool(jsonschema_rs.validator_for(schema))
    except Exception:
        fast_ok = False
    if fast_ok and schema.get("type", "object") == "object":
        return None
    cls = validators.validator_for(schema, default=Draft202012Validator)
    try:
        cls.check_schema(schema)
    except exceptions.SchemaError as exc:
        return _path(exc.absolute_path), exc.message
    if schema.get("type", "object") != "object":
        return ".type", f"a tool's parameters must be an object schema, not {schema.get('type')!r}"
    return None


_PY_TYPES = {"string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,), "array": (list,),
             "object": (dict,), "null": (type(None),)}


def _has_type(value: Any, declared: Any) -> bool:
    names = declared if isinstance(declared, list) else [declared]
    for name in names:
        kinds = _PY_TYPES.get(name)
        if kinds is None:
            return True
        if isinstance(value, bool) and name not in ("boolean",):
            continue
        if isinstance(value, kinds) or (name == "integer" and isinstance(value, float) and value.is_integer()):
            return True
    return False


def enum_conflicts(schema: Any, path: str = "") -> Iterator[str]:
    """Paths (under a parameter schema) of ``enum`` lists none of whose values has the declared type."""
    if not isinstance(schema, dict):
        return
    enum, declared = schema.get("enum"), schema.get("type")
    if isinstance(enum, list) and enum and declared is not None and not any(_has_type(v, declared) for v in enum):
        yield path
    for name, sub in (schema.get("properties") or {}).items() if isinstance(schema.get("properties"), dict) else ():
        yield from enum_conflicts(sub, f"{path}.properties.{name}")
    if isinstance(schema.get("items"), dict):
        yield from enum_conflicts(schema["items"], f"{path}.items")


def _conflict_message(schema: dict, path: str) -> str:
    node = schema
    for step in path.split(".")[1:]:
        node = node[step]
    hint = " (an array's allowed items belong in items.enum)" if node.get("type") == "array" else ""
    return f"no value of enum {node['enum']!r} has the declared type {node.get('type')!r}{hint}"


def _drop_conflicts(schema: Any) -> Any:
    """A copy without the enums ``enum_conflicts`` reports (already flagged at the tool)."""
    if not isinstance(schema, dict):
        return schema
    out = dict(schema)
    if "" in set(enum_conflicts({k: v for k, v in schema.items() if k in ("enum", "type")})):
        out.pop("enum")
    if isinstance(out.get("properties"), dict):
        out["properties"] = {k: _drop_conflicts(v) for k, v in out["properties"].items()}
    if isinstance(out.get("items"), dict):
        out["items"] = _drop_conflicts(out["items"])
    return out


@lru_cache(maxsize=65536)
def _value_checker(schema_text: str) -> tuple[Callable[[Any], bool], dict]:
    """A fast yes/no check (jsonschema-rs) for a parameter schema, and the schema it checks."""
    import jsonschema_rs

    schema = _drop_conflicts(json.loads(schema_text))
    try:
        return jsonschema_rs.validator_for(schema).is_valid, schema
    except Exception:  # a schema jsonschema-rs refuses is reported by tool_schema_invalid
        return (lambda value: True), schema


def _value_problem(schema: dict, value: Any) -> tuple[str, str, str] | None:
    """(rule, sub-path, message) when ``value`` breaks its parameter schema, else None."""
    is_valid, checked = _value_checker(canonical_json(schema))
    if is_valid(value) or ("default" in schema and value == schema["default"]):
        return None
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    error = best_match(Draft202012Validator(checked).iter_errors(value))
    if error is None:
        return None
    rule = {"type": "type_mismatch", "enum": "enum_mismatch", "const": "enum_mismatch"}.get(error.validator, "value_invalid")
    return rule, _path(error.absolute_path), error.message


def _nested_candidates(schema: dict, value: Any) -> list[tuple[str, dict, Any]] | None:
    """BFCL ground truth writes an object's fields as candidate lists ({"k": [v1, v2]}), also inside
    arrays of objects. Returns (sub-path, field schema, candidate) for each, or None if not that shape."""

    def fields(obj: Any, object_schema: dict, prefix: str) -> list | None:
        if not isinstance(obj, dict) or not all(isinstance(v, list) for v in obj.values()):
            return None
        properties = object_schema.get("properties") if isinstance(object_schema.get("properties"), dict) else {}
        return [(f"{prefix}.{key}[{k}]", properties.get(key, {}), candidate)
                for key, candidates in obj.items() for k, candidate in enumerate(candidates) if candidate != ""]

    if schema.get("type") == "object":
        return fields(value, schema, "")
    items = schema.get("items")
    if schema.get("type") == "array" and isinstance(items, dict) and items.get("type") == "object" and isinstance(value, list):
        out = []
        for index, element in enumerate(value):
            found = fields(element, items, f"[{index}]")
            if found is None:
                return None
            out.extend(found)
        return out
    return None


def _truth_problems(schema: dict, value: Any, where: str) -> list[tuple[str, str, str]]:
    """Problems of one ground-truth candidate: plain reading first, then BFCL's nested candidate lists."""
    problem = _value_problem(schema, value)
    if problem is None:
        return []
    nested = _nested_candidates(schema, value)
    if nested is None:
        return [(problem[0], where + problem[1], problem[2])]
    out = []
    for sub_path, sub_schema, candidate in nested:
        out.extend(_truth_problems(sub_schema, candidate, where + sub_path))
    return out


def _path(parts: Iterable) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)


def _whole_link(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("<link>") and value.endswith("</link>") and value.count("<link>") == 1


# ----------------------------------------------------------------------------- the tagger
@dataclass
class _State:
    problems: list
    tools: dict[str, dict]

    def add(self, rule: str, path: str, message: str) -> None:
        self.problems.append({"rule": rule, "path": path, "message": message})


def tag_sample(sample: Any) -> Record:
    """Categories, language, counts and rule problems of one sample (the sample is not changed)."""
    identifier = sample_id(sample) if isinstance(sample, list) else None
    problems = [p for p in validate_sample(sample)] if isinstance(sample, list) else []
    if not isinstance(sample, list):
        return _record(identifier, [], [], "und", {}, [{"rule": "schema", "path": "$", "message": "a sample is a JSON array"}])
    schema_problems = [p for p in problems if p.rule == "schema"]
    if schema_problems:
        return _record(identifier, [], [], "und", {},
                       [{"rule": "schema", "path": p.path, "message": p.message} for p in schema_problems])
    state = _State([], {})
    for p in problems:
        if p.rule not in _COVERED:
            state.add(p.rule, p.path, p.message)
    categories, from_meta, language, counts = _structure(sample)
    _verify(sample, state)
    return _record(identifier, categories, from_meta, language, counts, state.problems)


def _record(identifier, categories, from_meta, language, counts, problems) -> Record:
    return {"id": identifier, "categories": categories, "from_meta": from_meta, "language": language,
            "counts": counts, "valid": not problems, "problems": problems}


def _structure(sample: Sample) -> tuple[list[str], list[str], str, dict[str, int]]:
    ids = assign_call_ids(sample)
    hints = meta_hints(sample_meta(sample))
    found: set[str] = set()
    turns = calls = waves_total = 0
    widest = 0  # most calls in one wave
    tools_at_widest = tools_at_single = 0
    tools_in_force: set[str] = set()
    all_tools: set[str] = set()
    waves_since_user = 0
    answer_known = False
    empty_truth = False
    long_message = False
    dialogue: list[str] = []
    tokens = 0
    for index, message in enumerate(sample):
        role, content = message["role"], message["content"]
        if role == "id":
            continue
        text = _text(content) if role != "meta" else ""
        size = approx_tokens(text)
        tokens += size
        if role == "candidate_tools":
            names = {tool["name"] for tool in content}
            if tools_in_force and names - tools_in_force:
                found.add("miss_func")
            tools_in_force = names
            all_tools |= names
        elif role == "user":
            turns += 1
            waves_since_user = 0
            dialogue.append(content)
        elif role in ("system", "assistant"):
            dialogue.append(content)
            answer_known = answer_known or role == "assistant"
        if role in ("user", "system", "assistant", "tool_response") and size >= LONG_MESSAGE_TOKENS:
            long_message = True
        if role in CALL_ROLES:
            answer_known = True
            if not content:
                empty_truth = role == "tool_call_ground_truth"
                continue
            calls += len(content)
            if any(call.get("depend_on") for call in content):
                found.add("dependent")
            waves = _waves(content, ids[index] or [])
            waves_total += len(waves)
            waves_since_user += len(waves)
            if waves_since_user >= 2:
                found.add("multi_step")
            for wave in waves:
                if len(wave) > widest:
                    widest, tools_at_widest = len(wave), len(tools_in_force)
                if len(wave) == 1:
                    tools_at_single = max(tools_at_single, len(tools_in_force))
    from_meta: list[str] = []

    def from_hint(name: str) -> None:
        if name in hints and name not in found:
            found.add(name)
            from_meta.append(name)

    if turns >= 2:
        found.add("multi_turn")
    if long_message:
        found.add("long_context")
    if empty_truth and all_tools:
        found.add("irrelevance")
    for name in ("multi_turn", "irrelevance", "relevance", "miss_param", "miss_func", "long_context"):
        from_hint(name)
    if "relevance" not in found:
        shape = _shape(widest, tools_at_widest, tools_at_single, answer_known, hints)
        if shape:
            found.add(shape)
            if shape == "parallel" and tools_at_widest > 1:
                from_meta.append(shape)
    categories = [name for name in CATEGORIES if name in found]
    counts = {"turns": turns, "calls": calls, "waves": waves_total, "tools": len(all_tools), "tokens": tokens}
    return categories, sorted(from_meta, key=CATEGORIES.index), detect_language("\n".join(dialogue)), counts


def _shape(widest: int, tools_at_widest: int, tools_at_single: int, answer_known: bool, hints: set[str]) -> str | None:
    if widest == 0:
        return "no_call" if answer_known else None
    if widest == 1:
        return "multiple" if tools_at_single > 1 else "single"
    if tools_at_widest <= 1:
        return "parallel"
    # several tools offered: parallel_multiple, unless the sample's own label says plain parallel
    return "parallel" if "parallel" in hints and "parallel_multiple" not in hints else "parallel_multiple"


def _verify(sample: Sample, state: _State) -> None:
    ids = assign_call_ids(sample)
    tools: dict[str, dict] = {}
    results: dict[str, Any] = {}
    previous = None
    for index, message in enumerate(sample):
        role, content = message["role"], message["content"]
        here = f"$[{index}]"
        if role == "candidate_tools":
            tools = {}
            for position, tool in enumerate(content):
                tools[tool["name"]] = tool
                tool_path = f"{here}.content[{position}].parameters"
                error = _schema_error(canonical_json(tool["parameters"]))
                if error:
                    state.add("tool_schema_invalid", tool_path + error[0], f"{tool['name']!r}: {error[1]}")
                for sub in enum_conflicts(tool["parameters"]):
                    state.add("tool_enum_conflict", f"{tool_path}{sub}.enum", f"{tool['name']!r}: {_conflict_message(tool['parameters'], sub)}")
        elif role in ("system", "user", "assistant") and not content.strip():
            state.add("empty_turn", f"{here}.content", f"empty {role} message")
        elif role in CALL_ROLES:
            answer = sample[index + 1]["content"] if index + 1 < len(sample) and sample[index + 1]["role"] == "tool_response" else None
            _check_calls(message, ids[index] or [], here, tools, results, answer, state)
        elif role == "tool_response":
            results.update(content)
        if previous is not None and previous["role"] not in ("id", "meta") and _same(previous, message):
            state.add("duplicate_turn", here, f"the same {role} message twice in a row")
        previous = message


def _same(a: dict, b: dict) -> bool:
    return a["role"] == b["role"] and canonical_json(a) == canonical_json(b)


def _check_calls(message: dict, ids: list[str], here: str, tools: dict[str, dict], results: dict[str, Any],
                 answer: dict | None, state: _State) -> None:
    truth = message["role"] == "tool_call_ground_truth"
    if not truth:
        if answer is None:
            state.add("call_unanswered", here, "tool_call without a tool_response after it")
        else:
            missing = [cid for cid in ids if cid not in answer]
            if missing:
                state.add("call_unanswered", f"{here}.content", f"no result for {missing}")
    for position, call in enumerate(message["content"]):
        call_path = f"{here}.content[{position}]"
        tool = tools.get(call["name"])
        if tool is None:
            state.add("unknown_tool", f"{call_path}.name", f"{call['name']!r} is not among the candidate tools in force")
            continue
        available = dict(results)
        if answer is not None:
            available.update({d: answer[d] for d in call.get("depend_on") or [] if d in answer})
        _check_parameters(call, tool["parameters"], f"{call_path}.parameters", truth, available, state)


def _check_parameters(call: dict, schema: dict, path: str, truth: bool, results: dict[str, Any], state: _State) -> None:
    properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    parameters = call["parameters"]
    for name in schema.get("required") or []:
        if name not in parameters:
            state.add("missing_required", path, f"required parameter {name!r} of {call['name']!r} is missing")
    closed = bool(properties) and schema.get("additionalProperties") in (None, False)
    for name, value in parameters.items():
        value_path = f"{path}.{name}"
        if name not in properties:
            if closed:
                state.add("undeclared_param", value_path, f"{call['name']!r} declares no parameter {name!r}")
            continue
        if truth:
            candidates = [(f"{value_path}[{k}]", v) for k, v in enumerate(value) if v != ""]
        else:
            candidates = [(value_path, value)]
        for where, candidate in candidates:
            if not truth and any(True for _ in iter_links(candidate)):
                try:
                    candidate = resolve_links(candidate, results)
                except LinkError as exc:
                    state.add("link_unresolved", where, str(exc))
                    continue
            elif _whole_link(candidate):
                continue  # a ground-truth link stands for a result not known here
            if truth:
                found = _truth_problems(properties[name], candidate, where)
            else:
                problem = _value_problem(properties[name], candidate)
                found = [(problem[0], where + problem[1], problem[2])] if problem else []
            for rule, path_, message in found:
                state.add(rule, path_, message)


# ----------------------------------------------------------------------------- records as filters
def record_tags(record: Record) -> set[str]:
    """The tags ``matches`` tests: categories, valid/invalid, lang:<code>, problem:<rule>."""
    tags = set(record.get("categories") or [])
    tags.add("valid" if record.get("valid") else "invalid")
    tags.add(f"lang:{record.get('language', 'und')}")
    tags.update(f"problem:{p['rule']}" for p in record.get("problems") or [])
    return tags


def matches(record: Record | None, include: Iterable[str] = (), exclude: Iterable[str] = ()) -> bool:
    """True when the record has any include item (``a+b``: all of a and b; no items: everything)
    and none of the exclude items. A missing record (untagged sample) matches only an empty include."""
    include, exclude = list(include), list(exclude)
    if record is None:
        return not include
    tags = record_tags(record)
    if include and not any(all(part in tags for part in item.split("+")) for item in include):
        return False
    return not any(all(part in tags for part in item.split("+")) for item in exclude)


# ----------------------------------------------------------------------------- files on disk
def tags_dir(store, name: str) -> Path:
    """DATA_DIR/tags/<NAME>: one <subset>.jsonl of records per subset, and manifest.json."""
    return Path(store.root) / "tags" / name


def tags_path_for(path: Path, store=None) -> Path:
    """Where the tags of one input file live: beside a processed subset under DATA_DIR/tags/<NAME>/,
    else beside the file itself as <stem>.tags.jsonl."""
    if store is not None:
        processed = Path(store.root) / "processed"
        try:
            relative = path.resolve().relative_to(processed.resolve())
            if len(relative.parts) == 2:
                return tags_dir(store, relative.parts[0]) / relative.name
        except ValueError:
            pass
    return path.with_name(f"{path.stem}.tags.jsonl")


def tag_file(path: Path, progress: Callable[[int], None] | None = None,
             judge: Callable[[Sample], dict] | None = None) -> Iterator[tuple[int, str, Record]]:
    """(line number, raw line, record) for every sample line of a JSONL file; bad lines give a record too."""
    from .jsonl import iter_lines

    for line in iter_lines(path):
        if line.error:
            record = _record(None, [], [], "und", {}, [{"rule": "json", "path": "$", "message": line.error}])
        else:
            record = tag_sample(line.value)
            if judge is not None and record["valid"]:
                record = _with_judge(record, line.value, judge)
        record = {"id": record["id"], "line": line.number, **{k: v for k, v in record.items() if k != "id"}}
        if progress:
            progress(1)
        yield line.number, line.text if line.error else dumps_sample(line.value), record


def _with_judge(record: Record, sample: Sample, judge: Callable[[Sample], dict]) -> Record:
    verdict = judge(sample)
    problems = [*record["problems"], *(verdict.get("problems") or [])]
    return dict(record, problems=problems, valid=not problems,
                judge={k: v for k, v in verdict.items() if k != "problems"})


class Tally:
    """Running counts over records (constant memory): samples, valid, categories, rules, languages, tokens."""

    def __init__(self) -> None:
        self.samples = self.valid = self.tokens = 0
        self.categories: Counter = Counter()
        self.rules: Counter = Counter()
        self.languages: Counter = Counter()

    def add(self, record: Record) -> None:
        self.samples += 1
        self.valid += bool(record["valid"])
        self.categories.update(record["categories"])
        self.rules.update({p["rule"] for p in record["problems"]})
        self.languages[record["language"]] += 1
        self.tokens += (record.get("counts") or {}).get("tokens", 0)

    def result(self) -> dict[str, Any]:
        return {"samples": self.samples, "valid": self.valid, "invalid": self.samples - self.valid,
                "categories": {c: self.categories[c] for c in CATEGORIES if self.categories[c]},
                "problems": dict(self.rules.most_common()), "languages": dict(self.languages.most_common()),
                "tokens": self.tokens}


def summarize(records: Iterable[Record]) -> dict[str, Any]:
    """Counts over records: samples, valid, invalid, samples per category / rule / language, tokens."""
    tally = Tally()
    for record in records:
        tally.add(record)
    return tally.result()


def load_tag_file(path: str | os.PathLike) -> dict[str, Record]:
    """{sample id: record} of one tags file (records without an id are left out)."""
    from .jsonl import iter_lines

    out = {}
    for line in iter_lines(path):
        if line.error is None and isinstance(line.value, dict) and line.value.get("id"):
            out[line.value["id"]] = line.value
    return out


def load_tags(store, name: str) -> dict[str, Record]:
    """{sample id: record} for a tagged corpus (``NAME`` or ``NAME/subset``) or a tagged .jsonl file.

    Raises FileNotFoundError with a hint when the tags were never written.
    """
    path = Path(name)
    if path.suffix == ".jsonl" and path.is_file():
        files = [tags_path_for(path, store)]
    else:
        corpus, _, subset = name.partition("/")
        folder = _find_tags_dir(store, corpus)
        files = [folder / f"{subset}.jsonl"] if subset else sorted(folder.glob("*.jsonl"))
    files = [f for f in files if f.is_file()]
    if not files:
        raise FileNotFoundError(f"no tags for {name!r}: run `python tag run --datasets {name}` first")
    out: dict[str, Record] = {}
    for file in files:
        out.update(load_tag_file(file))
    return out


def _find_tags_dir(store, corpus: str) -> Path:
    base = Path(store.root) / "tags"
    if base.is_dir():
        for folder in base.iterdir():
            if folder.is_dir() and folder.name.lower() == corpus.lower():
                return folder
    return base / corpus


def file_digest(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


# ----------------------------------------------------------------------------- writing tags
@dataclass
class Unit:
    """One input file and where its tags (and, with --drop-invalid, its filtered copy) go."""

    key: str  # subset name or file stem
    source: Path
    tags: Path
    folder: Path  # holds manifest.json (and valid/ for the filtered copy)
    manifest_name: str


def plan_units(files: list[Path], store, out: str | os.PathLike | None = None) -> list[Unit]:
    """Where each input's tags go: DATA_DIR/tags/<NAME>/<subset>.jsonl for processed corpora,
    <stem>.tags.jsonl beside any other file, or everything under ``out``."""
    units = []
    for path in files:
        if out is not None:
            folder = Path(out)
            units.append(Unit(path.stem, path, folder / f"{path.stem}.jsonl", folder, "manifest.json"))
            continue
        tags = tags_path_for(path, store)
        if tags.name == path.name:  # a processed subset
            units.append(Unit(path.stem, path, tags, tags.parent, "manifest.json"))
        else:
            units.append(Unit(path.stem, path, tags, path.parent, f"{path.stem}.tags.manifest.json"))
    return units


def write_tags(units: list[Unit], *, drop_invalid: bool = False, ignore: Iterable[str] = (),
               judge: Callable[[Sample], dict] | None = None, judge_info: dict | None = None,
               progress: Callable[[int], None] | None = None) -> dict[Path, dict]:
    """Tag every unit, write records (and filtered copies) atomically; returns {manifest path: manifest}."""
    from .jsonl import atomic_writer, write_json

    ignore = set(ignore)
    started = time.perf_counter()
    manifests: dict[Path, dict] = {}
    for unit in units:
        manifest_path = unit.folder / unit.manifest_name
        manifest = manifests.get(manifest_path) or _read_manifest(manifest_path)
        manifests[manifest_path] = manifest
        tally = Tally()
        kept = 0
        dropped: list[dict] = []
        with contextlib.ExitStack() as stack:
            handle = stack.enter_context(atomic_writer(unit.tags))
            valid = stack.enter_context(atomic_writer(unit.folder / "valid" / f"{unit.key}.jsonl")) if drop_invalid else None
            for number, text, record in tag_file(unit.source, progress, judge):
                handle.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
                tally.add(record)
                if valid is None:
                    continue
                blocking = [p for p in record["problems"] if p["rule"] not in ignore]
                if blocking:
                    dropped.append({"id": record["id"], "file": str(unit.source), "line": number,
                                    "rules": sorted({p["rule"] for p in blocking}), "problems": blocking})
                else:
                    valid.write(text + "\n")  # the sample's own line, unchanged
                    kept += 1
        entry = {"file": str(unit.source), "sha256": file_digest(unit.source), "tags": str(unit.tags), **tally.result()}
        if drop_invalid:
            entry["filtered"] = _record_filtered(unit, kept, dropped, ignore)
        manifest["subsets"][unit.key] = entry
    for manifest_path, manifest in manifests.items():
        manifest.update(tagger_version=TAGGER_VERSION, rules=list(RULES), written_at=now(),
                        seconds=round(time.perf_counter() - started, 3), judge=judge_info,
                        totals=_totals(manifest["subsets"].values()))
        write_json(manifest_path, manifest)
    return manifests


def _read_manifest(path: Path) -> dict:
    try:
        manifest = json.loads(path.read_text("utf-8"))
        if isinstance(manifest.get("subsets"), dict):
            return manifest
    except (OSError, ValueError):
        pass
    return {"subsets": {}}


def _record_filtered(unit: Unit, kept: int, dropped: list[dict], ignore: set[str]) -> dict:
    """Write what was dropped and why beside the filtered copy, and the filtered copy's manifest."""
    from .jsonl import write_json, write_jsonl

    folder = unit.folder / "valid"
    target = folder / f"{unit.key}.jsonl"
    write_jsonl(folder / f"{unit.key}.dropped.jsonl", dropped)
    by_rule = Counter(rule for row in dropped for rule in row["rules"])
    summary = {"in": kept + len(dropped), "kept": kept, "dropped": len(dropped),
               "dropped_by_rule": dict(by_rule.most_common()), "ignored_rules": sorted(ignore),
               "path": str(target), "dropped_list": str(folder / f"{unit.key}.dropped.jsonl")}
    manifest_path = folder / "manifest.json"
    manifest = _read_manifest(manifest_path)
    manifest["subsets"][unit.key] = summary
    manifest["totals"] = {k: sum(row[k] for row in manifest["subsets"].values()) for k in ("in", "kept", "dropped")}
    manifest["written_at"] = now()
    write_json(manifest_path, manifest)
    return summary


def _totals(entries: Iterable[dict]) -> dict[str, Any]:
    totals: dict[str, Any] = {"samples": 0, "valid": 0, "invalid": 0, "tokens": 0}
    counters: dict[str, Counter] = {"categories": Counter(), "problems": Counter(), "languages": Counter()}
    for entry in entries:
        for key in totals:
            totals[key] += entry.get(key, 0)
        for key, counter in counters.items():
            counter.update(entry.get(key) or {})
    totals["categories"] = {c: counters["categories"][c] for c in CATEGORIES if counters["categories"][c]}
    totals["problems"] = dict(counters["problems"].most_common())
    totals["languages"] = dict(counters["languages"].most_common())
    return totals
