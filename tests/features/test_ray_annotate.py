"""Annotation on a local Ray cluster (2 worker actors) equals the single-process run, shard for shard."""

from __future__ import annotations

import os

import datasets
import pytest
import ray  # in the test extras: a missing Ray fails here, it does not skip
from helpers import TEXTS

from fac_datasets.config import StreamingConfig
from fac_datasets.features.annotator import FeatureAnnotator
from fac_datasets.features.streaming import RowSource, annotate_dataset

pytestmark = pytest.mark.slow


@pytest.fixture()
def local_cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()


def test_two_ray_workers_give_the_single_process_result(tiny_model_dir, tiny_sae_dir, tmp_path, local_cluster):
    rows = [{"id": i, "text": f"{TEXTS[i % len(TEXTS)]} {i}" if i % 7 else ""} for i in range(160)]
    dataset = datasets.Dataset.from_list(rows)
    annotator = FeatureAnnotator(model=str(tiny_model_dir), sae=str(tiny_sae_dir))
    local = StreamingConfig(shard_size=32, batch_size=8)
    single = annotate_dataset(RowSource(dataset, "text"), tmp_path / "single", annotator, local, progress=False)

    on_ray = local.model_copy(update={"ray": "auto", "ray_workers": 2})
    remote = annotate_dataset(RowSource(dataset, "text"), tmp_path / "ray", annotator, on_ray, progress=False)

    assert ray.is_initialized(), "a cluster the caller started must be left running"
    assert remote.n_shards == single.n_shards == 5
    assert remote.counts == single.counts
    got, expected = remote.dataset(), single.dataset()
    assert got.column_names == expected.column_names
    assert got.to_dict() == expected.to_dict()
    from ray._private.state import actors  # the state API proper needs the dashboard

    workers = {a["Pid"] for a in actors().values() if "ShardWorker" in a["ActorClassName"]}
    assert len(workers) == 2 and os.getpid() not in workers, "expected two actor processes, one model each"
