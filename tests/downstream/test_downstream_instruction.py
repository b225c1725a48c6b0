"""The instruction-following proxy: held-out response NLL drops when training teaches the responses."""

from __future__ import annotations

import pytest
from downstream_tasks import instruction_pairs, stable

from fac_datasets.downstream.data import InstructionPairs
from fac_datasets.downstream.instruction import example_ids, instruction_nll_proxy
from fac_datasets.errors import FacInputError


def test_training_on_matching_responses_lowers_heldout_nll(tiny_config):
    config = tiny_config.model_copy(update={"lr": 1e-2, "instruction_epochs": 2})
    result = instruction_nll_proxy(instruction_pairs(40, 0), instruction_pairs(16, 1), config)
    assert result.details["proxy"] is True and "PROXY" in result.details["note"]
    assert result.higher_is_better is False and result.metric == "heldout_response_nll"
    assert result.details["delta_nll"] < 0, result.details
    assert result.value == pytest.approx(result.details["base_nll"] + result.details["delta_nll"])


def test_proxy_is_deterministic_and_seed_dependent(tiny_config):
    config = tiny_config.model_copy(update={"lr": 1e-2})
    first = instruction_nll_proxy(instruction_pairs(20, 0), instruction_pairs(8, 1), config)
    assert stable(first) == stable(instruction_nll_proxy(instruction_pairs(20, 0), instruction_pairs(8, 1), config))
    other = instruction_nll_proxy(
        instruction_pairs(20, 0), instruction_pairs(8, 1), config.model_copy(update={"seed": 5})
    )
    assert other.value != first.value


def test_rows_without_room_for_a_response_are_dropped_and_counted(tiny_config, tiny_tokenizer):
    assert example_ids(tiny_tokenizer, "word " * 50, "an answer", 16) is None
    ids, start = example_ids(tiny_tokenizer, "Say hi", "hi there", 64)
    assert tiny_tokenizer.decode(ids[start:]).strip().startswith(("<|im_start|>assistant", "hi"))
    long_only = InstructionPairs(["word " * 300], ["x"], "long.jsonl")
    with pytest.raises(FacInputError, match="long.jsonl: no row has a response within finetune_max_length"):
        instruction_nll_proxy(
            long_only, instruction_pairs(4, 1), tiny_config.model_copy(update={"finetune_max_length": 32})
        )
