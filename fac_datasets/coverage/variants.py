"""FAC variants that are not saturated or length-driven: soft coverage, token budget, activation rules.

On a CPU-scale study (shared notes, "fac-at-cpu-scale") binary FAC over every anchor latent sat at
0.89-1.00 and tracked tokens per text. What carried signal was relevance + a fixed token budget +
soft coverage + a per-feature activation threshold. These are offered next to binary FAC, not
instead of it: defaults are for a validation study to choose.
"""

from __future__ import annotations

import numpy as np

from fac_datasets.config import CoverageConfig
from fac_datasets.errors import FacInputError
from fac_datasets.features.counts import FeatureCounts
from fac_datasets.features.rows import FeatureRows


# ------------------------------------------------------------------ soft coverage
def soft_coverage(current_doc_freq: np.ndarray, relevant: np.ndarray, soft_support: int) -> float:
    """Mean over relevant features of min(1, current support / soft_support).

    Binary FAC counts a feature seen once as fully covered; this keeps rising until each relevant
    feature is seen `soft_support` times, so it saturates later.
    """
    if relevant.size == 0:
        return 0.0
    return float(np.minimum(1.0, current_doc_freq[relevant] / soft_support).mean())


# ------------------------------------------------------------------ token budget
def budget_rows(rows: FeatureRows, budget: int, seed: int) -> np.ndarray:
    """Row ids of a seeded whole-sample subset: shuffle, then take rows until `budget` tokens are reached.

    The row that reaches the budget is included, so the subset holds at least `budget` tokens
    (or every row, when the set has fewer).
    """
    order = np.random.default_rng(seed).permutation(rows.n_rows)
    tokens = np.cumsum(rows.n_tokens[order])
    take = int(np.searchsorted(tokens, budget, side="left")) + 1
    return order[: min(take, rows.n_rows)]


def token_budget_coverage(
    rows: FeatureRows, relevant: np.ndarray, d_sae: int, config: CoverageConfig, notes: list[str] | None = None
) -> dict:
    """Binary and soft FAC of current subsets of `config.token_budget` content tokens, over seeds.

    Sets compared at the same number of tokens no longer win by having longer texts.
    """
    budget = config.token_budget
    if budget is None:
        raise FacInputError("token_budget_coverage needs config.token_budget (content tokens per subset).")
    if rows.n_rows and (rows.n_tokens < 0).any():
        raise FacInputError(
            "The token budget needs each current sample's token count (column fac_n_tokens); "
            "annotate the data again with FeatureAnnotator."
        )
    total = int(rows.n_tokens.sum())
    if total < budget and notes is not None:
        notes.append(
            f"The current set has {total} content tokens, fewer than the token budget {budget}: "
            "the token-budget FAC uses the whole set."
        )
    binary, soft, n_rows, n_tokens = [], [], [], []
    for seed in range(config.budget_seeds):
        subset = rows.take(budget_rows(rows, budget, seed))
        doc_freq = np.bincount(subset.features, minlength=d_sae)
        binary.append(float((doc_freq[relevant] >= config.current_min_support).mean()) if relevant.size else 0.0)
        soft.append(soft_coverage(doc_freq, relevant, config.soft_support))
        n_rows.append(subset.n_rows)
        n_tokens.append(int(subset.n_tokens.sum()))
    return {
        "tokens": budget,
        "seeds": config.budget_seeds,
        "fac_mean": float(np.mean(binary)),
        "fac_std": float(np.std(binary)),
        "soft_fac_mean": float(np.mean(soft)),
        "soft_fac_std": float(np.std(soft)),
        "rows_mean": float(np.mean(n_rows)),
        "tokens_mean": float(np.mean(n_tokens)),
        "whole_set": total <= budget,
    }


# ------------------------------------------------------------------ activation rules
def filter_rows(rows: FeatureRows, floor: np.ndarray) -> FeatureRows:
    """Keep entries whose activation >= floor[feature]; a NaN floor keeps the feature as it is."""
    floors = floor[rows.features]
    keep = ~(rows.activations < floors)  # NaN compares False: kept
    per_row = np.bincount(rows.row_ids()[keep], minlength=rows.n_rows)
    offsets = np.concatenate([[0], np.cumsum(per_row)]).astype(np.int64)
    return FeatureRows(offsets, rows.features[keep], rows.activations[keep], rows.n_tokens.copy())


def activation_floor(config: CoverageConfig, anchor: FeatureCounts, reference=None) -> tuple[np.ndarray | None, str]:
    """([d_sae] minimum pooled activation per feature, or None for 'any'; a one-line description).

    `reference` is a `ReferenceStats` (needed by the quantile rule).
    """
    rule = config.activation_rule
    if rule == "any":
        return None, "any: pooled activation > the extractor threshold"
    if rule == "fraction_of_max":
        f = config.activation_fraction
        return f * anchor.max_activation.astype(np.float32), f"fraction_of_max: pooled activation >= {f:g} x anchor max"
    if reference is None:
        raise FacInputError(
            "activation_rule='quantile' needs reference stats (per-feature activation quantiles): pass "
            "reference=load_reference(...) or build them with `fac reference-counts`."
        )
    if reference.d_sae != anchor.d_sae:
        raise FacInputError(
            f"The reference stats cover {reference.d_sae} features, the anchor {anchor.d_sae}: different SAEs."
        )
    floor = reference.quantile(config.activation_quantile).astype(np.float32)
    unseen = int(np.isnan(floor).sum())
    tail = f"; {unseen} features never active on the reference keep > threshold" if unseen else ""
    q = config.activation_quantile
    return floor, f"quantile: pooled activation >= the feature's q={q:g} quantile on the reference{tail}"
