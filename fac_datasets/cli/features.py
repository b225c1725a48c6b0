"""`fac annotate`: the SAE features of a few texts."""

from __future__ import annotations

import json

import typer

from fac_datasets.cli.options import config_option
from fac_datasets.config import ExtractorConfig

# Short instructions of different kinds (also the backbone benchmark's default texts).
DEMO_TEXTS = [
    "Write a short poem about the ocean at night.",
    "How do I reverse a list in Python without modifying the original?",
    "Summarize the causes of the French Revolution in three bullet points.",
    "My landlord won't return my deposit. What are my options?",
    "Translate 'good morning, how are you?' into Spanish.",
]


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
