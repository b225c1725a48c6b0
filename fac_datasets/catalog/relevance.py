"""Recording a relevance source's verdicts into a catalog (the deciding rule is `relevance/rule.py`)."""

from __future__ import annotations

from collections.abc import Mapping

from fac_datasets.catalog.catalog import FeatureCatalog
from fac_datasets.constants import CATALOG_RELEVANCE, RELEVANCE_LABELS
from fac_datasets.errors import FacInputError
from fac_datasets.relevance.rule import SOURCES, decide


def record(catalog: FeatureCatalog, task: str, source: str, verdicts: Mapping[int, Mapping]) -> FeatureCatalog:
    """Add one source's verdicts ({feature: {decision, score?, ...provenance}}) and re-decide those features."""
    if source not in SOURCES:
        raise FacInputError(f"Unknown relevance source {source!r}; sources are {', '.join(SOURCES)}.")
    updates = {}
    for feature, verdict in verdicts.items():
        if verdict.get("decision") not in RELEVANCE_LABELS:
            raise FacInputError(
                f"Feature {feature}: decision must be one of {'/'.join(RELEVANCE_LABELS)}, got {verdict!r}."
            )
        current = (catalog.row(feature)[CATALOG_RELEVANCE] or {}).get(task, {})
        sources = {**current.get("sources", {}), source: dict(verdict)}
        updates[feature] = {CATALOG_RELEVANCE: {task: decide(sources)}}
    return catalog.update(updates) if updates else catalog
