"""Intents over the episode's file tree, its SQLite database and its tables (files, sql, tables toolkits).

Arguments come from the seed tree's manifest (``opentoollab.tools.seedtree.tree_manifest``): only
files that this episode's sample holds, columns that exist, values that occur.
May import: the standard library, this package.
"""

from __future__ import annotations

import posixpath
import random
from typing import Any

from .dialogue import ProgramError
from .intents import Ask, World, intent, num, table_text, tr

TEXT_TYPES = ("txt", "md", "log", "yaml", "json", "jsonl", "csv")


def _file(world: World, rng: random.Random, *types: str, where=None) -> dict[str, Any]:
    files = [f for f in world.files_of(*types) if where is None or where(f)]
    return world.choose(rng, files, f"{'/'.join(types)} files")


def _base(path: str) -> str:
    return posixpath.basename(path)


@intent("files.list", "files")
def list_folder(world: World, rng: random.Random, lang: str) -> Ask:
    folders = sorted({posixpath.dirname(f["path"]) for f in world.files} - {""})
    folder = world.choose(rng, folders, "folders")
    text = tr(rng, lang, (f"What's in the {folder} folder?", f"List the contents of {folder}/.", f"Show me what {folder} contains."),
              (f"{folder} 文件夹里有什么？", f"列出 {folder}/ 的内容。", f"看看 {folder} 目录下有哪些东西。"))

    def reply(r: dict) -> str:
        names = [e["path"] + ("/" if e["type"] == "directory" else "") for e in r["entries"]]
        return tr(rng, lang, f"{folder} holds {r['count']} item(s): " + ", ".join(names) + ".", f"{folder} 下共有 {r['count']} 项：" + "，".join(names) + "。")
    return Ask("list_directory", {"path": folder}, text, reply, omit="path",
               without=tr(rng, lang, "Can you list a folder for me?", "能帮我列一下某个文件夹的内容吗？"),
               what=tr(rng, lang, "folder", "文件夹"), value=folder, action=tr(rng, lang, "browse folders", "浏览文件夹"))


@intent("files.find_ext", "files")
def find_by_extension(world: World, rng: random.Random, lang: str) -> Ask:
    ext = world.choose(rng, sorted({f["type"] for f in world.files}), "file types")
    text = tr(rng, lang, (f"Find every .{ext} file in my workspace.", f"Which {ext.upper()} files do I have?", f"Locate all the .{ext} files."),
              (f"找出工作区里所有的 .{ext} 文件。", f"我有哪些 {ext.upper()} 文件？", f"把所有 .{ext} 文件找出来。"))
    return Ask("find_files", {"extension": ext}, text,
               lambda r: tr(rng, lang, f"There are {r['count']} .{ext} file(s): " + ", ".join(r["files"]) + ".",
                            f"共有 {r['count']} 个 .{ext} 文件：" + "，".join(r["files"]) + "。"),
               action=tr(rng, lang, "search for files", "查找文件"))


@intent("files.read", "files")
def read_text(world: World, rng: random.Random, lang: str) -> Ask:
    f = _file(world, rng, "txt", "md", "yaml", "json", where=lambda f: f.get("chars", 0) < 1500)
    text = tr(rng, lang, (f"Open {f['path']} and show me what it says.", f"Read {f['path']} for me.", f"What's written in {_base(f['path'])} (it's at {f['path']})?"),
              (f"打开 {f['path']}，看看里面写了什么。", f"帮我读一下 {f['path']}。", f"{f['path']} 里写的是什么？"))
    return Ask("read_file", {"path": f["path"]}, text,
               lambda r: tr(rng, lang, f"Here is {r['path']}:\n\n{r['content']}", f"{r['path']} 的内容如下：\n\n{r['content']}"),
               omit="path", without=tr(rng, lang, f"Can you read {_base(f['path']).rsplit('.', 1)[0].replace('_', ' ')} to me?", f"能帮我读一下那个{_base(f['path']).rsplit('.', 1)[0]}文件吗？"),
               what=tr(rng, lang, "file path", "文件路径"), value=f["path"], action=tr(rng, lang, "read files", "读取文件"))


@intent("files.count", "files")
def count(world: World, rng: random.Random, lang: str) -> Ask:
    f = _file(world, rng, *TEXT_TYPES)
    text = tr(rng, lang, (f"How many words and lines are in {f['path']}?", f"Give me a word count for {f['path']}."),
              (f"{f['path']} 有多少字、多少行？", f"统计一下 {f['path']} 的字数。"))
    return Ask("count_words", {"path": f["path"]}, text,
               lambda r: tr(rng, lang, f"{r['path']} has {r['words']} words on {r['lines']} lines ({r['characters']} characters).",
                            f"{r['path']} 共 {r['lines']} 行，{r['words']} 个词，{r['characters']} 个字符。"),
               omit="path", without=tr(rng, lang, "How long is that file, in words?", "那个文件有多少字？"),
               what=tr(rng, lang, "file", "文件"), value=f["path"], action=tr(rng, lang, "count words in files", "统计文件字数"))


@intent("files.grep", "files")
def grep(world: World, rng: random.Random, lang: str) -> Ask:
    f = _file(world, rng, *TEXT_TYPES, where=lambda f: f.get("words"))
    word = rng.choice(f["words"]).lower()
    folder = posixpath.dirname(f["path"]) or "."
    text = tr(rng, lang, (f"Search the {folder} folder for \"{word}\".", f"Which lines under {folder} mention {word}?", f"grep for {word} in {folder}, ignoring case."),
              (f"在 {folder} 文件夹里搜索“{word}”。", f"{folder} 下哪些行提到了 {word}？", f"在 {folder} 里查找 {word}，不区分大小写。"))

    def reply(r: dict) -> str:
        hits = [f"{m['path']}:{m['line']}: {m['text']}" for m in r["matches"][:5]]
        more = r["match_count"] - len(hits)
        tail = tr(rng, lang, f" (and {more} more)", f"（另有 {more} 处）") if more > 0 else ""
        return tr(rng, lang, f"{r['match_count']} match(es){tail}:\n" + "\n".join(hits), f"共 {r['match_count']} 处匹配{tail}：\n" + "\n".join(hits))
    return Ask("grep_files", {"pattern": word, "path": folder, "ignore_case": True}, text, reply,
               action=tr(rng, lang, "search inside files", "在文件内容中搜索"))


@intent("files.image", "files")
def image(world: World, rng: random.Random, lang: str) -> Ask:
    f = _file(world, rng, "png", "jpg")
    text = tr(rng, lang, (f"What are the dimensions of {f['path']}?", f"Tell me the format and size of the image {f['path']}."),
              (f"{f['path']} 的尺寸是多少？", f"告诉我图片 {f['path']} 的格式和分辨率。"))
    return Ask("image_info", {"path": f["path"]}, text,
               lambda r: tr(rng, lang, f"{r['path']} is a {r['format']} image of {r['width']}×{r['height']} pixels ({r['mode']}).",
                            f"{r['path']} 是 {r['format']} 图片，{r['width']}×{r['height']} 像素（{r['mode']}）。"),
               action=tr(rng, lang, "inspect images", "查看图片信息"))


@intent("files.pdf", "files")
def pdf(world: World, rng: random.Random, lang: str) -> Ask:
    f = _file(world, rng, "pdf")
    text = tr(rng, lang, (f"What does the PDF {f['path']} say?", f"Extract the text of {f['path']}."),
              (f"PDF 文件 {f['path']} 写了什么？", f"提取 {f['path']} 的文字。"))
    return Ask("read_pdf_text", {"path": f["path"]}, text,
               lambda r: tr(rng, lang, f"{r['path']} ({r['page_count']} page(s)):\n\n" + "\n\n".join(p["text"] for p in r["pages"]),
                            f"{r['path']}（共 {r['page_count']} 页）：\n\n" + "\n\n".join(p["text"] for p in r["pages"])),
               action=tr(rng, lang, "read PDF documents", "读取 PDF 文档"))


def table_file(world: World, rng: random.Random) -> tuple[dict[str, Any], str | None, list[str], list[Any]]:
    f = _file(world, rng, "csv", "xlsx")
    if f["type"] == "xlsx":
        sheet = rng.choice(sorted(f["sheets"]))
        info = f["sheets"][sheet]
        return f, sheet, info["columns"], info["first_row"]
    return f, None, f["columns"], f["first_row"]


@intent("files.read_table", "files")
def read_table(world: World, rng: random.Random, lang: str) -> Ask:
    f, sheet, _columns, _row = table_file(world, rng)
    rows = rng.choice((3, 5))
    where = f"{f['path']}" + (f" (sheet {sheet})" if sheet else "")
    text = tr(rng, lang, (f"Show me the first {rows} rows of {where}.", f"Preview {where}: header and {rows} rows."),
              (f"显示 {where} 的前 {rows} 行。", f"预览一下 {where}：表头和前 {rows} 行。"))
    args = {"path": f["path"], "max_rows": rows, **({"sheet": sheet} if sheet else {})}

    def reply(r: dict) -> str:
        table = table_text([r["columns"], *r["rows"]])
        return tr(rng, lang, f"{where} has {r['row_count']} rows; the first {len(r['rows'])}:\n{table}",
                  f"{where} 共 {r['row_count']} 行，前 {len(r['rows'])} 行：\n{table}")
    return Ask("read_table", args, text, reply, action=tr(rng, lang, "open spreadsheets", "打开表格"))


def numeric_column(columns: list[str], row: list[Any], rng: random.Random) -> tuple[str, Any]:
    numeric = [(c, v) for c, v in zip(columns, row) if isinstance(v, (int, float)) and not isinstance(v, bool) and c != "id"]
    if not numeric:
        raise ProgramError("no numeric column")
    return rng.choice(numeric)


def text_column(columns: list[str], row: list[Any], rng: random.Random) -> str:
    text = [c for c, v in zip(columns, row) if isinstance(v, str) and c not in ("id", "sku", "name", "title", "product")
            and "date" not in c and "email" not in c]
    if not text:
        raise ProgramError("no grouping column")
    return rng.choice(text)


@intent("tables.aggregate", "tables")
def aggregate(world: World, rng: random.Random, lang: str) -> Ask:
    f, sheet, columns, row = table_file(world, rng)
    column, _ = numeric_column(columns, row, rng)
    group = text_column(columns, row, rng)
    metric = rng.choice(("sum", "mean", "max", "min"))
    names = {"sum": ("total", "总和"), "mean": ("average", "平均值"), "max": ("maximum", "最大值"), "min": ("minimum", "最小值")}[metric]
    text = tr(rng, lang, (f"In {f['path']}, what's the {names[0]} {column} per {group}?", f"Group {f['path']} by {group} and give me the {names[0]} of {column}."),
              (f"在 {f['path']} 里，按 {group} 分组的 {column} {names[1]}是多少？", f"把 {f['path']} 按 {group} 分组，算一下 {column} 的{names[1]}。"))
    args = {"path": f["path"], "metric": metric, "column": column, "group_by": [group], **({"sheet": sheet} if sheet else {})}

    def reply(r: dict) -> str:
        parts = [f"{g[0]}: {num(g[-1])}" for g in r["rows"]]
        return tr(rng, lang, f"{names[0].capitalize()} {column} by {group} — " + "; ".join(parts) + ".",
                  f"按 {group} 分组的 {column} {names[1]}：" + "；".join(parts) + "。")
    return Ask("table_aggregate", args, text, reply, action=tr(rng, lang, "aggregate table data", "汇总表格数据"))


@intent("tables.filter", "tables")
def filter_rows(world: World, rng: random.Random, lang: str) -> Ask:
    f, sheet, columns, row = table_file(world, rng)
    column, value = numeric_column(columns, row, rng)
    op = rng.choice((">", ">=", "<", "<="))
    threshold = value if isinstance(value, int) else round(value)
    words = {">": ("above", "大于"), ">=": ("at least", "不小于"), "<": ("below", "小于"), "<=": ("at most", "不大于")}[op]
    text = tr(rng, lang, (f"Which rows of {f['path']} have {column} {words[0]} {num(threshold)}?", f"Filter {f['path']} to {column} {op} {num(threshold)}."),
              (f"{f['path']} 中哪些行的 {column} {words[1]} {num(threshold)}？", f"筛选 {f['path']}：{column} {op} {num(threshold)}。"))
    args = {"path": f["path"], "column": column, "op": op, "value": threshold, "max_rows": 10, **({"sheet": sheet} if sheet else {})}

    def reply(r: dict) -> str:
        shown = table_text(r["rows"])
        total = r.get("row_count", len(r["rows"]))
        return tr(rng, lang, f"{total} row(s) match{' (first 10 shown)' if r.get('truncated') else ''}:\n{shown}" if r["rows"] else f"No row has {column} {op} {num(threshold)}.",
                  f"共 {total} 行符合条件{'（仅显示前 10 行）' if r.get('truncated') else ''}：\n{shown}" if r["rows"] else f"没有 {column} {op} {num(threshold)} 的行。")
    return Ask("table_filter", args, text, reply, omit="value",
               without=tr(rng, lang, f"Filter {f['path']} to the rows where {column} is {words[0]} some value.", f"筛选 {f['path']} 里 {column} {words[1]}某个值的行。"),
               what=tr(rng, lang, "threshold", "阈值"), value=num(threshold), action=tr(rng, lang, "filter tables", "筛选表格"))


def _db_table(world: World, rng: random.Random) -> tuple[str, dict[str, Any]]:
    """A table of the episode's database and its manifest entry (columns, first row)."""
    db = _file(world, rng, "db")
    table = rng.choice(sorted(db["tables"]))
    return table, db["tables"][table]


@intent("sql.tables", "sql")
def sql_tables(world: World, rng: random.Random, lang: str) -> Ask:
    _file(world, rng, "db")
    text = tr(rng, lang, ("What tables are in the company database?", "List the database tables and their sizes."),
              ("公司数据库里有哪些表？", "列出数据库的表和行数。"))
    return Ask("sql_list_tables", {}, text,
               lambda r: tr(rng, lang, "The database has: " + ", ".join(f"{t['name']} ({t['row_count']} rows)" for t in r["tables"]) + ".",
                            "数据库中的表：" + "，".join(f"{t['name']}（{t['row_count']} 行）" for t in r["tables"]) + "。"),
               action=tr(rng, lang, "query databases", "查询数据库"))


@intent("sql.count_by", "sql")
def sql_count_by(world: World, rng: random.Random, lang: str) -> Ask:
    table, info = _db_table(world, rng)
    group = text_column(info["columns"], info["first_row"], rng)
    query = f"SELECT {group}, COUNT(*) AS n FROM {table} GROUP BY {group} ORDER BY n DESC, {group}"
    text = tr(rng, lang, (f"How many {table} are there per {group}?", f"Count the {table} in the database by {group}."),
              (f"每个 {group} 各有多少条 {table} 记录？", f"按 {group} 统计数据库里 {table} 的数量。"))
    return Ask("sql_query", {"query": query}, text,
               lambda r: tr(rng, lang, f"{table.capitalize()} by {group}: " + "; ".join(f"{row[0]}: {row[1]}" for row in r["rows"]) + ".",
                            f"按 {group} 统计 {table}：" + "；".join(f"{row[0]}：{row[1]}" for row in r["rows"]) + "。"),
               action=tr(rng, lang, "run SQL queries", "执行 SQL 查询"))


@intent("sql.top", "sql")
def sql_top(world: World, rng: random.Random, lang: str) -> Ask:
    table, info = _db_table(world, rng)
    column, _ = numeric_column(info["columns"], info["first_row"], rng)
    label = "name" if "name" in info["columns"] else info["columns"][0]
    k = rng.choice((3, 5))
    query = f"SELECT {label}, {column} FROM {table} ORDER BY {column} DESC, {label} LIMIT {k}"
    text = tr(rng, lang, (f"Which {k} {table} have the highest {column}?", f"Top {k} {table} by {column}, please."),
              (f"{column} 最高的 {k} 条 {table} 是哪些？", f"按 {column} 排名前 {k} 的 {table}。"))
    return Ask("sql_query", {"query": query}, text,
               lambda r: tr(rng, lang, f"Top {k} by {column}: " + "; ".join(f"{row[0]} ({num(row[1])})" for row in r["rows"]) + ".",
                            f"{column} 前 {k} 名：" + "；".join(f"{row[0]}（{num(row[1])}）" for row in r["rows"]) + "。"),
               action=tr(rng, lang, "run SQL queries", "执行 SQL 查询"))
