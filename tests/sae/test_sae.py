"""TopK SAE: agreement with sae-lens, the folder format, checks on load, the converter."""

from __future__ import annotations

import json

import pytest
import torch
from helpers import dense, random_sae

from fac_datasets.errors import FacSAEError
from fac_datasets.features.extractor import pool_max
from fac_datasets.sae.convert import from_reference_checkpoint, to_reference_checkpoint
from fac_datasets.sae.io import content_hash, load_sae, save_sae


@pytest.mark.parametrize("rescale", [False, True])
def test_encode_decode_match_sae_lens(tmp_path, rescale):
    from sae_lens import SAE

    ours = random_sae(rescale_acts_by_decoder_norm=rescale)
    save_sae(ours, tmp_path)
    theirs = SAE.load_from_disk(tmp_path)
    x = torch.randn(50, 16)
    top_acts, top_indices = ours.encode(x)
    with torch.no_grad():
        torch.testing.assert_close(dense(top_acts, top_indices, 64), theirs.encode(x), atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(
            ours.decode(top_acts, top_indices), theirs.decode(theirs.encode(x)), atol=1e-4, rtol=1e-4
        )


def test_folder_round_trip_keeps_weights_and_metadata(tmp_path):
    sae = random_sae(reference_norm=123.0)
    loaded = load_sae(save_sae(sae, tmp_path / "sae"))
    assert loaded.cfg == sae.cfg
    assert content_hash(loaded) == content_hash(sae)
    cfg = json.loads((tmp_path / "sae" / "cfg.json").read_text())
    assert cfg["metadata"]["hook_name"] == "blocks.1.hook_resid_post"


def test_foreign_sae_lens_folder_gets_layer_from_hook_name(tmp_path):
    save_sae(random_sae(), tmp_path)
    cfg = json.loads((tmp_path / "cfg.json").read_text())
    del cfg["metadata"]["fac_datasets"]
    cfg["metadata"]["hook_name"] = "blocks.11.hook_resid_post"
    (tmp_path / "cfg.json").write_text(json.dumps(cfg))
    assert load_sae(tmp_path).cfg.layer == 12


def test_truncated_weights_file_is_reported(tmp_path):
    save_sae(random_sae(), tmp_path)
    weights = tmp_path / "sae_weights.safetensors"
    weights.write_bytes(weights.read_bytes()[:300])
    with pytest.raises(FacSAEError, match="corrupt or truncated"):
        load_sae(tmp_path)


def test_corrupt_cfg_is_reported(tmp_path):
    save_sae(random_sae(), tmp_path)
    (tmp_path / "cfg.json").write_text("{not json")
    with pytest.raises(FacSAEError, match="cfg.json is corrupt"):
        load_sae(tmp_path)


def test_shape_disagreeing_with_cfg_is_reported(tmp_path):
    save_sae(random_sae(), tmp_path)
    cfg = json.loads((tmp_path / "cfg.json").read_text())
    cfg["d_sae"] = 65
    (tmp_path / "cfg.json").write_text(json.dumps(cfg))
    with pytest.raises(FacSAEError, match=r"W_enc has shape \(16, 64\), cfg.json says \(16, 65\)"):
        load_sae(tmp_path)


def test_non_topk_architecture_is_refused(tmp_path):
    save_sae(random_sae(), tmp_path)
    cfg = json.loads((tmp_path / "cfg.json").read_text())
    cfg["architecture"] = "jumprelu"
    (tmp_path / "cfg.json").write_text(json.dumps(cfg))
    with pytest.raises(FacSAEError, match="'jumprelu' is not supported"):
        load_sae(tmp_path)


def test_missing_folder_files_are_named(tmp_path):
    with pytest.raises(FacSAEError, match="cfg.json is missing"):
        load_sae(tmp_path)


def test_reference_checkpoint_round_trip(tmp_path):
    sae = random_sae()
    sae.W_dec.data.copy_(sae.W_enc.data.T)  # the reference ties the decoder
    path = to_reference_checkpoint(sae, tmp_path / "TopK7_l16_h16_epoch4.pth")
    loaded = from_reference_checkpoint(path, model_name="tiny")
    assert loaded.cfg.layer == 16 and loaded.cfg.k == 4
    x = torch.randn(20, 16)
    for a, b in zip(sae.encode(x), loaded.encode(x), strict=True):
        torch.testing.assert_close(a, b)
    torch.testing.assert_close(loaded.W_dec, loaded.W_enc.T)
    assert sae.fvu(x) == pytest.approx(loaded.fvu(x))


def test_reference_encode_formula_matches_the_spec(tmp_path):
    """pre = (x - b_dec) W_enc + b_enc; top-k of the signed pre; ReLU; x_hat = z W_enc^T + b_dec."""
    sae = random_sae()
    loaded = from_reference_checkpoint(to_reference_checkpoint(sae, tmp_path / "ref.pt"))
    x = torch.randn(8, 16)
    pre = (x - sae.b_dec) @ sae.W_enc + sae.b_enc
    z = torch.zeros_like(pre).scatter_(1, pre.topk(4).indices, pre.topk(4).values).relu()
    torch.testing.assert_close(dense(*loaded.encode(x), 64), z, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(loaded.decode(*loaded.encode(x)), z @ sae.W_enc.T + sae.b_dec, atol=1e-4, rtol=1e-4)


def test_reference_mask_silences_ablated_latents(tmp_path):
    sae = random_sae()
    path = to_reference_checkpoint(sae, tmp_path / "ref.pt")
    blob = torch.load(path)
    blob["weight"]["mask"][:32] = 0
    torch.save(blob, path)
    _, indices = from_reference_checkpoint(path).encode(torch.randn(30, 16))
    assert (indices >= 32).all()


def test_truncated_reference_checkpoint_is_reported(tmp_path):
    path = to_reference_checkpoint(random_sae(), tmp_path / "ref.pt")
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(FacSAEError, match="corrupt or truncated"):
        from_reference_checkpoint(path)


def test_wrong_dict_is_not_taken_for_a_reference_checkpoint(tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"state_dict": {}}, path)
    with pytest.raises(FacSAEError, match="expected keys 'weight' and 'config'"):
        from_reference_checkpoint(path)


def test_pool_max_matches_a_dense_loop():
    gen = torch.Generator().manual_seed(1)
    n_tokens, k, d_sae, n_samples = 40, 3, 10, 4
    sample_ids = torch.randint(0, n_samples, (n_tokens,), generator=gen)
    top_acts = torch.rand(n_tokens, k, generator=gen)
    top_indices = torch.stack([torch.randperm(d_sae, generator=gen)[:k] for _ in range(n_tokens)])
    expected = torch.zeros(n_samples, d_sae)
    for t in range(n_tokens):
        for j in range(k):
            s, f = sample_ids[t], top_indices[t, j]
            expected[s, f] = max(expected[s, f], top_acts[t, j])
    torch.testing.assert_close(pool_max(sample_ids, top_acts, top_indices, n_samples, d_sae), expected)
