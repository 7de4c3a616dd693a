"""Programs whose calls build on each other: dependent chains, multi-step, error recovery, long context.

A dependent chain passes an earlier result into a later call as a ``Ref`` — executed with the real
value, written as ``<link>ID.PATH</link>`` + ``depend_on``. Multi-step programs act and then check,
choosing later arguments from what they read. Error-recovery programs meet a real tool error
caused by the user's information (a mistyped id, a wrong path, too large a quantity) and recover.
Each chain is one function registered in ``CHAINS`` with the toolkits it needs.
May import: the standard library, this package.
"""

from __future__ import annotations

import random
from typing import Callable

from . import phrases
from .dialogue import Call, Dialogue, ProgramError, Ref, ok
from .intents import World, num, tr
from .programs import Plan, offer

Chain = Callable[[Dialogue, World, random.Random, str, Plan], list[str]]
CHAINS: dict[str, dict[str, tuple[tuple[str, ...], Chain]]] = {"dependent": {}, "multi_step": {}, "error_recovery": {},
                                                               "long_context": {}, "multi_turn": {}}


def chain(category: str, name: str, *toolkits: str) -> Callable[[Chain], Chain]:
    def register(function: Chain) -> Chain:
        CHAINS[category][name] = (toolkits, function)
        return function
    return register


def start(d: Dialogue, rng: random.Random, plan: Plan, tools: list[str]) -> None:
    offer(d, rng, tools, plan.extra_tools(rng, set(tools)))


def user_turn(d: Dialogue, rng: random.Random, lang: str, en: tuple[str, ...] | str, zh: tuple[str, ...] | str,
              **slots: object) -> None:
    """A user message: one of the wordings for ``lang`` (filled with ``slots``) with a varied opener and closer."""
    d.user(phrases.wrap(rng, lang, tr(rng, lang, en, zh, **slots)))


def expect_error(d: Dialogue, rng: random.Random, lang: str, tool: str, **arguments: object) -> Call:
    """A call that must fail for real (the user's information was wrong); the assistant says it will correct it."""
    failed = d.call(tool, **arguments)
    if not failed.failed:
        raise ProgramError("expected an error")
    d.assistant(phrases.say(rng, lang, phrases.RETRY_NOTE, error=failed.result["error"]))
    return failed


# ------------------------------------------------------------------------------------ dependent
@chain("dependent", "shop.search_then_details", "shop")
def search_then_details(d: Dialogue, world: World, rng: random.Random, lang: str, plan: Plan) -> list[str]:
    product = world.choose(rng, world.state("shop")["products"], "products")
    keyword = max((w for w in product["name"].split()), key=len).lower()
    start(d, rng, plan, ["search_products", "get_product_details"])
    user_turn(d, rng, lang,
        (f"Look up the first result for \"{keyword}\" and tell me its rating and stock.", f"Find a {keyword} in the shop and give me the full details of the top match."),
        (f"搜一下“{keyword}”，把第一个结果的评分和库存告诉我。", f"在店里找 {keyword}，给我第一个匹配商品的详细信息。"))
    found = ok(d.call("search_products", keyword=keyword))
    if not found.result["products"]:
        raise ProgramError("empty search")
    details = ok(d.call("get_product_details", product_id=Ref(found, ("products", 0, "id")))).result
    d.assistant(tr(rng, lang, f"The top match is {details['name']} ({details['id']}): rated {num(details['rating'])}, {details['stock']} in stock, {num(details['price'])} {details['currency']}.",
                   f"第一个匹配的是 {details['name']}（{details['id']}）：评分 {num(details['rating'])}，库存 {details['stock']}，售价 {num(details['price'])} {details['currency']}。"))
    return ["dependent", "multi_step"]


@chain("dependent", "shop.search_then_add", "shop")
def search_then_add(d: Dialogue, world: World, rng: random.Random, lang: str, plan: Plan) -> list[str]:
    products = [p for p in world.state("shop")["products"] if p["stock"] > 0]
    product = world.choose(rng, products, "products in stock")
    keyword = max((w for w in product["name"].split()), key=len).lower()
    start(d, rng, plan, ["search_products", "add_to_cart", "view_cart"])
    user_turn(d, rng, lang,
        (f"Find something matching \"{keyword}\" that's in stock and put one in my cart.", f"Add the first in-stock {keyword} you find to my cart."),
        (f"找一个有货的“{keyword}”，放一件到购物车。", f"把搜到的第一个有货的 {keyword} 加进购物车。"))
    found = ok(d.call("search_products", keyword=keyword, in_stock_only=True))
    if not found.result["products"]:
        raise ProgramError("empty search")
    added = ok(d.call("add_to_cart", product_id=Ref(found, ("products", 0, "id")), quantity=1)).result
    d.assistant(tr(rng, lang, f"I added {added['added']['name']} to your cart; the cart total is now {num(added['cart']['total'])} {added['cart']['currency']}.",
                   f"已把 {added['added']['name']} 加入购物车，当前合计 {num(added['cart']['total'])} {added['cart']['currency']}。"))
    return ["dependent", "multi_step"]


@chain("dependent", "notes.search_then_read", "notes")
def search_then_read(d: Dialogue, world: World, rng: random.Random, lang: str, plan: Plan) -> list[str]:
    note = world.choose(rng, world.state("notes")["notes"], "notes")
    word = max(note["title"].split(), key=len).strip(",.:;")
    start(d, rng, plan, ["search_notes", "read_note"])
    user_turn(d, rng, lang,
        (f"Open my note about {word} and read it to me.", f"What did I write in the note on \"{word}\"?"),
        (f"打开关于{word}的那条笔记，念给我听。", f"我在“{word}”那条笔记里写了什么？"))
    found = ok(d.call("search_notes", query=word))
    if not found.result["notes"]:
        raise ProgramError("empty search")
    text = ok(d.call("read_note", note_id=Ref(found, ("notes", 0, "id")))).result
    d.assistant(tr(rng, lang, f"Your note “{text['title']}” says:\n{text['body']}", f"笔记“{text['title']}”的内容是：\n{text['body']}"))
    return ["dependent", "multi_step"]


@chain("dependent", "tickets.list_then_comment", "tickets")
def list_then_comment(d: Dialogue, world: World, rng: random.Random, lang: str, plan: Plan) -> list[str]:
    comment = tr(rng, lang, ("Looking into this today.", "Escalated to the infrastructure team.", "Could you confirm the exact error message?"),
                 ("今天会跟进处理。", "已升级给基础设施团队。", "能确认一下具体的报错信息吗？"))
    priority = rng.choice(("urgent", "high"))
    start(d, rng, plan, ["list_tickets", "add_ticket_comment"])
    user_turn(d, rng, lang,
        (f"Take the first open {priority}-priority ticket and comment on it: \"{comment}\"", f"Add the comment \"{comment}\" to the top open {priority} ticket."),
        (f"找到第一个优先级为 {priority} 的未处理工单，评论：“{comment}”", f"给排在最前面的 {priority} 未处理工单加评论“{comment}”。"))
    found = ok(d.call("list_tickets", status="open", priority=priority))
    if not found.result["tickets"]:
        raise ProgramError("no such ticket")
    ok(d.call("add_ticket_comment", ticket_id=Ref(found, ("tickets", 0, "id")), text=comment))
    first = found.result["tickets"][0]
    d.assistant(tr(rng, lang, f"Commented on {first['id']} (“{first['title']}”).", f"已在 {first['id']}（“{first['title']}”）下添加评论。"))
    return ["dependent", "multi_step"]


@chain("dependent", "calendar.today_then_events", "calendar")
def today_then_events(d: Dialogue, world: World, rng: random.Random, lang: str, plan: Plan) -> list[str]:
    days = rng.choice((1, 2, 3, 7))
    start(d, rng, plan, ["get_current_date", "add_to_date", "list_events"])
    user_turn(d, rng, lang,
        (f"What's on my calendar {days} day(s) from today?", f"Check my schedule for the day {days} day(s) after today."),
        (f"今天之后第 {days} 天我有什么安排？", f"查一下 {days} 天后的日程。"))
    today = ok(d.call("get_current_date"))
    target = ok(d.call("add_to_date", date=Ref(today, ("date",)), days=days))
    events = ok(d.call("list_events", start_date=Ref(target, ("date",)), end_date=Ref(target, ("date",)))).result["events"]
    day = target.result["date"]
    if not events:
        d.assistant(tr(rng, lang, f"Nothing is scheduled on {day} ({target.result['weekday']}).", f"{day}（{target.result['weekday']}）没有安排。"))
    else:
        items = "; ".join(f"{e['title']} {e['start']}–{e['end']}" for e in events)
        d.assistant(tr(rng, lang, f"On {day} ({target.result['weekday']}) you have: {items}.", f"{day}（{target.result['weekday']}）的安排：{items}。"))
    return ["dependent", "multi_step"]


@chain("dependent", "math.mean_then_round", "math")
def mean_then_round(d: Dialogue, world: World, rng: random.Random, lang: str, plan: Plan) -> list[str]:
    values = [round(rng.uniform(1, 99), 2) for _ in range(rng.randint(5, 9))]
    digits = rng.choice((0, 1, 2))
    start(d, rng, plan, ["calculate_mean", "round_to_digits"])
    listed = ", ".join(num(v) for v in values)
    user_turn(d, rng, lang,
        (f"Average these and round the result to {digits} decimals: {listed}.", f"What's the mean of {listed}, rounded to {digits} decimal places?"),
        (f"求这些数的平均值并保留 {digits} 位小数：{listed}。", f"{listed} 的平均数是多少？保留 {digits} 位小数。"))
    mean = ok(d.call("calculate_mean", numbers=values))
    rounded = ok(d.call("round_to_digits", value=Ref(mean, ("mean",)), decimals=digits)).result
    value = next(v for k, v in rounded.items() if isinstance(v, (int, float)) and k not in ("decimals", "original", "value"))\
        if "rounded" not in rounded else rounded["rounded"]
    d.assistant(tr(rng, lang, f"The mean is {num(mean.result['mean'])}, which rounds to {num(value)}.",
                   f"平均值为 {num(mean.result['mean'])}，保留 {digits} 位小数是 {num(value)}。"))
    return ["dependent", "multi_step"]


# ----------------------------------------------------------------------------------- multi-step
@chain("multi_step", "notes.create_then_list", "notes")
def create_then_list(d: Dialogue, world: World, rng: random.Random, lang: str, plan: Plan) -> list[str]:
    tag = rng.choice(("work", "home", "ideas", "todo", "travel"))
    title = tr(rng, lang, ("Pick up dry cleaning", "Renew passport", "Call the landlord", "Book dentist", "Water the plants"),
               ("取干洗衣服", "续签护照", "给房东打电话", "预约牙医", "给植物浇水")) + f" #{rng.randint(2, 99)}"
    start(d, rng, plan, ["create_note", "list_notes"])
    user_turn(d, rng, lang,
        (f"Add a note \"{title}\" tagged {tag}, then show me everything tagged {tag}.", f"Save \"{title}\" under the {tag} tag and list my {tag} notes."),
        (f"新建笔记“{title}”，标签 {tag}，然后列出所有 {tag} 标签的笔记。", f"把“{title}”存到 {tag} 标签下，再列出 {tag} 的笔记。"))
    ok(d.call("create_note", title=title, tags=[tag]))
    listed = ok(d.call("list_notes", tag=tag)).result["notes"]
    titles = phrases.join_items(lang, [f"“{n['title']}”" for n in listed])
    d.assistant(tr(rng, lang, f"Saved. Notes tagged {tag}: {titles}.", f"已保存。{tag} 标签下的笔记：{titles}。"))
    return ["multi_step"]


@chain("multi_step", "shop.balance_then_buy", "shop")
def balance_then_buy(d: Dialogue, world: World, rng: random.Random, lang: str, plan: Plan) -> list[str]:
    category = world.choose(rng, sorted({p["category"] for p in world.state("shop")["products"]}), "categories")
    start(d, rng, plan, ["get_wallet_balance", "search_products", "add_to_cart"])
    user_turn(d, rng, lang,
        (f"Check my balance and add the cheapest in-stock {category} item I can afford to my cart.", f"What's the cheapest {category} product I can afford right now? Put it in my cart."),
        (f"看看我的余额，把买得起的最便宜的有货{category}类商品加入购物车。", f"我现在买得起的最便宜的{category}商品是哪个？加到购物车。"))
    wallet = ok(d.call("get_wallet_balance")).result
    found = ok(d.call("search_products", category=category, max_price=wallet["balance"], in_stock_only=True)).result
    if not found["products"]:
        raise ProgramError("nothing affordable")
    cheapest = min(found["products"], key=lambda p: (p["price"], p["id"]))
    added = ok(d.call("add_to_cart", product_id=cheapest["id"], quantity=1)).result
    d.assistant(tr(rng, lang, f"With {num(wallet['balance'])} {wallet['currency']} available, the cheapest {category} item is {cheapest['name']} at {num(cheapest['price'])}; it's in your cart (total {num(added['cart']['total'])}).",
                   f"您的余额为 {num(wallet['balance'])} {wallet['currency']}，最便宜的{category}商品是 {cheapest['name']}（{num(cheapest['price'])}），已加入购物车（合计 {num(added['cart']['total'])}）。"))
    return ["multi_step"]


@chain("multi_step", "tickets.least_busy_assign", "tickets")
def least_busy_assign(d: Dialogue, world: World, rng: random.Random, lang: str, plan: Plan) -> list[str]:
    tickets = [t for t in world.state("tickets")["tickets"] if t["status"] in ("open", "in_progress")]
    ticket = world.choose(rng, tickets, "active tickets")
    start(d, rng, plan, ["list_support_agents", "assign_ticket"])
    user_turn(d, rng, lang,
        (f"Give {ticket['id']} to whichever agent has the fewest active tickets.", f"Assign {ticket['id']} to the least busy support agent."),
        (f"把 {ticket['id']} 分配给手上工单最少的客服。", f"{ticket['id']} 交给目前最闲的客服处理。"))
    agents = ok(d.call("list_support_agents")).result["agents"]
    if not agents:
        raise ProgramError("no agents")
    least = min(agents, key=lambda a: (a["active_tickets"], a["name"]))
    ok(d.call("assign_ticket", ticket_id=ticket["id"], assignee=least["name"]))
    d.assistant(tr(rng, lang, f"{least['name']} had the fewest active tickets ({least['active_tickets']}), so {ticket['id']} is now assigned to them.",
                   f"{least['name']} 当前工单最少（{least['active_tickets']} 个），已把 {ticket['id']} 分配给 TA。"))
    return ["multi_step"]


# ------------------------------------------------------------------------------- error recovery
def _typo(identifier: str, rng: random.Random) -> str:
    digits = [i for i, c in enumerate(identifier) if c.isdigit()]
    i = rng.choice(digits)
    return identifier[:i] + str((int(identifier[i]) + rng.randint(1, 8)) % 10) + identifier[i + 1:]


@chain("error_recovery", "tickets.wrong_id", "tickets")
def wrong_ticket_id(d: Dialogue, world: World, rng: random.Random, lang: str, plan: Plan) -> list[str]:
    tickets = world.state("tickets")["tickets"]
    ticket = world.choose(rng, tickets, "tickets")
    known = {t["id"] for t in tickets}
    wrong = next((w for w in (_typo(ticket["id"], rng) for _ in range(10)) if w not in known), None)
    if wrong is None:
        raise ProgramError("no wrong id")
    word = max(ticket["title"].split(), key=len).strip(".,'\"")
    start(d, rng, plan, ["view_ticket", "list_tickets"])
    user_turn(d, rng, lang,
        (f"What's happening with {wrong}, the one about {word}?", f"Status of ticket {wrong} please (the {word} issue)."),
        (f"{wrong} 现在怎么样了？就是{word}那个。", f"查一下工单 {wrong}（关于 {word} 的问题）。"))
    expect_error(d, rng, lang, "view_ticket", ticket_id=wrong)
    found = ok(d.call("list_tickets", keyword=word))
    if not found.result["tickets"]:
        raise ProgramError("keyword finds nothing")
    view = ok(d.call("view_ticket", ticket_id=Ref(found, ("tickets", 0, "id")))).result
    d.assistant(tr(rng, lang, f"There is no ticket {wrong}; the {word} ticket is {view['id']} (“{view['title']}”), currently {view['status']}.",
                   f"没有 {wrong} 这个工单；关于 {word} 的是 {view['id']}（“{view['title']}”），目前状态 {view['status']}。"))
    return ["error_recovery", "dependent", "multi_step"]


@chain("error_recovery", "shop.too_many", "shop")
def too_many(d: Dialogue, world: World, rng: random.Random, lang: str, plan: Plan) -> list[str]:
    products = [p for p in world.state("shop")["products"] if 0 < p["stock"] < 40]
    product = world.choose(rng, products, "products with little stock")
    wanted = product["stock"] + rng.randint(1, 10)
    start(d, rng, plan, ["add_to_cart", "get_product_details"])
    user_turn(d, rng, lang,
        (f"I need {wanted} of {product['id']} for the team — add them to my cart, or as many as you can.", f"Put {wanted} × {product['name']} in the cart; if that's too many, take all that's left."),
        (f"团队要 {wanted} 个 {product['id']}，加到购物车，不够的话能加多少加多少。", f"往购物车放 {wanted} 个{product['name']}，不够就把剩下的全拿了。"))
    expect_error(d, rng, lang, "add_to_cart", product_id=product["id"], quantity=wanted)
    details = ok(d.call("get_product_details", product_id=product["id"])).result
    added = ok(d.call("add_to_cart", product_id=product["id"], quantity=details["stock"])).result
    d.assistant(tr(rng, lang, f"Only {details['stock']} were in stock, so I added all {details['stock']}; your cart total is {num(added['cart']['total'])}.",
                   f"库存只有 {details['stock']} 个，已全部加入购物车，合计 {num(added['cart']['total'])}。"))
    return ["error_recovery", "multi_step"]


@chain("error_recovery", "notes.missing_id", "notes")
def missing_note(d: Dialogue, world: World, rng: random.Random, lang: str, plan: Plan) -> list[str]:
    notes = world.state("notes")["notes"]
    note = world.choose(rng, notes, "notes")
    wrong = f"note-{world.state('notes').get('next_id', 10) + rng.randint(3, 40)}"
    word = max(note["title"].split(), key=len).strip(",.:;")
    start(d, rng, plan, ["read_note", "search_notes"])
    user_turn(d, rng, lang,
        (f"Read me {wrong} — I think that's my {word} note.", f"Open note {wrong}, the one about {word}."),
        (f"读一下 {wrong}，应该是我那条{word}笔记。", f"打开笔记 {wrong}，就是关于{word}的那条。"))
    expect_error(d, rng, lang, "read_note", note_id=wrong)
    found = ok(d.call("search_notes", query=word))
    if not found.result["notes"]:
        raise ProgramError("empty search")
    text = ok(d.call("read_note", note_id=Ref(found, ("notes", 0, "id")))).result
    d.assistant(tr(rng, lang, f"{wrong} doesn't exist, but your {word} note is {text['id']} — “{text['title']}”:\n{text['body']}",
                   f"{wrong} 不存在，您说的{word}笔记是 {text['id']}“{text['title']}”：\n{text['body']}"))
    return ["error_recovery", "dependent", "multi_step"]

