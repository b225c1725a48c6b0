"""What a run records: one row per generated sample (task columns + provenance), one record per feature.

Provenance columns say which feature a sample was written for, what its SAE said and whether it
was kept, so a synthesized dataset can be audited (and re-checked) without the run that made it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

# Provenance columns added to the task's columns, in this order.
from fac_datasets.constants import (
    ACCEPTED,
    ACTIVATION,
    FEATURE_EXPLANATION,
    FIRED_MISSING,
    GENERATOR,
    PROMPT_VERSION,
    REJECT_REASON,
    SAE_TEXT,
    SIMILARITY,
    STEP,
    TARGET_FEATURE,
)

PROVENANCE_COLUMNS = (
    TARGET_FEATURE,
    FEATURE_EXPLANATION,
    ACTIVATION,
    STEP,
    GENERATOR,
    PROMPT_VERSION,
    ACCEPTED,
    FIRED_MISSING,
    REJECT_REASON,
    SIMILARITY,
    SAE_TEXT,
)

# Feature outcomes.
COVERED = "covered"  # enough accepted samples fire it (own or others')
UNRESPONSIVE = "unresponsive"  # `patience` calls in a row did not fire it
CALLS_EXHAUSTED = "calls_exhausted"  # calls_per_feature spent before it was covered
NO_EXAMPLES = "no_examples"  # no firing candidate and no catalog span to show as the good example
NOT_IN_CATALOG = "not_in_catalog"  # the catalog has no row (no spans, no explanation) for it
BUDGET = "budget_exhausted"  # the run's budget ran out during this feature (a resumed run continues it)
TARGET_REACHED = "target_fac_reached"  # the run reached its target FAC during this feature
NOT_REACHED = "not_reached"  # the run stopped before this feature's turn
GENERATOR_FAILED = "generator_failed"  # every call of a round failed; the run stopped (a resumed run redoes it)
PARTIAL = (BUDGET, TARGET_REACHED)  # outcomes a resumed run with a larger budget or target redoes


@dataclass
class FeatureRecord:
    """One feature's yield. `accepted` counts its own accepted samples; `support` every accepted
    sample that fires it (own and others'), at the end of the run."""

    feature: int
    anchor_support: int
    explanation: str | None = None
    status: str = NOT_REACHED
    calls: int = 0
    failed_calls: int = 0
    malformed: int = 0
    malformed_by_cause: dict[str, int] = field(default_factory=dict)
    """Lost calls by cause: failed calls as backend_error, malformed answers by what was wrong (sum: malformed)."""
    candidates: int = 0
    candidates_fired: int = 0
    generated: int = 0
    fired: int = 0
    accepted: int = 0
    near_duplicates: int = 0
    best_activation: float = 0.0
    fallback: bool | None = None
    pair: dict | None = None
    co_targets: list[int] = field(default_factory=list)
    support_before: int = 0
    support: int = 0
    covered_by: str | None = None
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> FeatureRecord:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def provenance_features() -> dict:
    """datasets feature types of the provenance columns."""
    from datasets import List, Value

    return {
        TARGET_FEATURE: Value("int64"),
        FEATURE_EXPLANATION: Value("string"),
        ACTIVATION: Value("float64"),
        STEP: Value("int64"),
        GENERATOR: Value("string"),
        PROMPT_VERSION: Value("string"),
        ACCEPTED: Value("bool"),
        FIRED_MISSING: List(Value("int64")),
        REJECT_REASON: Value("string"),
        SIMILARITY: Value("float64"),
        SAE_TEXT: Value("string"),
    }
