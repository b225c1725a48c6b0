"""Frozen residual states at layer L, mean-pooled per text: the input of the probe and the reward head.

The forward is the project's `Backbone` (truncated after block L, forward hook), so these are the
same states the SAE reads. Pooling differs from feature extraction in two ways that matter for a
linear model: a text's outlier tokens are judged against that text's own median norm (not the
batch's), so a text's vector never depends on which texts share its batch; and `pool_from_char`
restricts pooling to the end of a text (the part where two preference transcripts differ).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from fac_datasets.config import DownstreamConfig
from fac_datasets.downstream import memo
from fac_datasets.features.backbone import Backbone


@dataclass
class PoolTokens:
    """Token ids of one text (sink first) and which positions are averaged."""

    ids: list[int]
    pool_mask: list[bool]
    truncated: bool


def load_frozen_backbone(config: DownstreamConfig) -> Backbone:
    """The backbone cut after `config.layer`, in `config.dtype`; outliers are handled per text here."""
    return Backbone.load(
        config.model,
        config.layer,
        config.dtype,
        max_length=config.max_length,
        batch_tokens=config.batch_tokens,
        outlier_norm_factor=None,
    )


def sink_id(tokenizer) -> int:
    """The token every sequence starts with (as in `Backbone`): BOS, else EOS."""
    return tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id


def tokenize_for_pooling(
    tokenizer, text: str, max_length: int, *, keep_end: bool = False, pool_from_char: int = 0
) -> PoolTokens:
    """Sink + tokens of `text`; tokens ending after `pool_from_char` are pooled. `keep_end` truncates the start."""
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=pool_from_char > 0)
    ids = list(enc["input_ids"])
    mask = [end > pool_from_char for _, end in enc["offset_mapping"]] if pool_from_char > 0 else [True] * len(ids)
    room = max_length - 1
    truncated = len(ids) > room
    if truncated:
        ids, mask = (ids[-room:], mask[-room:]) if keep_end else (ids[:room], mask[:room])
    return PoolTokens([sink_id(tokenizer), *ids], [False, *mask], truncated)


def _pool(hidden: torch.Tensor, mask: torch.Tensor, factor: float | None) -> torch.Tensor:
    """Mean of the masked rows of one text's [T, d] states, outlier-norm tokens left out."""
    content = hidden[1:]  # the sink is never pooled
    wanted = mask[1:].clone()
    if factor is not None and content.shape[0]:
        norms = content.norm(dim=-1)
        calm = norms <= factor * norms.median()
        if (wanted & calm).any():
            wanted &= calm
    if not wanted.any():  # nothing left to pool: fall back to every content token
        wanted = torch.ones(content.shape[0], dtype=torch.bool)
    return content[wanted].mean(dim=0) if content.shape[0] else torch.zeros(hidden.shape[-1])


def pooled_states(
    backbone: Backbone,
    texts: Sequence[str],
    *,
    outlier_norm_factor: float | None,
    keep_end: bool = False,
    pool_from_chars: Sequence[int] | None = None,
) -> tuple[np.ndarray, int]:
    """([n, d] float32 mean-pooled states at the backbone's layer, number of truncated texts)."""
    starts = pool_from_chars if pool_from_chars is not None else [0] * len(texts)
    tokens = [
        tokenize_for_pooling(backbone.tokenizer, text, backbone.max_length, keep_end=keep_end, pool_from_char=start)
        for text, start in zip(texts, starts, strict=True)
    ]
    out = np.zeros((len(texts), backbone.d_model), dtype=np.float32)
    pad = backbone.tokenizer.pad_token_id if backbone.tokenizer.pad_token_id is not None else 0
    for batch in backbone.plan_batches([len(t.ids) for t in tokens]):
        width = max(len(tokens[i].ids) for i in batch)
        ids = torch.full((len(batch), width), pad, dtype=torch.long)
        attention = torch.zeros((len(batch), width), dtype=torch.long)
        for row, i in enumerate(batch):
            ids[row, : len(tokens[i].ids)] = torch.tensor(tokens[i].ids)
            attention[row, : len(tokens[i].ids)] = 1
        hidden = backbone.hidden_states(ids, attention).float()
        for row, i in enumerate(batch):
            n = len(tokens[i].ids)
            mask = torch.tensor(tokens[i].pool_mask)
            out[i] = _pool(hidden[row, :n], mask, outlier_norm_factor).numpy()
    return out, sum(t.truncated for t in tokens)


def frozen_pooled(
    backbone: Backbone,
    texts: Sequence[str],
    config: DownstreamConfig,
    *,
    keep_end: bool = False,
    pool_from_chars: Sequence[int] | None = None,
    memoize: bool = False,
) -> tuple[np.ndarray, int, bool]:
    """`pooled_states`, memoized for test sets: (states, n_truncated, was_cached)."""
    key = (
        "pooled",
        config.model,
        config.layer,
        config.dtype,
        config.max_length,
        config.outlier_norm_factor,
        keep_end,
        config.batch_tokens,
        memo.digest(texts),
        tuple(pool_from_chars) if pool_from_chars is not None else None,
    )
    (states, n_truncated), cached = memo.memoized(
        key,
        lambda: pooled_states(
            backbone,
            texts,
            outlier_norm_factor=config.outlier_norm_factor,
            keep_end=keep_end,
            pool_from_chars=pool_from_chars,
        ),
        enabled=memoize and config.cache_test_states,
    )
    return states, n_truncated, cached
