"""Subset recipes on a synthetic pool whose texts, embeddings and features share a cluster structure."""

from __future__ import annotations

import numpy as np
import pytest

from fac_datasets.diversity.ngrams import distinct_n
from fac_datasets.diversity.pairwise import mean_pairwise_cosine_distance
from fac_datasets.errors import FacInputError
from fac_datasets.features.rows import FeatureRows
from fac_datasets.validation.recipes import TASK_RECIPES, RecipeContext, Subset, build_subsets, draw

N_POOL, N_CLUSTERS, N = 400, 8, 40


@pytest.fixture(scope="module")
def ctx() -> RecipeContext:
    """Texts of cluster c use words w{c}_0..w{c}_9; embeddings are cluster centres + noise; features
    are cluster-specific ids; lengths vary from 3 to 14 words; labels alternate; 10% are 'class 0'."""
    rng = np.random.default_rng(0)
    clusters = rng.integers(N_CLUSTERS, size=N_POOL)
    lengths = rng.integers(3, 15, size=N_POOL)
    texts = [" ".join(f"w{c}_{rng.integers(10)}" for _ in range(k)) for c, k in zip(clusters, lengths, strict=True)]
    centres = np.eye(N_CLUSTERS, 16)
    emb = centres[clusters] + 0.15 * rng.normal(size=(N_POOL, 16))
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    features = [sorted({int(c) * 20 + int(f) for f in rng.integers(20, size=6)}) for c in clusters]
    rows = FeatureRows.from_lists(features, None, lengths.tolist())
    strata = np.arange(N_POOL) % 2
    attributes = {
        "davidson_class": np.where(rng.random(N_POOL) < 0.1, 0, 1),
        "chosen_longer": rng.integers(2, size=N_POOL),
        "turns": rng.integers(1, 4, size=N_POOL),
    }
    return RecipeContext(texts, strata, attributes, lengths, emb.astype(np.float32), rows, N_CLUSTERS * 20)


def recipe(name: str, task: str = "toxicity"):
    return next(r for r in TASK_RECIPES[task] if r.name == name)


def many(ctx: RecipeContext, name: str, seeds: int = 5) -> list[np.ndarray]:
    return [draw(recipe(name), ctx, N, np.random.default_rng([7, s])) for s in range(seeds)]


def test_fifteen_recipes_per_task_with_the_issue_families():
    for task in ("toxicity", "reward_modeling"):
        recipes = TASK_RECIPES[task]
        assert len(recipes) == 15 and len({r.name for r in recipes}) == 15
        assert {r.family for r in recipes} == {
            "random",
            "clustered",
            "topic-restricted",
            "near-duplicated",
            "length",
            "max-diversity",
            "class-mix",
        }


def test_every_recipe_gives_n_rows_balanced_and_deterministic(ctx):
    for r in TASK_RECIPES["toxicity"]:
        a = build_subsets([r], ctx, N, 2, seed=3)
        b = build_subsets([r], ctx, N, 2, seed=3)
        c = build_subsets([r], ctx, N, 2, seed=4)
        assert [s.rows.tolist() for s in a] == [s.rows.tolist() for s in b], r.name
        assert any(x.rows.tolist() != y.rows.tolist() for x, y in zip(a, c, strict=True)), r.name
        for s in a:
            assert isinstance(s, Subset) and len(s.rows) == N
            assert s.rows.min() >= 0 and s.rows.max() < N_POOL
            positives = int(ctx.strata[s.rows].sum())
            expected = {"toxic_70": 28, "toxic_30": 12}.get(r.name, N // 2)
            assert positives == expected, r.name


def test_the_seed_of_one_recipe_does_not_depend_on_the_others(ctx):
    alone = build_subsets([recipe("topic")], ctx, N, 1, seed=0)[0]
    together = build_subsets(TASK_RECIPES["toxicity"], ctx, N, 1, seed=0)
    assert next(s for s in together if s.recipe == "topic").rows.tolist() == alone.rows.tolist()


def _mean(values) -> float:
    return float(np.mean(values))


def test_duplicate_recipes_lower_distinct_n(ctx):
    def d2(rows):
        return distinct_n([ctx.texts[i] for i in rows], 2)

    random = _mean([d2(r) for r in many(ctx, "random")])
    assert _mean([d2(r) for r in many(ctx, "near_duplicates")]) < random - 0.05
    assert _mean([d2(r) for r in many(ctx, "exact_duplicates")]) < random / 2
    exact = many(ctx, "exact_duplicates")[0]
    assert len(np.unique(exact)) == N // 5


def test_narrowing_recipes_lower_and_max_diversity_raises_embedding_spread(ctx):
    def spread(rows):
        return mean_pairwise_cosine_distance(ctx.embeddings[rows])

    random = _mean([spread(r) for r in many(ctx, "random")])
    for narrow in ("embedding_cluster", "tfidf_cluster", "topic"):
        assert _mean([spread(r) for r in many(ctx, narrow)]) < random - 0.1, narrow
    assert _mean([spread(r) for r in many(ctx, "max_diversity")]) > random

    def nearest(rows):  # mean cosine similarity of each text to its closest other text in the subset
        x = ctx.embeddings[rows]
        sim = x @ x.T
        np.fill_diagonal(sim, -np.inf)
        return sim.max(axis=1).mean()

    assert _mean([nearest(r) for r in many(ctx, "near_duplicates")]) > _mean([nearest(r) for r in many(ctx, "random")])


def test_max_feature_coverage_covers_more_features_than_random(ctx):
    def covered(rows):
        return np.unique(ctx.rows.take(rows).features).size

    assert _mean([covered(r) for r in many(ctx, "max_feature_coverage")]) > _mean(
        [covered(r) for r in many(ctx, "random")]
    )


def test_length_recipes_order_by_tokens(ctx):
    q1, mid, q4 = (
        _mean([ctx.tokens[r].mean() for r in many(ctx, n)]) for n in ("length_q1", "length_mid", "length_q4")
    )
    assert q1 < mid < q4


def test_class_recipes_select_on_their_attribute(ctx):
    hate = many(ctx, "hate_half")[0]
    toxic = hate[ctx.strata[hate] == 1]
    assert (ctx.attributes["davidson_class"][toxic] == 0).sum() == N // 4  # 7x the 10% base rate
    single = draw(recipe("single_turn", "reward_modeling"), ctx, N, np.random.default_rng(0))
    assert (ctx.attributes["turns"][single] == 1).all()
    longer = draw(recipe("chosen_longer", "reward_modeling"), ctx, N, np.random.default_rng(0))
    assert (ctx.attributes["chosen_longer"][longer] == 1).all()


def test_too_small_a_pool_is_an_error_naming_the_recipe(ctx):
    with pytest.raises(FacInputError, match="length"):
        draw(recipe("length_q1"), ctx, N_POOL, np.random.default_rng(0))
