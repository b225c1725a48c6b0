"""CAA steering with a planted vector: the matching letter is always A, and the LM head reads embeddings."""

from __future__ import annotations

import pytest
import torch
from downstream_tasks import ab_items, stable

from fac_datasets.config import DownstreamConfig
from fac_datasets.downstream.split import SplitLM
from fac_datasets.downstream.steering import build_prompt, letter_ids, steering_caa
from fac_datasets.errors import FacInputError


@pytest.fixture()
def steer_config(tied_model_dir) -> DownstreamConfig:
    return DownstreamConfig(model=str(tied_model_dir), layer=2, multipliers=(1.0, -1.0))


@pytest.mark.parametrize("positions", ["all", "answer"])
def test_probability_moves_with_the_sign_of_the_multiplier(steer_config, positions):
    config = steer_config.model_copy(update={"steer_positions": positions})
    result = steering_caa(ab_items(20, 0), ab_items(10, 1), config)
    plus, minus = result.details["conditions"]["+1"], result.details["conditions"]["-1"]
    assert result.metric == "delta_p_matching@+1" and result.value == plus["delta"]
    assert plus["delta"] > 0 > minus["delta"], result.details
    assert plus["p_matching_without"] == minus["p_matching_without"] == result.details["p_matching_without"]


def test_flipping_the_planted_letter_flips_the_effect(steer_config):
    """Vector from 'A matches' items, tested on items where B matches: +1 must lower P(matching)."""
    result = steering_caa(ab_items(20, 0, "A"), ab_items(10, 1, "B"), steer_config)
    assert result.value < 0


def test_steering_is_deterministic(steer_config):
    first = steering_caa(ab_items(8, 0), ab_items(4, 1), steer_config)
    assert stable(first) == stable(steering_caa(ab_items(8, 0), ab_items(4, 1), steer_config))


def test_shared_prompt_pass_matches_separate_sequences(tied_model_dir, tiny_tokenizer):
    """The key/value continuation for both letters equals running each full sequence."""
    split = SplitLM.load(str(tied_model_dir), "float32", cut=2, max_length=64, batch_tokens=2048)
    prompt = build_prompt(tiny_tokenizer, "How do I reverse a list?\n (A) sort\n (B) slice", 64)
    letters = letter_ids(tiny_tokenizer, ["A", "B"])
    shared = split.continuation_states(prompt.ids, [letters["A"], letters["B"]])
    separate = split.bottom_states([prompt.ids + [letters["A"]], prompt.ids + [letters["B"]]])
    torch.testing.assert_close(shared, torch.stack([s[-1] for s in separate]), atol=1e-5, rtol=1e-4)
    answer = tiny_tokenizer.decode(prompt.ids[prompt.answer_start :])
    assert "slice" not in answer and answer.endswith("(")


def test_no_test_items_is_an_error(steer_config):
    with pytest.raises(FacInputError, match="Test A/B items: none given"):
        steering_caa(ab_items(2, 0), [], steer_config)
