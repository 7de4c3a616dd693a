"""The ``tables`` toolkit: structured filters, sorts, selections and aggregates over csv/xlsx, checked against
plain Python over the same files."""

from __future__ import annotations

import csv
import io
import math

import pytest

from opentoollab.tools import Episode, seedtree

SEED = 4


@pytest.fixture(scope="module")
def episode():
    with Episode(["tables"], {"files": {"seed": SEED}}) as ep:
        yield ep


def _csv(path: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(seedtree.file_bytes(SEED, path).decode("utf-8"))))


def _sales_path() -> str:
    return next(p for p in seedtree.tree_paths(SEED) if p.startswith("reports/sales_") and p.endswith("_Q2.csv"))


def test_columns_types_and_counts(episode):
    result = episode.call("table_columns", {"path": "data/employees.csv"})
    types = {c["name"]: c["type"] for c in result["columns"]}
    assert types == {"id": "integer", "name": "string", "email": "string", "department": "string", "title": "string",
                     "city": "string", "hire_date": "string", "salary": "integer"}
    assert result["row_count"] == len(_csv("data/employees.csv"))
    xlsx = episode.call("table_columns", {"path": "data/inventory.xlsx"})
    assert [c["name"] for c in xlsx["columns"]] == ["sku", "name", "category", "quantity", "unit_cost"]
    assert xlsx["sheet"] == xlsx["sheets"][0] and len(xlsx["sheets"]) == 2
    assert {c["name"]: c["type"] for c in xlsx["columns"]}["unit_cost"] == "number"


def test_filter_matches_python(episode):
    rows = _csv("data/employees.csv")
    expected = [[r["name"], int(r["salary"])] for r in rows if int(r["salary"]) >= 100000]
    result = episode.call("table_filter", {"path": "data/employees.csv", "column": "salary", "op": ">=",
                                           "value": 100000, "columns": ["name", "salary"], "max_rows": 200})
    assert result["rows"] == expected and result["row_count"] == len(expected)
    department = rows[0]["department"]
    same = episode.call("table_filter", {"path": "data/employees.csv", "column": "department", "op": "==",
                                         "value": department.upper(), "ignore_case": True, "max_rows": 200})
    assert same["row_count"] == sum(r["department"] == department for r in rows)
    contains = episode.call("table_filter", {"path": "data/employees.csv", "column": "email", "op": "contains",
                                             "value": ".example", "max_rows": 1})
    assert contains["row_count"] == len(rows) and contains["truncated"] and len(contains["rows"]) == 1
    sales = _csv(_sales_path())
    cutoff = sales[len(sales) // 2]["date"]
    later = episode.call("table_filter", {"path": _sales_path(), "column": "date", "op": ">", "value": cutoff})
    assert later["row_count"] == sum(r["date"] > cutoff for r in sales)


def test_filter_errors_are_results(episode):
    bad = episode.call("table_filter", {"path": "data/employees.csv", "column": "salary", "op": ">", "value": "lots"})
    assert "holds numbers" in bad["error"]
    assert "no column" in episode.call("table_filter", {"path": "data/employees.csv", "column": "nope", "op": "==",
                                                        "value": 1})["error"]
    assert "error" in episode.call("table_filter", {"path": "data/employees.csv", "column": "salary", "op": "=~",
                                                    "value": 1})
    assert "not a table" in episode.call("table_columns", {"path": "notes/todo.txt"})["error"]


def test_sort_and_select(episode):
    rows = _csv("data/employees.csv")
    top = sorted(rows, key=lambda r: -int(r["salary"]))[:3]
    result = episode.call("table_sort", {"path": "data/employees.csv", "by": ["salary"], "descending": True,
                                         "max_rows": 3, "columns": ["name", "salary"]})
    assert result["rows"] == [[r["name"], int(r["salary"])] for r in top]
    by_two = episode.call("table_sort", {"path": "data/employees.csv", "by": ["department", "id"], "max_rows": 200})
    keys = [(row[3], row[0]) for row in by_two["rows"]]
    assert keys == sorted(keys)
    distinct = episode.call("table_select", {"path": "data/employees.csv", "columns": ["department"], "distinct": True})
    assert [row[0] for row in distinct["rows"]] == list(dict.fromkeys(r["department"] for r in rows))


def test_aggregate_matches_python_and_is_exact(episode):
    sales = _csv(_sales_path())
    totals: dict[str, list[float]] = {}
    for row in sales:
        totals.setdefault(row["region"], []).append(float(row["revenue"]))
    result = episode.call("table_aggregate", {"path": _sales_path(), "metric": "sum", "column": "revenue",
                                              "group_by": ["region"]})
    assert result["columns"] == ["region", "sum_revenue"]
    assert result["rows"] == [[region, float(f"{math.fsum(values):.12g}")] for region, values in sorted(totals.items())]
    ranked = episode.call("table_aggregate", {"path": _sales_path(), "metric": "sum", "column": "revenue",
                                              "group_by": ["region"], "order": "value_descending"})
    assert [row[1] for row in ranked["rows"]] == sorted((row[1] for row in result["rows"]), reverse=True)
    count = episode.call("table_aggregate", {"path": _sales_path(), "metric": "count"})
    assert count["rows"] == [[len(sales)]]
    units = [int(r["units"]) for r in sales]
    assert episode.call("table_aggregate", {"path": _sales_path(), "metric": "max", "column": "units"})["rows"] == [
        [max(units)]]
    assert episode.call("table_aggregate", {"path": _sales_path(), "metric": "sum", "column": "units"})["rows"] == [
        [sum(units)]]
    mean = episode.call("table_aggregate", {"path": _sales_path(), "metric": "mean", "column": "units"})["rows"][0][0]
    assert mean == float(f"{sum(units) / len(units):.12g}")
    assert "needs a numeric column" in episode.call("table_aggregate", {"path": _sales_path(), "metric": "mean",
                                                                         "column": "region"})["error"]
    assert "needs a column" in episode.call("table_aggregate", {"path": _sales_path(), "metric": "sum"})["error"]


def test_xlsx_sheets_and_saved_results_chain(episode):
    second = episode.call("table_columns", {"path": "data/inventory.xlsx"})["sheets"][1]
    low = episode.call("table_filter", {"path": "data/inventory.xlsx", "sheet": second, "column": "quantity",
                                        "op": "<", "value": 100, "save_as": "out/low_stock.csv"})
    assert low["saved_to"] == "out/low_stock.csv" and low["sheet"] == second
    again = episode.call("table_aggregate", {"path": "out/low_stock.csv", "metric": "count", "group_by": ["category"]})
    assert sum(row[1] for row in again["rows"]) == low["row_count"]
    assert "csv" in episode.call("table_sort", {"path": "data/employees.csv", "by": ["id"],
                                                "save_as": "out/x.xlsx"})["error"]
    assert "leaves the workspace" in episode.call("table_sort", {"path": "data/employees.csv", "by": ["id"],
                                                                 "save_as": "../x.csv"})["error"]
    assert "no sheet" in episode.call("table_columns", {"path": "data/inventory.xlsx", "sheet": "Nope"})["error"]


def test_rewritten_file_is_read_again_not_from_cache():
    with Episode(["files", "tables"], {"files": {"seed": 1, "sample": 12}}) as ep:
        ep.call("write_file", {"path": "t.csv", "content": "a,b\n1,2\n"})
        assert ep.call("table_aggregate", {"path": "t.csv", "metric": "sum", "column": "a"})["rows"] == [[1]]
        ep.call("write_file", {"path": "t.csv", "content": "a,b\n3,4\n"})  # same size, same inode, same instant
        assert ep.call("table_aggregate", {"path": "t.csv", "metric": "sum", "column": "a"})["rows"] == [[3]]
        assert ep.call("read_table", {"path": "t.csv"})["rows"] == [[3, 4]]


def _aggregate_in_child(root: str) -> list:
    from pathlib import Path

    from opentoollab.tools.tables import Tables

    return Tables(None, Path(root)).call("table_aggregate", {"path": "data/employees.csv", "metric": "max",
                                                             "column": "salary"})["rows"]


def test_tables_work_in_processes_forked_after_use(episode):
    """The generator forks its workers: a table call in the parent must not make the children hang."""
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork on this platform")
    expected = episode.call("table_aggregate", {"path": "data/employees.csv", "metric": "max", "column": "salary"})
    with multiprocessing.get_context("fork").Pool(1) as pool:
        assert pool.apply_async(_aggregate_in_child, (str(episode.root),)).get(timeout=30) == expected["rows"]
