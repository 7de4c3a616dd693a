"""The ``sql`` toolkit: read-only by default, refuses anything but SELECT, bounded work and rows."""

from __future__ import annotations

import hashlib
import sqlite3

import pytest

from opentoollab.tools import Episode, seedtree

SEED = 6


@pytest.fixture()
def episode():
    with Episode(["sql"], {"files": {"seed": SEED, "sample": 10}}) as ep:
        yield ep


def _digest(ep: Episode) -> str:
    return hashlib.sha256((ep.root / seedtree.DATABASE_PATH).read_bytes()).hexdigest()


def test_tables_and_description_match_the_manifest(episode):
    entry = next(e for e in seedtree.tree_manifest({"seed": SEED, "sample": 10}) if e["type"] == "db")
    listed = episode.call("sql_list_tables", {})
    assert listed["database"] == seedtree.DATABASE_PATH
    assert {t["name"]: (t["columns"], t["row_count"]) for t in listed["tables"]} == {
        name: (info["columns"], info["rows"]) for name, info in entry["tables"].items()}
    described = episode.call("sql_describe_table", {"table": "employees", "sample_rows": 2})
    assert [c["name"] for c in described["columns"]] == entry["tables"]["employees"]["columns"]
    assert described["sample_rows"][0] == entry["tables"]["employees"]["first_row"]
    assert {"column": "department_id", "references": "departments.id"} in described["foreign_keys"]
    assert next(c for c in described["columns"] if c["name"] == "id")["primary_key"]
    assert "no table" in episode.call("sql_describe_table", {"table": "nope"})["error"]


def test_select_results_rows_and_truncation(episode):
    result = episode.call("sql_query", {"query": "SELECT id, name FROM employees ORDER BY id", "max_rows": 5})
    assert result["columns"] == ["id", "name"] and result["row_count"] == 5 and result["truncated"]
    assert [row[0] for row in result["rows"]] == [101, 102, 103, 104, 105]
    joined = episode.call("sql_query", {"query": "SELECT d.name, COUNT(*) AS n FROM employees e JOIN departments d "
                                                 "ON d.id = e.department_id GROUP BY d.name ORDER BY d.name"})
    assert sum(row[1] for row in joined["rows"]) == 26 and not joined["truncated"]
    average = episode.call("sql_query", {"query": "SELECT AVG(price) FROM products"})["rows"][0][0]
    assert isinstance(average, float) and len(repr(average).split(".")[-1]) <= 12
    comment = episode.call("sql_query", {"query": "-- count\n/* all */ WITH x AS (SELECT 1 AS one) SELECT one FROM x"})
    assert comment["rows"] == [[1]]


@pytest.mark.parametrize("statement", [
    "DELETE FROM employees", "UPDATE products SET price = 0", "INSERT INTO departments VALUES (99, 'X', 1, 'Y')",
    "DROP TABLE orders", "CREATE TABLE t (a)", "PRAGMA writable_schema = 1", "ATTACH DATABASE 'x.db' AS x",
    "WITH x AS (SELECT 1) DELETE FROM employees", "SELECT 1; DELETE FROM employees", "VACUUM",
    "SELECT * FROM pragma_table_info('employees')"])
def test_read_only_refuses_every_change(episode, statement):
    before = _digest(episode)
    result = episode.call("sql_query", {"query": statement})
    assert "error" in result, statement
    assert episode.call("sql_execute", {"statement": statement})["error"] == \
        "the database is read-only; changes are not allowed"
    assert _digest(episode) == before
    assert episode.call("sql_query", {"query": "SELECT COUNT(*) FROM employees"})["rows"] == [[26]]


@pytest.mark.parametrize("query", ["SELECT random()", "SELECT randomblob(4)", "SELECT date('now')",
                                   "SELECT CURRENT_TIMESTAMP", "SELECT sqlite_version()",
                                   "SELECT datetime('2024-01-01', 'localtime')"])
def test_run_or_machine_dependent_functions_are_refused(episode, query):
    assert "error" in episode.call("sql_query", {"query": query})


def test_runaway_query_stops_after_bounded_work(episode):
    result = episode.call("sql_query", {"query": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
                                                 "SELECT COUNT(*) FROM c"})
    assert "too much work" in result["error"]
    assert episode.call("sql_query", {"query": "SELECT COUNT(*) FROM orders"})["rows"][0][0] == 60


def test_writable_database_allows_only_data_changes():
    with Episode(["sql"], {"files": {"seed": SEED, "sample": 10}, "sql": {"writable": True}}) as ep:
        changed = ep.call("sql_execute", {"statement": "UPDATE products SET stock = 0 WHERE id <= 3"})
        assert changed == {"statement": "UPDATE", "rows_affected": 3}
        assert ep.call("sql_query", {"query": "SELECT COUNT(*) FROM products WHERE stock = 0 AND id <= 3"})["rows"] == [[3]]
        for statement in ["DROP TABLE products", "CREATE TABLE t (a)", "PRAGMA journal_mode = WAL",
                          "SELECT 1", "ATTACH DATABASE 'x.db' AS x"]:
            assert "error" in ep.call("sql_execute", {"statement": statement}), statement
        assert "sql_execute" in ep.call("sql_query", {"query": "DELETE FROM products"})["error"]
        connection = sqlite3.connect(ep.root / seedtree.DATABASE_PATH)
        assert connection.execute("SELECT COUNT(*) FROM products").fetchone()[0] == 22
        connection.close()


def test_missing_or_non_database_file(tmp_path):
    with Episode(["sql"], {"files": {"seed": 1, "sample": 12}, "sql": {"database": "data/missing.db"}}) as ep:
        assert "no such file" in ep.call("sql_list_tables", {})["error"]
    with Episode(["sql"], {"files": {"seed": 1, "include": ["notes/todo.txt"], "sample": 12},
                           "sql": {"database": "notes/todo.txt"}}) as ep:
        assert "not a SQLite database" in ep.call("sql_list_tables", {})["error"]
    with Episode(["sql"], {"files": {"seed": 1, "sample": 12}, "sql": {"database": "../outside.db"}}) as ep:
        assert "leaves the workspace" in ep.call("sql_list_tables", {})["error"]
