"""`fac sae-info`, `fac convert-sae`, `fac train-sae`: inspect, import and build SAEs."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from fac_datasets.cli.options import config_option
from fac_datasets.config import ExtractorConfig, TrainSAEConfig
from fac_datasets.errors import FacConfigError


def sae_info(
    sae: str = config_option(ExtractorConfig, "sae", "--sae"),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Show what an SAE is and how well it reconstructs held-out text."""
    from fac_datasets.features.sae_spec import resolve_sae
    from fac_datasets.sae.card import sae_summary

    summary = sae_summary(resolve_sae(sae))
    if as_json:
        typer.echo(json.dumps(summary))
        return
    for key, value in summary.items():
        typer.echo(f"{key:>16}: {value}")


def convert_sae(
    checkpoint: Path = typer.Argument(..., help="Reference-format checkpoint (.pt/.pth)."),
    out: Path = typer.Option(..., help="Folder to write (sae-lens format)."),
    model_name: str | None = typer.Option(None, "--model-name", help="Model the SAE was trained on."),
    layer: int | None = typer.Option(
        None, help="Layer (1-based blocks); parsed from '_l{N}' in the file name if omitted."
    ),
) -> None:
    """Convert an FAC reference checkpoint into an sae-lens folder."""
    from fac_datasets.sae.convert import from_reference_checkpoint
    from fac_datasets.sae.io import save_sae

    sae = from_reference_checkpoint(checkpoint, model_name, layer)
    save_sae(sae, out)
    typer.echo(f"wrote {out} (d_in={sae.d_in}, d_sae={sae.d_sae}, k={sae.cfg.k}, layer={sae.cfg.layer})")


def train_sae(
    preset: str = typer.Option("default", help="Training preset; 'default' rebuilds the shipped SAE."),
    out: Path = typer.Option(..., help="Folder for the trained SAE (sae-lens format + README card)."),
    work_dir: Path | None = typer.Option(None, help="Activation shards (resumable); default OUT/../OUT.work."),
    sweep: bool = typer.Option(False, help="First compare a few (d_sae, k) on a subset; recorded in the card."),
    max_train_tokens: int | None = config_option(TrainSAEConfig, "max_train_tokens", "--max-train-tokens"),
    model: str | None = typer.Option(None, help=TrainSAEConfig.model_fields["model"].description),
    layer: int | None = typer.Option(None, help=TrainSAEConfig.model_fields["layer"].description),
    d_sae: int | None = typer.Option(None, help=TrainSAEConfig.model_fields["d_sae"].description),
    k: int | None = typer.Option(None, help=TrainSAEConfig.model_fields["k"].description),
) -> None:
    """Train a TopK SAE with sae-lens on the default corpus; interrupted runs resume."""
    from fac_datasets.features.backbone import Backbone
    from fac_datasets.sae.card import sae_summary, write_sae_card
    from fac_datasets.sae.corpus import default_corpus, describe_default_corpus
    from fac_datasets.sae.io import save_sae
    from fac_datasets.sae.train import PRESETS, SWEEP_GRID, SWEEP_NOTE, train_from_corpus

    if preset not in PRESETS:
        raise FacConfigError(f"Unknown preset {preset!r}; known: {', '.join(PRESETS)}.")
    overrides = {"model": model, "layer": layer, "d_sae": d_sae, "k": k, "max_train_tokens": max_train_tokens}
    cfg = TrainSAEConfig(**{**PRESETS[preset], **{key: value for key, value in overrides.items() if value is not None}})
    work_dir = work_dir or out.parent / f"{out.name}.work"
    backbone = Backbone.load(
        cfg.model, cfg.layer, cfg.collect_dtype, max_length=cfg.max_length, outlier_norm_factor=cfg.outlier_norm_factor
    )
    sae, record = train_from_corpus(
        cfg, backbone, default_corpus(), work_dir, describe_default_corpus(), SWEEP_GRID if sweep else ()
    )
    if record["sweep"]:
        record["sweep"]["note"] = SWEEP_NOTE
    save_sae(sae, out)
    write_sae_card(sae, out)
    typer.echo(json.dumps(sae_summary(sae), indent=2))
