"""SAE scoring of synthesized samples with the very extractor coverage uses (backbone, SAE, pooling).

A sample's activation of a feature is its pooled (max over content tokens) activation, exactly what
decides whether the feature counts as covered, so a sample the filter accepts is one coverage counts.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from fac_datasets.catalog.spans import mark_peak
from fac_datasets.features.extractor import FeatureExtractor


def score_texts(extractor: FeatureExtractor, texts: Sequence[str]) -> list[dict[int, float]]:
    """{feature: pooled activation} per text, features above the extractor's threshold only."""
    if not texts:
        return []
    return [dict(zip(r.features, r.activations, strict=True)) for r in extractor.extract(list(texts))]


def peak_marked(extractor: FeatureExtractor, text: str, feature: int) -> str | None:
    """`text` (its kept tokens) with the peak token of `feature` marked <<like this>>; None if it never fires."""
    with torch.inference_mode():
        for batch in extractor.backbone.iter_activations([text], reference_norm=extractor.sae.cfg.reference_norm):
            if not batch.hidden.shape[0]:
                return None
            top_acts, top_indices = extractor.sae.encode(batch.hidden)
            acts = torch.where(top_indices == feature, top_acts, torch.zeros_like(top_acts)).max(dim=1).values
            if float(acts.max()) <= 0:
                return None
            peak = int(acts.argmax())
            ids = batch.token_ids.tolist()
            decode = extractor.backbone.tokenizer.decode
            return mark_peak(decode(ids[:peak]), decode(ids[peak : peak + 1]), decode(ids[peak + 1 :]))
    return None
