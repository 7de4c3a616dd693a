"""ACEBench (Chen et al., 2025; GitHub ``ACEBench/ACEBench``): tool-use evaluation in English and Chinese.

Layout (per language ``data_all/data_{en,zh}/``): ``data_<category>.json`` is JSONL, one item per line
``{"id", "question", "function": [docs], "time"?, "profile"?}`` (agent items: ``initial_config``,
``involved_classes``, ``path``), and ``possible_answer/data_<category>.json`` the answers by id. Subsets are
``<language>_<category>`` (``en_normal_atom_bool`` …, 34 in all); every one is an evaluation subset.

* ``question`` is the dialogue as text (``user: …`` / ``system: …`` lines, ``system`` being the assistant):
  it becomes ``user`` / ``assistant`` messages; ``function`` → ``candidate_tools`` (JSON Schema types, the
  originals in ``x-original-type``; distractor docs that say ``arguments`` instead of ``parameters`` are read
  the same way and named in ``meta.acebench.arguments_key``).
* ``system``: ACEBench's own system prompt for the category (normal / preference / special; agent: the
  domain policy), read from ``model_inference/prompt_{en,zh}.py`` of the same download with ``ast`` (string
  constants only, never executed), ``{time}`` / ``{profile}`` filled, and the API list at its end left out
  (the tools are in ``candidate_tools``; every chat template renders them its own way). The special
  categories need it: it defines the replies that are right ("Missing necessary parameters …").
* Normal items: the first acceptable answer → ``tool_call_ground_truth`` (a key ``name_1`` is the tool
  ``name``: ACEBench numbers repeated calls). Special items: ``tool_call_ground_truth`` is empty (no call is
  right). Agent items have no ground-truth message: the end state of the scenario classes and the milestone
  calls are the answer. The whole official answer (all alternatives, the special items' expected names and
  values, agent end states and milestones, ``initial_config``, ``involved_classes``) is kept in
  ``meta.acebench`` for ``benchmark.scoring.acebench``.
* The download also pins ACEBench's agent inference files (``AGENT_FILES``: its prompts, and the scenario classes
  that ``benchmark run`` executes through ``tools.acebench_runtime`` after checking these checksums).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator

from ...format.sample import Sample
from .base import Context, FetchError, RawRecord, Reject, Source, check_subsets
from .github import GitHubFetch
from .hub_json import iter_jsonl_records
from .literals import literal_constants
from .textcalls import ground_truth, tool_from_function

LANGUAGES = ("en", "zh")
CATEGORIES = (
    "normal_atom_bool", "normal_atom_enum", "normal_atom_list", "normal_atom_number", "normal_atom_object_deep",
    "normal_atom_object_short", "normal_single_turn_single_function", "normal_single_turn_parallel_function",
    "normal_multi_turn_user_adjust", "normal_multi_turn_user_switch", "normal_similar_api", "normal_preference",
    "special_incomplete", "special_error_param", "special_irrelevant", "agent_multi_turn", "agent_multi_step",
)
SUBSETS = tuple(f"{language}_{category}" for language in LANGUAGES for category in CATEGORIES)
PROMPT_FILE = "model_inference/prompt_{language}.py"
SPEAKERS = {"user": "user", "system": "assistant", "assistant": "assistant"}
SPEAKER_RE = re.compile(r"^(user|system|assistant)\s*[:：]\s?(.*)$", re.S)
SUFFIX_RE = re.compile(r"_\d+$")


def _paths() -> tuple[str, ...]:
    data = [f"data_all/data_{lang}/{sub}data_{cat}.json" for lang in LANGUAGES for sub in ("", "possible_answer/")
            for cat in CATEGORIES]
    return (*data, *(PROMPT_FILE.format(language=lang) for lang in LANGUAGES), *AGENT_FILES)


# the agent categories' official inference: its prompts, state attributes and class map (read with ``ast``),
# and the scenario classes that `benchmark run` executes (``tools.acebench_runtime``, after checking these sums)
SCENARIO_FILES = tuple(f"model_inference/multi_{mode}/scenarios{lang}/{name}.py" for mode in ("turn", "step")
                       for lang in LANGUAGES for name in ("phone_platform/base_api", "phone_platform/food_services",
                                                          "phone_platform/message", "phone_platform/reminder", "travel"))
AGENT_FILES = ("model_inference/apimodel_inference.py", "model_inference/multi_turn/APIModel_agent.py",
               "model_inference/multi_turn/APIModel_user.py", "model_inference/multi_turn/multi_turn_utils.py",
               "model_inference/multi_step/APIModel_agent.py", "model_inference/multi_step/multi_step_utils.py",
               "model_inference/multi_step/execution_role_step.py", *SCENARIO_FILES)


# sha256 of every fetched file at the pinned commit (taken from the reference copy of that commit)
SHA256 = {
    "data_all/data_en/data_agent_multi_step.json": "c04b7561a2a5b31b3c4fd3067807ab4e0a7907f5a72cd5ec987da3469eac1fe9",
    "data_all/data_en/data_agent_multi_turn.json": "0380631f379510fad4aab885b9679cfe99e66cf3a01e92f570f9180141f637d0",
    "data_all/data_en/data_normal_atom_bool.json": "59695e59c0d92cd22ec418bfd6f936d0d44a8d6e1fc16e6cb033b12213c57b0b",
    "data_all/data_en/data_normal_atom_enum.json": "a2e870f8ba23687ba182a2bb0bdba0a7e02c21b67f3ebc5cc07a71fc2007d31b",
    "data_all/data_en/data_normal_atom_list.json": "dd1388f66a25f6ff04a6c32abaa63a031ffa33a1aa15a55efe95b0d77ec78b52",
    "data_all/data_en/data_normal_atom_number.json": "eba9d748fcd08f142abf053fe2eecc573c98232f218ff412eb9ea5350abca422",
    "data_all/data_en/data_normal_atom_object_deep.json": "2df8cd21fcf7388ee4fa0d98f0587292ba4c14b7c8bde059b3dca18ad885d1ec",
    "data_all/data_en/data_normal_atom_object_short.json": "eef597c5400e17e1c23a7548505e48139a3648d6e5bd5feabbc9b12fcf7a1a76",
    "data_all/data_en/data_normal_multi_turn_user_adjust.json": "b05dd0fe2afb02270ecbdfddfc7a8b1606339c234d5098749742e79bc51ea8cc",
    "data_all/data_en/data_normal_multi_turn_user_switch.json": "3ed94d09401c53a99c23edc8b60ebfda8d4ae486f9bea19f87b6000a66588cf0",
    "data_all/data_en/data_normal_preference.json": "61413bbfb5f94b3ad74f348d9f33c8c10b531dfcf6e5429caa3f1a91fa64252d",
    "data_all/data_en/data_normal_similar_api.json": "f3ae38a6b56ab27c47bd929f16468598636ff76ecc095ff60c41c8b5a9ee843f",
    "data_all/data_en/data_normal_single_turn_parallel_function.json": "7b9b9200cf5224e93f20bf14f076bead8e75d451a7dd6956d346fb1200412235",
    "data_all/data_en/data_normal_single_turn_single_function.json": "8505410b642c2ba70c2085e29e5bb4879b3ccd0c4a96be4a1fd3c806cbb501e7",
    "data_all/data_en/data_special_error_param.json": "3ce0f322934d8a8a96eb8bae945949f61c53b74505ba0d65c4850f98e8ba3bae",
    "data_all/data_en/data_special_incomplete.json": "186f593f8f2be7e709c5878f57d23f401c51e326ffcadcd62f9c5c08c8e34f3b",
    "data_all/data_en/data_special_irrelevant.json": "20bb62a9c48b1daf852870096f5d70d53a09a07b8f90a7c09815c6d934e8f41e",
    "data_all/data_zh/data_agent_multi_step.json": "dcf74daf8dce797c1c86cbcf54e6fd63d6b83425d50bc7076ad98810b14b6b68",
    "data_all/data_zh/data_agent_multi_turn.json": "847df81f26e188e7c1eff8d010acf5f3c415cbe3a89ebc414efee013dc81c06e",
    "data_all/data_zh/data_normal_atom_bool.json": "0b945e4a0d2018875b6e50a28e55359d94609681853c50a87d205a115be55bf8",
    "data_all/data_zh/data_normal_atom_enum.json": "806ece8b2753779816185a4060e68667053ab46144bb2b294c434bc3d9116f85",
    "data_all/data_zh/data_normal_atom_list.json": "da4839021796e66eb149917ebfe839dd25589faf2310e5360e8d04d1c102db88",
    "data_all/data_zh/data_normal_atom_number.json": "924456f46cada50acd4330c8b7f3790ce12837480991d1a6f3098fd73cb8ebb7",
    "data_all/data_zh/data_normal_atom_object_deep.json": "7d59db54e4d486fb29e985bfccc752afac92fe67a739c0f3ea2303dfd89f87af",
    "data_all/data_zh/data_normal_atom_object_short.json": "1c7107737f539243629cbbf118a83138428c05da5574658caf6c8ff8ed0a252d",
    "data_all/data_zh/data_normal_multi_turn_user_adjust.json": "15370d45110dbb2fae7b18b1a738b5f08db5f3c5b4faf8fd01ea716335754721",
    "data_all/data_zh/data_normal_multi_turn_user_switch.json": "18f5baf129f7fdfc72c9aaf43b1d9c51e846491f890fa616a66e007cfe676962",
    "data_all/data_zh/data_normal_preference.json": "cce33ef074d89bc5a5e87090fc36d22720f83af936501065dcef87723c27e761",
    "data_all/data_zh/data_normal_similar_api.json": "ecf3324eabfd91a626f97c91a550213601cce84b4eb410e3c12a5e05eff9cb91",
    "data_all/data_zh/data_normal_single_turn_parallel_function.json": "8479e8739e25a58ae61f18b5d68f3843dc76f22c3ce155353d56036d4778f894",
    "data_all/data_zh/data_normal_single_turn_single_function.json": "95e8a10c3fc98d706d69a2b47cc7ec1a18449eb24e1dcb616b232b0a8a83aff4",
    "data_all/data_zh/data_special_error_param.json": "2c728affde4a5551c38d59eef4d36aa0997bc23e2deb097532536a854cf7f4d2",
    "data_all/data_zh/data_special_incomplete.json": "e2e6b3383679d3e6970590be6972bb7b36f2dad47aba3ed18b83556d00f7d5fc",
    "data_all/data_zh/data_special_irrelevant.json": "3a43bf88e1b77be69f2d078a978979e7b37d402735af5cd764f116f09bbbc29f",
    "data_all/data_en/possible_answer/data_agent_multi_step.json": "7086bf7d704e1ce2426cfbd63606a7a00fc92aab77d9973517a5536883e3c179",
    "data_all/data_en/possible_answer/data_agent_multi_turn.json": "ad077af54920d614438c28b3c7483d556b1a732d0dd0973c867e497c7c0a828b",
    "data_all/data_en/possible_answer/data_normal_atom_bool.json": "16c5c8d009d37a0dd5e398838c62857ad2ebae1eb0c0ee1a52eed39a654df86e",
    "data_all/data_en/possible_answer/data_normal_atom_enum.json": "bdfec87c5fd4bc3608cb88c53c1d7eacc4e76eb6f73e738451fbff4252292a92",
    "data_all/data_en/possible_answer/data_normal_atom_list.json": "d0c47a90f93ad48b505355290750e4a6c307cc59f535ab34d1947a3e60418eb9",
    "data_all/data_en/possible_answer/data_normal_atom_number.json": "a95aca7f2e986280a361f0050d2f8ab02fa24ed5dc1cd2f8ddad5a5279459e8b",
    "data_all/data_en/possible_answer/data_normal_atom_object_deep.json": "bf681a1cd84fb286562f3ba57ce9d28946a7cdcf8661b2aad125d69d4beecab7",
    "data_all/data_en/possible_answer/data_normal_atom_object_short.json": "27d5cb55dd364c493cc5e2452e208e7a0da8ee55bfbb12133b14250683cdd920",
    "data_all/data_en/possible_answer/data_normal_multi_turn_user_adjust.json": "a570117cde521c5d1c16adc2d461b8845c969a3334192bd357dec13cf6657889",
    "data_all/data_en/possible_answer/data_normal_multi_turn_user_switch.json": "ca0c10778a899fecd3b9767dae7d188d9924a0dbb191e2e6bc0b5808b8baa37e",
    "data_all/data_en/possible_answer/data_normal_preference.json": "ed9da0b58446812e8be562fb0594989bd759c249c1cdcd722a9dee5e89ee6644",
    "data_all/data_en/possible_answer/data_normal_similar_api.json": "0976f8fd3f11b9d5ba3783dc746158aeea3fdb1b34a46b07f3c4c731375a8543",
    "data_all/data_en/possible_answer/data_normal_single_turn_parallel_function.json": "fac555edad6f61927093504f10bdaef3cf54fbd587affcf3ce52b9f4ec0d3aa0",
    "data_all/data_en/possible_answer/data_normal_single_turn_single_function.json": "e541ad06ecaf49310105209222b9788711cc15d684174276f56224e584b8589d",
    "data_all/data_en/possible_answer/data_special_error_param.json": "5e4c8b8ca768d65372fac1e54c16ef90bf6c8869b8163a00a4afcc47867249b8",
    "data_all/data_en/possible_answer/data_special_incomplete.json": "4792432c4883846e4ab46ea30cd98a78f5d65bef5f5eeae3e31c528985dd31bd",
    "data_all/data_en/possible_answer/data_special_irrelevant.json": "cd3f1d66e554869e8870677acc07df78c6ebf8bbba6e600cbb825072181566b8",
    "data_all/data_zh/possible_answer/data_agent_multi_step.json": "4ca297f2c1d5f8eee3a45cd3e7d8cce7f2bb89d1f22a8e12fd033f6c50a7069b",
    "data_all/data_zh/possible_answer/data_agent_multi_turn.json": "ea11d8cc8fdef39660699ec219b0eef71d261226f8018ed6c35571206e53ec00",
    "data_all/data_zh/possible_answer/data_normal_atom_bool.json": "c9e9bb15872a71284742de8f9db241ead8621682bb4b0ba1894550cec95be571",
    "data_all/data_zh/possible_answer/data_normal_atom_enum.json": "57a75036ca6901619d7f6ed37371d82063524e1e02dacc58ba1e68c73e3d0888",
    "data_all/data_zh/possible_answer/data_normal_atom_list.json": "586834aabc928c93df20af270656bdf2846ae7761a490daf4fbfd11b51e4f7bf",
    "data_all/data_zh/possible_answer/data_normal_atom_number.json": "093288870e5a7d6243d2e598c5ea2ccaa7a84e95a523af70b17a5b43bef11cd7",
    "data_all/data_zh/possible_answer/data_normal_atom_object_deep.json": "15bd565c36852d3d93e68f4dee5189b6b0a87dfd9947544dda82759d46b67eb9",
    "data_all/data_zh/possible_answer/data_normal_atom_object_short.json": "e4cd896db9292b7eb350d2551d8ce63a60d537b66dd28b13c64e2118afad3483",
    "data_all/data_zh/possible_answer/data_normal_multi_turn_user_adjust.json": "15accc1f8dfb0f44aa04cde0a26a552d425ce104dbaa5c6dbc85b7d0115842e5",
    "data_all/data_zh/possible_answer/data_normal_multi_turn_user_switch.json": "89257a02b15a6d5b52166f51fdd125ec322ba6728e5389f5bda7e8751dbeb8fd",
    "data_all/data_zh/possible_answer/data_normal_preference.json": "6ea2c90fb29a36964e5700f1a81a21b7284f8362d7aa809c30c4ea4d5a0d7aa5",
    "data_all/data_zh/possible_answer/data_normal_similar_api.json": "aa3e5b569c31ac4ca4b728d9fcb105a992566ddea15964e9f55e29aa945ab384",
    "data_all/data_zh/possible_answer/data_normal_single_turn_parallel_function.json": "0786f04adcc1672ebd7d938fc8f602da674c3312b4c8b5f3d7d990523bc8891a",
    "data_all/data_zh/possible_answer/data_normal_single_turn_single_function.json": "5e4a4f3268e46095392b6208bec3aefd015467404985d45853155ec6f036edf4",
    "data_all/data_zh/possible_answer/data_special_error_param.json": "e57c471a4a4f906b92c2ab3f67052a31ef4c580c11b8dc5941152a4fbce3d246",
    "data_all/data_zh/possible_answer/data_special_incomplete.json": "d1401ce3075dadf31b476f0074221efd7aeef548d6e13c99471110eed3743570",
    "data_all/data_zh/possible_answer/data_special_irrelevant.json": "cd3f1d66e554869e8870677acc07df78c6ebf8bbba6e600cbb825072181566b8",
    "model_inference/prompt_en.py": "d479f487f7e1e77090eb65321f774b13e42efba11cd29717db0973953985a013",
    "model_inference/prompt_zh.py": "e824a7fc3010287e33a9adee0d055c659ec7e10b02287a6d6b8e04be73cd16c9",
    "model_inference/apimodel_inference.py": "437b0b083b8e93b34a82cb8a280b2ff7d366b9b705e46a1375da2d943905b9c1",
    "model_inference/multi_turn/APIModel_agent.py": "06fbb8b97bf075d927129d57d2640a61e1bdab88fc7dd37015c11955e23f221a",
    "model_inference/multi_turn/APIModel_user.py": "efc7f136312368a9519279a074e3904a14e411edd762cf25aeb5cc5c5a48d6d9",
    "model_inference/multi_turn/multi_turn_utils.py": "d043a9f862d7cad80ec7fb8b7ad50345a9f2736fedd09ee66fddb3f40742a815",
    "model_inference/multi_step/APIModel_agent.py": "2fb18519ff8574bf3fce683c0dbc7d2ea5b556f3ffb2b8a648fb68b83fa1aba2",
    "model_inference/multi_step/multi_step_utils.py": "d44d40f424f9770010a7f8bc3e82f7e1e550991a2faf4db76ae054195d31d475",
    "model_inference/multi_step/execution_role_step.py": "3f3f3af6c32346ca0209b3df5e07ffd7cee47830f576874243351be70bae3021",
    "model_inference/multi_step/scenariosen/phone_platform/base_api.py": "0e982dde305642edc5751b1b8d6f1ee9c303dff0c59e897709fe20e693785280",
    "model_inference/multi_step/scenariosen/phone_platform/food_services.py": "14eb0b835907bb4068b5dd31da06d68ff3be1bec8a4b4e0ce313f5e736e095ae",
    "model_inference/multi_step/scenariosen/phone_platform/message.py": "6c25d00ccd5cae25572a510a4dfbd833c62576b486ff43c588e2015cce35c6c6",
    "model_inference/multi_step/scenariosen/phone_platform/reminder.py": "ceaa1209799fc585843130ef0718406857b6f916557be137728840d53abe7aa1",
    "model_inference/multi_step/scenariosen/travel.py": "f9dacd97e579bf0447556c1843c3cf38d5612ab8eb05424d1cc2c33681d4d57e",
    "model_inference/multi_step/scenarioszh/phone_platform/base_api.py": "fb8886bf6611fd2838585defc4edd10444979d88d3b6ca600f1659344d7af6df",
    "model_inference/multi_step/scenarioszh/phone_platform/food_services.py": "2ca1237f7493fbdc4fe27ca9979a51ba87ab8d425f0eb01b5c14d0737c7065e6",
    "model_inference/multi_step/scenarioszh/phone_platform/message.py": "89c4b1be17952612a133d1c47c63938f634951bed8e6afc7901efe2b862b85ca",
    "model_inference/multi_step/scenarioszh/phone_platform/reminder.py": "55a96735fa42d51df64c554426d155c5c6ca768a1e836bf50ee0b671a2619c09",
    "model_inference/multi_step/scenarioszh/travel.py": "c6713fde77116a6d076b5c89f42fd0b220a3fe33a674736f951ef2aece7fe7a0",
    "model_inference/multi_turn/scenariosen/phone_platform/base_api.py": "0e982dde305642edc5751b1b8d6f1ee9c303dff0c59e897709fe20e693785280",
    "model_inference/multi_turn/scenariosen/phone_platform/food_services.py": "14eb0b835907bb4068b5dd31da06d68ff3be1bec8a4b4e0ce313f5e736e095ae",
    "model_inference/multi_turn/scenariosen/phone_platform/message.py": "6c25d00ccd5cae25572a510a4dfbd833c62576b486ff43c588e2015cce35c6c6",
    "model_inference/multi_turn/scenariosen/phone_platform/reminder.py": "ceaa1209799fc585843130ef0718406857b6f916557be137728840d53abe7aa1",
    "model_inference/multi_turn/scenariosen/travel.py": "f9dacd97e579bf0447556c1843c3cf38d5612ab8eb05424d1cc2c33681d4d57e",
    "model_inference/multi_turn/scenarioszh/phone_platform/base_api.py": "bd6fed4bc8890f7b2ef298ac0e3229f8b126aeea14192a1ee1be03e4f61da8a2",
    "model_inference/multi_turn/scenarioszh/phone_platform/food_services.py": "d96407806ad3c491177e5aad30902051cafd98d121417de3d0d9e096f7d028c9",
    "model_inference/multi_turn/scenarioszh/phone_platform/message.py": "ec6652321a19c9bf3ab22f6c31ae6294b7d5c8bccc74e2f49978bc2cf5be2e8c",
    "model_inference/multi_turn/scenarioszh/phone_platform/reminder.py": "279762a8668cd9e8e2146dd65934d6187604d49360aeb23e1881510d28f5a92a",
    "model_inference/multi_turn/scenarioszh/travel.py": "c6713fde77116a6d076b5c89f42fd0b220a3fe33a674736f951ef2aece7fe7a0",
}


def split_dialogue(question: str) -> list[dict[str, str]]:
    """ACEBench's dialogue text → messages: ``user:`` lines are the user, ``system:`` lines the assistant;
    other lines continue the message above them."""
    messages: list[dict[str, str]] = []
    for line in question.split("\n"):
        match = SPEAKER_RE.match(line.strip())
        if match:
            messages.append({"role": SPEAKERS[match.group(1)], "content": match.group(2)})
        elif line.strip():
            if messages:
                messages[-1]["content"] += "\n" + line
            else:
                messages.append({"role": "user", "content": line})
    for message in messages:
        message["content"] = message["content"].strip()
    return [m for m in messages if m["content"]]


def read_prompts(path: Path) -> dict[str, str]:
    """The string constants of an ACEBench prompt file (read with ``ast``; nothing is executed)."""
    try:
        source = path.read_bytes()
    except OSError:
        return {}
    return {k: v for k, v in literal_constants(source).items() if isinstance(v, str)}


def without_api_list(template: str) -> str:
    """A prompt template without its trailing ``<heading>:\\n{function}`` (the tool list)."""
    lines = template.split("\n")
    if "{function}" in lines:
        at = lines.index("{function}")
        start = at - 1 if at > 0 and lines[at - 1].strip() else at
        lines = lines[:start] + lines[at + 1:]
    return "\n".join(lines).strip()


def system_text(prompts: dict[str, str], category: str, language: str, entry: dict[str, Any]) -> str:
    """The system message: ACEBench's prompt for the category with time/profile filled (or those alone)."""
    suffix = language.upper()
    time, profile = entry.get("time") or "", entry.get("profile")
    profile_text = str(profile) if profile else ""  # as ACEBench's str.format writes it
    if category.startswith("agent"):
        involved = entry.get("involved_classes") or []
        parts = [prompts.get(f"{name}_PROMPT_{suffix}", "") for name, cls in (("TRAVEL", "Travel"), ("BASE", "BaseApi"))
                 if cls in involved]
        return "\n\n".join(p.strip() for p in parts if p.strip())
    kind = "SPECIAL" if category.startswith("special") else "PREFERENCE" if category == "normal_preference" else "NORMAL"
    template = prompts.get(f"SYSTEM_PROMPT_FOR_{kind}_DATA_{suffix}")
    if template is None:
        return (profile_text if kind == "PREFERENCE" else time).strip()
    return without_api_list(template).replace("{time}", time).replace("{profile}", profile_text)


def convert_tools(functions: Any, ctx: Context) -> tuple[list[dict[str, Any]], list[str]]:
    """ACEBench function docs → unified tools (first of a repeated name kept) and the names that said ``arguments``."""
    if not isinstance(functions, list) or not functions:
        raise Reject("record has no 'function' list")
    tools, seen, arguments_key = [], set(), []
    for index, doc in enumerate(functions):
        if not isinstance(doc, dict):
            raise Reject(f"function[{index}] is not an object")
        if "parameters" not in doc and "arguments" in doc:
            doc = {**doc, "parameters": doc["arguments"]}
            arguments_key.append(str(doc.get("name")))
        tool = tool_from_function({k: doc.get(k) for k in ("name", "description", "parameters")}, f"function[{index}]")
        if tool["name"] in seen:
            ctx.count("acebench_repeated_tool_names_dropped")  # ACEBench's checker reads the first one too
            continue
        seen.add(tool["name"])
        tools.append(tool)
    return tools, arguments_key


def truth_calls(answer: Any, names: set[str]) -> list[dict[str, Any]]:
    """The first acceptable answer ``{name: {param: value}}`` → ground-truth calls."""
    first = answer[0] if isinstance(answer, list) and answer else answer
    if not isinstance(first, dict) or not first:
        raise Reject(f"possible answer is not a {{name: parameters}} object: {str(answer)[:200]}")
    calls = []
    for key, parameters in first.items():
        name = key if key in names else SUFFIX_RE.sub("", key)
        if name not in names:
            raise Reject(f"possible answer calls {key!r}, which is not among the record's functions")
        if not isinstance(parameters, dict):
            raise Reject(f"possible answer of {key!r}: parameters are not an object")
        calls.append({"name": name, "parameters": parameters})
    return ground_truth(calls)


class ACEBench(GitHubFetch, Source):
    name = "ACEBench"
    aliases = ("ace-bench",)
    license = "MIT"
    homepage = "https://github.com/ACEBench/ACEBench"
    description = "ACEBench: atom types, single/multi-turn, similar APIs, preference, special cases, agent (en + zh)"
    subsets = SUBSETS
    evaluation_subsets = SUBSETS
    infer_links = False  # the items hold no results to link
    language_known = True  # data_en / data_zh: the folder says the language
    github_repo = "ACEBench/ACEBench"
    github_commit = "e6db74b735ead22c24f27367606a9408573b848f"
    github_paths = _paths()
    github_sha256 = SHA256

    def __init__(self) -> None:
        self._prompts: dict[str, dict[str, str]] = {}

    def records(self, raw: Path, subsets: list[str] | None = None) -> Iterator[RawRecord]:
        check_subsets(self, subsets)
        folders = _language_folders(raw)
        if not folders:
            raise FetchError(f"{raw} holds no ACEBench data folder (data_all/data_en or data_all/data_zh)")
        root = raw if raw.is_dir() else raw.parent
        for language, folder in folders.items():
            prompt = next((p for p in (root / PROMPT_FILE.format(language=language),
                                       folder.parent.parent / PROMPT_FILE.format(language=language)) if p.is_file()), None)
            self._prompts[language] = read_prompts(prompt) if prompt else {}
        for subset in self.subsets:
            language, category = subset.split("_", 1)
            if (subsets and subset not in subsets) or language not in folders:
                continue
            path = folders[language] / f"data_{category}.json"
            if not path.is_file():
                continue
            rel = path.relative_to(root).as_posix() if root in path.parents else path.name
            answers = _answers(folders[language] / "possible_answer" / path.name)
            for line, value, error in iter_jsonl_records(path):
                if error:
                    yield RawRecord(subset, rel, line, Reject(error, raw=value))
                    continue
                source_id = value.get("id") if isinstance(value, dict) and isinstance(value.get("id"), str) else None
                data = {"entry": value, "answer": answers.get(source_id), "answered": answers is not None}
                yield RawRecord(subset, rel, line, data, source_id=source_id if source_id is not None else line)

    def convert(self, record: RawRecord, ctx: Context) -> Sample:
        entry, answer = record.data["entry"], record.data["answer"]
        language, category = record.subset.split("_", 1)
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str) or not isinstance(entry.get("question"), str):
            raise Reject("record lacks an 'id' or a 'question' text")
        if answer is None:
            raise Reject(f"no possible answer with id {entry['id']!r}" if record.data["answered"]
                         else "the possible-answer file of this category is missing")
        tools, arguments_key = convert_tools(entry.get("function"), ctx)
        own: dict[str, Any] = {"category": category, "answer": answer}
        if arguments_key:
            own["arguments_key"] = arguments_key
        meta: dict[str, Any] = {"source": self.name, "subset": record.subset, "source_id": entry["id"],
                                "license": self.license, "language": language, "tags": [category.split("_")[0]]}
        messages: list[dict[str, Any]] = [{"role": "meta", "content": meta}, {"role": "candidate_tools", "content": tools}]
        system = system_text(self._prompts.get(language, {}), category, language, entry)
        if system:
            messages.append({"role": "system", "content": system})
        if category.startswith("agent"):
            if not isinstance(answer, dict) or not isinstance(answer.get("ground_truth"), list) \
                    or not isinstance(entry.get("involved_classes"), list):
                raise Reject("agent item needs 'involved_classes' and an end-state list as its answer")
            own.update(answer=answer["ground_truth"], mile_stone=answer.get("mile_stone") or [])
            for key in ("initial_config", "involved_classes", "path"):
                own[key] = entry.get(key)
            # multi_turn: the question instructs the simulated user; multi_step: it is the user's request
            meta["tags"] += ["user-simulator-instructions"] if category == "agent_multi_turn" else []
            messages.append({"role": "user", "content": entry["question"].strip()})
        else:
            dialogue = split_dialogue(entry["question"])
            if not any(m["role"] == "user" for m in dialogue):
                raise Reject("the question holds no user turn")
            messages += dialogue
            if category.startswith("special"):
                if category == "special_irrelevant":
                    meta["tags"].append("irrelevance")
                messages.append({"role": "tool_call_ground_truth", "content": []})
            else:
                messages.append({"role": "tool_call_ground_truth",
                                 "content": truth_calls(answer, {t["name"] for t in tools})})
        meta["acebench"] = own
        return messages


def _language_folders(raw: Path) -> dict[str, Path]:
    """``{language: folder holding data_<category>.json}`` below ``raw`` (a clone, ``data_all/`` or one language)."""
    if raw.is_file():
        raw = raw.parent
    found: dict[str, Path] = {}
    for language in LANGUAGES:
        for candidate in (raw / "data_all" / f"data_{language}", raw / f"data_{language}"):
            if candidate.is_dir():
                found[language] = candidate
                break
        else:
            if raw.name == f"data_{language}":
                found[language] = raw
    return found


def _answers(path: Path) -> dict[str, Any] | None:
    """``{id: ground_truth}`` of a possible-answer file (None when there is none)."""
    if not path.is_file():
        return None
    out = {}
    for _line, value, error in iter_jsonl_records(path):
        if error is None and isinstance(value, dict) and isinstance(value.get("id"), str):
            out[value["id"]] = value if value["id"].startswith("agent") else value.get("ground_truth")
    return out
