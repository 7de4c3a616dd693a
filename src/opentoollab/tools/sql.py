"""The ``sql`` toolkit: list, describe and query the tables of the episode's SQLite database.

The database is a file of the episode's workspace (config ``database``, default the seed tree's
``data/company.db``), reached through the files sandbox (no absolute paths, no links). Queries run on a
read-only connection (``mode=ro``) behind an authorizer that allows only reading (no ATTACH, no PRAGMA, no
clock or random functions, whose results would differ between runs), with a progress handler that stops a
query after a fixed amount of work (an instruction count, so the same query stops the same way on every
machine). ``sql_execute`` (INSERT/UPDATE/DELETE) works only when the config says ``writable: true``.
Results: ``{"columns": [...], "rows": [[...]], "row_count": n, "truncated": bool}``, floats rounded to 12
significant digits.

May import: the standard library, ``opentoollab.tools.base``, ``opentoollab.tools.files`` (sandbox),
``opentoollab.tools.seedtree`` (the default database path).
"""

from __future__ import annotations

import re
import sqlite3
import urllib.parse
from contextlib import contextmanager
from typing import Any, Iterator

from .base import ToolError, ToolkitError
from .files_readers import clean_number
from .sandbox import SandboxedToolkit
from .seedtree import DATABASE_PATH

MAX_ROWS = 200  # rows one query may return
PROGRESS_STEP = 1_000  # VM instructions between progress-handler calls
MAX_PROGRESS_CALLS = 20_000  # → at most 20 million instructions per statement
MAX_CELL_CHARS = 1_000
MAX_QUERY_CHARS = 10_000
MAX_VALUE_BYTES = 10_000_000

_READ_ACTIONS = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE}
_WRITE_ACTIONS = _READ_ACTIONS | {sqlite3.SQLITE_INSERT, sqlite3.SQLITE_UPDATE, sqlite3.SQLITE_DELETE}
# functions whose results depend on the run or the machine, not on the data
_DENIED_FUNCTIONS = {"random", "randomblob", "sqlite_version", "sqlite_source_id", "sqlite_compileoption_get",
                     "sqlite_compileoption_used", "changes", "total_changes", "last_insert_rowid", "load_extension",
                     "sqlite_offset", "fts3_tokenizer", "readfile", "writefile", "edit"}
# the clock and the machine's time zone: 'now', CURRENT_DATE..., the 'localtime' and 'utc' modifiers
_CLOCK = re.compile(r"\bcurrent_(date|time|timestamp)\b|(['\"])\s*(now|localtime|utc)\s*\2", re.IGNORECASE)
_COMMENT = re.compile(r"^\s*(--[^\n]*(\n|$)|/\*.*?\*/)", re.DOTALL)


def _first_keyword(statement: str) -> str:
    text = statement
    while True:
        stripped = _COMMENT.sub("", text, count=1)
        if stripped == text:
            break
        text = stripped
    match = re.match(r"\s*([A-Za-z]+)", text)
    return match.group(1).upper() if match else ""


def _cell(value: Any) -> Any:
    if isinstance(value, bytes):
        return f"<blob of {len(value)} bytes>"
    if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
        return value[:MAX_CELL_CHARS] + "…"
    return clean_number(value)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class SQL(SandboxedToolkit):
    """SQLite database of the workspace: read-only queries (writes only when configured)."""

    name = "sql"
    description = ("A company SQLite database (employees, departments, products, customers, orders): inspect and "
                   "query it.")

    @classmethod
    def default_config(cls) -> dict[str, Any]:
        return {"database": DATABASE_PATH, "writable": False}

    def setup(self) -> None:
        super().setup()
        database = self.config.get("database", DATABASE_PATH)
        if not isinstance(database, str) or not database:
            raise ToolkitError("sql: config 'database' must be a path relative to the workspace")
        self.database = database
        self.writable = bool(self.config.get("writable", False))

    # ----------------------------------------------------------------------------- connection
    @contextmanager
    def _connect(self, write: bool = False) -> Iterator[sqlite3.Connection]:
        absolute, rel = self.sandbox.resolve(self.database, kind="file", allow_root=False)
        if self.sandbox.read_bytes(rel, head=16)[0] != b"SQLite format 3\x00":
            raise ToolError(f"{rel} is not a SQLite database")
        mode = "rw" if write else "ro"
        uri = f"file:{urllib.parse.quote(str(absolute))}?mode={mode}"
        try:
            connection = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as error:
            raise ToolError(f"cannot open the database {rel}: {error}") from None
        denied: list[str] = []
        allowed = _WRITE_ACTIONS if write else _READ_ACTIONS

        trusted = [False]  # our own metadata queries (fixed SQL) may use the pragma table functions

        def authorize(action: int, arg1: str | None, arg2: str | None, _db: str | None, _trigger: str | None) -> int:
            if trusted[0]:
                return sqlite3.SQLITE_OK
            if action == sqlite3.SQLITE_FUNCTION:
                if (arg2 or "").lower() in _DENIED_FUNCTIONS:
                    denied.append(f"the function {arg2}() is not available")
                    return sqlite3.SQLITE_DENY
                return sqlite3.SQLITE_OK
            if action in allowed:
                return sqlite3.SQLITE_OK
            if action == sqlite3.SQLITE_PRAGMA:
                denied.append("PRAGMA is not available; use sql_list_tables or sql_describe_table")
            elif action in (sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH):
                denied.append("other databases cannot be attached")
            else:
                denied.append("only SELECT queries are allowed" if not write else
                              "only INSERT, UPDATE and DELETE statements are allowed")
            return sqlite3.SQLITE_DENY

        steps = [0]

        def progress() -> int:
            steps[0] += 1
            return 1 if steps[0] > MAX_PROGRESS_CALLS else 0

        # no value (string, blob, row) beyond MAX_VALUE_BYTES: zeroblob(9e8), printf('%.*c', 9e8, 'x') would
        # otherwise allocate a gigabyte inside one C call that neither the time limit nor the step count stops
        connection.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
        connection.set_authorizer(authorize)
        connection.set_progress_handler(progress, PROGRESS_STEP)
        self._trusted = trusted
        try:
            yield connection
        except sqlite3.Error as error:
            message = str(error)
            if "too big" in message:
                raise ToolError(f"a value of the query is too large (limit {MAX_VALUE_BYTES:,} bytes)") from None
            if steps[0] > MAX_PROGRESS_CALLS or message == "interrupted":
                raise ToolError("the query does too much work; add conditions or a LIMIT") from None
            if denied:
                raise ToolError(f"statement refused: {denied[0]}") from None
            if "readonly" in message.replace(" ", "").replace("-", ""):
                raise ToolError("the database is read-only") from None
            raise ToolError(f"SQL error: {message}") from None
        except sqlite3.Warning as error:  # e.g. more than one statement
            raise ToolError(f"SQL error: {error}") from None
        finally:
            connection.close()

    def _meta(self, connection: sqlite3.Connection, sql: str, parameters: tuple = ()) -> list[tuple]:
        """Rows of one of this module's own metadata queries (run past the authorizer)."""
        self._trusted[0] = True
        try:
            return connection.execute(sql, parameters).fetchall()
        finally:
            self._trusted[0] = False

    def _table_names(self, connection: sqlite3.Connection) -> list[str]:
        rows = self._meta(connection, "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') "
                                      "AND name NOT LIKE 'sqlite_%' ORDER BY name")
        return [row[0] for row in rows]

    def _columns(self, connection: sqlite3.Connection, table: str) -> list[dict[str, Any]]:
        rows = self._meta(connection, 'SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?) '
                                      "ORDER BY cid", (table,))
        return [{"name": name, "type": kind or "", "not_null": bool(not_null), "default": default,
                 "primary_key": bool(pk)} for name, kind, not_null, default, pk in rows]

    @staticmethod
    def _check_statement(statement: str) -> None:
        if not statement.strip():
            raise ToolError("the SQL statement is empty")
        if len(statement) > MAX_QUERY_CHARS:
            raise ToolError(f"the SQL statement is too long (limit {MAX_QUERY_CHARS} characters)")
        if _CLOCK.search(statement):
            raise ToolError("the database has no clock: write dates explicitly, e.g. '2024-03-01'")

    # ----------------------------------------------------------------------------- tools
    def sql_list_tables(self) -> dict[str, Any]:
        """List the tables of the database with their column names and number of rows."""
        with self._connect() as connection:
            tables = []
            for name in self._table_names(connection):
                columns = [column["name"] for column in self._columns(connection, name)]
                count = connection.execute(f"SELECT COUNT(*) FROM {_quote(name)}").fetchone()[0]
                tables.append({"name": name, "columns": columns, "row_count": count})
        return {"database": self.sandbox.relative(self.database), "tables": tables}

    def sql_describe_table(self, table: str, sample_rows: int = 3) -> dict[str, Any]:
        """Describe one table: its columns (name, type, constraints), foreign keys, row count and a few example rows.

        Args:
            table: Table name, e.g. "employees".
            sample_rows: How many example rows to include (0-10).
        """
        if not 0 <= sample_rows <= 10:
            raise ToolError("sample_rows must be between 0 and 10")
        with self._connect() as connection:
            names = self._table_names(connection)
            if table not in names:
                raise ToolError(f"no table named {table!r}; tables: {', '.join(names)}")
            columns = self._columns(connection, table)
            keys = self._meta(connection, 'SELECT "from", "table", "to" FROM pragma_foreign_key_list(?) '
                                          "ORDER BY id, seq", (table,))
            count = connection.execute(f"SELECT COUNT(*) FROM {_quote(table)}").fetchone()[0]
            cursor = connection.execute(f"SELECT * FROM {_quote(table)} ORDER BY rowid LIMIT ?", (sample_rows,)) \
                if sample_rows else None
            sample = [[_cell(value) for value in row] for row in cursor.fetchall()] if cursor else []
        return {"table": table, "columns": columns,
                "foreign_keys": [{"column": column, "references": f"{target}.{target_column}"}
                                 for column, target, target_column in keys],
                "row_count": count, "sample_rows": sample}

    def sql_query(self, query: str, max_rows: int = 50) -> dict[str, Any]:
        """Run one read-only SQL SELECT query (SQLite dialect) and return the resulting rows.

        Args:
            query: A single SELECT statement (WITH ... SELECT is fine), e.g. "SELECT name, salary FROM employees WHERE
                salary > 100000 ORDER BY salary DESC". Use ORDER BY for a defined row order.
            max_rows: Maximum number of rows to return (1-200); truncated is true when there were more.
        """
        if not 1 <= max_rows <= MAX_ROWS:
            raise ToolError(f"max_rows must be between 1 and {MAX_ROWS}")
        self._check_statement(query)
        keyword = _first_keyword(query)
        if keyword not in ("SELECT", "WITH", "VALUES"):
            hint = " (the database is read-only)" if not self.writable else "; use sql_execute for changes"
            raise ToolError(f"only SELECT queries are allowed here, not {keyword or 'this statement'}{hint}")
        with self._connect() as connection:
            cursor = connection.execute(query)
            columns = [item[0] for item in cursor.description or []]
            fetched = cursor.fetchmany(max_rows + 1)
        rows = [[_cell(value) for value in row] for row in fetched[:max_rows]]
        return {"columns": columns, "rows": rows, "row_count": len(rows), "truncated": len(fetched) > max_rows}

    def sql_execute(self, statement: str) -> dict[str, Any]:
        """Change data with one INSERT, UPDATE or DELETE statement (only if the database is writable).

        Args:
            statement: A single INSERT, UPDATE or DELETE statement, e.g. "UPDATE products SET stock = 40 WHERE sku =
                'ELE-1005'".
        """
        if not self.writable:
            raise ToolError("the database is read-only; changes are not allowed")
        self._check_statement(statement)
        keyword = _first_keyword(statement)
        if keyword not in ("INSERT", "UPDATE", "DELETE", "REPLACE", "WITH"):
            raise ToolError(f"only INSERT, UPDATE and DELETE statements are allowed, not {keyword or 'this'}")
        with self._connect(write=True) as connection:
            cursor = connection.execute(statement)
            if cursor.description:
                raise ToolError("use sql_query for SELECT statements")
            affected = cursor.rowcount
        return {"statement": keyword, "rows_affected": affected}
