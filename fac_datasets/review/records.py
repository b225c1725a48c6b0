"""Local rows -> review records (plain data): what each record shows, suggests and is called.

Record ids are derived from the content (target feature + sample text; feature id for the catalog),
never from a server, so pushing again updates the same records and `pull` finds the local row of
every record without trusting anything the server stored.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fac_datasets.catalog.catalog import FeatureCatalog
from fac_datasets.catalog.spans import split_peak
from fac_datasets.config import ArgillaConfig
from fac_datasets.constants import (
    CATALOG_DOC_FREQ,
    CATALOG_EXPLANATION,
    CATALOG_MAX_ACTIVATION,
    CATALOG_TOKEN_SUMMARY,
    CATALOG_TOP_SPANS,
    CATALOG_VERIFICATION_SCORE,
    PEAK_MARK_CLOSE,
    PEAK_MARK_OPEN,
    REVIEW_FIELD_EXPLANATION,
    REVIEW_FIELD_FEATURE,
    REVIEW_FIELD_SAMPLE,
    REVIEW_FIELD_SPANS,
    REVIEW_META_ACTIVATION,
    REVIEW_META_COVERAGE_GAIN,
    REVIEW_META_FEATURE,
    REVIEW_META_GENERATOR,
    REVIEW_QUESTION_EXPRESSES,
    REVIEW_QUESTION_RELEVANT,
    REVIEW_QUESTION_TASK,
)
from fac_datasets.errors import FacInputError
from fac_datasets.relevance.rule import relevance_entries
from fac_datasets.review import schemas as S
from fac_datasets.synthesis import records as R
from fac_datasets.synthesis.sae_filter import NOT_FIRED

# Columns `fac synthesize` writes that a samples review needs.
REQUIRED_SAMPLE_COLUMNS = (
    R.TARGET_FEATURE,
    R.FEATURE_EXPLANATION,
    R.ACTIVATION,
    R.GENERATOR,
    R.ACCEPTED,
    R.FIRED_MISSING,
    R.REJECT_REASON,
)
SAE_AGENT = "fac-sae"  # suggestion agent of the SAE's verdict
_AGENT_UNSAFE = re.compile(r"[^a-zA-Z0-9\-_:./ ]+")  # what Argilla accepts in a suggestion's agent


@dataclass(frozen=True)
class Suggestion:
    question: str
    value: Any
    agent: str
    score: float | None = None


@dataclass
class ReviewRecord:
    """One record as pushed: `key` is the local row (samples) or feature id (relevance) it stands for."""

    id: str
    key: int
    fields: dict[str, str]
    suggestions: list[Suggestion] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class SynthesizedSamples:
    """A synthesized dataset and what its run said about it (task, sample columns, where it came from)."""

    dataset: Any
    task: str
    columns: list[str]
    source: str


# ------------------------------------------------------------------ reading
def open_synthesized(spec: str | Path, task: str | None = None) -> SynthesizedSamples:
    """A `fac synthesize` output folder (dataset/ + report.json), or any dataset with the synthesis columns."""
    from fac_datasets.constants import SYNTHESIS_DATASET_DIR as DATASET_DIR
    from fac_datasets.constants import SYNTHESIS_REPORT_JSON as REPORT_JSON
    from fac_datasets.inputs import open_dataset

    path = Path(spec)
    report: dict = {}
    if path.is_dir() and (path / DATASET_DIR).is_dir():
        if (path / REPORT_JSON).is_file():
            report = json.loads((path / REPORT_JSON).read_text())
        path = path / DATASET_DIR
    dataset = open_dataset(path)
    missing = [c for c in REQUIRED_SAMPLE_COLUMNS if c not in dataset.column_names]
    if missing:
        raise FacInputError(
            f"{spec} lacks the column(s) {missing} that `fac synthesize` writes: a samples review needs a synthesized "
            "dataset (its folder, or dataset/ inside it). Nothing was pushed."
        )
    described = report.get("task", {})
    columns = [c for c in described.get("columns", []) if c in dataset.column_names]
    columns = columns or [c for c in dataset.column_names if c not in R.PROVENANCE_COLUMNS]
    if not columns:
        raise FacInputError(f"{spec} has no sample column (only provenance columns {R.PROVENANCE_COLUMNS}).")
    task = task or described.get("relevance_task") or described.get("name")
    if not task:
        raise FacInputError(f"{spec} does not say its task (no report.json next to it): pass --task.")
    return SynthesizedSamples(dataset, task, columns, str(spec))


# ------------------------------------------------------------------ shared rendering
def _text(value: Any) -> str:
    if isinstance(value, list):  # chat messages
        return "\n".join(f"{m.get('role')}: {m.get('content')}" for m in value if isinstance(m, dict))
    return "" if value is None else str(value)


def sample_text(row: dict, columns: Sequence[str]) -> str:
    """What the reviewer reads: the one sample column, or every column under its name."""
    if len(columns) == 1:
        return _text(row[columns[0]]).strip()
    parts = [f"{name}:\n{_text(row[name]).strip()}" for name in columns if _text(row[name]).strip()]
    return "\n\n".join(parts)


def feature_text(feature: int, explanation: str | None, catalog_row: dict | None, tokens: int = 5) -> str:
    """'Feature <id>: <explanation>' and its most frequent peak tokens (the catalog's token summary)."""
    text = f"Feature {feature}: {explanation.strip() if explanation else '(no explanation yet)'}"
    if catalog_row and catalog_row.get(CATALOG_TOKEN_SUMMARY):
        peaks = ", ".join(f"{e['token']} ({e['count']})" for e in catalog_row[CATALOG_TOKEN_SUMMARY][:tokens])
        text += f"\nPeaks most often on: {peaks}"
    return text


def spans_text(catalog_row: dict | None, n: int) -> str:
    if not catalog_row:
        return ""
    spans = [span["text"].strip() for span in catalog_row[CATALOG_TOP_SPANS][:n]]
    return "\n".join(f"{i}. {span}" for i, span in enumerate(spans, 1))


_MARKDOWN_SPECIAL = re.compile(r"([!-/:-@\[-`{-~])")  # ASCII punctuation: CommonMark lets each be backslash-escaped
_LIST_ITEM = re.compile(r"^(\d+\. )(.*)$")


def markdown_escape(text: str) -> str:
    """`text` shown literally by a Markdown renderer: no HTML tag, emphasis, link or entity survives."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _code(text: str) -> str:
    """An inline code span holding `text` as is (fenced by more backticks than it contains)."""
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def markdown_spans(text: str) -> str:
    """The spans field as Markdown: each span escaped, its marked peak in a code span so it shows as <<this>>.

    Shown as plain text, Argilla's UI read a peak like <<b>> as an HTML tag and dropped it; in a code
    span the token and its marks are shown as they are.
    """
    lines = []
    for line in text.splitlines():
        item = _LIST_ITEM.match(line)
        prefix, span = (item.group(1), item.group(2)) if item else ("", line)
        found = split_peak(span)
        if found is None:
            lines.append(prefix + markdown_escape(span))
            continue
        before, peak, after = found
        marked = _code(f"{PEAK_MARK_OPEN}{peak}{PEAK_MARK_CLOSE}")
        lines.append(prefix + markdown_escape(before) + marked + markdown_escape(after))
    return "\n".join(lines)


def agent_name(name: str) -> str:
    """A generator id as Argilla accepts it for a suggestion's agent ('openai:m@http://h' -> 'openai:m-http://h')."""
    cleaned = _AGENT_UNSAFE.sub("-", name).strip(" -")[:200]
    return cleaned if re.search(r"[a-zA-Z0-9]", cleaned) else "generator"


def _stable_id(prefix: str, *parts: object) -> str:
    return f"{prefix}-" + hashlib.sha1("\n".join(map(str, parts)).encode()).hexdigest()[:16]


# ------------------------------------------------------------------ samples
def sample_ids(samples: SynthesizedSamples) -> list[str]:
    """One id per row, from its target feature and text; repeats of the same pair get -2, -3, ... in row order."""
    seen: Counter = Counter()
    ids = []
    for row in samples.dataset:
        base = _stable_id(f"s{row[R.TARGET_FEATURE]}", row[R.TARGET_FEATURE], sample_text(row, samples.columns))
        seen[base] += 1
        ids.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return ids


def sample_records(
    samples: SynthesizedSamples,
    catalog: FeatureCatalog | None = None,
    *,
    rows: str = ArgillaConfig.default_of("rows"),
    spans: int = ArgillaConfig.default_of("spans"),
) -> list[ReviewRecord]:
    """Review records of the accepted rows (or `rows='all'`), with the SAE's and the generator's suggestions."""
    if rows not in ("accepted", "all"):
        raise FacInputError(f"rows must be 'accepted' or 'all', got {rows!r}.")
    dataset = samples.dataset
    picked = [i for i, ok in enumerate(dataset[R.ACCEPTED]) if ok or rows == "all"]
    if not picked:
        raise FacInputError(
            f"{samples.source} has no {'accepted ' if rows == 'accepted' else ''}rows to review"
            + (" (push all rows with --rows all)." if rows == "accepted" else ".")
        )
    ids = sample_ids(samples)
    activations = dataset[R.ACTIVATION]
    features = dataset[R.TARGET_FEATURE]
    peak: dict[int, float] = {}  # the SAE score's scale: the feature's max over the anchor, else over these rows
    for i in range(len(dataset)):
        peak[features[i]] = max(peak.get(features[i], 0.0), float(activations[i] or 0.0))
    catalog_rows: dict[int, dict | None] = {}
    records, empty = [], []
    for i in picked:
        row = dataset[i]
        feature = int(row[R.TARGET_FEATURE])
        if feature not in catalog_rows:
            catalog_rows[feature] = catalog.row(feature) if catalog is not None and feature in catalog else None
        catalog_row = catalog_rows[feature]
        text = sample_text(row, samples.columns)
        if not text:
            empty.append(i)
            continue
        activation = float(row[R.ACTIVATION] or 0.0)
        scale = max(peak[feature], float(catalog_row[CATALOG_MAX_ACTIVATION]) if catalog_row else 0.0)
        explanation = row[R.FEATURE_EXPLANATION] or (catalog_row or {}).get(CATALOG_EXPLANATION)
        fired = row[R.REJECT_REASON] != NOT_FIRED
        fields = {
            REVIEW_FIELD_SAMPLE: text,
            REVIEW_FIELD_FEATURE: feature_text(feature, explanation, catalog_row),
        }
        if spans_text(catalog_row, spans):
            fields[REVIEW_FIELD_SPANS] = spans_text(catalog_row, spans)
        suggestions = [
            Suggestion(
                REVIEW_QUESTION_EXPRESSES,
                "yes" if fired else "no",
                SAE_AGENT,
                round(min(1.0, activation / scale), 4) if scale > 0 else 0.0,
            ),
            Suggestion(REVIEW_QUESTION_TASK, "yes", agent_name(str(row[R.GENERATOR] or "generator"))),
        ]
        metadata = {
            REVIEW_META_FEATURE: feature,
            REVIEW_META_ACTIVATION: round(activation, 6),
            REVIEW_META_COVERAGE_GAIN: len(row[R.FIRED_MISSING] or []),
            REVIEW_META_GENERATOR: str(row[R.GENERATOR] or "unknown"),
            S.META_SAE_FILTER: "accepted" if row[R.ACCEPTED] else str(row[R.REJECT_REASON] or "rejected"),
        }
        records.append(ReviewRecord(ids[i], i, fields, suggestions, metadata))
    if empty:
        raise FacInputError(
            f"{samples.source}: row(s) {empty[:10]} have an empty sample (columns {samples.columns}); a review record "
            "needs a text to show. Drop those rows first. Nothing was pushed."
        )
    return records


# ------------------------------------------------------------------ relevance
def relevance_suggestion(entry: dict | None) -> Suggestion | None:
    """The catalog's non-human decision for a task (the LLM judge over enrichment), as a suggestion."""
    sources = (entry or {}).get("sources", {})
    for source in ("llm", "enrichment"):
        verdict = sources.get(source)
        if verdict and verdict.get("decision") in S.RELEVANCE_LABELS:
            return Suggestion(REVIEW_QUESTION_RELEVANT, verdict["decision"], f"fac-{source}")
    return None


def feature_record_id(feature: int) -> str:
    return f"feature-{int(feature)}"


def relevance_records(
    catalog: FeatureCatalog, task: str, feature_ids: Sequence[int], *, spans: int = ArgillaConfig.default_of("spans")
) -> list[ReviewRecord]:
    """One record per feature: explanation and spans, the catalog's decision for `task` as the suggestion."""
    missing = [f for f in feature_ids if f not in catalog]
    if missing:
        raise FacInputError(f"Feature(s) {missing[:10]} are not in the catalog: nothing was pushed.")
    if not feature_ids:
        raise FacInputError(f"No features selected for the {task} relevance review: nothing to push.")
    entries = relevance_entries(catalog)
    records = []
    for feature in feature_ids:
        row = catalog.row(feature)
        fields = {REVIEW_FIELD_EXPLANATION: feature_text(feature, row[CATALOG_EXPLANATION], row)}
        if spans_text(row, spans):
            fields[REVIEW_FIELD_SPANS] = spans_text(row, spans)
        suggestion = relevance_suggestion(entries[int(feature)].get(task))
        metadata = {
            REVIEW_META_FEATURE: int(feature),
            S.META_DOC_FREQ: int(row[CATALOG_DOC_FREQ]),
            S.META_MAX_ACTIVATION: round(float(row[CATALOG_MAX_ACTIVATION]), 6),
            S.META_SUGGESTED_BY: suggestion.agent.removeprefix("fac-") if suggestion else "none",
        }
        if row[CATALOG_VERIFICATION_SCORE] is not None:
            metadata[S.META_VERIFICATION] = round(float(row[CATALOG_VERIFICATION_SCORE]), 4)
        records.append(
            ReviewRecord(feature_record_id(feature), int(feature), fields, [suggestion] if suggestion else [], metadata)
        )
    return records
