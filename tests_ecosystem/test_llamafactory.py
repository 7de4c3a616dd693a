"""LLaMA-Factory's own loader on our sharegpt rows + dataset_info.json gives our Qwen2.5 text, row for row."""

from __future__ import annotations

import json
import sys
import types

from conftest import prepare, rows

# LLaMA-Factory imports torchaudio at module level for its audio plugin. PyPI's torchaudio wheels are
# CUDA builds that cannot load beside the CPU torch file this machine installs, and text datasets never
# reach the audio code, so an empty module stands in for it: every line that runs here is LLaMA-Factory's.
import transformers  # noqa: E402,F401  (it looks for torchaudio first: it must find none)

sys.modules.setdefault("torchaudio", types.ModuleType("torchaudio"))


def test_get_dataset_gives_our_qwen25_text(data_dir, model_dir, tmp_path):
    from llamafactory.data import get_dataset, get_template_and_fix_tokenizer
    from llamafactory.hparams import get_train_args
    from llamafactory.model import load_tokenizer

    sharegpt = prepare(data_dir, tmp_path / "sharegpt", "--model=Qwen2.5", "--format=sharegpt")
    text = prepare(data_dir, tmp_path / "text", "--model=Qwen2.5")
    (name,) = json.loads((sharegpt / "dataset_info.json").read_text("utf-8"))
    ours = {row["id"]: row["text"] for row in rows(text / "train.jsonl")}
    written = rows(sharegpt / "train.jsonl")
    assert {(row["system"] == "") for row in written} == {True, False}  # rows with and without a system prompt
    model_args, data_args, training_args, _finetuning, _generating = get_train_args({
        "stage": "sft", "do_train": True, "model_name_or_path": str(model_dir), "template": "qwen",
        "dataset": name, "dataset_dir": str(sharegpt), "cutoff_len": 1_000_000, "output_dir": str(tmp_path / "out"),
        "overwrite_cache": True, "preprocessing_num_workers": 1, "report_to": "none", "use_cpu": True,
        "finetuning_type": "full"})
    tokenizer = load_tokenizer(model_args)["tokenizer"]
    template = get_template_and_fix_tokenizer(tokenizer, data_args)
    module = get_dataset(template, model_args, data_args, training_args, "sft", tokenizer=tokenizer)
    loaded = module["train_dataset"]
    assert len(loaded) == len(written)  # no row lost or failed in LLaMA-Factory's aligner
    different = [row["id"] for row, got in zip(written, loaded)
                 if tokenizer.decode(got["input_ids"], skip_special_tokens=False) != ours[row["id"]]]
    assert different == []
    # LLaMA-Factory learns our spans (assistant turns, calls, <|im_end|>) plus the newline after each <|im_end|>
    for row, got in list(zip(written, loaded))[::25]:
        learned = [t for t, label in zip(got["input_ids"], got["labels"]) if label != -100]
        full = ours[row["id"]]
        assert tokenizer.decode(learned) == "".join(full[a:b] + full[b:b + 1] for a, b in _spans(text, row["id"]))


_SPANS: dict = {}


def _spans(folder, identifier):
    if not _SPANS:
        _SPANS.update({row["id"]: row["spans"] for row in rows(folder / "train.jsonl")})
    return _SPANS[identifier]
