"""Fixtures of the downstream tests (the builders are in downstream_tasks.py)."""

from __future__ import annotations

import pytest

from fac_datasets.config import DownstreamConfig
from fac_datasets.downstream import memo


@pytest.fixture(autouse=True)
def _fresh_memo():
    memo.clear()
    yield
    memo.clear()


@pytest.fixture(scope="session")
def tied_model_dir(tmp_path_factory, tiny_model_dir, tiny_tokenizer):
    """The tiny Llama with its LM head equal to its input embeddings: a letter's embedding direction raises
    that letter's logit, so a vector planted from letter states must move P(letter) with its sign."""
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    model.lm_head.weight.data.copy_(model.model.embed_tokens.weight.data)
    folder = tmp_path_factory.mktemp("tiny-tied")
    model.save_pretrained(folder)
    tiny_tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture()
def tiny_config(tiny_model_dir) -> DownstreamConfig:
    return DownstreamConfig(model=str(tiny_model_dir), layer=2, lr=1e-3, head_lr=1e-2, epochs=4)
