"""NovelSum (Yang et al., 2025, "Measuring Data Diversity for Instruction Tuning", ACL): a
proximity-weighted, density-aware sum of each text's novelty.

As the authors' code computes it (UmeanNever/NovelSum, `novelsum.py`, `utils.FaissIndex`):
- d_ij = 1 - cos(e_i, e_j), the self-distance d_ii = 0 included by default;
- density s_i = 1 / (mean squared L2 distance from e_i to its K nearest reference points + 1e-9)^beta,
  where the reference has duplicates removed and the nearest hit is dropped (it is e_i itself
  when the texts are their own reference);
- v_i = s_i * sum_r w_r d_i(r) / sum_r w_r, d_i(r) the r-th smallest distance of row i and
  w_r = 1 / r^alpha (closer texts weigh more);
- NovelSum = mean_i v_i.
The paper writes a sum over texts; the code (and so this module) takes the mean, which only
rescales by N for a fixed size. Without reference texts the density factor is skipped, as the
authors recommend when no reference distribution is at hand. faiss (GPU) is replaced by exact
brute-force kNN in numpy; the N x N distances are processed chunk_rows rows at a time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

import numpy as np

from fac_datasets.config import NovelSumConfig
from fac_datasets.diversity.pairwise import unit_rows
from fac_datasets.errors import FacInputError
from fac_datasets.inputs import check_plain_texts

_DEFAULTS = NovelSumConfig()
_REGULARIZATION = 1e-9  # the authors' `regularization` in FaissIndex.local_density


@dataclass(frozen=True)
class NovelSum:
    """Result of `novelsum`; `as_dict()` is what the evaluate module returns."""

    novelsum: float
    n_texts: int
    n_reference: int  # distinct reference texts behind the density factor; 0 = density skipped
    neighbors: int
    density_power: float
    distance_power: float

    def as_dict(self) -> dict:
        return asdict(self)


def local_density(
    queries: np.ndarray, reference: np.ndarray, config: NovelSumConfig = _DEFAULTS
) -> tuple[np.ndarray, int]:
    """Density factor per query, and the number of distinct reference rows it was measured on."""
    ref = np.unique(np.asarray(reference, dtype=np.float64), axis=0)
    k = config.neighbors
    if ref.shape[0] < k + 1:
        raise FacInputError(
            f"NovelSum's density needs at least neighbors + 1 = {k + 1} distinct reference texts, got {ref.shape[0]}."
        )
    q = np.asarray(queries, dtype=np.float64)
    ref_sq = (ref * ref).sum(axis=1)
    densities = np.empty(q.shape[0])
    for start in range(0, q.shape[0], config.chunk_rows):
        block = q[start : start + config.chunk_rows]
        sq = np.maximum((block * block).sum(axis=1, keepdims=True) + ref_sq[None, :] - 2.0 * block @ ref.T, 0.0)
        nearest = np.sort(np.partition(sq, k, axis=1)[:, : k + 1], axis=1)
        densities[start : start + len(block)] = 1.0 / np.power(
            nearest[:, 1:].mean(axis=1) + _REGULARIZATION, config.density_power
        )
    return densities, int(ref.shape[0])


def novelsum_of_embeddings(
    embeddings: np.ndarray, reference: np.ndarray | None = None, config: NovelSumConfig = _DEFAULTS
) -> NovelSum:
    """NovelSum of embedded texts; `reference` (embedded the same way) gives the density factor."""
    raw = np.asarray(embeddings, dtype=np.float64)
    x = unit_rows(raw, "the embeddings")
    n = x.shape[0]
    if n < 2:
        raise FacInputError(f"NovelSum needs at least 2 texts, got {n}.")
    if reference is not None and config.density_power > 0:
        densities, n_ref = local_density(raw, reference, config)
    else:
        densities, n_ref = np.ones(n), 0
    width = n if config.include_self else n - 1
    weights = 1.0 / np.power(np.arange(1, width + 1, dtype=np.float64), config.distance_power)
    weights /= weights.sum()
    novelty = np.empty(n)
    for start in range(0, n, config.chunk_rows):
        distances = 1.0 - x[start : start + config.chunk_rows] @ x.T
        if not config.include_self:
            rows = np.arange(distances.shape[0])
            distances[rows, rows + start] = np.inf
        ranked = np.sort(distances, axis=1)[:, :width]
        novelty[start : start + len(ranked)] = ranked @ weights
    value = float((novelty * densities).mean())
    return NovelSum(value, n, n_ref, config.neighbors, config.density_power if n_ref else 0.0, config.distance_power)


def novelsum(
    texts: Iterable[str],
    *,
    references: Iterable[str] | None = None,
    config: NovelSumConfig = _DEFAULTS,
    model: str = "default",
    batch_size: int = 64,
) -> NovelSum:
    """NovelSum of the texts' sentence embeddings (all-MiniLM-L6-v2 by default); `references`
    (e.g. the anchor data) give the density factor, which is skipped without them."""
    from fac_datasets.diversity.embeddings import embed

    items = check_plain_texts(texts, min_count=2, what="texts for novelsum")
    ref = None
    if references is not None:
        ref_items = check_plain_texts(references, min_count=1, what="reference texts for novelsum")
        ref = embed(ref_items, model=model, batch_size=batch_size)
    return novelsum_of_embeddings(embed(items, model=model, batch_size=batch_size), ref, config)
