"""The catalog's stages end to end, shared by `fac interpret`, `fac relevance`, coverage and synthesis.

texts -> spans + counts -> FeatureCatalog -> relevance for a task (enrichment, then optionally the
LLM judge on the enriched candidates) -> relevant feature ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from fac_datasets.catalog.catalog import FeatureCatalog
from fac_datasets.catalog.judge import JudgeStats, judge_features
from fac_datasets.catalog.relevance import record
from fac_datasets.catalog.spans import MinedSpans, mine_spans
from fac_datasets.config import InterpretConfig, RelevanceConfig, SpanConfig
from fac_datasets.features.counts import FeatureCounts
from fac_datasets.features.extractor import FeatureExtractor
from fac_datasets.generation.generator import Generator
from fac_datasets.relevance.enrichment import EnrichmentResult, enrich


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
    """Score enrichment of `anchor` against `reference` and record it for `task` (see `record_enrichment`)."""
    result = enrich(anchor, reference, config or RelevanceConfig(), reference_name=reference_name)
    return record_enrichment(catalog, task, result), result


def record_enrichment(catalog: FeatureCatalog, task: str, result: EnrichmentResult) -> FeatureCatalog:
    """Record the enrichment verdict (yes for enriched, no otherwise, z as the score) of every catalog feature."""
    enriched = set(result.features.tolist())
    verdicts = {
        feature: {
            "decision": "yes" if feature in enriched else "no",
            "score": round(float(result.all_z[feature]), 4) if result.all_z is not None else None,
            "rule": result.rule,
        }
        for feature in catalog.feature_ids
    }
    return record(catalog, task, "enrichment", verdicts)


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


def judge_relevance(
    catalog: FeatureCatalog,
    task: str,
    method: str,
    *,
    anchor: FeatureCounts | None = None,
    contrast: FeatureCounts | None = None,
    contrast_name: str = "contrast set",
    config: RelevanceConfig | None = None,
    generator: str = "default",
    limits=None,
    guideline: str | None = None,
    features: str | None = None,
) -> tuple[FeatureCatalog, dict]:
    """`fac relevance`: record enrichment (vs the contrast set or the reference) and/or the LLM judge's
    verdicts for `task`; (updated catalog, summary). The judge sees the enriched features unless `features`;
    `limits` (a GeneratorConfig) bounds its calls."""
    from fac_datasets.catalog.selection import parse_feature_selection
    from fac_datasets.errors import FacConfigError
    from fac_datasets.generation import load_generator
    from fac_datasets.relevance.resolve import enrichment_against
    from fac_datasets.relevance.rule import catalog_relevant

    if method not in ("enrichment", "llm", "all"):
        raise FacConfigError(f"--method must be enrichment, llm or all, got {method!r}.")
    config = config or RelevanceConfig()
    summary: dict = {"task": task, "method": method}
    candidates = None
    if method in ("enrichment", "all"):
        against, name = enrichment_against(anchor, config, contrast, contrast_name)
        catalog, result = enrichment_relevance(catalog, anchor, against, task, config, reference_name=name)
        candidates = enriched_ids(result, catalog)
        summary["enrichment"] = {"rule": result.rule, "enriched": len(result), "in_catalog": len(candidates)}
    if method in ("llm", "all"):
        ids = parse_feature_selection(features, catalog) if features or candidates is None else candidates
        with load_generator(generator, limits) as llm:
            catalog, stats = llm_relevance(catalog, llm, task, guideline, ids, progress=True)
            summary["llm"] = {**stats.to_dict(), "generator": llm.generator_id, **llm.stats.to_dict()}
    summary["relevant"] = len(catalog_relevant(catalog, task))
    return catalog, summary
