"""The catalog's stages end to end, shared by `fac interpret`, `fac relevance`, coverage and synthesis.

texts -> spans + counts -> FeatureCatalog -> relevance for a task (enrichment, then optionally the
LLM judge on the enriched candidates) -> relevant feature ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from fac_datasets.catalog.catalog import FeatureCatalog
from fac_datasets.catalog.enrichment import EnrichmentResult, enrich, log_odds_z
from fac_datasets.catalog.judge import JudgeStats, judge_features
from fac_datasets.catalog.relevance import record
from fac_datasets.catalog.spans import MinedSpans, mine_spans
from fac_datasets.config import InterpretConfig, RelevanceConfig, SpanConfig
from fac_datasets.features.counts import FeatureCounts
from fac_datasets.features.extractor import FeatureExtractor
from fac_datasets.generation.generator import Generator


def catalog_from_texts(
    extractor: FeatureExtractor,
    texts,
    work_dir: str | Path,
    config: SpanConfig | None = None,
    *,
    progress: bool = True,
) -> tuple[FeatureCatalog, MinedSpans]:
    """Mine spans (resumable in `work_dir`) and build the catalog; the mined counts come along."""
    mined = mine_spans(extractor, texts, Path(work_dir), config, progress=progress)
    return FeatureCatalog.from_spans(mined, mined.counts, extractor.provenance), mined


def enrichment_relevance(
    catalog: FeatureCatalog,
    anchor: FeatureCounts,
    reference: FeatureCounts,
    task: str,
    config: RelevanceConfig | None = None,
    *,
    reference_name: str = "reference",
) -> tuple[FeatureCatalog, EnrichmentResult]:
    """Record the enrichment verdict (yes for enriched, no otherwise, z as the score) of every catalog feature."""
    config = config or RelevanceConfig()
    result = enrich(anchor, reference, config, reference_name=reference_name)
    _, z = log_odds_z(anchor.doc_freq, anchor.n_docs, reference.doc_freq, reference.n_docs, config.prior_strength)
    enriched = set(result.features.tolist())
    verdicts = {
        feature: {
            "decision": "yes" if feature in enriched else "no",
            "score": round(float(z[feature]), 4),
            "rule": result.rule,
        }
        for feature in catalog.feature_ids
    }
    return record(catalog, task, "enrichment", verdicts), result


def llm_relevance(
    catalog: FeatureCatalog,
    generator: Generator,
    task: str,
    guideline: str,
    feature_ids: Sequence[int],
    config: InterpretConfig | None = None,
    *,
    progress: bool = False,
) -> tuple[FeatureCatalog, JudgeStats]:
    """Judge `feature_ids` against the guideline and record the decisions (they override enrichment)."""
    judged, stats = judge_features(catalog, generator, guideline, feature_ids, config, progress=progress)
    return record(catalog, task, "llm", judged), stats


def enriched_ids(result: EnrichmentResult, catalog: FeatureCatalog) -> list[int]:
    """The enriched features the catalog has rows for (all of them when the catalog was mined on the anchor)."""
    return [int(f) for f in np.asarray(result.features) if int(f) in catalog]
