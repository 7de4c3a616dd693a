"""ACEBench's agent categories for `benchmark run`, as ACEBench's own inference (``APIModelInference``) runs them.

* **agent_multi_turn**: the simulated user (``--user-model``) gets ACEBench's user prompt (``SYSTEM_PROMPT_BASE_*``
  when ``BaseApi`` is involved, else ``SYSTEM_PROMPT_TRAVEL_*``, with the item's instruction) and ACEBench's
  greeting; its first reply opens the dialogue. Each step goes to the last message's recipient: the user (its
  own replies kept as ``system`` messages, the agent's as ``user``, as ACEBench does), the agent (ACEBench's
  system prompt + the domain prompts, and one user message holding the API list and the dialogue so far as
  ``user:/agent:/execution:`` lines), or the execution; an agent reply that holds ``[…]`` and decodes as
  calls goes to the execution, any other to the user.
* **agent_multi_step**: no user; the item's question opens the dialogue and the agent and the execution
  alternate (a reply that does not decode gets ACEBench's "do not ask me any questions" text back).
* Both: at most ``max_dialog_turns`` steps (ACEBench's 40), ending early when a message after the second step
  holds ``finish conversation``; calls run in ACEBench's scenario classes (``tools.acebench_runtime``).

Every text (prompts, greeting, stop phrase, state attributes ``SAVED_CLASS``, class → module map, step limit)
is read with ``ast`` from the pinned, checksum-verified files of the download — nothing of ACEBench's inference
code is imported. The model is asked through the run's ``ask`` with no ``tools`` (ACEBench puts the API list
in the prompt and reads ``[ApiName(key=value)]`` text); calls a server returns anyway are written as that text.

The prediction line is ACEBench's result record, ``{"id", "source_id", "result": end state, "process": the agent
texts sent to execution, "steps", "dialogue"}``, scored by ``benchmark.scoring.acebench``.
"""

from __future__ import annotations

import ast
import json
import re
import threading
from typing import Any, Callable

from ...datasets.sources.literals import literal_constants
from ...tools.acebench_runtime import AceRuntime, AceWorld, parsed_results
from ...tools.bfcl_runtime import RuntimeUnavailable
from ..scoring.acebench import call_text, own
from ..scoring.acebench_rules import DecodeFailure, _arithmetic, _dotted
from ..scoring.items import Item

Ask = Callable[[list[dict], list[dict], str], tuple[dict[str, Any], "list[dict] | None"]]
FILES = {"turn": "model_inference/multi_turn/APIModel_agent.py", "step": "model_inference/multi_step/APIModel_agent.py",
         "user": "model_inference/multi_turn/APIModel_user.py", "inference": "model_inference/apimodel_inference.py",
         "execution_step": "model_inference/multi_step/execution_role_step.py",
         "utils_turn": "model_inference/multi_turn/multi_turn_utils.py",
         "utils_step": "model_inference/multi_step/multi_step_utils.py", "prompt": "model_inference/prompt_{language}.py"}
DATA = "data_all/data_{language}/data_agent_multi_{mode}.json"
CALL_NAME = re.compile(r"\b([a-zA-Z_]\w*)\s*(?=\()")  # ACEBench's _process_method_calls
IDENTIFIER = re.compile(r"^[A-Za-z_]\w*$")


class LoopError(Exception):
    """An item the loop cannot run (one line, listed in run.json)."""


# ---------------------------------------------------------------------------------- decoding
def decode_calls(text: str) -> list[tuple[str, dict[str, Any] | None, str | None]]:
    """ACEBench's ``decode_function_list`` + ``_process_method_calls`` without ``eval``: per call, the method name
    ACEBench dispatches on, its keyword arguments, and the error evaluating its call text would raise instead.
    DecodeFailure where ACEBench's decoding raises (or finds an element that is not a call)."""
    if not text:
        raise DecodeFailure("empty reply")
    func = text[1:] if text[0] == " " else text
    func = ("" if func.startswith("[") else "[") + func + ("" if func.endswith("]") else "]")
    try:
        body = ast.parse(func.strip("[]'"), mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise DecodeFailure(str(exc)) from None
    elements = [body] if isinstance(body, ast.Call) else list(body.elts) if isinstance(body, (ast.Tuple, ast.List)) else []
    out = []
    for element in elements:
        if not isinstance(element, ast.Call):
            raise DecodeFailure("an element is not a call")
        name = _dotted(element.func)
        kwargs = {keyword.arg: _resolve(keyword.value) for keyword in element.keywords}
        out.append(_dispatch(name, kwargs))
    return out


def _resolve(node: ast.AST) -> Any:
    """ACEBench's ``resolve_ast_by_type`` (arithmetic on literals only, never ``eval``)."""
    if isinstance(node, ast.Constant):
        return "..." if node.value is Ellipsis else node.value
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.operand, ast.Constant):
            raise DecodeFailure("unary operator on a non-literal")
        try:
            return -node.operand.value
        except TypeError as exc:
            raise DecodeFailure(str(exc)) from None
    if isinstance(node, ast.List):
        return [_resolve(v) for v in node.elts]
    if isinstance(node, ast.Dict):
        if any(k is None for k in node.keys):
            raise DecodeFailure("unsupported ** in a dict")
        try:
            return {_resolve(k): _resolve(v) for k, v in zip(node.keys, node.values)}
        except TypeError as exc:
            raise DecodeFailure(str(exc)) from None
    if isinstance(node, ast.BinOp):
        return _arithmetic(node)
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Call):
        if not node.keywords:
            return ast.unparse(node)
        return {_dotted(node.func): {kw.arg: _resolve(kw.value) for kw in node.keywords}}
    if isinstance(node, ast.Tuple):
        return tuple(_resolve(v) for v in node.elts)
    if isinstance(node, ast.Subscript):
        return ast.unparse(node.value) + "[" + ast.unparse(node.slice) + "]"
    raise DecodeFailure(f"Unsupported AST type: {type(node)}")


def _nested(value: Any) -> str | None:
    """ACEBench writes a dict argument as a nested call ``key(…)`` (``parse_nested_value``): the name it would call,
    None for other values; DecodeFailure where writing it raises."""
    if not isinstance(value, dict):
        return None
    if not value:
        raise DecodeFailure("an empty dict argument")
    key = next(iter(value))
    inner = value[key]
    if not isinstance(inner, dict):
        raise DecodeFailure(f"'{type(inner).__name__}' object has no attribute 'items'")
    for item in inner.values():
        _nested(item)
    return str(key)


def _dispatch(name: str, kwargs: dict[Any, Any]) -> tuple[str, dict[str, Any] | None, str | None]:
    nested = [n for n in (_nested(v) for v in kwargs.values()) if n is not None]
    match = CALL_NAME.search(name + "(")
    method = match.group(1) if match and match.end() == len(name) else ""
    prefix = name[:match.start()] if match else ""
    error = None
    if prefix:  # ``a.b(…)`` became ``a.<instance>.b(…)``
        error = f"name '{prefix.split('.')[0]}' is not defined"
    elif None in kwargs:
        error = "invalid syntax (<string>, line 1)"
    elif nested:
        error = f"name '{nested[0]}' is not defined" if IDENTIFIER.match(nested[0]) else "invalid syntax (<string>, line 1)"
    return method, (None if error else kwargs), error


# ---------------------------------------------------------------------------------- texts
def _function(tree: ast.AST, cls: str, name: str) -> ast.FunctionDef | None:
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == cls:
            return next((f for f in node.body if isinstance(f, ast.FunctionDef) and f.name == name), None)
    return None


def _language_branches(function: ast.FunctionDef) -> dict[str, ast.If]:
    """``if self.language == "zh": …`` branches of a method, by language."""
    out = {}
    for node in ast.walk(function):
        if (isinstance(node, ast.If) and isinstance(node.test, ast.Compare) and isinstance(node.test.left, ast.Attribute)
                and node.test.left.attr == "language" and isinstance(node.test.comparators[0], ast.Constant)):
            out[str(node.test.comparators[0].value)] = node
    return out


class AceTexts:
    """ACEBench's inference texts and settings, read with ``ast`` from the verified download (see module docstring)."""

    def __init__(self, runtime: AceRuntime) -> None:
        read = runtime.read
        self.agent = {mode: literal_constants(read(FILES[mode])) for mode in ("turn", "step")}
        self.user = literal_constants(read(FILES["user"]))
        self.prompts = {lang: literal_constants(read(FILES["prompt"].format(language=lang))) for lang in ("en", "zh")}
        inference = ast.parse(read(FILES["inference"]))
        self.saved = literal_constants(read(FILES["inference"])).get("SAVED_CLASS")
        init = _function(inference, "APIModelInference", "__init__")
        defaults = dict(zip([a.arg for a in init.args.args][-len(init.args.defaults):], init.args.defaults)) if init else {}
        turns = defaults.get("max_dialog_turns")
        self.max_turns = turns.value if isinstance(turns, ast.Constant) else None
        loop = _function(inference, "APIModelInference", "multi_turn_inference")
        self.stop = next((n.left.value for n in ast.walk(loop) if isinstance(n, ast.Compare) and isinstance(n.ops[0], ast.In)
                          and isinstance(n.left, ast.Constant) and isinstance(n.left.value, str)), None) if loop else None
        self.greeting = {}
        init_prompt = _function(ast.parse(read(FILES["user"])), "APIUSER", "get_init_prompt")
        for language, branch in (_language_branches(init_prompt) if init_prompt else {}).items():
            for node in (n for statement in branch.body for n in ast.walk(statement)):
                if isinstance(node, ast.Dict):
                    pairs = {k.value: v for k, v in zip(node.keys, node.values) if isinstance(k, ast.Constant)}
                    if getattr(pairs.get("role"), "value", None) == "user" and isinstance(pairs.get("content"), ast.Constant):
                        self.greeting[language] = pairs["content"].value
        respond = _function(ast.parse(read(FILES["execution_step"])), "EXECUTION_STEP", "respond")
        handler = next((n for n in ast.walk(respond) if isinstance(n, ast.ExceptHandler)), None) if respond else None
        self.not_decoded = next((n.value.value for n in ast.walk(handler) if isinstance(n, ast.Assign)
                                 and isinstance(n.value, ast.Constant)), None) if handler else None
        self.modules = {mode: {lang: literal_constants(read(FILES[f"utils_{mode}"])).get(f"CLASS_FILE_PATH_MAPPING_{lang.upper()}")
                               for lang in ("en", "zh")} for mode in ("turn", "step")}
        missing = [what for what, value in (("SAVED_CLASS", self.saved), ("max_dialog_turns", self.max_turns),
                                            ("the stop phrase", self.stop), ("the user greeting", self.greeting.get("en")),
                                            ("the multi-step retry text", self.not_decoded),
                                            ("the class map", self.modules["turn"]["en"])) if not value]
        if missing:
            raise RuntimeUnavailable(f"ACEBench's inference files lack {', '.join(missing)}")

    def agent_prompts(self, mode: str, language: str, involved: list[str], functions: Any, history: str,
                      time: Any = "") -> list[dict]:
        """The agent's two messages, as ``APIAgent_turn`` / ``APIAgent_step`` build them."""
        constants, suffix = self.agent[mode], language.upper()
        system = constants[f"MULTI_TURN_AGENT_PROMPT_SYSTEM_{suffix}"]
        if mode == "step":
            system = system.format(time=time)
        else:
            prompts = self.prompts[language]
            system += prompts[f"TRAVEL_PROMPT_{suffix}"] if "Travel" in involved else ""
            system += prompts[f"BASE_PROMPT_{suffix}"] if "BaseApi" in involved else ""
        user = constants[f"MULTI_TURN_AGENT_PROMPT_USER_{suffix}"].format(functions=functions, history=history)
        return [{"role": "system", "content": system}, {"role": "user", "content": user}]

    def user_system(self, language: str, involved: list[str], instruction: str) -> str:
        kind = "BASE" if "BaseApi" in involved else "TRAVEL" if "Travel" in involved else None
        if kind is None:
            raise LoopError("ACEBench's user simulator needs BaseApi or Travel among the involved classes")
        return self.user[f"SYSTEM_PROMPT_{kind}_{language.upper()}"].format(instruction=instruction)


# ---------------------------------------------------------------------------------- the loop
class AceBenchLoop:
    """Runs ACEBench agent items (see the module docstring); ``user``: a client with ``chat(messages) → message``,
    or None (multi-turn items then fail with that reason)."""

    def __init__(self, runtime: AceRuntime, user: Any = None, *, max_turns: int | None = None) -> None:
        self.runtime, self.user, self.max_turns = runtime, user, max_turns
        self._texts: AceTexts | None = None
        self._entries: dict[tuple[str, str], dict[str, dict]] = {}
        self._lock = threading.Lock()

    def texts(self) -> AceTexts:
        with self._lock:
            if self._texts is None:
                self._texts = AceTexts(self.runtime)
            return self._texts

    def entry(self, language: str, mode: str, source_id: str) -> dict[str, Any]:
        """The item as ACEBench's data file holds it (its function docs go into the prompt as Python text)."""
        with self._lock:
            if (language, mode) not in self._entries:
                text = self.runtime.read(DATA.format(language=language, mode=mode)).decode("utf-8")
                entries = {}
                for line in text.splitlines():
                    try:
                        value = json.loads(line)
                    except ValueError:
                        continue
                    if isinstance(value, dict) and isinstance(value.get("id"), str):
                        entries[value["id"]] = value
                self._entries[(language, mode)] = entries
        entry = self._entries[(language, mode)].get(source_id)
        if entry is None:
            raise LoopError(f"ACEBench's {DATA.format(language=language, mode=mode)} holds no item {source_id!r}")
        return entry

    def __call__(self, ask: Ask, item: Item) -> dict[str, Any]:
        info = own(item.sample or [])
        category = str(info.get("category") or "")
        language = item.category.split("/", 1)[-1].split("_", 1)[0]
        mode = {"agent_multi_turn": "turn", "agent_multi_step": "step"}.get(category)
        if mode is None or language not in ("en", "zh"):
            raise LoopError(f"not an ACEBench agent item: {item.category}")
        if mode == "turn" and self.user is None:
            raise LoopError("ACEBench's multi-turn agent items need a simulated user: give --user-model (and --user-base-url)")
        texts = self.texts()
        entry = self.entry(language, mode, str(item.source_id))
        involved = [str(c) for c in entry.get("involved_classes") or []]
        world = AceWorld(self.runtime, texts.modules[mode][language] or {}, mode, entry.get("initial_config") or {}, involved)
        dialogue = Dialogue(texts, mode, language, entry, world, self.max_turns or texts.max_turns)
        steps = dialogue.run_turns(ask, self.user) if mode == "turn" else dialogue.run_steps(ask)
        return {"id": item.sample_id, "source_id": item.source_id, "result": world.state(texts.saved),
                "process": dialogue.process, "steps": steps, "dialogue": dialogue.history}


class Dialogue:
    """One ACEBench agent dialogue: ACEBench's ``Scene`` history and inference text, and the loops over it."""

    def __init__(self, texts: AceTexts, mode: str, language: str, entry: dict[str, Any], world: AceWorld,
                 max_turns: int) -> None:
        self.texts, self.mode, self.language, self.entry, self.world = texts, mode, language, entry, world
        self.max_turns = max_turns
        self.involved = [str(c) for c in entry.get("involved_classes") or []]
        self.history: list[dict[str, Any]] = []
        self.process: list[str] = []
        self.inference = ""

    def _log(self) -> str:
        """``Scene.get_inference_message``: the last message appended to the dialogue text."""
        last = self.history[-1]
        prefix = {"user": "user:", "agent": "agent:",
                  "execution": "execution:" if self.mode == "turn" else "execution result:"}[last["sender"]]
        self.inference += prefix + str(last["message"]) + "\n"
        return self.inference

    def _agent(self, ask: Ask, step: int) -> str:
        messages = self.texts.agent_prompts(self.mode, self.language, self.involved, self.entry.get("function"),
                                            self._log(), self.entry.get("time", ""))
        reply, calls = ask(messages, [], str(step))
        text = reply.get("content") or ""
        if calls and not text.strip():  # a server that answered with tool calls: ACEBench's call text
            text = call_text(calls)
        return text

    def _execute(self, text: str) -> list[Any]:
        self.process.append(text)
        try:
            calls = decode_calls(text)
        except DecodeFailure:
            return self.texts.not_decoded  # multi_step's answer (multi_turn routes only decodable text here)
        return parsed_results(self.world.execute(calls))

    def _finished(self, index: int) -> bool:
        message = self.history[-1]["message"]
        return index > 1 and isinstance(message, (str, list)) and self.texts.stop in message

    def run_steps(self, ask: Ask) -> int:
        """``multi_step_inference``: the agent and the execution alternate."""
        self.history.append({"sender": "user", "recipient": "agent", "message": self.entry.get("question", "")})
        for index in range(self.max_turns):
            if index == 0 or self.history[-1]["sender"] == "execution":
                text = self._agent(ask, index)
                recipient = "execution" if re.match(r"\[.*?\]", text) else "user"
                self.history.append({"sender": "agent", "recipient": recipient, "message": text})
            else:
                self.history.append({"sender": "execution", "recipient": "agent",
                                     "message": self._execute(self.history[-1]["message"])})
            if self._finished(index):
                return index + 1
        return self.max_turns

    def run_turns(self, ask: Ask, user: Any) -> int:
        """``multi_turn_inference``: each message goes to its recipient (user, agent or execution)."""
        chat = [{"role": "system", "content": self.texts.user_system(self.language, self.involved, self.entry.get("question", ""))},
                {"role": "user", "content": self.texts.greeting[self.language]}]
        opening = user.chat(chat).get("content") or ""
        chat.append({"role": "system", "content": opening})
        self.history.append({"sender": "user", "recipient": "agent", "message": opening})
        for index in range(self.max_turns):
            last = self.history[-1]
            if last["recipient"] == "user":
                self._log()
                chat.append({"role": "user", "content": _without_speaker(str(last["message"]))})
                reply = user.chat(chat).get("content") or ""
                chat.append({"role": "system", "content": reply})
                self.history.append({"sender": "user", "recipient": "agent", "message": reply})
            elif last["recipient"] == "agent":
                text = self._agent(ask, index)
                self.history.append({"sender": "agent", "recipient": "execution" if _routes_to_execution(text) else "user",
                                     "message": text})
            else:
                self._log()
                self.history.append({"sender": "execution", "recipient": "agent", "message": self._execute(last["message"])})
            if self._finished(index):
                return index + 1
        return self.max_turns


def _routes_to_execution(text: str) -> bool:
    """``APIAgent_turn.respond``: a reply with ``[…]`` that decodes as calls goes to the execution."""
    if not re.search(r"\[.*\]", text):
        return False
    try:
        decode_calls(text)
    except DecodeFailure:
        return False
    return True


def _without_speaker(text: str) -> str:
    """``remove_prefix`` of ACEBench's user simulator."""
    return text[5:] if text.startswith("user:") else text[6:] if text.startswith("agent:") else text
