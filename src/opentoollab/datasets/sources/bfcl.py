"""BFCL (Berkeley Function Calling Leaderboard) v4: every category of the pinned ``bfcl-eval`` release.

Raw data comes from the ``bfcl-eval`` wheel on PyPI (read straight from the zip, no install), the
Hugging Face hub dataset (``--from hub``), or a local folder of BFCL json files (``--from PATH``).
Single-turn records become ``candidate_tools`` + messages + ``tool_call_ground_truth`` with BFCL's
candidate lists kept exactly. Multi-turn records become complete trajectories: each user turn is
followed by its ground-truth calls and their real results, executed in BFCL's own environment
classes (see ``opentoollab.tools.bfcl_runtime`` for how that is kept safe).

Not converted: ``memory`` and ``web_search`` (agentic categories). Their ground truth is a free-text
final answer, not calls; running them needs live web search (SerpAPI) or prerequisite memory
conversations with embedding models, so they cannot be represented as verifiable samples here.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any, Callable, Iterator

from ...tools.bfcl_runtime import (PINNED_SHA256, PINNED_VERSION, PINNED_WHEEL, CallLimitExceeded, CallSyntaxError,
                                   Runtime, RuntimeUnavailable, UnverifiedRuntime, parse_call, scalars)
from ..fetch import copy_local, hub_snapshot, pypi_download, write_provenance
from ...format.sample import CallNumbering, Sample, loads_line
from ...format import fastjson
from ...format.schema_types import normalize_schema
from .base import SKIPPED, Context, FetchError, RawRecord, Reject, Shard, Source

PACKAGE = "bfcl-eval"
VERSION = PINNED_VERSION  # the pin lives with the runtime that enforces it (tools.bfcl_runtime)
WHEEL_SHA256 = PINNED_SHA256
HUB_REPO = "gorilla-llm/Berkeley-Function-Calling-Leaderboard"
# The hub dataset publishes no release tags: "main" is resolved to its commit at download time and
# that commit (plus every file's sha256) goes into the provenance; pass --revision SHA to pin.
HUB_REVISION = "main"
WHEEL_DATA = "bfcl_eval/data/"
TOOL_CACHE = 50_000  # converted single-turn tools kept per run (BFCL has ~3,400 distinct ones)
CALL_CACHE = 50_000  # parsed multi-turn ground-truth calls kept per run

SINGLE_TURN = (
    "simple_python", "simple_java", "simple_javascript", "multiple", "parallel", "parallel_multiple",
    "live_simple", "live_multiple", "live_parallel", "live_parallel_multiple",
    "irrelevance", "live_irrelevance", "live_relevance",
)
MULTI_TURN = ("multi_turn_base", "multi_turn_miss_func", "multi_turn_miss_param", "multi_turn_long_context")
# BFCL v3 file names on the hub that were renamed in v4.
V3_NAMES = {"simple": "simple_python", "java": "simple_java", "javascript": "simple_javascript"}
# The user message BFCL sends when a held-out function is added back (constants/default_prompts.py).
ADDITIONAL_FUNCTION_PROMPT = "I have updated some more functions you can choose from. What about now?"
FUNC_DOC_FILES = {
    "GorillaFileSystem": "gorilla_file_system.json", "MathAPI": "math_api.json", "MessageAPI": "message_api.json",
    "TwitterAPI": "posting_api.json", "TicketAPI": "ticket_api.json", "TradingBot": "trading_bot.json",
    "TravelAPI": "travel_booking.json", "VehicleControlAPI": "vehicle_control.json",
}


class RawFiles:
    """BFCL's data folder, whether inside the wheel, a hub snapshot or a local copy."""

    def __init__(self, root: Path) -> None:
        self.wheel: Path | None = None
        self.folder: Path | None = None
        if root.is_file() and root.suffix == ".whl":
            self.wheel = root
        elif root.is_dir():
            wheels = sorted(root.glob("bfcl_eval-*.whl"), key=lambda w: (w.name == PINNED_WHEEL, w.name))
            if wheels:
                self.wheel = wheels[-1]  # the pinned release's file name first; its bytes are checked before import
            data_dirs = [d for d in (root, root / "data", root / "bfcl_eval" / "data") if any(d.glob("BFCL_v*_*.json"))]
            if data_dirs:
                self.folder = data_dirs[0]
                self.wheel = None if not wheels else self.wheel
        if self.wheel is None and self.folder is None:
            raise FetchError(f"{root} holds neither a bfcl_eval wheel nor BFCL_v*_*.json files")
        self._zip = zipfile.ZipFile(self.wheel) if self.wheel and self.folder is None else None
        self._names = self._list()

    def _list(self) -> list[str]:
        if self._zip is not None:
            return [n[len(WHEEL_DATA):] for n in self._zip.namelist() if n.startswith(WHEEL_DATA)]
        return [p.relative_to(self.folder).as_posix() for p in self.folder.rglob("*.json")]

    def find(self, category: str, answers: bool = False) -> str | None:
        """Relative path of a category's question (or possible-answer) file, newest BFCL version first."""
        prefix = "possible_answer/" if answers else ""
        found = []
        for name in self._names:
            if not name.startswith(prefix) or "/" in name[len(prefix):] or not name.startswith(prefix + "BFCL_v"):
                continue
            version, _, rest = name[len(prefix) + len("BFCL_v"):].partition("_")
            stem = rest[:-5] if rest.endswith(".json") else rest
            if V3_NAMES.get(stem, stem) == category and version.isdigit():
                found.append((int(version), name))
        return max(found)[1] if found else None

    def read(self, rel: str) -> bytes:
        if self._zip is not None:
            return self._zip.read(WHEEL_DATA + rel)
        return (self.folder / rel).read_bytes()


def _json_lines(data: bytes, rel: str, skip: Callable[[], bool] | None = None) -> Iterator[tuple[int, Any, str | None]]:
    """BFCL files hold one JSON object per line: yield (line number, value, error); never raises on content
    (bytes that are not UTF-8, NaN, huge integers, deep nesting make that line an error). A line ``skip()``
    says another worker converts is not parsed: its value is ``SKIPPED``."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    for number, line in enumerate(data.split(b"\n"), 1):
        if number == 1 and line.startswith(b"\xef\xbb\xbf"):
            line = line[3:]
        if not line.strip():
            continue
        if skip is not None and skip():
            yield number, SKIPPED, None
            continue
        try:
            value = loads_line(line)
        except ValueError as exc:
            yield number, line.decode("utf-8", "backslashreplace").rstrip("\r"), f"invalid JSON in {rel} line {number}: {exc}"
        else:
            yield number, value, None


def convert_tool(doc: dict[str, Any]) -> dict[str, Any]:
    """A BFCL function doc → a unified tool (JSON Schema types; BFCL's names kept in x-original-type)."""
    if not isinstance(doc, dict) or not isinstance(doc.get("name"), str):
        raise Reject(f"malformed function doc: {str(doc)[:200]}")
    parameters = normalize_schema(doc.get("parameters") or {"type": "dict", "properties": {}}, any_as="string")
    if parameters.get("type") != "object":
        raise Reject(f"function {doc['name']!r}: parameters are not an object schema")
    tool = {"name": doc["name"], "description": doc.get("description", ""), "parameters": parameters}
    response = doc.get("response")
    if isinstance(response, dict) and isinstance(response.get("properties"), dict):
        tool["response"] = {
            field: normalize_schema({"description": spec.get("description", ""), **spec}, any_as="string")
            for field, spec in response["properties"].items() if isinstance(spec, dict)
        }
    return tool


def _messages(turn: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(turn, list):
        raise Reject(f"{where}: a turn must be a list of messages")
    out = []
    for message in turn:
        if not isinstance(message, dict) or message.get("role") not in ("user", "system", "assistant") \
                or not isinstance(message.get("content"), str):
            raise Reject(f"{where}: unsupported message {str(message)[:200]}")
        out.append({"role": message["role"], "content": message["content"]})
    return out


def _ground_truth_call(entry: Any, tools: set[str]) -> dict[str, Any]:
    if not isinstance(entry, dict) or len(entry) != 1:
        raise Reject(f"ground truth entry is not one {{name: params}} object: {str(entry)[:200]}")
    (name, params), = entry.items()
    if name not in tools:
        raise Reject(f"ground truth calls {name!r}, which is not among the record's functions")
    if not isinstance(params, dict) or not all(isinstance(v, list) and v for v in params.values()):
        raise Reject(f"ground truth of {name!r}: every parameter needs a non-empty list of candidates")
    return {"name": name, "parameters": params, "depend_on": []}


class BFCL(Source):
    name = "BFCL"
    aliases = ("berkeley-function-calling-leaderboard", "gorilla", "bfcl-v4")
    license = "Apache-2.0"
    homepage = "https://gorilla.cs.berkeley.edu/leaderboard.html"
    description = f"Berkeley Function Calling Leaderboard v4, all AST and multi-turn categories ({PACKAGE} {VERSION})"
    subsets = SINGLE_TURN + MULTI_TURN
    evaluation_subsets = SINGLE_TURN + MULTI_TURN
    infer_links = False  # BFCL's calls are its ground truth, copied exactly: no inferred links
    # True only by explicit opt-in (``--trust-runtime``): import a bfcl_eval wheel that is not the pinned
    # release. The command that sets it also records ``trust_runtime`` in the manifest's options.
    trust_runtime = False

    def __init__(self) -> None:
        self._runtime: Runtime | None = None
        self._runtime_error: str | None = None
        self._func_docs: dict[str, list[dict]] = {}
        self._tool_of: dict[str, dict] = {}  # multi-turn function docs are shared: convert each once
        self._tool_by_text: dict[bytes, dict] = {}  # single-turn docs repeat across records: converted once
        self._calls: dict[str, tuple[str, list[Any], dict[str, Any]]] = {}  # ground-truth call text → parsed

    # ------------------------------------------------------------------ fetching
    def fetch(self, dest: Path, *, origin: str | None = None, revision: str | None = None,
              token: str | None = None, find_links: str | None = None) -> dict[str, Any]:
        if origin in (None, "pypi"):
            wheel = pypi_download(PACKAGE, VERSION, WHEEL_SHA256, dest, find_links=find_links)
            return write_provenance(dest, kind="pypi", package=PACKAGE, version=VERSION, file=wheel.name, sha256=WHEEL_SHA256)
        if origin == "hub":
            commit = hub_snapshot(HUB_REPO, revision or HUB_REVISION, dest, token=token)
            # The environment classes for multi-turn execution ship only in the wheel.
            pypi_download(PACKAGE, VERSION, WHEEL_SHA256, dest / "runtime", find_links=find_links)
            return write_provenance(dest, kind="hub", repo=HUB_REPO, revision=commit, requested=revision or HUB_REVISION)
        path = Path(origin)
        if path.is_file() and path.suffix == ".whl":
            from ..fetch import check_sha256
            if path.name == f"bfcl_eval-{VERSION}-py3-none-any.whl":
                check_sha256(path, WHEEL_SHA256, f"{PACKAGE}=={VERSION} ({path})")
        copy_local(path, dest)
        return write_provenance(dest, kind="local", path=str(path.resolve()))

    def version_of(self, raw: Path) -> str | None:
        wheel = RawFiles(raw).wheel
        return wheel.name.split("-")[1] if wheel else None

    # ------------------------------------------------------------------ reading
    def records(self, raw: Path, subsets: list[str] | None = None, shard: Shard | None = None) -> Iterator[RawRecord]:
        files = RawFiles(raw)
        self._prepare_runtime(raw, files)
        wanted = [s for s in self.subsets if not subsets or s in subsets]
        unknown = sorted(set(subsets or ()) - set(self.subsets))
        if unknown:
            raise FetchError(f"unknown BFCL subsets {unknown}; known: {', '.join(self.subsets)}")
        self._func_docs, self._tool_of, self._tool_by_text, self._calls = {}, {}, {}, {}
        if any(c in MULTI_TURN and files.find(c) for c in wanted):
            try:  # refuse unverified code once, clearly, before any record is converted
                self._runtime.verify()
            except UnverifiedRuntime as exc:
                raise FetchError(str(exc)) from None
            except RuntimeUnavailable:
                pass  # no runtime at all: each multi-turn record is rejected with the reason
        for category in wanted:
            rel = files.find(category)
            if rel is None:
                continue
            answers: dict[str, Any] = {}
            answer_rel = files.find(category, answers=True)
            if answer_rel:
                for number, value, error in _json_lines(files.read(answer_rel), answer_rel):
                    if error is None and isinstance(value, dict) and isinstance(value.get("id"), str):
                        answers[value["id"]] = value.get("ground_truth")
            if category.startswith("multi_turn") and not self._func_docs:
                self._load_func_docs(files)
            for number, value, error in _json_lines(files.read(rel), rel, shard.foreign if shard else None):
                if value is SKIPPED:
                    yield RawRecord(category, rel, number, SKIPPED)
                    continue
                if error:
                    yield RawRecord(category, rel, number, Reject(error, raw=value))
                    continue
                record_id = value.get("id") if isinstance(value, dict) and isinstance(value.get("id"), str) else None
                data = {"entry": value, "ground_truth": answers.get(record_id), "has_answers": bool(answer_rel)}
                yield RawRecord(category, rel, number, data, source_id=record_id)

    def _load_func_docs(self, files: RawFiles) -> None:
        for class_name, file_name in FUNC_DOC_FILES.items():
            rel = f"multi_turn_func_doc/{file_name}"
            try:
                text = files.read(rel)
            except (KeyError, FileNotFoundError):
                continue
            self._func_docs[class_name] = [value for _n, value, error in _json_lines(text, rel) if error is None]

    def _prepare_runtime(self, raw: Path, files: RawFiles) -> None:
        """Note where the environment classes come from; they are imported on first multi-turn use."""
        wheel = files.wheel
        if wheel is None:
            candidates = sorted(raw.glob("runtime/bfcl_eval-*.whl")) if raw.is_dir() else []
            wheel = candidates[-1] if candidates else None
        self._runtime, self._runtime_error = Runtime(wheel, trust=self.trust_runtime), None

    def _session(self, entry: dict, long_context: bool):
        if self._runtime_error is None:
            try:
                return self._runtime.session(entry.get("initial_config") or {}, entry["involved_classes"],
                                             long_context=long_context)
            except RuntimeUnavailable as exc:
                self._runtime_error = str(exc)
        raise Reject(f"BFCL environment classes unavailable: {self._runtime_error}")

    # ------------------------------------------------------------------ converting
    def convert(self, record: RawRecord, ctx: Context) -> Sample:
        entry = record.data["entry"]
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str) or not isinstance(entry.get("question"), list):
            raise Reject("record lacks an 'id' string or a 'question' list")
        meta = {"source": self.name, "subset": record.subset, "source_id": entry["id"], "license": self.license,
                "language": "en"}
        if record.subset.startswith("multi_turn"):
            body = self._multi_turn(entry, record)
        else:
            body = self._single_turn(entry, record)
        if record.subset in ("irrelevance", "live_irrelevance"):
            meta["tags"] = ["irrelevance"]
        elif record.subset == "live_relevance":
            meta["tags"] = ["relevance"]  # BFCL: any call is right, so no calls are given
        return [{"role": "meta", "content": meta}, *body]

    def _single_turn(self, entry: dict, record: RawRecord) -> list[dict]:
        functions = entry.get("function")
        if not isinstance(functions, list):
            raise Reject("record has no 'function' list")
        tools = [self._tool(doc) for doc in functions]
        if len(entry["question"]) != 1:
            raise Reject(f"single-turn category with {len(entry['question'])} turns")
        messages = [{"role": "candidate_tools", "content": tools}, *_messages(entry["question"][0], "question[0]")]
        category = record.subset
        if category in ("irrelevance", "live_irrelevance"):
            messages.append({"role": "tool_call_ground_truth", "content": []})  # the right answer: no call
        elif category != "live_relevance":
            truth = record.data["ground_truth"]
            if truth is None:
                raise Reject(f"no possible answer with id {entry['id']!r}" if record.data["has_answers"]
                             else "the possible-answer file of this category is missing")
            if not isinstance(truth, list) or not truth:
                raise Reject("possible answer is not a non-empty list of calls")
            names = {tool["name"] for tool in tools}
            messages.append({"role": "tool_call_ground_truth", "content": [_ground_truth_call(c, names) for c in truth]})
        return messages

    def _tool(self, doc: Any) -> dict[str, Any]:
        """``convert_tool``, one object per distinct doc (the same JSON text): 6,226 docs of the 8 single-turn
        categories are 2,407 distinct ones, and the samples' tool catalog keys each object once."""
        text = fastjson.dumps_bytes(doc, unchecked=True) if isinstance(doc, dict) else None
        if text is None:  # a value orjson refuses (a huge integer): converted each time
            return convert_tool(doc)
        tool = self._tool_by_text.get(text)
        if tool is None:
            if len(self._tool_by_text) >= TOOL_CACHE:
                self._tool_by_text.clear()
            tool = self._tool_by_text[text] = convert_tool(doc)
        return tool

    def _parse(self, text: Any) -> tuple[str, list[Any], dict[str, Any]]:
        """``parse_call``, once per distinct text (the 4,625 ground-truth calls are 712 distinct ones). Calls
        with only scalar arguments are kept: nothing can change their (shared) lists, whose items are immutable."""
        parsed = self._calls.get(text) if type(text) is str else None
        if parsed is None:
            parsed = parse_call(text)
            name, args, kwargs = parsed
            if type(text) is str and scalars(args) and scalars(kwargs.values()):
                if len(self._calls) >= CALL_CACHE:
                    self._calls.clear()
                self._calls[text] = parsed
        return parsed

    def _multi_turn(self, entry: dict, record: RawRecord) -> list[dict]:
        truth = record.data["ground_truth"]
        if truth is None:
            raise Reject(f"no possible answer with id {entry['id']!r}")
        turns = entry["question"]
        if not isinstance(truth, list) or len(truth) != len(turns):
            raise Reject(f"{len(turns)} question turns but {len(truth) if isinstance(truth, list) else 'no'} answer turns")
        involved = entry.get("involved_classes")
        if not isinstance(involved, list) or not all(c in self._func_docs for c in involved):
            raise Reject(f"unknown involved_classes {involved!r}")
        excluded = set(entry.get("excluded_function") or [])
        docs = [doc for c in involved for doc in self._func_docs[c] if doc.get("name") not in excluded]
        missed: dict[int, list[dict]] = {}
        for turn, names in (entry.get("missed_function") or {}).items():
            missed[int(turn)] = []
            for name in names:
                index = next((i for i, doc in enumerate(docs) if doc["name"] == name), None)
                if index is None:
                    raise Reject(f"missed function {name!r} is not among the involved classes' functions")
                missed[int(turn)].append(docs.pop(index))

        def tools(docs: list[dict]) -> list[dict]:
            out = []
            for doc in docs:
                if doc["name"] not in self._tool_of:
                    self._tool_of[doc["name"]] = convert_tool(doc)
                out.append(self._tool_of[doc["name"]])
            return out

        session = self._session(entry, long_context=record.subset == "multi_turn_long_context")
        numbering = CallNumbering()
        messages: list[dict] = [{"role": "candidate_tools", "content": tools(docs)}]
        known = {doc["name"] for doc in docs}
        for index, (turn, turn_truth) in enumerate(zip(turns, truth)):
            if index in missed:
                if turn:
                    raise Reject(f"turn {index} adds held-out functions but also has messages")
                docs = docs + missed[index]
                known |= {doc["name"] for doc in missed[index]}
                messages.append({"role": "candidate_tools", "content": tools(docs)})
                messages.append({"role": "user", "content": ADDITIONAL_FUNCTION_PROMPT})
            else:
                messages.extend(_messages(turn, f"question[{index}]"))
            if not isinstance(turn_truth, list):
                raise Reject(f"answer turn {index} is not a list of call strings")
            calls, results, previous = [], {}, None
            for text in turn_truth:
                try:
                    name, args, kwargs = self._parse(text)
                except CallSyntaxError as exc:
                    raise Reject(f"turn {index}: {exc}") from None
                if name not in known:
                    raise Reject(f"turn {index}: ground truth calls {name!r}, not among the tools in force")
                names = session.positional_names(name)
                if len(args) > len(names):
                    raise Reject(f"turn {index}: too many positional arguments in {text!r}")
                parameters = {**dict(zip(names, args)), **kwargs}
                cid = numbering.next_id(name)
                # Calls of a turn act on shared state in order, so each depends on the one before.
                calls.append({"name": name, "parameters": parameters, "depend_on": [previous] if previous else []})
                try:
                    results[cid] = session.call_stored(name, args, kwargs, strict=True)
                except CallLimitExceeded as exc:
                    raise Reject(f"turn {index}: {text[:200]!r} exceeds a limit: {exc}") from None
                previous = cid
            if calls:
                messages.append({"role": "tool_call", "content": calls})
                messages.append({"role": "tool_response", "content": results})
        return messages
