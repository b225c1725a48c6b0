"""Pull a review dataset back: responses become columns of the local data, labels update the catalog.

- samples: every local row gets the review columns and a `keep_row_after_review` mark with the
  reason when it is not kept; `OUT/reviewed` holds every row, `OUT/accepted` the kept ones, and
  `OUT/agreement.json` how reviewers agreed with the SAE's and the generator's suggestions.
- relevance: the majority label of each reviewed feature goes into the catalog through its own
  relevance API as the "human" source (which overrides the LLM judge and enrichment), with the
  reviewers, the label counts, the server and the dataset as provenance.
Records are matched to local rows by their ids (recomputed locally), never by position.
"""

from __future__ import annotations

import json
import shutil
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from fac_datasets.catalog.catalog import FeatureCatalog
from fac_datasets.config import ArgillaConfig
from fac_datasets.constants import (
    REVIEW_ACCEPTED_DIR,
    REVIEW_AGREEMENT_JSON,
    REVIEW_ALL_DIR,
    REVIEW_KEEP,
    REVIEW_QUESTION_RELEVANT,
    REVIEW_REJECT_REASON,
)
from fac_datasets.errors import FacInputError, FacServiceError
from fac_datasets.review.agreement import agreement_report
from fac_datasets.review.push import (
    describe_remote,
    describe_transport_error,
    find_dataset,
    quiet_sdk,
    service_transport_errors,
)
from fac_datasets.review.records import SynthesizedSamples, feature_record_id, sample_ids
from fac_datasets.review.responses import (
    Answer,
    PulledRecord,
    column_features,
    human_verdicts,
    keep_rows,
    response_columns,
)
from fac_datasets.review.schemas import ReviewSchema, differences, relevance_schema, samples_schema

if TYPE_CHECKING:
    import argilla as rg


@dataclass
class PullResult:
    """What a pull found and did."""

    kind: str
    url: str
    dataset: str
    records: int
    """Records on the server."""
    unmatched: list[str]
    """Server records with no local row or feature (the local data changed since the push)."""
    agreement: dict
    rows: int = 0
    kept: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    """Rows not kept, by reason."""
    labelled: list[int] = field(default_factory=list)
    """Features whose human label was recorded in the catalog."""
    ties: list[int] = field(default_factory=list)
    """Features whose reviewers tied (no label recorded)."""
    paths: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def _answers(record: rg.Record, users: dict[str, str]) -> list[Answer]:
    """Each reviewer's answer; read from the record model so a discard without values is seen too."""
    models = getattr(getattr(record, "_model", None), "responses", None)
    if models is not None:  # argilla 2.8: one UserResponseModel per reviewer (values, status)
        return [
            Answer(
                users.get(str(m.user_id), str(m.user_id)),
                getattr(m.status, "value", str(m.status)),
                {q: v.get("value") for q, v in (m.values or {}).items()},
            )
            for m in models
        ]
    by_user: dict[str, Answer] = {}
    for response in record.responses:
        user = users.get(str(response.user_id), str(response.user_id))
        status = getattr(response.status, "value", str(response.status))
        by_user.setdefault(user, Answer(user, status, {})).values[response.question_name] = response.value
    return list(by_user.values())


def fetch(client: rg.Argilla, schema: ReviewSchema, name: str, config: ArgillaConfig) -> list[PulledRecord]:
    """Every record of `workspace/name` with its suggestions and answers; the dataset must fit `schema`."""
    from argilla._exceptions import ArgillaError

    where = f"{config.workspace}/{name} at {client.api_url}"
    pulled: list[PulledRecord] = []
    try:
        dataset = find_dataset(client, name, config.workspace)
        if dataset is None:
            raise FacInputError(
                f"No Argilla dataset {where}: push it first (`fac review push --kind {schema.kind} --dataset {name}`)."
            )
        found = differences(schema, describe_remote(dataset))
        if found:
            raise FacInputError(f"The Argilla dataset {where} is not a {schema.kind} review: {'; '.join(found)}.")
        users: dict[str, str] = {}
        with quiet_sdk():
            for record in dataset.records(with_suggestions=True, with_responses=True):
                for model in getattr(getattr(record, "_model", None), "responses", None) or []:
                    uid = str(model.user_id)
                    if uid not in users:
                        user = client.users(id=model.user_id)
                        users[uid] = user.username if user is not None else uid
                suggestions = {s.question_name: s.value for s in record.suggestions}
                pulled.append(PulledRecord(str(record.id), suggestions, _answers(record, users)))
    except service_transport_errors() as exc:
        raise FacServiceError(
            f"The Argilla server at {client.api_url} stopped answering while {config.workspace}/{name} was read "
            f"({describe_transport_error(exc)}) after {len(pulled)} records: nothing was written. Pull again once it "
            "is back."
        ) from None
    except ArgillaError as exc:
        raise FacServiceError(f"Could not read the Argilla dataset {where}: {exc}") from exc
    return pulled


def _save(dataset, folder: Path) -> None:
    from fac_datasets.synthesis.output import save_dataset

    save_dataset(dataset, folder)


def pull_samples(
    client: rg.Argilla,
    samples: SynthesizedSamples,
    name: str,
    out_dir: str | Path,
    config: ArgillaConfig | None = None,
) -> PullResult:
    """Review columns + keep mark on every row of `samples`, saved under `out_dir` with the agreement report."""
    config = config or ArgillaConfig()
    schema = samples_schema(samples.task)
    pulled = fetch(client, schema, name, config)
    by_id = {record.id: record for record in pulled}
    ids = sample_ids(samples)
    local = set(ids)
    columns = response_columns([i if i in by_id else None for i in ids], by_id, schema)
    keep, reasons = keep_rows(columns, config.min_quality, config.min_submitted)
    columns[REVIEW_KEEP], columns[REVIEW_REJECT_REASON] = keep, reasons
    reviewed = samples.dataset
    for name_, values in columns.items():
        if name_ in reviewed.column_names:
            reviewed = reviewed.remove_columns(name_)
        reviewed = reviewed.add_column(name_, values, feature=column_features(schema)[name_])
    report = agreement_report([r for r in pulled if r.id in local], schema)

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"reviewed": out_dir / REVIEW_ALL_DIR, "accepted": out_dir / REVIEW_ACCEPTED_DIR}
    _save(reviewed, paths["reviewed"])
    kept = reviewed.filter(lambda flag: flag, input_columns=REVIEW_KEEP)
    if len(kept):
        _save(kept, paths["accepted"])
    else:  # datasets cannot load a saved dataset without rows; an old copy would mislead
        shutil.rmtree(paths["accepted"], ignore_errors=True)
        del paths["accepted"]
    result = PullResult(
        kind=schema.kind,
        url=str(client.api_url).rstrip("/"),
        dataset=f"{config.workspace}/{name}",
        records=len(pulled),
        unmatched=sorted(r.id for r in pulled if r.id not in local),
        agreement=report,
        rows=len(reviewed),
        kept=sum(keep),
        reasons=dict(sorted(Counter(r for r in reasons if r).items())),
        paths={k: str(v) for k, v in paths.items()},
    )
    paths["agreement"] = out_dir / REVIEW_AGREEMENT_JSON
    result.paths["agreement"] = str(paths["agreement"])
    paths["agreement"].write_text(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    return result


def pull_relevance(
    client: rg.Argilla,
    catalog: FeatureCatalog,
    task: str,
    name: str,
    config: ArgillaConfig | None = None,
) -> tuple[FeatureCatalog, PullResult]:
    """The catalog with every reviewed feature's human label recorded for `task` (the caller saves it)."""
    from fac_datasets.catalog.relevance import record

    config = config or ArgillaConfig()
    schema = relevance_schema(task)
    pulled = fetch(client, schema, name, config)
    keys = {feature_record_id(f): f for f in catalog.feature_ids}
    url = str(client.api_url).rstrip("/")
    provenance = {"server": url, "dataset": f"{config.workspace}/{name}", "pulled": time.strftime("%Y-%m-%dT%H:%M:%S")}
    verdicts, ties = human_verdicts(pulled, REVIEW_QUESTION_RELEVANT, keys, provenance)
    if verdicts:
        catalog = record(catalog, task, "human", verdicts)
    result = PullResult(
        kind=schema.kind,
        url=url,
        dataset=f"{config.workspace}/{name}",
        records=len(pulled),
        unmatched=sorted(r.id for r in pulled if r.id not in keys),
        agreement=agreement_report([r for r in pulled if r.id in keys], schema),
        labelled=sorted(verdicts),
        ties=ties,
    )
    return catalog, result
