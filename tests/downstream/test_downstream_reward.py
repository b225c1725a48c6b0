"""Bradley-Terry reward head on planted pairs: the chosen final turn contains a marker."""

from __future__ import annotations

import numpy as np
import pytest
from downstream_tasks import marked_pairs, stable

from fac_datasets.downstream.data import PreferencePairs
from fac_datasets.downstream.reward import divergence, pair_accuracy, reward_bradley_terry
from fac_datasets.errors import FacInputError


def test_bt_head_ranks_every_marked_pair_first(tiny_config):
    result = reward_bradley_terry(marked_pairs(80, 0), marked_pairs(40, 1), tiny_config)
    assert result.metric == "pair_accuracy" and result.n_test == 40
    assert result.value == 1.0, result
    assert result.details["test_mean_margin"] > 0


def test_long_shared_contexts_are_cut_from_the_start(tiny_config):
    """With max_length far below the context, only left truncation keeps the differing final turns."""
    config = tiny_config.model_copy(update={"max_length": 24})
    result = reward_bradley_terry(marked_pairs(80, 0, context_words=60), marked_pairs(40, 1, context_words=60), config)
    assert result.details["n_truncated"] > 0
    assert result.value >= 0.9, result  # right truncation would leave no difference at all (accuracy 0.5)


def test_bt_is_deterministic(tiny_config):
    first = reward_bradley_terry(marked_pairs(30, 0), marked_pairs(20, 1), tiny_config)
    assert stable(first) == stable(reward_bradley_terry(marked_pairs(30, 0), marked_pairs(20, 1), tiny_config))


def test_pooling_starts_where_the_transcripts_differ():
    assert divergence(["ab cd", "same", "ab"], ["ab ce", "same", "abc"]) == [4, 0, 0]
    assert pair_accuracy(np.array([2.0, 1.0, 0.0]), np.array([1.0, 1.0, 3.0])) == pytest.approx(0.5)


def test_no_pairs_is_an_error(tiny_config):
    with pytest.raises(FacInputError, match="Test pairs empty.jsonl: no pairs"):
        reward_bradley_terry(marked_pairs(4, 0), PreferencePairs([], [], "empty.jsonl"), tiny_config)
