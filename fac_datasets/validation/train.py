"""The downstream model on each subset, from frozen states of the pool computed once.

The models are the downstream harness's, fitted on cached states instead of re-encoding every
subset: `toxicity_probe` (standardise + L2 logistic regression on mean-pooled layer-L states, AUPRC)
and `reward_bradley_terry` (standardise, logistic regression without intercept on symmetrised
state differences, pair accuracy). States come from the harness's own `frozen_pooled`, so a subset's
score equals what `fac eval-downstream` reports for it (a test checks this on a tiny model).
Both heads are convex and fitted by L-BFGS, so the training seed does not change them: the seed
spread is reported, and is ~0 by construction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fac_datasets.config import DownstreamConfig, ValidationConfig
from fac_datasets.downstream.data import LabelledTexts, PreferencePairs
from fac_datasets.downstream.encode import frozen_pooled, load_frozen_backbone
from fac_datasets.downstream.reward import fit_bradley_terry, pair_accuracy, pair_states
from fac_datasets.downstream.toxicity import fit_probe
from fac_datasets.validation.store import cache_key, cached_arrays
from fac_datasets.validation.tasks import TaskData


@dataclass
class TaskStates:
    """Frozen pooled states: pool rows and test rows (for pairs: chosen and rejected)."""

    pool: dict[str, np.ndarray]
    test: dict[str, np.ndarray]
    pool_labels: np.ndarray | None
    test_labels: np.ndarray | None
    cached: bool


def downstream_config(config: ValidationConfig) -> DownstreamConfig:
    """The harness's config at the study's text length (other fields: the harness defaults)."""
    return DownstreamConfig(max_length=config.max_length)


def _setup(config: DownstreamConfig) -> dict:
    return config.model_dump(include={"model", "layer", "dtype", "max_length", "batch_tokens", "outlier_norm_factor"})


def encode_task(task: TaskData, config: ValidationConfig, downstream: DownstreamConfig | None = None) -> TaskStates:
    """Frozen states of the pool and the test set (disk-cached; the backbone runs once per text)."""
    downstream = downstream or downstream_config(config)
    backbone = None

    def frozen():
        nonlocal backbone
        if backbone is None:
            backbone = load_frozen_backbone(downstream)
        return backbone

    def encode(data) -> dict[str, np.ndarray]:
        print(f"validation: frozen states of {len(_texts(data))} {task.name} rows", flush=True)
        if isinstance(data, LabelledTexts):
            return {"x": frozen_pooled(frozen(), data.texts, downstream)[0]}
        chosen, rejected, _, _ = pair_states(frozen(), data, downstream)
        return {"chosen": chosen, "rejected": rejected}

    out, all_cached = [], True
    for role, data in (("pool", task.pool_data), ("test", task.test_data)):
        key = cache_key(f"states-{task.name}", {**_setup(downstream), "role": role}, _texts(data))
        arrays, cached = cached_arrays(key, lambda data=data: encode(data), enabled=config.cache)
        out.append(arrays)
        all_cached &= cached
    labels = [
        np.asarray(d.labels, dtype=np.int64) if isinstance(d, LabelledTexts) else None
        for d in (task.pool_data, task.test_data)
    ]
    return TaskStates(out[0], out[1], labels[0], labels[1], all_cached)


def _texts(data: LabelledTexts | PreferencePairs) -> list[str]:
    return data.texts if isinstance(data, LabelledTexts) else [*data.chosen, *data.rejected]


def probe_auprc(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, config) -> float:
    """`toxicity_probe` on given states: AUPRC of standardise + logistic regression."""
    from sklearn.metrics import average_precision_score

    probe = fit_probe(x_train, y_train, config)
    return float(average_precision_score(y_test, probe.predict_proba(x_test)[:, 1]))


def bradley_terry_accuracy(
    chosen: np.ndarray, rejected: np.ndarray, test_chosen: np.ndarray, test_rejected: np.ndarray, config
) -> float:
    """`reward_bradley_terry` on given states: pair accuracy of a linear BT head."""
    score = fit_bradley_terry(chosen, rejected, config)
    return pair_accuracy(score(test_chosen), score(test_rejected))


def train_subset(states: TaskStates, rows: np.ndarray, config: DownstreamConfig) -> float:
    """The task's downstream score when trained on pool rows `rows` (duplicates count as repeated rows)."""
    if states.pool_labels is not None:
        return probe_auprc(
            states.pool["x"][rows], states.pool_labels[rows], states.test["x"], states.test_labels, config
        )
    return bradley_terry_accuracy(
        states.pool["chosen"][rows],
        states.pool["rejected"][rows],
        states.test["chosen"],
        states.test["rejected"],
        config,
    )


def downstream_scores(
    states: TaskStates, subsets: list[np.ndarray], config: ValidationConfig, downstream: DownstreamConfig | None = None
) -> np.ndarray:
    """[n_subsets, train_seeds] scores; seed s trains with DownstreamConfig.seed = s."""
    from tqdm.auto import tqdm

    base = downstream or downstream_config(config)
    seeds = [base.model_copy(update={"seed": s}) for s in range(config.train_seeds)]
    out = np.zeros((len(subsets), len(seeds)))
    for i, rows in enumerate(tqdm(subsets, desc="Downstream training", unit="subset")):
        for j, seeded in enumerate(seeds):
            out[i, j] = train_subset(states, rows, seeded)
    return out
