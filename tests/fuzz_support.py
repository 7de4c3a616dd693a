"""What the fuzz tests share: small real inputs per adapter (from ../shared/samples), seeded mutations of their
bytes and of their records, and the checks every run must pass (no traceback, in = out + rejected, strict JSON
out, bounded time)."""

from __future__ import annotations

import json
import random
import shutil
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable



def _refuse(constant: str):
    raise ValueError(f"{constant} in output")


def loads_strict(data: bytes):
    """The test's own strict reader (independent of the code under test): UTF-8, no NaN/Infinity."""
    return json.loads(data.decode("utf-8"), parse_constant=_refuse)

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "samples"
REPO = Path(__file__).resolve().parent.parent
RUN_SECONDS = 20.0  # one process run on a mutated small file (they take well under a second)

DEEP = "[" * 100_000 + "]" * 100_000
HUGE_INT = "7" * 5000
HEX_TEXT = "0x" + "f" * 4000


@dataclass
class Target:
    """One adapter's small input: ``files`` (relative path → bytes) laid out in a folder; ``main`` is mutated."""

    adapter: str
    files: dict[str, bytes]
    main: str
    layout: str  # "array" (indent), "jsonl", "whole" (one JSON document per file)
    indent: int | None = 4
    extra: dict[str, Any] = field(default_factory=dict)

    def write(self, folder: Path, main: bytes | None = None) -> Path:
        shutil.rmtree(folder, ignore_errors=True)
        for rel, data in self.files.items():
            path = folder / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(main if rel == self.main and main is not None else data)
        return folder

    def records(self) -> list[Any]:
        if self.layout == "whole":
            return [json.loads(self.files[self.main])]
        text = self.files[self.main].decode("utf-8-sig")
        if self.layout == "array":
            return json.loads(text)
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def dump(self, records: list[Any], fuzz: dict[str, str]) -> bytes:
        """Records in the target's layout; ``"@@FUZZn@@"`` strings are replaced by raw JSON text ``fuzz[n]``."""
        if self.layout == "array":
            text = json.dumps(records, indent=self.indent, ensure_ascii=False)
        elif self.layout == "jsonl":
            text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        else:
            text = json.dumps(records[0], indent=2, ensure_ascii=False)
        for key, raw in fuzz.items():
            text = text.replace(json.dumps(key), raw)
        return text.encode("utf-8")


def _read(rel: str) -> bytes:
    return (SHARED / rel).read_bytes()


def _json_head(rel: str, n: int, indent: int = 4) -> bytes:
    """The first ``n`` elements of a JSON array file, re-serialised (layout: indent)."""
    values = json.loads(_read(rel).decode("utf-8-sig"))
    return json.dumps(values[:n], indent=indent, ensure_ascii=False).encode("utf-8")


def _lines_head(rel: str, n: int) -> bytes:
    return b"".join(_read(rel).splitlines(keepends=True)[:n])


def apigen_record() -> dict:
    tools = [{"name": "get_order_details", "description": "Get an order.",
              "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]}}]
    return {"conversations": [
        {"from": "human", "value": "Where is order #W2378156?"},
        {"from": "function_call", "value": json.dumps({"name": "get_order_details", "arguments": {"order_id": "#W2378156"}})},
        {"from": "observation", "value": json.dumps({"status": "delivered"})},
        {"from": "gpt", "value": "It was delivered."}], "tools": json.dumps(tools), "system": "Retail agent policy."}


def bfcl_files(wheel: Path, n: int = 4) -> dict[str, bytes]:
    with zipfile.ZipFile(wheel) as archive:
        question = archive.read("bfcl_eval/data/BFCL_v4_simple_python.json").splitlines(keepends=True)[:n]
        answer = archive.read("bfcl_eval/data/possible_answer/BFCL_v4_simple_python.json").splitlines(keepends=True)[:n]
    return {"BFCL_v4_simple_python.json": b"".join(question), "possible_answer/BFCL_v4_simple_python.json": b"".join(answer)}


def targets(wheel: Path | None, generated_samples: bytes | None) -> list[Target]:
    t = [
        Target("API-Bank", {"test-data/level-1-api.json": _json_head("api_bank/test-data/level-1-api.json", 4)},
               "test-data/level-1-api.json", "array"),
        Target("API-Bank", {"lv1-lv2-samples/level-1-given-desc/AddAgenda-level-1-1.jsonl":
                            _read("api_bank/lv1-lv2-samples/level-1-given-desc/AddAgenda-level-1-1.jsonl")},
               "lv1-lv2-samples/level-1-given-desc/AddAgenda-level-1-1.jsonl", "jsonl", extra={"one_record": True}),
        Target("ToolACE", {"data.json": _read("toolace/toolace_record_quoted_in_doc.json")}, "data.json", "array"),
        Target("xLAM", {"xlam_function_calling_60k.json": _read("xlam_function_calling_60k/xlam_records_quoted_in_docs.json")},
               "xlam_function_calling_60k.json", "array"),
        Target("APIGen-MT", {"apigen-mt_5k.json": json.dumps([apigen_record()] * 2, indent=2).encode()},
               "apigen-mt_5k.json", "array", indent=2),
        Target("Hermes", {"func-calling.json": _read("hermes_function_calling_v1/hermes_records_from_dataset_card.json")},
               "func-calling.json", "array", indent=2),
        Target("Glaive", {"glaive-function-calling-v2.json": _read("glaive_function_calling_v2/glaive_rows_quoted_in_public_code.json")},
               "glaive-function-calling-v2.json", "array"),
        Target("ToolAlpaca", {"data/eval_simulated.json": _json_head("toolalpaca/data/eval_simulated.json", 2)},
               "data/eval_simulated.json", "array"),
        Target("Seal-Tools", {"Seal-Tools_Dataset/dev.jsonl": _lines_head("seal_tools/Seal-Tools_Dataset/dev.jsonl", 4),
                              "Seal-Tools_Dataset/tool.jsonl": _read("seal_tools/Seal-Tools_Dataset/tool.jsonl")},
               "Seal-Tools_Dataset/dev.jsonl", "jsonl"),
        Target("TaskBench", {"data_dailylifeapis/data.json": _lines_head("taskbench/data_dailylifeapis/data.json", 4),
                             "data_dailylifeapis/tool_desc.json": _read("taskbench/data_dailylifeapis/tool_desc.json")},
               "data_dailylifeapis/data.json", "jsonl"),
        Target("MTU-Bench", {"S-M_eval.jsonl": _lines_head("mtu_bench/MTU-Eval/benchmark/S-M_eval.jsonl", 3)},
               "S-M_eval.jsonl", "jsonl"),
        Target("ToolBench", {"instruction/G1_query.json": _json_head("toolbench/data_example/instruction/G1_query.json", 3)},
               "instruction/G1_query.json", "array"),
        Target("ToolBench", {"answer/G1_answer/10_ChatGPT_DFS_woFilter_w2.json":
                             _read("toolbench/data_example/answer/G1_answer/10_ChatGPT_DFS_woFilter_w2.json")},
               "answer/G1_answer/10_ChatGPT_DFS_woFilter_w2.json", "whole", extra={"one_record": True}),
    ]
    if wheel is not None:
        t.append(Target("BFCL", bfcl_files(wheel), "BFCL_v4_simple_python.json", "jsonl"))
    if generated_samples is not None:
        t.append(Target("generated", {"train.jsonl": generated_samples}, "train.jsonl", "jsonl"))
    return t


# ------------------------------------------------------------------------------------------ mutations
def byte_mutations(data: bytes, seed: int, n: int) -> list[tuple[str, bytes]]:
    """Seeded text-level mutations: truncations, byte flips, a cut inside a multi-byte character, invalid
    UTF-8 inside a string, BOM + CRLF."""
    rng = random.Random(seed)
    out = []
    multibyte = [i for i, b in enumerate(data) if b >= 0xC0]
    if multibyte:
        out.append(("cut inside a character", data[:rng.choice(multibyte) + 1]))
    else:
        out.append(("cut inside a character", data + "é".encode()[:1]))
    quote = [i for i, b in enumerate(data) if b == ord('"')]
    at = rng.choice(quote) + 1 if quote else len(data) // 2
    out.append(("invalid UTF-8 in a string", data[:at] + b"\xff\xfe\xc3" + data[at:]))
    out.append(("BOM + CRLF", b"\xef\xbb\xbf" + data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")))
    while len(out) < n:
        kind = rng.choice(("truncate", "flip", "flip", "delete"))
        pos = rng.randrange(1, max(2, len(data)))
        if kind == "truncate":
            out.append((f"truncate at {pos}", data[:pos]))
        elif kind == "flip":
            value = rng.choice((0x00, 0x22, 0x2C, 0x5B, 0x7B, 0x7D, 0x80, 0xC3, 0xFF, rng.randrange(256)))
            out.append((f"byte {pos} := {value:#x}", data[:pos] + bytes([value]) + data[pos + 1:]))
        else:
            out.append((f"delete byte {pos}", data[:pos] + data[pos + 1:]))
    return out


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Paths to every value inside a record (depth-first), for picking one to replace."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, prefix + (index,))
    return found


def _set(value: Any, path: tuple, new: Any) -> None:
    for step in path[:-1]:
        value = value[step]
    value[path[-1]] = new


REPLACEMENTS: list[tuple[str, Callable[[random.Random], tuple[Any, str | None]]]] = [
    ("deep nesting", lambda rng: (None, DEEP)),
    ("huge integer", lambda rng: (None, HUGE_INT)),
    ("NaN", lambda rng: (None, "NaN")),
    ("Infinity", lambda rng: (None, "-Infinity")),
    ("overflowing float", lambda rng: (None, "1e999")),
    ("list", lambda rng: (["a", 1], None)),
    ("object", lambda rng: ({"k": [1]}, None)),
    ("null", lambda rng: (None, "null")),
    ("number", lambda rng: (rng.randrange(-5, 10**6), None)),
    ("empty string", lambda rng: ("", None)),
    ("hex call text", lambda rng: (f"[f(a={HEX_TEXT})]", None)),
    ("deep text", lambda rng: ("[" * 50_000, None)),
    ("NaN text", lambda rng: ('[{"name": "f", "arguments": {"a": NaN}}]', None)),
    ("huge-int text", lambda rng: ('{"a": ' + HUGE_INT + "}", None)),
]


def record_mutations(records: list[Any], seed: int, n: int) -> tuple[list[Any], dict[str, str], list[str]]:
    """The originals followed by ``n`` mutated copies (one replaced value, a dropped key or a list/object id
    each); returns (records, raw JSON placeholders, descriptions)."""
    import copy

    rng = random.Random(seed)
    out, fuzz, what = list(records), {}, []
    for k in range(n):
        record = copy.deepcopy(rng.choice(records))
        if k % 5 == 4 and isinstance(record, dict) and record:
            key = rng.choice(list(record))
            if k % 10 == 4:
                record[key] = rng.choice((["x", "y"], {"id": 1}))
                what.append(f"top-level {key!r} → list/object")
            else:
                del record[key]
                what.append(f"drop {key!r}")
            out.append(record)
            continue
        paths = _paths(record)
        if not paths:
            continue
        path = rng.choice(paths)
        name, make = REPLACEMENTS[k % len(REPLACEMENTS)]
        value, raw = make(rng)
        if raw is not None:
            key = f"@@FUZZ{k}@@"
            fuzz[key] = raw
            value = key
        _set(record, path, value)
        out.append(record)
        what.append(f"{name} at {'/'.join(map(str, path))[:80]}")
    return out, fuzz, what


# ------------------------------------------------------------------------------------------ checks
def check_strict_jsonl(path: Path) -> int:
    """Every line of an output file is strict JSON (no NaN/Infinity, UTF-8); returns the line count."""
    count = 0
    for line in path.read_bytes().splitlines():
        loads_strict(line)  # raises on anything not strict
        count += 1
    return count


def process_checked(target: Target, main: bytes | None, root: Path) -> dict:
    """Process the target (with ``main`` as its main file) and check the invariants; returns the manifest totals."""
    from adapter_support import run

    folder = target.write(root / "raw", main)
    started = time.perf_counter()
    result = run(target.adapter, folder, root / "data")  # asserts in = out + rejected and valid samples
    seconds = time.perf_counter() - started
    assert seconds < RUN_SECONDS, f"{target.adapter}: {seconds:.1f} s"
    processed = root / "data" / "processed" / result.manifest["name"]
    for path in processed.glob("*.jsonl"):
        check_strict_jsonl(path)
    check_strict_jsonl(root / "data" / "tools" / f"{result.manifest['name']}.jsonl")
    for reject in result.rejects:
        assert reject["reason"]
    shutil.rmtree(root, ignore_errors=True)
    return {**result.manifest["totals"], "seconds": seconds}


__all__ = ["Target", "targets", "byte_mutations", "record_mutations", "process_checked", "check_strict_jsonl",
           "DEEP", "HUGE_INT", "HEX_TEXT", "REPO"]
