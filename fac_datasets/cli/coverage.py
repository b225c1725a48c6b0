"""`fac coverage`: FAC of a current dataset against an anchor, with a report to look at."""

from __future__ import annotations

from pathlib import Path

import typer

from fac_datasets.cli.options import COVERAGE, EXTRACTOR, RELEVANCE, RelevanceOptions, bundled
from fac_datasets.config import CoverageConfig, ExtractorConfig


@bundled(relevance=RELEVANCE, config=COVERAGE, extractor=EXTRACTOR)
def coverage(
    anchor: str = typer.Option(..., help="Anchor data (file, saved dataset, Hub id) or a feature-counts file."),
    current: str = typer.Option(..., help="Current data (file, saved dataset, Hub id) or a feature-counts file."),
    out: Path = typer.Option(..., help="Folder for coverage.json, coverage.png, coverage.html."),
    task: str | None = typer.Option(
        None, help="Task the relevant features are for: a catalog's verdicts, else enrichment (see --relevance)."
    ),
    text_column: str | None = typer.Option(None, help="Text column of the inputs (default: guessed)."),
    num_proc: int | None = typer.Option(None, help="Processes for datasets.map."),
    as_json: bool = typer.Option(False, "--json", help="Print coverage.json to stdout."),
    relevance: RelevanceOptions = None,
    config: CoverageConfig = None,
    extractor: ExtractorConfig = None,
) -> None:
    """FAC of CURRENT against ANCHOR, with the missing features and a report to look at."""
    from fac_datasets.coverage.measure import measure
    from fac_datasets.coverage.report import summary_line, write_coverage_report
    from fac_datasets.features.annotator import FeatureAnnotator

    report = measure(
        current,
        anchor,
        relevance=relevance.config,
        config=config,
        task=task,
        relevant_features=relevance.ids(),
        catalog=relevance.load_catalog(),
        contrast=relevance.contrast,
        features=FeatureAnnotator(**extractor.model_dump()),
        text_column=text_column,
        num_proc=num_proc,
    )
    paths = write_coverage_report(report, out_dir=out)
    if as_json:  # the notes are in the JSON
        typer.echo(paths["json"].read_text())
        return
    typer.echo(f"{summary_line(report)}; report: {paths['html']}")
    for note in report.notes:
        typer.secho(f"note: {note}", fg=typer.colors.YELLOW, err=True)
