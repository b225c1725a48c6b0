"""The SAE filter: a sample is accepted only if a feature it was written for actually fires.

The reference never checked its step-2 outputs. Here every sample is scored, and rejected ones
stay in the output with `accepted=False` (like distilabel's filter steps mark rows instead of
dropping them), so a reader can see what the generator wrote and why it did not count.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

NOT_FIRED = "target_not_fired"
MARK_COPIED = "peak_mark_copied"  # the sample holds a <<peak>> mark copied from a prompt: never training data


@dataclass(frozen=True)
class FilterVerdict:
    """Attributes:
    accepted: a targeted feature fires above the threshold.
    target: the targeted feature that fires most (the first target when none fires).
    activation: its pooled activation (0.0 when it does not fire at all).
    fired_missing: missing features (any, not only targets) that fire above the threshold, by id.
    reason: why it was rejected, None when accepted.
    """

    accepted: bool
    target: int
    activation: float
    fired_missing: list[int]
    reason: str | None


def effective_threshold(configured: float | None, extractor_threshold: float) -> float:
    """The filter threshold: the configured one, never below the extractor's (which decides coverage)."""
    return extractor_threshold if configured is None else max(configured, extractor_threshold)


def sae_filter(
    activations: Sequence[Mapping[int, float]],
    targets: Sequence[int],
    threshold: float,
    missing: Collection[int],
) -> list[FilterVerdict]:
    """One verdict per scored sample (`activations[i]` = {feature: pooled activation} of sample i)."""
    verdicts = []
    for acts in activations:
        target = max(targets, key=lambda f: (acts.get(f, 0.0), -targets.index(f)))
        activation = float(acts.get(target, 0.0))
        fired = sorted(int(f) for f, a in acts.items() if a > threshold and f in missing)
        accepted = activation > threshold
        verdicts.append(FilterVerdict(accepted, int(target), activation, fired, None if accepted else NOT_FIRED))
    return verdicts
