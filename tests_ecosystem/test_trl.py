"""TRL's SFTTrainer on our rows: conversational with tools, and pre-tokenized input_ids/labels."""

from __future__ import annotations

from conftest import SHARED, prepare, rows


def _trainer(model_dir, tokenizer, dataset, out):
    from transformers import AutoModelForCausalLM
    from trl import SFTConfig, SFTTrainer

    config = SFTConfig(output_dir=str(out), max_steps=2, per_device_train_batch_size=2, max_length=None,
                       report_to=[], save_strategy="no", use_cpu=True, logging_steps=1, dataset_num_proc=None)
    return SFTTrainer(model=AutoModelForCausalLM.from_pretrained(model_dir), args=config, train_dataset=dataset,
                      processing_class=tokenizer)


def _load(path, cache):
    import datasets

    return datasets.load_dataset("json", data_files=str(path), split="train", cache_dir=str(cache))


def test_pretokenized_rows_are_trained_as_written(data_dir, model_dir, tmp_path):
    from transformers import AutoTokenizer

    text = prepare(data_dir, tmp_path / "text", "--model=Qwen2.5", f"--tokenizer={model_dir}")
    ours = rows(text / "train.jsonl")
    trainer = _trainer(model_dir, AutoTokenizer.from_pretrained(model_dir), _load(text / "train.jsonl", tmp_path / "c"),
                       tmp_path / "out")
    theirs = trainer.train_dataset
    assert theirs["input_ids"] == [row["input_ids"] for row in ours]
    assert theirs["labels"] == [row["labels"] for row in ours]  # our spans are the loss, not every token
    assert trainer.train().global_step == 2


def test_conversational_rows_with_tools_tokenize_to_our_text(data_dir, model_dir, tmp_path):
    """Qwen3's template prints JSON-text arguments as is, so the rows are written that way: lossless in HF datasets."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    tokenizer.chat_template = (SHARED / "chat_templates" / "Qwen3.jinja").read_text("utf-8")
    tokenizer.save_pretrained(tmp_path / "qwen3-tok")
    text = prepare(data_dir, tmp_path / "text", "--model=Qwen3", f"--tokenizer={tmp_path / 'qwen3-tok'}")
    messages = prepare(data_dir, tmp_path / "messages", "--model=Qwen3", "--format=messages")
    ours = rows(text / "train.jsonl")
    written = rows(messages / "train.jsonl")
    assert [row["id"] for row in written] == [row["id"] for row in ours]
    trainer = _trainer(model_dir, tokenizer, _load(messages / "train.jsonl", tmp_path / "c"), tmp_path / "out")
    theirs = trainer.train_dataset["input_ids"]
    different = [row["id"] for row, got in zip(ours, theirs) if got != row["input_ids"]]
    assert len(theirs) == len(ours) and different == []
    assert trainer.train().global_step == 2
