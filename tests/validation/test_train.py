"""Training on cached pool states gives exactly what the downstream harness gives on the same rows."""

from __future__ import annotations

import numpy as np
import pytest

from fac_datasets.config import DownstreamConfig, ValidationConfig
from fac_datasets.downstream import LabelledTexts, PreferencePairs, memo, reward_bradley_terry, toxicity_probe
from fac_datasets.validation.tasks import TaskData
from fac_datasets.validation.train import downstream_scores, encode_task, train_subset

WORDS = ["cat", "dog", "sea", "fox", "sun", "map", "red", "tea", "owl", "ink", "jam", "log"]


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setattr("fac_datasets.validation.store.cache_dir", lambda: tmp_path / "validation-cache")
    memo.clear()
    yield
    memo.clear()


def _texts(n: int, seed: int, bad: bool) -> list[str]:
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, size=4)) + (" awful awful" if bad else " nice") + f" {i}" for i in range(n)]


def _task(pool, test) -> TaskData:
    texts = pool.texts if isinstance(pool, LabelledTexts) else pool.chosen
    strata = np.asarray(pool.labels) if isinstance(pool, LabelledTexts) else None
    return TaskData("t", "m", texts, strata, {}, texts[:4], None, texts[:4], pool, test)


def test_probe_on_cached_states_equals_toxicity_probe(tiny_model_dir):
    pool = LabelledTexts(_texts(12, 0, True) + _texts(12, 1, False), [1] * 12 + [0] * 12)
    test = LabelledTexts(_texts(6, 2, True) + _texts(6, 3, False), [1] * 6 + [0] * 6)
    downstream = DownstreamConfig(model=str(tiny_model_dir), layer=2, max_length=32)
    config = ValidationConfig(max_length=32, train_seeds=2)
    states = encode_task(_task(pool, test), config, downstream)
    rows = np.array([0, 1, 2, 3, 5, 8, 12, 13, 15, 20, 22, 23])
    subset = LabelledTexts([pool.texts[i] for i in rows], [pool.labels[i] for i in rows])
    expected = toxicity_probe(subset, test, downstream).value
    assert train_subset(states, rows, downstream) == pytest.approx(expected, abs=1e-9)
    scores = downstream_scores(states, [rows, rows[::2]], config, downstream)
    assert scores.shape == (2, 2) and scores[0, 0] == pytest.approx(expected, abs=1e-9)
    assert np.ptp(scores, axis=1).max() < 1e-9  # L-BFGS heads: the training seed does not matter
    again = encode_task(_task(pool, test), config, downstream)
    assert again.cached and np.array_equal(again.pool["x"], states.pool["x"])


def test_bradley_terry_on_cached_states_equals_reward_head(tiny_model_dir):
    prefix = [f"\n\nHuman: tell me about {w}\n\nAssistant:" for w in WORDS]
    pool = PreferencePairs([p + " sure, here it is" for p in prefix], [p + " no, awful awful" for p in prefix])
    test = PreferencePairs([p + " happy to help" for p in prefix[:6]], [p + " go away awful" for p in prefix[:6]])
    downstream = DownstreamConfig(model=str(tiny_model_dir), layer=2, max_length=48)
    states = encode_task(_task(pool, test), ValidationConfig(max_length=48), downstream)
    rows = np.array([0, 2, 3, 5, 7, 8, 9, 11])
    subset = PreferencePairs([pool.chosen[i] for i in rows], [pool.rejected[i] for i in rows])
    expected = reward_bradley_terry(subset, test, downstream).value
    assert train_subset(states, rows, downstream) == pytest.approx(expected, abs=1e-9)
