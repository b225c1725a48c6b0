"""What each review dataset shows and asks, as plain data (no server needed to build or compare it).

Two kinds:
- **samples**: a synthesized sample next to its target feature (explanation, peak tokens) and
  that feature's top spans; reviewers say whether it expresses the feature (label), rate its
  quality (1-5) and say whether it fits the task (label).
- **relevance**: a catalog feature (explanation, top spans); reviewers say whether it is relevant
  to the task, with the labels the catalog's relevance rule uses (yes/probably/maybe/no).

`push` turns a schema into `argilla.Settings`; `differences` compares it with a dataset already on
the server, so a push never writes records into a dataset that asks something else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from fac_datasets.constants import (
    RELEVANCE_LABELS,
    REVIEW_FIELD_EXPLANATION,
    REVIEW_FIELD_FEATURE,
    REVIEW_FIELD_SAMPLE,
    REVIEW_FIELD_SPANS,
    REVIEW_META_ACTIVATION,
    REVIEW_META_COVERAGE_GAIN,
    REVIEW_META_FEATURE,
    REVIEW_META_GENERATOR,
    REVIEW_QUESTION_EXPRESSES,
    REVIEW_QUESTION_QUALITY,
    REVIEW_QUESTION_RELEVANT,
    REVIEW_QUESTION_TASK,
    REVIEW_RELEVANCE,
    REVIEW_SAMPLES,
)
from fac_datasets.errors import FacConfigError

YES_NO = ("yes", "no")
QUALITY_VALUES = (1, 2, 3, 4, 5)
# Extra metadata of each kind (beyond feature id, activation, coverage gain, generator).
META_SAE_FILTER = "sae_filter"
META_DOC_FREQ = "doc_freq"
META_MAX_ACTIVATION = "max_activation"
META_VERIFICATION = "verification_score"
META_SUGGESTED_BY = "suggested_by"


@dataclass(frozen=True)
class FieldSpec:
    """A text field; `markdown`: its text is pushed as escaped Markdown (`records.markdown_spans`), else as is."""

    name: str
    title: str
    required: bool = True
    markdown: bool = False


@dataclass(frozen=True)
class QuestionSpec:
    """A label question (`values` are its labels) or a rating question (`values` are its ratings)."""

    name: str
    title: str
    kind: Literal["label", "rating"]
    values: tuple
    description: str = ""


@dataclass(frozen=True)
class MetadataSpec:
    name: str
    title: str
    kind: Literal["integer", "float", "terms"]


@dataclass(frozen=True)
class ReviewSchema:
    """Fields, questions and metadata of one review dataset, plus the guidelines reviewers see."""

    kind: str
    task: str
    guidelines: str
    fields: tuple[FieldSpec, ...]
    questions: tuple[QuestionSpec, ...]
    metadata: tuple[MetadataSpec, ...] = field(default=())

    def question(self, name: str) -> QuestionSpec:
        return next(q for q in self.questions if q.name == name)

    def describe(self) -> dict:
        """What identifies the schema on the server: field names, questions with their values, metadata."""
        return {
            "fields": sorted(f.name for f in self.fields),
            "questions": {q.name: [str(v) for v in q.values] for q in self.questions},
            "metadata": sorted(m.name for m in self.metadata),
        }


def samples_schema(task: str) -> ReviewSchema:
    """Synthesized samples: does each express its target feature, how good is it, does it fit `task`?"""
    guidelines = (
        f"Each record is a sample a generator wrote for the task **{task}** so that it activates one SAE "
        "feature (the *target feature*): its explanation and the contexts where it fires most (peak token "
        "marked <<like this>>) are shown next to the sample.\n\n"
        "- **Expresses the feature**: yes when the sample contains what the feature responds to.\n"
        "- **Quality**: 1 (unusable) to 5 (as good as real data): fluent, well-formed, not a near-copy.\n"
        f"- **Fits the task**: yes when the sample is a sensible training example for {task}.\n\n"
        "Suggestions come from the SAE (does the feature fire; score = activation relative to its maximum) "
        "and from the generator (it wrote the sample for this task)."
    )
    return ReviewSchema(
        kind=REVIEW_SAMPLES,
        task=task,
        guidelines=guidelines,
        fields=(
            FieldSpec(REVIEW_FIELD_SAMPLE, "Sample"),
            FieldSpec(REVIEW_FIELD_FEATURE, "Target feature"),
            FieldSpec(REVIEW_FIELD_SPANS, "Where the feature fires most", required=False, markdown=True),
        ),
        questions=(
            QuestionSpec(REVIEW_QUESTION_EXPRESSES, "Does the sample express this feature?", "label", YES_NO),
            QuestionSpec(REVIEW_QUESTION_QUALITY, "Quality of the sample (1-5)", "rating", QUALITY_VALUES),
            QuestionSpec(REVIEW_QUESTION_TASK, f"Does the sample fit the task {task}?", "label", YES_NO),
        ),
        metadata=(
            MetadataSpec(REVIEW_META_FEATURE, "Target feature id", "integer"),
            MetadataSpec(REVIEW_META_ACTIVATION, "SAE activation of the target feature", "float"),
            MetadataSpec(REVIEW_META_COVERAGE_GAIN, "Missing features the sample fires", "integer"),
            MetadataSpec(REVIEW_META_GENERATOR, "Generator", "terms"),
            MetadataSpec(META_SAE_FILTER, "SAE filter verdict", "terms"),
        ),
    )


def relevance_schema(task: str, guideline: str | None = None) -> ReviewSchema:
    """Catalog features: is each relevant to `task`? The labels are the catalog's own."""
    guidelines = (
        f"Each record is one SAE feature: its explanation, the tokens where it peaks most often and the "
        f"contexts where it fires most (peak token marked <<like this>>). Say whether the feature is relevant "
        f"to the task **{task}**: yes, probably, maybe or no (yes/probably/maybe count as relevant). "
        "The suggestion is the catalog's current decision (statistical enrichment or the LLM judge); "
        "your label overrides both."
    )
    if guideline:
        guidelines += f"\n\n## The task\n\n{guideline}"
    return ReviewSchema(
        kind=REVIEW_RELEVANCE,
        task=task,
        guidelines=guidelines,
        fields=(
            FieldSpec(REVIEW_FIELD_EXPLANATION, "Feature"),
            FieldSpec(REVIEW_FIELD_SPANS, "Where it fires most", required=False, markdown=True),
        ),
        questions=(
            QuestionSpec(
                REVIEW_QUESTION_RELEVANT,
                f"Is this feature relevant to the task {task}?",
                "label",
                RELEVANCE_LABELS,
                "yes / probably / maybe count as relevant; no does not.",
            ),
        ),
        metadata=(
            MetadataSpec(REVIEW_META_FEATURE, "Feature id", "integer"),
            MetadataSpec(META_DOC_FREQ, "Texts it is active in", "integer"),
            MetadataSpec(META_MAX_ACTIVATION, "Maximum activation", "float"),
            MetadataSpec(META_VERIFICATION, "Explanation verification score", "float"),
            MetadataSpec(META_SUGGESTED_BY, "Source of the suggestion", "terms"),
        ),
    )


def review_schema(kind: str, task: str, guideline: str | None = None) -> ReviewSchema:
    if kind == REVIEW_SAMPLES:
        return samples_schema(task)
    if kind == REVIEW_RELEVANCE:
        return relevance_schema(task, guideline)
    raise FacConfigError(f"Unknown review kind {kind!r}: use {REVIEW_SAMPLES} or {REVIEW_RELEVANCE}.")


def differences(schema: ReviewSchema, existing: dict) -> list[str]:
    """How a dataset on the server (as `ReviewSchema.describe()` shapes it) differs from `schema`; [] if it fits."""
    mine = schema.describe()
    found = []
    if sorted(existing.get("fields", [])) != mine["fields"]:
        found.append(f"fields {sorted(existing.get('fields', []))} instead of {mine['fields']}")
    theirs = existing.get("questions", {})
    if sorted(theirs) != sorted(mine["questions"]):
        found.append(f"questions {sorted(theirs)} instead of {sorted(mine['questions'])}")
    else:
        for name, values in mine["questions"].items():
            if sorted(theirs[name]) != sorted(values):
                found.append(f"question {name} has values {theirs[name]} instead of {values}")
    missing = sorted(set(mine["metadata"]) - set(existing.get("metadata", [])))
    if missing:
        found.append(f"metadata {missing} missing")
    return found
