"""Toxicity detection, scored by AUPRC (average precision of the toxic class) on a labelled test set.

Two evaluators, both CPU-sized for a few hundred training texts with the 135M default:
- `toxicity_probe`: logistic regression on frozen mean-pooled residual states at layer L (the
  states the SAE reads). Cheap and stable; it rewards training data that matches the test
  distribution (see the CPU-scale notes), so it is the floor, not the whole story.
- `toxicity_finetune`: the model itself learns. The top `trainable_blocks` decoder blocks and the
  final norm are fine-tuned with a new linear head on mean-pooled final states (BCE loss, AdamW);
  the blocks below stay frozen and run once per text (LoRA-free partial fine-tuning: no extra
  dependency, and the frozen bottom is the bulk of the compute). Closer to the paper's fine-tuned
  classifiers than a probe; the reference trained a head (and LoRA) on an 8B model on GPUs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from fac_datasets.config import DownstreamConfig
from fac_datasets.downstream import memo
from fac_datasets.downstream.data import LabelledTexts, check_two_classes
from fac_datasets.downstream.encode import frozen_pooled, load_frozen_backbone, tokenize_for_pooling
from fac_datasets.downstream.result import DownstreamResult, Stopwatch, settings
from fac_datasets.downstream.split import SplitLM

TASK = "toxicity"
METRIC = "auprc"


def _scores_summary(labels: Sequence[int], scores: np.ndarray) -> tuple[float, dict]:
    from sklearn.metrics import average_precision_score, roc_auc_score

    return float(average_precision_score(labels, scores)), {
        "auroc": float(roc_auc_score(labels, scores)),
        "chance_auprc": float(np.mean(labels)),  # the AUPRC of a random scorer: the test set's positive rate
    }


def fit_probe(x: np.ndarray, labels: Sequence[int], config: DownstreamConfig):
    """Standardise + L2 logistic regression fitted on states `x` (the probe the validation study fits too)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    probe = make_pipeline(
        StandardScaler(),
        LogisticRegression(C=config.probe_c, max_iter=config.probe_max_iter, random_state=config.seed),
    )
    return probe.fit(x, labels)


def toxicity_probe(
    train: LabelledTexts, test: LabelledTexts, config: DownstreamConfig | None = None
) -> DownstreamResult:
    """AUPRC of a logistic-regression probe on frozen mean-pooled layer-L states."""
    config = config or DownstreamConfig()
    watch = Stopwatch()
    check_two_classes(train, "Training")
    check_two_classes(test, "Test")
    backbone = load_frozen_backbone(config)
    x_train, truncated_train, _ = frozen_pooled(backbone, train.texts, config)
    x_test, truncated_test, cached = frozen_pooled(backbone, test.texts, config, memoize=True)
    probe = fit_probe(x_train, train.labels, config)
    value, extra = _scores_summary(test.labels, probe.predict_proba(x_test)[:, 1])
    return DownstreamResult(
        TASK,
        "probe",
        METRIC,
        value,
        len(train.texts),
        len(test.texts),
        watch.seconds(),
        config.seed,
        details={
            **extra,
            "train_positive_rate": float(np.mean(train.labels)),
            "n_truncated": truncated_train + truncated_test,
            "test_states_cached": cached,
            **settings(config, "model", "layer", "dtype", "max_length", "probe_c", "outlier_norm_factor"),
        },
    )


# ------------------------------------------------------------------ fine-tuning
def _mean_pool(states: torch.Tensor, attention: torch.Tensor) -> torch.Tensor:
    """Mean over each row's real tokens, the sink (position 0) left out."""
    mask = attention.clone().float()
    mask[:, 0] = 0
    mask = mask.unsqueeze(-1)
    return (states * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1)


def _token_ids(split: SplitLM, texts: Sequence[str], max_length: int) -> tuple[list[list[int]], int]:
    tokens = [tokenize_for_pooling(split.tokenizer, text, max_length) for text in texts]
    return [t.ids for t in tokens], sum(t.truncated for t in tokens)


def _classify(split: SplitLM, head: nn.Module, states: Sequence[torch.Tensor]) -> torch.Tensor:
    hidden, attention = split.pad_states(states)
    return head(_mean_pool(split.top_states(hidden, attention), attention)).squeeze(-1)


def toxicity_finetune(
    train: LabelledTexts, test: LabelledTexts, config: DownstreamConfig | None = None
) -> DownstreamResult:
    """AUPRC after fine-tuning the top blocks + a linear head for `config.epochs` epochs (float32)."""
    config = config or DownstreamConfig()
    watch = Stopwatch()
    check_two_classes(train, "Training")
    check_two_classes(test, "Test")
    split = SplitLM.for_finetuning(config)
    train_ids, truncated_train = _token_ids(split, train.texts, config.finetune_max_length)
    test_ids, truncated_test = _token_ids(split, test.texts, config.finetune_max_length)
    train_states = split.bottom_states(train_ids)
    key = (
        "bottom",
        config.model,
        split.cut,
        config.finetune_max_length,
        config.batch_tokens,
        memo.digest(test.texts),
    )
    test_states, cached = memo.memoized(key, lambda: split.bottom_states(test_ids), enabled=config.cache_test_states)
    encode_seconds = watch.seconds()

    torch.manual_seed(config.seed)
    head = nn.Linear(split.bottom.d_model, 1)
    optimizer = torch.optim.AdamW(
        [
            {"params": split.trainable_parameters(), "lr": config.lr},
            {"params": list(head.parameters()), "lr": config.head_lr},
        ],
        weight_decay=0.0,
    )
    labels = torch.tensor(train.labels, dtype=torch.float32)
    order_rng = torch.Generator().manual_seed(config.seed)
    loss_fn = nn.BCEWithLogitsLoss()
    epoch_losses = []
    for _ in range(config.epochs):
        order = torch.randperm(len(train_states), generator=order_rng).tolist()
        total = 0.0
        for start in range(0, len(order), config.batch_size):
            rows = order[start : start + config.batch_size]
            loss = loss_fn(_classify(split, head, [train_states[i] for i in rows]), labels[rows])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(rows)
        epoch_losses.append(round(total / len(order), 5))

    with torch.no_grad():
        scores = torch.cat(
            [
                torch.sigmoid(_classify(split, head, test_states[start : start + config.batch_size]))
                for start in range(0, len(test_states), config.batch_size)
            ]
        ).numpy()
    value, extra = _scores_summary(test.labels, scores)
    return DownstreamResult(
        TASK,
        "finetune",
        METRIC,
        value,
        len(train.texts),
        len(test.texts),
        watch.seconds(),
        config.seed,
        details={
            **extra,
            "train_positive_rate": float(np.mean(train.labels)),
            "epoch_train_loss": epoch_losses,
            "trained_blocks": f"{split.cut + 1}..{split.n_layers} of {split.n_layers}",
            "encode_seconds": encode_seconds,
            "n_truncated": truncated_train + truncated_test,
            "test_states_cached": cached,
            **settings(
                config, "model", "trainable_blocks", "epochs", "lr", "head_lr", "batch_size", "finetune_max_length"
            ),
        },
    )
