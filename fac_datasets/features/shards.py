"""The shard types and the work on one shard, shared by the local run (`streaming`) and the Ray runner.

A `RowSource` yields the input a shard at a time; `annotate_table` turns one shard's rows into the
annotator's columns and a text fingerprint; a `ShardResult` carries them back to be written. Both
`features.streaming` and `features.ray_annotate` import from here, and neither imports the other
at module level.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fac_datasets.constants import ACTIVATIONS_COLUMN, FEATURES_COLUMN, TOKENS_COLUMN
from fac_datasets.errors import FacInputError
from fac_datasets.features.annotator import FeatureAnnotator
from fac_datasets.inputs import check_column, decode_column

FAC_COLUMNS = (FEATURES_COLUMN, ACTIVATIONS_COLUMN, TOKENS_COLUMN)


@dataclass(frozen=True)
class ShardSpec:
    """Rows [start, stop) of the input are shard `index`."""

    index: int
    start: int
    stop: int


@dataclass
class ShardResult:
    """One annotated shard, ready to be written.

    Attributes:
        spec: which rows.
        fingerprint: hash of the shard's texts (a resumed run checks the input did not change).
        fac: the annotator's three columns, one entry per row.
        rows: the input rows (a pyarrow Table) to write next to `fac`, or None for counts only.
        setup: device and dtype the shard was computed with.
    """

    spec: ShardSpec
    fingerprint: str
    fac: dict[str, list]
    rows: Any
    setup: dict


# ------------------------------------------------------------------ reading
class RowSource:
    """The input rows a shard at a time: a `datasets.Dataset` by slicing, an `IterableDataset` in order.

    Pickles small (a memory-mapped Dataset pickles as its file paths), so Ray actors read their
    shards themselves.
    """

    def __init__(self, dataset, column: str, *, name: str = "dataset", counts_only: bool = False) -> None:
        import datasets

        columns = columns_of(dataset)
        if column not in columns:
            raise FacInputError(f"{name}: no column {column!r}; columns are {columns}.")
        clashing = [c for c in FAC_COLUMNS if c in columns]
        if clashing and not counts_only:
            raise FacInputError(
                f"{name} already has {clashing}: annotate the original data, or drop those columns first."
            )
        keep = [column] if counts_only else columns
        self.dataset = dataset.select_columns(keep) if keep != columns else dataset
        self.column = column
        self.name = name
        self.streamed = isinstance(dataset, datasets.IterableDataset)

    @property
    def n_rows(self) -> int | None:
        """Rows of a map-style dataset; None for a streamed one (known once read)."""
        return None if self.streamed else len(self.dataset)

    def shards(self, shard_size: int) -> Iterator[tuple[ShardSpec, Any]]:
        """(spec, pyarrow Table) of every shard, in order."""
        if self.streamed:
            start = 0
            for index, table in enumerate(self.dataset.with_format("arrow").iter(batch_size=shard_size)):
                yield ShardSpec(index, start, start + table.num_rows), table
                start += table.num_rows
            return
        for spec in plan_shards(len(self.dataset), shard_size):
            yield spec, self.read(spec)

    def read(self, spec: ShardSpec):
        """The rows of one shard as a pyarrow Table (a streamed input is read up to it)."""
        if self.streamed:
            part = self.dataset.skip(spec.start).take(spec.stop - spec.start)
            return next(iter(part.with_format("arrow").iter(batch_size=spec.stop - spec.start)))
        return self.dataset.with_format("arrow")[spec.start : spec.stop]

    def values(self, table) -> list:
        """The text column of a shard's rows, decoded as `dataset[column]` gives it (`inputs.decode_column`)."""
        try:
            return decode_column(self.dataset, table, self.column)
        except UnicodeDecodeError as exc:
            raise FacInputError(
                f"{self.name} column {self.column!r} holds text that is not UTF-8 ({exc.reason}). "
                "Re-encode the data as UTF-8."
            ) from None

    def texts(self, table, spec: ShardSpec) -> list:
        """The shard's texts, every row checked as every command checks them (errors name the input and row)."""
        return check_column(self.values(table), self.name, self.column, start=spec.start)


def plan_shards(n_rows: int, shard_size: int) -> list[ShardSpec]:
    return [
        ShardSpec(index, start, min(start + shard_size, n_rows))
        for index, start in enumerate(range(0, n_rows, shard_size))
    ]


def columns_of(dataset) -> list[str]:
    """Column names, peeking at the first row of a streamed file whose features are not known up front."""
    if dataset.column_names is not None:
        return list(dataset.column_names)
    return list(next(iter(dataset.take(1)), {}))


# ------------------------------------------------------------------ the work on one shard
def fingerprint_texts(texts: list) -> str:
    payload = json.dumps(texts, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def annotate_table(annotator: FeatureAnnotator, texts: list, spec: ShardSpec, batch_size: int) -> tuple[dict, str]:
    """(fac columns, text fingerprint) of one shard's checked `texts` (`RowSource.texts`), `batch_size` per call."""
    column = annotator.config.column
    fac: dict[str, list] = {name: [] for name in FAC_COLUMNS}
    for start in range(0, len(texts), batch_size):
        for name, values in annotator({column: texts[start : start + batch_size]}).items():
            fac[name].extend(values)
    return fac, fingerprint_texts(texts)


def fac_table(fac: dict[str, list]):
    """The annotator's columns as Arrow, with the types `Dataset.map` gives them."""
    import pyarrow as pa

    return pa.table(
        {
            FEATURES_COLUMN: pa.array(fac[FEATURES_COLUMN], pa.list_(pa.int64())),
            ACTIVATIONS_COLUMN: pa.array(fac[ACTIVATIONS_COLUMN], pa.list_(pa.float64())),
            TOKENS_COLUMN: pa.array(fac[TOKENS_COLUMN], pa.int64()),
        }
    )
