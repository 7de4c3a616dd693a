"""``python tools ...``: executable toolkits (list, show, run one call in a sandbox) and the corpora's tool catalogs."""

from __future__ import annotations

import json

import click

from ..format.jsonl import iter_lines
from .common import data_dir_option, fail, print_table

CONTEXT = {"help_option_names": ["-h", "--help"]}


@click.group(context_settings=CONTEXT)
def tools() -> None:
    """Executable toolkits (sandboxed tool environments) and the corpora's tool catalogs.

    \b
      python tools list                          # toolkits, then the catalogs of processed corpora
      python tools show shop                     # declarations of a toolkit's tools
      python tools show files.read_file          # one declaration
      python tools run math.calculate_mean --args '{"numbers": [1, 2, 4]}'
      python tools list BFCL --grep weather      # a corpus's catalog (DATA_DIR/tools/<NAME>.jsonl)
    """


def _toolkit(name: str):
    from ..tools.base import ToolkitError, get_toolkit

    try:
        return get_toolkit(name)
    except ToolkitError as exc:
        fail(str(exc), 2)
    except ImportError as exc:
        fail(f"toolkit {name!r} cannot be loaded: {exc}")


def _toolkit_rows() -> list[dict]:
    from ..tools.base import REGISTRY, get_toolkit

    rows = []
    for name in REGISTRY:
        try:
            cls = get_toolkit(name)
            count = len(cls.tool_names()) if name != "bfcl" else "BFCL's"
            rows.append({"toolkit": name, "tools": count, "description": (cls.description or "")[:70]})
        except Exception as exc:  # noqa: BLE001 - an unloadable optional toolkit is shown, not fatal
            rows.append({"toolkit": name, "tools": "-", "description": f"unavailable: {exc}"[:70]})
    return rows


@tools.command("list", context_settings=CONTEXT)
@click.argument("name", required=False)
@click.option("--grep", default=None, help="Only tools whose name or description contains this text (case-insensitive).")
@click.option("--json", "as_json", is_flag=True, help="Print the tool definitions as JSONL.")
@data_dir_option
def list_command(name, grep, as_json, store):
    """Without NAME: the toolkits and each corpus catalog. With NAME: that toolkit's or corpus's tools."""
    from ..tools.base import REGISTRY

    folder = store.root / "tools"
    catalogs = sorted(folder.glob("*.jsonl")) if folder.is_dir() else []
    if name is None:
        print_table(_toolkit_rows(), ["toolkit", "tools", "description"])
        rows = [{"catalog": p.stem, "tools": sum(1 for _ in iter_lines(p)), "path": str(p)} for p in catalogs]
        click.echo("")
        if rows:
            print_table(rows, ["catalog", "tools", "path"])
        else:
            click.echo(f"no corpus tool catalogs in {folder} yet (`python datasets deal NAME` writes them)")
        return
    from ..datasets.sources import canonical_name

    wanted = (canonical_name(name) or name).lower()
    match = [p for p in catalogs if p.stem.lower() == wanted]
    if not match and name.lower() in REGISTRY:  # a corpus catalog of the same name (BFCL) comes first
        _print_tools(_toolkit(name).tools(), grep, as_json)
        return
    if not match:
        fail(f"no toolkit or catalog named {name!r} (toolkits: {', '.join(REGISTRY)}; catalogs in {folder}: "
             f"run `python datasets deal {name}` first, or choose the data folder with --data-dir)")
    _print_tools((line.value for line in iter_lines(match[0])), grep, as_json)


def _print_tools(declarations, grep, as_json) -> None:
    needle = grep.lower() if grep else None
    rows = []
    for tool in declarations:
        if needle and needle not in (tool["name"] + " " + tool.get("description", "")).lower():
            continue
        if as_json:
            click.echo(json.dumps(tool, ensure_ascii=False))
        else:
            rows.append({"name": tool["name"], "params": len(tool["parameters"].get("properties", {})),
                         "description": tool.get("description", "")[:80].replace("\n", " ")})
    if not as_json:
        print_table(rows, ["name", "params", "description"])


def _split(target: str) -> tuple[str, str | None]:
    kit, _, tool = target.partition(".")
    return kit, tool or None


@tools.command("show", context_settings=CONTEXT)
@click.argument("target", metavar="TOOLKIT[.TOOL]")
def show(target):
    """Print the JSON declaration of a toolkit's tools (or of one tool), as a model sees it."""
    from ..tools.base import ToolkitError

    kit, tool = _split(target)
    cls = _toolkit(kit)
    try:
        if tool is None:
            click.echo(json.dumps(cls.tools(), ensure_ascii=False, indent=2))
            return
        if tool not in cls.tool_names():
            fail(f"toolkit {kit!r} has no tool {tool!r}; tools: {', '.join(cls.tool_names())}", 2)
        click.echo(json.dumps(cls.declaration(tool), ensure_ascii=False, indent=2))
    except ToolkitError as exc:  # e.g. BFCL's classes not downloaded, or a wheel that is not the pinned one
        fail(str(exc))


@tools.command("run", context_settings=CONTEXT)
@click.argument("target", metavar="TOOLKIT.TOOL")
@click.option("--args", "arguments", default="{}", help="The call's arguments as a JSON object.")
@click.option("--state", type=click.Path(exists=True, dir_okay=False), default=None,
              help="JSON file with the toolkit's initial state (its config); default: the toolkit's default.")
@click.option("--seed", type=click.IntRange(0), default=None, help="Build the initial state (and file tree) from this seed.")
def run(target, arguments, state, seed):
    """Run one call in a fresh sandbox (removed afterwards) and print its JSON result."""
    import importlib

    from ..tools.base import REGISTRY, ToolkitError
    from ..tools.episode import Episode

    kit, tool = _split(target)
    cls = _toolkit(kit)
    if tool is None:
        fail("name the tool: TOOLKIT.TOOL (see `python tools show TOOLKIT`)", 2)
    if cls.name != "bfcl" and tool not in cls.tool_names():  # bfcl's tools depend on its config
        fail(f"toolkit {kit!r} has no tool {tool!r}; tools: {', '.join(cls.tool_names())}", 2)
    try:
        values = json.loads(arguments)
    except ValueError as exc:
        fail(f"--args is not JSON: {exc}", 2)
    except RecursionError:
        fail("--args is nested too deeply", 2)
    config: dict = {}
    if state:
        try:
            with open(state, encoding="utf-8") as handle:
                config[cls.name] = json.loads(handle.read())
        except ValueError as exc:
            fail(f"--state {state} is not JSON: {exc}", 2)
        except RecursionError:
            fail(f"--state {state} is nested too deeply", 2)
        except OSError as exc:
            fail(f"cannot read --state {state}: {exc.strerror}", 2)
    elif seed is not None:
        module = importlib.import_module(REGISTRY[cls.name][0])
        if hasattr(module, "seed_config"):
            config[cls.name] = module.seed_config(seed)
        if cls.uses_files:
            config["files"] = {"seed": seed}
    try:
        with Episode([cls.name], config) as episode:
            result = episode.call(tool, values)
    except ToolkitError as exc:
        fail(str(exc), 2)
    click.echo(json.dumps(result, ensure_ascii=False, indent=2))
    if isinstance(result, dict) and set(result) == {"error"}:
        raise SystemExit(1)
