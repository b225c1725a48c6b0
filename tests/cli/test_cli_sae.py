"""The `fac` CLI commands that need no model load."""

from __future__ import annotations

import json

from helpers import random_sae

from fac_datasets.sae.convert import to_reference_checkpoint
from fac_datasets.sae.io import load_sae


def test_sae_info_default_meets_the_quality_bar(fac):
    result = fac("sae-info", "--sae", "default", "--json")
    assert result.exit_code == 0, result.stderr
    info = json.loads(result.stdout)
    assert set(info) >= {"model", "layer", "d_in", "d_sae", "k", "n_train_tokens", "fvu_heldout", "dead_fraction"}
    assert info["model"] == "HuggingFaceTB/SmolLM2-135M-Instruct" and info["d_in"] == 576
    assert info["fvu_heldout"] <= 0.25
    assert info["dead_fraction"] <= 0.20
    assert info["n_train_tokens"] >= 2_000_000


def test_sae_info_on_a_corrupt_folder_is_one_clear_line(fac, tmp_path):
    (tmp_path / "cfg.json").write_text("{}")
    (tmp_path / "sae_weights.safetensors").write_bytes(b"\x00" * 10)
    result = fac("sae-info", "--sae", tmp_path)
    assert result.exit_code == 2
    assert "error:" in result.stderr and "Traceback" not in result.stderr


def test_convert_sae_writes_a_loadable_folder(fac, tmp_path):
    sae = random_sae()
    sae.W_dec.data.copy_(sae.W_enc.data.T)
    checkpoint = to_reference_checkpoint(sae, tmp_path / "TopK7_l12_h16_epoch4.pth")
    result = fac("convert-sae", checkpoint, "--out", tmp_path / "out", "--model-name", "tiny")
    assert result.exit_code == 0, result.stderr
    loaded = load_sae(tmp_path / "out")
    assert loaded.cfg.layer == 12 and loaded.cfg.model_name == "tiny"
