"""Chains over the file tree, the database and tables: dependent lookups, act-then-check, recovery, long context.

Long-context programs read a large result (a log, a JSON Lines export, a catalogue) and answer a
question the model can only answer by searching that result; the answer is computed here from the
actual result, so it is right by construction.
May import: the standard library, this package.
"""

from __future__ import annotations

import json
import posixpath
import random

from .chains import chain, expect_error, start, user_turn
from .dialogue import Dialogue, ProgramError, Ref, ok
from .intents import World, table_text, tr
from .programs import Plan

LONG_CHARS = 4200  # ≥ ~1,000 approximate tokens in one result: what the tagger calls long_context


@chain("dependent", "files.find_then_read_table", "files")
def find_then_read_table(d: Dialogue, world: World, rng: random.Random, lang: str, plan: Plan) -> list[str]:
    f = world.choose(rng, world.files_of("csv", "xlsx"), "tables")
    stem = posixpath.basename(f["path"]).rsplit(".", 1)[0]
    start(d, rng, plan, ["find_files", "read_table"])
    user_turn(d, rng, lang,
        (f"Find the {stem.replace('_', ' ')} spreadsheet and show me its first rows.", f"I don't remember where {stem} is — locate it and preview it."),
        (f"找到 {stem} 这张表，给我看看前几行。", f"我忘了 {stem} 放哪儿了，找出来预览一下。"))
    found = ok(d.call("find_files", name=f"*{stem}*", extension=f["type"]))
    if not found.result["files"]:
        raise ProgramError("nothing found")
    table = ok(d.call("read_table", path=Ref(found, ("files", 0)), max_rows=3)).result
    rows = table_text([table["columns"], *table["rows"]])
    d.assistant(tr(rng, lang, f"It's {table['path']} ({table['row_count']} rows). First rows:\n{rows}",
                   f"在 {table['path']}（共 {table['row_count']} 行），前几行：\n{rows}"))
    return ["dependent", "multi_step"]


@chain("dependent", "sql.list_then_describe", "sql")
def list_then_describe(d: Dialogue, world: World, rng: random.Random, lang: str, plan: Plan) -> list[str]:
    world.choose(rng, world.files_of("db"), "databases")
    position = rng.choice((0, 1, -1))
    which = {0: ("first", "第一张"), 1: ("second", "第二张"), -1: ("last", "最后一张")}[position]
    start(d, rng, plan, ["sql_list_tables", "sql_describe_table"])
    user_turn(d, rng, lang,
        (f"List the database tables, then describe the {which[0]} one.", f"What columns does the {which[0]} table of the database have?"),
        (f"列出数据库的表，再描述一下{which[1]}表。", f"数据库里{which[1]}表有哪些列？"))
    listed = ok(d.call("sql_list_tables"))
    described = ok(d.call("sql_describe_table", table=Ref(listed, ("tables", position, "name")))).result
    columns = ", ".join(f"{c['name']} ({c['type']})" for c in described["columns"])
    d.assistant(tr(rng, lang, f"The {which[0]} table is {described['table']}; its columns: {columns}.",
                   f"{which[1]}表是 {described['table']}，列为：{columns}。"))
    return ["dependent", "multi_step"]


@chain("multi_step", "files.write_then_check", "files")
def write_then_check(d: Dialogue, world: World, rng: random.Random, lang: str, plan: Plan) -> list[str]:
    folder = world.choose(rng, sorted({posixpath.dirname(f["path"]) for f in world.files} - {""}), "folders")
    name = rng.choice(("todo", "reminder", "summary", "follow_up", "draft", "checklist")) + f"_{rng.randint(1, 99)}.txt"
    path = f"{folder}/{name}"
    items = (["email Priya", "book flights", "renew the domain", "update the roadmap", "order toner", "review PR 42"] if lang == "en"
             else ["给 Priya 发邮件", "订机票", "续费域名", "更新路线图", "买硒鼓", "审核 PR 42"])
    lines = rng.sample(items, rng.randint(2, 4))
    content = "\n".join(lines) + "\n"
    start(d, rng, plan, ["write_file", "count_words"])
    user_turn(d, rng, lang,
        (f"Create {path} with these lines: {'; '.join(lines)}. Then tell me how many lines it has.", f"Write a file {path} listing {', '.join(lines)} (one per line) and confirm the line count."),
        (f"新建 {path}，每行一项：{'；'.join(lines)}，然后告诉我有几行。", f"写一个文件 {path}，逐行列出 {'、'.join(lines)}，并确认行数。"))
    ok(d.call("write_file", path=path, content=content))
    counted = ok(d.call("count_words", path=path)).result
    d.assistant(tr(rng, lang, f"Created {path}: {counted['lines']} lines, {counted['characters']} characters.",
                   f"已创建 {path}：共 {counted['lines']} 行，{counted['characters']} 个字符。"))
    return ["multi_step"]


@chain("multi_step", "files.copy_then_list", "files")
def copy_then_list(d: Dialogue, world: World, rng: random.Random, lang: str, plan: Plan) -> list[str]:
    f = world.choose(rng, [f for f in world.files if f["type"] != "db"], "files")
    target = rng.choice(("backup", "archive/copies", "shared", "exports"))
    start(d, rng, plan, ["make_directory", "copy_file", "list_directory"])
    user_turn(d, rng, lang,
        (f"Back up {f['path']} into a {target}/ folder and show me that folder afterwards.", f"Copy {f['path']} to {target}/ (create it if needed), then list {target}/."),
        (f"把 {f['path']} 备份到 {target}/ 文件夹，然后列出这个文件夹。", f"将 {f['path']} 复制到 {target}/（没有就新建），再列出 {target}/。"))
    ok(d.call("make_directory", path=target))
    destination = f"{target}/{posixpath.basename(f['path'])}"
    ok(d.call("copy_file", source=f["path"], destination=destination))
    listed = ok(d.call("list_directory", path=target)).result
    d.assistant(tr(rng, lang, f"Copied to {destination}. {target}/ now holds: " + ", ".join(e["path"] for e in listed["entries"]) + ".",
                   f"已复制到 {destination}。{target}/ 目前包含：" + "，".join(e["path"] for e in listed["entries"]) + "。"))
    return ["multi_step"]


@chain("error_recovery", "files.wrong_folder", "files")
def wrong_folder(d: Dialogue, world: World, rng: random.Random, lang: str, plan: Plan) -> list[str]:
    f = world.choose(rng, world.files_of("txt", "md", "yaml", "json"), "text files")
    name = posixpath.basename(f["path"])
    folders = sorted({posixpath.dirname(g["path"]) for g in world.files} - {posixpath.dirname(f["path"]), ""})
    wrong = f"{world.choose(rng, folders, 'other folders')}/{name}"
    if any(g["path"] == wrong for g in world.files):
        raise ProgramError("the wrong path exists")
    start(d, rng, plan, ["read_file", "find_files"])
    user_turn(d, rng, lang,
        (f"How many lines does {wrong} have? Show me the first three.", f"Open {wrong} and give me its first three lines."),
        (f"{wrong} 有几行？给我看前三行。", f"打开 {wrong}，把前三行给我。"))
    expect_error(d, rng, lang, "read_file", path=wrong, end_line=3)
    found = ok(d.call("find_files", name=name))
    if not found.result["files"]:
        raise ProgramError("not found")
    read = ok(d.call("read_file", path=Ref(found, ("files", 0)), end_line=3)).result
    head = "\n".join(read["content"].splitlines()[:3])
    d.assistant(tr(rng, lang, f"{wrong} doesn't exist; the file is at {read['path']}. Its first lines:\n{head}",
                   f"{wrong} 不存在，文件实际在 {read['path']}。前几行：\n{head}"))
    return ["error_recovery", "dependent", "multi_step"]


# ----------------------------------------------------------------------------------- long context
def _long(world: World, rng: random.Random, *types: str):
    files = [f for f in world.files_of(*types) if f.get("chars", 0) >= LONG_CHARS]
    return world.choose(rng, files, "long files")


@chain("long_context", "files.log_status", "files")
def log_status(d: Dialogue, world: World, rng: random.Random, lang: str, plan: Plan) -> list[str]:
    f = _long(world, rng, "log")
    start(d, rng, plan, ["read_file"])
    if "access" in f["path"]:
        code = rng.choice(("404", "500", "301"))
        user_turn(d, rng, lang,
            (f"Read {f['path']} and tell me how many requests got a {code}, and which paths they hit.", f"In {f['path']}, count the {code} responses and list their paths."),
            (f"读一下 {f['path']}，有多少请求返回了 {code}？分别是哪些路径？", f"统计 {f['path']} 里 {code} 响应的数量并列出路径。"))
        content = ok(d.call("read_file", path=f["path"])).result["content"]
        hits = [line for line in content.splitlines() if f'" {code} ' in line]
        paths = sorted({line.split('"')[1].split()[1] for line in hits if line.count('"') >= 2 and len(line.split('"')[1].split()) > 1})
        d.assistant(tr(rng, lang, f"{len(hits)} request(s) returned {code}" + (f", on: {', '.join(paths)}." if paths else "."),
                       f"共有 {len(hits)} 个请求返回 {code}" + (f"，路径：{'、'.join(paths)}。" if paths else "。")))
    else:
        level = rng.choice(("ERROR", "WARN"))
        user_turn(d, rng, lang,
            (f"Go through {f['path']} and summarise the {level} lines.", f"How many {level} entries are in {f['path']}? Quote the first two."),
            (f"看一下 {f['path']}，把 {level} 级别的日志汇总一下。", f"{f['path']} 里有多少条 {level}？引用前两条。"))
        content = ok(d.call("read_file", path=f["path"])).result["content"]
        hits = [line for line in content.splitlines() if level in line]
        quoted = "\n".join(hits[:2])
        d.assistant(tr(rng, lang, f"{len(hits)} {level} line(s)" + (f"; the first ones:\n{quoted}" if hits else "."),
                       f"共 {len(hits)} 条 {level}" + (f"，前两条：\n{quoted}" if hits else "。")))
    if len(json.dumps(d.messages[-2]["content"], ensure_ascii=False)) < LONG_CHARS:
        raise ProgramError("result not long")
    return ["long_context"]


@chain("long_context", "files.jsonl_lookup", "files")
def jsonl_lookup(d: Dialogue, world: World, rng: random.Random, lang: str, plan: Plan) -> list[str]:
    f = _long(world, rng, "jsonl", "json")
    start(d, rng, plan, ["read_file"])
    user_turn(d, rng, lang,
        (f"Open {f['path']} and tell me how many records it holds and what fields they have.", f"Skim {f['path']}: how many entries, which fields, and what's the first one?"),
        (f"打开 {f['path']}，告诉我有多少条记录、包含哪些字段。", f"浏览一下 {f['path']}：多少条、什么字段、第一条是什么？"))
    content = ok(d.call("read_file", path=f["path"])).result["content"]
    try:
        if f["type"] == "jsonl":
            records = [json.loads(line) for line in content.splitlines() if line.strip()]
        else:
            value = json.loads(content)
            records = next((v for v in value.values() if isinstance(v, list)), []) if isinstance(value, dict) else value
    except ValueError as exc:
        raise ProgramError("not JSON") from exc
    if not records or not isinstance(records[0], dict):
        raise ProgramError("no records")
    fields = sorted({k for r in records if isinstance(r, dict) for k in r})
    first = json.dumps(records[0], ensure_ascii=False)
    d.assistant(tr(rng, lang, f"{f['path']} holds {len(records)} records with the fields {', '.join(fields)}. The first is:\n{first}",
                   f"{f['path']} 共 {len(records)} 条记录，字段有 {'、'.join(fields)}。第一条：\n{first}"))
    return ["long_context"]
