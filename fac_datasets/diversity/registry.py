"""The metrics `fac diversity` knows, by name (FAC among them); add one with `register_metric`.

A metric is a callable `(corpus, **options) -> {column: value}`. It gets a `Corpus`, not bare
texts, so metrics that share an expensive step (sentence embeddings, POS tags) compute it once
per dataset.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from fac_datasets.config import CoverageConfig, DCScoreConfig, GVendiConfig, NovelSumConfig
from fac_datasets.diversity import ngrams
from fac_datasets.errors import FacInputError


@dataclass
class Corpus:
    """One dataset's texts plus lazily computed, shared intermediate results."""

    name: str
    texts: list[str]
    embedder: str = "default"
    source: str | None = None
    anchor: object | None = None  # FeatureCounts FAC is measured against (set by `fac diversity`)
    reference_embeddings: np.ndarray | None = None  # NovelSum's density reference (set by `fac diversity`)

    @cached_property
    def embeddings(self) -> np.ndarray:
        from fac_datasets.diversity.embeddings import embed

        return embed(self.texts, model=self.embedder)

    @cached_property
    def pos_tags(self) -> list[list[str]]:
        from fac_datasets.diversity.pos import pos_tags

        return pos_tags(self.texts)

    @cached_property
    def feature_rows(self):
        """SAE features per text (embedded default backbone + SAE), for FAC."""
        return default_extractor().extract_rows(self.texts)

    @cached_property
    def word_tokens(self) -> list[list[str]]:
        return [ngrams.tokenize(t) for t in self.texts]


@functools.lru_cache(maxsize=1)
def default_extractor():
    """One embedded backbone + SAE per process, shared by every corpus."""
    from fac_datasets.features.extractor import load_extractor

    return load_extractor()


def pooled_embeddings(corpora: list[Corpus]) -> np.ndarray:
    """Sentence embeddings of all corpora together: NovelSum's density reference when no --anchor is given."""
    return np.concatenate([c.embeddings for c in corpora])


def pooled_anchor(corpora: list[Corpus]):
    """FeatureCounts of all corpora together: FAC's anchor when no --anchor is given."""
    from fac_datasets.features.counts import FeatureCounts

    extractor = default_extractor()
    counts = [FeatureCounts.from_rows(c.feature_rows, extractor.sae.d_sae, extractor.provenance) for c in corpora]
    return sum(counts[1:], counts[0])


MetricFn = Callable[..., dict[str, float]]


@dataclass(frozen=True)
class MetricSpec:
    name: str
    compute: MetricFn
    description: str
    columns: tuple[str, ...] = field(default=())  # what `compute` returns, in table order
    default: bool = True  # run when no metric is named; False for the expensive ones (asked for by name)


METRICS: dict[str, MetricSpec] = {}


def register_metric(spec: MetricSpec) -> MetricSpec:
    """Add (or replace) a metric under `spec.name`."""
    METRICS[spec.name] = spec
    return spec


def resolve_metrics(names: list[str] | None) -> list[MetricSpec]:
    """Specs for `names` (the default ones when None), or a FacInputError listing the known names."""
    if not names:
        return [spec for spec in METRICS.values() if spec.default]
    unknown = [n for n in names if n not in METRICS]
    if unknown:
        raise FacInputError(f"Unknown metric(s) {', '.join(unknown)}; known: {', '.join(METRICS)}.")
    return [METRICS[n] for n in names]


def _distinct(corpus: Corpus) -> dict[str, float]:
    return {f"distinct_{n}": ngrams.distinct_of_tokens(corpus.word_tokens, n) for n in (1, 2)}


def _entropy(corpus: Corpus) -> dict[str, float]:
    return {"entropy_2": ngrams.entropy_of_counts(ngrams.ngram_counts(corpus.word_tokens, 2))}


def _pos(corpus: Corpus) -> dict[str, float]:
    return {"pos_distinct_2": ngrams.distinct_of_tokens(corpus.pos_tags, 2)}


def _pair(corpus: Corpus) -> dict[str, float]:
    from fac_datasets.diversity.pairwise import mean_pairwise_cosine_distance

    if len(corpus.texts) < 2:
        raise FacInputError("pair_cosdist needs at least 2 texts.")
    return {"pair_cosdist": mean_pairwise_cosine_distance(corpus.embeddings)}


def _semantic(corpus: Corpus) -> dict[str, float]:
    from fac_datasets.diversity.semantic import semantic_entropy_of_embeddings

    result = semantic_entropy_of_embeddings(corpus.embeddings)
    return {"semantic_entropy": result.semantic_entropy, "meaning_clusters": result.n_clusters}


def _vendi(corpus: Corpus) -> dict[str, float]:
    from fac_datasets.diversity.vendi import vendi_of_embeddings

    return {"vendi": vendi_of_embeddings(corpus.embeddings)}


def _novelsum(corpus: Corpus) -> dict[str, float]:
    from fac_datasets.diversity.novelsum import novelsum_of_embeddings

    result = novelsum_of_embeddings(corpus.embeddings, corpus.reference_embeddings)
    return {"novelsum": result.novelsum}


def _dcscore(corpus: Corpus) -> dict[str, float]:
    from fac_datasets.diversity.dcscore import dcscore_of_embeddings

    return {"dcscore": dcscore_of_embeddings(corpus.embeddings)}


def _g_vendi(corpus: Corpus) -> dict[str, float]:
    from fac_datasets.diversity.g_vendi import g_vendi

    return {"g_vendi": g_vendi(corpus.texts).g_vendi}


def _fac(corpus: Corpus) -> dict[str, float]:
    from fac_datasets.coverage.compute import compute_coverage

    if corpus.anchor is None:
        raise FacInputError("fac needs an anchor (fac diversity pools all inputs, or takes --anchor).")
    report = compute_coverage(corpus.anchor, corpus.feature_rows)
    return {"fac": report.fac, "fac_tokens_per_text": report.current_mean_tokens}


for _spec in (
    MetricSpec(
        "distinct_n",
        _distinct,
        "unique/total word n-grams, corpus-pooled (Li et al. 2016)",
        ("distinct_1", "distinct_2"),
    ),
    MetricSpec("ngram_entropy", _entropy, "Shannon entropy (nats) of word bigram frequencies", ("entropy_2",)),
    MetricSpec("pos_distinct", _pos, "Distinct-2 over spaCy PTB tag sequences", ("pos_distinct_2",)),
    MetricSpec(
        "pair_cosdist", _pair, "mean cosine distance over pairs i != j, MiniLM embeddings (exact)", ("pair_cosdist",)
    ),
    MetricSpec(
        "semantic_entropy",
        _semantic,
        "entropy (nats) over complete-linkage meaning clusters at cos >= 0.75",
        ("semantic_entropy", "meaning_clusters"),
    ),
    MetricSpec("vendi", _vendi, "Vendi score, cosine kernel on MiniLM embeddings (Friedman & Dieng 2023)", ("vendi",)),
    MetricSpec(
        "novelsum",
        _novelsum,
        "proximity-weighted, density-aware novelty, MiniLM embeddings; density against --anchor or all inputs "
        f"(Yang et al. 2025; K={NovelSumConfig.default_of('neighbors')}, "
        f"beta={NovelSumConfig.default_of('density_power')}, alpha={NovelSumConfig.default_of('distance_power')})",
        ("novelsum",),
    ),
    MetricSpec(
        "dcscore",
        _dcscore,
        f"trace of softmax(cos / {DCScoreConfig.default_of('tau')}), MiniLM embeddings (Zhu et al. 2025)",
        ("dcscore",),
    ),
    MetricSpec(
        "g_vendi",
        _g_vendi,
        "Vendi score of projected loss gradients of the embedded SmolLM2 "
        f"(last {GVendiConfig.default_of('blocks')} block(s), {GVendiConfig.default_of('projection_dim')} dims; "
        "Jung et al. 2025); slow, run only when named",
        ("g_vendi",),
        default=False,
    ),
    MetricSpec(
        "fac",
        _fac,
        "Feature Activation Coverage of the anchor's features "
        f"(anchor support >= {CoverageConfig.default_of('anchor_min_support')}; default SAE)",
        ("fac", "fac_tokens_per_text"),
    ),
):
    register_metric(_spec)
