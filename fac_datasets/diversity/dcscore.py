"""DCScore (Zhu et al., 2025, "Measuring Diversity in Synthetic Datasets", ICML): diversity as classification.

Each text is its own class; a text's embedding is classified by a softmax over its (scaled)
similarities to all texts, and DCScore = sum_i P[i, i] = trace(softmax(K / tau)), K_ij = cos(e_i, e_j).
It is 1 when all texts embed identically and approaches N when they are mutually dissimilar.
The authors' code (BlueWhaleLab/DCScore, `calculate_dcscore_by_embedding`, kernel 'cs') builds
the N x N matrix; here rows are done in chunks with a log-sum-exp, so memory is chunk_rows x N.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

import numpy as np

from fac_datasets.config import DCScoreConfig
from fac_datasets.diversity.pairwise import unit_rows
from fac_datasets.inputs import check_plain_texts

_DEFAULTS = DCScoreConfig()


@dataclass(frozen=True)
class DCScore:
    """Result of `dcscore`; `as_dict()` is what the evaluate module returns."""

    dcscore: float  # trace of the row-softmax of K / tau, in [1, n_texts]
    n_texts: int
    tau: float

    def as_dict(self) -> dict:
        return asdict(self)


def dcscore_of_embeddings(embeddings: np.ndarray, config: DCScoreConfig = _DEFAULTS) -> float:
    """sum_i exp(K_ii / tau) / sum_j exp(K_ij / tau), cosine kernel, rows normalised here (float64)."""
    x = unit_rows(embeddings, "DCScore", min_rows=2)
    total = 0.0
    for start in range(0, x.shape[0], config.chunk_rows):
        logits = x[start : start + config.chunk_rows] @ x.T / config.tau
        peak = logits.max(axis=1, keepdims=True)
        log_norm = peak[:, 0] + np.log(np.exp(logits - peak).sum(axis=1))
        diagonal = logits[np.arange(logits.shape[0]), np.arange(start, start + logits.shape[0])]
        total += float(np.exp(diagonal - log_norm).sum())
    return total


def dcscore(
    texts: Iterable[str], *, config: DCScoreConfig = _DEFAULTS, model: str = "default", batch_size: int = 64
) -> DCScore:
    """DCScore of the texts' sentence embeddings (all-MiniLM-L6-v2 by default); needs at least 2 texts."""
    from fac_datasets.diversity.embeddings import embed

    items = check_plain_texts(texts, min_count=2, what="texts for dcscore")
    value = dcscore_of_embeddings(embed(items, model=model, batch_size=batch_size), config)
    return DCScore(value, len(items), config.tau)
