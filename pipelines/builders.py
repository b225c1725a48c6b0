"""Pipeline builders: the feature-targeted synthesis pipeline per task, and its input rows.

`missing_feature_rows` does the part that is not per-row work (features of anchor and current,
relevance, FAC before, which features are missing) with the same code as `fac synthesize`, and
returns one row per missing feature for the pipeline to fill.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fac_datasets.config import ExtractorConfig, SynthesisConfig
from fac_datasets.inputs import TextInput, check_texts

from . import steps as S
from .llm import FacGeneratorLLM


def missing_feature_rows(
    anchor_texts: Sequence[TextInput],
    current_texts: Sequence[TextInput],
    task: str,
    *,
    extractor: Any,
    catalog: Any = None,
    config: SynthesisConfig | None = None,
    work_dir: str | Path,
    progress: bool = False,
) -> tuple[list[dict], list[int]]:
    """(rows {feature_id, brief} for the first `max_features` missing relevant features, every missing id).

    Features are ordered as `fac synthesize` visits them: most anchor support first.
    """
    from fac_datasets.synthesis.api import prepare
    from fac_datasets.synthesis.prompts import feature_brief
    from fac_datasets.synthesis.tasks import load_task

    config = config or SynthesisConfig()
    anchor = check_texts(anchor_texts, min_count=1, what="anchor texts")
    current = check_texts(current_texts, what="current texts")
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    prep = prepare(anchor, current, load_task(task), extractor, catalog, config, work_dir, progress)
    missing = prep.plan.missing_ids
    visited = missing[: config.max_features] if config.max_features else missing
    rows = [
        {S.FEATURE_ID: f, S.BRIEF: feature_brief(prep.catalog, f, config.spans_in_prompt).to_dict()}
        for f in visited
        if f in prep.catalog
    ]
    return rows, missing


def synthesis_pipeline(
    rows: list[dict],
    task: str,
    *,
    extractor: dict[str, Any],
    missing: Sequence[int],
    reference_texts: Sequence[str],
    generator: str = "default",
    generator_config: dict[str, Any] | None = None,
    config: SynthesisConfig | None = None,
    name: str = "fac-synthesis",
    cache_dir: str | Path | None = None,
    guideline: str | None = None,
    columns: dict[str, str] | None = None,
):
    """The distilabel `Pipeline`: candidates -> SAE score -> pair -> covered samples -> SAE filter -> novelty.

    `extractor` holds `ExtractorConfig` fields (the backbone and SAE coverage used); `reference_texts`
    are the anchor and current texts the novelty filter compares with. Run it with
    `pipeline.run(use_cache=False)` (or `pipeline.ray().run(...)` on a Ray cluster).
    """
    from distilabel.pipeline import Pipeline
    from distilabel.steps import LoadDataFromDicts

    config = config or SynthesisConfig()
    llm_args = {"spec": generator, "generator_config": generator_config or {}}
    generation = {"max_new_tokens": config.max_new_tokens, "temperature": config.temperature, "seed": config.seed}
    task_args = {"task": task, "guideline": guideline, "columns": columns}
    pipeline_args: dict[str, Any] = {"name": name}
    if cache_dir is not None:
        pipeline_args["cache_dir"] = str(cache_dir)
    with Pipeline(**pipeline_args) as pipeline:
        load = LoadDataFromDicts(name="missing_features", data=rows)
        candidates = S.FeatureCandidates(
            name="candidates",
            llm=FacGeneratorLLM(**llm_args, generation_kwargs=generation),
            num_generations=config.candidates,
            **task_args,
        )
        score = S.SAEScore(name="sae_score", extractor=extractor)
        pair = S.SelectContrastivePair(
            name="pair", threshold=extractor.get("threshold", ExtractorConfig.default_of("threshold"))
        )
        covered = S.FeatureCoveredGeneration(
            name="covered",
            llm=FacGeneratorLLM(**llm_args, generation_kwargs=generation),
            num_generations=config.samples_per_feature,
            **task_args,
        )
        sae_filter = S.SAEFilter(
            name="sae_filter", extractor=extractor, threshold=config.filter_threshold, missing=list(missing)
        )
        threshold = config.minilm_threshold if config.novelty == "minilm" else config.ngram_threshold
        novelty = S.NoveltyFilter(
            name="novelty", reference_texts=list(reference_texts), method=config.novelty, threshold=threshold
        )
        load >> candidates >> score >> pair >> covered >> sae_filter >> novelty
    return pipeline
