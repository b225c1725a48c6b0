"""Held-out selection on a planted table: the rule chooses on training recipes only and reports honestly."""

from __future__ import annotations

import numpy as np

from fac_datasets.validation.metrics import DEFAULT_VARIANT, NEG_MMD, TOKENS, MetricTable, fac_variants
from fac_datasets.validation.selection import choose, compare, defaults_decision, heldout_task, recipe_folds

RECIPES = [f"r{i}" for i in range(15)]


def test_fac_grid_has_36_named_variants_including_the_default():
    names = [v.name for v in fac_variants()]
    assert len(names) == len(set(names)) == 36
    assert DEFAULT_VARIANT in names


def test_recipe_folds_partition_whole_recipes_deterministically():
    folds = recipe_folds(RECIPES, 1 / 3, seed=0)
    assert len(folds) == 3 and all(len(f) == 5 for f in folds)
    assert sorted(r for f in folds for r in f) == sorted(RECIPES)
    assert folds == recipe_folds(RECIPES, 1 / 3, seed=0)
    assert folds != recipe_folds(RECIPES, 1 / 3, seed=1)


def planted(seed: int = 0) -> tuple[MetricTable, np.ndarray, np.ndarray, list[list[str]]]:
    """'good' tracks y everywhere; 'lucky' tracks y on fold 0's training recipes only (noise held out)."""
    rng = np.random.default_rng(seed)
    recipes = np.repeat(RECIPES, 3)
    folds = recipe_folds(RECIPES, 1 / 3, seed=0)
    held = np.isin(recipes, folds[0])
    y = rng.normal(size=recipes.size)
    tokens = rng.normal(size=recipes.size)
    good = y + 0.6 * rng.normal(size=y.size)
    lucky = np.where(held, rng.normal(size=y.size), y + 0.05 * rng.normal(size=y.size))
    names = [v.name for v in fac_variants()]
    columns = {name: rng.normal(size=y.size) for name in names}
    columns[names[5]] = good
    columns[names[7]] = lucky
    columns[DEFAULT_VARIANT] = np.ones(y.size)  # saturated, as plain FAC is
    metrics = [*names, "distinct_2", NEG_MMD, TOKENS]
    values = np.column_stack(
        [*(columns[n] for n in names), y + 1.5 * rng.normal(size=y.size), y + rng.normal(size=y.size), tokens]
    )
    kinds = ["fac"] * len(names) + ["baseline", "reference", "reference"]
    return MetricTable(metrics, kinds, values), y, recipes, folds


def test_selection_chooses_on_training_recipes_and_scores_held_out():
    table, y, recipes, folds = planted()
    result = heldout_task(table, y, recipes, folds, statistic="pearson", resamples=200, ci=0.95, seed=0)
    fold = result["folds"][0]
    assert fold["heldout_recipes"] == folds[0]
    assert fold["n_heldout_subsets"] == 15 and fold["n_train_subsets"] == 30
    lucky = table.metrics[7]
    assert fold["selected_fac"] == lucky  # the overfit variant wins on the training recipes ...
    assert abs(fold["heldout"][lucky]["pearson"]["value"]) < 0.6  # ... and is exposed held out
    assert fold["heldout"][DEFAULT_VARIANT]["pearson"]["value"] is None  # constant: undefined, not 0
    verdict = compare(fold, "pearson")
    assert verdict["beats_default"]  # anything defined beats an undefined default
    assert set(verdict) >= {"beats_every_baseline", "beats_selected_baseline", "beats_neg_mmd", "ci_above_zero"}
    assert fold["selected_baseline"] == "distinct_2"
    other = result["folds"][1]
    assert other["selected_fac"] in (lucky, table.metrics[5])


def test_defaults_decision_needs_every_task_held_out():
    table, y, recipes, folds = planted()
    tables, ys, rs, fs = (
        {"a": table, "b": table},
        {"a": y, "b": y},
        {"a": recipes, "b": recipes},
        {"a": folds, "b": folds},
    )
    decision = defaults_decision(tables, ys, rs, fs, statistic="pearson", resamples=200, ci=0.95, seed=0)
    assert decision["selected"] == table.metrics[7]
    assert decision["change_supported"] is False  # the lucky variant's held-out CI does not clear 0
    assert set(decision["heldout"]) == {"a", "b"}


def test_a_nearly_saturated_variant_is_not_chosen(monkeypatch):
    """FAC = 1.0 on most subsets, a few outliers that happen to track y: high r, but not eligible."""
    table, y, recipes, folds = planted()
    rng = np.random.default_rng(5)
    for name in (table.metrics[5], table.metrics[7]):  # no real signal left anywhere
        table.values[:, table.metrics.index(name)] = rng.normal(size=y.size)
    train = ~np.isin(recipes, folds[0])
    saturated = np.ones(y.size)
    low = np.flatnonzero(train)[np.argsort(y[train])[:6]]
    saturated[low] = 0.9 + 0.01 * np.arange(6)  # only the six worst training subsets fall below 1.0
    table.values[:, 9] = saturated
    assert choose([table], [y], [train], "fac", "pearson")[0] != table.metrics[9]
    monkeypatch.setattr("fac_datasets.validation.selection.MIN_DISTINCT_FRACTION", 0.0)
    assert choose([table], [y], [train], "fac", "pearson")[0] == table.metrics[9]  # what the guard prevents
