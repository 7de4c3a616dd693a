"""More single-call intents, so every tool of the toolkits appears in generated data.

Calculator functions beyond the basic statistics, lookups of existing calendar events, notes,
orders and carts, and table inspection (columns, distinct values, top rows) and file diffs.
May import: the standard library, this package.
"""

from __future__ import annotations

import posixpath
import random

from .intents import Ask, World, intent, num, table_text, tr
from .intents_files import numeric_column, table_file, text_column
from .intents_services import listed, number_list


@intent("math.mode", "math")
def mode(world: World, rng: random.Random, lang: str) -> Ask:
    values = [rng.randint(1, 9) for _ in range(rng.randint(6, 12))]
    text = tr(rng, lang, (f"Which value occurs most often in {listed(values)}?", f"Find the mode of {listed(values)}."),
              (f"{listed(values)} 中出现次数最多的是哪个数？", f"求 {listed(values)} 的众数。"))
    return Ask("calculate_mode", {"numbers": values}, text,
               lambda r: tr(rng, lang, f"The mode is {', '.join(num(v) for v in r['modes'])} (appearing {r['frequency']} times).",
                            f"众数是 {', '.join(num(v) for v in r['modes'])}（出现 {r['frequency']} 次）。"),
               action=tr(rng, lang, "compute statistics", "计算统计量"))


@intent("math.percentile", "math")
def percentile(world: World, rng: random.Random, lang: str) -> Ask:
    values, kind, kind_zh = number_list(rng)
    p = rng.choice((10, 25, 75, 90, 95))
    text = tr(rng, lang, (f"What's the {p}th percentile of these {kind}: {listed(values)}?", f"Give me P{p} of {listed(values)}."),
              (f"这些{kind_zh}的第 {p} 百分位数是多少：{listed(values)}？", f"求 {listed(values)} 的 P{p}。"))
    return Ask("calculate_percentile", {"numbers": values, "percentile": p}, text,
               lambda r: tr(rng, lang, f"The {p}th percentile is {num(r['value'])}.", f"第 {p} 百分位数为 {num(r['value'])}。"),
               omit="percentile", without=tr(rng, lang, f"What percentile cut-off do my {kind} {listed(values)} have?", f"我的{kind_zh} {listed(values)} 的百分位数是多少？"),
               what=tr(rng, lang, "percentile", "百分位"), value=str(p), action=tr(rng, lang, "compute percentiles", "计算百分位数"))


@intent("math.variance", "math")
def variance(world: World, rng: random.Random, lang: str) -> Ask:
    values, kind, kind_zh = number_list(rng)
    text = tr(rng, lang, (f"Compute the sample variance of {listed(values)}.", f"How spread out are these {kind}? Variance of {listed(values)}."),
              (f"计算 {listed(values)} 的样本方差。", f"这些{kind_zh}的方差是多少：{listed(values)}？"))
    return Ask("calculate_variance", {"numbers": values}, text,
               lambda r: tr(rng, lang, f"The variance is {num(r['variance'])}.", f"方差为 {num(r['variance'])}。"), action=tr(rng, lang, "compute statistics", "计算统计量"))


@intent("math.range", "math")
def min_max(world: World, rng: random.Random, lang: str) -> Ask:
    values, kind, kind_zh = number_list(rng)
    text = tr(rng, lang, (f"What are the lowest and highest of these {kind}: {listed(values)}?", f"Min, max and range of {listed(values)}?"),
              (f"这些{kind_zh}的最小值和最大值是多少：{listed(values)}？", f"{listed(values)} 的最小值、最大值和极差？"))
    return Ask("find_min_max", {"numbers": values}, text,
               lambda r: tr(rng, lang, f"Lowest {num(r['min'])}, highest {num(r['max'])}, a range of {num(r['range'])}.", f"最小 {num(r['min'])}，最大 {num(r['max'])}，极差 {num(r['range'])}。"),
               action=tr(rng, lang, "compute statistics", "计算统计量"))


@intent("math.product", "math")
def product(world: World, rng: random.Random, lang: str) -> Ask:
    values = [rng.randint(2, 19) for _ in range(rng.randint(2, 4))]
    text = tr(rng, lang, (f"Multiply {listed(values)}.", f"What's the product of {listed(values)}?"), (f"把 {listed(values)} 乘起来。", f"{listed(values)} 的乘积是多少？"))
    return Ask("multiply_numbers", {"numbers": values}, text, lambda r: tr(rng, lang, f"The product is {num(r['product'])}.", f"乘积是 {num(r['product'])}。"),
               action=tr(rng, lang, "multiply numbers", "做乘法"))


@intent("math.divide", "math")
def divide(world: World, rng: random.Random, lang: str) -> Ask:
    total, people = rng.randint(40, 2000), rng.randint(2, 12)
    text = tr(rng, lang, (f"Split {total} evenly between {people} people — how much each?", f"What is {total} divided by {people}?"),
              (f"{total} 平均分给 {people} 个人，每人多少？", f"{total} 除以 {people} 等于多少？"))
    return Ask("divide_numbers", {"dividend": total, "divisor": people}, text,
               lambda r: tr(rng, lang, f"{total} / {people} = {num(r['quotient'])}.", f"{total} ÷ {people} = {num(r['quotient'])}。"), action=tr(rng, lang, "divide numbers", "做除法"))


@intent("math.power", "math")
def power(world: World, rng: random.Random, lang: str) -> Ask:
    base, exponent = rng.choice((2, 3, 1.05, 1.1, 7)), rng.randint(2, 12)
    text = tr(rng, lang, (f"What is {num(base)} to the power of {exponent}?", f"Compute {num(base)}^{exponent}."), (f"{num(base)} 的 {exponent} 次方是多少？", f"计算 {num(base)}^{exponent}。"))
    return Ask("compute_power", {"base": base, "exponent": exponent}, text,
               lambda r: tr(rng, lang, f"{num(base)}^{exponent} = {num(r['result'])}.", f"{num(base)}^{exponent} = {num(r['result'])}。"), action=tr(rng, lang, "compute powers", "计算乘方"))


@intent("math.root_log", "math")
def root_or_log(world: World, rng: random.Random, lang: str) -> Ask:
    value = rng.choice((2, 10, 50, 144, 1000, 4096, 0.25))
    if rng.random() < 0.5:
        text = tr(rng, lang, (f"What's the square root of {num(value)}?", f"√{num(value)} = ?"), (f"{num(value)} 的平方根是多少？", f"√{num(value)} 等于多少？"))
        return Ask("compute_square_root", {"value": value}, text,
                   lambda r: tr(rng, lang, f"√{num(value)} ≈ {num(r['square_root'])}.", f"√{num(value)} ≈ {num(r['square_root'])}。"), action=tr(rng, lang, "compute roots", "开平方"))
    base = rng.choice((2, 10))
    text = tr(rng, lang, (f"What's log base {base} of {num(value)}?", f"Compute log{base}({num(value)})."), (f"以 {base} 为底 {num(value)} 的对数是多少？", f"计算 log{base}({num(value)})。"))
    return Ask("compute_logarithm", {"value": value, "base": base}, text,
               lambda r: tr(rng, lang, f"log{base}({num(value)}) ≈ {num(r['logarithm'])}.", f"log{base}({num(value)}) ≈ {num(r['logarithm'])}。"), action=tr(rng, lang, "compute logarithms", "计算对数"))


@intent("calendar.get_event", "calendar")
def get_event(world: World, rng: random.Random, lang: str) -> Ask:
    event = world.choose(rng, world.state("calendar").get("events", []), "events")
    text = tr(rng, lang, (f"Who's coming to {event['id']} and where is it?", f"Details of calendar entry {event['id']}, please."),
              (f"{event['id']} 有谁参加，在哪里？", f"查看日程 {event['id']} 的详情。"))
    return Ask("get_event", {"event_id": event["id"]}, text,
               lambda r: tr(rng, lang, f"{r['title']} on {r['date']} {r['start']}–{r['end']}, at {r['location'] or 'no location set'}; attendees: {', '.join(r['attendees']) or 'none'}.",
                            f"{r['title']}：{r['date']} {r['start']}–{r['end']}，地点 {r['location'] or '未设置'}；参加者：{'、'.join(r['attendees']) or '无'}。"),
               action=tr(rng, lang, "read calendar entries", "查看日程"))


@intent("notes.tags", "notes")
def note_tags(world: World, rng: random.Random, lang: str) -> Ask:
    text = tr(rng, lang, ("Which tags do my notes use?", "List my note tags with counts."), ("我的笔记都用了哪些标签？", "列出笔记标签和数量。"))
    return Ask("list_note_tags", {}, text,
               lambda r: tr(rng, lang, "Your tags: " + ", ".join(f"{t['tag']} ({t['notes']})" for t in r["tags"]) + ".", "您的标签：" + "，".join(f"{t['tag']}（{t['notes']}）" for t in r["tags"]) + "。"),
               action=tr(rng, lang, "organise notes", "整理笔记"))


@intent("shop.cart", "shop")
def cart(world: World, rng: random.Random, lang: str) -> Ask:
    text = tr(rng, lang, ("What's in my cart right now?", "Show me my cart."), ("我的购物车里现在有什么？", "看一下购物车。"))
    return Ask("view_cart", {}, text,
               lambda r: tr(rng, lang, (f"Your cart has {r['item_count']} item(s), total {num(r['total'])} {r['currency']}." if r["items"] else "Your cart is empty."),
                            (f"购物车中有 {r['item_count']} 件商品，合计 {num(r['total'])} {r['currency']}。" if r["items"] else "购物车是空的。")),
               action=tr(rng, lang, "manage a shopping cart", "管理购物车"))


@intent("shop.order_status", "shop")
def order_status(world: World, rng: random.Random, lang: str) -> Ask:
    order = world.choose(rng, world.state("shop").get("orders", []), "orders")
    text = tr(rng, lang, (f"Where is my order {order['id']}?", f"Status of {order['id']}?"), (f"我的订单 {order['id']} 到哪了？", f"{order['id']} 什么状态？"))
    return Ask("get_order_status", {"order_id": order["id"]}, text,
               lambda r: tr(rng, lang, f"{r['id']} is {r['status']} (placed {r['placed_on']}, total {num(r['total'])}).", f"{r['id']} 状态：{r['status']}（{r['placed_on']} 下单，金额 {num(r['total'])}）。"),
               omit="order_id", without=tr(rng, lang, "Where is my order?", "我的订单到哪了？"), what=tr(rng, lang, "order number", "订单号"), value=order["id"],
               action=tr(rng, lang, "track orders", "查询订单"))


@intent("tables.columns", "tables")
def columns(world: World, rng: random.Random, lang: str) -> Ask:
    f, sheet, _c, _r = table_file(world, rng)
    text = tr(rng, lang, (f"What columns does {f['path']} have, and what types?", f"Describe the columns of {f['path']}."), (f"{f['path']} 有哪些列？各是什么类型？", f"描述一下 {f['path']} 的列。"))
    return Ask("table_columns", {"path": f["path"], **({"sheet": sheet} if sheet else {})}, text,
               lambda r: tr(rng, lang, "Columns: " + ", ".join(f"{c['name']} ({c['type']})" for c in r["columns"]) + ".", "列：" + "，".join(f"{c['name']}（{c['type']}）" for c in r["columns"]) + "。"),
               action=tr(rng, lang, "inspect tables", "查看表结构"))


@intent("tables.distinct", "tables")
def distinct(world: World, rng: random.Random, lang: str) -> Ask:
    f, sheet, cols, row = table_file(world, rng)
    column = text_column(cols, row, rng)
    text = tr(rng, lang, (f"Which distinct {column} values appear in {f['path']}?", f"List the unique {column}s in {f['path']}."), (f"{f['path']} 里 {column} 有哪些不同的取值？", f"列出 {f['path']} 中不重复的 {column}。"))
    return Ask("table_select", {"path": f["path"], "columns": [column], "distinct": True, **({"sheet": sheet} if sheet else {})}, text,
               lambda r: tr(rng, lang, f"{len(r['rows'])} distinct value(s): " + ", ".join(str(x[0]) for x in r["rows"]) + ".", f"共 {len(r['rows'])} 个不同取值：" + "、".join(str(x[0]) for x in r["rows"]) + "。"),
               action=tr(rng, lang, "query tables", "查询表格"))


@intent("tables.top", "tables")
def top_rows(world: World, rng: random.Random, lang: str) -> Ask:
    f, sheet, cols, row = table_file(world, rng)
    column, _ = numeric_column(cols, row, rng)
    k = rng.choice((3, 5))
    text = tr(rng, lang, (f"Show the {k} rows of {f['path']} with the highest {column}.", f"Top {k} of {f['path']} by {column}."), (f"显示 {f['path']} 中 {column} 最高的 {k} 行。", f"{f['path']} 按 {column} 排名前 {k}。"))
    return Ask("table_sort", {"path": f["path"], "by": [column], "descending": True, "max_rows": k, **({"sheet": sheet} if sheet else {})}, text,
               lambda r: tr(rng, lang, f"Top {len(r['rows'])} by {column}:\n", f"{column} 前 {len(r['rows'])} 行：\n") + table_text(r["rows"]),
               action=tr(rng, lang, "sort tables", "排序表格"))


@intent("files.diff", "files")
def diff(world: World, rng: random.Random, lang: str) -> Ask:
    groups: dict[tuple[str, str], list[str]] = {}
    for f in world.files_of("csv", "md", "txt", "yaml"):
        groups.setdefault((posixpath.dirname(f["path"]), f["type"]), []).append(f["path"])
    pairs = [paths for paths in groups.values() if len(paths) >= 2]
    paths = rng.sample(world.choose(rng, pairs, "comparable files"), 2)
    text = tr(rng, lang, (f"How do {paths[0]} and {paths[1]} differ?", f"Diff {paths[0]} against {paths[1]}."), (f"{paths[0]} 和 {paths[1]} 有什么不同？", f"比较 {paths[0]} 和 {paths[1]}。"))
    return Ask("diff_files", {"path_a": paths[0], "path_b": paths[1], "context_lines": 0}, text,
               lambda r: tr(rng, lang, "They are identical." if r["identical"] else f"They differ in {sum(1 for x in r['diff'] if x[:1] in '+-' and x[:3] not in ('+++', '---'))} line(s):\n" + "\n".join(r["diff"][:12]),
                            "两者完全相同。" if r["identical"] else f"共有 {sum(1 for x in r['diff'] if x[:1] in '+-' and x[:3] not in ('+++', '---'))} 行不同：\n" + "\n".join(r["diff"][:12])),
               action=tr(rng, lang, "compare files", "比较文件"))


@intent("notes.rename", "notes")
def rename_note(world: World, rng: random.Random, lang: str) -> Ask:
    note = world.choose(rng, world.state("notes").get("notes", []), "notes")
    title = tr(rng, lang, ("Archive: ", "Old — ", "Done: ", "Draft: "), ("归档：", "旧——", "已完成：", "草稿：")) + note["title"]
    text = tr(rng, lang, (f"Rename note {note['id']} to \"{title}\".", f"Change the title of {note['id']} to {title}."), (f"把笔记 {note['id']} 改名为“{title}”。", f"将 {note['id']} 的标题改成{title}。"))
    return Ask("update_note", {"note_id": note["id"], "title": title}, text,
               lambda r: tr(rng, lang, f"{r['updated']['id']} is now titled “{r['updated']['title']}”.", f"{r['updated']['id']} 的标题已改为“{r['updated']['title']}”。"),
               action=tr(rng, lang, "edit notes", "编辑笔记"))


@intent("notes.delete", "notes")
def delete_note(world: World, rng: random.Random, lang: str) -> Ask:
    note = world.choose(rng, world.state("notes").get("notes", []), "notes")
    text = tr(rng, lang, (f"Delete my note {note['id']} (“{note['title']}”).", f"I don't need {note['id']} any more, remove it."), (f"删除笔记 {note['id']}（“{note['title']}”）。", f"{note['id']} 不需要了，删掉吧。"))
    return Ask("delete_note", {"note_id": note["id"]}, text,
               lambda r: tr(rng, lang, f"Deleted {r['deleted']} (“{r['title']}”).", f"已删除 {r['deleted']}（“{r['title']}”）。"),
               omit="note_id", without=tr(rng, lang, f"Delete my “{note['title']}” note.", f"把“{note['title']}”那条笔记删了。"), what=tr(rng, lang, "note ID", "笔记编号"), value=note["id"],
               action=tr(rng, lang, "delete notes", "删除笔记"))
