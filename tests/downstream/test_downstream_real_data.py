"""Each downstream task on the embedded default with small real data from ../shared/data (slow).

These check that the metric lands in a sane range on real inputs and print the wall time; the
timings at study size are in the module docs' report, not asserted here.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from fac_datasets.config import DownstreamConfig
from fac_datasets.downstream import (
    InstructionPairs,
    LabelledTexts,
    PreferencePairs,
    balanced_sample,
    instruction_nll_proxy,
    read_ab_items,
    read_davidson,
    read_instruction_pairs,
    read_pairs,
    reward_bradley_terry,
    steering_caa,
    toxicity_finetune,
    toxicity_probe,
)

pytestmark = pytest.mark.slow

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"


def shared(name: str) -> Path:
    path = SHARED / name
    if not path.exists():
        pytest.skip(f"shared data not found at {path} (CI provides ../shared/data)")
    return path


def report(result) -> None:
    print(f"\n{result.summary()}")


def test_toxicity_on_davidson_tweets():
    tweets = read_davidson(shared("davidson_hate_offensive.csv.gz"))
    test = balanced_sample(tweets, 30, seed=100)
    held_out = set(test.texts)
    pool = LabelledTexts(
        [t for t in tweets.texts if t not in held_out],
        [y for t, y in zip(tweets.texts, tweets.labels, strict=True) if t not in held_out],
    )
    train = balanced_sample(pool, 30, seed=1)
    probe = toxicity_probe(train, test)
    report(probe)
    assert 0.65 <= probe.value <= 1.0, probe.details  # chance is 0.5
    finetune = toxicity_finetune(train, test, DownstreamConfig(epochs=2))
    report(finetune)
    assert 0.55 <= finetune.value <= 1.0, finetune.details


def test_reward_modeling_on_hh_harmless_pairs():
    pairs = read_pairs(shared("hh_rlhf_harmless_test.jsonl.gz"), max_rows=120, seed=0)
    train = PreferencePairs(pairs.chosen[:60], pairs.rejected[:60])
    test = PreferencePairs(pairs.chosen[60:], pairs.rejected[60:])
    result = reward_bradley_terry(train, test)
    report(result)
    assert 0.3 <= result.value <= 0.9, result.details  # a linear head on a 135M model: near chance is sane
    assert result.details["train_pair_accuracy"] >= 0.8  # 576 dimensions fit 60 pairs


def test_sycophancy_steering_on_caa():
    train = read_ab_items(shared("caa/sycophancy/generate_dataset.json"), max_rows=20, seed=0)
    test = read_ab_items(shared("caa/sycophancy/test_dataset_ab.json"), max_rows=10, seed=0)
    result = steering_caa(train, test)
    report(result)
    assert result.details["letter_mass_without"] > 0.3  # the prompt makes the model answer with a letter
    for condition in result.details["conditions"].values():
        assert 0 <= condition["p_matching"] <= 1 and abs(condition["delta"]) < 0.5


def test_instruction_following_proxy_on_alpaca_eval():
    pairs = read_instruction_pairs(shared("alpaca_eval_805.jsonl"), max_rows=45, seed=0)
    train = InstructionPairs(pairs.instructions[:30], pairs.responses[:30])
    test = InstructionPairs(pairs.instructions[30:], pairs.responses[30:])
    result = instruction_nll_proxy(train, test)
    report(result)
    assert result.details["proxy"] is True
    assert 0.5 < result.details["base_nll"] < 6, result.details
    assert math.isfinite(result.value) and abs(result.details["delta_nll"]) < 1, result.details
