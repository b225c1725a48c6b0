"""SAE card (README.md of an SAE folder) and the summary `fac sae-info` prints."""

from __future__ import annotations

from pathlib import Path

from fac_datasets.constants import SAE_CARD_FILENAME
from fac_datasets.hub_cards import render
from fac_datasets.sae.io import content_hash, hook_name_for_layer
from fac_datasets.sae.model import TopKSAE


def sae_summary(sae: TopKSAE) -> dict:
    """The facts a user checks before trusting an SAE."""
    record = sae.cfg.training or {}
    return {
        "model": sae.cfg.model_name,
        "layer": sae.cfg.layer,
        "d_in": sae.d_in,
        "d_sae": sae.d_sae,
        "k": sae.cfg.k,
        "n_train_tokens": record.get("n_train_tokens"),
        "fvu_heldout": record.get("fvu_heldout"),
        "l0_heldout": record.get("l0_heldout"),
        "dead_fraction": record.get("dead_fraction"),
        "reference_norm": sae.cfg.reference_norm,
        "sha256_16": content_hash(sae),
    }


# What the training card reads from `cfg.training`; an SAE whose record lacks one gets the basic card.
TRAINING_RECORD_KEYS = (
    "n_train_tokens",
    "n_heldout_tokens",
    "fvu_heldout",
    "l0_heldout",
    "dead_fraction",
    "corpus",
    "config",
    "seconds",
)


def write_sae_card(sae: TopKSAE, folder: Path) -> Path:
    record = sae.cfg.training
    sweep = record.get("sweep") or {}
    text = render(
        "sae_card.md",
        model_name=sae.cfg.model_name,
        layer=sae.cfg.layer,
        hook_name=hook_name_for_layer(sae.cfg.layer),
        d_in=sae.d_in,
        d_sae=sae.d_sae,
        k=sae.cfg.k,
        reference_norm=sae.cfg.reference_norm,
        outlier_norm_factor=sae.cfg.outlier_norm_factor,
        sweep=sweep.get("rows"),
        sweep_tokens=sweep.get("n_tokens"),
        sweep_note=sweep.get("note", ""),
        **{key: record[key] for key in TRAINING_RECORD_KEYS},
    )
    path = folder / SAE_CARD_FILENAME
    path.write_text(text, encoding="utf-8")
    return path
