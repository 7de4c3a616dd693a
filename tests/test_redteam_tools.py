"""Red team of the toolkits and `python tools run`: hostile --args/--state, escapes, SQL that allocates."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from opentoollab.cli.tools import tools
from opentoollab.tools.base import ToolkitError
from opentoollab.tools.episode import Episode


def _run(*args):
    return CliRunner().invoke(tools, ["run", *args])


@pytest.mark.parametrize("state", [
    {"notes": 5}, {"notes": None}, {"tickets": True, "agents": []}, {"products": 1.5},
    {"products": [{"id": ["list"], "price_cents": 1, "stock": 1}]},
])
def test_bad_state_is_one_line(tmp_path, state):
    """Before: TypeError traceback from setup() (notes, tickets, shop)."""
    path = tmp_path / "state.json"
    path.write_text(json.dumps(state))
    for target in ("notes.list_notes", "tickets.list_tickets", "shop.search_products"):
        result = _run(target, "--state", str(path), "--args", "{}" if "search" not in target else '{"query": "a"}')
        assert result.exit_code in (0, 1, 2) and "Traceback" not in result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)


def test_wrong_shape_inside_state_fails_the_call_not_the_process():
    """Before: AttributeError/TypeError tracebacks at call time (a note body of -5, tags of -5, a dict for a list)."""
    from opentoollab.tools.notes import seed_config

    config = seed_config(1)
    config["notes"][0]["body"] = -5
    config["notes"][0]["tags"] = -5
    with Episode(["notes"], {"notes": config}) as episode:
        with pytest.raises(ToolkitError, match="config"):
            episode.call("list_notes", {})
    with pytest.raises(ToolkitError, match="bad notes config"):
        Episode(["notes"], {"notes": {"notes": 3}})


def test_deep_args_and_state_are_one_line(tmp_path):
    """Before: RecursionError traceback for '[' * 100000."""
    result = _run("math.calculate_mean", "--args", "[" * 100_000)
    assert result.exit_code == 2 and "nested too deeply" in result.output
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000)
    result = _run("notes.list_notes", "--state", str(path))
    assert result.exit_code == 2 and "nested too deeply" in result.output


@pytest.mark.parametrize("query", ["SELECT length(zeroblob(900000000))",
                                   "SELECT length(replace(hex(zeroblob(100000000)), '0', '00'))"])
def test_sql_values_are_bounded(query):
    """Before: a 900 MB blob / 400 MB string was built in memory."""
    with Episode(["sql"], {}) as episode:
        result = episode.call("sql_query", {"query": query})
    assert "too large" in result["error"]


def test_sql_and_path_escapes_stay_refused(tmp_path):
    with Episode(["files", "sql"], {}) as episode:
        (episode.root / "link.txt").symlink_to("/etc/passwd")
        for tool, args in (("read_file", {"path": "link.txt"}), ("read_file", {"path": "../../etc/passwd"}),
                           ("read_file", {"path": "/etc/passwd"}),
                           ("sql_query", {"query": "ATTACH DATABASE 'x.db' AS x"}),
                           ("sql_query", {"query": "SELECT load_extension('x')"}),
                           ("sql_query", {"query": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) "
                                                   "SELECT count(*) FROM c"})):
            assert "error" in episode.call(tool, args)
