"""Every metric on every subset: the FAC variant grid, the baseline diversity metrics, -MMD, tokens per text.

FAC variants are the project's own `compute_coverage` on index-selected pool rows:
relevance (anchor support | enrichment vs the shipped reference stats | enrichment vs the task's
contrast set) x activation rule (any | quantile | fraction_of_max) in one call each, which reports
binary and soft coverage on the whole subset and at a fixed token budget: 3 x 3 x 2 x 2 = 36
variants. The baselines are the `fac diversity` registry's metrics, fed with the pool's cached
embeddings, tags and word tokens. -MMD is `coverage.mmd.mmd2_unbiased` on the same embeddings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from fac_datasets.config import CoverageConfig, RelevanceConfig
from fac_datasets.features.counts import FeatureCounts
from fac_datasets.validation.annotate import Annotations
from fac_datasets.validation.recipes import Subset

RELEVANCE_METHODS = ("anchor_support", "enrich_reference", "enrich_contrast")
ACTIVATION_RULES = ("any", "quantile", "fraction_of_max")
FORMS = ("binary", "soft")
BUDGETS = ("full", "budget")
BASELINES = ("distinct_1", "distinct_2", "entropy_2", "pos_distinct_2", "pair_cosdist", "semantic_entropy", "vendi")
BASELINE_MODULES = ("distinct_n", "ngram_entropy", "pos_distinct", "pair_cosdist", "semantic_entropy", "vendi")
NEG_MMD = "neg_mmd"
TOKENS = "tokens_per_text"
DEFAULT_VARIANT = "fac:anchor_support:binary:full:any"  # what CoverageConfig/RelevanceConfig report today


@dataclass(frozen=True)
class FacVariant:
    """One point of the FAC grid; `name` is 'fac:relevance:form:budget:rule'."""

    relevance: str
    form: str
    budget: str
    rule: str

    @property
    def name(self) -> str:
        return f"fac:{self.relevance}:{self.form}:{self.budget}:{self.rule}"


def fac_variants() -> list[FacVariant]:
    return [
        FacVariant(rel, form, budget, rule)
        for rel in RELEVANCE_METHODS
        for rule in ACTIVATION_RULES
        for budget in BUDGETS
        for form in FORMS
    ]


@dataclass
class MetricTable:
    """values[i, j]: metric j on subset i (NaN where a metric could not be computed, with the reason in notes).

    Attributes:
        kinds: per metric, 'fac', 'baseline' or 'reference' (-MMD, tokens per text).
        relevance: per relevance method, how many features it selects and its rule line.
        token_budget: content tokens of the token-budget variants (the smallest subset's total, so all compare equal).
    """

    metrics: list[str]
    kinds: list[str]
    values: np.ndarray
    relevance: dict[str, dict] = field(default_factory=dict)
    token_budget: int = 0
    notes: list[str] = field(default_factory=list)

    def column(self, name: str) -> np.ndarray:
        return self.values[:, self.metrics.index(name)]


def relevant_sets(ann: Annotations, reference) -> tuple[dict[str, list[int] | None], dict[str, dict], list[str]]:
    """Relevant ids per method (None = anchor support, decided inside compute_coverage), descriptions, notes."""
    from fac_datasets.relevance.enrichment import enrich

    config = RelevanceConfig()
    anchor = FeatureCounts.from_rows(ann.anchor_rows, ann.d_sae, ann.provenance)
    task_anchor = FeatureCounts.from_rows(ann.task_anchor_rows, ann.d_sae, ann.provenance)
    contrast = FeatureCounts.from_rows(ann.contrast_rows, ann.d_sae, ann.provenance)
    support = int(anchor.active(CoverageConfig.default_of("anchor_min_support")).size)
    sets: dict[str, list[int] | None] = {"anchor_support": None}
    info = {
        "anchor_support": {"n_features": support, "rule": "anchor support >= 3 (every latent active in the anchor)"}
    }
    notes = []
    for method, (side, against, name) in {
        "enrich_reference": (anchor, reference.counts, "the shipped reference stats"),
        "enrich_contrast": (task_anchor, contrast, "the task's contrast set"),
    }.items():
        result = enrich(side, against, config, reference_name=name)
        sets[method] = result.features.tolist() if len(result) else []
        info[method] = {"n_features": len(result), "rule": result.rule}
        if not len(result):
            notes.append(f"{method}: no feature passed ({result.rule}); its variants are n/a.")
    return sets, info, notes


def _fac_values(
    ann: Annotations, rows, relevant: dict, anchor: FeatureCounts, reference, budget: int, variants: list[FacVariant]
) -> dict[str, float]:
    from fac_datasets.coverage.compute import compute_coverage

    out = {}
    for method, ids in relevant.items():
        for rule in ACTIVATION_RULES:
            names = [v for v in variants if v.relevance == method and v.rule == rule]
            if ids is not None and not ids:
                out.update({v.name: float("nan") for v in names})
                continue
            config = CoverageConfig(token_budget=budget, activation_rule=rule, rarefaction_fractions=(1.0,))
            report = compute_coverage(anchor, rows, ids, config, anchor_rows=ann.anchor_rows, reference=reference)
            v = report.variants
            tb = v["token_budget"]
            by_key = {
                ("binary", "full"): v["binary_fac"],
                ("soft", "full"): v["soft_fac"],
                ("binary", "budget"): tb["fac_mean"],
                ("soft", "budget"): tb["soft_fac_mean"],
            }
            out.update({x.name: float(by_key[(x.form, x.budget)]) for x in names})
    return out


def _baseline_values(ann: Annotations, texts: Sequence[str], rows: np.ndarray) -> dict[str, float]:
    from fac_datasets.diversity.registry import METRICS, Corpus

    corpus = Corpus("subset", [texts[i] for i in rows])
    corpus.__dict__.update(  # the registry's cached intermediates, selected from the pool's
        embeddings=ann.pool_embeddings[rows],
        pos_tags=[ann.pool_pos[i] for i in rows],
        word_tokens=[ann.pool_words[i] for i in rows],
    )
    out: dict[str, float] = {}
    for module in BASELINE_MODULES:
        out.update(METRICS[module].compute(corpus))
    return {name: float(out[name]) for name in BASELINES}


def subset_metrics(
    ann: Annotations, texts: Sequence[str], subsets: list[Subset], *, seed: int, reference=None
) -> MetricTable:
    """The metric table of `subsets` (rows index the pool annotated in `ann`)."""
    from tqdm.auto import tqdm

    from fac_datasets.coverage.mmd import mmd2_unbiased
    from fac_datasets.features.reference import load_reference

    reference = reference if reference is not None else load_reference("default", ann.provenance)
    anchor = FeatureCounts.from_rows(ann.anchor_rows, ann.d_sae, ann.provenance)
    relevant, info, notes = relevant_sets(ann, reference)
    budget = int(min(ann.pool_rows.n_tokens[s.rows].sum() for s in subsets))
    variants = fac_variants()
    metrics = [v.name for v in variants] + list(BASELINES) + [NEG_MMD, TOKENS]
    kinds = ["fac"] * len(variants) + ["baseline"] * len(BASELINES) + ["reference", "reference"]
    values = np.full((len(subsets), len(metrics)), np.nan)
    for i, subset in enumerate(tqdm(subsets, desc="Subset metrics", unit="subset")):
        rows = ann.pool_rows.take(subset.rows)
        row = _fac_values(ann, rows, relevant, anchor, reference, budget, variants)
        row.update(_baseline_values(ann, texts, subset.rows))
        row[NEG_MMD] = -mmd2_unbiased(ann.pool_embeddings[subset.rows], ann.anchor_embeddings, seed=seed)
        row[TOKENS] = float(rows.n_tokens.mean())
        values[i] = [row[m] for m in metrics]
    return MetricTable(metrics, kinds, values, info, budget, notes)
