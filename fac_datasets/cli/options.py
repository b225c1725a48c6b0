"""CLI options whose default and help come from the typed configs (the one home of defaults)."""

from __future__ import annotations

from typing import Any

import typer

from fac_datasets.config import FacConfig


def config_option(config: type[FacConfig], field: str, *flags: str, **kwargs: Any) -> Any:
    """A typer Option for `config.field`: same default, the field's docstring as help."""
    kwargs.setdefault("help", config.model_fields[field].description)
    return typer.Option(config.default_of(field), *flags, **kwargs)
