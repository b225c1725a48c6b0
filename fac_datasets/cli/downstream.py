"""`fac eval-downstream`: train a task's small downstream model on TRAIN, score it on TEST."""

from __future__ import annotations

import os

import typer

from fac_datasets.cli.options import bundled, config_bundle
from fac_datasets.config import DownstreamConfig

DOWNSTREAM = config_bundle(
    DownstreamConfig,
    {
        "seed": "--seed",
        "model": "--model",
        "layer": "--layer",
        "dtype": "--dtype",
        "max_length": "--max-length",
        "probe_c": "--probe-c",
        "trainable_blocks": "--trainable-blocks",
        "epochs": "--epochs",
        "instruction_epochs": "--instruction-epochs",
        "lr": "--lr",
        "head_lr": "--head-lr",
        "batch_size": "--batch-size",
        "finetune_max_length": "--finetune-max-length",
        "multipliers": "--multiplier",
        "steer_positions": "--steer-positions",
    },
)


@bundled(config=DOWNSTREAM)
def eval_downstream(
    task: str = typer.Option(
        ..., help="toxicity, reward_modeling, behavior_steering or instruction_following (a proxy)."
    ),
    train: str = typer.Option(
        ..., help="Training data: a file (.jsonl/.json/.csv/.tsv/.parquet, gzip too), folder or Hub id."
    ),
    test: str = typer.Option(..., help="Test data, same forms; keep it fixed across the training sets you compare."),
    method: str | None = typer.Option(
        None, help=f"Toxicity only: probe or finetune (default: {DownstreamConfig.default_of('method')})."
    ),
    text_column: str | None = typer.Option(None, help="Toxicity: text column (default: text, tweet, ... guessed)."),
    label_column: str | None = typer.Option(
        None, help="Toxicity: 0/1 label column (default: 'label'; the Davidson CSV is recognised by its columns)."
    ),
    max_train: int | None = typer.Option(None, help="Seeded uniform sample of at most this many training rows."),
    max_test: int | None = typer.Option(None, help="Seeded uniform sample of at most this many test rows."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as one JSON object."),
    config: DownstreamConfig = None,
) -> None:
    """Train TASK's downstream model on TRAIN and print its standard metric on TEST."""
    from fac_datasets.downstream.run import check_task, evaluate_downstream

    check_task(task, method)  # before loading anything
    try:
        import torch

        torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    except ImportError:  # pragma: no cover
        pass
    if method is not None:
        config = DownstreamConfig(**{**config.model_dump(), "method": method})
    result = evaluate_downstream(
        task,
        train,
        test,
        config,
        text_column=text_column,
        label_column=label_column,
        max_train=max_train,
        max_test=max_test,
    )
    if as_json:
        typer.echo(result.to_json())
        return
    typer.echo(result.summary())
    if result.details.get("proxy"):
        typer.echo(result.details["note"])
