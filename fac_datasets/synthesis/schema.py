"""The answer schema of a synthesis task, built from its columns, so generators can constrain answers.

A sample is a JSON object with one string per generated column (what every task prompt asks for:
transcripts and choice letters are strings the task parser turns into rows). Fixed columns are set
by the parser, not generated. One call asks for `k` samples: k = 1 is the bare sample object the
prompts and their few-shot answers show; k > 1 wraps exactly k of them as {"samples": [...]}.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from fac_datasets.errors import FacConfigError
from fac_datasets.generation.schema import AnswerSchema, as_schema
from fac_datasets.synthesis.tasks import SynthesisTask

SAMPLES_KEY = "samples"


def sample_model(task: SynthesisTask) -> type[BaseModel]:
    """The pydantic model of one sample: the task's generated columns, each a string (required ones non-empty).

    Fields are named by position and aliased to the column name, so a custom column called e.g.
    `json` or `copy` cannot shadow a pydantic attribute; the JSON schema uses the column names.
    """
    fields: dict[str, Any] = {}
    for i, column in enumerate(task.generated):
        limits = {} if column.optional else {"min_length": 1}
        fields[f"column_{i}"] = (str, Field(alias=column.name, description=column.description, **limits))
    config = ConfigDict(extra="forbid", title=_title(task.name) + "Sample")
    return create_model(_title(task.name) + "Sample", __config__=config, **fields)


def answer_model(task: SynthesisTask, k: int = 1) -> type[BaseModel]:
    """The pydantic model of one answer: the bare sample for k = 1, else exactly k samples under 'samples'."""
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise FacConfigError(f"samples_per_call must be an integer of at least 1 (samples asked per call), got {k!r}.")
    sample = sample_model(task)
    if k == 1:
        return sample
    config = ConfigDict(extra="forbid", title=f"{_title(task.name)}Answer{k}")
    items = Field(min_length=k, max_length=k, description=f"exactly {k} different samples")
    return create_model(f"{_title(task.name)}Answer{k}", __config__=config, **{SAMPLES_KEY: (list[sample], items)})


def answer_schema(task: SynthesisTask, k: int = 1) -> AnswerSchema:
    """The `AnswerSchema` a generator constrains a synthesis call with (k samples per call)."""
    schema = as_schema(answer_model(task, k))
    assert schema is not None
    return schema


def answer_samples(value: Any) -> list[Any]:
    """The sample objects of an answer's JSON value: the value itself, or the items under 'samples'."""
    if isinstance(value, dict) and isinstance(value.get(SAMPLES_KEY), list) and len(value) == 1:
        return list(value[SAMPLES_KEY])
    return [value]


def _title(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))
