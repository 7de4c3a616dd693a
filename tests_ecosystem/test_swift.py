"""ms-swift's own Qwen2.5 template on our `messages` rows (loaded as a training file) gives our text and ids.

ms-swift tokenizes a chat piece by piece (system, each query, each reply), so its ids equal the whole text's
ids only with a tokenizer that, like Qwen2.5's, splits text with its pre-tokenizer regex before merging: the
tokenizer here is trained with Qwen2's own split pattern (no hub).
"""

from __future__ import annotations

import json
import shutil

import pytest

from conftest import SPECIAL, prepare, rows

QWEN2_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+"
               r"|\s+(?!\S)|\s+")


@pytest.fixture(scope="module")
def qwen_dir(model_dir, data_dir, tmp_path_factory):
    """The tiny model of conftest with a byte-level BPE that splits text the way Qwen2.5's tokenizer does."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    work = tmp_path_factory.mktemp("swift")
    texts = [row["text"] for row in rows(prepare(data_dir, work / "corpus") / "train.jsonl")]
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_SPLIT), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    bpe.decoder = decoders.ByteLevel()
    base = AutoTokenizer.from_pretrained(model_dir)
    bpe.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=len(base), special_tokens=SPECIAL,
                                                       initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token="<|im_end|>", pad_token="<|endoftext|>")
    tokenizer.chat_template = base.chat_template
    folder = work / "tiny-qwen-split"
    shutil.copytree(model_dir, folder)
    tokenizer.save_pretrained(folder)
    return folder


def _tool_then_user(messages: list[dict]) -> bool:
    return any(a["role"] == "tool" and b["role"] == "user" for a, b in zip(messages, messages[1:]))


def _back_to_back(messages: list[dict]) -> bool:
    """Two user turns, or two plain assistant replies, one right after the other."""
    return any(a["role"] == b["role"] and a["role"] in ("user", "assistant") and not a.get("tool_calls")
               for a, b in zip(messages, messages[1:]))


def _without_newline_before_calls(text: str, messages: list[dict]) -> str:
    """Our text as ms-swift's hermes agent template writes an assistant's text beside its calls."""
    for message in messages:
        if message["role"] == "assistant" and message.get("content") and message.get("tool_calls"):
            text = text.replace(message["content"] + "\n<tool_call>", message["content"] + "<tool_call>")
    return text


def _encode_all(loaded, ours: dict, template, tokenizer) -> dict[str, list]:
    """Every loaded row through ms-swift's template, sorted by what came out against our text rows."""
    out = {"refused": [], "merged": [], "joined": [], "other_text": [], "other_ids": [], "other_learned": [], "same": []}
    for row in loaded:
        try:
            encoded = template.encode({"messages": row["messages"], "tools": row["tools"]})
        except Exception as exc:  # noqa: BLE001 - collected: every refusal is checked by the callers
            out["refused"].append((row["id"], str(exc)[:200]))
            continue
        mine = ours[row["id"]]
        got = tokenizer.decode(encoded["input_ids"])
        if got != mine["text"]:
            if _back_to_back(row["messages"]):
                out["merged"].append(row["id"])  # ms-swift joins back-to-back user (or assistant) turns; the template keeps both
            elif got == _without_newline_before_calls(mine["text"], row["messages"]):
                out["joined"].append(row["id"])  # ms-swift's hermes writes "text<tool_call>", the template "text\n<tool_call>"
            else:
                out["other_text"].append(row["id"])
        elif encoded["input_ids"] != mine["input_ids"]:
            out["other_ids"].append(row["id"])
        else:  # ms-swift learns our spans: each reply, its <|im_end|> (and the newline after it, as LLaMA-Factory)
            theirs = [t for t, label in zip(encoded["input_ids"], encoded["labels"]) if label != -100]
            spans = "".join(mine["text"][a:b] + mine["text"][b:b + 1] for a, b in mine["spans"])
            if tokenizer.decode(theirs) not in (spans, spans.rstrip("\n")):
                out["other_learned"].append(row["id"])
            else:
                out["same"].append(row["id"])
    return out


@pytest.fixture(scope="module")
def swift_template(qwen_dir):
    from swift.model import get_processor
    from swift.template import get_template

    tokenizer = get_processor(str(qwen_dir), model_type="qwen2", download_model=False)
    template = get_template(tokenizer, template_type="qwen2_5", max_length=None)
    template.set_mode("train")
    return template, tokenizer


def _loaded(folder, cache):
    import datasets

    # the way ms-swift reads a local training file (`--dataset train.jsonl`): HF datasets' json loader
    return datasets.load_dataset("json", data_files=str(folder / "train.jsonl"), split="train", cache_dir=str(cache))


def test_swift_qwen25_template_encodes_our_messages_as_our_text(data_dir, qwen_dir, swift_template, tmp_path):
    """Without --trainer: which rows ms-swift's template takes differently, each for a known reason of its own."""
    template, tokenizer = swift_template
    text = prepare(data_dir, tmp_path / "text", "--model=Qwen2.5", f"--tokenizer={qwen_dir}")
    # arguments as JSON text: Arrow would re-type mixed numbers (8.854e-12 → 0.0); ms-swift parses the text back
    messages = prepare(data_dir, tmp_path / "messages", "--model=Qwen2.5", "--format=messages", "--arguments=text")
    ours = {row["id"]: row for row in rows(text / "train.jsonl")}
    loaded = _loaded(messages, tmp_path / "cache")
    assert len(loaded) == len(ours)
    found = _encode_all(loaded, ours, template, tokenizer)
    # ms-swift pairs each user/tool message with the assistant reply after it: a user turn straight after a tool
    # result (BFCL multi-turn, where the dialogue goes on without a reply) is refused by its encoder
    unpaired = {row["id"] for row in loaded if _tool_then_user(row["messages"])}
    print(f"\nms-swift qwen2_5: {len(loaded)} rows: {len(found['same'])} the same text, ids and learned tokens as ours; "
          f"{len(found['refused'])} refused (a user turn right after a tool result: {len(unpaired)}); {len(found['merged'])} "
          f"with back-to-back user or assistant turns merged; {len(found['joined'])} with text beside a call not followed "
          f"by a newline; other text {len(found['other_text'])}, other ids {len(found['other_ids'])}, "
          f"other learned tokens {len(found['other_learned'])}")
    assert {identifier for identifier, _error in found["refused"]} == unpaired, found["refused"][:3]
    assert found["other_text"] == found["other_ids"] == found["other_learned"] == []
    assert found["merged"] and found["joined"]  # the cases --trainer ms-swift must skip exist in this data


def test_trainer_ms_swift_writes_only_rows_ms_swift_encodes_as_the_official_template(data_dir, qwen_dir, swift_template,
                                                                                     tmp_path):
    """--trainer ms-swift: every written row gives exactly our text, ids and learned tokens; the rest are counted skips."""
    template, tokenizer = swift_template
    text = prepare(data_dir, tmp_path / "text", "--model=Qwen2.5", f"--tokenizer={qwen_dir}")
    messages = prepare(data_dir, tmp_path / "messages", "--model=Qwen2.5", "--format=messages", "--arguments=text",
                       "--trainer=ms-swift")
    ours = {row["id"]: row for row in rows(text / "train.jsonl")}
    loaded = _loaded(messages, tmp_path / "cache")
    found = _encode_all(loaded, ours, template, tokenizer)
    assert len(found["same"]) == len(loaded) > 2000, {k: v[:2] for k, v in found.items() if k != "same"}
    manifest = json.loads((messages / "manifest.json").read_text("utf-8"))
    reasons = manifest["counts"]["skipped_by_reason"]
    assert manifest["options"]["trainer"] == "ms-swift"
    assert {"swift_user_after_tool", "swift_merged_turns", "swift_text_beside_calls"} <= set(reasons)
    assert len(loaded) + sum(reasons.values()) == manifest["counts"]["in"]
