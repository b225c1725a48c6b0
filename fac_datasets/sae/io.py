"""The sae-lens folder format on disk (cfg.json + sae_weights.safetensors), with checks.

Folders written here load with `sae_lens.SAE.load_from_disk`; folders written by sae-lens load
here. fac-datasets' own facts (layer, reference token norm, training record) live under
`metadata.fac_datasets` in cfg.json, which sae-lens carries along untouched.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import torch
from pydantic import ValidationError
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from fac_datasets.constants import SAE_CFG_FILENAME as CFG_FILENAME
from fac_datasets.constants import SAE_METADATA_KEY
from fac_datasets.constants import SAE_WEIGHTS_FILENAME as WEIGHTS_FILENAME
from fac_datasets.errors import FacSAEError
from fac_datasets.sae.model import SAEConfig, TopKSAE

WEIGHT_SHAPES = {"W_enc": ("d_in", "d_sae"), "b_enc": ("d_sae",), "W_dec": ("d_sae", "d_in"), "b_dec": ("d_in",)}
_HOOK_RE = re.compile(r"blocks\.(\d+)\.hook_resid_post")


def hook_name_for_layer(layer: int) -> str:
    """TransformerLens name of the residual stream after `layer` blocks."""
    return f"blocks.{layer - 1}.hook_resid_post"


def save_sae(sae: TopKSAE, folder: str | Path) -> Path:
    """Write `sae` as an sae-lens folder and return the folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    cfg = sae.cfg
    sae_lens_cfg = {
        "architecture": "topk",
        "d_in": cfg.d_in,
        "d_sae": cfg.d_sae,
        "k": cfg.k,
        "dtype": "float32",
        "device": "cpu",
        "apply_b_dec_to_input": cfg.apply_b_dec_to_input,
        "rescale_acts_by_decoder_norm": cfg.rescale_acts_by_decoder_norm,
        "normalize_activations": "none",
        "reshape_activations": "none",
        "metadata": {
            "model_name": cfg.model_name,
            "hook_name": hook_name_for_layer(cfg.layer) if cfg.layer else None,
            SAE_METADATA_KEY: cfg.model_dump(
                exclude={"d_in", "d_sae", "k", "apply_b_dec_to_input", "rescale_acts_by_decoder_norm"}
            ),
        },
    }
    tensors = {name: getattr(sae, name).detach().float().contiguous() for name in WEIGHT_SHAPES}
    save_file(tensors, str(folder / WEIGHTS_FILENAME))
    (folder / CFG_FILENAME).write_text(json.dumps(sae_lens_cfg, indent=2) + "\n")
    return folder


def _config_from_sae_lens(raw: dict, where: Path) -> SAEConfig:
    architecture = raw.get("architecture", "standard")
    if architecture != "topk":
        raise FacSAEError(f"{where}: architecture {architecture!r} is not supported; fac-datasets uses TopK SAEs.")
    if raw.get("normalize_activations", "none") not in ("none", None):
        raise FacSAEError(
            f"{where}: normalize_activations={raw['normalize_activations']!r} is not supported; "
            "fold the normalization into the weights first (sae-lens does this at the end of training)."
        )
    metadata = raw.get("metadata") or {}
    ours = dict(metadata.get(SAE_METADATA_KEY) or {})
    if "layer" not in ours or ours["layer"] is None:
        match = _HOOK_RE.fullmatch(str(metadata.get("hook_name") or raw.get("hook_name") or ""))
        ours["layer"] = int(match.group(1)) + 1 if match else None
    ours.setdefault("model_name", metadata.get("model_name") or raw.get("model_name"))
    try:
        return SAEConfig(
            d_in=raw["d_in"],
            d_sae=raw["d_sae"],
            k=raw["k"],
            apply_b_dec_to_input=raw.get("apply_b_dec_to_input", True),
            rescale_acts_by_decoder_norm=raw.get("rescale_acts_by_decoder_norm", False),
            **ours,
        )
    except (KeyError, ValidationError, TypeError) as exc:
        raise FacSAEError(f"{where}: cfg.json is missing or has invalid fields: {exc}") from exc


def load_sae(folder: str | Path) -> TopKSAE:
    """Load and check an sae-lens folder; every failure names the file and what is wrong."""
    folder = Path(folder)
    cfg_path, weights_path = folder / CFG_FILENAME, folder / WEIGHTS_FILENAME
    for path in (cfg_path, weights_path):
        if not path.is_file():
            raise FacSAEError(f"{folder} is not an SAE folder: {path.name} is missing.")
    try:
        raw = json.loads(cfg_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FacSAEError(f"{cfg_path} is corrupt (not valid JSON: {exc}).") from exc
    cfg = _config_from_sae_lens(raw, cfg_path)
    try:
        tensors = load_file(str(weights_path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise FacSAEError(f"{weights_path} is corrupt or truncated ({exc}); re-download or re-train the SAE.") from exc
    sae = TopKSAE(cfg)
    for name, dims in WEIGHT_SHAPES.items():
        if name not in tensors:
            raise FacSAEError(f"{weights_path} has no tensor {name!r} (has {sorted(tensors)}).")
        expected = tuple(getattr(cfg, d) for d in dims)
        if tuple(tensors[name].shape) != expected:
            raise FacSAEError(
                f"{weights_path}: {name} has shape {tuple(tensors[name].shape)}, cfg.json says {expected}."
            )
        if not torch.isfinite(tensors[name]).all():
            raise FacSAEError(f"{weights_path}: {name} contains NaN or inf values.")
        getattr(sae, name).data.copy_(tensors[name].float())
    return sae


def content_hash(sae: TopKSAE) -> str:
    """A short hash of config and weights: the SAE's identity in fingerprints and provenance."""
    digest = hashlib.sha256(sae.cfg.model_dump_json(exclude={"training"}).encode())
    for name in WEIGHT_SHAPES:
        digest.update(getattr(sae, name).detach().float().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]
