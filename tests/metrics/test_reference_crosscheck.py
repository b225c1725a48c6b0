"""G-Vendi, NovelSum and DCScore against their authors' arithmetic on fixed inputs, to 1e-6.

The reference functions below are ports of the authors' code, kept as close to it as numpy
allows (read from the public repositories):
- NovelSum: UmeanNever/NovelSum @ b594962, `novelsum.py` (`compute_cos_distance`, `weighted_average`,
  `novelsum`) and `utils.py` (`FaissIndex.local_density`); faiss's exact `IndexFlatL2` search
  (squared L2, nearest first) is ported as brute force, the torch cosine in float64.
- DCScore: BlueWhaleLab/DCScore @ eab8bf4, `dcscore_function.py`, `calculate_dcscore_by_embedding`
  with kernel 'cs', verbatim (torch softmax).
- G-Vendi: the code of Prismatic Synthesis (jaehunjung1/prismatic-synthesis) could not be fetched
  here, so the reference is the paper's definition (Vendi score of the unit-normalised projected
  gradients) through the Vendi authors' package (`vendi_score.vendi.score_K`, N x N kernel), and
  the per-text gradients are checked against plain autograd one text at a time.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fac_datasets.config import DCScoreConfig, GVendiConfig, NovelSumConfig
from fac_datasets.constants import DEFAULT_MODEL_ID
from fac_datasets.diversity import g_vendi as gv
from fac_datasets.diversity.dcscore import dcscore, dcscore_of_embeddings
from fac_datasets.diversity.novelsum import novelsum, novelsum_of_embeddings
from fac_datasets.errors import FacInputError


@pytest.fixture(scope="module")
def embeddings() -> np.ndarray:
    """12 fixed vectors in 8 dimensions, one exact duplicate (rows 0 and 11), not unit-norm."""
    rng = np.random.default_rng(20250217)
    x = rng.normal(size=(12, 8))
    x[11] = x[0]
    return x


# ---------------------------------------------------------------- NovelSum reference (ported)
def ref_cos_distance(data: np.ndarray) -> np.ndarray:
    t = torch.tensor(data, dtype=torch.float64)
    return (1 - torch.nn.functional.cosine_similarity(t.unsqueeze(1), t.unsqueeze(0), dim=2)).numpy()


def ref_weighted_average(row: np.ndarray, power: float = 1.0) -> float:
    row = row[np.isfinite(row)]
    sorted_indices = np.argsort(row)
    weights = 1 / np.power(np.arange(1, len(row) + 1), power)
    return np.average(row[sorted_indices], weights=weights)


def ref_novelsum(distance_matrix: np.ndarray, densities: np.ndarray, power: float = 1.0, self_distance=True) -> float:
    dm = distance_matrix.copy()
    if not self_distance:
        np.fill_diagonal(dm, np.inf)
    weighted_matrix = dm * densities[:, np.newaxis]
    return np.mean(np.apply_along_axis(ref_weighted_average, 1, weighted_matrix, power=power))


def ref_local_density(ref_data: np.ndarray, query: np.ndarray, n_neighbors=10, regularization=1e-9, power=1):
    data = np.unique(ref_data.reshape(-1, ref_data.shape[-1]), axis=0)
    squared = ((query[:, None, :] - data[None, :, :]) ** 2).sum(-1)  # IndexFlatL2: squared L2
    distances = np.sort(squared, axis=1)[:, : n_neighbors + 1][:, 1:]  # search(k + 1), drop the first
    return 1 / np.power(np.mean(distances, axis=-1) + regularization, power)


def test_novelsum_equals_the_authors_code_with_density_from_the_texts_themselves(embeddings):
    config = NovelSumConfig(neighbors=3, density_power=0.5, distance_power=1.0, chunk_rows=5)
    ours = novelsum_of_embeddings(embeddings, embeddings, config)
    densities = ref_local_density(embeddings, embeddings, n_neighbors=3, power=0.5)
    theirs = ref_novelsum(ref_cos_distance(embeddings), densities, power=1.0)
    assert ours.novelsum == pytest.approx(theirs, abs=1e-6)
    assert theirs == pytest.approx(0.1750747, abs=1e-6)
    assert ours.n_reference == 11  # the duplicate counts once, as np.unique does in FaissIndex


def test_novelsum_equals_the_authors_code_for_other_settings(embeddings):
    reference = np.random.default_rng(7).normal(size=(30, 8))
    for config in (
        NovelSumConfig(neighbors=5, density_power=0.25, distance_power=2.0),
        NovelSumConfig(neighbors=10, density_power=0.5, distance_power=0.0, include_self=False, chunk_rows=4),
    ):
        ours = novelsum_of_embeddings(embeddings, reference, config).novelsum
        densities = ref_local_density(reference, embeddings, config.neighbors, power=config.density_power)
        dist = ref_cos_distance(embeddings)
        theirs = ref_novelsum(dist, densities, power=config.distance_power, self_distance=config.include_self)
        assert ours == pytest.approx(theirs, abs=1e-6)
    # Without a reference the density factor is 1 (the authors' "density_powers [0]").
    plain = novelsum_of_embeddings(embeddings, None, NovelSumConfig())
    assert plain.n_reference == 0 and plain.density_power == 0.0
    assert plain.novelsum == pytest.approx(ref_novelsum(ref_cos_distance(embeddings), np.ones(12)), abs=1e-6)


# ---------------------------------------------------------------- DCScore reference (verbatim)
def ref_dcscore_by_embedding(embeddings_arr, kernel_type="cs", tau=1):
    sim_product = torch.from_numpy((embeddings_arr @ embeddings_arr.T) / tau)
    sim_probs = sim_product.softmax(dim=-1)
    return torch.sum(torch.diag(sim_probs)).item()


def test_dcscore_equals_the_authors_code(embeddings):
    unit = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)  # their text path normalises
    for tau in (1.0, 0.1):
        ours = dcscore_of_embeddings(embeddings, DCScoreConfig(tau=tau, chunk_rows=5))
        assert ours == pytest.approx(ref_dcscore_by_embedding(unit, tau=tau), abs=1e-6)
    assert ref_dcscore_by_embedding(unit) == pytest.approx(2.1763368, abs=1e-6)
    assert dcscore_of_embeddings(np.ones((4, 3))) == pytest.approx(1.0)  # identical texts: one class


# ---------------------------------------------------------------- G-Vendi
@pytest.fixture(scope="module")
def tiny_proxy(tiny_model_dir):
    tokenizer, model = gv.load_proxy(str(tiny_model_dir)).tokenizer, gv.load_proxy(str(tiny_model_dir)).model
    return gv.Proxy(tokenizer, model, "tiny")


TEXTS = ["the cat sat on the mat", "hello", "a dog ran far away from home today", "hello", "why is the sky blue?"]


def naive_projected_gradients(proxy, texts, config):
    """One text per backward pass, plain autograd on the weights, then the same projection."""
    linears = gv.restricted_linears(proxy.model, config.blocks)
    weights = [m.weight for _, m in linears]
    rows = []
    for text in texts:
        ids, mask = gv._batch_tensors(proxy, [text], config.max_length)
        for w in weights:
            w.requires_grad_(True)
        with torch.enable_grad():
            grads = torch.autograd.grad(gv.per_text_loss(proxy.model, ids, mask).sum(), weights)
        for w in weights:
            w.requires_grad_(False)
        rows.append(sum(gv.project(g.reshape(1, -1), n, config) for (n, _), g in zip(linears, grads, strict=True)))
    return torch.cat(rows).numpy()


@pytest.mark.parametrize("projection", ["sparse", "dense"])
def test_batched_per_text_gradients_equal_plain_autograd(tiny_model_dir, projection):
    proxy = gv.load_proxy(str(tiny_model_dir))
    double = gv.Proxy(proxy.tokenizer, proxy.model.double(), "tiny")
    try:
        config = GVendiConfig(blocks=2, projection_dim=16, projection=projection, batch_size=3, chunk_params=1000)
        ours, n_params = gv.projected_gradients(TEXTS, config, double)
        naive = naive_projected_gradients(double, TEXTS, config)
    finally:
        proxy.model.float()
    assert n_params == 2 * (2 * 32 * 32 + 2 * 32 * 16 + 3 * 32 * 64)  # q, o; k, v (2 kv heads); MLP; 2 blocks
    assert np.abs(ours - naive).max() < 1e-6 * np.abs(naive).max()
    np.testing.assert_array_equal(ours[1], ours[3])  # the same text, the same gradient


def test_projection_is_the_matrix_it_claims_and_is_seeded_per_weight():
    config = GVendiConfig(projection_dim=8, chunk_params=7)
    grads = torch.randn(3, 20, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    sparse = gv.project(grads, "w", config)
    gen = gv._generator(config.seed, "w")
    buckets = torch.randint(0, 8, (20,), generator=gen)
    signs = torch.randint(0, 2, (20,), generator=gen, dtype=torch.float64) * 2 - 1
    matrix = torch.zeros(20, 8, dtype=torch.float64)
    matrix[torch.arange(20), buckets] = signs  # CountSketch: one signed bucket per weight
    torch.testing.assert_close(sparse, grads @ matrix)
    dense = gv.project(grads, "w", config.model_copy(update={"projection": "dense"}))
    blocks = [
        torch.randint(0, 2, (min(7, 20 - s), 8), generator=gv._generator(0, "w", c), dtype=torch.int8)
        for c, s in enumerate(range(0, 20, 7))
    ]
    rademacher = torch.cat(blocks).double() * 2 - 1
    # the dense projection multiplies in float32 (its cost): float32 tolerance
    torch.testing.assert_close(dense, grads @ rademacher / 8**0.5, rtol=1e-5, atol=1e-6)
    assert not torch.equal(gv.project(grads, "other", config), sparse)  # each weight has its own seed
    assert not torch.equal(gv.project(grads, "w", config.model_copy(update={"seed": 1})), sparse)


def test_g_vendi_equals_the_vendi_of_normalised_gradients_by_the_vendi_authors_package(tiny_proxy):
    from vendi_score import vendi

    config = GVendiConfig(blocks=1, projection_dim=32)
    grads, _ = gv.projected_gradients(TEXTS, config, tiny_proxy)
    unit = grads / np.linalg.norm(grads, axis=1, keepdims=True)
    theirs = vendi.score_K(unit @ unit.T)  # the paper's G-Vendi: exp entropy of the eigenvalues of K / N
    result = gv.g_vendi(TEXTS, config=config, proxy=tiny_proxy)
    assert result.g_vendi == pytest.approx(theirs, abs=1e-6)
    assert 1.0 < result.g_vendi < 4.0 + 1e-9  # 5 texts, two of them identical: at most 4 directions
    assert result.n_texts == 5 and result.blocks == 1 and result.projection == "sparse"
    assert gv.g_vendi(["hello", "hello"], config=config, proxy=tiny_proxy).g_vendi == pytest.approx(1.0)
    assert gv.g_vendi(["hello"], config=config, proxy=tiny_proxy).g_vendi == pytest.approx(1.0)


def test_bad_inputs_are_one_line_errors_naming_the_input(tiny_proxy):
    with pytest.raises(FacInputError, match="Got 0 texts for g_vendi: at least one text needed"):
        gv.g_vendi([], proxy=tiny_proxy)
    with pytest.raises(FacInputError, match="Row 1 is a int"):
        gv.g_vendi(["fine", 3], proxy=tiny_proxy)
    with pytest.raises(FacInputError, match="blocks=9 but the proxy model has only 4 decoder blocks"):
        gv.g_vendi(["fine"], config=GVendiConfig(blocks=9), proxy=tiny_proxy)
    with pytest.raises(FacInputError, match="Got 1 texts for novelsum: at least 2 texts needed"):
        novelsum(["only one"])
    with pytest.raises(FacInputError, match="Got 1 texts for dcscore: at least 2 texts needed"):
        dcscore(["only one"])
    with pytest.raises(FacInputError, match="Row 0 is None"):
        dcscore([None, "x"])
    with pytest.raises(FacInputError, match="at least neighbors \\+ 1 = 11 distinct reference texts, got 3"):
        novelsum_of_embeddings(np.eye(4), np.eye(3), NovelSumConfig())


@pytest.mark.slow
def test_g_vendi_on_the_embedded_model_ranks_repeats_below_distinct_texts():
    distinct = [
        "Write a poem about rain.",
        "Explain how vaccines work.",
        "What is the capital of Peru?",
        "Sort this list in Python: [3, 1, 2].",
        "Translate 'good morning' into French.",
        "Give me three tips for sleeping better.",
        "Why do cats purr?",
        "Summarise the plot of Hamlet.",
    ]
    repeated = distinct[:2] * 4
    low, high = gv.g_vendi(repeated), gv.g_vendi(distinct)
    pair = gv.g_vendi_of_gradients(gv.projected_gradients(distinct[:2])[0])
    assert low.g_vendi == pytest.approx(pair, rel=1e-4)  # repeats add no direction
    assert 1.0 < low.g_vendi < 2.0 + 1e-6 < high.g_vendi <= 8.0
    assert high.n_params == 3_538_944 and high.model == DEFAULT_MODEL_ID
