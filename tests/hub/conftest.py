"""Hub fixtures: the in-memory Hub stand-in on a free port, the folders `fac push` publishes, a Python runner.

`fac push` runs in a fresh interpreter, as a user would: `fac("push", ..., process=True, env=hub_env(...))`
(huggingface_hub reads HF_ENDPOINT at import)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from helpers import environ
from hub_inputs import write_catalog_folder, write_sae_folder, write_synthesized_folder
from mini_hub import TOKEN, MiniHub, hub_env


@pytest.fixture()
def mini_hub():
    """A fresh Hub stand-in on 127.0.0.1 (free port) that accepts TOKEN only; stopped after the test."""
    hub = MiniHub(tokens={TOKEN}).start()
    yield hub
    hub.stop()


@pytest.fixture(scope="session")
def synthesized_dir(tmp_path_factory) -> Path:
    return write_synthesized_folder(tmp_path_factory.mktemp("synth") / "run")


@pytest.fixture(scope="session")
def catalog_dir(tmp_path_factory) -> Path:
    return write_catalog_folder(tmp_path_factory.mktemp("catalog") / "cat")


@pytest.fixture(scope="session")
def sae_dir(tmp_path_factory) -> Path:
    return write_sae_folder(tmp_path_factory.mktemp("sae") / "sae")


@pytest.fixture()
def hub_python(tmp_path):
    """Run Python code in a fresh interpreter against an endpoint (load_dataset reads HF_ENDPOINT at import)."""

    def run(endpoint: str, code: str, token: str | None = TOKEN) -> str:
        proc = subprocess.run(
            [sys.executable, "-c", code],
            env=environ(hub_env(tmp_path, endpoint, token)),
            capture_output=True,
            text=True,
            timeout=300,
            cwd=tmp_path,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        return proc.stdout

    return run
