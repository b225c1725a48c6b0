"""`fac annotate`: the SAE features of a few texts."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from fac_datasets.cli.options import config_option
from fac_datasets.config import AnnotatorConfig, ExtractorConfig, StreamingConfig


def _print_features(texts, results, top: int) -> None:
    for text, result in zip(texts, results, strict=True):
        shown = text if isinstance(text, str) else " / ".join(m["content"] for m in text)
        typer.echo(f"\n{shown[:100]!r}  ({result.n_tokens} tokens, {len(result.features)} active features)")
        pairs = ", ".join(f"{f}:{a:.2f}" for f, a in zip(result.features[:top], result.activations[:top], strict=True))
        typer.echo(f"  top features: {pairs}")


def annotate(
    texts: list[str] = typer.Argument(..., help="Texts to annotate."),
    model: str = config_option(ExtractorConfig, "model", "--model"),
    sae: str = config_option(ExtractorConfig, "sae", "--sae"),
    layer: int | None = config_option(ExtractorConfig, "layer", "--layer"),
    dtype: str = config_option(ExtractorConfig, "dtype", "--dtype"),
    top: int = typer.Option(8, help="Features to show per text."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON list of {features, activations, n_tokens}."),
) -> None:
    """Print the strongest SAE features of each text."""
    from fac_datasets.features.extractor import load_extractor

    extractor = load_extractor(model=model, sae=sae, layer=layer, dtype=dtype)
    results = extractor.extract(texts)
    if as_json:
        typer.echo(json.dumps([r.__dict__ for r in results]))
        return
    _print_features(texts, results, top)
    typer.echo(f"\n{extractor.backbone.stats.report()}")


def annotate_dataset(
    input: str = typer.Argument(..., help="Data file (.jsonl, .csv, .parquet...), saved dataset folder or Hub id."),
    out: Path = typer.Option(..., "--out", help="Output folder; rerunning into it resumes (finished shards are kept)."),
    text_column: str | None = typer.Option(None, help="Column with the texts (default: guessed)."),
    split: str = typer.Option("train", help="Split of a Hub dataset or a saved DatasetDict."),
    model: str = config_option(AnnotatorConfig, "model", "--model"),
    sae: str = config_option(AnnotatorConfig, "sae", "--sae"),
    layer: int | None = config_option(AnnotatorConfig, "layer", "--layer"),
    dtype: str = config_option(AnnotatorConfig, "dtype", "--dtype"),
    device: str = config_option(AnnotatorConfig, "device", "--device"),
    threshold: float = config_option(AnnotatorConfig, "threshold", "--threshold"),
    shard_size: int = config_option(StreamingConfig, "shard_size", "--shard-size"),
    batch_size: int = config_option(StreamingConfig, "batch_size", "--batch-size"),
    counts_only: bool = config_option(StreamingConfig, "counts_only", "--counts-only"),
    streaming: bool = config_option(StreamingConfig, "streaming", "--streaming"),
    ray: str | None = config_option(StreamingConfig, "ray", "--ray"),
    ray_workers: int | None = config_option(StreamingConfig, "ray_workers", "--ray-workers"),
    ray_cpus_per_worker: int = config_option(StreamingConfig, "ray_cpus_per_worker", "--ray-cpus-per-worker"),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
) -> None:
    """Annotate a dataset of any size into shards (rows and/or FeatureCounts); resumable, in bounded memory."""
    from fac_datasets.features.annotator import FeatureAnnotator
    from fac_datasets.features.streaming import annotate_dataset as run
    from fac_datasets.features.streaming import open_source

    config = StreamingConfig(
        shard_size=shard_size,
        batch_size=batch_size,
        counts_only=counts_only,
        streaming=streaming,
        ray=ray,
        ray_workers=ray_workers,
        ray_cpus_per_worker=ray_cpus_per_worker,
    )
    source = open_source(input, text_column, config, split)
    annotator = FeatureAnnotator(
        model=model, sae=sae, layer=layer, dtype=dtype, device=device, threshold=threshold, column=source.column
    )
    result = run(source, out, annotator, config, input_name=input, progress=progress)
    counts = result.counts
    if result.n_resumed:
        typer.echo(f"resumed: {result.n_resumed} of {result.n_shards} shards were already finished (not recomputed)")
    setups = ", ".join(f"{s['device']}/{s['dtype']} ({s['dtype_reason']})" for s in result.setups)
    typer.echo(
        f"{counts.n_docs} rows, {counts.n_tokens} content tokens, {len(counts.active())} features active; "
        f"{result.n_shards} shards in {result.out_dir}; {setups}"
    )
