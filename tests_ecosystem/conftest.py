"""Ecosystem tier: our output loaded by the real trainers (TRL, LLaMA-Factory, ms-swift), each in its own venv.

`scripts/test_ecosystem.sh` builds the venvs under .cache/ (CPU-only torch) and runs these tests
with the venv's Python; the OpenToolLab commands run with the main environment's Python
(``$OPENTOOLLAB_PYTHON``), exactly as a user runs them. Nothing touches the network: the model is a
tiny randomly initialised Qwen2 and the tokenizer a byte-level BPE trained here on our own rows.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
WHEELS = REPO / ".cache" / "wheels"
SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<tool_call>", "</tool_call>"]


def otl(*args: str) -> str:
    """Run `python <command> ...` from the repository root with the main environment's Python."""
    python = os.environ.get("OPENTOOLLAB_PYTHON", "python3")
    done = subprocess.run([python, *args], cwd=REPO, capture_output=True, text=True)
    if done.returncode != 0:
        pytest.fail(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory) -> Path:
    """BFCL (from the pinned wheel) and the real API-Bank slice, processed by our commands."""
    root = tmp_path_factory.mktemp("data")
    otl("datasets", "deal", "BFCL", "--find-links", str(WHEELS), "--data-dir", str(root), "-q")
    otl("datasets", "process", "API-Bank", "--from", str(SHARED / "samples" / "api_bank"), "--data-dir", str(root), "-q")
    return root


def prepare(data_dir: Path, out: Path, *args: str, datasets: str = "BFCL,API-Bank") -> Path:
    otl("trainer", "prepare", f"--datasets={datasets}", "--allow-eval", "-q", "--data-dir", str(data_dir),
        "--out", str(out), *args)
    return out


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory, data_dir) -> Path:
    """A tiny random Qwen2 and a byte-level BPE tokenizer trained on our Qwen2.5 text rows (no hub)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    work = tmp_path_factory.mktemp("model")
    texts = [row["text"] for row in rows(prepare(data_dir, work / "corpus") / "train.jsonl")]
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=3000, special_tokens=SPECIAL,
                                                       initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token="<|im_end|>", pad_token="<|endoftext|>")
    tokenizer.chat_template = (SHARED / "chat_templates" / "Qwen2.5-Instruct.jinja").read_text("utf-8")
    folder = work / "tiny-qwen"
    tokenizer.save_pretrained(folder)
    config = Qwen2Config(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=32768,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    import torch

    torch.manual_seed(0)
    Qwen2ForCausalLM(config).save_pretrained(folder)
    return folder
