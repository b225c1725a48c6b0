"""Feature Activation Coverage: which task-relevant anchor features the current data activates.

FAC = |relevant anchor features active in current| / |relevant anchor features|. Relevant
features are given explicitly (ids decided by `relevance.resolve`: a catalog, enrichment, a list)
or, without them, taken as the features active in at least `anchor_min_support` anchor samples.
With a generic SAE the latter is nearly every latent, so FAC then says more about length and
size than about the task: the report therefore carries tokens per text and a rarefaction curve,
and `variants` puts soft coverage, token-budget FAC (and, from `measure`, -MMD to the anchor)
next to it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from fac_datasets.config import CoverageConfig
from fac_datasets.coverage.variants import activation_floor, filter_rows, soft_coverage, token_budget_coverage
from fac_datasets.errors import FacInputError
from fac_datasets.features.counts import FeatureCounts
from fac_datasets.features.rows import FeatureRows


@dataclass
class MissingFeature:
    feature: int
    anchor_support: int
    anchor_max_activation: float
    current_support: int


@dataclass
class CoverageReport:
    """FAC with what it rests on; serialises to coverage.json."""

    fac: float
    n_relevant: int
    n_covered: int
    covered: list[int]
    missing: list[MissingFeature]
    relevance: str
    thresholds: dict
    n_anchor: int
    n_current: int
    anchor_mean_tokens: float | None
    current_mean_tokens: float | None
    rarefaction: list[dict] = field(default_factory=list)
    provenance: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    activation_rule: str = "any: pooled activation > the extractor threshold"
    variants: dict = field(default_factory=dict)
    missing_details: dict = field(default_factory=dict)  # feature -> explanation, peak tokens, spans (a catalog's)
    enrichment: dict | None = None  # z-scores and supports when enrichment chose the relevant features
    anchor_counts: FeatureCounts | None = field(default=None, repr=False, compare=False)  # for plots; not in JSON

    @property
    def missing_ids(self) -> list[int]:
        return [m.feature for m in self.missing]

    def to_dict(self) -> dict:
        data = asdict(replace(self, anchor_counts=None))
        data.pop("anchor_counts")
        return data


def relevant_set(
    anchor: FeatureCounts, relevant: Iterable[int] | None, min_support: int, description: str | None = None
) -> tuple[np.ndarray, str]:
    """The relevant set and a one-line description of where it came from (`description` overrides it)."""
    if relevant is None:
        ids = anchor.active(min_support)
        return ids, f"anchor support >= {min_support} (no relevance filter: every latent active in the anchor)"
    ids = np.unique(np.asarray(list(relevant), dtype=np.int64))
    out_of_range = ids[(ids < 0) | (ids >= anchor.d_sae)]
    if out_of_range.size:
        raise FacInputError(
            f"Relevant feature ids {out_of_range[:5].tolist()} are outside 0..{anchor.d_sae - 1} "
            f"(the SAE has {anchor.d_sae} features)."
        )
    return ids, description or f"{ids.size} given feature ids"


def _fac(current_doc_freq: np.ndarray, relevant: np.ndarray, min_support: int) -> float:
    return float((current_doc_freq[relevant] >= min_support).mean()) if relevant.size else 0.0


def _first_covered_at(current: FeatureRows, order: np.ndarray, d_sae: int, min_support: int) -> np.ndarray:
    """[d_sae] smallest prefix length of `order` at which each feature reaches `min_support` rows."""
    rank = np.empty(current.n_rows, dtype=np.int64)
    rank[order] = np.arange(1, current.n_rows + 1)
    entry_rank = rank[current.row_ids()]
    never = np.iinfo(np.int64).max
    if min_support == 1:  # one pass: the earliest row that has the feature
        first = np.full(d_sae, never, dtype=np.int64)
        np.minimum.at(first, current.features, entry_rank)
        return first
    by_feature = np.lexsort((entry_rank, current.features))  # ranks sorted within each feature
    features, ranks = current.features[by_feature], entry_rank[by_feature]
    starts = np.searchsorted(features, np.arange(d_sae))
    counts = np.bincount(features, minlength=d_sae)
    first = np.full(d_sae, never, dtype=np.int64)
    enough = counts >= min_support
    first[enough] = ranks[starts[enough] + min_support - 1]
    return first


def rarefaction(current: FeatureRows, relevant: np.ndarray, d_sae: int, config: CoverageConfig) -> list[dict]:
    """FAC of growing random subsets of the current rows: does coverage saturate?

    Each seed is one random ordering of the rows and every size takes a prefix of it, so each
    curve (and their mean) never falls as the subset grows. A feature's first covering prefix
    is computed once per ordering, so the whole curve costs one pass over the rows per seed.
    """
    sizes = sorted({max(1, int(round(f * current.n_rows))) for f in config.rarefaction_fractions if f > 0})
    values = np.zeros((config.rarefaction_seeds, len(sizes)))
    for seed in range(config.rarefaction_seeds):
        order = np.random.default_rng(seed).permutation(current.n_rows)
        first = _first_covered_at(current, order, d_sae, config.current_min_support)[relevant]
        values[seed] = [(first <= size).mean() for size in sizes]
    return [
        {
            "n": size,
            "fac_mean": float(values[:, i].mean()),
            "fac_std": float(values[:, i].std()),
            "runs": config.rarefaction_seeds,
        }
        for i, size in enumerate(sizes)
    ]


def _apply_activation_rule(
    anchor: FeatureCounts,
    rows: FeatureRows | None,
    anchor_rows: FeatureRows | None,
    config: CoverageConfig,
    reference,
    notes: list[str],
) -> tuple[FeatureCounts, FeatureRows | None, str]:
    """Filter current (and anchor) rows by the activation rule; (anchor counts, current rows, rule)."""
    if config.activation_rule == "quantile" and reference is None:
        from fac_datasets.features.reference import load_reference

        reference = load_reference("default", anchor.provenance or None)
    elif reference is not None and anchor.provenance:
        reference.check_provenance(anchor.provenance)
    floor, rule = activation_floor(config, anchor, reference)
    if floor is None:
        return anchor, rows, rule
    if rows is None:
        raise FacInputError(
            f"activation_rule={config.activation_rule!r} needs the current samples' features (FeatureRows), "
            "not counts: pass the annotated rows."
        )
    rows = filter_rows(rows, floor)
    if anchor_rows is not None:
        anchor = FeatureCounts.from_rows(filter_rows(anchor_rows, floor), anchor.d_sae, anchor.provenance)
    else:
        notes.append(
            "The anchor was given as counts, so the activation rule applies to the current set only; "
            "anchor support counts every activation above the threshold."
        )
    return anchor, rows, rule


def compute_coverage(
    anchor: FeatureCounts,
    current: FeatureCounts | FeatureRows,
    relevant: Sequence[int] | None = None,
    config: CoverageConfig | None = None,
    *,
    anchor_rows: FeatureRows | None = None,
    reference=None,
    relevance: str | None = None,
) -> CoverageReport:
    """FAC of `current` against `anchor`; pass rows (not counts) to get the rarefaction curve.

    `anchor_rows` (the anchor's samples) lets a non-'any' activation rule filter the anchor too;
    `reference` is the `ReferenceStats` of the quantile rule (default: the shipped ones);
    `relevance` describes explicit `relevant` ids in the report (`relevance.resolve` gives both).
    """
    config = config or CoverageConfig()
    if anchor.n_docs == 0:
        raise FacInputError("The anchor set is empty: there are no anchor features to cover.")
    if config.token_budget is not None and not isinstance(current, FeatureRows):
        raise FacInputError("token_budget needs the current samples' features (FeatureRows), not counts.")
    notes: list[str] = []
    rows = current if isinstance(current, FeatureRows) else None
    if rows is None:
        anchor.check_same_setup(current, "compare anchor and current")
    anchor, rows, rule = _apply_activation_rule(anchor, rows, anchor_rows, config, reference, notes)
    counts = FeatureCounts.from_rows(rows, anchor.d_sae, anchor.provenance) if rows is not None else current
    anchor.check_same_setup(counts, "compare anchor and current")
    relevant_ids, relevance = relevant_set(anchor, relevant, config.anchor_min_support, relevance)
    if relevant_ids.size == 0:
        raise FacInputError(
            f"No relevant features: nothing is active in >= {config.anchor_min_support} anchor samples. "
            "Lower anchor_min_support or use a larger anchor set."
        )
    if counts.n_docs == 0:
        notes.append("The current set is empty: FAC is 0 by definition.")
    covered_mask = counts.doc_freq[relevant_ids] >= config.current_min_support
    missing_ids = relevant_ids[~covered_mask]
    order = np.lexsort((missing_ids, -anchor.doc_freq[missing_ids]))  # most supported first, then by id
    missing = [
        MissingFeature(int(f), int(anchor.doc_freq[f]), float(anchor.max_activation[f]), int(counts.doc_freq[f]))
        for f in missing_ids[order]
    ]
    variants = {
        "binary_fac": float(covered_mask.mean()),
        "soft_fac": soft_coverage(counts.doc_freq, relevant_ids, config.soft_support),
        "soft_support": config.soft_support,
        "token_budget": (
            token_budget_coverage(rows, relevant_ids, anchor.d_sae, config, notes)
            if config.token_budget is not None and rows is not None
            else None
        ),
        "activation_rule": config.activation_rule,
        "neg_mmd": None,
    }
    return CoverageReport(
        fac=float(covered_mask.mean()),
        n_relevant=int(relevant_ids.size),
        n_covered=int(covered_mask.sum()),
        covered=relevant_ids[covered_mask].tolist(),
        missing=missing,
        relevance=relevance,
        thresholds={"anchor_min_support": config.anchor_min_support, "current_min_support": config.current_min_support},
        n_anchor=anchor.n_docs,
        n_current=counts.n_docs,
        anchor_mean_tokens=anchor.mean_tokens,
        current_mean_tokens=counts.mean_tokens,
        rarefaction=rarefaction(rows, relevant_ids, anchor.d_sae, config) if rows is not None and rows.n_rows else [],
        provenance=dict(anchor.provenance),
        notes=notes,
        activation_rule=rule,
        variants=variants,
    )
