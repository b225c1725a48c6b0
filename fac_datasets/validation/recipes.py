"""Subset recipes: equal-size training sets with deliberately varied diversity, as pool row indices.

The recipes separate diversity from distribution match: some narrow the data (clusters, a topic,
near-duplicates, a length quartile), some widen it (max-diversity in embedding space, max feature
coverage), some change who is in it without changing its spread (class-conditional mixes), and
random subsets match the pool. Within a labelled task every recipe keeps the label balance unless
the label mix is what it varies. Every subset is a pure function of (seed, recipe, subset seed).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from fac_datasets.errors import FacInputError
from fac_datasets.features.rows import FeatureRows

N_CLUSTERS = 8
DUPLICATES = 5  # copies (or near neighbours) per base text in the duplicate recipes
CANDIDATES = 4  # greedy max-diversity recipes choose from this many times n random candidates
TOPIC_VOCABULARY = 40  # the topic recipe picks its words among this many most common content words
TOPIC_WORDS = 3


@dataclass
class RecipeContext:
    """What recipes read about the pool (rows are pool indices)."""

    texts: list[str]
    strata: np.ndarray | None
    attributes: dict[str, np.ndarray]
    tokens: np.ndarray
    embeddings: np.ndarray
    rows: FeatureRows
    d_sae: int

    @property
    def n(self) -> int:
        return len(self.texts)

    @cached_property
    def tfidf(self):
        """[n, vocab] sublinear TF-IDF (English stop words out), and the vocabulary."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True, min_df=2)
        return vectorizer.fit_transform(self.texts).tocsr(), vectorizer.get_feature_names_out()

    @cached_property
    def feature_matrix(self):
        """[n, d_sae] 0/1 sparse matrix of which SAE features each text activates."""
        from scipy.sparse import csr_matrix

        data = np.ones(self.rows.features.size, dtype=np.float32)
        return csr_matrix((data, self.rows.features, self.rows.offsets), shape=(self.rows.n_rows, self.d_sae))


Picker = Callable[[RecipeContext, np.ndarray, int, np.random.Generator], np.ndarray]
Allocator = Callable[[RecipeContext, int], list[tuple[np.ndarray, int]]]


@dataclass(frozen=True)
class Recipe:
    """A named way to pick `n` rows: `allocate` splits n over candidate groups, `pick` chooses within one."""

    name: str
    family: str
    pick: Picker
    allocate: Allocator | None = None
    description: str = ""


# ------------------------------------------------------------------ allocation
def balanced(ctx: RecipeContext, n: int) -> list[tuple[np.ndarray, int]]:
    """Equal shares of n per stratum (all rows when the task has no strata)."""
    if ctx.strata is None:
        return [(np.arange(ctx.n), n)]
    labels = np.unique(ctx.strata)
    shares = [n // len(labels) + (i < n % len(labels)) for i in range(len(labels))]
    return [(np.flatnonzero(ctx.strata == y), k) for y, k in zip(labels, shares, strict=True)]


def label_mix(positive_share: float) -> Allocator:
    """Label-skewed subsets: `positive_share` of the rows from stratum 1, the rest from stratum 0."""

    def allocate(ctx: RecipeContext, n: int) -> list[tuple[np.ndarray, int]]:
        k = int(round(positive_share * n))
        return [(np.flatnonzero(ctx.strata == 1), k), (np.flatnonzero(ctx.strata == 0), n - k)]

    return allocate


def class_mix(attribute: str, positive: int, share: float) -> Allocator:
    """Balanced labels; within stratum 1, `share` of its rows have `attribute == positive` (e.g. hate speech)."""

    def allocate(ctx: RecipeContext, n: int) -> list[tuple[np.ndarray, int]]:
        half = n // 2
        task = ctx.strata == 1
        values = ctx.attributes[attribute]
        rare = np.flatnonzero(task & (values == positive))
        special = min(int(round(share * (n - half))), len(rare))  # a small pool has few rare rows: take them all
        return [
            (np.flatnonzero(ctx.strata == 0), half),
            (rare, special),
            (np.flatnonzero(task & (values != positive)), n - half - special),
        ]

    return allocate


def restricted(attribute: str, keep: Callable[[np.ndarray], np.ndarray]) -> Allocator:
    """Only rows whose attribute passes `keep` (e.g. single-turn dialogues), balanced over strata."""

    def allocate(ctx: RecipeContext, n: int) -> list[tuple[np.ndarray, int]]:
        allowed = keep(ctx.attributes[attribute])
        return [(c[allowed[c]], k) for c, k in balanced(ctx, n)]

    return allocate


# ------------------------------------------------------------------ pickers
def _check(candidates: np.ndarray, n: int, what: str) -> None:
    if len(candidates) < n:
        raise FacInputError(f"Recipe {what}: {len(candidates)} candidate rows for {n} picks; enlarge the pool.")


def random_pick(ctx: RecipeContext, candidates: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    _check(candidates, n, "random")
    return rng.choice(candidates, size=n, replace=False)


def _nearest_clusters_fill(x, candidates: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """k-means (k = N_CLUSTERS) on `x[candidates]`; rows of one random cluster, then of the clusters nearest to it."""
    from sklearn.cluster import KMeans

    k = min(N_CLUSTERS, len(candidates))
    seed = int(rng.integers(2**31 - 1))
    model = KMeans(n_clusters=k, n_init=3, random_state=seed).fit(x[candidates])
    centers = model.cluster_centers_
    start = int(rng.integers(k))
    order = np.argsort(((centers - centers[start]) ** 2).sum(axis=1), kind="stable")
    picked: list[int] = []
    for cluster in order:
        members = candidates[model.labels_ == cluster]
        room = n - len(picked)
        picked.extend(rng.choice(members, size=min(room, len(members)), replace=False).tolist())
        if len(picked) >= n:
            break
    return np.asarray(picked, dtype=np.int64)


def tfidf_cluster(ctx: RecipeContext, candidates: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    _check(candidates, n, "tfidf_cluster")
    return _nearest_clusters_fill(ctx.tfidf[0], candidates, n, rng)


def embedding_cluster(ctx: RecipeContext, candidates: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    _check(candidates, n, "embedding_cluster")
    return _nearest_clusters_fill(ctx.embeddings, candidates, n, rng)


def cluster_half_random(ctx: RecipeContext, candidates: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Half from one embedding cluster, half random from the rest: diversity between cluster and random."""
    half = embedding_cluster(ctx, candidates, n // 2, rng)
    rest = np.setdiff1d(candidates, half)
    return np.concatenate([half, random_pick(ctx, rest, n - len(half), rng)])


def topic(ctx: RecipeContext, candidates: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Rows richest in a few seeded common content words (summed TF-IDF), ties broken at random."""
    _check(candidates, n, "topic")
    matrix, _ = ctx.tfidf
    sub = matrix[candidates]
    doc_freq = np.asarray((sub > 0).sum(axis=0)).ravel()
    common = np.argsort(-doc_freq, kind="stable")[:TOPIC_VOCABULARY]
    words = rng.choice(common, size=min(TOPIC_WORDS, len(common)), replace=False)
    score = np.asarray(sub[:, words].sum(axis=1)).ravel()
    order = np.lexsort((rng.random(len(candidates)), -score))
    return candidates[order[:n]]


def near_duplicates(ctx: RecipeContext, candidates: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """n / DUPLICATES random base rows, each with its nearest unused neighbours in embedding space."""
    _check(candidates, n, "near_duplicates")
    x = ctx.embeddings[candidates]
    order = rng.permutation(len(candidates))
    used = np.zeros(len(candidates), dtype=bool)
    picked: list[int] = []
    for base in order:
        if used[base]:
            continue
        similarity = x @ x[base]
        similarity[used] = -np.inf
        group = np.argsort(-similarity, kind="stable")[: min(DUPLICATES, n - len(picked))]
        used[group] = True
        picked.extend(candidates[group].tolist())
        if len(picked) >= n:
            break
    return np.asarray(picked, dtype=np.int64)


def exact_duplicates(ctx: RecipeContext, candidates: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """ceil(n / DUPLICATES) random rows, repeated to n rows (the same text several times)."""
    base = random_pick(ctx, candidates, -(-n // DUPLICATES), rng)
    return np.resize(np.repeat(base, DUPLICATES), n)


def length_band(low: float, high: float) -> Picker:
    """Random rows among those whose token count lies in the [low, high) quantile band of the candidates."""

    def pick(ctx: RecipeContext, candidates: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
        order = candidates[np.lexsort((candidates, ctx.tokens[candidates]))]  # by length, then row
        band = order[int(low * len(order)) : int(np.ceil(high * len(order)))]
        _check(band, n, f"length {low:g}-{high:g}")
        return rng.choice(band, size=n, replace=False)

    return pick


def max_diversity(ctx: RecipeContext, candidates: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Greedy farthest-point selection in embedding space among CANDIDATES x n random candidates."""
    _check(candidates, n, "max_diversity")
    pool = rng.choice(candidates, size=min(len(candidates), CANDIDATES * n), replace=False)
    x = ctx.embeddings[pool].astype(np.float64)
    chosen = [int(rng.integers(len(pool)))]
    distance = 1.0 - x @ x[chosen[0]]
    distance[chosen[0]] = -np.inf
    for _ in range(n - 1):
        nxt = int(np.argmax(distance))
        chosen.append(nxt)
        distance = np.minimum(distance, 1.0 - x @ x[nxt])
        distance[chosen] = -np.inf
    return pool[chosen]


def max_feature_coverage(ctx: RecipeContext, candidates: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Greedy max coverage of SAE features among CANDIDATES x n random candidates: the FAC-maximising set."""
    _check(candidates, n, "max_feature_coverage")
    pool = rng.choice(candidates, size=min(len(candidates), CANDIDATES * n), replace=False)
    matrix = ctx.feature_matrix[pool]
    uncovered = np.ones(ctx.d_sae, dtype=np.float32)
    free = np.ones(len(pool), dtype=bool)
    chosen = []
    for _ in range(n):
        gain = np.where(free, matrix @ uncovered, -1.0)
        best = int(np.argmax(gain))  # ties: the earliest of the random candidate order
        chosen.append(best)
        free[best] = False
        uncovered[matrix[best].indices] = 0.0
    return pool[chosen]


# ------------------------------------------------------------------ the recipe lists
COMMON = [
    Recipe("random", "random", random_pick, description="uniform sample"),
    Recipe("tfidf_cluster", "clustered", tfidf_cluster, description="one TF-IDF k-means cluster (+ nearest)"),
    Recipe("embedding_cluster", "clustered", embedding_cluster, description="one MiniLM k-means cluster (+ nearest)"),
    Recipe("cluster_half_random", "clustered", cluster_half_random, description="half one cluster, half random"),
    Recipe("topic", "topic-restricted", topic, description="richest in 3 seeded common words"),
    Recipe("near_duplicates", "near-duplicated", near_duplicates, description="groups of 5 nearest neighbours"),
    Recipe("exact_duplicates", "near-duplicated", exact_duplicates, description="n/5 texts repeated 5 times"),
    Recipe("length_q1", "length", length_band(0.0, 0.25), description="shortest quartile"),
    Recipe("length_mid", "length", length_band(0.25, 0.75), description="middle half by length"),
    Recipe("length_q4", "length", length_band(0.75, 1.0), description="longest quartile"),
    Recipe("max_diversity", "max-diversity", max_diversity, description="farthest-point in MiniLM space"),
    Recipe("max_feature_coverage", "max-diversity", max_feature_coverage, description="greedy SAE feature coverage"),
]
TASK_RECIPES: dict[str, list[Recipe]] = {
    "toxicity": [
        *COMMON,
        Recipe("toxic_70", "class-mix", random_pick, label_mix(0.7), "70% toxic, 30% not"),
        Recipe("toxic_30", "class-mix", random_pick, label_mix(0.3), "30% toxic, 70% not"),
        Recipe("hate_half", "class-mix", random_pick, class_mix("davidson_class", 0, 0.5), "toxic half: 50% hate"),
    ],
    "reward_modeling": [
        *COMMON,
        Recipe(
            "chosen_longer",
            "class-mix",
            random_pick,
            restricted("chosen_longer", lambda v: v == 1),
            "pairs whose chosen answer is longer",
        ),
        Recipe(
            "chosen_shorter",
            "class-mix",
            random_pick,
            restricted("chosen_longer", lambda v: v == 0),
            "pairs whose chosen answer is shorter",
        ),
        Recipe("single_turn", "class-mix", random_pick, restricted("turns", lambda v: v == 1), "one Human turn"),
    ],
}


@dataclass(frozen=True)
class Subset:
    """One training subset: pool rows (duplicates allowed) and where it came from."""

    recipe: str
    family: str
    seed: int
    rows: np.ndarray

    @property
    def name(self) -> str:
        return f"{self.recipe}/{self.seed}"


def draw(recipe: Recipe, ctx: RecipeContext, n: int, rng: np.random.Generator) -> np.ndarray:
    """n pool rows by `recipe` (sorted, so the order never depends on how groups were visited)."""
    parts = [recipe.pick(ctx, candidates, k, rng) for candidates, k in (recipe.allocate or balanced)(ctx, n) if k]
    rows = np.sort(np.concatenate(parts)).astype(np.int64)
    if len(rows) != n:
        raise FacInputError(f"Recipe {recipe.name} drew {len(rows)} rows, not {n}.")
    return rows


def build_subsets(recipes: list[Recipe], ctx: RecipeContext, n: int, subset_seeds: int, seed: int) -> list[Subset]:
    """subset_seeds subsets per recipe; each draws from its own generator seeded by (seed, recipe name, subset seed)."""
    out = []
    for recipe in recipes:
        for s in range(subset_seeds):
            rng = np.random.default_rng([seed, zlib.crc32(recipe.name.encode()), s])
            out.append(Subset(recipe.name, recipe.family, s, draw(recipe, ctx, n, rng)))
    return out
