"""Statistical enrichment (log-odds with an informative Dirichlet prior) on synthetic counts."""

from __future__ import annotations

import numpy as np
import pytest

from fac_datasets.config import RelevanceConfig
from fac_datasets.errors import FacConfigError, FacInputError
from fac_datasets.features.counts import FeatureCounts
from fac_datasets.relevance.enrichment import enrich, log_odds_z
from fac_datasets.relevance.resolve import relevance_from_enrichment

D = 20
N_ANCHOR, N_REF = 500, 5000
PLANTED, WEAK, RARE = 7, 11, 13


def counts(n_docs: int, doc_freq: dict[int, int], provenance: dict | None = None) -> FeatureCounts:
    c = FeatureCounts(D, n_docs=n_docs, n_tokens=10 * n_docs, provenance=provenance or {})
    for feature, df in doc_freq.items():
        c.doc_freq[feature] = df
    return c


def planted_pair() -> tuple[FeatureCounts, FeatureCounts]:
    common = {f: int(0.5 * N_ANCHOR) for f in range(5)}  # same 50% rate on both sides
    anchor = counts(N_ANCHOR, {**common, PLANTED: int(0.4 * N_ANCHOR), WEAK: int(0.05 * N_ANCHOR), RARE: 4})
    ref_common = {f: int(0.5 * N_REF) for f in range(5)}
    reference = counts(N_REF, {**ref_common, PLANTED: int(0.01 * N_REF), WEAK: int(0.01 * N_REF), RARE: 0})
    return anchor, reference


def test_planted_feature_ranks_first_and_common_features_are_not_relevant():
    anchor, reference = planted_pair()
    result = enrich(anchor, reference)
    assert result.features[0] == PLANTED
    assert result.z[0] > 10 and result.log_odds[0] > np.log(30)  # odds 0.4/0.6 vs 0.01/0.99
    assert set(result.features.tolist()) == {PLANTED, WEAK}
    assert not set(range(5)) & set(result.features.tolist())
    assert result.anchor_doc_freq[0] == 200 and result.reference_doc_freq[0] == 50
    assert list(result.z) == sorted(result.z, reverse=True)
    assert "z >= 3" in result.rule and "anchor support >= 5" in result.rule


def test_high_ratio_below_min_support_is_excluded():
    anchor, reference = planted_pair()
    _, z = log_odds_z(anchor.doc_freq, N_ANCHOR, reference.doc_freq, N_REF, 10.0)
    assert z[RARE] > 0  # 4 of 500 vs 0 of 5000: enriched, but too rare to trust
    everything = enrich(anchor, reference, RelevanceConfig(min_z=-100, min_support=5))
    assert RARE not in everything.features
    assert RARE in enrich(anchor, reference, RelevanceConfig(min_z=0, min_support=4)).features


def test_common_features_score_zero_and_the_prior_keeps_absent_features_finite():
    anchor, reference = planted_pair()
    delta, z = log_odds_z(anchor.doc_freq, N_ANCHOR, reference.doc_freq, N_REF, 10.0)
    assert np.allclose(delta[:5], 0, atol=1e-9) and np.allclose(z[:5], 0, atol=1e-9)
    assert np.isfinite(delta).all() and np.isfinite(z).all()
    stronger = log_odds_z(anchor.doc_freq, N_ANCHOR, reference.doc_freq, N_REF, 1000.0)[0]
    assert abs(stronger[RARE]) < abs(delta[RARE])  # more prior, more shrinkage


def test_top_k_caps_and_one_sided():
    anchor, reference = planted_pair()
    assert enrich(anchor, reference, RelevanceConfig(top_k=1)).features.tolist() == [PLANTED]
    # swapped: the planted feature is depleted in the "anchor", so it is never relevant
    assert PLANTED not in enrich(reference, anchor, RelevanceConfig(min_z=0)).features


def test_contrast_set_is_just_another_reference():
    anchor, reference = planted_pair()
    contrast = counts(N_ANCHOR, {**dict.fromkeys(range(5), 250), PLANTED: 200, WEAK: 5})  # same genre, no task
    result = enrich(anchor, contrast, reference_name="contrast set negatives")
    assert result.features.tolist() == [WEAK]  # PLANTED is genre here, not task
    assert "contrast set negatives" in result.rule


def test_errors_name_the_fix():
    anchor, reference = planted_pair()
    with pytest.raises(FacInputError, match="different setups"):
        enrich(counts(10, {1: 3}, {"sae": "a"}), counts(10, {1: 3}, {"sae": "b"}))
    with pytest.raises(FacInputError, match="empty"):
        enrich(anchor, FeatureCounts(D))
    with pytest.raises(FacConfigError, match="RelevanceConfig.min_support"):
        RelevanceConfig(min_support=0)
    with pytest.raises(FacInputError, match="Lower min_z"):
        relevance_from_enrichment(enrich(anchor, reference, RelevanceConfig(min_z=1e6)))


def test_relevance_helper_gives_ids_and_a_description():
    anchor, reference = planted_pair()
    ids, description = relevance_from_enrichment(enrich(anchor, reference))
    assert ids == [PLANTED, WEAK] and description.startswith("2 features enriched vs reference")
