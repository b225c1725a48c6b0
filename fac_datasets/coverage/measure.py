"""FAC in one call, with every variant asked for: the one path of `fac coverage`, the Python API and evaluate.

Anchor and current are texts, a datasets.Dataset, a data spec, FeatureRows or FeatureCounts (a
counts file is checked against the setup); relevance comes from `relevance.resolve` (or is given);
the report carries soft FAC, token-budget FAC, the activation rule and -MMD when asked, and notes
for everything a reader must know (truncated texts, relevance by enrichment against general text).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from fac_datasets.config import CoverageConfig, RelevanceConfig
from fac_datasets.coverage.compute import CoverageReport, compute_coverage
from fac_datasets.errors import FacInputError
from fac_datasets.features.sources import FeatureInput, FeatureSpec, Featurizer, read_features
from fac_datasets.relevance.resolve import Relevance, resolve

MISSING_SHOWN = 50  # missing features a catalog explains in the report (the ones with the most anchor support)


def _peak_finder(featurizer: Featurizer, anchor: FeatureInput):
    """Peak tokens of features in anchor texts that fire them, or None without anchor texts."""
    if anchor.texts is None or anchor.rows is None:
        return None

    def peaks(ids: Sequence[int]) -> dict:
        from fac_datasets.features.peaks import PEAK_TEXTS, peak_tokens

        rows = anchor.rows
        hit = np.unique(rows.row_ids()[np.isin(rows.features, np.asarray(ids, dtype=np.int64))])[:PEAK_TEXTS]
        return peak_tokens(featurizer.extractor, [anchor.texts[i] for i in hit], ids)

    return peaks


def _reference(relevance: RelevanceConfig, config: CoverageConfig, featurizer: Featurizer):
    """The reference stats, loaded once when the quantile rule needs them (enrichment loads its own)."""
    if config.activation_rule != "quantile":
        return None
    from fac_datasets.features.reference import load_reference

    return load_reference(relevance.reference, featurizer.provenance)


def measure(
    current: Any,
    anchor: Any = None,
    *,
    relevance: Relevance | RelevanceConfig | None = None,
    config: CoverageConfig | None = None,
    task: str | None = None,
    relevant_features: Sequence[int] | None = None,
    catalog=None,
    contrast: Any = None,
    features: FeatureSpec = None,
    text_column: str | None = None,
    num_proc: int | None = None,
    progress: bool = False,
) -> CoverageReport:
    """FAC of `current` against `anchor`, relevance resolved once, every asked-for variant in the report.

    `features` is a FeatureAnnotator, a loaded FeatureExtractor or an ExtractorConfig (default: the
    embedded model and SAE). `relevance` is a resolved `Relevance` or the `RelevanceConfig` to resolve
    with `task`, `relevant_features`, `catalog` (a FeatureCatalog of this SAE) and `contrast` (any input).
    """
    if anchor is None:
        raise FacInputError("measure needs the anchor: texts, a dataset, a data file, FeatureRows or FeatureCounts.")
    config = config or CoverageConfig()
    featurizer = Featurizer(features)
    read = {"featurizer": featurizer, "column": text_column, "num_proc": num_proc, "progress": progress}
    anchor_side = read_features(anchor, name="anchor", min_count=1, **read)
    current_side = read_features(current, name="current", **read)
    settings = relevance if isinstance(relevance, RelevanceConfig) else RelevanceConfig()
    reference = _reference(settings, config, featurizer)
    if not isinstance(relevance, Relevance):
        contrast_side = read_features(contrast, name="contrast", **read) if contrast is not None else None
        relevance = resolve(
            anchor_side.counts,
            settings,
            task=task,
            ids=relevant_features,
            catalog=catalog,
            contrast=contrast_side.counts if contrast_side is not None else None,
            contrast_name=_contrast_name(contrast),
            reference=reference,
            peaks=_peak_finder(featurizer, anchor_side),
            anchor_min_support=config.anchor_min_support,
        )
    report = compute_coverage(
        anchor_side.counts,
        current_side.rows if current_side.rows is not None else current_side.counts,
        relevance.ids,
        config,
        anchor_rows=anchor_side.rows,
        reference=reference,
        relevance=relevance.description,
    )
    report.notes.extend(note for note in (anchor_side.truncation_note(), current_side.truncation_note()) if note)
    if config.mmd:
        _add_neg_mmd(report, current_side, anchor_side)
    report.notes.extend(relevance.notes)
    report.provenance["relevance"] = relevance.provenance
    if task:
        report.provenance["task"] = task
    if relevance.enrichment is not None:
        report.enrichment = relevance.enrichment.to_dict()
    if catalog is not None:
        report.missing_details = catalog.describe(report.missing_ids[:MISSING_SHOWN])
    report.anchor_counts = anchor_side.counts
    return report


def _add_neg_mmd(report: CoverageReport, current: FeatureInput, anchor: FeatureInput) -> None:
    """-MMD^2 to the anchor (higher = closer), or a note saying which side lacks texts."""
    from fac_datasets.coverage.mmd import neg_mmd

    lacking = [side.name for side in (current, anchor) if side.texts is None]
    if lacking:
        report.notes.append(f"-MMD to the anchor needs texts; the {' and '.join(lacking)} was given as counts or rows.")
        return
    report.variants["neg_mmd"] = neg_mmd(list(current.texts), list(anchor.texts))


def _contrast_name(source: Any) -> str:
    if isinstance(source, str) or hasattr(source, "__fspath__"):
        from fac_datasets.inputs import dataset_name

        return f"contrast set {dataset_name(source)}"
    return "contrast set"
