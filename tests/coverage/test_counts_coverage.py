"""FeatureCounts and coverage on hand-made feature rows."""

from __future__ import annotations

import numpy as np
import pytest

from fac_datasets.config import CoverageConfig
from fac_datasets.coverage.compute import compute_coverage
from fac_datasets.errors import FacInputError
from fac_datasets.features.counts import FeatureCounts
from fac_datasets.features.rows import FeatureRows

D = 10
ANCHOR = [[0, 1, 2], [0, 1, 3], [0, 2, 4], [1, 5], [0, 1, 2, 3], [9]]


def rows(lists, tokens=None):
    acts = [[float(f + 1) for f in r] for r in lists]
    return FeatureRows.from_lists(lists, acts, tokens or [len(r) * 3 for r in lists])


def test_counts_by_hand():
    counts = FeatureCounts.from_rows(rows(ANCHOR), D)
    assert counts.n_docs == 6
    assert counts.doc_freq.tolist() == [4, 4, 3, 2, 1, 1, 0, 0, 0, 1]
    assert counts.max_activation[9] == 10.0
    assert counts.active(3).tolist() == [0, 1, 2]
    assert counts.n_tokens == 3 * sum(len(r) for r in ANCHOR)


def test_shard_counts_merge_to_the_whole():
    whole = FeatureCounts.from_rows(rows(ANCHOR), D, {"sae": "x"})
    shards = [FeatureCounts.from_rows(rows(ANCHOR[i : i + 2]), D, {"sae": "x"}) for i in range(0, 6, 2)]
    assert sum(shards[1:], shards[0]) == whole


def test_counts_from_different_setups_do_not_merge():
    a = FeatureCounts.from_rows(rows(ANCHOR), D, {"sae": "x"})
    b = FeatureCounts.from_rows(rows(ANCHOR), D, {"sae": "y"})
    with pytest.raises(FacInputError, match="different setups"):
        a + b


@pytest.mark.parametrize("suffix", [".json", ".safetensors"])
def test_counts_save_load_round_trip(tmp_path, suffix):
    counts = FeatureCounts.from_rows(rows(ANCHOR), D, {"model": "m", "layer": 2})
    assert FeatureCounts.load(counts.save(tmp_path / f"c{suffix}")) == counts


def test_feature_ids_outside_the_sae_are_rejected():
    with pytest.raises(FacInputError, match=r"outside 0..9"):
        FeatureCounts.from_rows(rows([[1, 12]]), D)


def test_fac_is_one_when_current_equals_anchor():
    anchor = FeatureCounts.from_rows(rows(ANCHOR), D)
    report = compute_coverage(anchor, rows(ANCHOR), config=CoverageConfig(anchor_min_support=1))
    assert report.fac == 1.0 and report.missing == []
    assert report.rarefaction[-1]["n"] == 6 and report.rarefaction[-1]["fac_mean"] == 1.0


def test_fac_by_hand_with_missing_ranked_by_anchor_support():
    anchor = FeatureCounts.from_rows(rows(ANCHOR), D)
    report = compute_coverage(anchor, rows([[0, 5], [9]]), config=CoverageConfig(anchor_min_support=1))
    # relevant = {0,1,2,3,4,5,9}; covered = {0,5,9}
    assert report.n_relevant == 7 and report.n_covered == 3
    assert report.fac == pytest.approx(3 / 7)
    assert report.missing_ids == [1, 2, 3, 4]
    assert [m.anchor_support for m in report.missing] == [4, 3, 2, 1]


def test_empty_current_gives_zero_with_a_note():
    anchor = FeatureCounts.from_rows(rows(ANCHOR), D)
    report = compute_coverage(anchor, rows([]))
    assert report.fac == 0.0 and report.n_current == 0
    assert "empty" in report.notes[0]


def test_fac_never_decreases_as_current_grows():
    gen = np.random.default_rng(0)
    pool = [sorted(gen.choice(40, size=gen.integers(1, 6), replace=False).tolist()) for _ in range(200)]
    anchor = FeatureCounts.from_rows(rows(pool), 40)
    values = [compute_coverage(anchor, rows(pool[:n])).fac for n in range(0, 201, 10)]
    assert values == sorted(values) and values[-1] == 1.0 and values[1] < 1.0


def test_support_thresholds_apply():
    anchor = FeatureCounts.from_rows(rows(ANCHOR), D)
    report = compute_coverage(
        anchor, rows([[0], [0], [1]]), config=CoverageConfig(anchor_min_support=3, current_min_support=2)
    )
    assert report.n_relevant == 3 and report.covered == [0]


def test_explicit_relevant_features():
    anchor = FeatureCounts.from_rows(rows(ANCHOR), D)
    report = compute_coverage(anchor, rows([[3]]), relevant=[3, 4])
    assert report.fac == 0.5 and report.missing_ids == [4]
    with pytest.raises(FacInputError, match=r"\[10, 99\] are outside 0..9"):
        compute_coverage(anchor, rows([[3]]), relevant=[3, 10, 99])


def test_no_relevant_features_is_a_clear_error():
    anchor = FeatureCounts.from_rows(rows([[1]]), D)
    with pytest.raises(FacInputError, match="No relevant features"):
        compute_coverage(anchor, rows([[1]]))
    with pytest.raises(FacInputError, match="anchor set is empty"):
        compute_coverage(FeatureCounts(D), rows([[1]]))


def test_take_selects_rows():
    subset = rows(ANCHOR).take(np.array([1, 5]))
    assert subset.offsets.tolist() == [0, 3, 4]
    assert subset.features.tolist() == [0, 1, 3, 9]
    assert subset.activations.tolist() == [1.0, 2.0, 4.0, 10.0]


def test_rarefaction_curve_rises_to_the_full_fac():
    gen = np.random.default_rng(1)
    pool = [sorted(gen.choice(60, size=gen.integers(1, 5), replace=False).tolist()) for _ in range(300)]
    anchor = FeatureCounts.from_rows(rows(pool), 60)
    report = compute_coverage(anchor, rows(pool[:100]))
    means = [p["fac_mean"] for p in report.rarefaction]
    assert means == sorted(means) and means[0] < means[-1]
    assert report.rarefaction[-1]["n"] == 100
    assert report.rarefaction[-1]["fac_mean"] == pytest.approx(report.fac)
    assert report.rarefaction[-1]["fac_std"] == 0.0


@pytest.mark.parametrize("min_support", [1, 2, 3])
def test_rarefaction_matches_counting_each_prefix(min_support):
    from fac_datasets.coverage.compute import rarefaction

    gen = np.random.default_rng(2)
    pool = [sorted(gen.choice(30, size=gen.integers(0, 5), replace=False).tolist()) for _ in range(80)]
    current = rows(pool)
    relevant = np.arange(0, 30, 2)
    config = CoverageConfig(current_min_support=min_support, rarefaction_seeds=2)
    points = rarefaction(current, relevant, 30, config)
    for point in points:
        expected = []
        for seed in range(2):
            order = np.random.default_rng(seed).permutation(current.n_rows)
            subset = current.take(order[: point["n"]])
            expected.append((np.bincount(subset.features, minlength=30)[relevant] >= min_support).mean())
        assert point["fac_mean"] == pytest.approx(np.mean(expected))


def test_coverage_refuses_counts_from_another_setup():
    anchor = FeatureCounts.from_rows(rows(ANCHOR), D, {"sae": "x"})
    with pytest.raises(FacInputError, match="Cannot compare anchor and current counts from different setups"):
        compute_coverage(anchor, FeatureCounts.from_rows(rows(ANCHOR), D, {"sae": "y"}))
    with pytest.raises(FacInputError, match="over 10 and 12 features: different SAEs"):
        compute_coverage(anchor, FeatureCounts.from_rows(rows(ANCHOR), 12, {"sae": "x"}))
