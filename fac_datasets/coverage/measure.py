"""FAC from texts in one call: the shared path of the `fac` evaluate module and the Python API."""

from __future__ import annotations

from collections.abc import Sequence

from fac_datasets.config import CoverageConfig, ExtractorConfig
from fac_datasets.coverage.compute import CoverageReport, compute_coverage
from fac_datasets.errors import FacInputError
from fac_datasets.features.counts import FeatureCounts
from fac_datasets.features.extractor import FeatureExtractor, load_extractor
from fac_datasets.inputs import TextInput, check_texts


def measure_fac(
    current: Sequence[TextInput],
    references: Sequence[TextInput] | None = None,
    *,
    anchor_counts: FeatureCounts | None = None,
    relevant_features: Sequence[int] | None = None,
    extractor: FeatureExtractor | ExtractorConfig | None = None,
    config: CoverageConfig | None = None,
    progress: bool = False,
) -> CoverageReport:
    """FAC of `current` texts against anchor `references` (or precomputed `anchor_counts`).

    `extractor` is a loaded FeatureExtractor, or the ExtractorConfig to load one (default: the
    embedded model and SAE).
    """
    current = check_texts(current, what="current texts (data)")
    if (references is None) == (anchor_counts is None):
        raise FacInputError("Pass exactly one of references (anchor texts) or anchor_counts.")
    if references is not None:
        references = check_texts(references, min_count=1, what="anchor texts (references)")
    if not isinstance(extractor, FeatureExtractor):
        extractor = load_extractor(extractor)
    setup = extractor.provenance
    if anchor_counts is None:
        anchor_counts = FeatureCounts.from_rows(
            extractor.extract_rows(references, progress=progress), extractor.sae.d_sae, setup
        )
    else:
        anchor_counts.check_setup(setup, extractor.sae.d_sae, "anchor_counts")
    rows = extractor.extract_rows(current, progress=progress)
    return compute_coverage(anchor_counts, rows, relevant_features, config)
