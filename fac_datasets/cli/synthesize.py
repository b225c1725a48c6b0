"""`fac synthesize`: fill the relevant features CURRENT lacks with SAE-checked synthesized samples."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from fac_datasets.cli.options import config_option, generator_limits
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
    catalog: Path | None = typer.Option(
        None, help="Feature catalog of this SAE (`fac interpret`); default: mined from the anchor."
    ),
    generator: str = config_option(GeneratorConfig, "spec", "--generator"),
    budget: int | None = config_option(SynthesisConfig, "budget", "--budget"),
    target_fac: float | None = config_option(SynthesisConfig, "target_fac", "--target-fac"),
    resume: bool = typer.Option(False, help="Continue the run in --out: finished features are skipped."),
    max_features: int | None = config_option(SynthesisConfig, "max_features", "--max-features"),
    samples_per_feature: int = config_option(SynthesisConfig, "samples_per_feature", "--samples-per-feature"),
    candidates: int = config_option(SynthesisConfig, "candidates", "--candidates"),
    calls_per_feature: int = config_option(SynthesisConfig, "calls_per_feature", "--calls-per-feature"),
    patience: int = config_option(SynthesisConfig, "patience", "--patience"),
    co_targets: int = config_option(SynthesisConfig, "co_targets", "--co-targets"),
    filter_threshold: float | None = config_option(SynthesisConfig, "filter_threshold", "--filter-threshold"),
    novelty: str = config_option(SynthesisConfig, "novelty", "--novelty"),
    temperature: float = config_option(SynthesisConfig, "temperature", "--temperature"),
    guideline: Path | None = typer.Option(
        None, help="Text file: the custom task's guideline, or the behaviour of behavior_steering."
    ),
    columns: str | None = typer.Option(None, help="Custom task columns: 'name:description;other:description'."),
    text_column: str | None = typer.Option(None, help="Text column of both inputs (default: guessed)."),
    model: str = config_option(ExtractorConfig, "model", "--model"),
    sae: str = config_option(ExtractorConfig, "sae", "--sae"),
    threshold: float = config_option(ExtractorConfig, "threshold", "--threshold"),
    max_length: int = config_option(ExtractorConfig, "max_length", "--max-length"),
    limits: GeneratorConfig | None = None,
) -> None:
    """Synthesize samples for the relevant ANCHOR features CURRENT lacks; report FAC before and after."""
    from fac_datasets.catalog.catalog import FeatureCatalog
    from fac_datasets.catalog.tasks import load_guideline
    from fac_datasets.features.extractor import load_extractor
    from fac_datasets.inputs import read_texts
    from fac_datasets.synthesis.tasks import load_task

    config = SynthesisConfig(
        max_features=max_features,
        samples_per_feature=samples_per_feature,
        candidates=candidates,
        calls_per_feature=calls_per_feature,
        patience=patience,
        budget=budget,
        target_fac=target_fac,
        filter_threshold=filter_threshold,
        co_targets=co_targets,
        novelty=novelty,
        temperature=temperature,
    )
    guideline_text = load_guideline(task, guideline) if guideline is not None else None
    synthesis_task = load_task(task, guideline=guideline_text, columns=parse_columns(columns))
    _, anchor_texts = read_texts(anchor, text_column)
    _, current_texts = read_texts(current, text_column)
    extractor = load_extractor(model=model, sae=sae, threshold=threshold, max_length=max_length)
    feature_catalog = FeatureCatalog.load(catalog) if catalog is not None else None
    summary = run_synthesis(
        anchor_texts, current_texts, synthesis_task, extractor, generator, config, out, feature_catalog, resume, limits
    )
    typer.echo(json.dumps(summary, indent=2))


def run_synthesis(
    anchor_texts, current_texts, task, extractor, generator: str, config, out: Path, catalog, resume: bool, limits=None
):
    """The synthesis run behind `fac synthesize` and `fac demo`; returns the printed summary.

    `limits` (a GeneratorConfig: timeout, retries, deadline) configures the generator; its spec is `generator`.
    """
    from fac_datasets.generation import load_generator
    from fac_datasets.synthesis.api import synthesize as run

    with load_generator(generator, limits) as llm:
        result = run(
            anchor_texts,
            current_texts,
            task,
            extractor=extractor,
            generator=llm,
            catalog=catalog,
            config=config,
            out_dir=out,
            resume=resume,
        )
    report = result.report
    return {
        "fac_before": report["fac_before"]["fac"],
        "fac_after": report["fac_after"]["fac"],
        "accepted": report["samples"]["accepted"],
        "generated": report["samples"]["generated"],
        "calls": report["calls"],
        "stop_reason": report["stop_reason"],
        "out": str(out),
    }
