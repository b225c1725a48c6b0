"""Converters from foreign SAE checkpoint formats into our TopK SAE.

`from_reference_checkpoint` reads the FAC authors' format: `torch.save({"weight": {W_enc,
b_enc, b_dec, mask}, "config": {d_inp, d_hide, topK}})` with a tied decoder (W_dec = W_enc.T).
"""

from __future__ import annotations

import pickle
import re
import zipfile
from pathlib import Path

import torch

from fac_datasets.errors import FacSAEError
from fac_datasets.sae.model import SAEConfig, TopKSAE

_LAYER_RE = re.compile(r"_l(\d+)(?:_|\.|$)")


def from_reference_checkpoint(path: str | Path, model_name: str | None = None, layer: int | None = None) -> TopKSAE:
    """Load a reference-format checkpoint; the layer is parsed from a `_l{N}` file name if not given.

    The reference counts layers 1-based over decoder blocks (`layer=16` is the output of
    `model.layers[15]`), which is the same as our "residual after L blocks".
    """
    path = Path(path)
    if not path.is_file():
        raise FacSAEError(f"SAE checkpoint not found: {path}")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile, OSError) as exc:
        raise FacSAEError(f"{path} is corrupt or truncated, or not a torch checkpoint ({exc}).") from exc
    if not isinstance(blob, dict) or "weight" not in blob or "config" not in blob:
        keys = sorted(blob) if isinstance(blob, dict) else type(blob).__name__
        raise FacSAEError(
            f"{path} is not a reference-format SAE checkpoint: expected keys 'weight' and 'config', got {keys}."
        )
    weights, config = blob["weight"], blob["config"]
    missing = {"W_enc", "b_enc", "b_dec"} - set(weights)
    if missing or not {"d_inp", "d_hide", "topK"} <= set(config):
        raise FacSAEError(f"{path}: reference checkpoint lacks {sorted(missing) or 'config keys d_inp/d_hide/topK'}.")
    d_in, d_sae, k = int(config["d_inp"]), int(config["d_hide"]), int(config["topK"])
    W_enc = weights["W_enc"].float()
    if tuple(W_enc.shape) != (d_in, d_sae):
        raise FacSAEError(f"{path}: W_enc has shape {tuple(W_enc.shape)}, config says ({d_in}, {d_sae}).")
    if layer is None:
        match = _LAYER_RE.search(path.stem)
        layer = int(match.group(1)) if match else None
    sae = TopKSAE(SAEConfig(d_in=d_in, d_sae=d_sae, k=k, apply_b_dec_to_input=True, model_name=model_name, layer=layer))
    b_enc = weights["b_enc"].float().clone()
    mask = weights.get("mask")
    if mask is not None and bool((mask == 0).any()):
        # Ablated latents never win the TopK and never fire: same output as the reference.
        b_enc[mask == 0] = -1e9
    sae.W_enc.data.copy_(W_enc)
    sae.b_enc.data.copy_(b_enc)
    sae.W_dec.data.copy_(W_enc.T)
    sae.b_dec.data.copy_(weights["b_dec"].float())
    return sae


def to_reference_checkpoint(sae: TopKSAE, path: str | Path) -> Path:
    """Write the reference format (tied decoder: only W_enc is kept); used to test the converter."""
    path = Path(path)
    torch.save(
        {
            "weight": {
                "W_enc": sae.W_enc.detach().clone(),
                "b_enc": sae.b_enc.detach().clone(),
                "b_dec": sae.b_dec.detach().clone(),
                "mask": torch.ones(sae.d_sae),
            },
            "config": {"d_inp": sae.d_in, "d_hide": sae.d_sae, "topK": sae.cfg.k},
        },
        path,
    )
    return path
