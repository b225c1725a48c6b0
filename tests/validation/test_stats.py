"""Correlation statistics: agreement with scipy, partial r on constructed cases, bootstrap coverage."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as scipy_stats

from fac_datasets.validation.stats import correlate, partial_r, pearson, spearman


def test_pearson_and_spearman_match_scipy():
    rng = np.random.default_rng(0)
    x = rng.normal(size=50)
    y = 0.5 * x + rng.normal(size=50)
    y[3] = y[7]  # a tie for the ranks
    assert pearson(x, y) == pytest.approx(scipy_stats.pearsonr(x, y).statistic, abs=1e-12)
    assert spearman(x, y) == pytest.approx(scipy_stats.spearmanr(x, y).statistic, abs=1e-12)


def test_partial_r_removes_a_shared_cause():
    """x and y both follow z: high r, but given z they are unrelated (partial r ~ 0)."""
    rng = np.random.default_rng(1)
    z = rng.normal(size=400)
    x = z + 0.3 * rng.normal(size=400)
    y = z + 0.3 * rng.normal(size=400)
    assert pearson(x, y) > 0.8
    assert abs(partial_r(x, y, z)) < 0.12


def test_partial_r_keeps_what_z_does_not_explain():
    """y depends on x beyond z: the partial r equals the correlation of the residuals after regressing on z."""
    rng = np.random.default_rng(2)
    z = rng.normal(size=300)
    x = 0.8 * z + rng.normal(size=300)
    y = x - 2.0 * z + 0.5 * rng.normal(size=300)
    residual = [a - np.polyval(np.polyfit(z, a, 1), z) for a in (x, y)]
    assert partial_r(x, y, z) == pytest.approx(np.corrcoef(*residual)[0, 1], abs=1e-10)
    assert partial_r(x, y, z) > 0.8


def test_constant_metric_has_no_correlation():
    """A saturated metric (FAC = 1.0 everywhere) is undefined, not 0."""
    y = np.arange(10.0)
    assert pearson(np.ones(10), y) is None
    assert spearman(np.ones(10), y) is None
    result = correlate(np.ones(10), y, y[::-1], resamples=50, ci=0.95, seed=0)
    assert all(c.value is None and c.low is None for c in result.values())


def test_partial_r_of_the_covariate_itself_is_undefined():
    z = np.random.default_rng(3).normal(size=30)
    assert partial_r(z, z * 2 + 1, z) is None


def test_bootstrap_ci_contains_the_true_r():
    """Bivariate normal with rho = 0.6: the 95% percentile interval covers it, and tightens with n."""
    rho = 0.6
    cov = [[1, rho], [rho, 1]]
    widths = []
    for n in (60, 600):
        x, y = np.random.default_rng(4).multivariate_normal([0, 0], cov, size=n).T
        result = correlate(x, y, np.random.default_rng(5).normal(size=n), resamples=2000, ci=0.95, seed=0)
        c = result["pearson"]
        assert c.low < rho < c.high
        assert c.low <= c.value <= c.high
        assert c.n == n
        widths.append(c.high - c.low)
    assert widths[1] < widths[0] / 2


def test_bootstrap_coverage_is_near_nominal():
    """Over 60 independent samples, a 90% interval misses rho about 10% of the time (loose bound)."""
    rho, misses = 0.5, 0
    for seed in range(60):
        x, y = np.random.default_rng(100 + seed).multivariate_normal([0, 0], [[1, rho], [rho, 1]], size=80).T
        c = correlate(x, y, np.zeros(80) + np.arange(80) % 3, resamples=500, ci=0.9, seed=seed)["pearson"]
        misses += not c.low <= rho <= c.high
    assert misses <= 14


def test_correlate_is_deterministic_and_drops_nan_rows():
    rng = np.random.default_rng(6)
    x, y, z = rng.normal(size=(3, 40))
    x[5] = np.nan
    a = correlate(x, y, z, resamples=300, ci=0.95, seed=9)
    b = correlate(x, y, z, resamples=300, ci=0.95, seed=9)
    assert a == b
    assert a["pearson"].n == 39
    for c in a.values():
        assert -1 <= c.low <= c.value <= c.high <= 1
