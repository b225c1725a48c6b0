"""The validation study: does a training set's FAC predict its downstream score better than the baselines?

Stages, one module each: `tasks` (pools, anchors, contrast and test sets from the shared data),
`annotate` (SAE features, embeddings, tags: once per text), `recipes` (equal-size subsets with
varied diversity, as index selections), `metrics` (the FAC variant grid, the baselines, -MMD),
`train` (the downstream harness's models on cached frozen states), `stats` (Pearson, Spearman,
partial r, bootstrap CIs), `selection` (choose on some recipes, confirm on held-out ones),
`report` (JSON, Markdown, PNG) and `study` (`run_study`, which ties them together).
This stage imports downstream, coverage, diversity, catalog and features; nothing imports it.
"""

from fac_datasets.validation.study import TASKS, quick_config, run_study

__all__ = ["TASKS", "quick_config", "run_study"]
