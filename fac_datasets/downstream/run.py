"""One entry point from data specs to a result: read the task's data, check it, run its evaluator."""

from __future__ import annotations

from pathlib import Path

from fac_datasets.config import DownstreamConfig
from fac_datasets.downstream.data import read_ab_items, read_instruction_pairs, read_labelled, read_pairs
from fac_datasets.downstream.result import DownstreamResult
from fac_datasets.errors import FacConfigError
from fac_datasets.tasks import DOWNSTREAM_TASKS, find_task

TASKS = DOWNSTREAM_TASKS


def downstream_task(task: str) -> str:
    """The evaluator of a task name or alias (sycophancy -> behavior_steering), or FacConfigError."""
    registered = find_task(task)
    if registered is None or registered.downstream is None:
        raise FacConfigError(f"Unknown task {task!r}: use one of {', '.join(TASKS)}.")
    return registered.downstream


def check_task(task: str, method: str | None) -> None:
    """Unknown tasks and methods fail before any data is read."""
    task = downstream_task(task)
    if method is not None and task != "toxicity":
        raise FacConfigError(f"--method applies to toxicity only (probe or finetune); {task} has one method.")


def evaluate_downstream(
    task: str,
    train: str | Path,
    test: str | Path,
    config: DownstreamConfig | None = None,
    *,
    method: str | None = None,
    text_column: str | None = None,
    label_column: str | None = None,
    max_train: int | None = None,
    max_test: int | None = None,
) -> DownstreamResult:
    """Train on TRAIN, score on TEST for one task; `max_*` take seeded samples (seed = config.seed)."""
    check_task(task, method)
    task = downstream_task(task)
    config = config or DownstreamConfig()
    if method is not None:
        config = config.model_copy(update={"method": DownstreamConfig(method=method).method})
    seed = config.seed
    if task == "toxicity":
        from fac_datasets.downstream.toxicity import toxicity_finetune, toxicity_probe

        train_data = read_labelled(train, text_column, label_column, max_rows=max_train, seed=seed)
        test_data = read_labelled(test, text_column, label_column, max_rows=max_test, seed=seed)
        run = toxicity_probe if config.method == "probe" else toxicity_finetune
        return run(train_data, test_data, config)
    if task == "reward_modeling":
        from fac_datasets.downstream.reward import reward_bradley_terry

        return reward_bradley_terry(
            read_pairs(train, max_rows=max_train, seed=seed), read_pairs(test, max_rows=max_test, seed=seed), config
        )
    if task == "behavior_steering":
        from fac_datasets.downstream.steering import steering_caa

        return steering_caa(
            read_ab_items(train, max_rows=max_train, seed=seed),
            read_ab_items(test, max_rows=max_test, seed=seed),
            config,
        )
    from fac_datasets.downstream.instruction import instruction_nll_proxy

    return instruction_nll_proxy(
        read_instruction_pairs(train, max_rows=max_train, seed=seed),
        read_instruction_pairs(test, max_rows=max_test, seed=seed),
        config,
    )
