"""Toxicity evaluators on a planted task: label-1 texts contain a marker word."""

from __future__ import annotations

import pytest
from downstream_tasks import marked_texts, stable

from fac_datasets.downstream.data import LabelledTexts
from fac_datasets.downstream.toxicity import toxicity_finetune, toxicity_probe
from fac_datasets.errors import FacInputError


def test_probe_finds_the_marker_and_a_random_label_control_is_near_chance(tiny_config):
    planted = toxicity_probe(marked_texts(200, 0), marked_texts(100, 1), tiny_config)
    control = toxicity_probe(
        marked_texts(200, 0, random_labels=True), marked_texts(100, 1, random_labels=True), tiny_config
    )
    assert planted.metric == "auprc" and planted.n_train == 200 and planted.n_test == 100
    assert planted.value >= 0.8, planted
    assert control.value <= 0.7, control
    assert planted.details["chance_auprc"] == pytest.approx(0.5)


def test_probe_is_deterministic_and_reuses_the_test_states(tiny_config):
    first = toxicity_probe(marked_texts(60, 0), marked_texts(40, 1), tiny_config)
    second = toxicity_probe(marked_texts(60, 0), marked_texts(40, 1), tiny_config)
    assert stable(first) == stable(second)
    assert not first.details["test_states_cached"] and second.details["test_states_cached"]


def test_finetune_learns_the_marker_deterministically(tiny_config):
    train, test = marked_texts(120, 0), marked_texts(60, 1)
    first = toxicity_finetune(train, test, tiny_config)
    assert first.method == "finetune" and first.value >= 0.75, first
    losses = first.details["epoch_train_loss"]
    assert losses[-1] < losses[0]
    assert stable(toxicity_finetune(train, test, tiny_config)) == stable(first)
    other_seed = toxicity_finetune(train, test, tiny_config.model_copy(update={"seed": 1}))
    assert other_seed.details["epoch_train_loss"] != losses


def test_single_class_data_fails_before_any_model_work(tiny_config):
    one_class = LabelledTexts(["a b", "c d"], [0, 0], "all-clean.jsonl")
    with pytest.raises(FacInputError, match="all-clean.jsonl: every label is 0"):
        toxicity_probe(one_class, marked_texts(10, 1), tiny_config)
    with pytest.raises(FacInputError, match="Test data"):
        toxicity_finetune(marked_texts(10, 1), one_class, tiny_config)
