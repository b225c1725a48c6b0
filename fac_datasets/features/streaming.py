"""Annotate a dataset of any size into a folder, shard by shard: resumable, in bounded memory.

    DIR/run.json                what the run is (input, column, annotator, settings); a rerun must match it
    DIR/data/shard-N.parquet    the shard's input rows + fac_features / fac_activations / fac_n_tokens
    DIR/shards/shard-N.json     the shard's FeatureCounts and text fingerprint, written last: "shard N is done"
    DIR/counts.json             the merged FeatureCounts of all shards, with the device and dtype used

Every file is written under a temporary name and renamed, so a killed run leaves finished shards
and nothing else that counts; a rerun skips finished shards and redoes the rest. One shard's rows
are in memory at a time. The annotator is called on the same `batch_size` row batches as
`Dataset.map(annotator, batched=True, batch_size=...)`, so results equal the in-memory path, and
`annotate_table` is what the Ray actors run too (`features.ray_annotate`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from fac_datasets.config import StreamingConfig
from fac_datasets.constants import (
    ACTIVATIONS_COLUMN,
    ANNOTATION_COUNTS_FILENAME,
    ANNOTATION_DATA_DIR,
    ANNOTATION_DATA_PATTERN,
    ANNOTATION_RUN_FILENAME,
    ANNOTATION_RUN_FORMAT,
    ANNOTATION_RUN_FORMAT_VERSION,
    ANNOTATION_SHARD_PATTERN,
    ANNOTATION_SHARDS_DIR,
    FEATURES_COLUMN,
    TOKENS_COLUMN,
)
from fac_datasets.errors import FacInputError
from fac_datasets.features.annotator import FeatureAnnotator
from fac_datasets.features.counts import FeatureCounts
from fac_datasets.features.rows import FeatureRows
from fac_datasets.features.shards import (
    FAC_COLUMNS,
    RowSource,
    ShardResult,
    ShardSpec,
    annotate_table,
    columns_of,
    fac_table,
    fingerprint_texts,
    plan_shards,
)
from fac_datasets.inputs import input_identity, same_input
from fac_datasets.run_lock import RunLock

__all__ = [
    "AnnotationFolder",
    "AnnotationRun",
    "RowSource",
    "ShardResult",
    "ShardSpec",
    "annotate_dataset",
    "open_source",
]


# ------------------------------------------------------------------ reading
def open_source(spec: str, column: str | None, config: StreamingConfig, split: str = "train") -> RowSource:
    """A `RowSource` over a data file, a `save_to_disk` folder or a Hub dataset id (see `inputs.open_dataset`)."""
    from fac_datasets.constants import TEXT_COLUMN_CANDIDATES
    from fac_datasets.inputs import open_dataset, pick_text_column

    dataset = open_dataset(spec, split, streaming=config.streaming)
    if column is None and dataset.column_names is None:
        column = next((c for c in TEXT_COLUMN_CANDIDATES if c in columns_of(dataset)), None)
        if column is None:
            raise FacInputError(f"{spec}: cannot tell which column holds the text; pass --text-column.")
    elif column is None:
        column = pick_text_column(dataset, None, spec)
    return RowSource(dataset, column, name=spec, counts_only=config.counts_only)


def shard_counts(fac: dict[str, list], annotator: FeatureAnnotator) -> FeatureCounts:
    rows = FeatureRows.from_lists(fac[FEATURES_COLUMN], fac[ACTIVATIONS_COLUMN], fac[TOKENS_COLUMN])
    return FeatureCounts.from_rows(rows, annotator.d_sae, annotator.provenance)


# ------------------------------------------------------------------ the output folder
def _atomic_write(path: Path, write) -> None:
    """`write(tmp)` then rename: readers never see a half-written file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


class AnnotationFolder:
    """The output folder of one run; opening an existing one checks it is the same run."""

    def __init__(self, out_dir: str | Path, record: dict) -> None:
        self.root = Path(out_dir)
        self.data_dir = self.root / ANNOTATION_DATA_DIR
        self.shards_dir = self.root / ANNOTATION_SHARDS_DIR
        self.counts_only = bool(record["settings"]["counts_only"])
        self.shards_dir.mkdir(parents=True, exist_ok=True)
        if not self.counts_only:
            self.data_dir.mkdir(exist_ok=True)
        for folder in (self.data_dir, self.shards_dir):  # leftovers of a killed run
            for stale in folder.glob(".*.tmp") if folder.is_dir() else ():
                stale.unlink(missing_ok=True)
        run = self.root / ANNOTATION_RUN_FILENAME
        record = {"format": ANNOTATION_RUN_FORMAT, "version": ANNOTATION_RUN_FORMAT_VERSION, **record}
        if run.is_file():
            previous = json.loads(run.read_text())
            different = sorted(key for key in record if not self._same(key, previous.get(key), record[key]))
            if different:
                raise FacInputError(
                    f"{self.root} holds another annotation run (differs in: {', '.join(different)}). "
                    "Pass a new --out, or delete that folder to start over."
                )
        else:
            _atomic_write(run, lambda tmp: tmp.write_text(json.dumps(record, indent=2)))

    @staticmethod
    def _same(key: str, previous, current) -> bool:
        return same_input(previous, current) if key == "input" else previous == current

    def shard_path(self, index: int) -> Path:
        return self.shards_dir / ANNOTATION_SHARD_PATTERN.format(index=index)

    def data_path(self, index: int) -> Path:
        return self.data_dir / ANNOTATION_DATA_PATTERN.format(index=index)

    def finished(self, spec: ShardSpec) -> dict | None:
        """The record of shard `spec` if it was finished, else None (it is then redone)."""
        path = self.shard_path(spec.index)
        if not path.is_file():
            return None
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            return None  # unreadable: redo it
        if (record.get("start"), record.get("stop")) != (spec.start, spec.stop):
            raise FacInputError(
                f"{path} covers rows {record.get('start')}..{record.get('stop')}, not {spec.start}..{spec.stop}: "
                "the input changed length. Pass a new --out, or delete that folder to start over."
            )
        if not self.counts_only and not self.data_path(spec.index).is_file():
            return None
        return record

    def check_fingerprint(self, record: dict, spec: ShardSpec, fingerprint: str) -> None:
        if record.get("fingerprint") != fingerprint:
            raise FacInputError(
                f"Rows {spec.start}..{spec.stop} of the input changed since {self.shard_path(spec.index)} was "
                "written. Pass a new --out, or delete that folder to start over."
            )

    def write(self, result: ShardResult, counts: FeatureCounts) -> None:
        """Rows first, then the shard record: the record's presence means the shard is complete."""
        if not self.counts_only:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = result.rows
            for name, column in zip(FAC_COLUMNS, fac_table(result.fac).columns, strict=True):
                table = table.append_column(pa.field(name, column.type), column)
            _atomic_write(self.data_path(result.spec.index), lambda tmp: pq.write_table(table, tmp))
        record = {
            "index": result.spec.index,
            "start": result.spec.start,
            "stop": result.spec.stop,
            "fingerprint": result.fingerprint,
            "setup": result.setup,
            "counts": counts.to_dict(),
        }
        _atomic_write(self.shard_path(result.spec.index), lambda tmp: tmp.write_text(json.dumps(record)))

    def write_counts(self, counts: FeatureCounts, setups: list[dict]) -> Path:
        """counts.json: a FeatureCounts file (`FeatureCounts.load` reads it) that also names the setup."""
        path = self.root / ANNOTATION_COUNTS_FILENAME
        payload = {**counts.to_dict(), "setup": setups[0] if len(setups) == 1 else setups}
        _atomic_write(path, lambda tmp: tmp.write_text(json.dumps(payload)))
        return path


# ------------------------------------------------------------------ the run
@dataclass
class AnnotationRun:
    """What `annotate_dataset` did.

    Attributes:
        out_dir: the output folder.
        counts: merged FeatureCounts of every row.
        n_shards: shards of the input.
        n_resumed: shards found finished and not recomputed.
        setups: distinct device/dtype setups of the shards (one, normally).
    """

    out_dir: Path
    counts: FeatureCounts
    n_shards: int
    n_resumed: int
    setups: list[dict] = field(default_factory=list)

    def dataset(self):
        """The annotated rows as a `datasets.Dataset` (memory-mapped from the Parquet shards)."""
        import datasets

        if not (self.out_dir / ANNOTATION_DATA_DIR).is_dir():
            raise FacInputError(f"{self.out_dir} holds counts only (the run was made with counts_only).")
        files = str(self.out_dir / ANNOTATION_DATA_DIR / "*.parquet")
        return datasets.load_dataset("parquet", data_files=files, split="train")


def run_record(source: RowSource, annotator: FeatureAnnotator, config: StreamingConfig, input_name: str) -> dict:
    """What must match for a rerun to resume this run (the device may change; the dtype is checked per shard)."""
    settings = config.model_dump(include={"shard_size", "batch_size", "counts_only", "streaming"})
    state = annotator.__getstate__()
    state["config"] = {k: v for k, v in state["config"].items() if k != "device"}
    return {"input": input_identity(input_name), "column": source.column, "annotator": state, "settings": settings}


def annotate_dataset(
    source: RowSource,
    out_dir: str | Path,
    annotator: FeatureAnnotator,
    config: StreamingConfig | None = None,
    *,
    input_name: str | None = None,
    progress: bool = True,
) -> AnnotationRun:
    """Annotate every row of `source` into `out_dir`, shard by shard; finished shards are skipped.

    With `config.ray` set, pending shards run on Ray actors (`features.ray_annotate`); the shards
    they return are written here exactly as local ones.
    A lock file in `out_dir` refuses a second run into the same folder while this one runs.
    """
    config = config or StreamingConfig()
    if source.n_rows == 0:
        raise FacInputError(f"{source.name}: the dataset has no rows.")
    with RunLock(out_dir, "fac annotate-dataset"):
        return _annotate(source, out_dir, annotator, config, input_name=input_name, progress=progress)


def _annotate(
    source: RowSource,
    out_dir: str | Path,
    annotator: FeatureAnnotator,
    config: StreamingConfig,
    *,
    input_name: str | None,
    progress: bool,
) -> AnnotationRun:
    from tqdm.auto import tqdm

    annotator = annotator.for_column(source.column)
    folder = AnnotationFolder(out_dir, run_record(source, annotator, config, input_name or source.name))
    total = FeatureCounts(annotator.d_sae, provenance=annotator.provenance)
    setups: list[dict] = []
    n_shards = n_resumed = 0
    bar = tqdm(total=source.n_rows, desc="Annotating", unit="row", disable=not progress)

    def keep(result: ShardResult, counts: FeatureCounts) -> None:
        nonlocal total
        _check_setup(result.setup, setups, folder)
        folder.write(result, counts)
        total = total + counts
        bar.update(result.spec.stop - result.spec.start)

    with bar:
        if config.ray:
            from fac_datasets.features.ray_annotate import annotate_on_ray

            pending = []
            for spec, record, fingerprint in _scan(source, folder, config):
                n_shards += 1
                if record is None:
                    pending.append(spec)
                    continue
                n_resumed += 1
                folder.check_fingerprint(record, spec, fingerprint())
                _resume(record, setups, bar, spec)
                total = total + FeatureCounts.from_dict(record["counts"])
            for result in annotate_on_ray(source, pending, annotator, config):
                keep(result, shard_counts(result.fac, annotator))
        else:
            for spec, table in source.shards(config.shard_size):
                n_shards += 1
                record = folder.finished(spec)
                if record is not None:
                    n_resumed += 1
                    folder.check_fingerprint(record, spec, fingerprint_texts(source.values(table)))
                    _resume(record, setups, bar, spec)
                    total = total + FeatureCounts.from_dict(record["counts"])
                    continue
                fac, fingerprint = annotate_table(annotator, source.texts(table, spec), spec, config.batch_size)
                setup = annotator.extractor.backbone.setup.to_dict()
                keep(ShardResult(spec, fingerprint, fac, table, setup), shard_counts(fac, annotator))
    if n_shards == 0:
        raise FacInputError(f"{source.name}: the dataset has no rows.")
    folder.write_counts(total, setups)
    return AnnotationRun(folder.root, total, n_shards, n_resumed, setups)


def _scan(source: RowSource, folder: AnnotationFolder, config: StreamingConfig):
    """(spec, finished record or None, fingerprint thunk) per shard, reading rows only where needed."""
    if source.n_rows is not None:
        for spec in plan_shards(source.n_rows, config.shard_size):
            yield spec, folder.finished(spec), lambda s=spec: fingerprint_texts(source.values(source.read(s)))
        return
    for spec, table in source.shards(config.shard_size):  # a streamed input is read once, in order
        yield spec, folder.finished(spec), lambda t=table: fingerprint_texts(source.values(t))


def _resume(record: dict, setups: list[dict], bar, spec: ShardSpec) -> None:
    if record.get("setup") and record["setup"] not in setups:
        setups.append(record["setup"])
    bar.update(spec.stop - spec.start)


def _check_setup(setup: dict, setups: list[dict], folder: AnnotationFolder) -> None:
    """Shards of one run share a dtype: a resumed run must not mix bf16 and fp32 shards silently."""
    dtypes = {s.get("dtype") for s in setups}
    if dtypes and setup.get("dtype") not in dtypes:
        raise FacInputError(
            f"{folder.root} was annotated in {', '.join(sorted(map(str, dtypes)))}, this run computes "
            f"{setup.get('dtype')}: pass --dtype {next(iter(dtypes))} to continue it, or a new --out."
        )
    if setup not in setups:
        setups.append(setup)
