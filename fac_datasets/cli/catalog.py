"""`fac reference-counts`: feature counts and activation quantiles of an SAE on a reference corpus."""

from __future__ import annotations

from pathlib import Path

import typer

from fac_datasets.cli.options import config_option
from fac_datasets.config import ExtractorConfig
from fac_datasets.errors import FacInputError
from fac_datasets.features.reference import DEFAULT_RESERVOIR


def reference_counts(
    out: Path = typer.Option(..., help="The reference-stats file to write (.safetensors)."),
    corpus: str = typer.Option(
        "default", help="'default' (the default SAE's training corpus) or data (file, saved dataset, Hub id)."
    ),
    text_column: str | None = typer.Option(None, help="Text column of the corpus (default: guessed)."),
    max_texts: int | None = typer.Option(None, min=1, help="Use a seeded random sample of at most this many texts."),
    reservoir_size: int = typer.Option(
        DEFAULT_RESERVOIR, min=1, help="Activations kept per feature for its quantiles."
    ),
    seed: int = typer.Option(0, help="Seed of the text sample and the per-feature activation sample."),
    model: str = config_option(ExtractorConfig, "model", "--model"),
    sae: str = config_option(ExtractorConfig, "sae", "--sae"),
    threshold: float = config_option(ExtractorConfig, "threshold", "--threshold"),
    dtype: str = config_option(ExtractorConfig, "dtype", "--dtype"),
) -> None:
    """Count features and their activation quantiles on CORPUS: the reference of enrichment and quantile rules."""
    import numpy as np

    from fac_datasets.features.extractor import load_extractor
    from fac_datasets.features.reference import build_reference, default_corpus_texts
    from fac_datasets.inputs import dataset_name, read_texts

    if out.suffix != ".safetensors":
        raise FacInputError(f"--out {out} must end in .safetensors (reference stats are one safetensors file).")
    if corpus == "default":
        texts, description = default_corpus_texts()
    else:
        column, texts = read_texts(corpus, text_column)
        description = {"name": dataset_name(corpus), "spec": str(corpus), "column": column}
    if max_texts is not None and len(texts) > max_texts:
        picked = np.sort(np.random.default_rng(seed).choice(len(texts), size=max_texts, replace=False))
        texts = [texts[i] for i in picked]
        description = {**description, "sample": f"{max_texts} texts, seed {seed}"}
    extractor = load_extractor(model=model, sae=sae, threshold=threshold, dtype=dtype)
    stats = build_reference(
        extractor, texts, corpus=description, reservoir_size=reservoir_size, seed=seed, progress=True
    )
    stats.save(out)
    counts = stats.counts
    typer.echo(
        f"{counts.n_docs} texts, {counts.n_tokens} tokens, {int((counts.doc_freq > 0).sum())}/{counts.d_sae} "
        f"features active; {stats.meta['seconds']} s ({stats.meta['dtype']}); wrote {out}"
    )
