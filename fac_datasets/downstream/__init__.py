"""Downstream evaluators: does a training set's FAC predict what users care about?

Four tasks, each trained on a training set and scored on a fixed test set with its standard
metric, CPU-sized for the embedded 135M default, seeded and deterministic given a seed:
toxicity (AUPRC; a probe or a partial fine-tune), reward modeling (Bradley-Terry head, pair
accuracy), behavior steering (CAA vectors, change in P(matching answer)) and instruction
following (a PROXY: held-out response NLL after a short fine-tune). Every evaluator returns a
`DownstreamResult` that serialises to JSON. This stage imports inputs, config, errors and
features only.
"""

from fac_datasets.downstream.data import (
    ABItem,
    InstructionPairs,
    LabelledTexts,
    PreferencePairs,
    balanced_sample,
    read_ab_items,
    read_davidson,
    read_instruction_pairs,
    read_labelled,
    read_pairs,
)
from fac_datasets.downstream.instruction import instruction_nll_proxy
from fac_datasets.downstream.result import DownstreamResult
from fac_datasets.downstream.reward import reward_bradley_terry
from fac_datasets.downstream.run import TASKS, evaluate_downstream
from fac_datasets.downstream.steering import steering_caa
from fac_datasets.downstream.toxicity import toxicity_finetune, toxicity_probe

__all__ = [
    "TASKS",
    "ABItem",
    "DownstreamResult",
    "InstructionPairs",
    "LabelledTexts",
    "PreferencePairs",
    "balanced_sample",
    "evaluate_downstream",
    "instruction_nll_proxy",
    "read_ab_items",
    "read_davidson",
    "read_instruction_pairs",
    "read_labelled",
    "read_pairs",
    "reward_bradley_terry",
    "steering_caa",
    "toxicity_finetune",
    "toxicity_probe",
]
