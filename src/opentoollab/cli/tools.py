"""``python tools ...``: the deduplicated tool catalogs written by ``datasets process``."""

from __future__ import annotations

import json

import click

from ..format.jsonl import iter_lines
from .common import data_dir_option, fail, print_table

CONTEXT = {"help_option_names": ["-h", "--help"]}


@click.group(context_settings=CONTEXT)
def tools() -> None:
    """Browse the standardized tool catalogs (DATA_DIR/tools/<NAME>.jsonl)."""


@tools.command("list", context_settings=CONTEXT)
@click.argument("name", required=False)
@click.option("--grep", default=None, help="Only tools whose name or description contains this text (case-insensitive).")
@click.option("--json", "as_json", is_flag=True, help="Print the tool definitions as JSONL.")
@data_dir_option
def list_command(name, grep, as_json, store):
    """Without NAME: each catalog and its tool count. With NAME: that corpus's tools."""
    folder = store.root / "tools"
    catalogs = sorted(folder.glob("*.jsonl")) if folder.is_dir() else []
    if name is None:
        rows = [{"catalog": p.stem, "tools": sum(1 for _ in iter_lines(p)), "path": str(p)} for p in catalogs]
        if not rows:
            fail(f"no tool catalogs in {folder}; run `python datasets deal NAME` first")
        print_table(rows, ["catalog", "tools", "path"])
        return
    from ..datasets.sources import canonical_name

    wanted = (canonical_name(name) or name).lower()
    match = [p for p in catalogs if p.stem.lower() == wanted]
    if not match:
        fail(f"no catalog for {name!r} in {folder}; run `python datasets deal {name}` first")
    needle = grep.lower() if grep else None
    rows = []
    for line in iter_lines(match[0]):
        tool = line.value
        if needle and needle not in (tool["name"] + " " + tool.get("description", "")).lower():
            continue
        if as_json:
            click.echo(json.dumps(tool, ensure_ascii=False))
        else:
            rows.append({"name": tool["name"], "params": len(tool["parameters"].get("properties", {})),
                         "description": tool.get("description", "")[:80].replace("\n", " ")})
    if not as_json:
        print_table(rows, ["name", "params", "description"])
