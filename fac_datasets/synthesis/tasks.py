"""Synthesis tasks as data: a JSON spec (columns, limits, few-shot examples) and a Jinja2 prompt per task.

Adding a task is adding `tasks/<name>.json` and `tasks/<name>.j2`, not forking code. The catalog's
task names (the keys its relevance verdicts are stored under) map onto the synthesis task that
writes their data: helpfulness is judged on preference pairs, sycophancy and survival instinct
are steered with A/B questions.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources
from typing import Any

from fac_datasets.errors import FacConfigError, FacInputError
from fac_datasets.generation.parsing import Parsed
from fac_datasets.tasks import GUIDELINE_TASKS, SYNTHESIS_TASKS, find_task

COLUMN_TYPES = ("string", "int", "messages")


@dataclass(frozen=True)
class Column:
    """One output column: its type, what the model is told it holds, a fixed value or optional."""

    name: str
    type: str
    description: str
    fixed: Any = None
    optional: bool = False

    @property
    def generated(self) -> bool:
        return self.fixed is None


@dataclass(frozen=True)
class SynthesisTask:
    """What one task's samples look like and how a model is asked for them.

    Attributes:
        name: the synthesis task (one of SYNTHESIS_TASKS).
        relevance_task: the catalog task whose relevant features are filled.
        version: the prompt version recorded with every sample.
        columns: output columns in order; `fixed` ones are set, not generated.
        min_words, max_words: word limits of the first column (a parse outside them is malformed).
        sae_template: Jinja2 expression turning a row into the text the SAE reads (None: the
            generated columns joined by blank lines).
        parser: which tolerant parser of `fac_datasets.synthesis.parsers` reads an answer.
        examples: few-shot examples written for this project (feature, pair, output).
        guideline, behavior: the custom task's guideline; the steered behaviour.
    """

    name: str
    relevance_task: str
    version: str
    noun: str
    description: str
    columns: tuple[Column, ...]
    min_words: int
    max_words: int
    sae_template: str | None
    parser: str
    examples: tuple[dict, ...] = ()
    guideline: str | None = None
    behavior: str | None = None

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def generated(self) -> list[Column]:
        return [c for c in self.columns if c.generated]

    def system_prompt(self) -> str:
        from fac_datasets.templating import render_template

        return render_template(
            "fac_datasets.synthesis",
            f"tasks/{self.name}.j2",
            min_words=self.min_words,
            max_words=self.max_words,
            guideline=self.guideline or "",
            behavior=self.behavior or "",
            columns={c.name: c for c in self.generated},
        ).strip()

    @cached_property
    def _sae_template(self):
        import jinja2

        if self.sae_template is None:
            return None
        return jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(self.sae_template)

    def sae_text(self, row: Mapping[str, Any]) -> str:
        """The text the SAE scores and the novelty filter compares: what coverage would read."""
        if self._sae_template is None:
            return "\n\n".join(str(row[c.name]) for c in self.generated if row.get(c.name))
        return self._sae_template.render(**row).strip()

    def parse(self, text: str | None) -> Parsed:
        """A row of this task's columns, or a Parsed error (never raises)."""
        from fac_datasets.synthesis.parsers import parse_sample

        return parse_sample(self, text)

    def dataset_features(self) -> dict:
        """datasets feature types of the task columns (fixed so empty runs keep their schema)."""
        from datasets import List, Value

        types = {
            "string": Value("string"),
            "int": Value("int64"),
            "messages": List({"role": Value("string"), "content": Value("string")}),
        }
        return {c.name: types[c.type] for c in self.columns}

    def describe(self) -> dict:
        """What identifies the task in reports and run fingerprints."""
        return {
            "name": self.name,
            "relevance_task": self.relevance_task,
            "version": self.version,
            "columns": self.column_names,
            "guideline": self.guideline,
            "behavior": self.behavior,
        }


@lru_cache(maxsize=16)
def _spec(name: str) -> dict:
    return json.loads((resources.files("fac_datasets.synthesis") / "tasks" / f"{name}.json").read_text("utf-8"))


def resolve_task_name(task: str) -> tuple[str, str, str | None]:
    """(synthesis task, catalog relevance task, behaviour) of a name a user typed."""
    registered = find_task(task)
    if registered is None:
        raise FacConfigError(
            f"Unknown synthesis task {task!r}. Tasks: {', '.join(SYNTHESIS_TASKS)}; catalog task names "
            f"{', '.join(GUIDELINE_TASKS)} map onto them. "
            "For anything else use task 'custom' with a guideline and columns."
        )
    return registered.synthesis, registered.guideline or registered.name, registered.behavior


def _columns(spec: dict, custom: Mapping[str, str] | None) -> tuple[Column, ...]:
    if custom is not None:
        if not custom:
            raise FacConfigError("The custom task needs at least one column: pass columns={'name': 'what it holds'}.")
        bad = [name for name in custom if not isinstance(name, str) or not name.isidentifier()]
        if bad:
            raise FacConfigError(f"Custom column names must be identifiers (letters, digits, _), got {bad}.")
        return tuple(Column(name, "string", str(description)) for name, description in custom.items())
    columns = []
    for name, column in spec["columns"].items():
        if column["type"] not in COLUMN_TYPES:
            raise FacConfigError(f"Task spec {spec['name']}: column {name} has unknown type {column['type']!r}.")
        columns.append(
            Column(name, column["type"], column["description"], column.get("fixed"), bool(column.get("optional")))
        )
    return tuple(columns)


def load_task(
    task: str | SynthesisTask,
    *,
    guideline: str | None = None,
    columns: Mapping[str, str] | None = None,
    relevance_task: str | None = None,
) -> SynthesisTask:
    """The synthesis task for a name (built-in, catalog task name, or 'custom').

    `guideline` is required by 'custom' (what the data is) and replaces the behaviour description of
    behavior_steering; `columns` ({name: description}) are the custom task's output columns;
    `relevance_task` overrides the catalog task whose relevance verdicts pick the features.
    """
    if isinstance(task, SynthesisTask):
        return task
    name, relevance, behavior_key = resolve_task_name(task)
    spec = _spec(name)
    if name == "custom":
        if not guideline or columns is None:
            raise FacConfigError(
                "Task 'custom' needs a guideline (what the data is) and columns ({'name': 'what it holds'}); "
                "on the command line: --guideline FILE --columns 'name:description;other:description'."
            )
    elif columns is not None:
        raise FacConfigError(f"Task {task!r} has fixed columns; custom columns need task 'custom'.")
    behavior = None
    if name == "behavior_steering":
        behavior = guideline or (spec["behaviors"][behavior_key] if behavior_key else None)
        if behavior is None:
            raise FacConfigError(
                "Task 'behavior_steering' needs the behaviour: use task sycophancy or survival_instinct, "
                "or pass a guideline describing it (--guideline FILE)."
            )
    text = guideline.strip() if guideline else None
    if guideline is not None and not text:
        raise FacInputError("The guideline is empty: describe the data (or the behaviour) in a sentence or two.")
    return SynthesisTask(
        name=name,
        relevance_task=relevance_task or relevance,
        version=spec["version"],
        noun=spec["noun"],
        description=spec["description"],
        columns=_columns(spec, columns if name == "custom" else None),
        min_words=int(spec["min_words"]),
        max_words=int(spec["max_words"]),
        sae_template=spec.get("sae_text"),
        parser=spec["parser"],
        examples=tuple(spec.get("examples", ())),
        guideline=text if name == "custom" else None,
        behavior=behavior,
    )
