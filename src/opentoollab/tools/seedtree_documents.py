"""Builders of the seed tree's prose files, in English and Chinese: project readmes, notes and meeting
minutes, reports and invoices (pdf), personal notes, recipes, travel plans, handbooks, and server logs.

A builder takes ``(world, rng, *args)`` and returns ``(content, info)`` (``seedtree_world.Made``); the
info lists ``keywords`` planted in the text for the manifest. The layout that puts each builder at its
paths is in ``opentoollab.tools.seedtree``.

May import: the standard library, ``opentoollab.tools.seedtree_world``, ``opentoollab.tools.seedtree_formats``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .seedtree_formats import pdf
from .seedtree_world import DEPARTMENTS, TRIPS, Made, Rng, World, region_totals


# ---------------------------------------------------------------------------------- text helpers
_LOREM_EN = [
    "The team agreed to revisit the rollout plan after the next sprint review.",
    "Latency on the checkout endpoint improved after the cache warm-up change.",
    "Customer interviews keep pointing at onboarding as the biggest friction.",
    "We should document the escalation path before the holiday freeze.",
    "Budget approval is pending until finance closes the quarter.",
    "The vendor promised a patched firmware build by the end of the month.",
    "Remember to rotate the staging credentials after the audit.",
    "A quick prototype showed the search index fits in memory on one node.",
    "Two regressions slipped through because the smoke tests were skipped.",
    "Marketing wants a short demo video for the product launch webinar.",
    "Support tickets about password resets dropped by a third this month.",
    "The new dashboard makes weekly reporting much faster.",
    "We need a clear owner for the data retention policy.",
    "Load testing should run against production-sized datasets next time.",
    "Translation of the help centre into Spanish and Chinese is under way.",
]
_ZH_SENTENCES = [
    "本周完成了数据迁移的第一阶段，整体进度符合预期。",
    "客户反馈主要集中在登录流程和页面加载速度上。",
    "下个月需要重点关注库存周转率和供应商交付时间。",
    "会议决定在第三季度推出新版移动应用。",
    "财务部门提醒各团队在月底前提交报销单据。",
    "服务器在周末出现两次短暂宕机，已经定位到原因。",
    "市场部计划在上海和深圳举办两场线下活动。",
    "请大家在周五之前更新项目文档和任务状态。",
]
_LOG_EVENTS = [
    ("INFO", "auth", "user login succeeded user_id={n}"),
    ("INFO", "api", "GET /api/v1/orders/{n} 200 {ms}ms"),
    ("INFO", "api", "POST /api/v1/cart 201 {ms}ms"),
    ("DEBUG", "cache", "cache hit ratio 0.{n2}"),
    ("WARN", "db", "slow query took {ms}ms on table orders"),
    ("WARN", "api", "rate limit approaching for client key-{n}"),
    ("ERROR", "payments", "payment gateway timeout after {ms}ms order_id={n}"),
    ("ERROR", "db", "connection pool exhausted (max=20)"),
    ("INFO", "scheduler", "job nightly-report finished in {s}s"),
    ("INFO", "worker", "processed batch {n} with {n2} items"),
    ("ERROR", "auth", "invalid token signature for user_id={n}"),
    ("WARN", "disk", "volume /var/data at {n2}% capacity"),
]


def _md_table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _money(value: float) -> str:
    return f"{value:,.2f}"


# ---------------------------------------------------------------------------------- documents
def readme(w: World, r: Rng, index: int) -> Made:
    name = w.projects[index]
    goal, themes = w.project_goals[index]
    lead = w.person(r, "Engineering")
    members = r.sample([p for p in w.people if p is not lead], 4)
    milestones = []
    for number, theme in enumerate(themes):
        milestones.append([f"M{number + 1}: {theme}", w.date(40 + 90 * number + r.int(0, 30)),
                           r.choice(["done", "on track", "at risk", "not started"])])
    text = (f"# Project {name.title()}\n\n"
            f"{name.title()} is {w.company}'s initiative to {goal}. "
            f"The work is split into {len(themes)} milestones covering {', '.join(themes)}.\n\n"
            f"## Team\n\n- Lead: {lead['name']} ({lead['email']})\n"
            + "".join(f"- {p['name']}, {p['title']}\n" for p in members)
            + f"\n## Milestones\n\n{_md_table(['Milestone', 'Due', 'Status'], milestones)}\n\n"
            f"## Links\n\n- Tracker: https://tracker.{w.domain}/{name}\n"
            f"- Repository: https://git.{w.domain}/{name}/{name}-core\n- Chat: #proj-{name}\n")
    return text, {"keywords": [name.title(), lead["name"]], "lead": lead["name"]}


def project_notes(w: World, r: Rng, index: int) -> Made:
    name = w.projects[index]
    code = f"{name[:3].upper()}-{r.int(100, 999)}"
    lines = [f"Notes for project {name} ({w.company})", ""]
    for number in range(r.int(8, 14)):
        day = w.date(r.int(0, 350))
        sentence = r.choice(_LOREM_EN)
        if number == 3:
            sentence = f"Opened ticket {code} to track the flaky integration test."
        lines.append(f"{day}  {sentence}")
    lines += ["", "Risks:", f"- {r.choice(_LOREM_EN)}", f"- Key person dependency on {w.person(r)['name']}."]
    return "\n".join(lines) + "\n", {"keywords": [code]}


def minutes(w: World, r: Rng, index: int, number: int) -> Made:
    name = w.projects[index]
    attendees = r.sample(w.people, r.int(3, 6))
    chair = attendees[0]
    agenda = r.sample(["status update", "budget review", "risks and blockers", "release planning",
                       "customer feedback", "hiring", "security review", "retrospective"], 3)
    decision = r.choice(["postpone the beta by two weeks", "adopt the new code review checklist",
                         "move the standup to 9:30", "hire a contractor for QA",
                         "freeze scope for the next release", "switch the staging database to a larger instance"])
    text = [f"# {name.title()} meeting minutes — {minutes_date(w, index, number)}", "",
            f"**Chair:** {chair['name']}  ", f"**Attendees:** {', '.join(p['name'] for p in attendees)}", "",
            "## Agenda", *[f"{i + 1}. {item.capitalize()}" for i, item in enumerate(agenda)], "",
            "## Discussion"]
    for item in agenda:
        text.append(f"- *{item.capitalize()}*: {r.choice(_LOREM_EN)}")
    text += ["", "## Decisions", f"- The team decided to {decision}.", "", "## Action items"]
    for person in r.sample(attendees, min(3, len(attendees))):
        text.append(f"- [ ] {person['name']}: {r.choice(_LOREM_EN).rstrip('.').lower()} "
                    f"(due {w.date(r.int(0, 364))})")
    return "\n".join(text) + "\n", {"keywords": [chair["name"]], "decision": decision}


def minutes_date(w: World, index: int, number: int) -> str:
    r = Rng(w.seed, "minutes-date", index, number)
    return w.date(r.int(0, 170) + 180 * number)


def annual_report(w: World, r: Rng, year: int) -> Made:
    if year == w.year:
        totals = region_totals(w)
        revenue = sum(cents for _, cents in totals.values()) / 100
    else:
        revenue = r.int(200_000, 900_000) + r.int(0, 99) / 100
    headcount = len(w.people) - (w.year - year) * r.int(1, 3)
    best = r.choice(w.regions)
    page1 = [f"{w.company} - Annual Report {year}", "",
             f"Total revenue: USD {_money(revenue)}", f"Headcount at year end: {headcount}",
             f"Strongest region: {best}", "", "Highlights:",
             f"- Launched project {w.projects[0].title()} to {w.project_goals[0][0]}.",
             f"- {r.choice(_LOREM_EN)}", f"- {r.choice(_LOREM_EN)}"]
    page2 = ["Outlook", "", f"- {r.choice(_LOREM_EN)}", f"- {r.choice(_LOREM_EN)}",
             f"- Hiring plan: {r.int(2, 9)} new roles in {r.choice(list(DEPARTMENTS))}.",
             "", f"Prepared by {w.person(r, 'Finance')['name']}, Finance."]
    title = f"Annual Report {year}"
    return pdf(title, [page1, page2]), {"pages": 2, "title": title,
                                          "keywords": [f"USD {_money(revenue)}", best], "revenue": revenue}


def review_pdf(w: World, r: Rng) -> Made:
    quarter = r.int(1, 4)
    title = f"Q{quarter} {w.year} Business Review"
    lines = [f"Prepared for the leadership team of {w.company}.", ""]
    for region in w.regions:
        lines.append(f"{region}: growth {r.int(-8, 25)}% vs previous quarter, NPS {r.int(20, 70)}")
    lines += ["", "Top risks:", f"- {r.choice(_LOREM_EN)}", f"- {r.choice(_LOREM_EN)}"]
    return pdf(title, [lines]), {"pages": 1, "title": title, "keywords": [f"Q{quarter}"]}


def sales_report_zh(w: World, r: Rng) -> Made:
    totals = region_totals(w)
    region_zh = {"North": "北区", "South": "南区", "East": "东区", "West": "西区", "Central": "中区"}
    rows = [[region_zh[region], units, _money(cents / 100)] for region, (units, cents) in totals.items()]
    best = max(totals, key=lambda region: (totals[region][1], region))
    text = (f"# {w.year}年度销售报告\n\n公司：{w.company}\n\n## 概述\n\n"
            f"{r.choice(_ZH_SENTENCES)}{r.choice(_ZH_SENTENCES)}\n\n## 各区域销售额\n\n"
            f"{_md_table(['区域', '销量', '销售额（美元）'], rows)}\n\n"
            f"销售额最高的区域是{region_zh[best]}。\n\n## 下一步计划\n\n"
            f"- {r.choice(_ZH_SENTENCES)}\n- {r.choice(_ZH_SENTENCES)}\n")
    return text, {"keywords": ["销售报告", region_zh[best]], "language": "zh"}


def feedback(w: World, r: Rng) -> Made:
    quotes = ["The delivery was faster than expected.", "Setup took longer than I hoped.",
              "Great support team, they solved my issue in minutes.", "The invoice had the wrong address.",
              "Love the new dashboard!", "The mobile app crashes when I upload photos.",
              "Pricing is fair for what you get.", "I could not find the export button.",
              "Packaging was damaged but the product was fine.", "Excellent quality, will order again."]
    lines = ["Customer feedback log", "=====================", ""]
    for _ in range(r.int(12, 20)):
        customer = r.choice(w.customers)
        lines.append(f"[{r.int(1, 5)}/5] {customer['name']} ({customer['city']}): {r.choice(quotes)}")
    return "\n".join(lines) + "\n", {}


def todo(w: World, r: Rng) -> Made:
    items = ["renew passport", "book dentist appointment", "send quarterly report to finance", "call the landlord",
             "update laptop OS", "buy birthday gift for mum", "review pull request #" + str(r.int(100, 999)),
             "prepare slides for all-hands", "back up photos", "cancel unused streaming subscription",
             "pay electricity bill", "water the plants", "plan team offsite", "fix bike brakes"]
    lines = [f"[{'x' if r.chance(0.4) else ' '}] {item}" for item in r.sample(items, r.int(7, 11))]
    done = sum(line.startswith("[x]") for line in lines)
    return "TODO\n\n" + "\n".join(lines) + "\n", {"done": done, "open": len(lines) - done}


def ideas_md(w: World, r: Rng) -> Made:
    ideas = ["A Slack bot that summarises long threads", "Gamified onboarding checklist",
             "Carbon footprint estimate on every invoice", "Offline mode for the field app",
             "Weekly 'ask me anything' with leadership", "Self-serve data export for customers",
             "Auto-tagging support tickets by topic", "A shared recipe book for the office kitchen",
             "Hack week every quarter", "Public status page with uptime history"]
    text = "# Ideas\n\n" + "\n".join(f"- **{idea}** — {r.choice(_LOREM_EN)}" for idea in r.sample(ideas, 6)) + "\n"
    return text, {}


def reading(w: World, r: Rng) -> Made:
    books = [("The Pragmatic Programmer", "Andrew Hunt & David Thomas"), ("Designing Data-Intensive Applications",
             "Martin Kleppmann"), ("Thinking, Fast and Slow", "Daniel Kahneman"), ("三体", "刘慈欣"),
             ("活着", "余华"), ("Sapiens", "Yuval Noah Harari"), ("The Mythical Man-Month", "Frederick Brooks"),
             ("Atomic Habits", "James Clear"), ("围城", "钱钟书"), ("Project Hail Mary", "Andy Weir"),
             ("The Design of Everyday Things", "Don Norman"), ("Educated", "Tara Westover")]
    rows = [[title, author, r.choice(["to read", "reading", "finished"]), r.choice(["", "★★★", "★★★★", "★★★★★"])]
            for title, author in r.sample(books, 8)]
    return "# Reading list\n\n" + _md_table(["Title", "Author", "Status", "Rating"], rows) + "\n", {
        "keywords": [rows[0][0]]}


def minutes_zh(w: World, r: Rng) -> Made:
    people = r.sample([p for p in w.people if not p["name"].isascii()] or w.people, 3)
    lines = [f"会议记录 {w.date(r.int(0, 363))}", "", f"主持人：{people[0]['name']}",
             f"参会人员：{'、'.join(p['name'] for p in people)}", "", "议题："]
    for number in range(3):
        lines.append(f"{number + 1}. {r.choice(_ZH_SENTENCES)}")
    lines += ["", "决定：", f"- {r.choice(_ZH_SENTENCES)}", "", "待办事项：",
              f"- {people[1]['name']}：整理会议纪要并发送给全体成员", f"- {people[2]['name']}：跟进客户反馈"]
    return "\n".join(lines) + "\n", {"keywords": ["会议记录", people[0]["name"]], "language": "zh"}


def shopping(w: World, r: Rng) -> Made:
    items = ["eggs", "milk", "bread", "tomatoes", "rice", "chicken breast", "spinach", "apples", "coffee",
             "olive oil", "tofu", "noodles", "garlic", "onions", "yoghurt", "cheese", "bananas", "soy sauce"]
    lines = [f"{item} x{r.int(1, 6)}" for item in r.sample(items, r.int(6, 12))]
    return "\n".join(lines) + "\n", {"items": len(lines)}


RECIPES = {  # key → (title, ingredients, steps)
    "pancakes": ("Fluffy pancakes",
                 ["200 g flour", "2 eggs", "300 ml milk", "1 tbsp sugar", "2 tsp baking powder", "pinch of salt"],
                 ["Whisk the dry ingredients.", "Beat in the eggs and milk.", "Rest the batter for 10 minutes.",
                  "Fry ladlefuls in a hot buttered pan until golden."]),
    "tomato_soup": ("Roasted tomato soup",
                    ["1 kg tomatoes", "1 onion", "3 garlic cloves", "500 ml stock", "2 tbsp olive oil", "basil"],
                    ["Roast tomatoes, onion and garlic for 35 minutes.", "Blend with the stock.",
                     "Simmer 10 minutes and season.", "Serve with basil."]),
    "guacamole": ("Guacamole",
                  ["3 ripe avocados", "1 lime", "1 small red onion", "1 chilli", "coriander", "salt"],
                  ["Mash the avocados.", "Stir in lime juice, onion, chilli and coriander.", "Season to taste."]),
    "lentil_curry": ("Red lentil curry",
                     ["250 g red lentils", "400 ml coconut milk", "1 onion", "2 tbsp curry paste", "spinach"],
                     ["Fry the onion with the curry paste.", "Add lentils, coconut milk and 300 ml water.",
                      "Simmer 20 minutes.", "Wilt in the spinach."]),
    "banana_bread": ("Banana bread",
                     ["3 ripe bananas", "75 g butter", "150 g sugar", "1 egg", "190 g flour", "1 tsp baking soda"],
                     ["Mash the bananas and mix in melted butter.", "Add sugar, egg, flour and soda.",
                      "Bake 60 minutes at 175 C."]),
}
RECIPES_ZH = {
    "番茄炒蛋": (["番茄 2个", "鸡蛋 3个", "盐 适量", "白糖 1小勺", "葱花 少许"],
             ["鸡蛋打散炒熟盛出。", "番茄切块炒出汁水。", "加入鸡蛋翻炒，放盐和糖调味。", "撒上葱花出锅。"]),
    "麻婆豆腐": (["嫩豆腐 1块", "牛肉末 100克", "豆瓣酱 1大勺", "花椒粉 少许", "蒜末 适量"],
             ["豆腐切块焯水。", "炒香牛肉末和豆瓣酱。", "加水和豆腐煮五分钟。", "勾芡后撒花椒粉。"]),
    "红烧肉": (["五花肉 500克", "冰糖 30克", "生抽 2大勺", "老抽 1小勺", "姜片 3片", "八角 2个"],
            ["五花肉切块焯水。", "小火炒糖色。", "加入调料和热水炖一小时。", "大火收汁。"]),
    "饺子": (["面粉 500克", "猪肉馅 400克", "白菜 半颗", "姜末 适量", "酱油 2大勺"],
           ["和面醒三十分钟。", "白菜切碎挤干水分，与肉馅拌匀。", "擀皮包饺子。", "水开下锅煮三次开。"]),
}


def recipe(w: World, r: Rng, key: str) -> Made:
    title, ingredients, steps = RECIPES[key]
    serves = r.int(2, 6)
    text = (f"# {title}\n\nServes {serves}. Prep {r.int(5, 20)} min, cook {r.int(10, 60)} min.\n\n## Ingredients\n\n"
            + "\n".join(f"- {item}" for item in ingredients) + "\n\n## Method\n\n"
            + "\n".join(f"{i + 1}. {step}" for i, step in enumerate(steps)) + "\n")
    return text, {"keywords": [title], "serves": serves}


def recipe_zh(w: World, r: Rng, key: str) -> Made:
    ingredients, steps = RECIPES_ZH[key]
    text = (f"{key}\n\n份量：{r.int(2, 4)}人份\n\n材料：\n" + "\n".join(f"- {item}" for item in ingredients)
            + "\n\n做法：\n" + "\n".join(f"{i + 1}. {step}" for i, step in enumerate(steps)) + "\n")
    return text, {"keywords": [key], "language": "zh"}


def trip(w: World, r: Rng, key: str) -> Made:
    place, activities = TRIPS[key]
    start = r.int(100, 300)
    days = r.int(3, 5)
    budget = r.int(12, 40) * 100
    lines = [f"# Trip to {place}", "", f"Dates: {w.date(start)} to {w.date(start + days - 1)}  ",
             f"Budget: {budget} USD  ", f"Travellers: {', '.join(p['name'] for p in r.sample(w.people, 2))}", "",
             "## Itinerary"]
    for day, activity in enumerate(r.sample(activities, days)):
        lines.append(f"- Day {day + 1} ({w.date(start + day)}): {activity}")
    lines += ["", "## Bookings", f"- Flight confirmation: {r.choice('ABCDEFGHJKLMNPQRSTUVWXYZ')}"
              f"{r.choice('ABCDEFGHJKLMNPQRSTUVWXYZ')}{r.int(1000, 9999)}", f"- Hotel: {r.int(2, 5)}-star, "
              f"{days - 1} nights"]
    return "\n".join(lines) + "\n", {"keywords": [place], "budget_usd": budget, "days": days}


def packing(w: World, r: Rng) -> Made:
    items = ["passport", "phone charger", "travel adapter", "rain jacket", "sunscreen", "walking shoes", "camera",
             "headphones", "first-aid kit", "reusable water bottle", "notebook", "swimsuit", "warm hat"]
    return "Packing list\n\n" + "\n".join(f"- {item}" for item in r.sample(items, r.int(7, 11))) + "\n", {}


def journal(w: World, r: Rng, day: int) -> Made:
    lines = [f"Journal — {w.date(day)}", ""]
    if r.chance(0.35):
        lines += [r.choice(_ZH_SENTENCES), r.choice(_ZH_SENTENCES)]
    else:
        lines += [r.choice(_LOREM_EN) for _ in range(r.int(3, 6))]
    lines += ["", f"Mood: {r.choice(['great', 'good', 'okay', 'tired', 'stressed'])}",
              f"Steps: {r.int(2000, 16000)}"]
    return "\n".join(lines) + "\n", {}


def handbook_pdf(w: World, r: Rng) -> Made:
    leave = r.int(20, 30)
    pages = [[f"Welcome to {w.company}.", "", "This handbook explains how we work together.",
              "1. Working hours: core hours are 10:00 to 16:00 local time.",
              f"2. Annual leave: every employee gets {leave} days of paid leave per year.",
              "3. Remote work: up to three days per week from home."],
             ["Expenses", "", f"- Meals while travelling: up to USD {r.int(40, 80)} per day.",
              "- Submit receipts within 30 days.", "- Economy class for flights under 6 hours."],
             ["Security", "", "- Lock your screen when you leave your desk.",
              "- Report phishing emails to security@" + w.domain + ".", "- Never share passwords, even with IT."]]
    return pdf("Employee Handbook", pages), {"pages": 3, "title": "Employee Handbook",
                                               "keywords": [f"{leave} days"], "leave_days": leave}


def security_pdf(w: World, r: Rng) -> Made:
    length = r.choice([12, 14, 16])
    lines = [f"Applies to all staff and contractors of {w.company}.", "",
             f"- Passwords must be at least {length} characters long.",
             "- Multi-factor authentication is required for email and VPN.",
             f"- Laptops must be encrypted; report lost devices within {r.choice([1, 2, 4])} hours.",
             f"- Access reviews happen every {r.choice([3, 6])} months."]
    return pdf("Information Security Policy", [lines]), {"pages": 1, "title": "Information Security Policy",
                                                          "password_length": length}


def onboarding(w: World, r: Rng) -> Made:
    buddy = w.person(r)
    text = (f"# Onboarding checklist\n\nWelcome to {w.company}! Your onboarding buddy is {buddy['name']}.\n\n"
            "## Week 1\n\n- [ ] Collect your laptop from IT\n- [ ] Set up email and chat\n"
            "- [ ] Read the employee handbook (docs/employee_handbook.pdf)\n\n## Week 2\n\n"
            "- [ ] Shadow a customer call\n- [ ] Ship a small change to production\n")
    return text, {"keywords": [buddy["name"]]}


def api_md(w: World, r: Rng) -> Made:
    endpoints = [("GET", "/api/v1/orders", "List orders, newest first."), ("GET", "/api/v1/orders/{id}", "One order."),
                 ("POST", "/api/v1/cart", "Add an item to the cart."),
                 ("DELETE", "/api/v1/cart/{sku}", "Remove an item."),
                 ("GET", "/api/v1/products", "Search the catalogue."), ("POST", "/api/v1/auth/token", "Get a token.")]
    rate = r.choice([60, 100, 120, 600])
    text = (f"# {w.company} API reference\n\nBase URL: `https://api.{w.domain}`\n\n"
            f"Rate limit: {rate} requests per minute per key.\n\n"
            + _md_table(["Method", "Path", "Description"], [list(e) for e in endpoints]) + "\n")
    return text, {"keywords": [f"{rate} requests"], "rate_limit": rate}


def faq(w: World, r: Rng) -> Made:
    pairs = [("How do I reset my password?", "Use the 'Forgot password' link on the login page."),
             ("Where are invoices stored?", "Finance keeps them in archive/invoices."),
             ("Who approves travel?", "Your manager, then finance for trips over USD 2,000."),
             ("How do I get VPN access?", "Open an IT ticket with your laptop's asset tag."),
             ("Can I expense books?", "Yes, up to USD 300 per year."),
             ("What is the Wi-Fi password?", "Ask reception; it changes monthly.")]
    chosen = r.sample(pairs, 5)
    return "\n\n".join(f"Q: {q}\nA: {a}" for q, a in chosen) + "\n", {"questions": len(chosen)}


def handbook_zh(w: World, r: Rng) -> Made:
    leave = r.int(10, 20)
    text = (f"# 员工手册\n\n欢迎加入{w.company}！\n\n## 工作时间\n\n核心工作时间为上午十点至下午四点。\n\n"
            f"## 假期\n\n每位员工每年享有{leave}天带薪年假。\n\n## 报销\n\n请在三十天内提交报销单据和发票。\n")
    return text, {"keywords": ["员工手册", f"{leave}天"], "language": "zh", "leave_days": leave}


def old_notes(w: World, r: Rng, year: int) -> Made:
    lines = [f"Archived notes from {year}", ""] + [f"- {r.choice(_LOREM_EN)}" for _ in range(r.int(6, 10))]
    return "\n".join(lines) + "\n", {}


def invoice_numbers(w: World) -> list[int]:
    r = Rng(w.seed, "invoices")
    return sorted(r.sample(range(10000, 99999), 3))


def invoice(w: World, r: Rng, number: int) -> Made:
    customer = r.choice(w.customers)
    items = [(p["name"], r.int(1, 5), p["price"]) for p in r.sample(w.products, r.int(2, 4))]
    cents = sum(q * int(round(price * 100)) for _, q, price in items)
    lines = [f"Invoice number: INV-{number}", f"Date: {w.date(r.int(0, 363), w.year - 1)}",
             f"Bill to: {customer['name']}, {customer['city']}, {customer['country']}", ""]
    lines += [f"{q} x {name} @ USD {_money(price)} = USD {_money(q * int(round(price * 100)) / 100)}"
              for name, q, price in items]
    lines += ["", f"Total due: USD {_money(cents / 100)}", "Payment terms: 30 days."]
    return pdf(f"{w.company} Invoice", [lines]), {"pages": 1, "title": f"{w.company} Invoice",
                                                   "keywords": [f"INV-{number}"], "total": cents / 100}


# ---------------------------------------------------------------------------------- logs
def app_log(w: World, r: Rng, day: int) -> Made:
    lines = []
    second = r.int(0, 3600)
    counts = {"DEBUG": 0, "INFO": 0, "WARN": 0, "ERROR": 0}
    for _ in range(r.int(50, 90)):
        second += r.int(1, 900)
        level, service, template = r.choice(_LOG_EVENTS)
        counts[level] += 1
        message = template.format(n=r.int(1000, 99999), ms=r.int(3, 4000), n2=r.int(10, 99), s=r.int(2, 300))
        stamp = f"{w.date(day)}T{second // 3600 % 24:02d}:{second // 60 % 60:02d}:{second % 60:02d}Z"
        lines.append(f"{stamp} {level:<5} [{service}] {message}")
    return "\n".join(lines) + "\n", {"levels": counts}


def access_log(w: World, r: Rng) -> Made:
    paths = ["/", "/login", "/api/v1/orders", "/api/v1/products", "/static/app.js", "/static/logo.png", "/pricing",
             "/docs", "/api/v1/cart", "/healthz"]
    lines = []
    second = 0
    statuses: dict[str, int] = {}
    day = dt.date(w.year, 1, 1) + dt.timedelta(days=r.int(0, 363))
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    for _ in range(r.int(60, 100)):
        second += r.int(1, 500)
        status = r.choice([200, 200, 200, 200, 301, 304, 404, 500, 201])
        statuses[str(status)] = statuses.get(str(status), 0) + 1
        ip = f"10.{r.int(0, 255)}.{r.int(0, 255)}.{r.int(1, 254)}"
        stamp = (f"{day.day:02d}/{months[day.month - 1]}/{day.year}:{second // 3600 % 24:02d}:"
                 f"{second // 60 % 60:02d}:{second % 60:02d} +0000")
        method = "POST" if status == 201 else "GET"
        lines.append(f'{ip} - - [{stamp}] "{method} {r.choice(paths)} HTTP/1.1" {status} {r.int(120, 48000)} "-" '
                     f'"{r.choice(["Mozilla/5.0", "curl/8.4.0", "python-requests/2.31"])}"')
    return "\n".join(lines) + "\n", {"status_counts": dict(sorted(statuses.items()))}


def error_log(w: World, r: Rng) -> Made:
    errors = [("ValueError", "invalid literal for int() with base 10: 'abc'"),
              ("KeyError", "'customer_id'"), ("TimeoutError", "upstream did not respond within 30s"),
              ("PermissionError", "[Errno 13] Permission denied: '/var/data/export.csv'"),
              ("ConnectionResetError", "[Errno 104] Connection reset by peer")]
    lines = []
    counts: dict[str, int] = {}
    for _ in range(r.int(8, 14)):
        kind, message = r.choice(errors)
        counts[kind] = counts.get(kind, 0) + 1
        lines += [f"{w.date(r.int(0, 363))} {r.int(0, 23):02d}:{r.int(0, 59):02d}:{r.int(0, 59):02d} ERROR "
                  f"Unhandled exception in worker-{r.int(1, 8)}", "Traceback (most recent call last):",
                  f'  File "/srv/app/{r.choice(["orders", "billing", "export", "auth"])}.py", line {r.int(10, 400)}, '
                  f"in handle", f"{kind}: {message}", ""]
    return "\n".join(lines), {"exceptions": dict(sorted(counts.items()))}
