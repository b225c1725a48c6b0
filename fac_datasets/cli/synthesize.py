"""`fac synthesize`: fill the relevant features CURRENT lacks with SAE-checked synthesized samples."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from fac_datasets.cli.options import (
    EXTRACTOR,
    RELEVANCE,
    SYNTHESIS,
    RelevanceOptions,
    bundled,
    config_option,
    generator_limits,
)
from fac_datasets.config import ExtractorConfig, GeneratorConfig, SynthesisConfig
from fac_datasets.errors import FacConfigError


def parse_columns(spec: str | None) -> dict[str, str] | None:
    """'name:description;other:description' -> {name: description} (the custom task's columns)."""
    if spec is None:
        return None
    columns = {}
    for part in spec.split(";"):
        if not part.strip():
            continue
        name, sep, description = part.partition(":")
        if not sep or not name.strip():
            raise FacConfigError(f"--columns takes 'name:description;other:description', got {spec!r}.")
        columns[name.strip()] = description.strip() or name.strip()
    return columns


@generator_limits
@bundled(relevance=RELEVANCE, config=SYNTHESIS, extractor=EXTRACTOR)
def synthesize(
    anchor: str = typer.Option(
        ..., help="Anchor data: what the task's data should cover (file, saved dataset, Hub id)."
    ),
    current: str = typer.Option(
        ..., help="Current data whose missing features are filled (file, saved dataset, Hub id)."
    ),
    task: str = typer.Option(
        ...,
        help="toxicity, instruction_following, reward_modeling (helpfulness), behavior_steering (sycophancy, "
        "survival_instinct) or custom.",
    ),
    out: Path = typer.Option(..., help="Folder for the dataset, samples.jsonl, report.json, report.html, checkpoints."),
    generator: str = config_option(GeneratorConfig, "spec", "--generator"),
    resume: bool = typer.Option(False, help="Continue the run in --out: finished features are skipped."),
    guideline: Path | None = typer.Option(
        None, help="Text file: the custom task's guideline, or the behaviour of behavior_steering."
    ),
    columns: str | None = typer.Option(None, help="Custom task columns: 'name:description;other:description'."),
    text_column: str | None = typer.Option(None, help="Text column of both inputs (default: guessed)."),
    relevance: RelevanceOptions = None,
    config: SynthesisConfig = None,
    extractor: ExtractorConfig = None,
    limits: GeneratorConfig | None = None,
) -> None:
    """Synthesize samples for the relevant ANCHOR features CURRENT lacks; report FAC before and after.

    Without --catalog one is mined from the anchor; relevance then is enrichment (see --relevance, --contrast).
    """
    from fac_datasets.catalog.tasks import load_guideline
    from fac_datasets.features.extractor import load_extractor
    from fac_datasets.inputs import read_texts
    from fac_datasets.synthesis.run import run_synthesis
    from fac_datasets.synthesis.tasks import load_task

    guideline_text = load_guideline(task, guideline) if guideline is not None else None
    synthesis_task = load_task(task, guideline=guideline_text, columns=parse_columns(columns))
    _, anchor_texts = read_texts(anchor, text_column)
    _, current_texts = read_texts(current, text_column)
    summary = run_synthesis(
        anchor_texts,
        current_texts,
        synthesis_task,
        load_extractor(extractor),
        generator,
        config,
        out,
        relevance.load_catalog(),
        resume,
        relevance.for_synthesis(),
        limits,
    )
    for note in summary["notes"]:
        typer.secho(f"note: {note}", fg=typer.colors.YELLOW, err=True)
    typer.echo(json.dumps(summary, indent=2))
