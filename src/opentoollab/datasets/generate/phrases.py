"""Wording for generated dialogues, in English and Chinese: openers, closers, asking back, refusals, chat.

Task requests themselves live with their intents; this module holds what every program shares, and
``wrap`` which puts a request inside varied surroundings so that near-duplicate detection keeps the
samples apart. Pure data and functions of an explicit ``random.Random``.
May import: the standard library.
"""

from __future__ import annotations

import random

OPENERS = {
    "en": ("", "", "", "Hi! ", "Hello, ", "Hey, ", "Quick question: ", "Hi there. ", "Good morning! ", "Okay, ",
           "I need some help. ", "Could you help me out? ", "So, ", "Right, ", "Hello again. ", "Morning. ",
           "One more thing: ", "I'm in a bit of a rush. ", "Sorry to bother you, ", "Alright, ", "Hmm, ",
           "Before my meeting, ", "For a report I'm writing, ", "My manager asked me this: "),
    "zh": ("", "", "", "你好！", "您好，", "嗨，", "麻烦问一下，", "打扰一下，", "早上好！", "好的，", "我需要帮忙：",
           "能帮我个忙吗？", "那个，", "请问，", "又是我，", "有点急：", "对了，", "老板让我查一下：", "写报告要用，",
           "开会前想确认一下，", "嗯，", "麻烦你，"),
}
CLOSERS = {
    "en": ("", "", "", " Thanks!", " Thank you.", " Thanks a lot.", " Appreciate it.", " Cheers.", " Please.",
           " Thanks in advance.", " That would help a lot.", " No rush.", " ASAP if possible.", " Much appreciated!",
           " Let me know.", " Thanks so much."),
    "zh": ("", "", "", "谢谢！", "谢谢。", "多谢。", "麻烦了。", "辛苦了！", "感谢！", "尽快哈。", "不着急。", "拜托了。",
           "先谢过。", "谢啦。"),
}

ASK_BACK = {
    "en": ("Sure — which {what} should I use?", "I can do that. What {what} do you have in mind?",
           "Happy to help. Could you tell me the {what} first?", "Before I run this: which {what}?",
           "I need one more detail: the {what}.", "Which {what} do you mean?"),
    "zh": ("好的——请问用哪个{what}？", "可以的，请告诉我{what}。", "没问题，不过需要先知道{what}。", "执行之前想确认一下：{what}是什么？",
           "还缺一个信息：{what}。", "请问您指的是哪个{what}？"),
}
CANNOT = {
    "en": ("I'm sorry, none of the tools I have can {action}.", "I can't {action} with the tools available right now.",
           "Unfortunately there is no tool here that lets me {action}.",
           "That's not something my current tools support: I have no way to {action}."),
    "zh": ("抱歉，我现有的工具都无法{action}。", "目前可用的工具不能{action}。", "很遗憾，这里没有可以{action}的工具。",
           "我现在的工具不支持这个：没有办法{action}。"),
}
NOW_AVAILABLE = {
    "en": ("I've just enabled a tool for that. Please go ahead.", "OK, the tool is available now — try again.",
           "We added that capability. Can you do it now?", "Now you should have the right tool. Please continue.",
           "Try again, the function has been added."),
    "zh": ("我刚开通了相应的工具，请继续。", "好了，现在有这个工具了，再试一次吧。", "已经加上这个功能了，现在可以做了吗？", "现在应该有合适的工具了，请继续。",
           "函数已经加上了，再试试。"),
}
RETRY_NOTE = {
    "en": ("That didn't work: {error} Let me fix the request.", "The tool returned an error ({error}); trying again with corrected input.",
           "Got an error: {error} I'll correct it."),
    "zh": ("调用失败：{error} 我来修正一下请求。", "工具返回错误（{error}），我修改参数后重试。", "出错了：{error} 我改一下再试。"),
}
SUPPLY = {
    "en": ("{value}.", "Use {value}.", "It's {value}.", "{value}, please.", "Oh right — {value}.", "Let's go with {value}."),
    "zh": ("{value}。", "用{value}。", "是{value}。", "就{value}吧。", "哦对——{value}。", "{value}，谢谢。"),
}


def pick(rng: random.Random, options: tuple[str, ...] | list[str]) -> str:
    return options[rng.randrange(len(options))]


def wrap(rng: random.Random, lang: str, request: str) -> str:
    """A request with a varied opener and closer around it."""
    opener, closer = pick(rng, OPENERS[lang]), pick(rng, CLOSERS[lang])
    if closer.strip(" .!。！").lower() and closer.strip(" .!。！").lower() in request.lower():
        closer = ""  # no "…, please. Please."
    if opener and lang == "en" and request[:1].isupper() and not opener.endswith((": ", "! ", ". ", "? ")):
        request = request[0].lower() + request[1:]
    return f"{opener}{request}{closer}".strip()


def say(rng: random.Random, lang: str, table: dict[str, tuple[str, ...]], **slots: object) -> str:
    return pick(rng, table[lang]).format(**slots)


def join_items(lang: str, items: list[str]) -> str:
    """'a, b and c' / 'a、b和c'."""
    if len(items) == 1:
        return items[0]
    if lang == "zh":
        return "、".join(items[:-1]) + "和" + items[-1]
    return ", ".join(items[:-1]) + " and " + items[-1]


# ------------------------------------------------------------------ questions no tool can answer
# (topic, English question forms, English answer, Chinese question forms, Chinese answer)
CHAT = (
    ("csv", ("what a CSV file actually is", "what CSV stands for"),
     "CSV means comma-separated values: a plain-text table where each line is a row and commas separate the columns.",
     ("CSV文件到底是什么", "CSV是什么意思"), "CSV 是“逗号分隔值”：一种纯文本表格，每行是一条记录，列之间用逗号分隔。"),
    ("json", ("what JSON is used for", "the difference between JSON and YAML"),
     "JSON is a text format for structured data (objects, lists, strings, numbers); YAML expresses the same data with indentation instead of braces and is easier to write by hand.",
     ("JSON是做什么用的", "JSON和YAML有什么区别"), "JSON 是一种表示结构化数据的文本格式；YAML 能表达同样的数据，用缩进代替括号，更适合手写。"),
    ("median", ("the difference between mean and median", "when the median is better than the average"),
     "The mean adds all values and divides by their count; the median is the middle value once sorted. The median is more robust when a few values are extreme.",
     ("平均数和中位数有什么区别", "什么时候中位数比平均数更合适"), "平均数是总和除以个数；中位数是排序后位于中间的值。数据里有极端值时，中位数更稳健。"),
    ("sql", ("what a SQL JOIN does", "what a primary key is"),
     "A JOIN combines rows of two tables on matching column values; a primary key is the column (or columns) that identifies each row uniquely.",
     ("SQL里的JOIN是做什么的", "什么是主键"), "JOIN 按列值匹配把两张表的行合并起来；主键是唯一标识每一行的列（或列组合）。"),
    ("compound", ("how compound interest works", "why compound interest grows faster than simple interest"),
     "With compound interest, the interest earned each period is added to the principal, so later interest is also earned on earlier interest.",
     ("复利是怎么计算的", "为什么复利比单利增长得快"), "复利是把每期产生的利息并入本金，之后的利息也会在之前的利息上继续产生。"),
    ("timezone", ("why time zones exist", "what UTC means"),
     "Time zones keep clock time roughly aligned with daylight in each region; UTC is the reference time they are defined against.",
     ("为什么会有时区", "UTC是什么意思"), "时区让各地的钟表时间大致与当地日照一致；UTC 是定义各个时区所依据的基准时间。"),
    ("backup", ("a good way to back up important files", "the 3-2-1 backup rule"),
     "The 3-2-1 rule: keep three copies of your data, on two different kinds of storage, with one copy off-site.",
     ("重要文件怎么备份比较好", "什么是3-2-1备份原则"), "3-2-1 原则：数据保留三份，存放在两种不同介质上，其中一份放在异地。"),
    ("password", ("how to pick a strong password", "why password reuse is risky"),
     "Use a long passphrase or a password manager, and never reuse passwords: one leak would open every account that shares it.",
     ("怎么设置一个安全的密码", "为什么不要重复使用密码"), "使用较长的口令短语或密码管理器，并且不要重复使用密码：一处泄露就会殃及所有相同密码的账户。"),
    ("meeting", ("tips for running a short meeting", "how to write a good meeting agenda"),
     "Share an agenda with a goal per item beforehand, keep to time, and end with decisions and owners written down.",
     ("怎么开一个高效的短会", "会议议程应该怎么写"), "提前发出议程并写明每项目标，控制时间，结束时记录决定和负责人。"),
    ("regex", ("what a regular expression is", "what the asterisk means in a regex"),
     "A regular expression is a pattern that matches text; `*` means the previous element may repeat zero or more times.",
     ("正则表达式是什么", "正则里的星号是什么意思"), "正则表达式是匹配文本的模式；`*` 表示前一个元素可以重复零次或多次。"),
    ("pdf", ("why PDFs look the same everywhere", "whether a PDF can be edited"),
     "A PDF fixes fonts and layout inside the file, so it renders identically on every device; it can be edited, but only with tools meant for it.",
     ("为什么PDF在哪里打开都一样", "PDF能编辑吗"), "PDF 把字体和版式固定在文件里，所以在任何设备上显示都一样；它可以编辑，但需要专门的工具。"),
    ("leap", ("how leap years work", "why February sometimes has 29 days"),
     "A year is a leap year if divisible by 4, except centuries, which must be divisible by 400; then February has 29 days.",
     ("闰年是怎么规定的", "为什么二月有时有29天"), "能被4整除的年份是闰年，但整百年必须能被400整除；闰年二月有29天。"),
    ("agile", ("what a sprint is in agile", "what a ticket backlog is"),
     "A sprint is a short fixed period, often two weeks, in which a team finishes a planned set of work; the backlog is the ordered list of work not yet done.",
     ("敏捷开发里的冲刺是什么", "什么是待办事项列表"), "冲刺是一个固定的短周期（通常两周），团队在其中完成计划好的工作；待办列表是尚未完成工作的有序清单。"),
    ("units", ("why the US uses miles", "the difference between metric and imperial units"),
     "Metric units are based on powers of ten (metre, gram, litre); imperial units (mile, pound, gallon) come from older English measures and are still common in the US.",
     ("为什么美国用英里", "公制和英制单位有什么区别"), "公制单位以十进制为基础（米、克、升）；英制单位（英里、磅、加仑）源于古老的英国度量，在美国仍很常用。"),
)
CHAT_FORMS = {
    "en": ("Can you explain {q}?", "I've always wondered {q}.", "Just curious, could you tell me {q}?",
           "Not a task, just a question: {q}?", "Could you briefly describe {q}?", "In simple words, {q}?"),
    "zh": ("能解释一下{q}吗？", "我一直想知道{q}。", "好奇问一下，{q}？", "不是任务，就是想问问：{q}？", "能简单说说{q}吗？", "用通俗的话讲讲{q}？"),
}
CAPABILITY_QUESTIONS = {
    "en": ("What can you do for me here?", "Which tools do you have access to?", "Before we start, what are you able to help with?",
           "What kind of tasks can you handle right now?"),
    "zh": ("你在这里能帮我做什么？", "你现在能用哪些工具？", "开始之前，你能帮我做哪些事？", "你现在能处理哪些任务？"),
}
CAPABILITY_ANSWER = {
    "en": "I can use these tools: {tools}. Tell me what you need and I'll take it from there.",
    "zh": "我可以使用这些工具：{tools}。告诉我你的需求，我来处理。",
}
