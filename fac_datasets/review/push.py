"""Push review records into an Argilla dataset: create it from the schema, or update the one already there.

Every check runs before the first write: the server and key (`connection`), the records (built and
checked locally by `records`), and, when the dataset exists, `if_exists` ('fail' stops here) and its
schema (a dataset that asks other questions is never written to). Records are upserted by their
stable ids, so a second push updates the same records and never duplicates them; responses already
given are kept.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from fac_datasets.config import ArgillaConfig
from fac_datasets.errors import FacInputError, FacServiceError
from fac_datasets.review.records import ReviewRecord, markdown_spans
from fac_datasets.review.schemas import ReviewSchema, differences

if TYPE_CHECKING:
    import argilla as rg


@dataclass
class PushResult:
    """What a push did: where the dataset is and how many records it created or updated."""

    url: str
    workspace: str
    dataset: str
    dataset_id: str
    kind: str
    created_dataset: bool
    records: int
    new: int
    updated: int

    @property
    def annotation_url(self) -> str:
        return f"{self.url}/dataset/{self.dataset_id}/annotation-mode"

    def to_dict(self) -> dict:
        return {**asdict(self), "annotation_url": self.annotation_url}


def to_settings(schema: ReviewSchema, config: ArgillaConfig) -> rg.Settings:
    import argilla as rg

    questions = []
    for q in schema.questions:
        description = q.description or None
        if q.kind == "label":
            questions.append(rg.LabelQuestion(q.name, labels=list(q.values), title=q.title, description=description))
        else:
            questions.append(rg.RatingQuestion(q.name, values=list(q.values), title=q.title, description=description))
    metadata_types = {
        "integer": rg.IntegerMetadataProperty,
        "float": rg.FloatMetadataProperty,
        "terms": rg.TermsMetadataProperty,
    }
    return rg.Settings(
        guidelines=schema.guidelines,
        fields=[
            rg.TextField(f.name, title=f.title, required=f.required, use_markdown=f.markdown) for f in schema.fields
        ],
        questions=questions,
        metadata=[metadata_types[m.kind](m.name, title=m.title) for m in schema.metadata],
        distribution=rg.TaskDistribution(min_submitted=config.min_submitted),
    )


def describe_remote(dataset: rg.Dataset) -> dict:
    """A server dataset's schema in `ReviewSchema.describe()` form."""
    settings = dataset.settings
    questions = {}
    for q in settings.questions:
        values = getattr(q, "labels", None) or getattr(q, "values", None) or []
        questions[q.name] = [str(v) for v in values]
    return {
        "fields": [f.name for f in settings.fields],
        "questions": questions,
        "metadata": [m.name for m in settings.metadata],
    }


def markdown_fields(dataset: rg.Dataset) -> set[str]:
    """Fields the server renders as Markdown (a dataset made before the spans field was Markdown has none)."""
    return {f.name for f in dataset.settings.fields if getattr(f, "use_markdown", False)}


def _to_argilla(record: ReviewRecord, markdown: set[str]) -> rg.Record:
    import argilla as rg

    fields = {name: markdown_spans(text) if name in markdown else text for name, text in record.fields.items()}
    suggestions = [rg.Suggestion(s.question, s.value, score=s.score, agent=s.agent) for s in record.suggestions]
    return rg.Record(id=record.id, fields=fields, metadata=record.metadata, suggestions=suggestions)


@contextmanager
def quiet_sdk() -> Iterator[None]:
    """The SDK warns about lookups that find nothing and batch sizes; our own messages say what matters."""
    logger = logging.getLogger("argilla.sdk")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            yield
    finally:
        logger.setLevel(level)


def service_transport_errors() -> tuple[type[BaseException], ...]:
    """What a server that dies, drops the connection or times out raises through the SDK (httpx, sockets)."""
    import httpx

    return (httpx.TransportError, httpx.StreamError, ConnectionError, TimeoutError)


def describe_transport_error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc).strip() or 'no detail'}"[:200]


def find_dataset(client: rg.Argilla, name: str, workspace: str) -> rg.Dataset | None:
    """The dataset `workspace/name`, or None (a missing workspace means no dataset)."""
    with quiet_sdk():
        if client.workspaces(workspace) is None:
            return None
        return client.datasets(name=name, workspace=workspace)


def push_records(
    client: rg.Argilla,
    schema: ReviewSchema,
    records: Sequence[ReviewRecord],
    name: str,
    config: ArgillaConfig | None = None,
) -> PushResult:
    """Create or update the dataset `config.workspace/name` with `records` (checked first, then written)."""
    import argilla as rg
    from argilla._exceptions import ArgillaError

    transport_errors = service_transport_errors()
    config = config or ArgillaConfig()
    if not records:
        raise FacInputError(f"No records to push to {name}.")
    workspace_name = config.workspace
    where = f"{client.api_url} {workspace_name}/{name}"
    dataset, created, sent = None, False, 0
    try:
        dataset = find_dataset(client, name, workspace_name)
        if dataset is not None:
            if config.if_exists == "fail":
                raise FacInputError(
                    f"The Argilla dataset {workspace_name}/{name} already exists at {client.api_url} and if_exists is "
                    "'fail': pass another --dataset name, or --if-exists update to update its records. "
                    "Nothing was pushed."
                )
            found = differences(schema, describe_remote(dataset))
            if found:
                raise FacInputError(
                    f"The Argilla dataset {workspace_name}/{name} at {client.api_url} exists with another schema "
                    f"({'; '.join(found)}): it is not a {schema.kind} review for {schema.task}. Pass another --dataset "
                    "name. Nothing was pushed."
                )
            known = {record.id for record in dataset.records(with_suggestions=False, with_responses=False)}
        else:
            with quiet_sdk():
                workspace = client.workspaces(workspace_name)
            workspace = workspace or rg.Workspace(name=workspace_name, client=client).create()
            settings = to_settings(schema, config)
            dataset = rg.Dataset(name=name, workspace=workspace, settings=settings, client=client).create()
            created, known = True, set()
        markdown = markdown_fields(dataset)
        batch = config.batch_size
        with quiet_sdk():
            for start in range(0, len(records), batch):
                part = [_to_argilla(record, markdown) for record in records[start : start + batch]]
                dataset.records.log(part, batch_size=batch)
                sent = min(start + batch, len(records))
    except transport_errors as exc:
        raise FacServiceError(
            f"The Argilla server at {client.api_url} stopped answering during the push to {workspace_name}/{name} "
            f"({describe_transport_error(exc)}): {sent} of {len(records)} records reached it. Push again once it is "
            "back: records are updated by their ids, so the rest are added and none is duplicated."
        ) from None
    except ArgillaError as exc:
        if created and not sent:  # a dataset this push made and could not fill is not left behind
            with suppress(ArgillaError, *transport_errors):
                dataset.delete()
        raise FacServiceError(f"Argilla refused the push to {where}: {exc}") from exc
    new = sum(record.id not in known for record in records)
    return PushResult(
        url=str(client.api_url).rstrip("/"),
        workspace=workspace_name,
        dataset=name,
        dataset_id=str(dataset.id),
        kind=schema.kind,
        created_dataset=created,
        records=len(records),
        new=new,
        updated=len(records) - new,
    )
