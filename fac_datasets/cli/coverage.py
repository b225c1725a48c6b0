"""`fac coverage`: FAC of a current dataset against an anchor, with a report to look at."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from fac_datasets.cli.options import config_option
from fac_datasets.config import CoverageConfig, ExtractorConfig, RelevanceConfig
from fac_datasets.errors import FacConfigError

ENRICHMENT_FILENAME = "enrichment.json"
MISSING_SHOWN = 50  # missing features the report explains (the ones with the most anchor support)


def _annotated(spec: str, column: str | None, annotator, num_proc: int | None):
    """Open, check every row, annotate (cached by datasets); (feature rows, texts)."""
    from fac_datasets.features.rows import FeatureRows
    from fac_datasets.inputs import open_text_dataset

    dataset, column = open_text_dataset(spec, column)
    rows = FeatureRows.from_dataset(annotator.for_column(column).annotate(dataset, num_proc=num_proc))
    return rows, dataset[column]


def counts_or_rows(spec: str, column: str | None, annotator, num_proc: int | None):
    """(counts, rows or None, texts or None) of an input that may be data or a feature-counts file."""
    from fac_datasets.features.counts import FeatureCounts

    if FeatureCounts.is_counts_file(spec):
        counts = FeatureCounts.load(spec)
        counts.check_setup(annotator.provenance, annotator.d_sae, f"The feature-counts file {spec}")
        return counts, None, None
    rows, texts = _annotated(spec, column, annotator, num_proc)
    return FeatureCounts.from_rows(rows, annotator.d_sae, annotator.provenance), rows, texts


def _method(relevance: str, relevant_features: Path | None) -> str:
    """Today's behaviour: a --relevant-features file alone means 'ids'."""
    if relevant_features is not None and relevance == "anchor-support":
        return "ids"
    if relevant_features is not None and relevance != "ids":
        raise FacConfigError(
            f"--relevant-features gives the ids itself: drop it, or use --relevance ids (not {relevance})."
        )
    if relevance == "ids" and relevant_features is None:
        raise FacConfigError("--relevance ids needs --relevant-features FILE (a JSON list of feature ids).")
    return relevance


def coverage(
    anchor: str = typer.Option(..., help="Anchor data (file, saved dataset, Hub id) or a feature-counts file."),
    current: str = typer.Option(..., help="Current data (file, saved dataset or Hub id)."),
    out: Path = typer.Option(..., help="Folder for coverage.json, coverage.png, coverage.html."),
    task: str | None = typer.Option(
        None, help="Task name, recorded; relevance for it comes from --relevance enrichment or --relevant-features."
    ),
    text_column: str | None = typer.Option(None, help="Text column of both inputs (default: guessed)."),
    relevant_features: Path | None = typer.Option(None, help="JSON list of relevant feature ids."),
    catalog: Path | None = typer.Option(
        None,
        help="Feature catalog (`fac interpret`, `fac relevance`): the features it calls relevant to --task count, "
        "and the report explains each missing one.",
    ),
    relevance: str = config_option(RelevanceConfig, "method", "--relevance"),
    reference: str = config_option(RelevanceConfig, "reference", "--reference"),
    contrast: str | None = typer.Option(
        None,
        help="Enrich against this set instead of the reference: the same genre without the task, or the anchor's "
        "negative labels (data or a feature-counts file).",
    ),
    min_z: float = config_option(RelevanceConfig, "min_z", "--min-z"),
    enrichment_min_support: int = config_option(RelevanceConfig, "min_support", "--enrichment-min-support"),
    top_k: int | None = config_option(RelevanceConfig, "top_k", "--top-k"),
    anchor_min_support: int = config_option(CoverageConfig, "anchor_min_support", "--anchor-min-support"),
    current_min_support: int = config_option(CoverageConfig, "current_min_support", "--current-min-support"),
    soft_support: int = config_option(CoverageConfig, "soft_support", "--soft-support"),
    token_budget: int | None = config_option(CoverageConfig, "token_budget", "--token-budget"),
    budget_seeds: int = config_option(CoverageConfig, "budget_seeds", "--budget-seeds"),
    activation_rule: str = config_option(CoverageConfig, "activation_rule", "--activation-rule"),
    activation_quantile: float = config_option(CoverageConfig, "activation_quantile", "--activation-quantile"),
    activation_fraction: float = config_option(CoverageConfig, "activation_fraction", "--activation-fraction"),
    mmd: bool = config_option(CoverageConfig, "mmd", "--mmd/--no-mmd"),
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
    from fac_datasets.inputs import read_feature_ids

    if catalog is not None and (relevant_features is not None or relevance != "anchor-support" or not task):
        raise FacConfigError(
            "--catalog needs --task and gives the relevant features itself: drop --relevance/--relevant-features."
        )
    method = "catalog" if catalog is not None else _method(relevance, relevant_features)
    relevance_config = RelevanceConfig(
        method="ids" if method == "catalog" else method,
        reference=reference,
        min_z=min_z,
        min_support=enrichment_min_support,
        top_k=top_k,
    )
    config = CoverageConfig(
        anchor_min_support=anchor_min_support,
        current_min_support=current_min_support,
        soft_support=soft_support,
        token_budget=token_budget,
        budget_seeds=budget_seeds,
        activation_rule=activation_rule,
        activation_quantile=activation_quantile,
        activation_fraction=activation_fraction,
        mmd=mmd,
    )
    annotator = FeatureAnnotator(model=model, sae=sae, threshold=threshold)
    anchor_counts, anchor_rows, anchor_texts = counts_or_rows(anchor, text_column, annotator, num_proc)
    stats = None
    if (method == "enrichment" and contrast is None) or config.activation_rule == "quantile":
        from fac_datasets.catalog.reference import load_reference

        stats = load_reference(relevance_config.reference, annotator.provenance)
    relevant, description, enrichment, feature_catalog = None, None, None, None
    if method == "catalog":
        from fac_datasets.catalog.catalog import FeatureCatalog
        from fac_datasets.catalog.relevance import RULE
        from fac_datasets.catalog.relevance import relevant_features as catalog_relevant

        feature_catalog = FeatureCatalog.load(catalog)
        feature_catalog.check_fits(annotator.provenance)
        relevant = catalog_relevant(feature_catalog, task)
        description = f"{len(relevant)} features relevant to {task!r} in the catalog {catalog} ({RULE})"
    elif method == "ids":
        relevant = read_feature_ids(relevant_features)
    elif method == "enrichment":
        from fac_datasets.catalog.enrichment import enrich
        from fac_datasets.coverage.relevance import relevance_from_enrichment
        from fac_datasets.inputs import dataset_name

        if contrast is not None:
            against, _, _ = counts_or_rows(contrast, text_column, annotator, num_proc)
            name = f"contrast set {dataset_name(contrast)}"
        else:
            corpus = stats.meta.get("corpus")
            label = corpus.get("name") if isinstance(corpus, dict) else corpus
            against, name = stats.counts, f"reference {label or relevance_config.reference}"
        enrichment = enrich(anchor_counts, against, relevance_config, reference_name=name)
        relevant, description = relevance_from_enrichment(enrichment)
    current_rows, current_texts = _annotated(current, text_column, annotator, num_proc)
    report = compute_coverage(
        anchor_counts,
        current_rows,
        relevant,
        config,
        anchor_rows=anchor_rows,
        reference=stats,
        relevance=description,
    )
    if config.mmd:
        from fac_datasets.coverage.mmd import neg_mmd

        if anchor_texts is None:
            report.notes.append("-MMD to the anchor needs the anchor texts; the anchor was given as counts.")
        else:
            report.variants["neg_mmd"] = neg_mmd(list(current_texts), list(anchor_texts))
    if task:
        report.provenance["task"] = task
        if method == "anchor-support":
            report.notes.append(
                f"Task {task!r} was named, but no feature catalog is available yet: relevance is anchor support "
                f">= {anchor_min_support}, not task relevance. Pass --relevant-features to restrict it."
            )
        elif method == "enrichment":
            against = (
                "the contrast set." if contrast else "a general reference, so genre features count too (--contrast)."
            )
            report.notes.append(
                f"Task {task!r}: relevance is statistical enrichment of the anchor, not a reviewed feature catalog, "
                f"against {against}"
            )
    if feature_catalog is not None:
        report.missing_details = feature_catalog.describe([m.feature for m in report.missing[:MISSING_SHOWN]])
    out.mkdir(parents=True, exist_ok=True)
    anchor_counts.save(out / ANCHOR_COUNTS_FILENAME)
    if enrichment is not None:
        (out / ENRICHMENT_FILENAME).write_text(json.dumps(enrichment.to_dict()))
    paths = write_coverage_report(report, anchor_counts, out)
    if as_json:
        typer.echo(paths["json"].read_text())
        return
    variants = report.variants
    line = f"FAC {report.fac:.4f} ({report.n_covered}/{report.n_relevant} relevant features covered)"
    line += f"; soft FAC {variants['soft_fac']:.4f} (s={variants['soft_support']})"
    if variants.get("token_budget"):
        budget = variants["token_budget"]
        line += f"; at {budget['tokens']} tokens: FAC {budget['fac_mean']:.4f}, soft {budget['soft_fac_mean']:.4f}"
    if variants.get("neg_mmd") is not None:
        line += f"; -MMD^2 to anchor {variants['neg_mmd']:.4f}"
    typer.echo(f"{line}; report: {paths['html']}")
    for note in report.notes:
        typer.secho(f"note: {note}", fg=typer.colors.YELLOW, err=True)
