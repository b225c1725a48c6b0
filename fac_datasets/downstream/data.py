"""Reading each task's data (labelled texts, preference pairs, CAA A/B items, instruction pairs), checked.

Every reader takes what `fac_datasets.inputs.open_dataset` opens (files, saved datasets, Hub ids),
checks the columns the task needs before any model work, and names the input and the fix when
something is wrong. `max_rows` takes a seeded uniform sample, kept in input order.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fac_datasets.errors import FacInputError
from fac_datasets.inputs import check_texts, open_dataset, pick_text_column

DAVIDSON_COLUMNS = ("tweet", "class", "hate_speech", "offensive_language", "neither")
DAVIDSON_NEITHER = 2  # Davidson's classes: 0 hate speech, 1 offensive language, 2 neither
PAIR_COLUMNS = ("chosen", "rejected")
AB_COLUMNS = ("question", "answer_matching_behavior", "answer_not_matching_behavior")
INSTRUCTION_COLUMNS = ("instruction", "prompt")
RESPONSE_COLUMNS = ("output", "response", "completion")
_LETTER = re.compile(r"^\s*\(?\s*([A-Za-z])\s*\)?\s*$")


@dataclass(frozen=True)
class LabelledTexts:
    """Texts with 0/1 labels (1 = the positive class, e.g. toxic)."""

    texts: list[str]
    labels: list[int]
    source: str = "texts"


@dataclass(frozen=True)
class PreferencePairs:
    """Two transcripts per row: the preferred (`chosen`) and the other (`rejected`)."""

    chosen: list[str]
    rejected: list[str]
    source: str = "pairs"


@dataclass(frozen=True)
class ABItem:
    """One CAA A/B question; the letters are bare ('A'), whatever brackets the file used."""

    question: str
    matching: str
    not_matching: str


@dataclass(frozen=True)
class InstructionPairs:
    """Instructions with their reference responses."""

    instructions: list[str]
    responses: list[str]
    source: str = "instructions"


# ------------------------------------------------------------------ shared
def _open(spec: str | Path) -> Any:
    dataset = open_dataset(spec)
    if len(dataset) == 0:
        raise FacInputError(f"{spec}: the dataset has no rows.")
    return dataset


def _require(dataset: Any, columns: Sequence[str], spec: str | Path, what: str) -> None:
    missing = [c for c in columns if c not in dataset.column_names]
    if missing:
        raise FacInputError(
            f"{spec}: no column(s) {missing} for {what}; columns are {list(dataset.column_names)}. "
            f"Rename the columns or pass a file with {list(columns)}."
        )


def _first_present(dataset: Any, candidates: Sequence[str], spec: str | Path, what: str) -> str:
    for name in candidates:
        if name in dataset.column_names:
            return name
    raise FacInputError(
        f"{spec}: no {what} column; expected one of {list(candidates)}, columns are {list(dataset.column_names)}."
    )


def sample_rows(n: int, max_rows: int | None, seed: int) -> list[int]:
    """Row indices: all, or a seeded uniform sample of `max_rows` kept in input order."""
    if max_rows is None or n <= max_rows:
        return list(range(n))
    return np.sort(np.random.default_rng(seed).choice(n, size=max_rows, replace=False)).tolist()


def _strings(values: Sequence[Any], spec: str | Path, column: str) -> list[str]:
    try:
        return check_texts(values, chat=False, blank=False)
    except FacInputError as exc:
        raise FacInputError(f"{spec} column {column!r}: {exc}") from exc


# ------------------------------------------------------------------ labelled texts
def _label(value: Any, row: int, spec: str | Path, column: str) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float | np.integer | np.floating) and value in (0, 1):
        return int(value)
    raise FacInputError(
        f"{spec} column {column!r}, row {row}: label {value!r} is not 0 or 1. "
        "Map your classes to 0/1 first (1 = the positive class, e.g. toxic)."
    )


def davidson_labels(classes: Sequence[int]) -> list[int]:
    """Davidson classes to toxicity labels: hate speech (0) or offensive (1) -> 1, neither (2) -> 0."""
    return [0 if int(c) == DAVIDSON_NEITHER else 1 for c in classes]


def is_davidson(column_names: Sequence[str]) -> bool:
    return all(c in column_names for c in DAVIDSON_COLUMNS)


def read_labelled(
    spec: str | Path,
    text_column: str | None = None,
    label_column: str | None = None,
    *,
    max_rows: int | None = None,
    seed: int = 0,
) -> LabelledTexts:
    """Texts and 0/1 labels; the Davidson CSV is recognised by its columns and mapped (see `davidson_labels`)."""
    dataset = _open(spec)
    columns = list(dataset.column_names)
    if label_column is None and "label" not in columns and is_davidson(columns):
        return read_davidson(spec, max_rows=max_rows, seed=seed)
    label_column = label_column or "label"
    if label_column not in columns:
        raise FacInputError(
            f"{spec}: no label column {label_column!r}; columns are {columns}. "
            "Pass --label-column, or add a 0/1 'label' column."
        )
    text_column = pick_text_column(dataset, text_column, str(spec))
    texts = _strings(list(dataset[text_column]), spec, text_column)
    labels = [_label(value, i, spec, label_column) for i, value in enumerate(dataset[label_column])]
    rows = sample_rows(len(dataset), max_rows, seed)
    return LabelledTexts([texts[i] for i in rows], [labels[i] for i in rows], str(spec))


def read_davidson(spec: str | Path, *, max_rows: int | None = None, seed: int = 0) -> LabelledTexts:
    """The Davidson et al. (2017) tweets as toxicity data: offensive + hate = 1, neither = 0."""
    dataset = _open(spec)
    _require(dataset, ("tweet", "class"), spec, "the Davidson format")
    texts = _strings(list(dataset["tweet"]), spec, "tweet")
    labels = davidson_labels(list(dataset["class"]))
    rows = sample_rows(len(dataset), max_rows, seed)
    return LabelledTexts([texts[i] for i in rows], [labels[i] for i in rows], str(spec))


def balanced_sample(data: LabelledTexts, per_class: int, seed: int = 0) -> LabelledTexts:
    """`per_class` rows of each label (seeded, input order kept): the label-balanced sets a study compares."""
    rng = np.random.default_rng(seed)
    picked: list[int] = []
    for label in (0, 1):
        rows = [i for i, y in enumerate(data.labels) if y == label]
        if len(rows) < per_class:
            raise FacInputError(f"{data.source}: only {len(rows)} rows of label {label}, {per_class} asked for.")
        picked.extend(rng.choice(rows, size=per_class, replace=False).tolist())
    picked.sort()
    return LabelledTexts([data.texts[i] for i in picked], [data.labels[i] for i in picked], data.source)


def check_two_classes(data: LabelledTexts, role: str) -> None:
    """A classifier needs both labels in training, and AUPRC needs both in the test set."""
    present = sorted(set(data.labels))
    if present != [0, 1]:
        raise FacInputError(
            f"{role} data {data.source}: every label is {present[0] if present else 'missing'}; "
            "both 0 and 1 are needed. Sample both classes (e.g. balanced_sample)."
        )


# ------------------------------------------------------------------ pairs
def read_pairs(spec: str | Path, *, max_rows: int | None = None, seed: int = 0) -> PreferencePairs:
    """`chosen`/`rejected` transcripts (the HH-RLHF format: '\\n\\nHuman: ... \\n\\nAssistant: ...')."""
    dataset = _open(spec)
    _require(dataset, PAIR_COLUMNS, spec, "preference pairs")
    chosen = _strings(list(dataset["chosen"]), spec, "chosen")
    rejected = _strings(list(dataset["rejected"]), spec, "rejected")
    rows = sample_rows(len(dataset), max_rows, seed)
    return PreferencePairs([chosen[i] for i in rows], [rejected[i] for i in rows], str(spec))


# ------------------------------------------------------------------ CAA A/B items
def answer_letter(value: Any, row: int, spec: str | Path, column: str) -> str:
    """'(A)', ' (A)', 'A' -> 'A'."""
    match = _LETTER.match(value) if isinstance(value, str) else None
    if match is None:
        raise FacInputError(f"{spec} column {column!r}, row {row}: {value!r} is not an answer letter like '(A)'.")
    return match.group(1)


def read_ab_items(spec: str | Path, *, max_rows: int | None = None, seed: int = 0) -> list[ABItem]:
    """CAA A/B items (`generate_dataset.json` / `test_dataset_ab.json`, or the anthropics/evals jsonl)."""
    dataset = _open(spec)
    _require(dataset, AB_COLUMNS, spec, "CAA A/B items")
    questions = _strings(list(dataset["question"]), spec, "question")
    matching, other = list(dataset["answer_matching_behavior"]), list(dataset["answer_not_matching_behavior"])
    items = []
    for i, question in enumerate(questions):
        a = answer_letter(matching[i], i, spec, "answer_matching_behavior")
        b = answer_letter(other[i], i, spec, "answer_not_matching_behavior")
        if a == b:
            raise FacInputError(f"{spec}, row {i}: the matching and non-matching answers are both ({a}).")
        items.append(ABItem(question, a, b))
    return [items[i] for i in sample_rows(len(items), max_rows, seed)]


# ------------------------------------------------------------------ instruction pairs
def read_instruction_pairs(spec: str | Path, *, max_rows: int | None = None, seed: int = 0) -> InstructionPairs:
    """(instruction, response) rows, e.g. AlpacaEval's `instruction`/`output`; empty responses are kept."""
    dataset = _open(spec)
    instruction = _first_present(dataset, INSTRUCTION_COLUMNS, spec, "instruction")
    response = _first_present(dataset, RESPONSE_COLUMNS, spec, "response")
    instructions = _strings(list(dataset[instruction]), spec, instruction)
    responses = list(dataset[response])
    for i, value in enumerate(responses):
        if not isinstance(value, str):
            raise FacInputError(f"{spec} column {response!r}, row {i}: expected a string, got {type(value).__name__}.")
    rows = sample_rows(len(dataset), max_rows, seed)
    return InstructionPairs([instructions[i] for i in rows], [responses[i] for i in rows], str(spec))
