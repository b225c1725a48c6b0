"""Load backbone + SAE from the specs users type, checked against each other."""

from __future__ import annotations

from fac_datasets.backbone import DEFAULT_LAYER, Backbone
from fac_datasets.features import FeatureExtractor
from fac_datasets.saes import resolve_sae


def load_extractor(
    model: str = "default",
    sae: str = "default",
    layer: int | None = None,
    dtype: str = "float32",
    threshold: float = 0.0,
    **backbone_options,
) -> FeatureExtractor:
    """The SAE decides the layer unless `layer` is given; a mismatch is reported, not guessed."""
    loaded_sae = resolve_sae(sae)
    layer = layer or loaded_sae.cfg.layer or DEFAULT_LAYER
    backbone_options.setdefault("outlier_norm_factor", loaded_sae.cfg.outlier_norm_factor)
    backbone = Backbone.load(model, layer, dtype, **backbone_options)
    return FeatureExtractor(backbone, loaded_sae, threshold)
