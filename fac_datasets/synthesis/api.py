"""`synthesize`: anchor + current texts -> the samples that fill the current set's missing relevant features.

Steps: features of both sets with the given extractor; a catalog (given, or mined from the anchor);
the features that matter for the task from `relevance.resolve` (the catalog's verdicts, else
enrichment against a contrast set or the SAE's reference stats, else anchor support, noted); FAC before; the loop
(`loop.py`); FAC after with the accepted samples added; dataset and reports in `out_dir`.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fac_datasets.catalog.catalog import FeatureCatalog
from fac_datasets.config import CoverageConfig, RelevanceConfig, SynthesisConfig
from fac_datasets.coverage.compute import CoverageReport, compute_coverage
from fac_datasets.errors import FacGeneratorError, FacInputError
from fac_datasets.features.counts import FeatureCounts
from fac_datasets.features.extractor import FeatureExtractor
from fac_datasets.features.rows import FeatureRows
from fac_datasets.features.sources import Featurizer, read_features
from fac_datasets.generation.generator import Generator
from fac_datasets.inputs import TextInput, check_texts
from fac_datasets.run_lock import RunLock
from fac_datasets.synthesis import output
from fac_datasets.synthesis import records as R
from fac_datasets.synthesis.checkpoint import Checkpoint, has_checkpoint, load_checkpoint
from fac_datasets.synthesis.loop import FeatureCallback, Plan, SynthesisLoop
from fac_datasets.synthesis.novelty import NoveltyIndex
from fac_datasets.synthesis.prompts import prompt_version
from fac_datasets.synthesis.sae_filter import effective_threshold
from fac_datasets.synthesis.tasks import SynthesisTask, load_task

CATALOG_DIR = "catalog"
CATALOG_WORK_DIR = "catalog.work"
# Settings that decide where a run stops, not what any feature produces: a resumed run may change them.
RESUMABLE_SETTINGS = ("budget", "target_fac", "max_features")


@dataclass(frozen=True)
class RelevanceChoice:
    """How synthesis picks the features to fill (the `fac synthesize --relevance ...` options).

    Attributes:
        config: the method and enrichment settings (`RelevanceConfig`; default auto).
        relevant_features: explicit ids (method ids).
        contrast: a contrast set (texts, a data spec or FeatureCounts) to enrich against instead of general text.
        contrast_name: how reports name it.
    """

    config: RelevanceConfig = field(default_factory=RelevanceConfig)
    relevant_features: Sequence[int] | None = None
    contrast: object = None
    contrast_name: str = "contrast set"


@dataclass
class SynthesisResult:
    """Attributes:
    dataset: every generated sample (task columns + provenance); `accepted` marks the kept ones.
    report: what report.json holds (FAC before/after, per-feature yields, calls, settings).
    features: one record per visited (or not reached) missing feature.
    before, after: the coverage reports without and with the accepted samples.
    out_dir: where the dataset, samples.jsonl, report.json and report.html are.
    """

    dataset: object
    report: dict
    features: list[R.FeatureRecord]
    before: CoverageReport
    after: CoverageReport
    out_dir: Path
    notes: list[str] = field(default_factory=list)

    @property
    def accepted(self):
        """The accepted samples only."""
        return self.dataset.filter(lambda accepted: accepted, input_columns=[R.ACCEPTED])


def _texts_hash(texts: Sequence[TextInput]) -> str:
    digest = hashlib.sha256()
    for text in texts:
        digest.update(json.dumps(text, sort_keys=True).encode())
        digest.update(b"\0")
    return digest.hexdigest()


def run_fingerprint(parts: dict) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:24]


def _concat_rows(first: FeatureRows, second: FeatureRows) -> FeatureRows:
    return FeatureRows(
        np.concatenate([first.offsets, first.offsets[-1] + second.offsets[1:]]),
        np.concatenate([first.features, second.features]),
        np.concatenate([first.activations, second.activations]),
        np.concatenate([first.n_tokens, second.n_tokens]),
    )


def _catalog(
    catalog: FeatureCatalog | None,
    extractor: FeatureExtractor,
    anchor: list,
    out_dir: Path,
    progress: bool,
) -> tuple[FeatureCatalog, FeatureCounts | None]:
    """The given catalog (checked against the extractor), or one mined from the anchor (with its counts)."""
    if catalog is not None:
        catalog.check_fits(extractor.provenance)
        return catalog, None
    from fac_datasets.catalog.build import catalog_from_texts

    built, mined = catalog_from_texts(extractor, anchor, out_dir / CATALOG_WORK_DIR, progress=progress)
    return built, mined.counts


def _relevance(
    catalog: FeatureCatalog,
    task: SynthesisTask,
    anchor: FeatureCounts,
    choice: RelevanceChoice,
    featurizer: Featurizer,
    notes: list[str],
) -> tuple[FeatureCatalog, list[int] | None, str, bool]:
    """(catalog, relevant ids or None for anchor support, description, catalog changed), by `relevance.resolve`.

    An enrichment decision is recorded in the catalog (its verdicts for the task), and only features the
    catalog has rows for can be synthesized for.
    """
    from fac_datasets.catalog.build import record_enrichment
    from fac_datasets.relevance.resolve import resolve

    contrast = None
    if choice.contrast is not None:
        contrast = read_features(choice.contrast, featurizer, name="contrast").counts
    # The run always has a catalog (given or mined) to show features with; it decides relevance only
    # when asked to (method catalog) or by default (auto: when it holds verdicts for the task).
    deciding = catalog if choice.config.method in ("auto", "catalog") else None
    relevance = resolve(
        anchor,
        choice.config,
        task=task.relevance_task,
        ids=choice.relevant_features,
        catalog=deciding,
        contrast=contrast,
        contrast_name=choice.contrast_name,
    )
    notes.extend(relevance.notes)
    description = relevance.description or f"anchor support >= {CoverageConfig.default_of('anchor_min_support')}"
    changed = relevance.enrichment is not None
    if changed:
        catalog = record_enrichment(catalog, task.relevance_task, relevance.enrichment)
    ids = relevance.ids
    if ids is not None:
        outside = [f for f in ids if f not in catalog]
        if outside:
            notes.append(
                f"{len(outside)} relevant features have no row in the catalog (never active in its corpus) "
                f"and are left out: {outside[:10]}."
            )
        ids = [f for f in ids if f in catalog]
    return catalog, ids, description, changed


def _check_out_dir(out_dir: Path, resume: bool) -> None:
    if has_checkpoint(out_dir) and not resume:
        raise FacInputError(
            f"{out_dir} already holds a synthesis run. Pass resume=True (--resume) to continue it, or a new folder."
        )
    if out_dir.exists() and not out_dir.is_dir():
        raise FacInputError(f"{out_dir} is a file; pass a folder for the synthesis outputs.")


@dataclass
class Prepared:
    """What the loop starts from: the catalog, the anchor counts, FAC before and the plan."""

    catalog: FeatureCatalog
    anchor_counts: FeatureCounts
    current_rows: FeatureRows
    relevant: list[int] | None
    relevance: str
    coverage_config: CoverageConfig
    before: CoverageReport
    plan: Plan
    notes: list[str]


def prepare(
    anchor: list,
    current: list,
    task: SynthesisTask,
    extractor: FeatureExtractor,
    catalog: FeatureCatalog | None,
    config: SynthesisConfig,
    out_dir: Path,
    progress: bool,
    relevance: RelevanceChoice | None = None,
) -> Prepared:
    """Features of both sets, the catalog and its relevance for the task, FAC before, the missing features."""
    notes: list[str] = []
    relevance = relevance or RelevanceChoice()
    provenance, d_sae = extractor.provenance, extractor.sae.d_sae
    catalog, mined_counts = _catalog(catalog, extractor, anchor, out_dir, progress)
    anchor_rows = None
    if mined_counts is None or config.co_targets:
        anchor_rows = extractor.extract_rows(anchor, progress=progress)
    anchor_counts = mined_counts or FeatureCounts.from_rows(anchor_rows, d_sae, provenance)
    current_rows = extractor.extract_rows(current, progress=progress)
    catalog, relevant, relevance, changed = _relevance(
        catalog, task, anchor_counts, relevance, Featurizer(extractor), notes
    )
    if relevant is not None and not relevant:
        raise FacInputError(
            f"No feature of the catalog is relevant to task {task.relevance_task!r} ({relevance}): nothing to fill. "
            "Check the task name, or judge relevance again."
        )
    if mined_counts is not None or changed:
        catalog.save(out_dir / CATALOG_DIR)
    tokens = int(current_rows.n_tokens.sum()) if current_rows.n_rows else 0
    coverage_config = CoverageConfig(token_budget=tokens or None)  # FAC after is compared at the same tokens
    before = compute_coverage(anchor_counts, current_rows, relevant, coverage_config, relevance=relevance)
    plan = Plan(before.missing, before.n_relevant, before.n_covered, coverage_config.current_min_support, anchor_rows)
    return Prepared(
        catalog, anchor_counts, current_rows, relevant, relevance, coverage_config, before, plan, notes + before.notes
    )


def synthesize(
    anchor_texts: Sequence[TextInput],
    current_texts: Sequence[TextInput],
    task: str | SynthesisTask,
    *,
    extractor: FeatureExtractor,
    generator: Generator,
    catalog: FeatureCatalog | None = None,
    config: SynthesisConfig | None = None,
    out_dir: str | Path,
    resume: bool = False,
    progress: bool = True,
    on_feature: FeatureCallback | None = None,
    relevance: RelevanceChoice | RelevanceConfig | None = None,
) -> SynthesisResult:
    """Synthesize samples that fill the relevant anchor features `current_texts` lacks.

    `catalog` (a FeatureCatalog of this extractor's SAE) names and shows the features; without it one
    is mined from the anchor. `resume=True` continues a killed run in `out_dir`: finished features are
    skipped, accepted samples kept, and the generator cache answers every call made before.
    `on_feature(record)` is called after each feature is checkpointed. `relevance` picks the features
    that count (`relevance.resolve`; default: the catalog's verdicts for the task, else enrichment).
    """
    start = time.perf_counter()
    config = config or SynthesisConfig()
    task = load_task(task)
    anchor = check_texts(anchor_texts, min_count=1, what="anchor texts")
    current = check_texts(current_texts, what="current texts")
    out_dir = Path(out_dir)
    _check_out_dir(out_dir, resume)
    with RunLock(out_dir, "fac synthesize"):  # a second run into the same folder is refused, naming the pid
        if isinstance(relevance, RelevanceConfig):
            relevance = RelevanceChoice(relevance)
        prep = prepare(anchor, current, task, extractor, catalog, config, out_dir, progress, relevance)

        threshold = effective_threshold(config.filter_threshold, extractor.threshold)
        novelty_threshold = config.minilm_threshold if config.novelty == "minilm" else config.ngram_threshold
        novelty = NoveltyIndex(config.novelty, novelty_threshold)
        novelty.add(anchor, "anchor")
        novelty.add(current, "current")
        fingerprint = run_fingerprint(
            {
                "task": task.describe(),
                "prompt_version": prompt_version(task),
                "generator": generator.generator_id,
                "provenance": extractor.provenance,
                "config": config.model_dump(exclude=set(RESUMABLE_SETTINGS)),
                "relevance": prep.relevance,
                "threshold": threshold,
                "missing": prep.before.missing_ids,
                "anchor": _texts_hash(anchor),
                "current": _texts_hash(current),
            }
        )
        resuming = resume and has_checkpoint(out_dir)
        checkpoint = load_checkpoint(out_dir, fingerprint) if resuming else Checkpoint(fingerprint)
        stats_before, calls_before = generator.stats.to_dict(), checkpoint.calls
        loop = SynthesisLoop(
            task,
            extractor,
            generator,
            prep.catalog,
            prep.plan,
            config,
            novelty,
            threshold,
            out_dir,
            checkpoint,
            progress=progress,
            on_feature=on_feature,
        )
        result = loop.run()

        accepted = [row[R.SAE_TEXT] for row in result.rows if row[R.ACCEPTED]]
        after_rows = _concat_rows(prep.current_rows, extractor.extract_rows(accepted))
        after = compute_coverage(
            prep.anchor_counts, after_rows, prep.relevant, prep.coverage_config, relevance=prep.relevance
        )
        dataset = output.build_dataset(task, result.rows)
        output.save_dataset(dataset, out_dir / output.DATASET_DIR)
        generator_stats = {k: v - stats_before.get(k, 0) for k, v in generator.stats.to_dict().items()}
        report = output.synthesis_report(
            task=task.describe(),
            prompt_version=prompt_version(task),
            generator={"id": generator.generator_id, **generator_stats},
            provenance=extractor.provenance,
            relevance=prep.relevance,
            notes=prep.notes,
            before=prep.before,
            after=after,
            token_budget=prep.coverage_config.token_budget,
            result=result,
            calls_before=calls_before,
            filter_threshold=threshold,
            novelty=novelty.describe(),
            config=config,
            fingerprint=fingerprint,
            wall_seconds=time.perf_counter() - start,
        )
        paths = output.write_report(out_dir, report, output.report_figure_png(after, prep.anchor_counts))
        if result.error is not None:  # the report holds what was spent and why it stopped; the caller still fails
            raise FacGeneratorError(f"{result.error} Calls and errors so far: {paths['json']}.")
        return SynthesisResult(dataset, report, result.records, prep.before, after, out_dir, prep.notes)
