"""Texts -> per-sample SAE features: TopK activations max-pooled over content tokens.

This is the one place that turns activations into the `{feature: activation}` records every
later stage (annotation, counts, coverage, synthesis filtering) consumes.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from fac_datasets.config import ExtractorConfig
from fac_datasets.errors import FacConfigError
from fac_datasets.features.backbone import Backbone, BackboneStats, TruncationWarning
from fac_datasets.features.hardware import native_bf16
from fac_datasets.features.rows import FeatureRows
from fac_datasets.features.sae_spec import check_sae_fits, resolve_sae
from fac_datasets.inputs import TextInput
from fac_datasets.sae.io import content_hash
from fac_datasets.sae.model import TopKSAE


@dataclass
class SampleFeatures:
    """Features of one sample, strongest first.

    Attributes:
        features: latent ids whose pooled activation exceeds the threshold.
        activations: their pooled (max over content tokens) activations, aligned.
        n_tokens: content tokens of the sample (report it next to coverage: FAC grows with length).
    """

    features: list[int]
    activations: list[float]
    n_tokens: int


def pool_max(
    sample_ids: torch.Tensor, top_acts: torch.Tensor, top_indices: torch.Tensor, n_samples: int, d_sae: int
) -> torch.Tensor:
    """[n_samples, d_sae] max over each sample's tokens of the sparse TopK activations."""
    pooled = torch.zeros(n_samples * d_sae, dtype=top_acts.dtype, device=top_acts.device)
    flat = (sample_ids.unsqueeze(1) * d_sae + top_indices).reshape(-1)
    pooled.scatter_reduce_(0, flat, top_acts.reshape(-1), reduce="amax", include_self=True)
    return pooled.view(n_samples, d_sae)


class FeatureExtractor:
    """Backbone + SAE + pooling; `threshold` is the minimum pooled activation that counts."""

    def __init__(
        self, backbone: Backbone, sae: TopKSAE, threshold: float = ExtractorConfig.default_of("threshold")
    ) -> None:
        sae.to(backbone.device)
        with warnings.catch_warnings():  # the fit check's sentences are not the user's data
            warnings.simplefilter("ignore", TruncationWarning)
            check_sae_fits(sae, backbone)
        backbone.stats = BackboneStats()
        self.backbone = backbone
        self.sae = sae
        self.threshold = threshold
        self.encoder = encoder_for(sae, backbone)

    def extract(self, items: Sequence[TextInput], *, progress: bool = False) -> list[SampleFeatures]:
        """Features for each item, in the order given."""
        results: list[SampleFeatures | None] = [None] * len(items)
        for batch in self.backbone.iter_activations(
            items, reference_norm=self.sae.cfg.reference_norm, progress=progress
        ):
            top_acts, top_indices = self.encoder.encode(batch.hidden)
            pooled = pool_max(batch.sample_ids, top_acts, top_indices, len(batch.indices), self.sae.d_sae)
            values, ids = pooled.float().sort(dim=1, descending=True)
            n_active = (values > self.threshold).sum(dim=1).tolist()
            for row, index in enumerate(batch.indices):
                n = n_active[row]
                results[index] = SampleFeatures(
                    ids[row, :n].tolist(), values[row, :n].tolist(), batch.n_content_tokens[row]
                )
        return results  # type: ignore[return-value]

    @property
    def provenance(self) -> dict:
        """The setup FeatureCounts record, so counts from different setups never merge."""
        return provenance(self.backbone.model_id, self.backbone.layer, content_hash(self.sae), self.threshold)

    @property
    def setup(self) -> dict:
        """Provenance plus device and dtype (recorded with results; not a merge key, since dtypes agree)."""
        return {**self.provenance, **self.backbone.setup.to_dict()}

    def extract_rows(self, items: Sequence[TextInput], *, progress: bool = False) -> FeatureRows:
        """Features of in-memory texts as flat rows (no datasets round trip)."""
        results = self.extract(items, progress=progress)
        return FeatureRows.from_lists(
            [r.features for r in results], [r.activations for r in results], [r.n_tokens for r in results]
        )


def encoder_for(sae: TopKSAE, backbone: Backbone) -> TopKSAE:
    """The SAE that encodes this backbone's states: in the backbone's dtype where that dtype is native
    (an fp32 SAE eats ~20% of a native-bf16 backbone's time), else the fp32 SAE itself (emulated bf16
    matmuls are slower than fp32 ones). Columns stored contiguously, so bf16 GEMMs take the fast kernel.
    """
    if backbone.dtype == sae.W_enc.dtype or not native_bf16(backbone.device.type)[0]:
        return sae
    encoder = copy.deepcopy(sae).to(backbone.dtype)
    encoder.W_enc.data = encoder.W_enc.data.t().contiguous().t()
    return encoder


def provenance(model_id: str, layer: int, sae_hash: str, threshold: float) -> dict:
    """What identifies a feature setup: model, layer, SAE content hash and activation threshold."""
    return {"model": model_id, "layer": layer, "sae": sae_hash, "threshold": threshold}


def load_extractor(config: ExtractorConfig | None = None, /, **fields: Any) -> FeatureExtractor:
    """Backbone + SAE from the specs users type, checked against each other.

    Pass an `ExtractorConfig`, or its fields as keywords (`load_extractor(model="default")`).
    The SAE decides the layer and the outlier rule unless the config sets them.
    """
    config = ExtractorConfig(**{**(config.model_dump() if config is not None else {}), **fields})
    sae = resolve_sae(config.sae)
    layer = config.layer or sae.cfg.layer
    if layer is None:
        raise FacConfigError(
            f"The SAE {config.sae!r} does not record its layer; pass layer=N (the residual stream after N blocks)."
        )
    factor = config.outlier_norm_factor if config.outlier_norm_factor is not None else sae.cfg.outlier_norm_factor
    backbone = Backbone.from_config(config.model_copy(update={"layer": layer, "outlier_norm_factor": factor}))
    return FeatureExtractor(backbone, sae, config.threshold)
