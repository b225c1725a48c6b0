"""How often reviewers agreed with the suggestions (the SAE, the generator, the catalog), per question.

Counted per submitted response (every reviewer counts once per record) against the record's
suggestion: pairs, agreements, the rate, Cohen's kappa (chance-corrected), and the confusion
counts suggested -> answered, so a low rate can be read as "the SAE says yes, humans say no".
Rating questions have no suggestion; their answers are summarised instead. Pure: no server.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from fac_datasets.constants import RELEVANT_LABELS, REVIEW_QUESTION_RELEVANT
from fac_datasets.review.responses import PulledRecord
from fac_datasets.review.schemas import ReviewSchema


def cohen_kappa(pairs: Sequence[tuple[Any, Any]]) -> float | None:
    """Chance-corrected agreement of (suggested, answered) pairs; None when chance agreement is total."""
    if not pairs:
        return None
    n = len(pairs)
    observed = sum(a == b for a, b in pairs) / n
    left, right = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    expected = sum(left[k] * right[k] for k in left) / (n * n)
    if expected >= 1.0:
        return None
    return round((observed - expected) / (1 - expected), 4)


def _label_agreement(records: Sequence[PulledRecord], question: str) -> dict:
    pairs = [
        (record.suggestions[question], answer.values[question])
        for record in records
        if record.suggestions.get(question) is not None
        for answer in record.submitted(question)
    ]
    confusion: dict[str, dict[str, int]] = {}
    for suggested, answered in pairs:
        row = confusion.setdefault(str(suggested), {})
        row[str(answered)] = row.get(str(answered), 0) + 1
    agreed = sum(a == b for a, b in pairs)
    return {
        "responses": sum(len(r.submitted(question)) for r in records),
        "records_reviewed": sum(bool(r.submitted(question)) for r in records),
        "records_suggested": sum(r.suggestions.get(question) is not None for r in records),
        "pairs": len(pairs),
        "agreed": agreed,
        "rate": round(agreed / len(pairs), 4) if pairs else None,
        "kappa": cohen_kappa(pairs),
        "confusion": confusion,
    }


def agreement_report(records: Sequence[PulledRecord], schema: ReviewSchema) -> dict:
    """{question: counts} for every question of the schema, plus how many records were reviewed at all."""
    questions = {}
    for question in schema.questions:
        if question.kind == "label":
            entry = _label_agreement(records, question.name)
            if question.name == REVIEW_QUESTION_RELEVANT:  # what the catalog acts on: relevant or not
                relevant = [
                    (r.suggestions[question.name] in RELEVANT_LABELS, a.values[question.name] in RELEVANT_LABELS)
                    for r in records
                    if r.suggestions.get(question.name) is not None
                    for a in r.submitted(question.name)
                ]
                agreed = sum(a == b for a, b in relevant)
                entry["relevant_vs_not"] = {
                    "agreed": agreed,
                    "rate": round(agreed / len(relevant), 4) if relevant else None,
                    "kappa": cohen_kappa(relevant),
                }
        else:
            values = [a.values[question.name] for r in records for a in r.submitted(question.name)]
            entry = {
                "responses": len(values),
                "records_reviewed": sum(bool(r.submitted(question.name)) for r in records),
                "mean": round(sum(values) / len(values), 4) if values else None,
                "counts": {str(v): values.count(v) for v in question.values},
            }
        questions[question.name] = entry
    return {
        "kind": schema.kind,
        "task": schema.task,
        "records": len(records),
        "records_with_submitted_responses": sum(bool(r.submitted()) for r in records),
        "questions": questions,
    }


def format_agreement(report: dict) -> str:
    """A few lines for the terminal: one per question."""
    lines = [
        f"{report['records_with_submitted_responses']}/{report['records']} records reviewed "
        f"({report['kind']} review, task {report['task']})"
    ]
    for name, entry in report["questions"].items():
        if "pairs" in entry:
            rate = "n/a" if entry["rate"] is None else f"{entry['rate']:.0%}"
            kappa = "n/a" if entry["kappa"] is None else f"{entry['kappa']:.2f}"
            line = f"  {name}: agreed with the suggestion {entry['agreed']}/{entry['pairs']} ({rate}, kappa {kappa})"
            if entry.get("relevant_vs_not", {}).get("rate") is not None:
                line += f", relevant vs not {entry['relevant_vs_not']['rate']:.0%}"
            lines.append(f"{line}; suggested -> answered {entry['confusion']}")
        else:
            mean = "n/a" if entry["mean"] is None else f"{entry['mean']:.2f}"
            lines.append(f"  {name}: {entry['responses']} ratings, mean {mean}, counts {entry['counts']}")
    return "\n".join(lines)
