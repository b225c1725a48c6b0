"""Resolve an SAE spec (`default`, folder, reference checkpoint, `sae-lens:RELEASE/ID`) and
check it against a backbone. One resolver serves every command and API.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from importlib import resources
from pathlib import Path

import torch

from fac_datasets.constants import SAE_CFG_FILENAME, SAE_LENS_SPEC_PREFIX, SAE_WEIGHTS_FILENAME
from fac_datasets.errors import FacOfflineError, FacSAEError
from fac_datasets.features.model_spec import hub_offline
from fac_datasets.sae.convert import from_reference_checkpoint
from fac_datasets.sae.io import load_sae
from fac_datasets.sae.model import TopKSAE

SANITY_SENTENCES = (
    "The committee published its annual report on Tuesday morning.",
    "Please write a short poem about the sea and the wind.",
    "def add(a, b):\n    return a + b",
    "She had always wanted to visit the mountains in winter.",
)


def default_sae_dir() -> Path:
    """The SAE shipped inside the package (trained on the embedded default model)."""
    return Path(str(resources.files("fac_datasets") / "data" / "default_sae"))


def resolve_sae(spec: str | os.PathLike) -> TopKSAE:
    """Load the SAE a user named; every failure is a FacSAEError or FacOfflineError."""
    spec = str(spec)
    if spec == "default":
        folder = default_sae_dir()
        if not (folder / SAE_CFG_FILENAME).is_file():
            raise FacSAEError(f"The default SAE is missing from the installation ({folder}). Reinstall fac-datasets.")
        return load_sae(folder)
    if spec.startswith(SAE_LENS_SPEC_PREFIX):
        return _load_sae_lens_pretrained(spec[len(SAE_LENS_SPEC_PREFIX) :])
    path = Path(spec).expanduser()
    if path.is_dir():
        return load_sae(path)
    if path.is_file():
        if path.name in (SAE_WEIGHTS_FILENAME, SAE_CFG_FILENAME):
            return load_sae(path.parent)
        return from_reference_checkpoint(path)
    raise FacSAEError(
        f"Cannot resolve SAE {spec!r}: expected 'default', an sae-lens folder (cfg.json + "
        "sae_weights.safetensors), a reference checkpoint file, or 'sae-lens:RELEASE/SAE_ID'."
    )


def _load_sae_lens_pretrained(name: str) -> TopKSAE:
    release, _, sae_id = name.partition("/")
    if not release or not sae_id:
        raise FacSAEError(f"sae-lens specs look like 'sae-lens:RELEASE/SAE_ID', got 'sae-lens:{name}'.")
    if hub_offline():
        raise FacOfflineError(
            f"'sae-lens:{name}' downloads from the Hugging Face Hub, but HF_HUB_OFFLINE is set. "
            "Unset it with network access, or pass a local SAE folder."
        )
    try:
        from sae_lens import SAE
    except ImportError as exc:
        raise FacSAEError("'sae-lens:' specs need sae-lens: pip install 'fac-datasets[train]'.") from exc
    try:
        pretrained = SAE.from_pretrained(release, sae_id, device="cpu")
    except (OSError, ConnectionError) as exc:
        raise FacOfflineError(
            f"Could not download 'sae-lens:{name}' from the Hugging Face Hub ({type(exc).__name__}). "
            "Check the network, or pass a local SAE folder."
        ) from exc
    except ValueError as exc:
        raise FacSAEError(f"sae-lens does not know 'sae-lens:{name}': {exc}") from exc
    with tempfile.TemporaryDirectory() as tmp:
        pretrained.save_model(tmp)
        return load_sae(tmp)


def check_sae_fits(sae: TopKSAE, backbone, sentences=SANITY_SENTENCES, max_fvu: float = 1.0) -> float:
    """Fail if the SAE cannot belong to this backbone; return its FVU on a few sentences.

    A different width is an error. A wrong layer or model usually keeps the width but shows
    up as FVU > 1 (worse than predicting the mean), which is an error too.
    """
    if sae.d_in != backbone.d_model:
        raise FacSAEError(
            f"SAE d_in={sae.d_in} does not match {backbone.model_id} (hidden size {backbone.d_model}). "
            "Pass the SAE trained for this model, or the model this SAE was trained on "
            f"({sae.cfg.model_name or 'unknown'})."
        )
    if sae.cfg.layer is not None and sae.cfg.layer != backbone.layer:
        warnings.warn(
            f"The SAE was trained at layer {sae.cfg.layer}, the backbone runs layer {backbone.layer}.",
            stacklevel=2,
        )
    acts = torch.cat(
        [b.hidden for b in backbone.iter_activations(list(sentences), reference_norm=sae.cfg.reference_norm)]
    )
    fvu = sae.fvu(acts)
    if fvu > max_fvu:
        raise FacSAEError(
            f"The SAE reconstructs {backbone.model_id} layer {backbone.layer} with FVU {fvu:.2f} > {max_fvu}: "
            f"it was probably trained on another layer or model (it records model="
            f"{sae.cfg.model_name!r}, layer={sae.cfg.layer})."
        )
    return fvu
