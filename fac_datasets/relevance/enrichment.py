"""Task relevance by statistical enrichment: features more common in the anchor than in a reference.

With a generic SAE nearly every latent is active somewhere in any anchor set, so "relevant =
active in the anchor" makes FAC measure length and size. Enrichment keeps the features whose
presence is more likely in anchor texts than in a reference set, scored with the log-odds ratio
under an informative Dirichlet prior (Monroe, Colaresi & Quinn 2008, "Fightin' Words").

Counts are document frequencies: each feature is a two-outcome vocabulary (present / absent in a
text), so for feature f with anchor support a of N_a texts and reference support r of N_r,

    delta_f = log((a + alpha_f) / (N_a - a + beta_f)) - log((r + alpha_f) / (N_r - r + beta_f))
    var_f   = 1/(a + alpha_f) + 1/(N_a - a + beta_f) + 1/(r + alpha_f) + 1/(N_r - r + beta_f)
    z_f     = delta_f / sqrt(var_f)

with alpha_f = s * p_f and beta_f = s * (1 - p_f), p_f the pooled presence rate and s the prior
strength in pseudo-texts. The prior shrinks rare features (a few texts, no reference support)
toward 0 instead of giving them infinite log-odds.

The reference decides what "enriched" means. A general corpus (the shipped reference stats)
picks up genre as well as task (tweets: hashtags and @user next to profanity). A **contrast set**
separates them: the same genre without the task, or the anchor's own negative labels. It is just
another `FeatureCounts` passed as `reference`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fac_datasets.config import RelevanceConfig
from fac_datasets.errors import FacInputError
from fac_datasets.features.counts import FeatureCounts


@dataclass(frozen=True)
class EnrichmentResult:
    """Relevant features ranked by z (strongest first), with the arrays they were chosen on.

    Attributes:
        features: relevant feature ids, by z descending (ties by id).
        z: their z-scores; log_odds: their log-odds ratios (anchor vs reference).
        anchor_doc_freq, reference_doc_freq: their supports (texts in which each is active).
        n_anchor, n_reference: texts counted on each side.
        rule: one line for reports ("enriched vs reference ...: log-odds z >= ..., anchor support >= ...").
        all_z: [d_sae] z of every feature (a catalog records it as each feature's enrichment score).
    """

    features: np.ndarray
    z: np.ndarray
    log_odds: np.ndarray
    anchor_doc_freq: np.ndarray
    reference_doc_freq: np.ndarray
    n_anchor: int
    n_reference: int
    rule: str
    all_z: np.ndarray | None = field(default=None, repr=False, compare=False)

    def __len__(self) -> int:
        return int(self.features.size)

    def to_dict(self) -> dict:
        return {
            "rule": self.rule,
            "n_anchor": self.n_anchor,
            "n_reference": self.n_reference,
            "features": self.features.tolist(),
            "z": self.z.astype(float).round(4).tolist(),
            "log_odds": self.log_odds.astype(float).round(4).tolist(),
            "anchor_doc_freq": self.anchor_doc_freq.tolist(),
            "reference_doc_freq": self.reference_doc_freq.tolist(),
        }


def log_odds_z(
    anchor_df: np.ndarray, n_anchor: int, reference_df: np.ndarray, n_reference: int, prior_strength: float
) -> tuple[np.ndarray, np.ndarray]:
    """([d] log-odds ratio, [d] z-score) of presence in anchor vs reference, informative prior."""
    a = np.asarray(anchor_df, dtype=np.float64)
    r = np.asarray(reference_df, dtype=np.float64)
    total = n_anchor + n_reference
    pooled = np.clip((a + r) / total, 0.5 / total, 1 - 0.5 / total)  # never 0 or 1: every term stays finite
    alpha, beta = prior_strength * pooled, prior_strength * (1 - pooled)
    present_a, absent_a = a + alpha, n_anchor - a + beta
    present_r, absent_r = r + alpha, n_reference - r + beta
    delta = np.log(present_a / absent_a) - np.log(present_r / absent_r)
    variance = 1 / present_a + 1 / absent_a + 1 / present_r + 1 / absent_r
    return delta, delta / np.sqrt(variance)


def enrich(
    anchor: FeatureCounts,
    reference: FeatureCounts,
    config: RelevanceConfig | None = None,
    *,
    reference_name: str = "reference",
) -> EnrichmentResult:
    """Features enriched in `anchor` against `reference` (a general corpus or a contrast set).

    Relevant: anchor support >= `min_support` and one-sided z >= `min_z`, capped to the `top_k`
    highest z when set. `reference_name` names the reference in the rule line.
    """
    config = config or RelevanceConfig()
    anchor.check_same_setup(reference, "score enrichment of")
    if anchor.n_docs == 0:
        raise FacInputError("The anchor set is empty: there is nothing to score enrichment on.")
    if reference.n_docs == 0:
        raise FacInputError(
            f"The {reference_name} counts are empty: enrichment needs reference texts. "
            "Pass reference stats built with `fac reference-counts`, or a non-empty contrast set."
        )
    delta, z = log_odds_z(anchor.doc_freq, anchor.n_docs, reference.doc_freq, reference.n_docs, config.prior_strength)
    keep = np.flatnonzero((anchor.doc_freq >= config.min_support) & (z >= config.min_z))
    keep = keep[np.lexsort((keep, -z[keep]))]  # z descending, then id
    if config.top_k is not None:
        keep = keep[: config.top_k]
    cap = f", top {config.top_k} by z" if config.top_k is not None else ""
    rule = (
        f"enriched vs {reference_name} ({reference.n_docs} texts): log-odds z >= {config.min_z:g}, "
        f"anchor support >= {config.min_support}{cap} (prior strength {config.prior_strength:g})"
    )
    return EnrichmentResult(
        features=keep,
        z=z[keep],
        log_odds=delta[keep],
        anchor_doc_freq=anchor.doc_freq[keep].copy(),
        reference_doc_freq=reference.doc_freq[keep].copy(),
        n_anchor=anchor.n_docs,
        n_reference=reference.n_docs,
        rule=rule,
        all_z=z,
    )
