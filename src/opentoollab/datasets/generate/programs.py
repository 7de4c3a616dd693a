"""Category programs: how a sample of each category unfolds, over intents and a live episode.

A program gets a ``Dialogue`` (which executes every call for real), the ``World`` it may consult,
a seeded ``random.Random``, the language, and a ``Plan`` (intents and distractor tools it may use).
It writes the messages and returns the sample's categories (DESIGN.md section 3). Chains whose
later arguments come from earlier results live in ``chains``.
May import: the standard library, this package.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Callable

from . import phrases
from .dialogue import Dialogue, ProgramError, ok
from .intents import INTENTS, Ask, World

CONNECT = {"en": (" Also, ", " And ", " Then: ", " Plus, ", " Next, "), "zh": ("另外，", "还有，", "再帮我：", "顺便，", "同时，")}


@dataclass
class Plan:
    """What a program may draw on: intent keys it may use and tool names it may offer as distractors."""

    intents: list[str]
    distractors: list[str]
    distractor_range: tuple[int, int]
    turns: tuple[int, int]

    def intent(self, rng: random.Random, world: World, lang: str, keys: list[str] | None = None,
               accept: Callable[[Ask], bool] | None = None) -> Ask:
        """An Ask from a random usable intent (``keys`` narrows the choice)."""
        keys = list(keys if keys is not None else self.intents)
        rng.shuffle(keys)
        for key in keys:
            try:
                ask = INTENTS[key][1](world, rng, lang)
            except ProgramError:
                continue
            ask.key = key
            if accept is None or accept(ask):
                return ask
        raise ProgramError("no usable intent in this episode")

    def extra_tools(self, rng: random.Random, exclude: set[str], k: int | None = None) -> list[str]:
        pool = [t for t in self.distractors if t not in exclude]
        k = rng.randint(*self.distractor_range) if k is None else k
        return rng.sample(pool, min(k, len(pool)))


def offer(d: Dialogue, rng: random.Random, needed: list[str], extra: list[str]) -> None:
    tools = list(dict.fromkeys(needed)) + [t for t in extra if t not in needed]
    rng.shuffle(tools)
    d.tools(tools)


def answer(d: Dialogue, ask: Ask) -> None:
    """Run the ask's call and reply from its result."""
    d.assistant(ask.reply(ok(d.call(ask.tool, **ask.args)).result))


def ask_and_answer(d: Dialogue, rng: random.Random, lang: str, ask: Ask) -> None:
    d.user(phrases.wrap(rng, lang, ask.text))
    answer(d, ask)


# ----------------------------------------------------------------------------------------- programs
def single(d: Dialogue, world: World, rng: random.Random, lang: str, plan: Plan) -> list[str]:
    ask = plan.intent(rng, world, lang)
    offer(d, rng, [ask.tool], [])
    ask_and_answer(d, rng, lang, ask)
    return ["single"]


def multiple(d: Dialogue, world: World, rng: random.Random, lang: str, plan: Plan) -> list[str]:
    ask = plan.intent(rng, world, lang)
    extra = plan.extra_tools(rng, {ask.tool}, max(2, rng.randint(*plan.distractor_range)))
    if len(extra) < 2:
        raise ProgramError("not enough distractor tools")
    offer(d, rng, [ask.tool], extra)
    ask_and_answer(d, rng, lang, ask)
    return ["multiple"]


def parallel(d: Dialogue, world: World, rng: random.Random, lang: str, plan: Plan) -> list[str]:
    """Two or three independent requests in one message, answered by one wave of calls."""
    first = plan.intent(rng, world, lang)
    same_tool = rng.random() < 0.6
    asks = [first]
    for _ in range(rng.randint(1, 2)):
        keys = [first.key] if same_tool else None
        asks.append(plan.intent(rng, world, lang, keys, accept=lambda a: a.args not in [x.args for x in asks]))
    offer(d, rng, [a.tool for a in asks], plan.extra_tools(rng, {a.tool for a in asks}) if not same_tool else [])
    text = asks[0].text + "".join(phrases.pick(rng, CONNECT[lang]) + _lower_first(lang, a.text) for a in asks[1:])
    d.user(phrases.wrap(rng, lang, text))
    calls = d.calls_at_once([(a.tool, a.args) for a in asks])
    for call in calls:
        ok(call)
    d.assistant("\n".join(a.reply(c.result) for a, c in zip(asks, calls)))
    return ["parallel"]


def multi_turn(d: Dialogue, world: World, rng: random.Random, lang: str, plan: Plan) -> list[str]:
    """2–5 user turns over one toolkit's evolving state."""
    toolkit = INTENTS[rng.choice(plan.intents)][0]
    keys = [k for k in plan.intents if INTENTS[k][0] == toolkit]
    turns = rng.randint(*plan.turns)
    asks: list[Ask] = []
    for _ in range(turns * 3):
        if len(asks) == turns:
            break
        try:
            ask = plan.intent(rng, world, lang, keys)
        except ProgramError:
            break
        if all(ask.text != a.text for a in asks):
            asks.append(ask)
    if len(asks) < 2:
        raise ProgramError("fewer than two turns possible")
    offer(d, rng, [a.tool for a in asks], plan.extra_tools(rng, {a.tool for a in asks}))
    for ask in asks:
        ask_and_answer(d, rng, lang, ask)
    return ["multi_turn"]


def miss_param(d: Dialogue, world: World, rng: random.Random, lang: str, plan: Plan) -> list[str]:
    """The user leaves out a required value; the assistant asks; the user supplies it; then the call."""
    ask = plan.intent(rng, world, lang, accept=lambda a: a.omit is not None)
    offer(d, rng, [ask.tool], plan.extra_tools(rng, {ask.tool}))
    d.user(phrases.wrap(rng, lang, ask.without))
    d.assistant(phrases.say(rng, lang, phrases.ASK_BACK, what=ask.what))
    d.user(phrases.say(rng, lang, phrases.SUPPLY, value=ask.value))
    answer(d, ask)
    return ["miss_param", "multi_turn"]


def miss_func(d: Dialogue, world: World, rng: random.Random, lang: str, plan: Plan) -> list[str]:
    """The needed tool is missing: the assistant says so; a later candidate_tools adds it; then the call."""
    ask = plan.intent(rng, world, lang)
    extra = plan.extra_tools(rng, {ask.tool}, max(1, rng.randint(*plan.distractor_range)))
    if not extra:
        raise ProgramError("no other tools to offer")
    offer(d, rng, [], extra)
    d.user(phrases.wrap(rng, lang, ask.text))
    d.assistant(phrases.say(rng, lang, phrases.CANNOT, action=ask.action))
    offer(d, rng, [ask.tool], extra)
    d.user(phrases.say(rng, lang, phrases.NOW_AVAILABLE))
    answer(d, ask)
    return ["miss_func", "multi_turn"]


def no_tool(d: Dialogue, world: World, rng: random.Random, lang: str, plan: Plan) -> list[str]:
    """Tools are offered but none fits: the assistant answers from knowledge, without calling."""
    tools = plan.extra_tools(rng, set(), max(1, rng.randint(*plan.distractor_range)))
    if not tools:
        raise ProgramError("no tools to offer")
    offer(d, rng, tools, [])
    if rng.random() < 0.2:
        d.user(phrases.wrap(rng, lang, phrases.pick(rng, phrases.CAPABILITY_QUESTIONS[lang])))
        names = [tool["name"] for tool in d.messages[-2]["content"]]
        d.assistant(phrases.CAPABILITY_ANSWER[lang].format(tools=phrases.join_items(lang, names)))
        return ["no_tool"]
    topic = phrases.CHAT[rng.randrange(len(phrases.CHAT))]
    questions, answer = (topic[1], topic[2]) if lang == "en" else (topic[3], topic[4])
    question = phrases.pick(rng, phrases.CHAT_FORMS[lang]).format(q=phrases.pick(rng, questions))
    d.user(phrases.wrap(rng, lang, question))
    d.assistant(answer)
    return ["no_tool"]


def _lower_first(lang: str, text: str) -> str:
    return text[0].lower() + text[1:] if lang == "en" and text[:2].istitle() else text
