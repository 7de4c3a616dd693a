"""The package's rooms and the import rule (docs/architecture.md), checked on the source text.

Rooms from the bottom: format → tools, llm → datasets → tag → trainer → benchmark → cli. A module may
import its own room and the rooms below it, never one above; no two modules may import each other,
directly or in a loop (imports inside functions count too); no module grows past 600 lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "opentoollab"
RANK = {"format": 0, "tools": 1, "llm": 1, "datasets": 2, "tag": 3, "trainer": 4, "benchmark": 5, "cli": 6}
MAX_LINES = 600


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports(path: Path, known: set[str]) -> set[str]:
    """Every opentoollab module ``path`` imports, at top level or inside functions."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        targets = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            # `from pkg import sub` imports the submodule when there is one
            targets = [f"{module}.{a.name}" if f"{module}.{a.name}" in known else module for a in node.names]
        for target in targets:
            if target.startswith("opentoollab") and target in known and target != name:
                found.add(target)
    return found


def room(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in RANK else None


def graph() -> dict[str, set[str]]:
    table = modules()
    return {name: imports(path, set(table)) for name, path in table.items()}


def test_every_module_lives_in_a_room():
    loose = [m for m in modules() if room(m) is None and m not in ("opentoollab", "opentoollab.__main__")]
    assert loose == []


def test_imports_point_down_only():
    upward = []
    for importer, targets in graph().items():
        for target in targets:
            if target == "opentoollab":  # the root package: __version__ only
                continue
            a, b = room(importer), room(target)
            if a is None or b is None:
                continue
            if a != b and RANK[b] >= RANK[a]:
                upward.append(f"{importer} → {target}")
    assert upward == []


def test_no_import_cycles():
    edges = graph()
    cycles = []
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(" → ".join(stack[stack.index(nxt):] + [node, nxt]) if nxt in stack else f"{node} → {nxt}")
            elif nxt not in state:
                visit(nxt, stack + [node])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [])
    assert cycles == []


def test_no_module_over_the_line_limit():
    long = {m: n for m, p in modules().items() if (n := len(p.read_text("utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_every_package_says_what_it_owns_and_may_import():
    for init in PACKAGE.rglob("__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text("utf-8"))) or ""
        if init.parent.name in RANK:
            assert "May import" in doc, init


@pytest.mark.parametrize("upward", ["from ..trainer.mix import build_mix", "from opentoollab.cli import main"])
def test_the_rule_catches_an_upward_import(tmp_path, monkeypatch, upward):
    """The checker itself: a planted upward import in a datasets module is reported."""
    fake = tmp_path / "opentoollab"
    for name, path in modules().items():
        target = fake / path.relative_to(PACKAGE)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path.read_text("utf-8"))
    (fake / "datasets" / "export.py").write_text((PACKAGE / "datasets" / "export.py").read_text("utf-8") + f"\n{upward}\n")
    monkeypatch.setattr(__import__(__name__), "PACKAGE", fake)
    with pytest.raises(AssertionError):
        test_imports_point_down_only()
