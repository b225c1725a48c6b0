"""One synthesis run from specs to a summary: the shared body of `fac synthesize` and `fac demo`."""

from __future__ import annotations

from pathlib import Path

from fac_datasets.config import SynthesisConfig
from fac_datasets.synthesis.api import RelevanceChoice, synthesize


def run_synthesis(
    anchor_texts,
    current_texts,
    task,
    extractor,
    generator: str,
    config: SynthesisConfig,
    out: Path,
    catalog=None,
    resume: bool = False,
    relevance: RelevanceChoice | None = None,
    limits=None,
) -> dict:
    """Load the generator, synthesize, and return the summary the CLI prints (FAC before/after, samples, calls).

    `limits` (a GeneratorConfig: timeout, retries, deadline) configures the generator; its spec is `generator`.
    """
    from fac_datasets.generation import load_generator

    with load_generator(generator, limits) as llm:
        result = synthesize(
            anchor_texts,
            current_texts,
            task,
            extractor=extractor,
            generator=llm,
            catalog=catalog,
            config=config,
            out_dir=out,
            resume=resume,
            relevance=relevance,
        )
    report = result.report
    return {
        "fac_before": report["fac_before"]["fac"],
        "fac_after": report["fac_after"]["fac"],
        "accepted": report["samples"]["accepted"],
        "generated": report["samples"]["generated"],
        "calls": report["calls"],
        "stop_reason": report["stop_reason"],
        "relevance": report["relevance"],
        "notes": list(result.notes),
        "out": str(out),
    }
