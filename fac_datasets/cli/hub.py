"""`fac push`: publish a synthesized dataset, a feature catalog or an SAE folder to the Hub with its card."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from fac_datasets.cli.options import config_option
from fac_datasets.config import HubPushConfig


def push(
    folder: Path = typer.Argument(
        ..., help="A `fac synthesize` output folder, a feature catalog (`fac interpret`) or an SAE folder."
    ),
    repo: str = typer.Option(
        ..., "--repo", help="Hub repo id, owner/name (a dataset repo, or a model repo for an SAE)."
    ),
    private: bool = config_option(HubPushConfig, "private", "--private"),
    exists: str = config_option(HubPushConfig, "exists", "--exists"),
    endpoint: str | None = config_option(HubPushConfig, "endpoint", "--endpoint"),
    token: str | None = typer.Option(
        None, "--token", help="Hub write token; default: HF_TOKEN, else the token saved by `hf auth login`."
    ),
    license: str | None = config_option(HubPushConfig, "license", "--license"),
    source_dataset: list[str] | None = typer.Option(
        None, "--source-dataset", help=HubPushConfig.model_fields["source_datasets"].description + " Repeatable."
    ),
    pretty_name: str | None = config_option(HubPushConfig, "pretty_name", "--pretty-name"),
    table_rows: int = config_option(HubPushConfig, "table_rows", "--table-rows"),
) -> None:
    """Publish FOLDER to the Hub: data (or weights), card with FAC provenance, coverage plot. Checks all first."""
    from fac_datasets.hub.push import push as run

    config = HubPushConfig(
        private=private,
        exists=exists,
        endpoint=endpoint,
        license=license,
        source_datasets=tuple(source_dataset or ()),
        pretty_name=pretty_name,
        table_rows=table_rows,
    )
    result = run(folder, repo, config, token=token)
    typer.echo(json.dumps(result.to_dict(), indent=2))
