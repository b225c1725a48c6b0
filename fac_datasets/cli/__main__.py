"""`python -m fac_datasets.cli` runs the `fac` command."""

from fac_datasets.cli import app

app()
