"""`fac interpret`: mine each feature's top spans into a FeatureCatalog, then explain and verify them."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from fac_datasets.cli.options import config_option, generator_limits
from fac_datasets.config import ExtractorConfig, GeneratorConfig, RelevanceConfig, SpanConfig


@generator_limits
def interpret(
    corpus: str = typer.Option(..., help="Texts to mine (file, saved dataset, Hub id); usually the anchor data."),
    out: Path = typer.Option(..., help="Catalog folder to write (a datasets folder + catalog.json)."),
    text_column: str | None = typer.Option(None, help="Text column of the corpus (default: guessed)."),
    generator: str | None = typer.Option(
        None,
        help="Explain and verify with this generator: 'default' (embedded), 'hf:PATH_OR_ID' or "
        "'openai:MODEL@BASE_URL'. Without it only spans and token summaries are made.",
    ),
    features: str | None = typer.Option(None, help="Features to explain: 'all' (default), 'top:N' or ids '1,2,3'."),
    verify: bool = typer.Option(True, help="Score each explanation by detection (balanced accuracy)."),
    work_dir: Path | None = typer.Option(None, help="Span shards (resumable); default OUT.work."),
    model: str = config_option(ExtractorConfig, "model", "--model"),
    sae: str = config_option(ExtractorConfig, "sae", "--sae"),
    dtype: str = config_option(ExtractorConfig, "dtype", "--dtype"),
    top_n: int = config_option(SpanConfig, "top_n", "--top-n"),
    shard_size: int = config_option(SpanConfig, "shard_size", "--shard-size"),
    limits: GeneratorConfig | None = None,
) -> None:
    """Build a feature catalog from CORPUS: top spans per feature (peak marked), then explanations."""
    from fac_datasets.catalog.catalog import FeatureCatalog
    from fac_datasets.catalog.spans import mine_spans
    from fac_datasets.features.extractor import load_extractor
    from fac_datasets.inputs import open_text_dataset

    extractor = load_extractor(model=model, sae=sae, dtype=dtype)
    dataset, column = open_text_dataset(corpus, text_column)
    work_dir = work_dir or out.with_name(f"{out.name}.work")
    mined = mine_spans(extractor, dataset[column], work_dir / "spans", SpanConfig(top_n=top_n, shard_size=shard_size))
    catalog = FeatureCatalog.from_spans(mined, mined.counts, extractor.provenance)
    catalog.save(out)
    typer.echo(f"{len(catalog)} active features, spans and token summaries: {out}")
    if generator is None:
        return
    summary = explain_catalog(out, generator, features, verify, limits)
    typer.echo(json.dumps(summary, indent=2))


def explain_catalog(
    folder: Path, spec: str, features: str | None, verify: bool, limits: GeneratorConfig | None = None
) -> dict:
    """Explain (and verify) the selected features of the catalog at `folder`, saving it after each stage."""
    from fac_datasets.catalog.catalog import FeatureCatalog
    from fac_datasets.catalog.explain import explain_features
    from fac_datasets.catalog.selection import parse_feature_selection
    from fac_datasets.catalog.verify import verify_features
    from fac_datasets.generation import load_generator

    catalog = FeatureCatalog.load(folder)
    ids = parse_feature_selection(features, catalog)
    with load_generator(spec, limits) as llm:
        catalog, explained = explain_features(catalog, llm, ids, progress=True)
        catalog.save(folder)
        summary = {"explain": explained.to_dict()}
        if verify:
            catalog, verified = verify_features(catalog, llm, ids, progress=True)
            catalog.save(folder)
            summary["verify"] = verified.to_dict()
        summary["generator"] = {"id": llm.generator_id, **llm.stats.to_dict()}
    return summary


@generator_limits
def relevance(
    catalog: Path = typer.Option(..., help="Catalog folder (from `fac interpret`); updated in place."),
    anchor: str = typer.Option(..., help="Anchor data (file, saved dataset, Hub id) or a feature-counts file."),
    task: str = typer.Option(
        ...,
        help="Task: toxicity, helpfulness, instruction_following, sycophancy, "
        "survival_instinct, or any name with --guideline.",
    ),  # fmt: skip
    method: str = typer.Option(
        "enrichment",
        help="enrichment (no LLM), llm (judge only), all (enrichment, then "
        "the judge confirms or vetoes the enriched features).",
    ),  # fmt: skip
    text_column: str | None = typer.Option(None, help="Text column of the anchor (default: guessed)."),
    reference: str = config_option(RelevanceConfig, "reference", "--reference"),
    contrast: str | None = typer.Option(
        None, help="Contrast data instead of the reference: the same genre without the task, or negative labels."
    ),
    min_z: float = config_option(RelevanceConfig, "min_z", "--min-z"),
    min_support: int = config_option(RelevanceConfig, "min_support", "--min-support"),
    top_k: int | None = config_option(RelevanceConfig, "top_k", "--top-k"),
    generator: str = typer.Option("default", help="Judge for --method llm/all: 'default', 'hf:...', 'openai:...'."),
    guideline: Path | None = typer.Option(None, help="Guideline text file (required for a task that is not built in)."),
    features: str | None = typer.Option(None, help="Features to judge: 'all', 'top:N' or ids (default: enriched)."),
    model: str = config_option(ExtractorConfig, "model", "--model"),
    sae: str = config_option(ExtractorConfig, "sae", "--sae"),
    limits: GeneratorConfig | None = None,
) -> None:
    """Decide which catalog features are relevant to TASK; the coverage and synthesis stages read it."""
    from fac_datasets.catalog.build import judge_relevance
    from fac_datasets.catalog.catalog import FeatureCatalog
    from fac_datasets.catalog.tasks import load_guideline
    from fac_datasets.features.sources import Featurizer, read_features

    guideline_text = load_guideline(task, guideline) if method != "enrichment" else None
    cat = FeatureCatalog.load(catalog)
    featurizer = Featurizer(ExtractorConfig(model=model, sae=sae))  # datasets.map caches the annotations
    cat.check_fits(featurizer.provenance)
    anchor_counts = contrast_counts = None
    if method in ("enrichment", "all"):
        anchor_counts = read_features(anchor, featurizer, column=text_column, name="anchor").counts
        if contrast is not None:
            contrast_counts = read_features(contrast, featurizer, column=text_column, name="contrast").counts
    config = RelevanceConfig(reference=reference, min_z=min_z, min_support=min_support, top_k=top_k)
    cat, summary = judge_relevance(
        cat,
        task,
        method,
        anchor=anchor_counts,
        contrast=contrast_counts,
        contrast_name=f"contrast set {contrast}",
        config=config,
        generator=generator,
        limits=limits,
        guideline=guideline_text,
        features=features,
    )
    cat.save(catalog)
    typer.echo(json.dumps(summary, indent=2))
