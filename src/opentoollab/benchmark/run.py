"""Querying a model through an OpenAI-compatible server (vLLM, SGLang, llama.cpp) to get predictions.

``fc`` mode sends the candidate tools as ``tools`` and reads ``tool_calls`` (a reply without tool
calls is kept as raw text, which the scorer parses: ``<tool_call>`` blocks, JSON or Python syntax).
Single-turn items send the messages before the sample's ``tool_call_ground_truth``. BFCL multi-turn
items replay the user turns against BFCL's environments: every call the model makes runs there and
its result goes back as a ``tool`` message, up to BFCL's 20 steps per turn.

``prompt`` mode renders the prompt itself with a built-in renderer (the official chat template's
exact text plus its generation prompt), sends it to ``/v1/completions`` and reads the calls in the
family's own syntax (``scoring.parse.completion_calls``); multi-turn results go back as the
template renders tool messages.

Runs are resumable: predictions are appended one line per finished sample, and a re-run skips the
ids already present. Requests are retried with exponential backoff on connection errors, 408, 429
and 5xx.
"""

from __future__ import annotations

import copy
import json
import re
import time
import urllib.error
import urllib.request
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any, Callable, Iterable

from ..tools.bfcl_runtime import bfcl_text
from ..format.jsonl import atomic_writer, iter_lines
from ..trainer.render.base import Chat, Renderer, chat_tools, to_chat
from ..format.sample import Sample, tool_call_uid
from ..format.schema_types import strip_extensions
from .scoring.items import Item, ground_truth_index, tools_before
from .scoring.multi_turn import Environments
from .scoring.parse import DecodeError, completion_calls

MAX_STEPS = 20  # BFCL's MAXIMUM_STEP_LIMIT per user turn
# item kinds whose runs need an agent loop (benchmark/loops/): without one, why the item cannot run
AGENT_LOOPS = {"memory": "BFCL's memory backends and prerequisite conversations: `python datasets download BFCL`",
               "tau2": "τ²-bench's domain environments (`python datasets download tau2-bench`) and a simulated "
                       "user: give --user-model (and --user-base-url)",
               "acebench_agent": "ACEBench's scenario classes (pinned in its download: `python datasets download "
                                 "ACEBench`)"}
PROMPT_MAX_TOKENS = 2048  # /v1/completions defaults to 16 tokens: always send a limit
RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}
NAME_OK = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


class ClientError(Exception):
    """A request that failed for good (after retries, or a 4xx that retrying cannot fix)."""


class Client:
    """A minimal OpenAI-compatible client on the standard library (chat and plain completions)."""

    def __init__(self, base_url: str, model: str, api_key: str | None = None, *, timeout: float = 120.0,
                 retries: int = 5, backoff: float = 1.0, temperature: float = 0.0, max_tokens: int | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        base = base_url.rstrip("/")
        self.base = base if base.endswith("/v1") else base + "/v1"
        self.url = self.base + "/chat/completions"
        self.model, self.api_key, self.timeout = model, api_key, timeout
        self.retries, self.backoff, self.sleep = retries, backoff, sleep
        self.temperature, self.max_tokens = temperature, max_tokens

    def chat(self, messages: list[dict], tools: list[dict] | None = None) -> dict[str, Any]:
        """The assistant message of the first choice."""
        body: dict[str, Any] = {"model": self.model, "messages": messages, "temperature": self.temperature}
        if tools:
            body["tools"] = tools
        if self.max_tokens:
            body["max_tokens"] = self.max_tokens
        return self._post(self.url, body, lambda payload: payload["choices"][0]["message"])

    def complete(self, prompt: str, stop: tuple[str, ...] = ()) -> str:
        """The text of the first choice of ``/v1/completions`` for a fully rendered prompt.

        The prompt already holds the template's special tokens (BOS included), so the server is asked
        not to add its own (vLLM's ``add_special_tokens``; other servers ignore the field).
        """
        body: dict[str, Any] = {"model": self.model, "prompt": prompt, "temperature": self.temperature,
                                "max_tokens": self.max_tokens or PROMPT_MAX_TOKENS, "add_special_tokens": False}
        if stop:
            body["stop"] = list(stop)
        return self._post(self.base + "/completions", body, lambda payload: str(payload["choices"][0]["text"]))

    def _post(self, url: str, body: dict[str, Any], answer: Callable[[Any], Any]) -> Any:
        """POST JSON with retries (connection errors, RETRY_STATUS, malformed answers); ``answer`` picks the result."""
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        last = ""
        for attempt in range(self.retries + 1):
            if attempt:
                self.sleep(self.backoff * 2 ** (attempt - 1))
            request = urllib.request.Request(url, data=data, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    payload = json.loads(response.read().decode("utf-8"))
                return answer(payload)
            except urllib.error.HTTPError as exc:
                last = f"HTTP {exc.code}: {exc.read()[:300].decode('utf-8', 'replace')}"
                if exc.code not in RETRY_STATUS:
                    raise ClientError(last) from None
            except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
                last = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
            except (ValueError, KeyError, IndexError, TypeError) as exc:
                last = f"malformed response: {exc}"
        raise ClientError(f"{url}: gave up after {self.retries + 1} attempts ({last})")


# ---------------------------------------------------------------------------------- messages
class ToolNames:
    """Tool names as sent (OpenAI allows ^[a-zA-Z0-9_-]{1,64}$; BFCL has dots) and back."""

    def __init__(self, tools: list[dict]) -> None:
        self.sent: dict[str, str] = {}
        self.back: dict[str, str] = {}
        for tool in tools:
            name = tool["name"]
            safe = name if NAME_OK.match(name) else re.sub(r"[^a-zA-Z0-9_-]", "_", name)[:64]
            self.sent[name], self.back[safe] = safe, name

    def original(self, name: str) -> str:
        return self.back.get(name, name)


def openai_tools(tools: list[dict], names: ToolNames) -> list[dict]:
    return [{"type": "function", "function": {"name": names.sent[t["name"]], "description": t.get("description", ""),
                                              "parameters": strip_extensions(t.get("parameters") or {})}}
            for t in tools]


def context_messages(sample: Sample, end: int, names: ToolNames) -> list[dict]:
    """Chat messages for ``sample[:end]`` (system, user, visible assistant, earlier calls and results)."""
    sid = sample[0].get("content") if sample else ""
    out: list[dict] = []
    pending: dict[str, str] = {}
    counts: dict[str, int] = {}
    for message in sample[:end]:
        role, content = message.get("role"), message.get("content")
        if role in ("system", "user"):
            out.append({"role": role, "content": content})
        elif role == "assistant" and not message.get("hidden"):
            out.append({"role": "assistant", "content": content})
        elif role == "tool_call":
            calls = []
            for call in content or []:
                k = counts.get(call["name"], 0)
                counts[call["name"]] = k + 1
                cid = f"{call['name']}.{k}"
                pending[cid] = tool_call_uid(sid, cid)
                calls.append({"type": "function", "id": pending[cid], "function": {
                    "name": names.sent.get(call["name"], call["name"]),
                    "arguments": json.dumps(call.get("parameters") or {}, ensure_ascii=False)}})
            out.append({"role": "assistant", "content": "", "tool_calls": calls})
        elif role == "tool_response" and isinstance(content, dict):
            for cid, result in content.items():
                out.append({"role": "tool", "tool_call_id": pending.get(cid, cid), "name": cid.rsplit(".", 1)[0],
                            "content": result if isinstance(result, str) else json.dumps(result, ensure_ascii=False)})
    return out


def reply_calls(message: dict[str, Any], names: ToolNames) -> list[dict] | None:
    """The calls of an assistant reply, or None when it made none."""
    tool_calls = message.get("tool_calls") or []
    if not tool_calls:
        return None
    calls = []
    for tool_call in tool_calls:
        function = tool_call.get("function") or {}
        arguments = function.get("arguments")
        if isinstance(arguments, str):
            try:
                arguments = json.loads(arguments) if arguments.strip() else {}
            except (ValueError, RecursionError):  # not JSON, too deep, an integer past the digit limit
                pass  # kept as text: the scorer reports it as a wrong output format
        calls.append({"name": names.original(function.get("name") or ""), "arguments": arguments})
    return calls


# ---------------------------------------------------------------------------------- one item
# ask(messages, unified tools, tag) → (the assistant message to append, its calls or None)
Ask = Callable[[list[dict], list[dict], str], tuple[dict[str, Any], "list[dict] | None"]]


def fc_ask(client: Client) -> Ask:
    """fc mode: tools as ``tools`` (names made OpenAI-safe and mapped back), calls from ``tool_calls``."""
    def ask(messages: list[dict], tools: list[dict], tag: str) -> tuple[dict[str, Any], list[dict] | None]:
        names = ToolNames(tools)
        reply = client.chat(messages, openai_tools(tools, names))
        calls = reply_calls(reply, names)
        message: dict[str, Any] = {"role": "assistant", "content": reply.get("content") or ""}
        if calls:
            message["tool_calls"] = [
                {"type": "function", "id": f"call_{tag}_{i}", "function": {
                    "name": names.sent.get(c["name"], c["name"]), "arguments": json.dumps(c["arguments"], ensure_ascii=False)}}
                for i, c in enumerate(calls)]
        return message, calls

    return ask


def prompt_ask(client: Client, renderer: Renderer, sample_id: str) -> Ask:
    """prompt mode: the renderer's exact prompt to ``/v1/completions``, calls read in the family's syntax.

    The reply goes back into the conversation as DESIGN §4 messages (arguments as objects, 9-hex
    call ids), so the next prompt shows it as the official template would.
    """
    def ask(messages: list[dict], tools: list[dict], tag: str) -> tuple[dict[str, Any], list[dict] | None]:
        chat = Chat(sample_id, messages, chat_tools(tools))
        text = client.complete(renderer.prompt(chat), renderer.stop)
        try:
            content, calls = completion_calls(text, renderer.call_syntax, renderer.stop, chat.tools)
        except DecodeError:  # malformed call syntax: a plain reply that ends the turn
            content, calls = text.strip(), None
        message: dict[str, Any] = {"role": "assistant", "content": content}
        if calls:
            message["tool_calls"] = [
                {"type": "function", "id": tool_call_uid(sample_id, f"{tag}.{i}"),
                 "function": {"name": c["name"], "arguments": c["arguments"]}} for i, c in enumerate(calls)]
        return message, calls

    return ask


def predict(client: Client, item: Item, environments: Environments | None = None,
            renderer: Renderer | None = None, loops: dict[str, Callable] | None = None) -> dict[str, Any]:
    """One prediction line for one item: fc mode, or prompt mode when a ``renderer`` is given.

    ``loops``: item kind → agent loop (``benchmark/loops/``), called as ``loop(ask, item)``."""
    sample = item.sample or []
    ask = fc_ask(client) if renderer is None else prompt_ask(client, renderer, item.sample_id)
    if item.kind == "multi_turn":
        return {"id": item.sample_id, "source_id": item.source_id, "turns": _multi_turn(ask, item, environments)}
    kind = "acebench_agent" if item.kind == "acebench" and "_agent_" in item.category else item.kind
    if loops and kind in loops:
        return loops[kind](ask, item)
    if kind in AGENT_LOOPS:
        raise ClientError(f"these items need {AGENT_LOOPS[kind]}; or score the benchmark's own result records with "
                          "`benchmark score`")
    end = ground_truth_index(sample)
    end = len(sample) if end is None else end
    out: dict[str, Any] = {"id": item.sample_id, "source_id": item.source_id}
    if renderer is None:
        tools = tools_before(sample, end)
        names = ToolNames(tools)
        reply = client.chat(context_messages(sample, end, names), openai_tools(tools, names))
        calls, text = reply_calls(reply, names), reply.get("content") or ""
    else:
        chat = to_chat(sample[:end], tool_changes="union")
        raw = client.complete(renderer.prompt(chat), renderer.stop)
        try:
            text, calls = completion_calls(raw, renderer.call_syntax, renderer.stop, chat.tools)
        except DecodeError:  # kept as raw text: the scorer reports the failed decoding
            text, calls = raw, None
    if calls is not None:
        out["calls"] = calls
    else:
        out["result"] = text
    return out


def _multi_turn(ask: Ask, item: Item, environments: Environments | None) -> list[list[list[dict]]]:
    if environments is None:
        raise ClientError("multi-turn items need BFCL's raw download (environment classes)")
    session, _truth = environments.sessions(item.source_id or "", item.category)
    messages: list[dict] = []
    tools: list[dict] = []
    turns: list[list[list[dict]]] = []
    for message in item.sample or []:
        role = message.get("role")
        if role == "candidate_tools":
            tools = message.get("content") or []
        elif role == "system":
            messages.append({"role": "system", "content": message["content"]})
        elif role == "user":
            messages.append({"role": "user", "content": message["content"]})
            steps: list[list[dict]] = []
            for step in range(MAX_STEPS):
                reply, calls = ask(messages, tools, f"{len(turns)}_{step}")
                messages.append(reply)
                if not calls:
                    break
                steps.append(calls)
                for tool_call, call in zip(reply["tool_calls"], calls):
                    arguments = copy.deepcopy(call["arguments"]) if isinstance(call["arguments"], dict) else {}
                    result = bfcl_text(session.call(call["name"], [], arguments))
                    messages.append({"role": "tool", "tool_call_id": tool_call["id"], "name": call["name"], "content": result})
            turns.append(steps)
    return turns


# ---------------------------------------------------------------------------------- many
def done_ids(path: Path) -> set[str]:
    """Ids already predicted; rewrites the file without a torn last line from an interrupted run."""
    if not path.is_file():
        return set()
    good = [line.value for line in iter_lines(path) if not line.error and isinstance(line.value, dict) and "id" in line.value]
    with atomic_writer(path) as handle:
        for value in good:
            handle.write(json.dumps(value, ensure_ascii=False) + "\n")
    return {str(v["id"]) for v in good}


def run(client: Client, items: Iterable[Item], out: Path, *, concurrency: int = 4,
        environments: Environments | None = None, progress: bool = True, total: int | None = None,
        renderer: Renderer | None = None, loops: dict[str, Callable] | None = None) -> dict[str, Any]:
    """Predict every item not yet in ``out`` (JSONL, appended line by line); returns counts and failures.

    ``renderer``: prompt mode with that built-in chat template (else fc mode); ``loops``: see ``predict``."""
    from tqdm import tqdm

    out.parent.mkdir(parents=True, exist_ok=True)
    skip = done_ids(out)
    todo = [item for item in items if item.sample_id not in skip and (item.source_id or "") not in skip]
    failures: list[dict[str, str]] = []
    written = 0
    with open(out, "a", encoding="utf-8", newline="\n") as handle, \
            ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool, \
            tqdm(total=len(todo), desc="querying", unit=" samples", disable=None if progress else True) as bar:
        pending = {}
        queue = iter(todo)
        for item in queue:
            pending[pool.submit(predict, client, item, environments, renderer, loops)] = item
            if len(pending) >= concurrency * 2:
                break
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                item = pending.pop(future)
                try:
                    line = future.result()
                except Exception as exc:  # one failed sample must not stop the run; it is retried on resume
                    failures.append({"id": item.sample_id, "error": f"{type(exc).__name__}: {exc}"})
                else:
                    handle.write(json.dumps(line, ensure_ascii=False) + "\n")
                    handle.flush()
                    written += 1
                bar.update(1)
                next_item = next(queue, None)
                if next_item is not None:
                    pending[pool.submit(predict, client, next_item, environments, renderer, loops)] = next_item
    _reorder(out, [item.sample_id for item in todo], skip)
    return {"skipped": len(skip), "requested": len(todo), "written": written, "failed": len(failures),
            "failures": failures}


def _reorder(path: Path, order: list[str], earlier: set[str]) -> None:
    """Lines of this run in dataset order (threads finish in any order), so output is deterministic."""
    rank = {sid: n for n, sid in enumerate(order)}
    lines = [line.value for line in iter_lines(path) if not line.error]
    lines.sort(key=lambda v: (str(v.get("id")) not in earlier, rank.get(str(v.get("id")), -1)))
    with atomic_writer(path) as handle:
        for value in lines:
            handle.write(json.dumps(value, ensure_ascii=False) + "\n")


def across_categories(items: Iterable[Item], limit: int) -> list[Item]:
    """``--limit N``: N items spread over the categories (round robin in dataset order: the first of each
    category, then the second of each, …), so a smoke run touches every category instead of the first one."""
    by_category: dict[str, list[Item]] = {}
    for item in items:
        by_category.setdefault(item.category, []).append(item)
    picked: list[Item] = []
    for rank in range(max((len(v) for v in by_category.values()), default=0)):
        for group in by_category.values():
            if rank < len(group) and len(picked) < limit:
                picked.append(group[rank])
    order = {id(item): n for n, item in enumerate(i for group in by_category.values() for i in group)}
    return sorted(picked, key=lambda item: order[id(item)])  # back in dataset order
