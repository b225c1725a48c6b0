"""Correlation statistics: Pearson, Spearman, partial r given a covariate, with percentile bootstrap CIs.

Partial r of x and y given z is the Pearson correlation of their residuals after a linear fit on z
(here z = tokens per text): it asks whether a metric predicts the downstream score beyond what text
length alone does. A constant input has no correlation: the value is None, not 0, so a saturated
metric is never mistaken for an uninformative one (or the other way round).
The bootstrap resamples subsets with replacement; resamples where a statistic is undefined are
dropped from its interval.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np

Statistic = Literal["pearson", "spearman", "partial"]
STATISTICS: tuple[Statistic, ...] = ("pearson", "spearman", "partial")
_EPS = 1e-10  # relative spread below which an input counts as constant


def _pearson_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson r of each row pair of x and y ([..., n] arrays); NaN where either row is constant."""
    xc = x - x.mean(axis=-1, keepdims=True)
    yc = y - y.mean(axis=-1, keepdims=True)
    sx = np.sqrt((xc * xc).sum(axis=-1))
    sy = np.sqrt((yc * yc).sum(axis=-1))
    root_n = np.sqrt(x.shape[-1])
    ok_x = sx > _EPS * root_n * np.maximum(np.abs(x).max(axis=-1), 1.0)
    ok_y = sy > _EPS * root_n * np.maximum(np.abs(y).max(axis=-1), 1.0)
    ok = ok_x & ok_y
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (xc * yc).sum(axis=-1) / (sx * sy)
    return np.where(ok, np.clip(r, -1.0, 1.0), np.nan)


def _ranks(x: np.ndarray) -> np.ndarray:
    """Average ranks along the last axis (ties share their mean rank)."""
    from scipy.stats import rankdata

    return rankdata(x, axis=-1)


def _partial_rows(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
    rxy, rxz, ryz = _pearson_rows(x, y), _pearson_rows(x, z), _pearson_rows(y, z)
    with np.errstate(invalid="ignore", divide="ignore"):
        denominator = np.sqrt((1 - rxz**2) * (1 - ryz**2))
        r = (rxy - rxz * ryz) / denominator
    return np.where(denominator > 1e-6, np.clip(r, -1.0, 1.0), np.nan)  # z explains x or y entirely: undefined


def statistic_rows(name: Statistic, x: np.ndarray, y: np.ndarray, z: np.ndarray | None = None) -> np.ndarray:
    """The statistic over the last axis, vectorised over leading axes (bootstrap resamples)."""
    if name == "pearson":
        return _pearson_rows(x, y)
    if name == "spearman":
        return _pearson_rows(_ranks(x), _ranks(y))
    if name == "partial":
        if z is None:
            raise ValueError("partial correlation needs the covariate z")
        return _partial_rows(x, y, z)
    raise ValueError(f"unknown statistic {name!r}")


def _value(v: float) -> float | None:
    return None if not np.isfinite(v) else float(v)


def pearson(x, y) -> float | None:
    return _value(_pearson_rows(np.asarray(x, float), np.asarray(y, float)))


def spearman(x, y) -> float | None:
    return _value(statistic_rows("spearman", np.asarray(x, float), np.asarray(y, float)))


def partial_r(x, y, z) -> float | None:
    """Pearson r of x and y after removing the linear effect of z from both."""
    return _value(_partial_rows(np.asarray(x, float), np.asarray(y, float), np.asarray(z, float)))


@dataclass(frozen=True)
class Correlation:
    """One statistic with its bootstrap interval (None: undefined, e.g. a constant metric)."""

    value: float | None
    low: float | None
    high: float | None
    n: int

    def to_dict(self) -> dict:
        return asdict(self)


def bootstrap_indices(n: int, resamples: int, seed: int) -> np.ndarray:
    """[resamples, n] indices of subsets drawn with replacement."""
    return np.random.default_rng(seed).integers(0, n, size=(resamples, n))


def correlate(
    x: np.ndarray, y: np.ndarray, z: np.ndarray, *, resamples: int, ci: float, seed: int
) -> dict[Statistic, Correlation]:
    """Pearson, Spearman and partial r (given z) of x and y, each with a percentile bootstrap CI."""
    x, y, z = (np.asarray(a, dtype=np.float64) for a in (x, y, z))
    keep = np.isfinite(x) & np.isfinite(y) & np.isfinite(z)
    x, y, z = x[keep], y[keep], z[keep]
    n = len(x)
    out: dict[Statistic, Correlation] = {}
    index = bootstrap_indices(n, resamples, seed) if n >= 3 else None
    for name in STATISTICS:
        value = _value(statistic_rows(name, x, y, z)) if n >= 3 else None
        low = high = None
        if value is not None and index is not None:
            boot = statistic_rows(name, x[index], y[index], z[index])
            boot = boot[np.isfinite(boot)]
            if boot.size:
                tail = (1 - ci) / 2 * 100
                low, high = (float(v) for v in np.percentile(boot, [tail, 100 - tail]))
        out[name] = Correlation(value, low, high, n)
    return out
