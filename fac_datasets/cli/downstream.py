"""`fac eval-downstream`: train a task's small downstream model on TRAIN, score it on TEST."""

from __future__ import annotations

import os

import typer

from fac_datasets.cli.options import config_option
from fac_datasets.config import DownstreamConfig


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
    seed: int = config_option(DownstreamConfig, "seed", "--seed"),
    model: str = config_option(DownstreamConfig, "model", "--model"),
    layer: int = config_option(DownstreamConfig, "layer", "--layer"),
    dtype: str = config_option(DownstreamConfig, "dtype", "--dtype"),
    max_length: int = config_option(DownstreamConfig, "max_length", "--max-length"),
    probe_c: float = config_option(DownstreamConfig, "probe_c", "--probe-c"),
    trainable_blocks: int = config_option(DownstreamConfig, "trainable_blocks", "--trainable-blocks"),
    epochs: int = config_option(DownstreamConfig, "epochs", "--epochs"),
    instruction_epochs: int = config_option(DownstreamConfig, "instruction_epochs", "--instruction-epochs"),
    lr: float = config_option(DownstreamConfig, "lr", "--lr"),
    head_lr: float = config_option(DownstreamConfig, "head_lr", "--head-lr"),
    batch_size: int = config_option(DownstreamConfig, "batch_size", "--batch-size"),
    finetune_max_length: int = config_option(DownstreamConfig, "finetune_max_length", "--finetune-max-length"),
    multipliers: list[float] = config_option(DownstreamConfig, "multipliers", "--multiplier"),
    steer_positions: str = config_option(DownstreamConfig, "steer_positions", "--steer-positions"),
    text_column: str | None = typer.Option(None, help="Toxicity: text column (default: text, tweet, ... guessed)."),
    label_column: str | None = typer.Option(
        None, help="Toxicity: 0/1 label column (default: 'label'; the Davidson CSV is recognised by its columns)."
    ),
    max_train: int | None = typer.Option(None, help="Seeded uniform sample of at most this many training rows."),
    max_test: int | None = typer.Option(None, help="Seeded uniform sample of at most this many test rows."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as one JSON object."),
) -> None:
    """Train TASK's downstream model on TRAIN and print its standard metric on TEST."""
    from fac_datasets.downstream.run import check_task, evaluate_downstream

    check_task(task, method)  # before loading anything
    try:
        import torch

        torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    except ImportError:  # pragma: no cover
        pass
    config = DownstreamConfig(
        seed=seed,
        model=model,
        layer=layer,
        dtype=dtype,
        max_length=max_length,
        probe_c=probe_c,
        trainable_blocks=trainable_blocks,
        epochs=epochs,
        instruction_epochs=instruction_epochs,
        lr=lr,
        head_lr=head_lr,
        batch_size=batch_size,
        finetune_max_length=finetune_max_length,
        multipliers=tuple(multipliers),
        steer_positions=steer_positions,
        **({"method": method} if method is not None else {}),
    )
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
