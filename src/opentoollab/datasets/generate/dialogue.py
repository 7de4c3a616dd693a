"""Building one execution-grounded sample: every call really runs in the episode, its result is recorded.

``Dialogue`` appends messages in the unified format while a task program talks: ``tools`` (a
``candidate_tools`` message from the episode's declarations), ``user``/``assistant`` text, and
``call``/``calls`` which execute in the ``Episode`` and write a ``tool_call`` + ``tool_response``
pair. An argument may be a ``Ref`` to an earlier call's result: it runs with the referenced value
and is written as ``<link>ID.PATH</link>`` with the id in ``depend_on`` (DESIGN.md section 1).
May import: ``opentoollab.tools``, ``opentoollab.format``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...format.sample import CallNumbering, follow_path
from ...tools.episode import Episode


class ProgramError(Exception):
    """A task program met a world it cannot use (e.g. an empty search): the sample is skipped, with this reason."""


@dataclass
class Call:
    """A call that ran: its id in the sample, name, the arguments it ran with, and its result."""

    id: str
    name: str
    arguments: dict[str, Any]
    result: Any

    @property
    def failed(self) -> bool:
        return isinstance(self.result, dict) and set(self.result) == {"error"}

    def get(self, *path: str | int) -> Any:
        """A value inside the result; ProgramError when the path is not there."""
        try:
            return follow_path(self.result, [str(p) for p in path])
        except Exception as exc:  # noqa: BLE001 - any miss means the program cannot go on
            raise ProgramError(f"{self.name} result has no {'.'.join(map(str, path))}") from exc


def ok(call: Call) -> Call:
    """The call, or ProgramError when the tool answered with an error (the program cannot go on as planned)."""
    if call.failed:
        raise ProgramError(f"{call.name} failed: {call.result['error']}")
    return call


@dataclass(frozen=True)
class Ref:
    """An argument taken from an earlier call's result: written as a link, executed with the value."""

    call: Call
    path: tuple[str | int, ...] = ()

    @property
    def link(self) -> str:
        suffix = "." + ".".join(str(p) for p in self.path) if self.path else ""
        return f"<link>{self.call.id}{suffix}</link>"

    @property
    def value(self) -> Any:
        return self.call.get(*self.path) if self.path else self.call.result


@dataclass
class Dialogue:
    """Messages of one sample under construction, over one episode."""

    episode: Episode
    messages: list[dict[str, Any]] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    _numbering: CallNumbering = field(default_factory=CallNumbering)
    _offered: set[str] = field(default_factory=set)

    def tools(self, names: list[str]) -> None:
        """A candidate_tools message with these tools' declarations, in the given order."""
        declared = {tool["name"]: tool for tool in self.episode.tools()}
        missing = [name for name in names if name not in declared]
        if missing:
            raise ProgramError(f"tools not in the episode: {missing}")
        self._offered = set(names)
        self.messages.append({"role": "candidate_tools", "content": [declared[name] for name in names]})

    def user(self, text: str) -> None:
        self.messages.append({"role": "user", "content": text})

    def assistant(self, text: str) -> None:
        self.messages.append({"role": "assistant", "content": text})

    def call(self, tool: str, /, **arguments: Any) -> Call:
        """Run one call now: a tool_call of one call and its tool_response."""
        return self.calls_at_once([(tool, arguments)])[0]

    def calls_at_once(self, requests: list[tuple[str, dict[str, Any]]]) -> list[Call]:
        """Run independent calls as one parallel wave: one tool_call message, one tool_response."""
        written, done = [], []
        for name, arguments in requests:
            if name not in self._offered:
                raise ProgramError(f"{name} is called but not offered")
            depend_on: list[str] = []
            plain = {key: _plain(value, depend_on) for key, value in arguments.items()}
            linked = {key: _linked(value) for key, value in arguments.items()}
            call_id = self._numbering.next_id(name)
            result = self.episode.call(name, plain)
            done.append(Call(call_id, name, plain, result))
            written.append({"name": name, "parameters": linked, "depend_on": sorted(set(depend_on), key=depend_on.index)})
        self.messages.append({"role": "tool_call", "content": written})
        self.messages.append({"role": "tool_response", "content": {call.id: call.result for call in done}})
        self.calls.extend(done)
        return done


def _plain(value: Any, depend_on: list[str]) -> Any:
    if isinstance(value, Ref):
        depend_on.append(value.call.id)
        return value.value
    if isinstance(value, list):
        return [_plain(v, depend_on) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v, depend_on) for k, v in value.items()}
    return value


def _linked(value: Any) -> Any:
    if isinstance(value, Ref):
        return value.link
    if isinstance(value, list):
        return [_linked(v) for v in value]
    if isinstance(value, dict):
        return {k: _linked(v) for k, v in value.items()}
    return value
