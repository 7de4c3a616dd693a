"""Multi-turn journeys: one user's several requests over one evolving state, each turn building on the last.

A shop order from search to delivery status, a calendar entry from free slot to rescheduling, a
support ticket from report to resolution, a note from draft to tags, a file from draft to archive.
Later turns refer to what earlier turns created (ids as links), so the state really carries across
turns and the re-executed results match. Registered as ``multi_turn`` chains.
May import: the standard library, this package.
"""

from __future__ import annotations

import datetime as dt
import posixpath
import random

from .chains import chain, start, user_turn
from .dialogue import Dialogue, ProgramError, Ref, ok
from .intents import World, num, tr
from .programs import Plan
from .shop_rules import valid_coupons


@chain("multi_turn", "shop.order", "shop")
def shop_order(d: Dialogue, world: World, rng: random.Random, lang: str, plan: Plan) -> list[str]:
    state = world.state("shop")
    products = [p for p in state["products"] if p["stock"] > 0 and p["price_cents"] * 2 <= state["balance_cents"]]
    product = world.choose(rng, products, "affordable products")
    keyword = max(product["name"].split(), key=len).lower()
    start(d, rng, plan, ["search_products", "add_to_cart", "view_cart", "apply_coupon", "checkout", "get_order_status"])
    user_turn(d, rng, lang, ("Do you have any {k}?", "I'm shopping for a {k}. What's available?"), ("有{k}吗？", "我想买{k}，有哪些？"), k=keyword)
    found = ok(d.call("search_products", keyword=keyword, in_stock_only=True))
    if not found.result["products"]:
        raise ProgramError("empty search")
    top = found.result["products"][0]
    d.assistant(tr(rng, lang, f"Yes: {top['name']} ({top['id']}) at {num(top['price'])} {found.result['currency']}, {top['stock']} in stock.",
                   f"有的：{top['name']}（{top['id']}），售价 {num(top['price'])} {found.result['currency']}，库存 {top['stock']}。"))
    quantity = rng.randint(1, min(2, top["stock"]))
    user_turn(d, rng, lang, (f"Great, put {quantity} in my cart.", f"I'll take {quantity}."), (f"好，放 {quantity} 件到购物车。", f"我要 {quantity} 件。"))
    added = ok(d.call("add_to_cart", product_id=Ref(found, ("products", 0, "id")), quantity=quantity)).result
    d.assistant(tr(rng, lang, f"Added {quantity} × {added['added']['name']}; the cart total is {num(added['cart']['total'])}.",
                   f"已加入 {quantity} 件{added['added']['name']}，购物车合计 {num(added['cart']['total'])}。"))
    codes = valid_coupons(state, added["cart"])
    if codes and rng.random() < 0.7:
        code = rng.choice(codes)
        user_turn(d, rng, lang, (f"I have the coupon {code}, apply it please.", f"Use coupon code {code}."), (f"我有优惠码 {code}，帮我用上。", f"使用优惠码 {code}。"))
        applied = ok(d.call("apply_coupon", code=code)).result["cart"]
        d.assistant(tr(rng, lang, f"Coupon {code} applied: the total is now {num(applied['total'])} (saving {num(applied['discount'])}).",
                       f"已使用优惠码 {code}：合计 {num(applied['total'])}（优惠 {num(applied['discount'])}）。"))
    user_turn(d, rng, lang, ("Check out.", "Place the order, please.", "OK, let's pay."), ("结账吧。", "下单。", "好的，付款。"))
    order = ok(d.call("checkout"))
    d.assistant(tr(rng, lang, f"Order {order.result['order']['id']} is placed for {num(order.result['order']['total'])}; your balance is {num(order.result['balance'])}.",
                   f"订单 {order.result['order']['id']} 已下单，金额 {num(order.result['order']['total'])}，余额 {num(order.result['balance'])}。"))
    if rng.random() < 0.6:
        user_turn(d, rng, lang, ("What's the status of that order?", "Can you check on my order?"), ("那个订单现在什么状态？", "帮我查一下订单状态。"))
        status = ok(d.call("get_order_status", order_id=Ref(order, ("order", "id")))).result
        d.assistant(tr(rng, lang, f"{status['id']} is {status['status']} (placed on {status['placed_on']}).", f"{status['id']} 当前状态：{status['status']}（{status['placed_on']} 下单）。"))
    return ["multi_turn", "dependent"]


@chain("multi_turn", "calendar.plan_meeting", "calendar")
def plan_meeting(d: Dialogue, world: World, rng: random.Random, lang: str, plan: Plan) -> list[str]:
    today = dt.date.fromisoformat(world.state("calendar")["today"])
    day = (today + dt.timedelta(days=rng.randint(1, 10))).isoformat()
    minutes = rng.choice((30, 45, 60))
    title = tr(rng, lang, ("Budget review", "1:1 with Priya", "Design sync", "Vendor call", "Interview"), ("预算评审", "与 Priya 一对一", "设计同步会", "供应商电话", "面试"))
    start(d, rng, plan, ["find_free_slots", "create_event", "update_event", "delete_event", "list_events"])
    user_turn(d, rng, lang, ("When am I free on {day} for {m} minutes?", "Find a {m}-minute slot on {day}."), ("{day} 哪里有 {m} 分钟空档？", "在 {day} 找个 {m} 分钟的时间。"), day=day, m=minutes)
    free = ok(d.call("find_free_slots", date=day, duration_minutes=minutes)).result["free_slots"]
    if not free:
        raise ProgramError("no free slot")
    slot = free[0]
    begin = dt.datetime.strptime(slot["start"], "%H:%M")
    end = (begin + dt.timedelta(minutes=minutes)).strftime("%H:%M")
    d.assistant(tr(rng, lang, "Free slots: " + ", ".join(f"{s['start']}–{s['end']}" for s in free) + ".", "空闲时段：" + "，".join(f"{s['start']}–{s['end']}" for s in free) + "。"))
    user_turn(d, rng, lang, ("Book \"{t}\" at {s}.", "Put {t} in at {s}, please."), ("在 {s} 安排“{t}”。", "{s} 帮我约上{t}。"), t=title, s=slot["start"])
    created = ok(d.call("create_event", title=title, date=day, start_time=slot["start"], end_time=end))
    d.assistant(tr(rng, lang, f"Booked {title} on {day}, {slot['start']}–{end} ({created.result['created']['id']}).",
                   f"已安排“{title}”：{day} {slot['start']}–{end}（{created.result['created']['id']}）。"))
    if rng.random() < 0.5:
        room = rng.choice(("Room 2A", "Room 4C", "Zoom", "Cafe Luna"))
        user_turn(d, rng, lang, ("Make it in {r}.", "Set the location to {r}."), ("地点改成 {r}。", "把地点设为 {r}。"), r=room)
        ok(d.call("update_event", event_id=Ref(created, ("created", "id")), location=room))
        d.assistant(tr(rng, lang, f"Done, {title} is now in {room}.", f"好的，“{title}”的地点已改为 {room}。"))
    else:
        user_turn(d, rng, lang, ("Actually, cancel it.", "Never mind, delete that event."), ("算了，取消吧。", "不用了，删掉这个日程。"))
        ok(d.call("delete_event", event_id=Ref(created, ("created", "id"))))
        d.assistant(tr(rng, lang, f"Cancelled {title} on {day}.", f"已取消 {day} 的“{title}”。"))
    return ["multi_turn", "dependent"]


@chain("multi_turn", "tickets.lifecycle", "tickets")
def ticket_lifecycle(d: Dialogue, world: World, rng: random.Random, lang: str, plan: Plan) -> list[str]:
    issue = tr(rng, lang, ("Wi-Fi drops in meeting room B", "Cannot export reports to PDF", "Two-factor codes arrive late", "Monitor flickers after update"),
               ("B 会议室 Wi-Fi 经常断", "报表无法导出为 PDF", "双重验证码到得很慢", "更新后显示器闪烁"))
    agents = sorted({t["assignee"] for t in world.state("tickets")["tickets"] if t.get("assignee")}) or world.state("tickets").get("agents", [])
    agent = world.choose(rng, list(agents), "agents")
    start(d, rng, plan, ["open_ticket", "assign_ticket", "update_ticket_status", "add_ticket_comment", "change_ticket_priority", "close_ticket_with_resolution"])
    user_turn(d, rng, lang, ("Please open a ticket: {i}.", "Report this for me: {i}."), ("帮我开个工单：{i}。", "帮我报修：{i}。"), i=issue)
    opened = ok(d.call("open_ticket", title=issue, description=issue))
    tid = opened.result["opened"]["id"]
    d.assistant(tr(rng, lang, f"Opened {tid}.", f"已创建工单 {tid}。"))
    user_turn(d, rng, lang, ("Assign it to {a} and mark it in progress.", "Give it to {a}; they're starting now."), ("分配给 {a}，并标记为处理中。", "交给 {a}，现在开始处理。"), a=agent)
    ok(d.call("assign_ticket", ticket_id=Ref(opened, ("opened", "id")), assignee=agent))
    ok(d.call("update_ticket_status", ticket_id=Ref(opened, ("opened", "id")), status="in_progress"))
    d.assistant(tr(rng, lang, f"{tid} is assigned to {agent} and in progress.", f"{tid} 已分配给 {agent}，状态为处理中。"))
    if rng.random() < 0.5:
        user_turn(d, rng, lang, ("Bump it to urgent, it's blocking the team.", "Raise the priority to urgent."), ("优先级调成 urgent，影响整个团队了。", "把优先级提到 urgent。"))
        ok(d.call("change_ticket_priority", ticket_id=Ref(opened, ("opened", "id")), priority="urgent"))
        d.assistant(tr(rng, lang, f"{tid} is now urgent.", f"{tid} 已调整为 urgent。"))
    fix = tr(rng, lang, ("Replaced the access point.", "Updated the driver.", "Reset the user's token."), ("更换了无线接入点。", "更新了驱动。", "重置了用户令牌。"))
    user_turn(d, rng, lang, ("It's fixed: {f} Close it.", "Close the ticket — {f}"), ("已经解决了：{f}关掉工单吧。", "关闭工单——{f}"), f=fix)
    closed = ok(d.call("close_ticket_with_resolution", ticket_id=Ref(opened, ("opened", "id")), resolution=fix)).result
    d.assistant(tr(rng, lang, f"{closed['id']} is closed with the resolution: {closed['resolution']}", f"{closed['id']} 已关闭，处理结果：{closed['resolution']}"))
    return ["multi_turn", "dependent"]


@chain("multi_turn", "notes.draft", "notes")
def note_draft(d: Dialogue, world: World, rng: random.Random, lang: str, plan: Plan) -> list[str]:
    title = tr(rng, lang, ("Conference takeaways", "House move checklist", "Reading list 2025", "Garden plan"), ("会议心得", "搬家清单", "2025 书单", "花园规划")) + f" {rng.randint(2, 50)}"
    first, second = (tr(rng, lang, ("book the van", "keynote on data contracts", "Piranesi", "plant tomatoes"), ("预订货车", "数据契约主题演讲", "《皮拉内西》", "种番茄")),
                     tr(rng, lang, ("cancel the internet", "talk on evals", "The Overstory", "fix the fence"), ("停掉宽带", "评测相关的报告", "《树语》", "修篱笆")))
    tag = rng.choice(("personal", "work", "todo", "ideas"))
    start(d, rng, plan, ["create_note", "append_to_note", "tag_note", "read_note", "update_note", "list_note_tags"])
    user_turn(d, rng, lang, ("Start a note called \"{t}\" with: {a}.", "New note \"{t}\": {a}."), ("新建笔记“{t}”，内容：{a}。", "建一条笔记“{t}”：{a}。"), t=title, a=first)
    made = ok(d.call("create_note", title=title, body=first))
    d.assistant(tr(rng, lang, f"Created {made.result['created']['id']}.", f"已创建 {made.result['created']['id']}。"))
    user_turn(d, rng, lang, ("Add \"{b}\" to it.", "Append: {b}."), ("再加上“{b}”。", "追加：{b}。"), b=second)
    ok(d.call("append_to_note", note_id=Ref(made, ("created", "id")), text=second))
    d.assistant(tr(rng, lang, "Appended.", "已追加。"))
    user_turn(d, rng, lang, ("Tag it {g} and read it back to me.", "Label it {g}, then show me the note."), ("打上 {g} 标签，再念给我听。", "标记为 {g}，然后给我看看。"), g=tag)
    ok(d.call("tag_note", note_id=Ref(made, ("created", "id")), add_tags=[tag]))
    note = ok(d.call("read_note", note_id=Ref(made, ("created", "id")))).result
    d.assistant(tr(rng, lang, f"“{note['title']}” (tags: {', '.join(note['tags'])}):\n{note['body']}", f"“{note['title']}”（标签：{'、'.join(note['tags'])}）：\n{note['body']}"))
    return ["multi_turn", "dependent"]


@chain("multi_turn", "files.draft_to_archive", "files")
def draft_to_archive(d: Dialogue, world: World, rng: random.Random, lang: str, plan: Plan) -> list[str]:
    folder = world.choose(rng, sorted({posixpath.dirname(f["path"]) for f in world.files if f["type"] in ("txt", "md")} - {""}), "text folders")
    name = rng.choice(("ideas", "shopping", "names", "backlog", "guests")) + f"_{rng.randint(2, 99)}.txt"
    items = rng.sample(tr(rng, lang, "pears|apples|kiwis|figs|plums|limes", "梨|苹果|猕猴桃|无花果|李子|青柠").split("|"), 4)
    path = f"{folder}/{name}"
    start(d, rng, plan, ["write_file", "sort_lines", "move_file", "list_directory", "delete_file"])
    user_turn(d, rng, lang, ("Write {p} with one item per line: {i}.", "Create {p} listing {i}, one per line."), ("新建 {p}，每行一项：{i}。", "写个文件 {p}，逐行列出 {i}。"),
          p=path, i=", ".join(items) if lang == "en" else "、".join(items))
    ok(d.call("write_file", path=path, content="\n".join(items) + "\n"))
    d.assistant(tr(rng, lang, f"Saved {path}.", f"已保存 {path}。"))
    user_turn(d, rng, lang, ("Sort it alphabetically.", "Put the lines in order."), ("按字母顺序排个序。", "把这些行排好序。"))
    sorted_lines = ok(d.call("sort_lines", path=path, output_path=path)).result
    d.assistant(tr(rng, lang, "Sorted: " + ", ".join(sorted_lines["lines"]) + ".", "已排序：" + "、".join(sorted_lines["lines"]) + "。"))
    target = f"archive/{name}"
    user_turn(d, rng, lang, ("Now move it to archive/ and show me what's there.", "Archive it (archive/ folder) and list that folder."), ("把它移到 archive/，再列出那个目录。", "归档到 archive/ 并列出该目录。"))
    ok(d.call("move_file", source=path, destination=target))
    listed = ok(d.call("list_directory", path="archive")).result
    d.assistant(tr(rng, lang, "Moved. archive/ holds: " + ", ".join(e["path"] for e in listed["entries"]) + ".", "已移动。archive/ 下有：" + "，".join(e["path"] for e in listed["entries"]) + "。"))
    if rng.random() < 0.4:
        user_turn(d, rng, lang, ("On second thought, delete it.", "Actually, remove that file."), ("想了想，还是删掉吧。", "算了，把那个文件删了。"))
        ok(d.call("delete_file", path=target))
        d.assistant(tr(rng, lang, f"Deleted {target}.", f"已删除 {target}。"))
    return ["multi_turn"]


@chain("multi_turn", "shop.change_of_mind", "shop")
def change_of_mind(d: Dialogue, world: World, rng: random.Random, lang: str, plan: Plan) -> list[str]:
    state = world.state("shop")
    cheap = [p for p in state["products"] if p["stock"] > 0 and p["price_cents"] * 3 <= state["balance_cents"]]
    if len(cheap) < 2:
        raise ProgramError("not enough affordable products")
    first, second = rng.sample(cheap, 2)
    start(d, rng, plan, ["add_to_cart", "remove_from_cart", "checkout", "cancel_purchase", "view_cart"])
    user_turn(d, rng, lang, ("Add {a} and {b} to my cart.", "Put one {a} and one {b} in the cart."), ("把{a}和{b}加到购物车。", "购物车里各放一个{a}和{b}。"), a=first["name"], b=second["name"])
    ok(d.call("add_to_cart", product_id=first["id"], quantity=1))
    both = ok(d.call("add_to_cart", product_id=second["id"], quantity=1)).result["cart"]
    d.assistant(tr(rng, lang, f"Both are in your cart; total {num(both['total'])}.", f"两件都已加入购物车，合计 {num(both['total'])}。"))
    user_turn(d, rng, lang, ("Actually, drop the {b}.", "Remove {b} again."), ("算了，{b}不要了。", "把{b}去掉。"), b=second["name"])
    total = ok(d.call("remove_from_cart", product_id=second["id"])).result["cart"]["total"]
    d.assistant(tr(rng, lang, f"Removed. The cart total is now {num(total)}.", f"已移除，购物车合计 {num(total)}。"))
    user_turn(d, rng, lang, ("Check out.", "Place the order."), ("结账。", "下单吧。"))
    order = ok(d.call("checkout"))
    d.assistant(tr(rng, lang, f"Order {order.result['order']['id']} placed.", f"订单 {order.result['order']['id']} 已提交。"))
    user_turn(d, rng, lang, ("Hmm, cancel that order after all.", "Please cancel the order, I changed my mind."), ("嗯，还是把订单取消吧。", "我改主意了，取消订单。"))
    cancelled = ok(d.call("cancel_purchase", order_id=Ref(order, ("order", "id")))).result
    d.assistant(tr(rng, lang, f"Cancelled; {num(cancelled['refunded'])} is back in your wallet (balance {num(cancelled['balance'])}).",
                   f"已取消，{num(cancelled['refunded'])} 已退回钱包（余额 {num(cancelled['balance'])}）。"))
    return ["multi_turn", "dependent"]
