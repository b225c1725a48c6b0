"""Which anchor features count: one `resolve()` for every source, so every entry point sees the same FAC.

Sources: given ids; a catalog's verdicts for a task (human > LLM judge > enrichment, `rule.py`);
enrichment of the anchor against a contrast set or the reference stats (`enrichment.py`); anchor
support (every feature active in the anchor, decided by coverage after its activation rule).
`RelevanceConfig.method='auto'` picks the first source given, in that order; a task named with
neither a catalog nor a contrast set means enrichment against general text, which says so loudly
(it picks genre features too: on tweets, 25 of 26 "toxicity" features were Twitter form).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from fac_datasets.config import CoverageConfig, RelevanceConfig
from fac_datasets.errors import FacConfigError, FacInputError, FacSAEError
from fac_datasets.features.counts import FeatureCounts
from fac_datasets.relevance.enrichment import EnrichmentResult, enrich
from fac_datasets.relevance.rule import RULE, catalog_relevant, judged_tasks

PeakFinder = Callable[[Sequence[int]], dict]  # feature ids -> {feature: (peak token, texts)}
NAMED_FEATURES = 5  # features the loud note names with their peak tokens


@dataclass
class Relevance:
    """The features that count, where they came from, and what a reader must know about them.

    Attributes:
        ids: relevant feature ids, or None for anchor support (coverage applies its activation rule first).
        description: one line for reports ("12 features enriched vs contrast set ...").
        notes: warnings a report must carry (a task judged by enrichment against general text, a fallback).
        provenance: method, task, what enrichment was against, and the catalog rule when used.
        enrichment: the enrichment result when enrichment decided (z-scores, supports; enrichment.json).
    """

    ids: list[int] | None
    description: str | None
    notes: list[str] = field(default_factory=list)
    provenance: dict = field(default_factory=dict)
    enrichment: EnrichmentResult | None = None


def relevance_from_enrichment(result: EnrichmentResult) -> tuple[list[int], str]:
    """(relevant ids, description) from an `EnrichmentResult`; an empty result is an error with the fix."""
    if len(result) == 0:
        raise FacInputError(
            f"No feature passed the enrichment rule ({result.rule}). Lower min_z or min_support, "
            "use a larger anchor set, or pick another reference or contrast set."
        )
    return result.features.tolist(), f"{len(result)} features {result.rule}"


def _method(config: RelevanceConfig, task, ids, catalog, contrast) -> str:
    """The source that decides, with contradictions refused (one line each)."""
    method = config.method
    if ids is not None and method not in ("auto", "ids"):
        raise FacConfigError(
            f"Relevant feature ids give the features themselves: drop them, or use method ids (not {method})."
        )
    if catalog is not None and method not in ("auto", "catalog"):
        raise FacConfigError(
            f"A catalog gives the relevant features itself: drop it, or use method catalog (not {method})."
        )
    if contrast is not None and method in ("anchor-support", "ids"):
        raise FacConfigError(f"A contrast set is for enrichment: drop it, or use method enrichment (not {method}).")
    if catalog is not None and not task:
        raise FacConfigError("--catalog needs --task (catalog= needs task=): a catalog holds its verdicts per task.")
    if method == "ids" and ids is None:
        raise FacConfigError("Relevance method ids needs the ids (--relevant-features FILE, relevant_features=[...]).")
    if method == "catalog" and catalog is None:
        raise FacConfigError("Relevance method catalog needs a feature catalog (--catalog DIR, catalog=...).")
    if method != "auto":
        return method
    if ids is not None:
        return "ids"
    if catalog is not None and task in judged_tasks(catalog):
        return "catalog"
    if contrast is not None or task:
        return "enrichment"
    return "anchor-support"


def _peak_line(features: Sequence[int], catalog, peaks: PeakFinder | None) -> str:
    """'812 ('@' in 30 texts), 77 (...)': the top features named by what they fire on, when known."""
    shown = [int(f) for f in features[:NAMED_FEATURES]]
    found: dict[int, str] = {}
    if catalog is not None:
        for feature, info in catalog.describe(shown, spans=0, tokens=1).items():
            if info["peak_tokens"]:
                found[feature] = f"peaks on {info['peak_tokens'][0]}"
    elif peaks is not None:
        for feature, (token, n) in peaks(shown).items():
            found[feature] = f"peaks on {token!r} in {n} anchor texts"
    return ", ".join(f"{f} ({found[f]})" if f in found else str(f) for f in shown)


def _general_text_note(task: str, result: EnrichmentResult, catalog, peaks: PeakFinder | None) -> str:
    top = _peak_line(result.features.tolist(), catalog, peaks)
    return (
        f"Task {task!r}: relevance is statistical enrichment of the anchor against general text (the reference "
        "stats), not a reviewed catalog or a contrast set, so it may pick genre features (form, markup, URLs, "
        f"names) as well as the task's. Top features by z: {top}. Pass a contrast set "
        "(--contrast, contrast=): the same genre without the task, or the anchor's negative labels."
    )


def _anchor_support(support: int, task: str | None, why: str) -> Relevance:
    notes = []
    if task:
        notes.append(
            f"Task {task!r} was named, but {why}: relevance is anchor support >= {support}, not task relevance "
            "(every feature active in the anchor counts, so FAC is close to a vocabulary measure). Pass a catalog, "
            "a contrast set or relevant feature ids to restrict it."
        )
    provenance = {"method": "anchor-support", "task": task}
    return Relevance(None, f"anchor support >= {support} ({why})" if task else None, notes, provenance)


def resolve(
    anchor: FeatureCounts,
    config: RelevanceConfig | None = None,
    *,
    task: str | None = None,
    ids: Sequence[int] | None = None,
    catalog=None,
    contrast: FeatureCounts | None = None,
    contrast_name: str = "contrast set",
    reference=None,
    peaks: PeakFinder | None = None,
    anchor_min_support: int = CoverageConfig.default_of("anchor_min_support"),
) -> Relevance:
    """The relevant features of `anchor` for `task` from whichever source `config.method` picks.

    `catalog` is a FeatureCatalog of the anchor's SAE (checked); `contrast` the counts of a contrast
    set; `reference` loaded `ReferenceStats` (default: `config.reference`, loaded when needed);
    `peaks(ids)` names features by their peak tokens in the loud note when no catalog does.
    """
    config = config or RelevanceConfig()
    method = _method(config, task, ids, catalog, contrast)
    if catalog is not None and anchor.provenance:
        catalog.check_fits(anchor.provenance)
    base = {"method": method, "task": task}
    if method == "anchor-support":
        why = "anchor support was asked for" if config.method == "anchor-support" else "no catalog or contrast set"
        return _anchor_support(anchor_min_support, task, why)
    if method == "ids":
        chosen = sorted({int(f) for f in ids})
        return Relevance(chosen, f"{len(chosen)} given feature ids", [], base)
    if method == "catalog":
        chosen = catalog_relevant(catalog, task)
        return Relevance(
            chosen, f"{len(chosen)} features relevant to {task!r} in the catalog ({RULE})", [], {**base, "rule": RULE}
        )
    notes = []
    if catalog is not None:
        notes.append(f"The catalog has no relevance verdicts for task {task!r}: enrichment decides.")
    try:
        against, name = enrichment_against(anchor, config, contrast, contrast_name, reference)
    except (FacSAEError, FacInputError) as exc:
        if contrast is not None or config.method != "auto" or config.reference != "default":
            raise
        why = f"there is no feature catalog or contrast set, and no reference stats fit this SAE ({exc})"
        fallback = _anchor_support(anchor_min_support, task, why)
        fallback.notes[:0] = notes
        return fallback
    result = enrich(anchor, against, config, reference_name=name)
    chosen, description = relevance_from_enrichment(result)
    if task and contrast is None:
        notes.append(_general_text_note(task, result, catalog, peaks))
    elif task:
        notes.append(f"Task {task!r}: relevance is statistical enrichment of the anchor against the {name}.")
    return Relevance(chosen, description, notes, {**base, "against": name, "rule": result.rule}, result)


def enrichment_against(
    anchor: FeatureCounts,
    config: RelevanceConfig,
    contrast: FeatureCounts | None = None,
    contrast_name: str = "contrast set",
    reference=None,
) -> tuple[FeatureCounts, str]:
    """(counts, name) enrichment compares the anchor with: the contrast set if given, else the reference stats."""
    if contrast is not None:
        return contrast, contrast_name
    if reference is None:
        from fac_datasets.features.reference import load_reference

        reference = load_reference(config.reference, anchor.provenance or None)
    corpus = reference.meta.get("corpus")
    label = corpus.get("name") if isinstance(corpus, dict) else corpus
    return reference.counts, f"reference {label or config.reference}"
