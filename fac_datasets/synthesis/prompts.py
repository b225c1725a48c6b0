"""Chat messages that ask for a sample: the task's system prompt, its few-shot examples, the feature(s).

The feature is described by its explanation, or by its most frequent peak tokens when it has none
(the reference sent a bare summary and never its spans), plus real top spans. The catalog marks a
span's peak like <<this>>; a generator shown the marks copies them into its samples, so a prompt
shows each excerpt unmarked with its peak word named after it. A step-2 request adds the
contrastive pair. The prompt version (task spec + request template) goes
into every sample's provenance and, through the message text, into every cache key.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from fac_datasets.catalog.catalog import FeatureCatalog
from fac_datasets.catalog.spans import split_peak, strip_peak_marks
from fac_datasets.synthesis.tasks import SynthesisTask
from fac_datasets.templating import render_template

REQUEST_VERSION = "request-v2"  # v2: peaks named after the excerpts, never marked in them


def prompt_version(task: SynthesisTask) -> str:
    return f"{task.version}+{REQUEST_VERSION}"


@dataclass(frozen=True)
class FeatureBrief:
    """What a prompt says about one feature (from its catalog row)."""

    feature: int
    explanation: str | None
    tokens: str
    spans: tuple[str, ...]
    strongest_span: str | None
    strongest_activation: float

    @property
    def description(self) -> str:
        if self.explanation:
            return self.explanation
        return "(not explained yet: infer it from the words and excerpts below)"

    def to_dict(self) -> dict:
        return asdict(self)


def feature_brief(catalog: FeatureCatalog, feature: int, n_spans: int) -> FeatureBrief:
    """The brief of `feature`: explanation, token summary and its `n_spans` strongest spans (peak marked)."""
    row = catalog.row(feature)
    spans = row["top_spans"] or []
    tokens = ", ".join(f"{item['token']} ({item['count']})" for item in row["token_summary"] or [])
    return FeatureBrief(
        feature=int(feature),
        explanation=(row["explanation"] or None),
        tokens=tokens,
        spans=tuple(span["text"] for span in spans[:n_spans]),
        strongest_span=spans[0]["text"] if spans else None,
        strongest_activation=float(spans[0]["activation"]) if spans else 0.0,
    )


@dataclass(frozen=True)
class PairText:
    """The contrastive pair as a prompt shows it."""

    good: str
    bad: str | None
    bad_fires: bool
    fallback: bool


def shown_span(marked: str) -> dict:
    """A span as a generator prompt shows it: its text without the peak marks, and the peak word apart."""
    found = split_peak(marked)
    return {"text": strip_peak_marks(marked), "peak": found[1] if found else None}


def _request(task: SynthesisTask, briefs: Sequence[dict], pair: PairText | None, attempt: int) -> str:
    features = [{**brief, "spans": [shown_span(span) for span in brief["spans"]]} for brief in briefs]
    shown_pair = None
    if pair is not None:
        good = shown_span(pair.good)
        shown_pair = {**asdict(pair), "good": good["text"], "peak": good["peak"], "bad": pair.bad}
        if pair.bad:
            shown_pair["bad"] = strip_peak_marks(pair.bad)
    return render_template(
        "fac_datasets.synthesis",
        "tasks/request.j2",
        features=features,
        pair=shown_pair,
        noun=task.noun,
        attempt=attempt,
    ).strip()


def _example_brief(example: dict) -> dict:
    return {"description": example["explanation"], "tokens": example.get("tokens", ""), "spans": example["spans"]}


def request_messages(
    task: SynthesisTask, briefs: Sequence[FeatureBrief], *, pair: PairText | None = None, attempt: int = 1
) -> list[dict]:
    """System prompt, the task's few-shot examples (with a pair when this is a step-2 request), the request."""
    messages = [{"role": "system", "content": task.system_prompt()}]
    for example in task.examples:
        shown = PairText(example["good"], example["bad"], False, False) if pair is not None else None
        messages.append({"role": "user", "content": _request(task, [_example_brief(example)], shown, 1)})
        messages.append({"role": "assistant", "content": json.dumps(example["output"], ensure_ascii=False)})
    shown = [{"description": b.description, "tokens": b.tokens, "spans": list(b.spans)} for b in briefs]
    messages.append({"role": "user", "content": _request(task, shown, pair, attempt)})
    return messages
