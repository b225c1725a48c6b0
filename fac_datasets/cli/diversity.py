"""`fac diversity`: FAC and its baseline metrics for several datasets side by side."""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer

from fac_datasets.errors import FacInputError


def _split(values: list[str] | None) -> list[str]:
    return [v.strip() for value in values or [] for v in value.split(",") if v.strip()]


def _set_fac_anchor(corpora: list, anchor: Path | None, column: str | None) -> None:
    """FAC's anchor for every corpus: the --anchor data, or all inputs pooled."""
    from fac_datasets.diversity.registry import Corpus, pooled_anchor
    from fac_datasets.inputs import read_texts

    if anchor is None:
        counts = pooled_anchor(corpora)
    else:
        _, texts = read_texts(anchor, column, chat=False, blank=False)
        counts = pooled_anchor([Corpus("anchor", texts)])
    for corpus in corpora:
        corpus.anchor = counts


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
        "semantic_entropy, vendi (and any registered later); default: all.",
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
        None, "--anchor", help="Anchor data for FAC (same forms as INPUTS); default: all inputs pooled."
    ),
    anchor_column: str | None = typer.Option(None, "--anchor-column", help="Text column of --anchor."),
    as_json: bool = typer.Option(False, "--json", help="Also print the report as one JSON object."),
) -> None:
    """Compute the baseline diversity metrics for several datasets; write a table and a plot."""
    from fac_datasets.diversity.registry import Corpus, resolve_metrics
    from fac_datasets.diversity.report import build_report
    from fac_datasets.inputs import dataset_name, read_texts

    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the embedder is local; never ask the Hub
    try:
        import torch

        torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    except ImportError:  # pragma: no cover
        pass

    columns = list(text_column or [])
    if len(columns) not in (0, 1, len(inputs)):
        raise FacInputError(
            f"--text-column given {len(columns)} times for {len(inputs)} inputs: give it once or once per input."
        )
    specs = resolve_metrics(_split(metrics))
    corpora, used_columns = [], {}
    names = [dataset_name(p) for p in inputs]
    for i, path in enumerate(inputs):
        column = columns[i] if len(columns) == len(inputs) else (columns[0] if columns else None)
        name = names[i] if names.count(names[i]) == 1 else f"{names[i]}[{i}]"
        used, texts = read_texts(path, column, chat=False, blank=False, max_texts=max_texts, seed=seed)
        name = f"{name}:{used}"
        used_columns[name] = used
        corpora.append(Corpus(name, texts, source=str(path)))
        typer.echo(f"{path}: {len(texts)} texts from column {used!r}", err=True)
    if any(spec.name == "fac" for spec in specs):
        _set_fac_anchor(corpora, anchor, anchor_column)
    report = build_report(corpora, specs, used_columns)
    paths = report.write(out)
    if as_json:
        typer.echo(json.dumps(report.to_dict()))
    else:
        typer.echo(report.to_markdown())
    typer.echo(f"wrote {', '.join(str(p) for p in paths.values())}", err=True)
