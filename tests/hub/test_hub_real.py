"""Opt-in: `fac push` to the real Hugging Face Hub (its auth, Xet storage and card validation), then read back.

Runs only with HF_TOKEN set to a write token; it pushes a small private dataset to
<user>/fac-datasets-push-test-<random> and deletes the repo afterwards.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest
from helpers import environ
from mini_hub import hub_env

pytestmark = pytest.mark.skipif(
    not os.environ.get("HF_TOKEN"),
    reason="opt-in test against the real Hub: set HF_TOKEN to a write token to run it (it creates and deletes a "
    "private test repo)",
)
HUB = "https://huggingface.co"


def test_push_to_the_real_hub_and_read_back(fac, synthesized_dir, tmp_path):
    token = os.environ["HF_TOKEN"]
    env = hub_env(tmp_path, HUB, token)
    env["HF_HUB_DISABLE_XET"] = None  # the real Hub stores uploads with Xet

    def python(code: str) -> str:
        proc = subprocess.run(
            [sys.executable, "-c", code], env=environ(env), capture_output=True, text=True, timeout=600
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        return (proc.stdout.strip().splitlines() or [""])[-1]

    user = python("from huggingface_hub import HfApi; print(HfApi().whoami()['name'])")
    repo = f"{user}/fac-datasets-push-test-{uuid.uuid4().hex[:8]}"
    try:
        proc = fac("push", synthesized_dir, "--repo", repo, "--private", process=True, env=env, timeout=600)
        assert proc.exit_code == 0, proc.stderr[-3000:]
        back = json.loads(
            python(
                "import json\nfrom datasets import load_dataset\nfrom huggingface_hub import DatasetCard\n"
                f"rows = load_dataset({repo!r}, split='train')\ncard = DatasetCard.load({repo!r})\n"
                "print(json.dumps({'n': len(rows), 'tags': card.data.tags, 'card': str(card)}))"
            )
        )
        assert back["n"] == 4 and {"synthetic", "fac"} <= set(back["tags"])
        assert "## Feature Activation Coverage" in back["card"]
    finally:
        python(
            f"from huggingface_hub import HfApi\nHfApi().delete_repo({repo!r}, repo_type='dataset', missing_ok=True)"
        )
