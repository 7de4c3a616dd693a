"""Intents over the stateful services and calculators: math, calendar, notes, tickets, shop.

Each function picks real arguments from the episode's initial state (``World``), words the
request in English or Chinese, and answers from the call's actual result.
May import: the standard library, this package.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from .intents import Ask, World, intent, num, tr

NUMBER_SETS = ("scores", "prices", "temperatures", "response times", "daily sales", "weights", "heights", "ratings")
NUMBER_SETS_ZH = ("分数", "价格", "气温", "响应时间", "每日销售额", "体重", "身高", "评分")


def number_list(rng: random.Random) -> tuple[list[Any], str, str]:
    count = rng.randint(4, 9)
    if rng.random() < 0.5:
        values: list[Any] = [rng.randint(1, 400) for _ in range(count)]
    else:
        values = [round(rng.uniform(0.5, 120), rng.choice((1, 2))) for _ in range(count)]
    kind = rng.randrange(len(NUMBER_SETS))
    return values, NUMBER_SETS[kind], NUMBER_SETS_ZH[kind]


def listed(values: list[Any]) -> str:
    return ", ".join(num(v) for v in values)


# ------------------------------------------------------------------------------------------ math
def _stat(tool: str, key: str, en_name: str, zh_name: str):
    def build(world: World, rng: random.Random, lang: str) -> Ask:
        values, kind, kind_zh = number_list(rng)
        text = tr(rng, lang,
                  (f"What is the {en_name} of these {kind}: {listed(values)}?", f"Compute the {en_name} of {listed(values)}.",
                   f"I have {kind} {listed(values)} — what's their {en_name}?"),
                  (f"这些{kind_zh}的{zh_name}是多少：{listed(values)}？", f"帮我算一下 {listed(values)} 的{zh_name}。",
                   f"我有一组{kind_zh}：{listed(values)}，{zh_name}是多少？"))
        without = tr(rng, lang, (f"Can you compute the {en_name} of my {kind}?", f"I need the {en_name} of some {kind}."),
                     (f"能帮我算一下{kind_zh}的{zh_name}吗？", f"我需要一组{kind_zh}的{zh_name}。"))
        return Ask(tool, {"numbers": values}, text,
                   lambda r: tr(rng, lang, (f"The {en_name} is {num(r[key])}.", f"{en_name.capitalize()}: {num(r[key])}."),
                                (f"{zh_name}是 {num(r[key])}。", f"结果：{zh_name}为 {num(r[key])}。")),
                   omit="numbers", without=without, what=tr(rng, lang, "numbers", "具体数值"), value=listed(values),
                   action=tr(rng, lang, f"compute a {en_name}", f"计算{zh_name}"))
    return build


for _tool, _key, _en, _zh in (("calculate_mean", "mean", "average", "平均值"), ("calculate_median", "median", "median", "中位数"),
                              ("calculate_stdev", "stdev", "standard deviation", "标准差"), ("sum_numbers", "sum", "sum", "总和")):
    intent(f"math.{_key}", "math")(_stat(_tool, _key, _en, _zh))


@intent("math.percent_change", "math")
def percent_change(world: World, rng: random.Random, lang: str) -> Ask:
    old = rng.randint(20, 900)
    new = max(1, old + rng.randint(-old // 2, old))
    what_en, what_zh = rng.choice((("revenue", "收入"), ("visitors", "访客数"), ("the price", "价格"), ("sign-ups", "注册数")))
    text = tr(rng, lang, (f"{what_en.capitalize()} went from {old} to {new}. What's the percentage change?",
                          f"By what percent did {what_en} change if it moved from {old} to {new}?"),
              (f"{what_zh}从 {old} 变成了 {new}，变化百分比是多少？", f"{what_zh}由 {old} 到 {new}，涨跌了百分之多少？"))
    return Ask("percent_change", {"old_value": old, "new_value": new}, text,
               lambda r: tr(rng, lang, f"That is a change of {num(r['percent_change'])}% ({num(r['change'])} in absolute terms).",
                            f"变化了 {num(r['percent_change'])}%（绝对值变化 {num(r['change'])}）。"),
               action=tr(rng, lang, "compute percentage changes", "计算百分比变化"))


UNITS = (("km", "mi", "kilometres", "公里"), ("mi", "km", "miles", "英里"), ("kg", "lb", "kilograms", "千克"),
         ("lb", "kg", "pounds", "磅"), ("c", "f", "degrees Celsius", "摄氏度"), ("f", "c", "degrees Fahrenheit", "华氏度"),
         ("l", "gal", "litres", "升"), ("m", "ft", "metres", "米"), ("h", "min", "hours", "小时"))
UNIT_NAMES = {"mi": ("miles", "英里"), "km": ("kilometres", "公里"), "lb": ("pounds", "磅"), "kg": ("kilograms", "千克"),
              "f": ("degrees Fahrenheit", "华氏度"), "c": ("degrees Celsius", "摄氏度"), "gal": ("gallons", "加仑"),
              "ft": ("feet", "英尺"), "min": ("minutes", "分钟")}


@intent("math.convert", "math")
def convert(world: World, rng: random.Random, lang: str) -> Ask:
    source, target, name_en, name_zh = rng.choice(UNITS)
    value = rng.choice((rng.randint(1, 250), round(rng.uniform(0.5, 99), 1)))
    to_en, to_zh = UNIT_NAMES[target]
    text = tr(rng, lang, (f"How many {to_en} is {num(value)} {name_en}?", f"Convert {num(value)} {name_en} to {to_en}.",
                          f"What's {num(value)} {name_en} in {to_en}?"),
              (f"{num(value)}{name_zh}等于多少{to_zh}？", f"把 {num(value)} {name_zh}换算成{to_zh}。", f"{num(value)}{name_zh}是多少{to_zh}？"))
    return Ask("convert_units", {"value": value, "from_unit": source, "to_unit": target}, text,
               lambda r: tr(rng, lang, f"{num(value)} {name_en} is {num(r['value'])} {to_en}.",
                            f"{num(value)}{name_zh}约等于 {num(r['value'])} {to_zh}。"),
               omit="value", without=tr(rng, lang, f"Can you convert {name_en} to {to_en} for me?", f"能帮我把{name_zh}换算成{to_zh}吗？"),
               what=tr(rng, lang, f"amount in {name_en}", f"{name_zh}数"), value=tr(rng, lang, f"{num(value)} {name_en}", f"{num(value)}{name_zh}"),
               action=tr(rng, lang, "convert units", "换算单位"))


@intent("math.interest", "math")
def interest(world: World, rng: random.Random, lang: str) -> Ask:
    principal = rng.choice((500, 1000, 2500, 5000, 12000, 20000))
    rate = rng.choice((1.5, 2, 3.25, 4, 5, 6.5))
    years = rng.randint(2, 15)
    text = tr(rng, lang, (f"If I invest {principal} at {num(rate)}% a year for {years} years, compounded monthly, what do I end up with?",
                          f"Compound interest on {principal} at {num(rate)}% over {years} years?"),
              (f"{principal} 元按年利率 {num(rate)}% 存 {years} 年（按月复利），最后有多少？", f"本金 {principal}，年利率 {num(rate)}%，{years} 年复利是多少？"))
    return Ask("compound_interest", {"principal": principal, "annual_rate_percent": rate, "years": years}, text,
               lambda r: tr(rng, lang, f"You would have {num(r['final_amount'])}, of which {num(r['interest_earned'])} is interest.",
                            f"最终金额为 {num(r['final_amount'])}，其中利息 {num(r['interest_earned'])}。"),
               omit="years", without=tr(rng, lang, f"How much will {principal} grow at {num(rate)}% interest?", f"{principal} 按 {num(rate)}% 的利率能涨到多少？"),
               what=tr(rng, lang, "number of years", "年数"), value=tr(rng, lang, f"{years} years", f"{years}年"),
               action=tr(rng, lang, "calculate compound interest", "计算复利"))


@intent("math.equation", "math")
def equation(world: World, rng: random.Random, lang: str) -> Ask:
    a, x = rng.choice((2, 3, 4, 5, 7, -2, 0.5)), rng.randint(-20, 40)
    b = rng.randint(-30, 30)
    c = a * x + b
    lhs = f"{num(a)}x {'+' if b >= 0 else '-'} {abs(b)}"
    text = tr(rng, lang, (f"Solve {lhs} = {num(c)} for x.", f"What x satisfies {lhs} = {num(c)}?"),
              (f"解方程 {lhs} = {num(c)}。", f"{lhs} = {num(c)}，x 等于多少？"))
    return Ask("solve_linear_equation", {"a": a, "b": b, "c": c}, text,
               lambda r: tr(rng, lang, f"x = {num(r['x'])}.", f"x = {num(r['x'])}。"),
               action=tr(rng, lang, "solve equations", "解方程"))


# -------------------------------------------------------------------------------------- calendar
def _date(world: World, rng: random.Random, spread: int = 40) -> str:
    today = dt.date.fromisoformat(world.state("calendar").get("today", "2025-03-14"))
    return (today + dt.timedelta(days=rng.randint(-spread, spread))).isoformat()


def _human_date(lang: str, iso: str) -> str:
    day = dt.date.fromisoformat(iso)
    return f"{day.year}年{day.month}月{day.day}日" if lang == "zh" else day.strftime("%B %d, %Y").replace(" 0", " ")


@intent("calendar.weekday", "calendar")
def weekday(world: World, rng: random.Random, lang: str) -> Ask:
    date = _date(world, rng, 400)
    text = tr(rng, lang, (f"What day of the week is {date}?", f"Which weekday does {_human_date(lang, date)} fall on?"),
              (f"{date} 是星期几？", f"{_human_date(lang, date)}是周几？"))
    return Ask("weekday_of", {"date": date}, text,
               lambda r: tr(rng, lang, f"{date} is a {r['weekday']} (ISO week {r['iso_week']}).",
                            f"{date} 是 {r['weekday']}（第 {r['iso_week']} 周）。"),
               omit="date", without=tr(rng, lang, "Can you tell me what weekday a date falls on?", "能帮我查一下某天是星期几吗？"),
               what=tr(rng, lang, "date", "日期"), value=date, action=tr(rng, lang, "look up weekdays", "查询星期"))


@intent("calendar.days_between", "calendar")
def days_between(world: World, rng: random.Random, lang: str) -> Ask:
    start = _date(world, rng, 200)
    end = (dt.date.fromisoformat(start) + dt.timedelta(days=rng.randint(3, 400))).isoformat()
    text = tr(rng, lang, (f"How many days are there between {start} and {end}?", f"Count the days from {start} to {end}, and the business days too."),
              (f"{start} 到 {end} 之间有多少天？", f"从 {start} 到 {end} 一共几天？工作日有几天？"))
    return Ask("days_between", {"start_date": start, "end_date": end}, text,
               lambda r: tr(rng, lang, f"There are {r['days']} days between them ({r['business_days']} business days).",
                            f"两者相差 {r['days']} 天，其中工作日 {r['business_days']} 天。"),
               omit="end_date", without=tr(rng, lang, f"How many days is it from {start} until my deadline?", f"从 {start} 到截止日期还有几天？"),
               what=tr(rng, lang, "deadline date", "截止日期"), value=end, action=tr(rng, lang, "count days between dates", "计算日期间隔"))


@intent("calendar.add_days", "calendar")
def add_days(world: World, rng: random.Random, lang: str) -> Ask:
    start = _date(world, rng, 60)
    days = rng.choice((7, 10, 14, 21, 30, 45, 60, 90, 100))
    text = tr(rng, lang, (f"What's the date {days} days after {start}?", f"If I start on {start}, which date is {days} days later?"),
              (f"{start} 之后 {days} 天是哪一天？", f"从 {start} 开始算，{days} 天后是几号？"))
    return Ask("add_to_date", {"date": start, "days": days}, text,
               lambda r: tr(rng, lang, f"{days} days after {start} is {r['date']}, a {r['weekday']}.",
                            f"{start} 之后 {days} 天是 {r['date']}（{r['weekday']}）。"),
               action=tr(rng, lang, "do date arithmetic", "做日期计算"))


@intent("calendar.list_events", "calendar")
def list_events(world: World, rng: random.Random, lang: str) -> Ask:
    event = world.choose(rng, world.state("calendar").get("events", []), "events")
    day = event["date"]
    text = tr(rng, lang, (f"What's on my calendar on {day}?", f"List my events for {_human_date(lang, day)}.", f"Do I have anything scheduled on {day}?"),
              (f"我 {day} 有什么安排？", f"列一下我{_human_date(lang, day)}的日程。", f"{day} 那天我有事吗？"))

    def reply(r: dict) -> str:
        items = [f"{e['title']} ({e['start']}–{e['end']})" for e in r["events"]]
        return tr(rng, lang, f"You have {len(items)} event(s) on {day}: " + "; ".join(items) + ".",
                  f"{day} 共有 {len(items)} 个安排：" + "；".join(items) + "。")
    return Ask("list_events", {"start_date": day, "end_date": day}, text, reply,
               omit="start_date", without=tr(rng, lang, "What's on my calendar that day?", "我那天有什么安排？"),
               what=tr(rng, lang, "date", "日期"), value=day, action=tr(rng, lang, "read your calendar", "查看日历"))


@intent("calendar.free_slots", "calendar")
def free_slots(world: World, rng: random.Random, lang: str) -> Ask:
    day = _date(world, rng, 10)
    minutes = rng.choice((30, 45, 60, 90))
    text = tr(rng, lang, (f"When am I free for {minutes} minutes on {day}?", f"Find me a {minutes}-minute gap on {day}."),
              (f"{day} 我什么时候有 {minutes} 分钟的空闲？", f"帮我在 {day} 找一个 {minutes} 分钟的空档。"))

    def reply(r: dict) -> str:
        slots = [f"{s['start']}–{s['end']}" for s in r["free_slots"]]
        if not slots:
            return tr(rng, lang, f"Sorry, there is no free {minutes}-minute slot on {day}.", f"抱歉，{day} 没有 {minutes} 分钟的空档。")
        return tr(rng, lang, f"On {day} ({r['weekday']}) you are free: " + ", ".join(slots) + ".",
                  f"{day}（{r['weekday']}）的空闲时段：" + "，".join(slots) + "。")
    return Ask("find_free_slots", {"date": day, "duration_minutes": minutes}, text, reply,
               omit="date", without=tr(rng, lang, f"When do I have {minutes} free minutes?", f"我什么时候有 {minutes} 分钟空闲？"),
               what=tr(rng, lang, "day", "哪一天"), value=day, action=tr(rng, lang, "check free time", "查询空闲时间"))


# ----------------------------------------------------------------------------------------- notes
@intent("notes.search", "notes")
def search_notes(world: World, rng: random.Random, lang: str) -> Ask:
    note = world.choose(rng, world.state("notes").get("notes", []), "notes")
    words = [w.strip(",.:;-") for w in note["title"].split() if len(w.strip(",.:;-")) > 3] or [note["title"]]
    word = rng.choice(words)
    text = tr(rng, lang, (f"Find my notes about \"{word}\".", f"Do I have any notes mentioning {word}?", f"Search my notes for {word}."),
              (f"找一下关于“{word}”的笔记。", f"我有没有提到 {word} 的笔记？", f"在笔记里搜索 {word}。"))

    def reply(r: dict) -> str:
        titles = [f"“{n['title']}” ({n['id']})" for n in r["notes"]]
        if not titles:
            return tr(rng, lang, f"I found no notes mentioning {word}.", f"没有找到提到 {word} 的笔记。")
        return tr(rng, lang, f"I found {len(titles)} note(s): " + ", ".join(titles) + ".", f"找到 {len(titles)} 条笔记：" + "，".join(titles) + "。")
    return Ask("search_notes", {"query": word}, text, reply, action=tr(rng, lang, "search notes", "搜索笔记"))


NOTE_IDEAS = (("Groceries", "milk, eggs, spinach", "买菜", "牛奶、鸡蛋、菠菜"), ("Gift ideas", "a book for Mia, tea for dad", "礼物清单", "给米娅的书，给爸爸的茶"),
              ("Trip packing", "passport, charger, sunscreen", "出行打包", "护照、充电器、防晒霜"), ("Call back", "dentist about Tuesday", "回电话", "牙医周二的预约"),
              ("Weekly goals", "finish the report, run twice", "本周目标", "完成报告，跑步两次"), ("Recipe", "lentil soup with cumin", "菜谱", "孜然扁豆汤"))


@intent("notes.create", "notes")
def create_note(world: World, rng: random.Random, lang: str) -> Ask:
    title_en, body_en, title_zh, body_zh = rng.choice(NOTE_IDEAS)
    title, body = (title_zh, body_zh) if lang == "zh" else (title_en, f"{body_en}")
    suffix = rng.randint(2, 99)
    title = f"{title} {suffix}" if rng.random() < 0.5 else title
    text = tr(rng, lang, (f"Make a note titled \"{title}\": {body}.", f"Save a note called {title} with: {body}."),
              (f"新建一条笔记，标题“{title}”，内容：{body}。", f"帮我记一下，标题叫{title}：{body}。"))
    return Ask("create_note", {"title": title, "body": body}, text,
               lambda r: tr(rng, lang, f"Saved your note “{r['created']['title']}” as {r['created']['id']}.",
                            f"已保存笔记“{r['created']['title']}”，编号 {r['created']['id']}。"),
               omit="title", without=tr(rng, lang, f"Please save a note: {body}.", f"帮我记一条笔记：{body}。"),
               what=tr(rng, lang, "title for the note", "笔记标题"), value=f"\"{title}\"", action=tr(rng, lang, "create notes", "新建笔记"))


# --------------------------------------------------------------------------------------- tickets
@intent("tickets.list", "tickets")
def list_tickets(world: World, rng: random.Random, lang: str) -> Ask:
    status = rng.choice(("open", "in_progress", "resolved", "open"))
    names = {"open": ("open", "未处理"), "in_progress": ("in-progress", "处理中"), "resolved": ("resolved", "已解决")}[status]
    text = tr(rng, lang, (f"Which support tickets are {names[0]} right now?", f"Show me the {names[0]} tickets."),
              (f"现在有哪些{names[1]}的工单？", f"列出{names[1]}的工单。"))

    def reply(r: dict) -> str:
        items = [f"{t['id']} “{t['title']}” ({t['priority']})" for t in r["tickets"]]
        if not items:
            return tr(rng, lang, f"There are no {names[0]} tickets.", f"目前没有{names[1]}的工单。")
        return tr(rng, lang, f"{len(items)} {names[0]} ticket(s): " + "; ".join(items) + ".", f"{names[1]}工单 {len(items)} 个：" + "；".join(items) + "。")
    return Ask("list_tickets", {"status": status}, text, reply, action=tr(rng, lang, "look up support tickets", "查询工单"))


@intent("tickets.view", "tickets")
def view_ticket(world: World, rng: random.Random, lang: str) -> Ask:
    ticket = world.choose(rng, world.state("tickets").get("tickets", []), "tickets")
    text = tr(rng, lang, (f"What's the status of ticket {ticket['id']}?", f"Pull up {ticket['id']} for me.", f"Any news on {ticket['id']}?"),
              (f"工单 {ticket['id']} 现在是什么状态？", f"帮我调出 {ticket['id']}。", f"{ticket['id']} 有进展吗？"))
    return Ask("view_ticket", {"ticket_id": ticket["id"]}, text,
               lambda r: tr(rng, lang, f"{r['id']} “{r['title']}” is {r['status']} (priority {r['priority']}, assignee {r['assignee'] or 'nobody'}).",
                            f"{r['id']}“{r['title']}”当前状态 {r['status']}，优先级 {r['priority']}，处理人 {r['assignee'] or '无'}。"),
               omit="ticket_id", without=tr(rng, lang, "What's the status of my ticket?", "我的工单现在什么状态？"),
               what=tr(rng, lang, "ticket number", "工单号"), value=ticket["id"], action=tr(rng, lang, "look up tickets", "查询工单"))


ISSUES = (("Printer on floor 3 jams", "The printer jams on every second page.", "三楼打印机卡纸", "每打印两页就卡纸。"),
          ("Cannot log in to the portal", "Password reset link never arrives.", "无法登录门户", "重置密码的邮件一直收不到。"),
          ("Laptop battery drains fast", "Battery lasts under an hour since the update.", "笔记本耗电快", "更新后电池撑不到一小时。"),
          ("Shared drive is read-only", "I can no longer save files to the team drive.", "共享盘只读", "团队共享盘无法保存文件了。"),
          ("Wrong invoice address", "The invoice lists our old office address.", "发票地址错误", "发票上还是旧办公地址。"))


@intent("tickets.open", "tickets")
def open_ticket(world: World, rng: random.Random, lang: str) -> Ask:
    title_en, desc_en, title_zh, desc_zh = rng.choice(ISSUES)
    title, desc = (title_zh, desc_zh) if lang == "zh" else (title_en, desc_en)
    priority = rng.choice(("low", "medium", "high", "urgent"))
    text = tr(rng, lang, (f"Open a {priority}-priority ticket: {title}. {desc}", f"Please file a ticket \"{title}\" ({priority} priority): {desc}"),
              (f"提一个优先级为 {priority} 的工单：{title}。{desc}", f"帮我建个工单“{title}”，优先级 {priority}：{desc}"))
    return Ask("open_ticket", {"title": title, "description": desc, "priority": priority}, text,
               lambda r: tr(rng, lang, f"Done: ticket {r['opened']['id']} is open with {r['opened']['priority']} priority.",
                            f"已创建工单 {r['opened']['id']}，优先级 {r['opened']['priority']}。"),
               action=tr(rng, lang, "open support tickets", "创建工单"))


# ------------------------------------------------------------------------------------------ shop
def _product(world: World, rng: random.Random, in_stock: bool = True) -> dict[str, Any]:
    products = [p for p in world.state("shop").get("products", []) if p["stock"] > 0 or not in_stock]
    return world.choose(rng, products, "products")


@intent("shop.search", "shop")
def search_products(world: World, rng: random.Random, lang: str) -> Ask:
    product = _product(world, rng, in_stock=False)
    words = [w for w in product["name"].split() if len(w) > 2] or [product["name"]]
    keyword = rng.choice(words).lower()
    text = tr(rng, lang, (f"Do you sell anything like \"{keyword}\"?", f"Search the shop for {keyword}.", f"I'm looking for a {keyword}. What do you have?"),
              (f"店里有“{keyword}”相关的商品吗？", f"搜一下 {keyword}。", f"我想买 {keyword}，有什么选择？"))

    def reply(r: dict) -> str:
        items = [f"{p['name']} ({p['id']}, {num(p['price'])} {r['currency']}, {p['stock']} in stock)" for p in r["products"]]
        if not items:
            return tr(rng, lang, f"Nothing matches “{keyword}”.", f"没有找到与“{keyword}”匹配的商品。")
        return tr(rng, lang, f"I found {len(items)}: " + "; ".join(items) + ".", f"找到 {len(items)} 件：" + "；".join(items) + "。")
    return Ask("search_products", {"keyword": keyword}, text, reply,
               omit="keyword", without=tr(rng, lang, "Can you search the shop for me?", "能帮我在店里搜一下吗？"),
               what=tr(rng, lang, "product you're looking for", "想找的商品"), value=keyword, action=tr(rng, lang, "search the product catalogue", "搜索商品"))


@intent("shop.details", "shop")
def product_details(world: World, rng: random.Random, lang: str) -> Ask:
    product = _product(world, rng, in_stock=False)
    text = tr(rng, lang, (f"How much is {product['id']} and is it in stock?", f"Give me the details of product {product['id']}."),
              (f"{product['id']} 多少钱，有货吗？", f"查一下商品 {product['id']} 的详情。"))
    return Ask("get_product_details", {"product_id": product["id"]}, text,
               lambda r: tr(rng, lang, f"{r['name']} costs {num(r['price'])} {r['currency']}; {r['stock']} left in stock, rated {num(r['rating'])}.",
                            f"{r['name']} 售价 {num(r['price'])} {r['currency']}，库存 {r['stock']}，评分 {num(r['rating'])}。"),
               omit="product_id", without=tr(rng, lang, "How much does that product cost?", "那个商品多少钱？"),
               what=tr(rng, lang, "product ID", "商品编号"), value=product["id"], action=tr(rng, lang, "look up products", "查询商品"))


@intent("shop.add_to_cart", "shop")
def add_to_cart(world: World, rng: random.Random, lang: str) -> Ask:
    product = _product(world, rng)
    quantity = rng.randint(1, min(3, product["stock"]))
    text = tr(rng, lang, (f"Put {quantity} × {product['name']} ({product['id']}) in my cart.", f"Add {quantity} of {product['id']} to the cart."),
              (f"把 {quantity} 件{product['name']}（{product['id']}）加入购物车。", f"往购物车里加 {quantity} 个 {product['id']}。"))
    return Ask("add_to_cart", {"product_id": product["id"], "quantity": quantity}, text,
               lambda r: tr(rng, lang, f"Added. Your cart now totals {num(r['cart']['total'])} {r['cart']['currency']}.",
                            f"已加入，购物车合计 {num(r['cart']['total'])} {r['cart']['currency']}。"),
               action=tr(rng, lang, "manage a shopping cart", "管理购物车"))


@intent("shop.balance", "shop")
def balance(world: World, rng: random.Random, lang: str) -> Ask:
    text = tr(rng, lang, ("How much money is left in my wallet?", "What's my account balance?", "Check my balance, please."),
              ("我钱包里还有多少钱？", "我的账户余额是多少？", "查一下余额。"))
    return Ask("get_wallet_balance", {}, text,
               lambda r: tr(rng, lang, f"Your balance is {num(r['balance'])} {r['currency']}.", f"您的余额为 {num(r['balance'])} {r['currency']}。"),
               action=tr(rng, lang, "check your balance", "查询余额"))


@intent("shop.orders", "shop")
def orders(world: World, rng: random.Random, lang: str) -> Ask:
    text = tr(rng, lang, ("Show me my past orders.", "What orders have I placed?", "List my orders and their status."),
              ("看看我的历史订单。", "我下过哪些订单？", "列出我的订单和状态。"))

    def reply(r: dict) -> str:
        items = [f"{o['id']} ({o['status']}, {num(o['total'])})" for o in r["orders"]]
        if not items:
            return tr(rng, lang, "You have no orders yet.", "您还没有订单。")
        return tr(rng, lang, "Your orders: " + "; ".join(items) + ".", "您的订单：" + "；".join(items) + "。")
    return Ask("list_orders", {}, text, reply, action=tr(rng, lang, "look up orders", "查询订单"))
