"""Task relevance from three sources, combined by one documented rule, read per feature from a catalog.

Sources, most authoritative first: human labels (Argilla review), the LLM judge, statistical
enrichment. The rule: **the most authoritative source that has judged a feature decides**; a
label counts as relevant when it is yes, probably or maybe (as in the reference method). Every
source's verdict is kept under `sources`, so a report can show where each decision came from.

Recording a source's verdicts into a catalog is catalog-writing (`catalog/relevance.py::record`);
deciding from them lives here. A catalog is read through its `dataset` and `feature_ids` only,
so this module does not import `catalog/`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from fac_datasets.constants import CATALOG_RELEVANCE, RELEVANT_LABELS
from fac_datasets.errors import FacInputError

SOURCES = ("human", "llm", "enrichment")  # precedence, highest first
RULE = (
    "human label > LLM judge > statistical enrichment: the most authoritative source that judged a "
    f"feature decides; labels {'/'.join(RELEVANT_LABELS)} count as relevant"
)


def decide(sources: Mapping[str, Mapping]) -> dict:
    """The combined verdict of one feature for one task."""
    for source in SOURCES:
        verdict = sources.get(source)
        if verdict is None:
            continue
        decision = verdict["decision"]
        return {
            "relevant": decision in RELEVANT_LABELS,
            "decision": decision,
            "score": verdict.get("score"),
            "method": source,
            "sources": dict(sources),
        }
    raise FacInputError("No relevance source has judged this feature.")


def relevance_entries(catalog) -> dict[int, dict]:
    """{feature: {task: combined verdict}} for the whole catalog (one column read, no per-row access)."""
    cells = catalog.dataset[CATALOG_RELEVANCE]
    return {f: json.loads(c) if c else {} for f, c in zip(catalog.feature_ids, cells, strict=True)}


def judged_tasks(catalog) -> list[str]:
    """Tasks some source has judged in this catalog."""
    return sorted({t for entry in relevance_entries(catalog).values() for t in entry})


def catalog_relevant(catalog, task: str) -> list[int]:
    """Feature ids the combined rule calls relevant for `task`; an error if nothing was judged for it."""
    entries = relevance_entries(catalog)
    judged = {feature: entry[task] for feature, entry in entries.items() if task in entry}
    if not judged:
        tasks = sorted({t for entry in entries.values() for t in entry})
        raise FacInputError(
            f"The catalog has no relevance for task {task!r}: run `fac relevance --task {task}` first "
            f"(tasks in this catalog: {', '.join(tasks) or 'none'})."
        )
    return sorted(feature for feature, verdict in judged.items() if verdict["relevant"])
