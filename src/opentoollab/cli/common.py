"""Options and helpers shared by the command groups."""

from __future__ import annotations

import functools
import sys
from typing import Any, Callable

import click

from ..datasets.store import ENV_DATA_DIR, Store


def data_dir_option(function: Callable) -> Callable:
    """``--data-dir DIR`` (env OPENTOOLLAB_DATA_DIR, default ./datasets) → a ``store`` argument."""

    @click.option("--data-dir", type=click.Path(file_okay=False), envvar=ENV_DATA_DIR, default=None,
                  help=f"Data root holding downloaded/, processed/ and tools/ [env {ENV_DATA_DIR}; default ./datasets].")
    @functools.wraps(function)
    def wrapper(*args: Any, data_dir: str | None, **kwargs: Any) -> Any:
        return function(*args, store=Store(data_dir), **kwargs)

    return wrapper


def fail(message: str, code: int = 1) -> None:
    """Print an error (no traceback) and exit."""
    click.secho(f"error: {message}", fg="red", err=True)
    sys.exit(code)


def print_table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    """A plain aligned text table on stdout."""
    cells = [[str(c) for c in columns]] + [[_fmt(row.get(c, "")) for c in columns] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    for index, line in enumerate(cells):
        click.echo("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(line, widths))))
        if index == 0:
            click.echo("  ".join("-" * w for w in widths))


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)
