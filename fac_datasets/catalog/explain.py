"""Explanations: an LLM reads a feature's top spans (peak marked) and names what it detects.

Every answer is kept or counted: an explanation, "Cannot tell" (the spans share nothing the model
can name), malformed (no usable line), or a failed call. The full line is kept (the reference cut
explanations at the first period, which broke "U.S."). Provenance (generator, prompt version)
goes into the catalog's `explainer` column.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from fac_datasets.catalog.catalog import FeatureCatalog
from fac_datasets.catalog.prompts import EXPLAIN_VERSION, explain_messages
from fac_datasets.config import GenerationParams, InterpretConfig
from fac_datasets.constants import CATALOG_EXPLAINER, CATALOG_EXPLANATION
from fac_datasets.generation.generator import Generator
from fac_datasets.generation.parsing import Parsed

CANNOT_TELL = "cannot tell"
_LABEL = re.compile(r"explanation\s*:\s*(.*)", re.IGNORECASE)


@dataclass
class ExplainStats:
    """Outcomes of one explain run, feature by feature."""

    features: int = 0
    explained: int = 0
    cannot_tell: int = 0
    malformed: int = 0
    failed_calls: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


def parse_explanation(text: str | None) -> Parsed:
    """The phrase after 'Explanation:' (else the first non-empty line); '' means Cannot tell."""
    if text is None or not text.strip():
        return Parsed(False, None, "empty answer")
    match = _LABEL.search(text)
    line = match.group(1) if match else next(line for line in text.splitlines() if line.strip())
    phrase = line.strip().strip("*\"'` ").strip()
    if CANNOT_TELL in phrase.lower():
        return Parsed(True, "", None)
    if len(phrase) < 3 or not re.search(r"[A-Za-z]", phrase):
        return Parsed(False, None, f"no explanation in {text[:80]!r}")
    return Parsed(True, phrase[:300], None)


def top_tokens_line(row: dict, limit: int) -> str:
    return ", ".join(f"{item['token']} ({item['count']})" for item in row["token_summary"][:limit]) or "(none)"


def explain_features(
    catalog: FeatureCatalog,
    generator: Generator,
    feature_ids: Sequence[int] | None = None,
    config: InterpretConfig | None = None,
    *,
    progress: bool = False,
) -> tuple[FeatureCatalog, ExplainStats]:
    """Explain `feature_ids` (default: every feature in the catalog); return the updated catalog."""
    config = config or InterpretConfig()
    ids = list(feature_ids) if feature_ids is not None else catalog.feature_ids
    rows = [catalog.row(f) for f in ids]
    conversations = [
        explain_messages(
            [span["text"] for span in row["top_spans"]],
            top_tokens_line(row, config.summary_tokens),
            config.spans_per_prompt,
        )
        for row in rows
    ]
    params = GenerationParams(max_new_tokens=config.max_new_tokens, temperature=config.temperature)
    answers = generator.generate(conversations, params, progress=progress)
    stats = ExplainStats(features=len(ids))
    updates = {}
    for feature, answer in zip(ids, answers, strict=True):
        explainer = {"model": generator.generator_id, "prompt_version": EXPLAIN_VERSION}
        if not answer.ok:
            stats.failed_calls += 1
            explainer["outcome"] = f"failed: {answer.error}"
            updates[feature] = {CATALOG_EXPLANATION: None, CATALOG_EXPLAINER: explainer}
            continue
        parsed = parse_explanation(answer.text)
        if not parsed.ok:
            stats.malformed += 1
            outcome, explanation = "malformed", None
        elif parsed.value == "":
            stats.cannot_tell += 1
            outcome, explanation = "cannot_tell", None
        else:
            stats.explained += 1
            outcome, explanation = "explained", parsed.value
        explainer.update(outcome=outcome, answer=answer.text[:500])
        updates[feature] = {CATALOG_EXPLANATION: explanation, CATALOG_EXPLAINER: explainer}
    return catalog.update(updates), stats
