"""The ``tables`` toolkit: inspect, filter, sort, select and aggregate csv/tsv/xlsx tables of the workspace.

Tables are read through the files sandbox (``opentoollab.tools.files.load_table``: first row = header,
columns typed integer/number/string, parsed once per content). Conditions are structured arguments
(column, operator from a fixed list, value): no expression string is ever evaluated. Results are JSON
rows; floats are rounded to 12 significant digits, sums and means use ``math.fsum`` (exactly rounded, so
identical on every machine), and every ordering is total (ties keep file order, empty cells last).
Filtered or sorted tables can be saved as csv, so calls can be chained.

The operations run in plain Python, not polars: the tables of a workspace are small (at most a few MB),
and polars is not fork-safe — once a process has run a polars operation, every process forked from it
hangs on its first one, and the data generator forks its workers.

May import: the standard library, ``opentoollab.tools.base``, ``opentoollab.tools.files`` (sandbox and
table loading).
"""

from __future__ import annotations

import csv
import io
import math
import operator
import os
from typing import Any, Literal

from .base import ToolError
from .files import MAX_WRITE_BYTES
from .files_readers import clean_number, load_table
from .sandbox import SandboxedToolkit, file_extension

MAX_ROWS = 200
MAX_GROUPS = 200
Operator = Literal["==", "!=", ">", ">=", "<", "<=", "contains"]
Metric = Literal["sum", "mean", "min", "max", "count", "median"]


class _Frame:
    """Column names and rows (lists of typed cells) of a table or of a result derived from it."""

    def __init__(self, columns: list[str], rows: list[list[Any]]) -> None:
        self.columns = columns
        self.rows = rows

    @property
    def height(self) -> int:
        return len(self.rows)

    def select(self, names: list[str]) -> "_Frame":
        indexes = [self.columns.index(name) for name in names]
        return _Frame(list(names), [[row[i] for i in indexes] for row in self.rows])


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _sorted_rows(rows: list[list[Any]], indexes: list[int], descending: bool) -> list[list[Any]]:
    """Rows stably sorted by the given columns (most significant first), empty cells last either way."""
    ordered = list(rows)
    for index in reversed(indexes):  # stable passes, least significant column first
        present = [row for row in ordered if row[index] is not None]
        missing = [row for row in ordered if row[index] is None]
        ordered = sorted(present, key=lambda row: row[index], reverse=descending) + missing
    return ordered


class Tables(SandboxedToolkit):
    """Spreadsheet operations on csv/tsv/xlsx files of the workspace."""

    name = "tables"
    description = "Filter, sort, select and aggregate the rows of CSV and Excel tables in the workspace."

    # ----------------------------------------------------------------------------- helpers
    def _load(self, path: str, sheet: str | None) -> tuple[dict[str, Any], _Frame]:
        table = load_table(self.sandbox, path, sheet)
        if not table["columns"]:
            raise ToolError(f"{table['path']} is empty")
        return table, _Frame(table["columns"], table["rows"])

    @staticmethod
    def _check_columns(table: dict[str, Any], names: list[str], what: str = "column") -> None:
        for name in names:
            if name not in table["columns"]:
                raise ToolError(f"{table['path']} has no {what} {name!r}; columns: {', '.join(table['columns'])}")

    @staticmethod
    def _check_rows(max_rows: int) -> None:
        if not 1 <= max_rows <= MAX_ROWS:
            raise ToolError(f"max_rows must be between 1 and {MAX_ROWS}")

    def _result(self, table: dict[str, Any], frame: _Frame, max_rows: int, save_as: str | None) -> dict[str, Any]:
        shown = [[clean_number(value) for value in row] for row in frame.rows[:max_rows]]
        result: dict[str, Any] = {"path": table["path"], "columns": list(frame.columns), "rows": shown,
                                  "row_count": frame.height, "truncated": frame.height > max_rows}
        if table["sheet"]:
            result["sheet"] = table["sheet"]
        if save_as is not None:
            result["saved_to"] = self._save(frame, save_as)
        return result

    def _save(self, frame: _Frame, save_as: str) -> str:
        absolute, rel = self.sandbox.resolve(save_as, must_exist=False, kind="file", allow_root=False)
        kind = file_extension(rel)
        if kind not in ("csv", "tsv"):
            raise ToolError("save_as must name a .csv or .tsv file")
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter="\t" if kind == "tsv" else ",", lineterminator="\n")
        writer.writerow(frame.columns)
        for row in frame.rows:
            writer.writerow(["" if value is None else _text(clean_number(value)) for value in row])
        data = buffer.getvalue().encode("utf-8")
        if len(data) > MAX_WRITE_BYTES:
            raise ToolError(f"the table is too large to save ({len(data):,} bytes; limit {MAX_WRITE_BYTES:,})")
        folder = rel.rpartition("/")[0]
        if folder:
            self.sandbox.resolve(folder, must_exist=False)
            os.makedirs(self.sandbox.root / folder, exist_ok=True)
        descriptor = os.open(absolute, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o644)
        try:
            os.write(descriptor, data)
        finally:
            os.close(descriptor)
        return rel

    # ----------------------------------------------------------------------------- tools
    def table_columns(self, path: str, sheet: str | None = None) -> dict[str, Any]:
        """List the columns of a table file (csv, tsv or xlsx) with their types and example values; count its rows.

        Args:
            path: Table file, relative to the workspace root, e.g. "data/employees.csv".
            sheet: Worksheet name for xlsx files; omit for the first sheet.
        """
        table, frame = self._load(path, sheet)
        columns = []
        for index, (name, kind) in enumerate(zip(table["columns"], table["types"])):
            cells = [row[index] for row in frame.rows]
            examples = list(dict.fromkeys(cell for cell in cells if cell is not None))[:3]
            columns.append({"name": name, "type": kind, "empty_cells": cells.count(None),
                            "examples": [clean_number(value) for value in examples]})
        result: dict[str, Any] = {"path": table["path"], "columns": columns, "row_count": frame.height}
        if table["sheets"]:
            result["sheet"] = table["sheet"]
            result["sheets"] = table["sheets"]
        return result

    def table_select(self, path: str, columns: list[str], distinct: bool = False, sheet: str | None = None,
                     max_rows: int = 50) -> dict[str, Any]:
        """Return only some columns of a table, optionally only their distinct value combinations.

        Args:
            path: Table file (csv, tsv or xlsx), relative to the workspace root.
            columns: Names of the columns to keep, in the order wanted, e.g. ["name", "department"].
            distinct: If true, return each distinct combination of values once (in order of first appearance).
            sheet: Worksheet name for xlsx files; omit for the first sheet.
            max_rows: Maximum number of rows to return (1-200).
        """
        self._check_rows(max_rows)
        if not columns:
            raise ToolError("columns must name at least one column")
        table, frame = self._load(path, sheet)
        self._check_columns(table, columns)
        selected = frame.select(list(dict.fromkeys(columns)))
        if distinct:
            selected = _Frame(selected.columns, [list(row) for row in dict.fromkeys(tuple(r) for r in selected.rows)])
        return self._result(table, selected, max_rows, None)

    def table_filter(self, path: str, column: str, op: Operator, value: str | float, ignore_case: bool = False,
                     columns: list[str] | None = None, sheet: str | None = None, max_rows: int = 50,
                     save_as: str | None = None) -> dict[str, Any]:
        """Keep the rows of a table where one column satisfies a condition, e.g. salary > 100000 or city == "Berlin".

        Args:
            path: Table file (csv, tsv or xlsx), relative to the workspace root.
            column: Column the condition tests.
            op: Comparison: "==", "!=", ">", ">=", "<", "<=", or "contains" (the cell's text contains the value). Text
                columns compare alphabetically, which also orders ISO dates like 2024-03-01.
            value: Value to compare with (a number for numeric columns, text otherwise).
            ignore_case: If true, text comparisons ignore upper/lower case.
            columns: Only return these columns (default: all).
            sheet: Worksheet name for xlsx files; omit for the first sheet.
            max_rows: Maximum number of rows to return (1-200); row_count gives the number of all matching rows.
            save_as: Also save all matching rows to this .csv file (relative to the workspace root), e.g. to filter it
                again.
        """
        self._check_rows(max_rows)
        table, frame = self._load(path, sheet)
        self._check_columns(table, [column, *(columns or [])])
        index = table["columns"].index(column)
        kind = table["types"][index]
        if isinstance(value, bool):
            value = str(value).lower()
        if op == "contains" or kind == "string":
            needle = _text(value)
            if ignore_case:
                needle = needle.lower()

            def cell_of(row: list[Any]) -> Any:
                text = _text(row[index])
                return text.lower() if ignore_case else text

            literal: Any = needle
        else:
            try:
                literal = float(value)
            except (TypeError, ValueError):
                raise ToolError(f"column {column!r} holds numbers; compare it with a number, not {value!r}") from None
            if math.isnan(literal) or math.isinf(literal):
                raise ToolError("value must be a finite number")

            def cell_of(row: list[Any]) -> Any:
                return row[index]

        test = {"==": operator.eq, "!=": operator.ne, ">": operator.gt, ">=": operator.ge, "<": operator.lt,
                "<=": operator.le, "contains": lambda cell, needle: needle in cell}[op]
        matched = _Frame(frame.columns, [row for row in frame.rows
                                         if row[index] is not None and test(cell_of(row), literal)])
        if columns:
            matched = matched.select(list(dict.fromkeys(columns)))
        return self._result(table, matched, max_rows, save_as)

    def table_sort(self, path: str, by: list[str], descending: bool = False, columns: list[str] | None = None,
                   sheet: str | None = None, max_rows: int = 20, save_as: str | None = None) -> dict[str, Any]:
        """Sort the rows of a table by one or more columns.

        For example the 5 highest salaries: by ["salary"], descending true, max_rows 5.

        Args:
            path: Table file (csv, tsv or xlsx), relative to the workspace root.
            by: Columns to sort by, most important first, e.g. ["department", "salary"].
            descending: If true, sort from largest to smallest (Z to A).
            columns: Only return these columns (default: all).
            sheet: Worksheet name for xlsx files; omit for the first sheet.
            max_rows: Maximum number of rows to return (1-200).
            save_as: Also save the whole sorted table to this .csv file (relative to the workspace root).
        """
        self._check_rows(max_rows)
        if not by:
            raise ToolError("by must name at least one column")
        table, frame = self._load(path, sheet)
        self._check_columns(table, [*by, *(columns or [])])
        keys = [table["columns"].index(name) for name in dict.fromkeys(by)]
        ordered = _Frame(frame.columns, _sorted_rows(frame.rows, keys, descending))
        if columns:
            ordered = ordered.select(list(dict.fromkeys(columns)))
        return self._result(table, ordered, max_rows, save_as)

    def table_aggregate(self, path: str, metric: Metric, column: str | None = None, group_by: list[str] | None = None,
                        order: Literal["group", "value_ascending", "value_descending"] = "group",
                        sheet: str | None = None, max_groups: int = 50) -> dict[str, Any]:
        """Compute a sum, mean, median, minimum, maximum or count of a column, for the whole table or per group.

        Args:
            path: Table file (csv, tsv or xlsx), relative to the workspace root.
            metric: "sum", "mean", "median", "min", "max" of the column, or "count" (number of rows, or of non-empty
                cells when a column is given).
            column: Column to aggregate (required except for "count"), e.g. "revenue".
            group_by: Columns to group rows by, e.g. ["region"]; omit for one result over all rows.
            order: Order of the groups: "group" (by group values), "value_ascending" or "value_descending" (by the
                computed value).
            sheet: Worksheet name for xlsx files; omit for the first sheet.
            max_groups: Maximum number of groups to return (1-200).
        """
        if not 1 <= max_groups <= MAX_GROUPS:
            raise ToolError(f"max_groups must be between 1 and {MAX_GROUPS}")
        if column is None and metric != "count":
            raise ToolError(f"metric {metric!r} needs a column")
        table, frame = self._load(path, sheet)
        keys = list(dict.fromkeys(group_by or []))
        self._check_columns(table, [*keys, *([column] if column else [])])
        if column and metric in ("sum", "mean", "median"):
            kind = table["types"][table["columns"].index(column)]
            if kind == "string":
                raise ToolError(f"column {column!r} holds text; {metric} needs a numeric column")
        label = f"{metric}_{column}" if column else "count"
        if keys and label in keys:
            label = f"{label}_value"
        key_indexes = [table["columns"].index(key) for key in keys]
        value_index = table["columns"].index(column) if column else None
        groups: dict[tuple, list[Any]] = {}
        for row in frame.rows:  # groups in order of first appearance
            values = groups.setdefault(tuple(row[i] for i in key_indexes), [])
            if value_index is None:
                values.append(1)
            elif row[value_index] is not None:
                values.append(row[value_index])
        if not keys and not groups:
            groups[()] = []
        results: list[tuple[list[Any], Any]] = [
            ([clean_number(v) for v in group], self._compute(metric, values)) for group, values in groups.items()]
        if order == "group":  # each key column holds one type, so values compare; empty keys last
            results.sort(key=lambda item: [(v is None, 0 if v is None else v) for v in item[0]])
        else:
            present = [item for item in results if item[1] is not None]
            missing = [item for item in results if item[1] is None]
            present.sort(key=lambda item: item[1], reverse=order == "value_descending")
            results = present + missing
        rows = [[*group, value] for group, value in results[:max_groups]]
        result: dict[str, Any] = {"path": table["path"], "metric": metric, "column": column, "group_by": keys,
                                  "columns": [*keys, label], "rows": rows, "group_count": len(results),
                                  "truncated": len(results) > max_groups}
        if table["sheet"]:
            result["sheet"] = table["sheet"]
        return result

    @staticmethod
    def _compute(metric: str, values: list[Any]) -> Any:
        if metric == "count":
            return len(values)
        if not values:
            return None
        if metric == "min":
            return clean_number(min(values))
        if metric == "max":
            return clean_number(max(values))
        if metric == "sum" and all(isinstance(v, int) for v in values):
            return sum(values)  # exact
        numbers = [float(v) for v in values]
        if metric == "sum":
            return clean_number(math.fsum(numbers))
        if metric == "mean":
            return clean_number(math.fsum(numbers) / len(numbers))
        ordered = sorted(numbers)
        middle = len(ordered) // 2
        return clean_number(ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2)
