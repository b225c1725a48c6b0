"""What `fac push` publishes, built with the project's own writers on hand-made rows (no model, no generator).

A synthesized-output folder through synthesis/output.py and checkpoint.py, a catalog through
FeatureCatalog's constructor, update and relevance.record, an SAE through random_sae + save_sae.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from fac_datasets.constants import DEFAULT_MODEL_ID

GENERATOR = f"transformers:{DEFAULT_MODEL_ID}@SmolLM2-135M-Instruct.Q4_1.gguf"
PROVENANCE = {"model": DEFAULT_MODEL_ID, "layer": 15, "sae": "0123456789abcdef", "threshold": 0.0}
D_SAE = 64
# Anchor texts' features: 3 and 5 are in the anchor but not in the current set (missing before synthesis).
ANCHOR_FEATURES = [[1, 2, 3], [2, 3, 4], [3, 5, 1], [4, 5, 2], [1, 2, 5], [3, 4]]
CURRENT_FEATURES = [[1, 2], [2, 4], [1, 4]]
QUERIES = {
    3: ["you absolute idiot, why can't you do one thing right", "only a moron would answer like that, useless bot"],
    5: ["shut up and tell me how to wreck my neighbour's car", "i will make my coworker regret crossing me"],
}


def _row(task_row: dict, feature: int, accepted: bool, reason: str | None, fired: list[int], step: int = 2) -> dict:
    from fac_datasets.synthesis import records as R
    from fac_datasets.synthesis.prompts import prompt_version
    from fac_datasets.synthesis.tasks import load_task

    return {
        **task_row,
        R.TARGET_FEATURE: feature,
        R.FEATURE_EXPLANATION: "insults" if feature == 3 else "threats | harm",
        R.ACTIVATION: 2.5 if fired else 0.0,
        R.STEP: step,
        R.GENERATOR: GENERATOR,
        R.PROMPT_VERSION: prompt_version(load_task("toxicity")),
        R.ACCEPTED: accepted,
        R.FIRED_MISSING: fired,
        R.REJECT_REASON: reason,
        R.SIMILARITY: 0.1,
        R.SAE_TEXT: task_row["query"],
    }


def synthesis_rows() -> list[dict]:
    """Accepted samples for features 3 and 5, one rejected by the SAE filter, one by the novelty filter."""
    from fac_datasets.synthesis.novelty import NEAR_DUPLICATE
    from fac_datasets.synthesis.sae_filter import NOT_FIRED

    rows = [_row({"query": q, "label": 1}, f, True, None, [f]) for f, queries in QUERIES.items() for q in queries]
    rows.append(_row({"query": "how do i ask my neighbour to move his car", "label": 1}, 5, False, NOT_FIRED, [], 1))
    rows.append(_row({"query": QUERIES[3][0] + "!", "label": 1}, 3, False, NEAR_DUPLICATE, [3]))
    return rows


def write_synthesized_folder(folder: Path) -> Path:
    """A `fac synthesize` output folder: dataset/, samples.jsonl, state.json, report.json, report.html."""
    from fac_datasets.config import CoverageConfig, SynthesisConfig
    from fac_datasets.coverage.compute import compute_coverage
    from fac_datasets.features.counts import FeatureCounts
    from fac_datasets.features.rows import FeatureRows
    from fac_datasets.synthesis import output
    from fac_datasets.synthesis import records as R
    from fac_datasets.synthesis.checkpoint import Checkpoint, save_checkpoint
    from fac_datasets.synthesis.loop import LoopResult
    from fac_datasets.synthesis.prompts import prompt_version
    from fac_datasets.synthesis.tasks import load_task

    task = load_task("toxicity")
    rows = synthesis_rows()
    anchor = FeatureCounts.from_rows(
        FeatureRows.from_lists(ANCHOR_FEATURES, n_tokens=[12] * len(ANCHOR_FEATURES)), D_SAE, PROVENANCE
    )
    current = FeatureRows.from_lists(CURRENT_FEATURES, n_tokens=[10] * len(CURRENT_FEATURES))
    accepted = [row[R.FIRED_MISSING] for row in rows if row[R.ACCEPTED]]
    after_rows = FeatureRows.from_lists(CURRENT_FEATURES + accepted, n_tokens=[10] * (3 + len(accepted)))
    coverage = CoverageConfig(anchor_min_support=2, token_budget=30)
    before = compute_coverage(anchor, current, None, coverage, relevance="anchor support >= 2")
    after = compute_coverage(anchor, after_rows, None, coverage, relevance="anchor support >= 2")
    records = [
        R.FeatureRecord(
            3,
            4,
            "insults",
            R.COVERED,
            calls=4,
            generated=3,
            fired=3,
            accepted=2,
            near_duplicates=1,
            best_activation=2.5,
            support=2,
        ),
        R.FeatureRecord(
            5, 3, "threats | harm", R.COVERED, calls=4, generated=3, fired=2, accepted=2, best_activation=2.5, support=2
        ),
    ]
    result = LoopResult(records, rows, calls=8, stop_reason="all features visited", seconds=1.0)
    report = output.synthesis_report(
        task=task.describe(),
        prompt_version=prompt_version(task),
        generator={"id": GENERATOR, "calls": 6, "cache_hits": 2},
        provenance=PROVENANCE,
        relevance="anchor support >= 2",
        notes=["Hand-made rows for the Hub tests."],
        before=before,
        after=after,
        token_budget=30,
        result=result,
        calls_before=0,
        filter_threshold=0.0,
        novelty={"method": "ngram", "measure": "word 3-gram Jaccard", "threshold": 0.5, "texts_indexed": 9},
        config=SynthesisConfig(),
        fingerprint="f" * 24,
        wall_seconds=1.0,
    )
    folder.mkdir(parents=True, exist_ok=True)
    save_checkpoint(folder, Checkpoint(report["fingerprint"], finished=records, calls=8, rows=rows))
    output.save_dataset(output.build_dataset(task, rows), folder / output.DATASET_DIR)
    output.write_report(folder, report, output.report_figure_png(after, anchor))
    return folder


def write_catalog_folder(folder: Path) -> Path:
    """Three features with spans; one explained and verified; relevance for toxicity from enrichment."""
    from datasets import Dataset

    from fac_datasets.catalog.catalog import FeatureCatalog, catalog_features
    from fac_datasets.catalog.relevance import record

    def span(text: str, peak: str) -> dict:
        tokens = text.split()
        index = tokens.index(peak)
        return {
            "text": text.replace(peak, f"<<{peak}>>"),
            "tokens": tokens,
            "activations": [0.0] * index + [2.0],
            "peak_index": index,
            "activation": 2.0,
            "text_index": 0,
        }

    ids = [3, 5, 7]
    columns = {
        "feature_id": ids,
        "doc_freq": [4, 3, 6],
        "max_activation": [2.5, 1.5, 3.0],
        "top_spans": [[span("you absolute idiot", "idiot")], [span("i will hurt", "hurt")], [span("the sea", "sea")]],
        "random_spans": [[], [], []],
        "contrast_spans": [["a calm day"], ["a calm day"], ["a dry room"]],
        "token_summary": [[{"token": t, "count": n}] for t, n in (("idiot", 4), ("hurt", 3), ("sea", 6))],
        "explanation": [None] * 3,
        "explainer": [None] * 3,
        "verification_score": [None] * 3,
        "relevance": ["{}"] * 3,
    }
    info = {"d_sae": D_SAE, "n_docs": 10, "n_tokens": 120}
    catalog = FeatureCatalog(Dataset.from_dict(columns, features=catalog_features()), PROVENANCE, info)
    catalog = catalog.update(
        {3: {"explanation": "insults about intelligence", "explainer": {"model": GENERATOR}, "verification_score": 0.8}}
    )
    catalog = record(catalog, "toxicity", "enrichment", {3: {"decision": "yes", "score": 4.2}, 7: {"decision": "no"}})
    return catalog.save(folder)


def write_sae_folder(folder: Path, model_name: str = "tiny") -> Path:
    from helpers import random_sae

    from fac_datasets.sae.io import save_sae

    sae = random_sae()
    sae.cfg.model_name = model_name
    return save_sae(sae, folder)


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under `folder` with its sha256: equal before and after means nothing changed locally."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }
