"""Annotation on a Ray cluster: Ray Data `map_batches` over an actor pool, one model per actor.

The Ray dataset holds one row per pending shard (index, start, stop). Each actor loads the
annotator once, reads its shard's rows itself (`RowSource.read`), runs the very `annotate_table`
of the single-process path and returns the annotated rows; the driver writes the shards and
merges their `FeatureCounts`, so results equal a single-process run shard for shard.
Ray is imported only here, only when `--ray` is given.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from fac_datasets.config import StreamingConfig
from fac_datasets.errors import FacConfigError
from fac_datasets.features.annotator import FeatureAnnotator
from fac_datasets.features.shards import FAC_COLUMNS, RowSource, ShardResult, ShardSpec, annotate_table, fac_table

_SHARD = "__fac_shard"
_FINGERPRINT = "__fac_fingerprint"
_SETUP = "__fac_setup"


class ShardWorker:
    """A Ray actor: one annotator (one model), torch threads = its reserved CPUs."""

    def __init__(self, state: dict, source: RowSource, batch_size: int, counts_only: bool, threads: int) -> None:
        import torch

        torch.set_num_threads(threads)
        self.annotator = FeatureAnnotator.__new__(FeatureAnnotator)
        self.annotator.__setstate__(state)
        self.source = source
        self.batch_size = batch_size
        self.counts_only = counts_only

    def __call__(self, batch):
        """pyarrow batch of shard specs -> the annotated rows of those shards, tagged with their shard."""
        import pyarrow as pa

        tables = []
        for index, start, stop in zip(*(batch.column(c).to_pylist() for c in ("index", "start", "stop")), strict=True):
            spec = ShardSpec(index, start, stop)
            rows = self.source.read(spec)
            fac, fingerprint = annotate_table(self.annotator, self.source.texts(rows, spec), spec, self.batch_size)
            out = fac_table(fac) if self.counts_only else _concat_columns(rows, fac_table(fac))
            setup = json.dumps(self.annotator.extractor.backbone.setup.to_dict())
            n = out.num_rows
            out = out.append_column(_SHARD, pa.array([index] * n, pa.int64()))
            out = out.append_column(_FINGERPRINT, pa.array([fingerprint] * n, pa.string()))
            tables.append(out.append_column(_SETUP, pa.array([setup] * n, pa.string())))
        return pa.concat_tables(tables)


def _concat_columns(left, right):
    for name, column in zip(right.column_names, right.columns, strict=True):
        left = left.append_column(name, column)
    return left


def connect(address: str) -> bool:
    """Join the cluster `address` names ('auto': the running one, else a new local one); True if we started Ray."""
    import ray

    if ray.is_initialized():
        return False
    try:
        if address == "auto":
            ray.init(include_dashboard=False, log_to_driver=False)
        else:
            ray.init(address=address, log_to_driver=False)
    except ConnectionError as exc:
        raise FacConfigError(f"Cannot connect to the Ray cluster at {address!r}: {exc}") from exc
    return True


def pool_size(config: StreamingConfig) -> tuple[int, float]:
    """(actors, GPUs per actor): one actor per GPU when the cluster has GPUs, else one per CPU slot."""
    import ray

    resources = ray.cluster_resources()
    gpus = int(resources.get("GPU", 0))
    if gpus:
        return config.ray_workers or gpus, 1.0
    return config.ray_workers or max(1, int(resources.get("CPU", 1) // config.ray_cpus_per_worker)), 0.0


def annotate_on_ray(
    source: RowSource, pending: list[ShardSpec], annotator: FeatureAnnotator, config: StreamingConfig
) -> Iterator[ShardResult]:
    """Annotate the `pending` shards on Ray; yield each as soon as all its rows are back."""
    if not pending:
        return
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise FacConfigError("--ray needs Ray Data: pip install 'fac-datasets[ray]'.") from exc
    import pyarrow as pa
    import pyarrow.compute as pc

    started = connect(config.ray or "auto")
    context = ray.data.DataContext.get_current()
    quiet = {"enable_progress_bars": False, "print_on_execution_start": False, "enable_auto_log_stats": False}
    previous = {name: getattr(context, name) for name in quiet}
    for name, value in quiet.items():  # our own tqdm bar counts rows; Ray's would log every few seconds
        setattr(context, name, value)
    try:
        workers, gpus = pool_size(config)
        specs = ray.data.from_items(
            [{"index": s.index, "start": s.start, "stop": s.stop} for s in pending], override_num_blocks=len(pending)
        )
        annotated = specs.map_batches(
            ShardWorker,
            fn_constructor_args=(
                annotator.__getstate__(),
                source,
                config.batch_size,
                config.counts_only,
                config.ray_cpus_per_worker,
            ),
            batch_size=1,
            batch_format="pyarrow",
            compute=ray.data.ActorPoolStrategy(size=min(workers, len(pending))),
            num_cpus=config.ray_cpus_per_worker,
            num_gpus=gpus,
        )
        by_index = {s.index: s for s in pending}
        parts: dict[int, list] = {}
        for block in annotated.iter_batches(batch_size=None, batch_format="pyarrow"):
            for index in sorted(set(block.column(_SHARD).to_pylist())):
                mask = pc.equal(block.column(_SHARD), index)
                parts.setdefault(index, []).append(block.filter(mask))
                spec = by_index[index]
                if sum(t.num_rows for t in parts[index]) == spec.stop - spec.start:
                    yield _result(spec, pa.concat_tables(parts.pop(index)), config.counts_only)
    finally:
        for name, value in previous.items():
            setattr(context, name, value)
        if started:
            ray.shutdown()


def _result(spec: ShardSpec, table, counts_only: bool) -> ShardResult:
    fingerprint = table.column(_FINGERPRINT)[0].as_py()
    setup = json.loads(table.column(_SETUP)[0].as_py())
    fac = {name: table.column(name).to_pylist() for name in FAC_COLUMNS}
    rows = None if counts_only else table.drop_columns([*FAC_COLUMNS, _SHARD, _FINGERPRINT, _SETUP])
    return ShardResult(spec, fingerprint, fac, rows, setup)
