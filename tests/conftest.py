"""Shared fixtures: a tiny random Llama with a real BPE tokenizer, built at test time."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("WANDB_MODE", "disabled")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest
import torch
from helpers import build_tiny_model, build_tiny_tokenizer

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_tokenizer():
    return build_tiny_tokenizer()


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, tiny_tokenizer):
    """A saved tiny model folder: what a user's local model dir looks like."""
    folder = tmp_path_factory.mktemp("tiny-llama")
    build_tiny_model(tiny_tokenizer).save_pretrained(folder)
    tiny_tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture()
def tiny_backbone(tiny_model_dir):
    from fac_datasets.features.backbone import Backbone

    return Backbone.load(str(tiny_model_dir), layer=2, max_length=64)


@pytest.fixture(scope="session")
def tiny_sae_dir(tmp_path_factory):
    """An identity-like SAE folder that fits the tiny model's width (32) at layer 2."""
    from helpers import identity_sae

    from fac_datasets.sae.io import save_sae

    sae = identity_sae(32, k=3)
    sae.cfg.model_name = "tiny"
    return save_sae(sae, tmp_path_factory.mktemp("tiny-sae"))


@pytest.fixture()
def chat_server():
    """A real OpenAI-compatible HTTP server on 127.0.0.1 whose answers the test scripts."""
    from helpers import ChatServer

    chat = ChatServer()
    chat.thread.start()
    yield chat
    chat.httpd.shutdown()
    chat.httpd.server_close()
    chat.thread.join(timeout=5)


# ------------------------------------------------------- the real local Argilla stack (tests/review, tests/faults)
@pytest.fixture(scope="session")
def argilla_stack(tmp_path_factory):
    """A running stack of its own (state dir in tmp, free ports); everything it started is stopped at the end."""
    from helpers import free_ports

    from fac_datasets.config import ArgillaConfig
    from fac_datasets.review.stack import ArgillaStack

    port, search_port, redis_port = free_ports(3)
    config = ArgillaConfig(
        state_dir=str(tmp_path_factory.mktemp("argilla-state")),
        port=port,
        search_port=search_port,
        redis_port=redis_port,
        fresh=True,
    )
    stack = ArgillaStack(config, progress=print)
    pids = []
    try:
        status = stack.up()  # stops what it started if any component fails
        pids = [c.pid for c in status.components]
        print(f"local Argilla stack up in {status.seconds} s at {status.url}")
        yield stack
    finally:
        stack.down()
        left = [pid for pid in pids if Path(f"/proc/{pid}").exists() and "Z" not in _state(pid)]
        assert not left, f"processes of the test stack still running: {left}"


def _state(pid: int) -> str:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return "Z"
    return text[text.rindex(")") + 2]


@pytest.fixture(scope="session")
def owner_client(argilla_stack):
    from fac_datasets.review.connection import connect

    return connect(argilla_stack.url, argilla_stack.api_key, argilla_stack.config)
