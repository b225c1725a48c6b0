"""Small review inputs built in memory: a synthesized run folder and a feature catalog (no model needed)."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import free_ports  # noqa: F401 - the review tests import it from here

from fac_datasets.catalog.catalog import FeatureCatalog, catalog_features
from fac_datasets.catalog.relevance import record
from fac_datasets.synthesis import records as R
from fac_datasets.synthesis.output import DATASET_DIR, REPORT_JSON, build_dataset, save_dataset
from fac_datasets.synthesis.sae_filter import NOT_FIRED
from fac_datasets.synthesis.tasks import load_task

TASK = "instruction_following"
GENERATOR = "openai:tiny@http://127.0.0.1:9"
PROVENANCE = {"model": "tiny", "layer": 2, "sae": "abc123", "threshold": 0.0}
FEATURES = (11, 12, 13, 14)
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "review"  # gitignored
EXPLANATIONS = {11: "numbered lists of steps", 12: "requests aimed at children", 13: None, 14: "about the sea"}


def sample_rows() -> list[dict]:
    """Five generated rows: three accepted, one not fired, one accepted duplicate text for another feature."""
    rows = [
        ("List four steps to clean a pan.", "1. Rinse. 2. Scrub. 3. Dry. 4. Oil.", 11, 2.5, True, None, [11, 13]),
        ("Explain rain to a child in two sentences.", "Clouds get heavy and drop water.", 12, 1.2, True, None, [12]),
        ("Tell me about cars.", "Cars have wheels.", 11, 0.0, False, NOT_FIRED, []),
        ("Why is the sea salty? Answer in one line.", "Rivers carry salt into it.", 14, 0.8, True, None, [14]),
        ("Write a haiku about rain for kids.", None, 12, 3.0, True, None, [12, 13]),
    ]
    return [
        {
            "instruction": instruction,
            "response": response,
            R.TARGET_FEATURE: feature,
            R.FEATURE_EXPLANATION: EXPLANATIONS[feature],
            R.ACTIVATION: activation,
            R.STEP: 2,
            R.GENERATOR: GENERATOR,
            R.PROMPT_VERSION: "instruction_following-v1",
            R.ACCEPTED: accepted,
            R.FIRED_MISSING: fired,
            R.REJECT_REASON: reason,
            R.SIMILARITY: 0.1,
            R.SAE_TEXT: instruction,
        }
        for instruction, response, feature, activation, accepted, reason, fired in rows
    ]


def write_run(folder: Path, rows: list[dict] | None = None) -> Path:
    """A folder shaped like `fac synthesize --out`: dataset/ and report.json (the parts review reads)."""
    task = load_task(TASK)
    folder.mkdir(parents=True, exist_ok=True)
    save_dataset(build_dataset(task, rows if rows is not None else sample_rows()), folder / DATASET_DIR)
    report = {"task": task.describe(), "generator": {"id": GENERATOR}, "filter_threshold": 0.0}
    (folder / REPORT_JSON).write_text(json.dumps(report))
    return folder


def build_catalog() -> FeatureCatalog:
    """Four features with spans; enrichment says 11, 12 relevant; the LLM judge says 13 'maybe' and 14 'no'."""
    from datasets import Dataset

    def span(text: str, peak: str, activation: float) -> dict:
        tokens = text.split()
        return {
            "text": text.replace(peak, f"<<{peak}>>", 1),
            "tokens": tokens,
            "activations": [0.0] * len(tokens),
            "peak_index": tokens.index(peak),
            "activation": activation,
            "text_index": 0,
        }

    n = len(FEATURES)
    columns = {
        "feature_id": list(FEATURES),
        "doc_freq": [10, 7, 5, 3],
        "max_activation": [4.0, 2.0, 1.0, 1.6],
        "top_spans": [
            [span("Give me the steps to set up", "steps", 4.0), span("as a numbered list of", "numbered", 3.0)],
            [span("explain it like I am five", "five", 2.0)],
            [span("the weather today is", "weather", 1.0)],
            [span("waves of the sea crash", "sea", 1.6)],
        ],
        "random_spans": [[] for _ in range(n)],
        "contrast_spans": [[] for _ in range(n)],
        "token_summary": [[{"token": "steps", "count": 2}], [{"token": "five", "count": 1}], [], []],
        "explanation": [EXPLANATIONS[f] for f in FEATURES],
        "explainer": [None] * n,
        "verification_score": [0.8, 0.6, None, 0.5],
        "relevance": ["{}"] * n,
    }
    catalog = FeatureCatalog(Dataset.from_dict(columns, features=catalog_features()), PROVENANCE)
    enrichment = {f: {"decision": "yes" if f in (11, 12) else "no", "score": 3.5} for f in FEATURES}
    catalog = record(catalog, TASK, "enrichment", enrichment)
    return record(catalog, TASK, "llm", {13: {"decision": "maybe"}, 14: {"decision": "no"}})
