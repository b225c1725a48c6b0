"""Spec resolution, SAE/backbone fit checks and feature extraction on the tiny model."""

from __future__ import annotations

import pytest
import torch
from helpers import identity_sae, random_sae

from fac_datasets.errors import FacModelError, FacOfflineError, FacSAEError
from fac_datasets.features.extractor import FeatureExtractor
from fac_datasets.features.model_spec import load_causal_lm, resolve_model
from fac_datasets.features.sae_spec import check_sae_fits, resolve_sae
from fac_datasets.sae.io import save_sae


def test_model_spec_forms(tmp_path, tiny_model_dir):
    assert resolve_model(str(tiny_model_dir)).path == str(tiny_model_dir.resolve())
    assert resolve_model("org/name").is_hub
    with pytest.raises(FacModelError, match="GGUF file not found"):
        resolve_model(str(tmp_path / "missing.gguf"))
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(FacModelError, match="not a .gguf file"):
        resolve_model(str(tmp_path / "notes.txt"))
    with pytest.raises(FacModelError, match="no config.json"):
        resolve_model(str(tmp_path))
    with pytest.raises(FacModelError, match="Cannot resolve model"):
        resolve_model("not a model")


def test_uncached_hub_model_offline_fails_with_one_message(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(FacOfflineError, match="not in the local Hugging Face cache"):
        load_causal_lm(resolve_model("fac-datasets-tests/no-such-model"))


def test_sae_spec_forms(tmp_path, monkeypatch):
    sae = random_sae()
    save_sae(sae, tmp_path / "folder")
    assert resolve_sae(str(tmp_path / "folder")).cfg == sae.cfg
    assert resolve_sae(str(tmp_path / "folder" / "cfg.json")).cfg == sae.cfg
    with pytest.raises(FacSAEError, match="Cannot resolve SAE"):
        resolve_sae(str(tmp_path / "nothing-here"))
    with pytest.raises(FacSAEError, match="RELEASE/SAE_ID"):
        resolve_sae("sae-lens:only-a-release")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(FacOfflineError, match="HF_HUB_OFFLINE is set"):
        resolve_sae("sae-lens:gpt2-small-res-jb/blocks.8.hook_resid_pre")


def test_default_sae_resolves_and_is_complete():
    sae = resolve_sae("default")
    assert sae.cfg.model_name == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert sae.cfg.layer is not None and sae.cfg.reference_norm > 0


def test_d_in_mismatch_is_a_clear_error(tiny_backbone):
    with pytest.raises(FacSAEError, match=r"SAE d_in=16 does not match .*\(hidden size 32\)"):
        check_sae_fits(random_sae(d_in=16), tiny_backbone)


def test_sae_from_another_layer_shows_up_as_fvu_above_one(tiny_backbone):
    wrong = random_sae(d_in=32, d_sae=64, k=8, seed=3)
    wrong.W_dec.data.mul_(50)
    with pytest.raises(FacSAEError, match="FVU .* > 1.0"):
        check_sae_fits(wrong, tiny_backbone)
    assert check_sae_fits(identity_sae(32), tiny_backbone) < 1e-6


def test_features_are_pooled_per_sample_in_input_order(tiny_backbone):
    extractor = FeatureExtractor(tiny_backbone, identity_sae(32))
    texts = ["Write a poem.", "", "How do I reverse a list in Python?"]
    results = extractor.extract(texts)
    assert [r.n_tokens > 0 for r in results] == [True, False, True]
    assert results[1].features == [] and results[1].activations == []
    for text, result in zip(texts, results, strict=True):
        if not text:
            continue
        (alone,) = extractor.extract([text])
        assert alone.features == result.features
        assert alone.activations == pytest.approx(result.activations, abs=1e-5)
        assert result.activations == sorted(result.activations, reverse=True)
        assert all(a > 0 for a in result.activations)
        # identity SAE: pooled activation of feature i is max over tokens of relu(+-x_i)
        hidden = next(b.hidden for b in tiny_backbone.iter_activations([text]))
        expected = torch.cat([hidden, -hidden], dim=1).relu().max(dim=0).values
        got = torch.zeros(64)
        got[result.features] = torch.tensor(result.activations)
        torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)


def test_threshold_removes_weak_features(tiny_backbone):
    low = FeatureExtractor(tiny_backbone, identity_sae(32), threshold=0.0).extract(["Write a poem."])[0]
    high = FeatureExtractor(tiny_backbone, identity_sae(32), threshold=0.5).extract(["Write a poem."])[0]
    assert set(high.features) < set(low.features)
    assert all(a > 0.5 for a in high.activations)


def test_stats_count_only_the_users_texts(tiny_backbone):
    extractor = FeatureExtractor(tiny_backbone, identity_sae(32))
    assert tiny_backbone.stats.n_texts == 0  # the fit check's sentences are not counted
    extractor.extract(["Write a poem.", ""])
    assert tiny_backbone.stats.n_texts == 2 and tiny_backbone.stats.n_empty == 1
