"""`fac coverage`: FAC of a current dataset against an anchor, with a report to look at."""

from __future__ import annotations

from pathlib import Path

import typer

from fac_datasets.cli.options import config_option
from fac_datasets.config import CoverageConfig, ExtractorConfig


def _feature_rows(spec: str, column: str | None, annotator, num_proc: int | None):
    """Open, check every row, annotate (cached by datasets), and read the features back."""
    from fac_datasets.features.rows import FeatureRows
    from fac_datasets.inputs import open_text_dataset

    dataset, column = open_text_dataset(spec, column)
    return FeatureRows.from_dataset(annotator.for_column(column).annotate(dataset, num_proc=num_proc))


def coverage(
    anchor: str = typer.Option(..., help="Anchor data (file, saved dataset, Hub id) or a feature-counts file."),
    current: str = typer.Option(..., help="Current data (file, saved dataset or Hub id)."),
    out: Path = typer.Option(..., help="Folder for coverage.json, coverage.png, coverage.html."),
    task: str | None = typer.Option(
        None, help="Task name, recorded; task relevance needs a feature catalog (--relevant-features until then)."
    ),
    text_column: str | None = typer.Option(None, help="Text column of both inputs (default: guessed)."),
    relevant_features: Path | None = typer.Option(None, help="JSON list of relevant feature ids."),
    anchor_min_support: int = config_option(CoverageConfig, "anchor_min_support", "--anchor-min-support"),
    current_min_support: int = config_option(CoverageConfig, "current_min_support", "--current-min-support"),
    threshold: float = config_option(ExtractorConfig, "threshold", "--threshold"),
    model: str = config_option(ExtractorConfig, "model", "--model"),
    sae: str = config_option(ExtractorConfig, "sae", "--sae"),
    num_proc: int | None = typer.Option(None, help="Processes for datasets.map."),
    as_json: bool = typer.Option(False, "--json", help="Print coverage.json to stdout."),
) -> None:
    """FAC of CURRENT against ANCHOR, with the missing features and a report to look at."""
    from fac_datasets.constants import ANCHOR_COUNTS_FILENAME
    from fac_datasets.coverage.compute import compute_coverage
    from fac_datasets.coverage.report import write_coverage_report
    from fac_datasets.features.annotator import FeatureAnnotator
    from fac_datasets.features.counts import FeatureCounts
    from fac_datasets.inputs import read_feature_ids

    config = CoverageConfig(anchor_min_support=anchor_min_support, current_min_support=current_min_support)
    relevant = read_feature_ids(relevant_features) if relevant_features else None
    annotator = FeatureAnnotator(model=model, sae=sae, threshold=threshold)
    if FeatureCounts.is_counts_file(anchor):
        anchor_counts = FeatureCounts.load(anchor)
    else:
        rows = _feature_rows(anchor, text_column, annotator, num_proc)
        anchor_counts = FeatureCounts.from_rows(rows, annotator.d_sae, annotator.provenance)
    current_rows = _feature_rows(current, text_column, annotator, num_proc)
    report = compute_coverage(anchor_counts, current_rows, relevant, config)
    if task:
        report.provenance["task"] = task
        if relevant is None:
            report.notes.append(
                f"Task {task!r} was named, but no feature catalog is available yet: relevance is anchor support "
                f">= {anchor_min_support}, not task relevance. Pass --relevant-features to restrict it."
            )
    out.mkdir(parents=True, exist_ok=True)
    anchor_counts.save(out / ANCHOR_COUNTS_FILENAME)
    paths = write_coverage_report(report, anchor_counts, out)
    if as_json:
        typer.echo(paths["json"].read_text())
        return
    typer.echo(
        f"FAC {report.fac:.4f} ({report.n_covered}/{report.n_relevant} relevant features covered); "
        f"report: {paths['html']}"
    )
    for note in report.notes:
        typer.secho(f"note: {note}", fg=typer.colors.YELLOW, err=True)
