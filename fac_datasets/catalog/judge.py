"""The LLM relevance judge: is this feature (explanation + spans) relevant to a task guideline?

Decisions are yes / probably / maybe / no, with the model's short analysis kept. A feature
without an explanation is judged from its spans alone (said in the prompt). Answers without a
decision are counted as malformed, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from fac_datasets.catalog.catalog import FeatureCatalog
from fac_datasets.catalog.prompts import JUDGE_VERSION, judge_messages
from fac_datasets.config import GenerationParams, InterpretConfig
from fac_datasets.constants import RELEVANCE_LABELS
from fac_datasets.generation.generator import Generator
from fac_datasets.generation.parsing import Parsed, parse_choice

DECISIONS = RELEVANCE_LABELS
_DECISION = re.compile(r"decision", re.IGNORECASE)


@dataclass
class JudgeStats:
    features: int = 0
    judged: int = 0
    malformed: int = 0
    failed_calls: int = 0
    decisions: dict | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def parse_decision(text: str | None) -> Parsed:
    """The decision after the last 'decision' (else in the last line), and the analysis before it."""
    if not text or not text.strip():
        return Parsed(False, None, "empty answer")
    found = list(_DECISION.finditer(text))
    tail = text[found[-1].end() :] if found else text.strip().splitlines()[-1]
    choice = parse_choice(tail, DECISIONS)
    if not choice.ok:
        return Parsed(False, None, f"no decision in {text[-80:]!r}")
    analysis = (text[: found[-1].start()] if found else text).strip().removesuffix("Final").strip()
    return Parsed(True, {"decision": choice.value, "analysis": analysis[:600]}, None)


def judge_features(
    catalog: FeatureCatalog,
    generator: Generator,
    guideline: str,
    feature_ids: Sequence[int] | None = None,
    config: InterpretConfig | None = None,
    *,
    progress: bool = False,
) -> tuple[dict[int, dict], JudgeStats]:
    """{feature: {decision, analysis, model, prompt_version}} for every feature that got a decision."""
    config = config or InterpretConfig()
    ids = list(feature_ids) if feature_ids is not None else catalog.feature_ids
    rows = [catalog.row(f) for f in ids]
    conversations = [
        judge_messages(row["explanation"], [s["text"] for s in row["top_spans"]], guideline, config.spans_per_prompt)
        for row in rows
    ]
    params = GenerationParams(max_new_tokens=config.judge_max_new_tokens, temperature=config.temperature)
    answers = generator.generate(conversations, params, progress=progress)
    stats = JudgeStats(features=len(ids), decisions=dict.fromkeys(DECISIONS, 0))
    judged = {}
    for feature, answer in zip(ids, answers, strict=True):
        if not answer.ok:
            stats.failed_calls += 1
            continue
        parsed = parse_decision(answer.text)
        if not parsed.ok:
            stats.malformed += 1
            continue
        stats.judged += 1
        stats.decisions[parsed.value["decision"]] += 1
        judged[feature] = {**parsed.value, "model": generator.generator_id, "prompt_version": JUDGE_VERSION}
    return judged, stats
