"""The validation study end to end: tasks -> annotations -> subsets -> metrics + downstream -> statistics.

One function, `run_study`, so the benchmark script stays a thin argument parser and a test can run
the quick mode in-process. Every random choice is seeded from `ValidationConfig.seed`; wall times
go to `timings`, kept apart from the tables so two runs with one seed compare equal.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from fac_datasets.config import ExtractorConfig, ValidationConfig
from fac_datasets.tasks import STUDY_TASKS
from fac_datasets.validation.annotate import annotate_task
from fac_datasets.validation.metrics import NEG_MMD, TOKENS, MetricTable, subset_metrics
from fac_datasets.validation.recipes import TASK_RECIPES, RecipeContext, Subset, build_subsets
from fac_datasets.validation.selection import compare, defaults_decision, heldout_task, recipe_folds
from fac_datasets.validation.stats import correlate
from fac_datasets.validation.tasks import load_task, subset_size
from fac_datasets.validation.train import downstream_scores, encode_task

TASKS = STUDY_TASKS
METRIC_LABELS = {"toxicity": "AUPRC of the probe", "reward_modeling": "pair accuracy of the Bradley-Terry head"}


def quick_config(seed: int = 0) -> ValidationConfig:
    """Tiny pools, one subset per recipe, short texts: the whole pipeline in a couple of minutes (CI)."""
    return ValidationConfig(
        seed=seed,
        subset_seeds=1,
        toxicity_pool=160,
        toxicity_anchor=60,
        toxicity_test=60,
        toxicity_subset=32,
        reward_pool=80,
        reward_anchor=24,
        reward_test=24,
        reward_contrast=24,
        reward_subset=16,
        max_length=96,
        bootstrap=200,
    )


def _context(task, ann) -> RecipeContext:
    return RecipeContext(
        texts=task.pool_texts,
        strata=task.strata,
        attributes=task.attributes,
        tokens=ann.pool_rows.n_tokens,
        embeddings=ann.pool_embeddings,
        rows=ann.pool_rows,
        d_sae=ann.d_sae,
    )


def _subset_records(subsets: list[Subset], table: MetricTable, scores: np.ndarray) -> list[dict]:
    records = []
    for i, s in enumerate(subsets):
        values = {
            m: (None if not np.isfinite(v) else float(v)) for m, v in zip(table.metrics, table.values[i], strict=True)
        }
        records.append(
            {
                "name": s.name,
                "recipe": s.recipe,
                "family": s.family,
                "seed": s.seed,
                "distinct_rows": int(len(np.unique(s.rows))),
                "score": float(scores[i].mean()),
                "score_seeds": scores[i].tolist(),
                "metrics": values,
            }
        )
    return records


def run_task(
    name: str, config: ValidationConfig, data_dir: Path, extractor: ExtractorConfig, timings: dict
) -> tuple[dict, MetricTable, np.ndarray, np.ndarray]:
    """One task: (its report section, metric table, downstream score per subset, recipe per subset)."""
    start = time.perf_counter()
    task = load_task(name, data_dir, config)
    ann = annotate_task(task, extractor, cache=config.cache)
    timings[f"{name}_annotate_s"] = round(time.perf_counter() - start, 1)

    start = time.perf_counter()
    states = encode_task(task, config)
    timings[f"{name}_states_s"] = round(time.perf_counter() - start, 1)

    start = time.perf_counter()
    subsets = build_subsets(
        TASK_RECIPES[name], _context(task, ann), subset_size(name, config), config.subset_seeds, config.seed
    )
    timings[f"{name}_subsets_s"] = round(time.perf_counter() - start, 1)

    start = time.perf_counter()
    table = subset_metrics(ann, task.pool_texts, subsets, seed=config.seed)
    timings[f"{name}_metrics_s"] = round(time.perf_counter() - start, 1)

    start = time.perf_counter()
    scores = downstream_scores(states, [s.rows for s in subsets], config)
    timings[f"{name}_train_s"] = round(time.perf_counter() - start, 1)

    y = scores.mean(axis=1)
    recipes = np.asarray([s.recipe for s in subsets])
    z = table.column(TOKENS)
    correlations = {
        m: {
            k: v.to_dict()
            for k, v in correlate(
                table.column(m), y, z, resamples=config.bootstrap, ci=config.ci, seed=config.seed
            ).items()
        }
        for m in table.metrics
    }
    folds = recipe_folds([r.name for r in TASK_RECIPES[name]], config.holdout_fraction, config.seed)
    heldout = heldout_task(
        table, y, recipes, folds, statistic=config.select_by, resamples=config.bootstrap, ci=config.ci, seed=config.seed
    )
    section = {
        "metric": task.metric,
        "metric_label": METRIC_LABELS[name],
        "sources": task.sources,
        "subset_size": subset_size(name, config),
        "n_subsets": len(subsets),
        "recipes": [{"name": r.name, "family": r.family, "description": r.description} for r in TASK_RECIPES[name]],
        "relevance": table.relevance,
        "token_budget": table.token_budget,
        "notes": table.notes,
        "score_summary": {
            "min": float(y.min()),
            "max": float(y.max()),
            "mean": float(y.mean()),
            "max_seed_spread": float((scores.max(axis=1) - scores.min(axis=1)).max()),
        },
        "metrics": [
            {
                "name": m,
                "kind": k,
                "distinct_values": int(len(np.unique(table.column(m)[np.isfinite(table.column(m))]))),
            }
            for m, k in zip(table.metrics, table.kinds, strict=True)
        ],
        "correlations": correlations,
        "heldout": heldout,
        "comparison": [compare(fold, config.select_by) for fold in heldout["folds"]],
        "subsets": _subset_records(subsets, table, scores),
    }
    return section, table, y, recipes


def run_study(
    config: ValidationConfig,
    tasks: tuple[str, ...] = TASKS,
    *,
    data_dir: str | Path,
    out: str | Path,
    extractor: ExtractorConfig | None = None,
) -> dict:
    """Run every task, pick and confirm the FAC variant, write validation.json/.md/.png into `out`."""
    from fac_datasets.validation.report import write_report

    begin = time.perf_counter()
    extractor = extractor or ExtractorConfig(max_length=config.max_length)
    timings: dict[str, float] = {}
    sections, tables, ys, recipes, folds = {}, {}, {}, {}, {}
    for name in tasks:
        sections[name], tables[name], ys[name], recipes[name] = run_task(
            name, config, Path(data_dir), extractor, timings
        )
        folds[name] = [f["heldout_recipes"] for f in sections[name]["heldout"]["folds"]]
    defaults = defaults_decision(
        tables,
        ys,
        recipes,
        folds,
        statistic=config.select_by,
        resamples=config.bootstrap,
        ci=config.ci,
        seed=config.seed,
    )
    timings["total_s"] = round(time.perf_counter() - begin, 1)
    result = {
        "config": config.model_dump(),
        "extractor": extractor.model_dump(),
        "reference_metric": NEG_MMD,
        "tasks": sections,
        "defaults": defaults,
        "timings": timings,
    }
    write_report(result, Path(out))
    return result
