"""Instruction following, by a CPU-sized PROXY: held-out response NLL after a short fine-tune.

The paper fine-tunes an 8B base model with LoRA and judges generations with AlpacaEval 2.0 (a GPT-4
judge); neither fits a CPU or stays deterministic. The proxy keeps what makes that evaluation
depend on the training data: the small model is fine-tuned on the training (instruction,
response) pairs (top `trainable_blocks` blocks and the final norm, `instruction_epochs` passes,
loss on response tokens only, chat template) and scored by the mean token negative
log-likelihood of held-out reference responses given their instructions. Lower is better. It
measures how well the training data teaches the test responses' content and style, not whether
generations follow instructions: treat it as a proxy, and report it as one.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from fac_datasets.config import DownstreamConfig
from fac_datasets.downstream import memo
from fac_datasets.downstream.data import InstructionPairs
from fac_datasets.downstream.encode import sink_id
from fac_datasets.downstream.result import DownstreamResult, Stopwatch, settings
from fac_datasets.downstream.split import SplitLM
from fac_datasets.errors import FacInputError

TASK = "instruction_following"
METRIC = "heldout_response_nll"
PROXY_NOTE = (
    "PROXY for instruction following: mean token NLL of held-out reference responses after a short "
    "fine-tune on the training pairs (lower is better); not a judged win rate."
)


def _render(tokenizer, instruction: str, response: str | None) -> str:
    if getattr(tokenizer, "chat_template", None):
        messages = [{"role": "user", "content": instruction}]
        if response is None:
            return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        messages.append({"role": "assistant", "content": response})
        return tokenizer.apply_chat_template(messages, tokenize=False)
    prompt = f"### Instruction:\n{instruction}\n\n### Response:\n"
    return prompt if response is None else prompt + response + (tokenizer.eos_token or "")


def example_ids(tokenizer, instruction: str, response: str, max_length: int) -> tuple[list[int], int] | None:
    """(sink + prompt + response tokens, index of the first response token), or None if none fit."""
    prompt = tokenizer(_render(tokenizer, instruction, None), add_special_tokens=False)["input_ids"]
    full = tokenizer(_render(tokenizer, instruction, response), add_special_tokens=False)["input_ids"]
    shared = 0
    while shared < min(len(prompt), len(full)) and prompt[shared] == full[shared]:
        shared += 1
    sink = sink_id(tokenizer)
    if full and full[0] == sink:
        full, shared = full[1:], max(shared - 1, 0)
    ids = [sink, *full][:max_length]
    start = shared + 1
    return (ids, start) if start < len(ids) else None


def _examples(tokenizer, pairs: InstructionPairs, max_length: int) -> list[tuple[list[int], int]]:
    out = [example_ids(tokenizer, i, r, max_length) for i, r in zip(pairs.instructions, pairs.responses, strict=True)]
    return [x for x in out if x is not None]


def _nll(
    split: SplitLM, states: Sequence[torch.Tensor], examples: Sequence[tuple[list[int], int]]
) -> tuple[torch.Tensor, int]:
    """Summed NLL of the response tokens of a batch, and how many there are."""
    hidden, attention = split.pad_states(states)
    final = split.top_states(hidden, attention)
    rows, positions, targets = [], [], []
    for row, (ids, start) in enumerate(examples):
        for t in range(start - 1, len(ids) - 1):  # position t predicts token t + 1
            rows.append(row)
            positions.append(t)
            targets.append(ids[t + 1])
    logits = split.logits(final[torch.tensor(rows), torch.tensor(positions)])
    return nn.functional.cross_entropy(logits, torch.tensor(targets), reduction="sum"), len(targets)


def _mean_nll(split: SplitLM, states: list[torch.Tensor], examples: list, batch_size: int) -> float:
    total, count = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(states), batch_size):
            loss, n = _nll(split, states[start : start + batch_size], examples[start : start + batch_size])
            total, count = total + float(loss), count + n
    return total / count


def instruction_nll_proxy(
    train: InstructionPairs, test: InstructionPairs, config: DownstreamConfig | None = None
) -> DownstreamResult:
    """PROXY: held-out response NLL after fine-tuning the top blocks on the training pairs (lower is better)."""
    config = config or DownstreamConfig()
    watch = Stopwatch()
    split = SplitLM.for_finetuning(config)
    train_examples = _examples(split.tokenizer, train, config.finetune_max_length)
    test_examples = _examples(split.tokenizer, test, config.finetune_max_length)
    for role, pairs, examples in (("Training", train, train_examples), ("Test", test, test_examples)):
        if not examples:
            raise FacInputError(
                f"{role} pairs {pairs.source}: no row has a response within finetune_max_length="
                f"{config.finetune_max_length} tokens; pass rows, or raise finetune_max_length."
            )
    train_states = split.bottom_states([ids for ids, _ in train_examples])
    key = (
        "instruction",
        config.model,
        split.cut,
        config.finetune_max_length,
        config.batch_size,
        config.batch_tokens,
        memo.digest([*test.instructions, *test.responses]),
    )

    def untrained() -> tuple[list[torch.Tensor], float]:
        states = split.bottom_states([ids for ids, _ in test_examples])
        return states, _mean_nll(split, states, test_examples, config.batch_size)

    (test_states, base_nll), cached = memo.memoized(key, untrained, enabled=config.cache_test_states)

    torch.manual_seed(config.seed)
    optimizer = torch.optim.AdamW(split.trainable_parameters(), lr=config.lr, weight_decay=0.0)
    order_rng = torch.Generator().manual_seed(config.seed)
    steps, epoch_losses = 0, []
    for _ in range(config.instruction_epochs):
        order = torch.randperm(len(train_states), generator=order_rng).tolist()
        total, count = 0.0, 0
        for start in range(0, len(order), config.batch_size):
            rows = order[start : start + config.batch_size]
            loss, n = _nll(split, [train_states[i] for i in rows], [train_examples[i] for i in rows])
            optimizer.zero_grad()
            (loss / n).backward()
            optimizer.step()
            steps += 1
            total, count = total + float(loss.detach()), count + n
        epoch_losses.append(round(total / count, 5))
    nll = _mean_nll(split, test_states, test_examples, config.batch_size)
    return DownstreamResult(
        TASK,
        "sft_nll_proxy",
        METRIC,
        nll,
        len(train_examples),
        len(test_examples),
        watch.seconds(),
        config.seed,
        higher_is_better=False,
        details={
            "proxy": True,
            "note": PROXY_NOTE,
            "base_nll": base_nll,
            "delta_nll": nll - base_nll,
            "steps": steps,
            "epoch_train_nll": epoch_losses,
            "n_dropped_no_response": (len(train.instructions) - len(train_examples))
            + (len(test.instructions) - len(test_examples)),
            "test_states_cached": cached,
            **settings(
                config, "model", "trainable_blocks", "instruction_epochs", "lr", "batch_size", "finetune_max_length"
            ),
        },
    )
