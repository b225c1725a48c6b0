"""`fac diversity`: FAC and its baseline metrics for several datasets side by side."""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer


def _split(values: list[str] | None) -> list[str]:
    return [v.strip() for value in values or [] for v in value.split(",") if v.strip()]


def diversity(
    inputs: list[Path] = typer.Argument(
        ..., help=".jsonl/.json/.csv/.tsv/.parquet files (gzip too), save_to_disk folders or Hub dataset ids."
    ),
    text_column: list[str] | None = typer.Option(
        None,
        "--text-column",
        help="Text column: once for all inputs, or once per input in order. Default: 'text' or the only string column.",
    ),
    metrics: list[str] | None = typer.Option(
        None,
        "--metrics",
        help="Comma-separated or repeated: fac, distinct_n, ngram_entropy, pos_distinct, pair_cosdist, "
        "semantic_entropy, vendi, novelsum, dcscore, g_vendi (and any registered later); "
        "default: all but g_vendi (slow: a proxy model's gradient per text).",
    ),
    out: Path = typer.Option(..., "--out", help="Folder for diversity.json, diversity.md and diversity.png."),
    max_texts: int | None = typer.Option(
        None,
        "--max-texts",
        help="Seeded uniform sample of at most this many texts per input "
        "(corpus-pooled metrics depend on size: compare equal sizes).",
    ),
    seed: int = typer.Option(0, help="Seed of the --max-texts sample."),
    anchor: Path | None = typer.Option(
        None,
        "--anchor",
        help="Anchor data for FAC and NovelSum's density (same forms as INPUTS); default: all inputs pooled.",
    ),
    anchor_column: str | None = typer.Option(None, "--anchor-column", help="Text column of --anchor."),
    as_json: bool = typer.Option(False, "--json", help="Also print the report as one JSON object."),
) -> None:
    """Compute the baseline diversity metrics for several datasets; write a table and a plot."""
    from fac_datasets.diversity.corpora import read_corpora, set_fac_anchor, set_novelsum_reference
    from fac_datasets.diversity.registry import resolve_metrics
    from fac_datasets.diversity.report import build_report

    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the embedder is local; never ask the Hub
    try:
        import torch

        torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    except ImportError:  # pragma: no cover
        pass

    specs = resolve_metrics(_split(metrics))
    log = lambda line: typer.echo(line, err=True)  # noqa: E731
    corpora, used_columns = read_corpora(inputs, list(text_column or []), max_texts=max_texts, seed=seed, log=log)
    if any(spec.name == "fac" for spec in specs):
        set_fac_anchor(corpora, anchor, anchor_column)
    if any(spec.name == "novelsum" for spec in specs):
        set_novelsum_reference(corpora, anchor, anchor_column)
    report = build_report(corpora, specs, used_columns)
    paths = report.write(out)
    if as_json:
        typer.echo(json.dumps(report.to_dict()))
    else:
        typer.echo(report.to_markdown())
    typer.echo(f"wrote {', '.join(str(p) for p in paths.values())}", err=True)
