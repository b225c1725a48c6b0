"""Behavior steering with Contrastive Activation Addition (Rimsky et al., 2023), on CAA's A/B format.

Prompt: the chat template's user turn (the question) and the opening of the assistant's answer,
"(". Vector: for each training question, the residual stream after block L at the answer-letter
token of "(" + matching letter minus the same for the non-matching letter, averaged over the
questions. Evaluation: on each test question, P(matching letter) at the "(" position, normalised
over the two letters as in CAA's plots, with `multiplier x vector` added to the residual stream
after block L, against the same without the vector. `steer_positions` says where it is added:
only after the question (the paper, the default) or at every position (the FAC reference scripts).

Cost: blocks 1..L do not see the vector, so they run once per test prompt (and are memoized for
a study that reuses the test set); only the blocks above L run again per multiplier. Both answer
letters of a training question continue one shared prompt pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from fac_datasets.config import DownstreamConfig
from fac_datasets.downstream import memo
from fac_datasets.downstream.data import ABItem
from fac_datasets.downstream.encode import sink_id
from fac_datasets.downstream.result import DownstreamResult, Stopwatch, settings
from fac_datasets.downstream.split import SplitLM
from fac_datasets.errors import FacInputError, FacModelError

TASK = "behavior_steering"
METRIC = "delta_p_matching"


@dataclass(frozen=True)
class Prompt:
    """Token ids of one A/B prompt (sink first); `answer_start` is the first token after the question."""

    ids: list[int]
    answer_start: int


def prompt_text(tokenizer, question: str) -> str:
    """The user turn and the start of the answer, '(' (a plain Question/Answer form without a chat template)."""
    if getattr(tokenizer, "chat_template", None):
        messages = [{"role": "user", "content": question}]
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True) + "("
    return f"{question}\n\nAnswer: ("


def build_prompt(tokenizer, question: str, max_length: int) -> Prompt:
    """Sink + the prompt's tokens; a long question loses its start, never the answer opening."""
    text = prompt_text(tokenizer, question)
    question_end = text.index(question) + len(question)
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids, offsets = list(enc["input_ids"]), list(enc["offset_mapping"])
    sink = sink_id(tokenizer)
    if ids and ids[0] == sink:
        ids, offsets = ids[1:], offsets[1:]
    answer = next((i for i, (start, _) in enumerate(offsets) if start >= question_end), len(ids) - 1)
    keep = max_length - 2  # room for the sink and one answer letter
    if len(ids) - answer > keep:
        raise FacModelError(f"The answer opening of the A/B prompt is longer than max_length={max_length} tokens.")
    drop = max(0, len(ids) - keep)
    return Prompt([sink, *ids[drop:]], answer - drop + 1)


def letter_ids(tokenizer, letters: Sequence[str]) -> dict[str, int]:
    """The token of each answer letter as it follows '(' (it must be exactly one token there)."""
    opening = tokenizer("(", add_special_tokens=False)["input_ids"]
    out = {}
    for letter in sorted(set(letters)):
        ids = tokenizer("(" + letter, add_special_tokens=False)["input_ids"]
        if len(ids) != len(opening) + 1 or ids[: len(opening)] != opening:
            raise FacModelError(f"The tokenizer does not split '({letter}' into '(' and one letter token.")
        out[letter] = ids[-1]
    return out


def steering_vector(split: SplitLM, prompts: Sequence[Prompt], items: Sequence[ABItem], letters: dict) -> torch.Tensor:
    """Mean over items of the layer-L state at the matching letter minus that at the non-matching one."""
    diffs = []
    for prompt, item in zip(prompts, items, strict=True):
        states = split.continuation_states(prompt.ids, [letters[item.matching], letters[item.not_matching]])
        diffs.append(states[0] - states[1])
    return torch.stack(diffs).mean(dim=0)


def answer_probabilities(
    split: SplitLM,
    states: Sequence[torch.Tensor],
    prompts: Sequence[Prompt],
    add: torch.Tensor | None,
    *,
    steer_from_answer: bool,
    batch_size: int,
) -> list[torch.Tensor]:
    """Next-token probabilities at each prompt's last position, with `add` added to the layer-L states."""
    out = []
    with torch.no_grad():
        for start in range(0, len(states), batch_size):
            chunk = [s.clone() for s in states[start : start + batch_size]]
            if add is not None:
                for s, prompt in zip(chunk, prompts[start : start + batch_size], strict=True):
                    s[prompt.answer_start if steer_from_answer else 0 :] += add
            hidden, attention = split.pad_states(chunk)
            final = split.top_states(hidden, attention)
            last = final[torch.arange(len(chunk)), torch.tensor([s.shape[0] - 1 for s in chunk])]
            out.extend(torch.softmax(split.logits(last), dim=-1))
    return out


def _p_matching(probs: Sequence[torch.Tensor], items: Sequence[ABItem], letters: dict) -> tuple[np.ndarray, np.ndarray]:
    """(P(matching) normalised over the two letters, P(matching) + P(other)) per item."""
    p_a = np.array([float(p[letters[item.matching]]) for p, item in zip(probs, items, strict=True)])
    p_b = np.array([float(p[letters[item.not_matching]]) for p, item in zip(probs, items, strict=True)])
    mass = p_a + p_b
    return np.where(mass > 0, p_a / np.where(mass > 0, mass, 1), 0.5), mass


def steering_caa(
    train: Sequence[ABItem], test: Sequence[ABItem], config: DownstreamConfig | None = None
) -> DownstreamResult:
    """Change of the mean P(matching answer) on the test questions when the CAA vector is added."""
    config = config or DownstreamConfig()
    watch = Stopwatch()
    for role, items in (("Training", train), ("Test", test)):
        if not items:
            raise FacInputError(f"{role} A/B items: none given; pass a CAA generate/test file with rows.")
    split = SplitLM.load(
        config.model, config.dtype, cut=config.layer, max_length=config.max_length, batch_tokens=config.batch_tokens
    )
    tokenizer = split.tokenizer
    letters = letter_ids(tokenizer, [x for item in (*train, *test) for x in (item.matching, item.not_matching)])
    train_prompts = [build_prompt(tokenizer, item.question, config.max_length) for item in train]
    vector = steering_vector(split, train_prompts, train, letters)
    vector_seconds = watch.seconds()

    prompts = [build_prompt(tokenizer, item.question, config.max_length) for item in test]
    steer_from_answer = config.steer_positions == "answer"
    batch = config.batch_size

    def unsteered() -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        states = split.bottom_states([p.ids for p in prompts])
        return states, answer_probabilities(split, states, prompts, None, steer_from_answer=False, batch_size=batch)

    key = (
        "steering",
        config.model,
        config.layer,
        config.dtype,
        config.max_length,
        config.batch_size,
        config.batch_tokens,
        memo.digest([t.question for t in test]),
    )
    (states, base_probs), cached = memo.memoized(key, unsteered, enabled=config.cache_test_states)
    base, base_mass = _p_matching(base_probs, test, letters)
    conditions = {}
    for multiplier in config.multipliers:
        probs = answer_probabilities(
            split, states, prompts, multiplier * vector, steer_from_answer=steer_from_answer, batch_size=batch
        )
        p, mass = _p_matching(probs, test, letters)
        conditions[f"{multiplier:+g}"] = {
            "multiplier": multiplier,
            "p_matching": float(p.mean()),
            "p_matching_without": float(base.mean()),
            "delta": float(p.mean() - base.mean()),
            "matching_rate": float(np.mean(p > 0.5)),
            "letter_mass": float(mass.mean()),
        }
    headline = f"{config.multipliers[0]:+g}"
    return DownstreamResult(
        TASK,
        "caa",
        f"{METRIC}@{headline}",
        conditions[headline]["delta"],
        len(train),
        len(test),
        watch.seconds(),
        config.seed,
        details={
            "p_matching_without": float(base.mean()),
            "matching_rate_without": float(np.mean(base > 0.5)),
            "letter_mass_without": float(base_mass.mean()),
            "conditions": conditions,
            "vector_norm": float(vector.norm()),
            "mean_residual_norm": float(torch.stack([s[-1] for s in states]).norm(dim=-1).mean()),
            "vector_seconds": vector_seconds,
            "test_states_cached": cached,
            **settings(config, "model", "layer", "dtype", "max_length", "multipliers", "steer_positions"),
        },
    )
