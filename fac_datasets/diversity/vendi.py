"""Vendi score (Friedman & Dieng, 2023, TMLR): the effective number of distinct items.

VS = exp(-sum_i lambda_i log lambda_i), lambda_i the eigenvalues of K / n, with the cosine
kernel K_ij = cos(e_i, e_j) on unit-norm sentence embeddings (order q = 1). K / n = X X^T / n
has the same non-zero eigenvalues as X^T X / n (d x d), so the cost is O(n d^2), not O(n^3).
Ranges from 1 (all texts embed identically) to min(n, d).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from fac_datasets.inputs import check_plain_texts


def vendi_of_embeddings(embeddings: np.ndarray) -> float:
    x = np.asarray(embeddings, dtype=np.float64)
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    eigenvalues = np.linalg.eigvalsh(x.T @ x / x.shape[0])
    p = eigenvalues[eigenvalues > 1e-12]
    return float(np.exp(-(p * np.log(p)).sum()))


def vendi_score(texts: Iterable[str], *, model: str = "default", batch_size: int = 64) -> float:
    """Vendi score of the texts' sentence embeddings; 1.0 for one text."""
    from fac_datasets.diversity.embeddings import embed

    items = check_plain_texts(texts)
    return vendi_of_embeddings(embed(items, model=model, batch_size=batch_size))
