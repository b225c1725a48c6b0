"""FAC from texts in one call: the shared path of the `fac` evaluate module and the CLI."""

from __future__ import annotations

from typing import Sequence

from fac_datasets.annotate import provenance
from fac_datasets.counts import FeatureCounts
from fac_datasets.coverage import CoverageConfig, CoverageReport, compute_coverage
from fac_datasets.errors import FacInputError
from fac_datasets.features import FeatureExtractor
from fac_datasets.inputs import TextInput, check_item
from fac_datasets.rows import FeatureRows


def extractor_provenance(extractor: FeatureExtractor) -> dict:
    from fac_datasets.sae.io import content_hash

    return provenance(extractor.backbone.model_id, extractor.backbone.layer, content_hash(extractor.sae), extractor.threshold)


def annotate_rows(texts: Sequence[TextInput], extractor: FeatureExtractor, progress: bool = False) -> FeatureRows:
    """Features of each text as flat rows (no datasets round trip: for in-memory lists)."""
    results = extractor.extract([check_item(t, i) for i, t in enumerate(texts)], progress=progress)
    return FeatureRows.from_lists([r.features for r in results], [r.activations for r in results], [r.n_tokens for r in results])


def measure_fac(
    current: Sequence[TextInput],
    references: Sequence[TextInput] | None = None,
    *,
    anchor_counts: FeatureCounts | None = None,
    relevant_features: Sequence[int] | None = None,
    extractor: FeatureExtractor | None = None,
    model: str = "default",
    sae: str = "default",
    layer: int | None = None,
    threshold: float = 0.0,
    config: CoverageConfig | None = None,
    progress: bool = False,
) -> CoverageReport:
    """FAC of `current` texts against anchor `references` (or precomputed `anchor_counts`)."""
    if (references is None) == (anchor_counts is None):
        raise FacInputError("Pass exactly one of references (anchor texts) or anchor_counts.")
    if references is not None and len(references) == 0:
        raise FacInputError("references is empty: the anchor set needs at least one text.")
    if extractor is None:
        from fac_datasets.loading import load_extractor

        extractor = load_extractor(model, sae, layer, threshold=threshold)
    setup = extractor_provenance(extractor)
    if anchor_counts is None:
        anchor_counts = FeatureCounts.from_rows(annotate_rows(references, extractor, progress), extractor.sae.d_sae, setup)
    elif anchor_counts.provenance and anchor_counts.provenance != setup:
        raise FacInputError(f"anchor_counts were made with {anchor_counts.provenance}, this extractor is {setup}.")
    rows = annotate_rows(current, extractor, progress)
    return compute_coverage(anchor_counts, rows, relevant_features, config)
