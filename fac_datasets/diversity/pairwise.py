"""Mean pairwise cosine distance between sentence embeddings (semantic spread of a corpus).

With unit vectors e_i and s = sum_i e_i, sum_{i != j} cos(e_i, e_j) = |s|^2 - n, so the exact
mean over all ordered pairs i != j costs O(n d), not O(n^2 d). Embedding is the expensive part,
which is why large corpora are *sampled before embedding*: a uniform sample without
replacement of `sample_size` texts (numpy default_rng(seed)) gives an unbiased estimate of the
full-corpus value (a U-statistic); the result says whether and how it was sampled.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

import numpy as np

from fac_datasets.errors import FacInputError
from fac_datasets.inputs import check_plain_texts

DEFAULT_SAMPLE_SIZE = 2000


@dataclass(frozen=True)
class PairCosDist:
    """Result of `pair_cosdist`; `as_dict()` is what the evaluate module returns."""

    pair_cosdist: float  # mean over i != j of 1 - cos(e_i, e_j)
    n_texts: int  # texts given
    n_used: int  # texts embedded (== n_texts unless sampled)
    sampled: bool
    seed: int | None  # seed of the sample, None when exact

    def as_dict(self) -> dict:
        return asdict(self)


def unit_rows(embeddings: np.ndarray, what: str, min_rows: int = 1) -> np.ndarray:
    """Rows as float64 unit vectors for a cosine kernel: a 2-D array of >= `min_rows` rows, none all zeros."""
    x = np.asarray(embeddings, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < min_rows:
        raise FacInputError(f"{what} needs at least {min_rows} embeddings (a 2-D array), got shape {x.shape}.")
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise FacInputError(f"{what}: an embedding is all zeros, so its cosine similarities are undefined.")
    return x / norms


def mean_pairwise_cosine_distance(embeddings: np.ndarray) -> float:
    """Exact mean of 1 - cos over ordered pairs i != j (rows are normalised here, in float64)."""
    x = unit_rows(embeddings, "Pairwise distance", min_rows=2)
    n = x.shape[0]
    total = x.sum(axis=0)
    mean_cos = (float(total @ total) - n) / (n * (n - 1))
    return float(1.0 - mean_cos)


def sample_indices(n: int, sample_size: int | None, seed: int) -> np.ndarray | None:
    """Sorted indices of a uniform sample without replacement, or None when n <= sample_size."""
    if sample_size is None or n <= sample_size:
        return None
    if sample_size < 2:
        raise FacInputError(f"sample_size must be at least 2, got {sample_size}.")
    return np.sort(np.random.default_rng(seed).choice(n, size=sample_size, replace=False))


def pair_cosdist(
    texts: Iterable[str],
    *,
    sample_size: int | None = DEFAULT_SAMPLE_SIZE,
    seed: int = 0,
    model: str = "default",
    batch_size: int = 64,
) -> PairCosDist:
    """Mean pairwise cosine distance over i != j of sentence embeddings (exact up to sample_size texts)."""
    from fac_datasets.diversity.embeddings import embed

    items = check_plain_texts(texts, min_count=2)
    picked = sample_indices(len(items), sample_size, seed)
    used = items if picked is None else [items[i] for i in picked]
    value = mean_pairwise_cosine_distance(embed(used, model=model, batch_size=batch_size))
    return PairCosDist(value, len(items), len(used), picked is not None, None if picked is None else seed)
