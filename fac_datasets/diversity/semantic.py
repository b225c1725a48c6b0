"""Semantic entropy of a corpus: entropy of the distribution of texts over meaning clusters.

Definition followed: the discrete semantic entropy of Farquhar et al. (2024, Nature 630:625),
SE = -sum_c p(c) log p(c) with p(c) = |c| / N, the fraction of texts in meaning cluster c
(Kuhn et al., 2023, ICLR, weight clusters by sequence likelihood instead; a dataset has no such
likelihood, so we use counts). They form clusters by bidirectional NLI entailment, which costs
O(N^2) NLI calls; at dataset scale we use embedding clustering instead and say so:
complete-linkage agglomerative clustering (scipy) of the unit-norm sentence embeddings under
cosine distance, cut at distance 1 - threshold. Complete linkage means every two texts in a
cluster have cosine similarity >= threshold, the closest analogue of "all members entail each
other". The default threshold 0.75 is sentence-transformers' `community_detection` default.
Cost: O(N^2) memory for the distances (10k texts: ~400 MB); sample larger corpora.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass

import numpy as np

from fac_datasets.errors import FacInputError
from fac_datasets.inputs import check_plain_texts

DEFAULT_THRESHOLD = 0.75


@dataclass(frozen=True)
class SemanticEntropy:
    """Result of `semantic_entropy`; `as_dict()` is what the evaluate module returns."""

    semantic_entropy: float  # nats
    n_clusters: int
    n_texts: int
    threshold: float  # cosine similarity every pair in a cluster reaches

    def as_dict(self) -> dict:
        return asdict(self)


def meaning_clusters(embeddings: np.ndarray, threshold: float = DEFAULT_THRESHOLD) -> np.ndarray:
    """Cluster label per row: complete linkage, cosine distance, cut at 1 - threshold."""
    from scipy.cluster.hierarchy import fcluster, linkage

    if not 0.0 < threshold <= 1.0:
        raise FacInputError(f"threshold is a cosine similarity in (0, 1], got {threshold}.")
    x = np.asarray(embeddings, dtype=np.float64)
    if x.shape[0] == 1:
        return np.ones(1, dtype=int)
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    tree = linkage(x, method="complete", metric="cosine")
    # A tiny tolerance so pairs at exactly the threshold (e.g. duplicates at 0 vs 1e-8) merge.
    return fcluster(tree, t=1.0 - threshold + 1e-9, criterion="distance")


def entropy_of_labels(labels: Iterable, base: float = math.e) -> float:
    """-sum p log p of the label frequencies."""
    counts = Counter(labels)
    total = sum(counts.values())
    value = -sum((c / total) * math.log(c / total) for c in counts.values())
    return max(0.0, value) / math.log(base)


def semantic_entropy_of_embeddings(embeddings: np.ndarray, threshold: float = DEFAULT_THRESHOLD) -> SemanticEntropy:
    labels = meaning_clusters(embeddings, threshold)
    return SemanticEntropy(entropy_of_labels(labels), int(len(set(labels))), int(len(labels)), threshold)


def semantic_entropy(
    texts: Iterable[str], *, threshold: float = DEFAULT_THRESHOLD, model: str = "default", batch_size: int = 64
) -> SemanticEntropy:
    """Entropy (nats) of the texts' distribution over embedding meaning clusters; 0.0 for one text."""
    from fac_datasets.diversity.embeddings import embed

    items = check_plain_texts(texts)
    return semantic_entropy_of_embeddings(embed(items, model=model, batch_size=batch_size), threshold)
