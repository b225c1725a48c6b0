"""Reviewers' responses -> columns, the keep/reject mark, and human relevance verdicts. Pure: no server.

Only submitted responses count (drafts are unfinished; a record every reviewer discarded is
rejected as such). Labels are decided by majority (a tie decides nothing and says so); ratings
by their mean. Every local row gets the columns, also rows that were never pushed or reviewed,
and the keep mark says why a row is not kept: nothing is dropped silently.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fac_datasets.constants import (
    REVIEW_COLUMN_PREFIX,
    REVIEW_KEEP,
    REVIEW_N_RESPONSES,
    REVIEW_QUESTION_EXPRESSES,
    REVIEW_QUESTION_QUALITY,
    REVIEW_QUESTION_TASK,
    REVIEW_RECORD_ID,
    REVIEW_REJECT_REASON,
    REVIEW_STATUS,
)
from fac_datasets.review.schemas import QuestionSpec, ReviewSchema

SUBMITTED = "submitted"
DISCARDED = "discarded"
# Row statuses in REVIEW_STATUS.
NOT_PUSHED = "not_pushed"
PENDING = "pending"


@dataclass(frozen=True)
class Answer:
    """One reviewer's response to one record."""

    user: str
    status: str  # submitted | draft | discarded
    values: dict[str, Any]


@dataclass
class PulledRecord:
    """A record as pulled: its id, the suggested value per question and every reviewer's answer."""

    id: str
    suggestions: dict[str, Any] = field(default_factory=dict)
    answers: list[Answer] = field(default_factory=list)

    def submitted(self, question: str | None = None) -> list[Answer]:
        answers = [a for a in self.answers if a.status == SUBMITTED]
        return answers if question is None else [a for a in answers if a.values.get(question) is not None]

    @property
    def status(self) -> str:
        if self.submitted():
            return SUBMITTED
        if self.answers and all(a.status == DISCARDED for a in self.answers):
            return DISCARDED
        return PENDING


def column(question: str, responses: bool = False) -> str:
    """review_<question> (the consensus) or review_<question>_responses (every submitted value)."""
    return f"{REVIEW_COLUMN_PREFIX}{question}" + ("_responses" if responses else "")


def consensus(values: Sequence[Any], question: QuestionSpec) -> Any:
    """The majority label (None on a tie or without values), or the mean rating."""
    if not values:
        return None
    if question.kind == "rating":
        return round(sum(values) / len(values), 4)
    ranked = Counter(values).most_common()
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        return None
    return ranked[0][0]


def response_columns(
    ids: Sequence[str | None], pulled: Mapping[str, PulledRecord], schema: ReviewSchema
) -> dict[str, list]:
    """One value per local row (id None: the row was not pushed) for every review column."""
    columns: dict[str, list] = {REVIEW_RECORD_ID: list(ids), REVIEW_STATUS: [], REVIEW_N_RESPONSES: []}
    for question in schema.questions:
        columns[column(question.name)] = []
        columns[column(question.name, True)] = []
    for record_id in ids:
        record = pulled.get(record_id) if record_id is not None else None
        columns[REVIEW_STATUS].append(record.status if record else NOT_PUSHED)
        columns[REVIEW_N_RESPONSES].append(len(record.submitted()) if record else 0)
        for question in schema.questions:
            values = [a.values[question.name] for a in record.submitted(question.name)] if record else []
            columns[column(question.name)].append(consensus(values, question))
            columns[column(question.name, True)].append(values)
    return columns


def column_features(schema: ReviewSchema) -> dict:
    """datasets types of the review columns (fixed, so all-None columns keep their type on disk)."""
    from datasets import List, Value

    features = {
        REVIEW_RECORD_ID: Value("string"),
        REVIEW_STATUS: Value("string"),
        REVIEW_N_RESPONSES: Value("int64"),
    }
    for question in schema.questions:
        if question.kind == "rating":
            features[column(question.name)] = Value("float64")
            features[column(question.name, True)] = List(Value("int64"))
        else:
            features[column(question.name)] = Value("string")
            features[column(question.name, True)] = List(Value("string"))
    features[REVIEW_KEEP] = Value("bool")
    features[REVIEW_REJECT_REASON] = Value("string")
    return features


def keep_rows(columns: Mapping[str, list], min_quality: float, min_submitted: int = 1) -> tuple[list[bool], list]:
    """(keep, reason) per row of a samples review: kept when reviewers say it expresses the feature and fits
    the task (majority) with a mean quality of at least `min_quality`; the reason names the first failed check."""
    keep, reasons = [], []
    expresses, task = columns[column(REVIEW_QUESTION_EXPRESSES)], columns[column(REVIEW_QUESTION_TASK)]
    quality = columns[column(REVIEW_QUESTION_QUALITY)]
    for i, status in enumerate(columns[REVIEW_STATUS]):
        if status == NOT_PUSHED:
            reason = "not pushed for review"
        elif status == DISCARDED:
            reason = "discarded by reviewers"
        elif columns[REVIEW_N_RESPONSES][i] < min_submitted:
            reason = "not reviewed yet" if status == PENDING else f"fewer than {min_submitted} reviews"
        elif expresses[i] != "yes":
            reason = "no majority on expresses_feature" if expresses[i] is None else "does not express the feature"
        elif task[i] != "yes":
            reason = "no majority on task_relevance" if task[i] is None else "does not fit the task"
        elif quality[i] is None or quality[i] < min_quality:
            reason = f"quality below {min_quality:g}" if quality[i] is not None else "no quality rating"
        else:
            reason = None
        keep.append(reason is None)
        reasons.append(reason)
    return keep, reasons


def human_verdicts(
    records: Sequence[PulledRecord], question: str, keys: Mapping[str, int], provenance: Mapping[str, Any]
) -> tuple[dict[int, dict], list[int]]:
    """({feature: verdict} for the catalog's relevance `record(..., "human", ...)`, [features whose reviewers tied]).

    A verdict is the majority label with its share as the score, the label counts, the reviewers
    and `provenance` (server, dataset, time): what the catalog keeps under sources.human.
    """
    verdicts, ties = {}, []
    for record in records:
        if record.id not in keys:
            continue
        answers = record.submitted(question)
        if not answers:
            continue
        labels = Counter(a.values[question] for a in answers)
        ranked = labels.most_common()
        if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
            ties.append(keys[record.id])
            continue
        decision, count = ranked[0]
        verdicts[keys[record.id]] = {
            "decision": decision,
            "score": round(count / len(answers), 4),
            "labels": dict(labels),
            "reviewers": sorted(a.user for a in answers),
            **provenance,
        }
    return verdicts, sorted(ties)
