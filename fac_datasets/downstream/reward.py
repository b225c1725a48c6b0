"""Reward modeling: a Bradley-Terry head on frozen states, scored by pair accuracy on held-out pairs.

Each transcript is scored r(x) = w . z(x), where z is the standardised mean of layer-L states over
the tokens where the two transcripts of a pair differ (after their common prefix, e.g. the final
assistant turn of an HH-RLHF pair), read in the context of the whole transcript. Pooling the whole
transcript instead would let the shared context swamp the difference. w minimises the
Bradley-Terry loss -log sigmoid(r(chosen) - r(rejected)) with an L2 penalty: logistic regression
without intercept on the symmetrised differences (d, 1) and (-d, 0), which is the same loss.
Transcripts longer than `max_length` lose their start, so the differing end is always kept.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

from fac_datasets.config import DownstreamConfig
from fac_datasets.downstream.data import PreferencePairs
from fac_datasets.downstream.encode import frozen_pooled, load_frozen_backbone
from fac_datasets.downstream.result import DownstreamResult, Stopwatch, settings
from fac_datasets.errors import FacInputError

TASK = "reward_modeling"
METRIC = "pair_accuracy"


def divergence(chosen: list[str], rejected: list[str]) -> list[int]:
    """Length of the common prefix of each pair (where pooling starts, in both texts)."""
    starts = []
    for a, b in zip(chosen, rejected, strict=True):
        k = len(os.path.commonprefix([a, b]))
        starts.append(0 if k >= min(len(a), len(b)) else k)  # identical or nested: pool everything
    return starts


def pair_accuracy(chosen_scores: np.ndarray, rejected_scores: np.ndarray) -> float:
    """Fraction of pairs whose chosen transcript scores higher; a tie counts half."""
    margin = chosen_scores - rejected_scores
    return float(np.mean((margin > 0) + 0.5 * (margin == 0)))


def pair_states(
    backbone, pairs: PreferencePairs, config: DownstreamConfig, *, memoize: bool = False
) -> tuple[np.ndarray, np.ndarray, int, bool]:
    """(chosen states, rejected states, truncated texts, from the memo): pooled from where the two
    transcripts of a pair differ, start truncated."""
    texts = [*pairs.chosen, *pairs.rejected]
    starts = divergence(pairs.chosen, pairs.rejected) * 2
    x, truncated, cached = frozen_pooled(
        backbone, texts, config, keep_end=True, pool_from_chars=starts, memoize=memoize
    )
    n = len(pairs.chosen)
    return x[:n], x[n:], truncated, cached


def fit_bradley_terry(chosen: np.ndarray, rejected: np.ndarray, config: DownstreamConfig) -> Callable:
    """The reward r(x) = w . standardised(x) of a linear Bradley-Terry head fitted on pair states."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(np.vstack([chosen, rejected]))
    diff = scaler.transform(chosen) - scaler.transform(rejected)
    head = LogisticRegression(
        C=config.probe_c, fit_intercept=False, max_iter=config.probe_max_iter, random_state=config.seed
    )
    head.fit(np.vstack([diff, -diff]), np.r_[np.ones(len(diff)), np.zeros(len(diff))])
    w = head.coef_[0]

    def score(x: np.ndarray) -> np.ndarray:
        return scaler.transform(x) @ w

    return score


def _check(pairs: PreferencePairs, role: str) -> None:
    if not pairs.chosen:
        raise FacInputError(f"{role} pairs {pairs.source}: no pairs; pass a file with chosen/rejected rows.")


def reward_bradley_terry(
    train: PreferencePairs, test: PreferencePairs, config: DownstreamConfig | None = None
) -> DownstreamResult:
    """Pair accuracy of a linear Bradley-Terry reward head trained on frozen layer-L states."""
    config = config or DownstreamConfig()
    watch = Stopwatch()
    _check(train, "Training")
    _check(test, "Test")
    backbone = load_frozen_backbone(config)
    train_c, train_r, truncated_train, _ = pair_states(backbone, train, config)
    test_c, test_r, truncated_test, cached = pair_states(backbone, test, config, memoize=True)
    score = fit_bradley_terry(train_c, train_r, config)
    value = pair_accuracy(score(test_c), score(test_r))
    return DownstreamResult(
        TASK,
        "bradley_terry",
        METRIC,
        value,
        len(train.chosen),
        len(test.chosen),
        watch.seconds(),
        config.seed,
        details={
            "chance": 0.5,
            "train_pair_accuracy": pair_accuracy(score(train_c), score(train_r)),
            "test_mean_margin": float(np.mean(score(test_c) - score(test_r))),
            "n_identical_test_pairs": sum(a == b for a, b in zip(test.chosen, test.rejected, strict=True)),
            "n_truncated": truncated_train + truncated_test,
            "test_states_cached": cached,
            **settings(config, "model", "layer", "dtype", "max_length", "probe_c", "outlier_norm_factor"),
        },
    )
