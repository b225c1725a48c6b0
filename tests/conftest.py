"""Shared fixtures: the one way tests drive the CLI (`fac`), a tiny random Llama with a real BPE tokenizer and an
SAE that fits it (`tiny`), a scripted chat server and the local Argilla stack."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("WANDB_MODE", "disabled")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest
import torch
from helpers import build_tiny_model, build_tiny_tokenizer, environ

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


@dataclass(frozen=True)
class Tiny:
    """The tiny model and SAE folders, and the CLI options that select them."""

    model: Path
    sae: Path

    @property
    def args(self) -> list[str]:
        return ["--model", str(self.model), "--sae", str(self.sae)]


@pytest.fixture(scope="session")
def tiny(tiny_model_dir, tiny_sae_dir) -> Tiny:
    return Tiny(Path(tiny_model_dir), Path(tiny_sae_dir))


# ------------------------------------------------------------------ the one way tests drive the CLI
@dataclass(frozen=True)
class FacRun:
    """What one `fac` command left behind. `output` is both streams as the user saw them (a subprocess's: stdout,
    then stderr); `exception` is what an in-process run ended with (None in a subprocess)."""

    exit_code: int
    stdout: str
    stderr: str
    output: str
    exception: BaseException | None = None
    process: bool = False

    @property
    def last_line(self) -> str:
        """The last non-blank line of stdout: where `--json` commands print their one JSON line."""
        return _last_line(self.stdout)

    def error_line(self, *fragments: str, absent: tuple[str, ...] = ()) -> str:
        """Assert the command failed as a user's mistake should: exit code 2, no traceback (nor any of `absent`),
        its last line on stderr `error: ...` holding every fragment; return that line."""
        assert self.exit_code == 2, self.output[-3000:]
        for word in ("Traceback", *absent):
            assert word not in self.output, self.output[-3000:]
        assert self.process or isinstance(self.exception, SystemExit), self.output[-3000:]
        line = _last_line(self.stderr)
        assert line.startswith("error: "), self.output[-3000:]
        for fragment in fragments:
            assert fragment in line, line
        return line


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


def run_fac(
    *args: object,
    process: bool = False,
    env: Mapping[str, str | None] | None = None,
    cwd: str | Path | None = None,
    timeout: float = 600,
) -> FacRun:
    """Run `fac ARGS` (each arg stringified, so Paths pass as they are) and return what it left.

    In this process by default (typer's CliRunner on the app: fast, and monkeypatches reach it). With
    `process=True` it runs `python -m fac_datasets.cli` in a fresh interpreter, for what needs one: environment
    read at import, a real exit code or traceback, a process to kill. `env` overrides os.environ (None unsets a
    variable) in both modes; `cwd` and `timeout` apply to the subprocess.
    """
    argv = [str(a) for a in args]
    if process:
        proc = subprocess.run(
            [sys.executable, "-m", "fac_datasets.cli", *argv],
            env=environ(env or {}),
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return FacRun(proc.returncode, proc.stdout, proc.stderr, proc.stdout + proc.stderr, process=True)
    assert cwd is None, "cwd needs process=True (chdir in-process with monkeypatch.chdir)"
    from typer.testing import CliRunner

    from fac_datasets.cli import app

    result = CliRunner().invoke(app, argv, env=env)
    return FacRun(result.exit_code, result.stdout, result.stderr, result.output, result.exception)


@pytest.fixture(scope="session")
def fac():
    """`fac(*args, process=False, env=None, cwd=None, timeout=600) -> FacRun`: see run_fac."""
    return run_fac


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
