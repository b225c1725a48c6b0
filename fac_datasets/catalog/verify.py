"""Verification by detection scoring (as delphi's DetectionScorer): can a reader who sees only
the explanation pick the contexts where the feature fires from a mix with contexts where it does not?

The score is the balanced accuracy over one prompt per feature: 0.5 is chance, 1.0 is perfect.
Excerpts are shown without the peak marks (they would give the answer away) in a seeded order.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from fac_datasets.catalog.catalog import FeatureCatalog
from fac_datasets.catalog.prompts import DETECT_VERSION, detect_messages
from fac_datasets.catalog.spans import PEAK_MARK
from fac_datasets.config import GenerationParams, InterpretConfig
from fac_datasets.constants import CATALOG_EXPLAINER, CATALOG_VERIFICATION_SCORE
from fac_datasets.generation.generator import Generator
from fac_datasets.generation.parsing import parse_list_of_indices


@dataclass
class VerifyStats:
    features: int = 0
    scored: int = 0
    skipped: int = 0  # no explanation, or no activating / non-activating excerpts
    malformed: int = 0
    failed_calls: int = 0
    mean_score: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def unmarked(text: str) -> str:
    return text.replace(PEAK_MARK[0], "").replace(PEAK_MARK[1], "")


def balanced_accuracy(picked: set[int], positives: set[int], n: int) -> float:
    """Mean of the true-positive and true-negative rates over excerpts 1..n."""
    negatives = set(range(1, n + 1)) - positives
    tpr = len(picked & positives) / len(positives)
    tnr = len(negatives - picked) / len(negatives)
    return (tpr + tnr) / 2


def detection_prompt(row: dict, per_class: int, seed: int) -> tuple[list[str], set[int]] | None:
    """Shuffled excerpts and the 1-based numbers of the activating ones, or None if a class is empty."""
    activating = [unmarked(s["text"]) for s in (row["top_spans"][: per_class - per_class // 2] + row["random_spans"])]
    activating = list(dict.fromkeys(activating))[:per_class]
    quiet = list(dict.fromkeys(row["contrast_spans"]))[:per_class]
    if not activating or not quiet:
        return None
    items = [(text, True) for text in activating] + [(text, False) for text in quiet]
    random.Random(seed * 1_000_003 + row["feature_id"]).shuffle(items)
    return [text for text, _ in items], {i for i, (_, fires) in enumerate(items, 1) if fires}


def verify_features(
    catalog: FeatureCatalog,
    generator: Generator,
    feature_ids: Sequence[int] | None = None,
    config: InterpretConfig | None = None,
    *,
    progress: bool = False,
) -> tuple[FeatureCatalog, VerifyStats]:
    """Score the explanations of `feature_ids` (default: every explained feature)."""
    config = config or InterpretConfig()
    ids = list(feature_ids) if feature_ids is not None else catalog.feature_ids
    stats = VerifyStats(features=len(ids))
    jobs = []
    for feature in ids:
        row = catalog.row(feature)
        prompt = detection_prompt(row, config.detect_per_class, config.seed) if row["explanation"] else None
        if prompt is None:
            stats.skipped += 1
            continue
        jobs.append((feature, row, *prompt))
    params = GenerationParams(max_new_tokens=config.max_new_tokens, temperature=config.temperature)
    answers = generator.generate(
        [detect_messages(row["explanation"], ex) for _, row, ex, _ in jobs], params, progress=progress
    )
    updates, scores = {}, []
    for (feature, row, excerpts, positives), answer in zip(jobs, answers, strict=True):
        if not answer.ok:
            stats.failed_calls += 1
            continue
        text = answer.text.split(":", 1)[-1] if "matching" in answer.text.lower() else answer.text
        parsed = parse_list_of_indices(text, len(excerpts))
        if not parsed.ok and "none" not in text.lower():
            stats.malformed += 1
            continue
        score = balanced_accuracy(set(parsed.value or []), positives, len(excerpts))
        scores.append(score)
        explainer = dict(
            row["explainer"] or {}, verification={"prompt_version": DETECT_VERSION, "answer": answer.text[:300]}
        )
        updates[feature] = {CATALOG_VERIFICATION_SCORE: score, CATALOG_EXPLAINER: explainer}
    stats.scored = len(scores)
    stats.mean_score = sum(scores) / len(scores) if scores else None
    return (catalog.update(updates) if updates else catalog), stats
