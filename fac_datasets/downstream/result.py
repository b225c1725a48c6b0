"""The one result type every downstream evaluator returns: small, typed, and JSON-ready."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class DownstreamResult:
    """One evaluation: which task and method, the task's standard metric, and what it was computed on.

    Attributes:
        task: toxicity, reward_modeling, behavior_steering or instruction_following.
        method: how the model was trained (probe, finetune, bradley_terry, caa, sft_nll_proxy).
        metric: the metric's name (e.g. auprc); `higher_is_better` says which way is good.
        value: the headline number.
        n_train: training rows (texts, pairs, A/B items) actually used.
        n_test: test rows scored.
        seconds: wall time of the whole evaluation, model loading included.
        seed: the seed it ran with (same seed, same inputs: same result).
        details: everything else worth keeping (chance level, baselines, settings), JSON-serialisable.
    """

    task: str
    method: str
    metric: str
    value: float
    n_train: int
    n_test: int
    seconds: float
    seed: int
    higher_is_better: bool = True
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent, sort_keys=False)

    def summary(self) -> str:
        """One line for people: task, metric, value, sizes and time."""
        return (
            f"{self.task} ({self.method}): {self.metric} = {self.value:.4f} "
            f"[n_train={self.n_train}, n_test={self.n_test}, seed={self.seed}, {self.seconds:.1f}s]"
        )


class Stopwatch:
    """Wall time since creation, so every evaluator reports `seconds` the same way."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    def seconds(self) -> float:
        return round(time.perf_counter() - self.start, 3)


def settings(config: Any, *names: str) -> dict[str, Any]:
    """The config fields a result depends on, for its details (tuples become lists, as in JSON)."""
    return {name: list(v) if isinstance(v := getattr(config, name), tuple) else v for name in names}
