"""The deterministic seed file tree the file-system toolkits work on, built by code from a seed.

About a hundred files of twelve types (txt, log, md, csv, json, jsonl, yaml, xlsx, pdf, png, jpg and a
SQLite ``.db``) in nested folders (projects/, reports/, data/, notes/, logs/, config/, images/, docs/,
archive/), with varied English and Chinese content: project notes, meeting minutes, sales tables,
inventory, employee lists, server logs, configs, recipes, travel plans, invoices...

Every byte is a function of ``(seed, path)``: each file has its own random stream (``random.Random`` seeded
with a string, whose ``random()`` sequence Python guarantees stable), only exact integer/IEEE arithmetic
is used (no libm), and the binary formats are written by hand: xlsx as a STORED zip with fixed timestamps,
PDF with uncompressed content streams, PNG with stored (level-0) deflate blocks, JPEG as a DC-only
baseline image. The one exception is the SQLite database, whose bytes depend on the SQLite version; its
content does not, and nothing here reports its size.

Files are generated lazily and only for the paths kept: ``build_tree`` with ``sample=20`` generates and
writes 20 files (a few milliseconds). ``tree_manifest`` describes the same files without writing them
(columns and row counts of tables, line counts and distinctive words of text, sizes of images, the
database's tables), so a data generator can pick targets and know answers.

This module holds the tree's layout (which builder makes which path), sampling, building and the
manifest. The content is made elsewhere: the seed's shared facts and random streams in ``seedtree_world``,
the file builders in ``seedtree_data`` (tables, records, configs, the database), ``seedtree_documents``
(prose, pdf reports, logs) and ``seedtree_images``, and the byte-exact format writers they use in
``seedtree_formats``.

May import: the standard library, ``opentoollab.tools.base`` (its error type), ``opentoollab.tools.seedtree_world``,
``opentoollab.tools.seedtree_data``, ``opentoollab.tools.seedtree_documents``, ``opentoollab.tools.seedtree_images``.
"""

from __future__ import annotations

import json
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from . import seedtree_data as data_files
from . import seedtree_documents as documents
from . import seedtree_images as images
from .base import ToolkitError
from .seedtree_world import Made, Rng, trip_keys, world


DATABASE_PATH = "data/company.db"
# every file type in the tree, in the order sampling guarantees them (the first ten are kept when sample >= 10)
FILE_TYPES = ("db", "csv", "xlsx", "txt", "md", "json", "jsonl", "yaml", "pdf", "png", "jpg", "log")
TEXT_TYPES = frozenset({"txt", "log", "md", "csv", "json", "jsonl", "yaml"})
BINARY_TYPES = frozenset({"xlsx", "pdf", "png", "jpg", "db"})


class TreeConfigError(ToolkitError, ValueError):
    """A bad ``files`` config (seed, sample, include): a one-line message for the user."""


# ---------------------------------------------------------------------------------- the tree's layout
_Spec = tuple[Callable[..., Made], tuple]


@lru_cache(maxsize=64)
def _specs(seed: int) -> dict[str, _Spec]:
    """path → (builder, args) of every file of the seed's tree, in path order."""
    w = world(seed)
    y = w.year
    specs: dict[str, _Spec] = {}
    for index, name in enumerate(w.projects):
        base = f"projects/{name}"
        specs[f"{base}/README.md"] = (documents.readme, (index,))
        specs[f"{base}/notes.txt"] = (documents.project_notes, (index,))
        specs[f"{base}/tasks.csv"] = (data_files.tasks, (index,))
        specs[f"{base}/config.yaml"] = (data_files.project_config, (index,))
        specs[f"{base}/budget.xlsx"] = (data_files.budget, (index,))
        for number in range(2):
            minutes = f"{base}/meetings/{documents.minutes_date(w, index, number)}-minutes.md"
            specs[minutes] = (documents.minutes, (index, number))
    for quarter in range(1, 5):
        specs[f"reports/sales_{y}_Q{quarter}.csv"] = (data_files.sales_quarter, (quarter,))
    specs[f"reports/sales_summary_{y}.xlsx"] = (data_files.sales_summary, ())
    specs[f"reports/annual_report_{y}.pdf"] = (documents.annual_report, (y,))
    specs["reports/quarterly_review.pdf"] = (documents.review_pdf, ())
    specs[f"reports/销售报告_{y}.md"] = (documents.sales_report_zh, ())
    specs[f"reports/kpi_{y}.json"] = (data_files.kpi, ())
    specs["reports/customer_feedback.txt"] = (documents.feedback, ())
    specs[DATABASE_PATH] = (data_files.database, ())
    specs["data/employees.csv"] = (data_files.employees_csv, ())
    specs["data/inventory.csv"] = (data_files.inventory_csv, ())
    specs["data/inventory.xlsx"] = (data_files.inventory_xlsx, (y,))
    specs["data/products.json"] = (data_files.products_json, ())
    specs["data/customers.jsonl"] = (data_files.customers_jsonl, ())
    specs["data/orders.jsonl"] = (data_files.orders_jsonl, ())
    specs["data/exchange_rates.json"] = (data_files.exchange_rates, ())
    for index in range(3):
        specs[f"data/weather/{w.cities[index][0].lower().replace(' ', '_')}.csv"] = (data_files.weather, (index,))
    r = Rng(seed, "layout")
    for day in sorted(r.sample(range(0, 360), 2)):
        specs[f"data/sensors/readings_{w.date(day)}.jsonl"] = (data_files.sensors, (day,))
    specs["notes/todo.txt"] = (documents.todo, ())
    specs["notes/ideas.md"] = (documents.ideas_md, ())
    specs["notes/reading_list.md"] = (documents.reading, ())
    specs["notes/会议记录.txt"] = (documents.minutes_zh, ())
    specs["notes/shopping_list.txt"] = (documents.shopping, ())
    for key in r.sample(sorted(documents.RECIPES), 3):
        specs[f"notes/recipes/{key}.md"] = (documents.recipe, (key,))
    for key in r.sample(sorted(documents.RECIPES_ZH), 2):
        specs[f"notes/recipes/{key}.txt"] = (documents.recipe_zh, (key,))
    for key in trip_keys(w):
        specs[f"notes/travel/{key}_trip.md"] = (documents.trip, (key,))
    specs["notes/travel/itinerary.yaml"] = (data_files.itinerary, ())
    specs["notes/travel/packing_list.txt"] = (documents.packing, ())
    for day in sorted(r.sample(range(0, 360), 3)):
        specs[f"notes/journal/{w.date(day)}.txt"] = (documents.journal, (day,))
    log_days = sorted(r.sample(range(0, 360), 4))
    for day in log_days[1:]:
        specs[f"logs/app-{w.date(day)}.log"] = (documents.app_log, (day,))
    specs["logs/access.log"] = (documents.access_log, ())
    specs["logs/error.log"] = (documents.error_log, ())
    specs["logs/deploy_history.jsonl"] = (data_files.deploys, ())
    specs["config/app.yaml"] = (data_files.app_yaml, ())
    specs["config/database.yaml"] = (data_files.db_yaml, ())
    specs["config/logging.yaml"] = (data_files.logging_yaml, ())
    specs["config/settings.json"] = (data_files.settings, ())
    specs["config/feature_flags.json"] = (data_files.feature_flags, ())
    specs["images/logo.png"] = (images.logo, ())
    specs["images/charts/sales_by_region.png"] = (images.bar_chart, ("region",))
    specs["images/charts/monthly_trend.png"] = (images.bar_chart, ("monthly",))
    specs["images/icons/gradient.png"] = (images.icon, ("L",))
    specs["images/icons/checker.png"] = (images.icon, ("P",))
    specs["images/icons/stripes.png"] = (images.icon, ("LA",))
    photos = r.sample(["beach", "mountains", "office", "team_offsite", "city_skyline", "garden", "harbour"], 4)
    for photo in photos:
        specs[f"images/photos/{photo}.jpg"] = (images.photo, ())
    specs["docs/employee_handbook.pdf"] = (documents.handbook_pdf, ())
    specs["docs/security_policy.pdf"] = (documents.security_pdf, ())
    specs["docs/onboarding.md"] = (documents.onboarding, ())
    specs["docs/api_reference.md"] = (documents.api_md, ())
    specs["docs/faq.txt"] = (documents.faq, ())
    specs["docs/员工手册.md"] = (documents.handbook_zh, ())
    specs[f"archive/{y - 1}/sales_{y - 1}.csv"] = (data_files.old_sales, (y - 1,))
    specs[f"archive/{y - 1}/annual_report_{y - 1}.pdf"] = (documents.annual_report, (y - 1,))
    specs[f"archive/{y - 1}/notes_old.txt"] = (documents.old_notes, (y - 1,))
    specs[f"archive/{y - 2}/inventory_{y - 2}.xlsx"] = (data_files.inventory_xlsx, (y - 2,))
    specs[f"archive/{y - 2}/settings_backup.json"] = (data_files.backup_json, (y - 2,))
    for number in documents.invoice_numbers(w):
        specs[f"archive/invoices/INV-{number}.pdf"] = (documents.invoice, (number,))
    specs[f"archive/old_logs/app-{w.date(log_days[0])}.log"] = (documents.app_log, (log_days[0],))
    return dict(sorted(specs.items()))


def file_type(path: str) -> str:
    """The type of a tree path: its lower-case extension ("" when none)."""
    name = path.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


@lru_cache(maxsize=1024)
def _made(seed: int, path: str) -> tuple[bytes, dict[str, Any]]:
    builder, args = _specs(seed)[path]
    content, info = builder(world(seed), Rng(seed, path), *args)
    data = content.encode("utf-8") if isinstance(content, str) else content
    return data, info


# ---------------------------------------------------------------------------------- public API
def _seed(config: dict[str, Any] | None) -> int:
    seed = (config or {}).get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TreeConfigError(f"seed must be an integer, not {seed!r}")
    return seed


def tree_paths(seed: int = 0) -> list[str]:
    """Every path of the full tree of ``seed`` (no content generated), sorted."""
    return list(_specs(seed))


def file_bytes(seed: int, path: str) -> bytes:
    """The exact bytes of one file of the tree of ``seed`` (KeyError for a path not in it)."""
    return _made(seed, path)[0]


def select_paths(config: dict[str, Any] | None = None) -> list[str]:
    """The paths ``build_tree(root, config)`` creates: all, or a deterministic sample of ``config["sample"]``.

    A sample always keeps the database and any ``config["include"]`` paths, then one file of each type in
    ``FILE_TYPES`` order while there is room (every type of the first ten when sample >= 10 and the includes
    leave room, all twelve when sample >= 12), then random others.
    """
    config = config or {}
    seed = _seed(config)
    paths = tree_paths(seed)
    sample = config.get("sample")
    include = list(config.get("include") or [])
    unknown = [path for path in include if path not in _specs(seed)]
    if unknown:
        raise TreeConfigError(f"include: not in the tree of seed {seed}: {', '.join(unknown)}")
    if sample is not None and (isinstance(sample, bool) or not isinstance(sample, int) or sample < 1):
        raise TreeConfigError(f"sample must be a positive integer or null, not {sample!r}")
    if sample is None or sample >= len(paths):
        return paths
    r = Rng(seed, "sample", sample)
    kept: list[str] = list(dict.fromkeys([DATABASE_PATH, *include]))
    by_type: dict[str, list[str]] = {}
    for path in paths:
        by_type.setdefault(file_type(path), []).append(path)
    for kind in FILE_TYPES:
        if len(kept) >= sample:
            break
        if not any(file_type(path) == kind for path in kept):
            kept.append(r.choice(by_type[kind]))
    chosen = set(kept)
    rest = [path for path in paths if path not in chosen]
    kept += r.sample(rest, max(0, sample - len(kept)))
    return sorted(kept)


def build_tree(root: Path, config: dict[str, Any] | None = None) -> list[str]:
    """Write the seed tree (or its sample, see ``select_paths``) under ``root``; the relative paths written.

    Args:
        root: The folder to fill (created if missing; must be empty of the tree's paths).
        config: ``seed`` (int, default 0), ``sample`` (int or None: how many files to keep), ``include``
            (paths that must be kept).
    """
    seed = _seed(config)
    paths = select_paths(config)
    root = Path(root)
    os.makedirs(root, exist_ok=True)
    made_dirs: set[str] = set()
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOFOLLOW", 0)
    for path in paths:
        folder = path.rpartition("/")[0]
        if folder and folder not in made_dirs:
            os.makedirs(os.path.join(root, folder), exist_ok=True)
            made_dirs.add(folder)
        descriptor = os.open(os.path.join(root, path), flags, 0o644)
        try:
            os.write(descriptor, _made(seed, path)[0])
        finally:
            os.close(descriptor)
    return paths


_WORD = re.compile(r"[A-Za-z][A-Za-z]{4,}")


def tree_manifest(config: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Describe the files ``build_tree(root, config)`` would write, without writing them.

    One dict per path (sorted): ``path``, ``type``, ``size`` (bytes; absent for the database, whose bytes
    depend on the SQLite version), and facts by type — tables (csv/xlsx): ``columns``, ``rows``,
    ``first_row`` (xlsx also ``sheets``: name → the same); text: ``lines``, ``chars``, ``words`` (up to 8
    words of 5+ letters found in this file and in as few other kept files as possible) and ``keywords``
    (exact strings planted in it: names, codes, Chinese terms); pdf: ``pages``, ``title``; images:
    ``format``, ``width``, ``height``, ``mode``; the database: ``tables`` (name → columns, rows, first_row).
    """
    seed = _seed(config)
    paths = select_paths(config)
    entries: list[dict[str, Any]] = []
    text_words: dict[str, list[str]] = {}
    frequency: dict[str, int] = {}
    for path in paths:
        data, info = _made(seed, path)
        kind = file_type(path)
        entry: dict[str, Any] = {"path": path, "type": kind}
        if kind != "db":
            entry["size"] = len(data)
        entry.update(json.loads(json.dumps(info)))
        if kind in TEXT_TYPES:
            text = data.decode("utf-8")
            entry["lines"] = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
            entry["chars"] = len(text)
            words = list(dict.fromkeys(_WORD.findall(text)))
            text_words[path] = words
            for word in words:
                frequency[word] = frequency.get(word, 0) + 1
        entries.append(entry)
    for entry in entries:
        words = text_words.get(entry["path"])
        if words is not None:
            ranked = sorted(words, key=lambda word: (frequency[word], -len(word), word))
            entry["words"] = ranked[:8]
    return entries
