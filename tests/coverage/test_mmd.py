"""-MMD^2 to the anchor: the unbiased estimator by hand, then ~0 for matched sets and larger for shifted ones."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fac_datasets.coverage.mmd import median_bandwidth, mmd2_unbiased, neg_mmd
from fac_datasets.errors import FacInputError


def test_unbiased_estimator_by_hand():
    x, y = np.array([[0.0], [1.0]]), np.array([[0.0], [2.0]])
    # xx = e^-1, yy = e^-4, mean k(x, y) = (1 + e^-4 + 2 e^-1) / 4
    expected = math.exp(-1) + math.exp(-4) - (1 + math.exp(-4) + 2 * math.exp(-1)) / 2
    assert mmd2_unbiased(x, y, bandwidth=1.0) == pytest.approx(expected)


def test_median_bandwidth_by_hand():
    # pooled points 0, 1, 2, 4: squared distances 1, 4, 16, 1, 9, 4 -> median 4
    assert median_bandwidth(np.array([[0.0], [1.0]]), np.array([[2.0], [4.0]])) == 4.0


def test_mmd_is_near_zero_for_matched_sets_and_grows_with_shift():
    gen = np.random.default_rng(0)
    x, y = gen.normal(size=(300, 8)), gen.normal(size=(300, 8))
    same = mmd2_unbiased(x, y)
    assert abs(same) < 0.01
    assert abs(mmd2_unbiased(x, x)) < 0.01  # identical sets: ~0 (unbiased, so slightly below)
    small, large = mmd2_unbiased(x, y + 0.5), mmd2_unbiased(x, y + 2.0)
    assert 0.02 < small < large
    assert mmd2_unbiased(x, y + 0.5, seed=0) == small  # seeded: reproducible


def test_mmd_needs_two_samples_per_side():
    with pytest.raises(FacInputError, match="at least 2 samples"):
        mmd2_unbiased(np.zeros((1, 3)), np.zeros((4, 3)))
    with pytest.raises(FacInputError, match="at least 2 non-blank texts"):
        neg_mmd(["one text", "  "], ["a", "b"])


@pytest.mark.slow
def test_neg_mmd_on_texts_with_minilm():
    cooking = [f"Bake the bread for {n} minutes until the crust is golden." for n in range(10, 40)]
    cooking_too = [f"Knead the dough {n} times, then let it rise overnight." for n in range(10, 40)]
    code = [f"How do I sort a list of {n} integers in Python?" for n in range(10, 40)]
    identical = neg_mmd(cooking, cooking)
    assert abs(identical) < 0.05
    assert neg_mmd(code, cooking) < neg_mmd(cooking_too, cooking) < identical + 1e-9
    assert neg_mmd(code, cooking, seed=0) == neg_mmd(code, cooking, seed=0)
