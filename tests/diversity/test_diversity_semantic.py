"""Embedding metrics: pairwise cosine distance, semantic entropy, Vendi.

Hand-computed values on fixed vectors (fast), then the real all-MiniLM-L6-v2 path (slow).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from fac_datasets.diversity.pairwise import mean_pairwise_cosine_distance, pair_cosdist, sample_indices
from fac_datasets.diversity.semantic import meaning_clusters, semantic_entropy, semantic_entropy_of_embeddings
from fac_datasets.diversity.vendi import vendi_of_embeddings, vendi_score
from fac_datasets.errors import FacInputError

E = np.eye(3)


def test_pairwise_distance_by_hand():
    assert mean_pairwise_cosine_distance(E) == pytest.approx(1.0)  # all pairs orthogonal
    # two identical + one orthogonal: ordered pairs i != j: 0, 1, 1 (each twice) -> 2/3
    assert mean_pairwise_cosine_distance(np.array([[1, 0], [1, 0], [0, 1]])) == pytest.approx(2 / 3)
    # scale does not matter (rows are normalised), opposite vectors are distance 2
    assert mean_pairwise_cosine_distance(np.array([[3.0, 0], [-0.5, 0]])) == pytest.approx(2.0)


def test_pairwise_identity_matches_brute_force():
    x = np.random.default_rng(1).normal(size=(40, 16))
    u = x / np.linalg.norm(x, axis=1, keepdims=True)
    d = 1 - u @ u.T
    brute = d[~np.eye(40, dtype=bool)].mean()
    assert mean_pairwise_cosine_distance(x) == pytest.approx(brute, abs=1e-12)


def test_pairwise_needs_two_nonzero_vectors():
    with pytest.raises(FacInputError, match="at least 2"):
        mean_pairwise_cosine_distance(np.ones((1, 3)))
    with pytest.raises(FacInputError, match="all zeros"):
        mean_pairwise_cosine_distance(np.array([[1.0, 0], [0, 0]]))


def test_sampling_is_seeded_and_only_above_the_sample_size():
    assert sample_indices(10, 10, seed=0) is None
    assert sample_indices(10, None, seed=0) is None
    a, b = sample_indices(100, 20, seed=3), sample_indices(100, 20, seed=3)
    assert len(a) == 20 and len(set(a)) == 20 and (a == b).all()
    assert not (a == sample_indices(100, 20, seed=4)).all()


def test_semantic_entropy_by_hand():
    two_pairs = np.array([[1, 0, 0], [1, 0.1, 0], [0, 1, 0], [0, 1, 0.1]])
    result = semantic_entropy_of_embeddings(two_pairs)
    assert result.n_clusters == 2 and result.semantic_entropy == pytest.approx(math.log(2))
    # clusters of sizes 2, 1, 1: -(1/2 ln 1/2 + 2 * 1/4 ln 1/4)
    sizes_211 = np.array([[1, 0, 0], [1, 0.1, 0], [0, 1, 0], [0, 0, 1]])
    assert semantic_entropy_of_embeddings(sizes_211).semantic_entropy == pytest.approx(
        -(0.5 * math.log(0.5) + 2 * 0.25 * math.log(0.25))
    )
    assert semantic_entropy_of_embeddings(np.ones((1, 3))).semantic_entropy == 0.0  # one text
    assert semantic_entropy_of_embeddings(np.ones((5, 3))).n_clusters == 1  # duplicates merge


def test_complete_linkage_does_not_chain():
    # a~b and b~c are above the threshold, a~c is not: single linkage would chain all three.
    angle = math.radians(35)  # cos 35deg = 0.82 >= 0.75; cos 70deg = 0.34 < 0.75
    a, b, c = ([math.cos(t), math.sin(t)] for t in (0.0, angle, 2 * angle))
    labels = meaning_clusters(np.array([a, b, c]), threshold=0.75)
    assert len(set(labels)) == 2
    assert len(set(meaning_clusters(np.array([a, b, c]), threshold=0.3))) == 1
    with pytest.raises(FacInputError, match="threshold"):
        meaning_clusters(np.array([a, b]), threshold=0.0)


def test_vendi_by_hand():
    assert vendi_of_embeddings(np.eye(4)) == pytest.approx(4.0)  # orthogonal: 4 distinct items
    assert vendi_of_embeddings(np.ones((6, 3))) == pytest.approx(1.0)  # identical: 1
    # two identical + one orthogonal: K/3 has eigenvalues 2/3, 1/3
    expected = math.exp(-(2 / 3 * math.log(2 / 3) + 1 / 3 * math.log(1 / 3)))
    assert vendi_of_embeddings(np.array([[1, 0], [1, 0], [0, 1]])) == pytest.approx(expected)


# --- the real embedder (all-MiniLM-L6-v2 from the PyPI package) ---------------------------

BREAD = ["Give me a bread recipe.", "What is a recipe for bread?", "How do I bake bread at home?"]
OTHER = ["The stock market fell sharply today.", "Explain how photosynthesis works."]


@pytest.mark.slow
def test_minilm_embeddings_are_unit_norm_and_cached_once(tmp_path, monkeypatch):
    from fac_datasets.diversity import embeddings

    monkeypatch.setenv("FAC_DATASETS_CACHE", str(tmp_path))
    folder = embeddings.minilm_dir()
    assert folder.parent == tmp_path / "models" and (folder / "model.safetensors").is_file()
    stamp = (folder / "modules.json").stat().st_mtime_ns
    assert embeddings.minilm_dir() == folder and (folder / "modules.json").stat().st_mtime_ns == stamp
    vectors = embeddings.embed(BREAD + OTHER)
    assert vectors.shape == (5, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


@pytest.mark.slow
def test_pair_cosdist_on_real_texts():
    exact = pair_cosdist(BREAD + OTHER)
    assert not exact.sampled and exact.n_used == 5 and exact.seed is None
    assert pair_cosdist(BREAD).pair_cosdist < 0.4 < exact.pair_cosdist  # paraphrases are close
    assert pair_cosdist(["same text", "same text"]).pair_cosdist == pytest.approx(0.0, abs=1e-6)
    sampled = pair_cosdist(BREAD + OTHER, sample_size=3, seed=7)
    assert sampled.sampled and sampled.n_used == 3 and sampled.n_texts == 5 and sampled.seed == 7
    assert sampled == pair_cosdist(BREAD + OTHER, sample_size=3, seed=7)
    with pytest.raises(FacInputError, match="at least 2 texts"):
        pair_cosdist(["only one"])
    with pytest.raises(FacInputError, match="Row 1 is empty"):
        pair_cosdist(["fine", " "])


@pytest.mark.slow
def test_semantic_entropy_and_vendi_on_real_texts():
    result = semantic_entropy(BREAD[:2] + OTHER[:1])
    assert result.n_clusters == 2  # the two bread recipes share a meaning cluster
    assert result.semantic_entropy == pytest.approx(-(2 / 3 * math.log(2 / 3) + 1 / 3 * math.log(1 / 3)))
    assert semantic_entropy(["just one"]).semantic_entropy == 0.0
    assert vendi_score(["just one"]) == pytest.approx(1.0)
    assert 1.0 < vendi_score(BREAD) < vendi_score(BREAD[:1] + OTHER) <= 3.0
    with pytest.raises(FacInputError, match="Got 0 texts"):
        semantic_entropy([])
