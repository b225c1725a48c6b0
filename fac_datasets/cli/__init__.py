"""The `fac` command line: one typer app; every FacError becomes one red line and exit code 2.

Each module of this package holds one group of verbs as plain functions; they are registered
here, the one place that lists every verb. Nothing in fac_datasets imports this package.
"""

from __future__ import annotations

import typer
from typer.core import TyperGroup

from fac_datasets.cli import (
    cache,
    catalog,
    coverage,
    demo,
    diversity,
    downstream,
    features,
    hub,
    interpret,
    review,
    sae,
    synthesize,
)
from fac_datasets.errors import FacError


class _FacErrorsAsMessages(TyperGroup):
    """Errors a user caused (bad file, bad option, missing model) print as one line, no traceback."""

    def invoke(self, ctx: typer.Context):  # noqa: ANN201 - click's signature
        try:
            return super().invoke(ctx)
        except FacError as exc:
            typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
            raise typer.Exit(code=2) from None


app = typer.Typer(
    cls=_FacErrorsAsMessages,
    add_completion=False,
    no_args_is_help=True,
    help="Feature Activation Coverage for LLM post-training data.",
)

app.command()(demo.demo)
app.command()(features.annotate)
app.command("annotate-dataset")(features.annotate_dataset)
app.command()(coverage.coverage)
app.command("reference-counts")(catalog.reference_counts)
app.command("diversity")(diversity.diversity)
app.command()(interpret.interpret)
app.command()(interpret.relevance)
app.command("sae-info")(sae.sae_info)
app.command("convert-sae")(sae.convert_sae)
app.command("train-sae")(sae.train_sae)
app.command()(synthesize.synthesize)
app.command("eval-downstream")(downstream.eval_downstream)
app.command()(hub.push)
app.add_typer(review.argilla_app, name="argilla")
app.add_typer(review.review_app, name="review")
app.add_typer(cache.cache_app, name="cache")
