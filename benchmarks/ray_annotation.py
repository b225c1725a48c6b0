"""Annotation on a local Ray cluster with 2 worker actors against one process, same rows, one run.

    .venv/bin/python benchmarks/ray_annotation.py [--rows 1600] [--shard-size 256]

Rows: AlpacaEval instructions from ../shared/data, repeated with a row number to reach --rows.
Both go through `features.streaming.annotate_dataset` into counts-only folders with the same
shards and batches: one process with 2 torch threads, and `ray.init(num_cpus=2)` with 2 actors of
1 thread each (one model each). Ray's wall time is given with and without starting the cluster;
both include loading the models. The merged counts must be equal.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from shared_data import alpaca_instructions


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1600)
    parser.add_argument("--shard-size", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "ray_annotation.json")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import datasets
    import ray
    import torch

    from fac_datasets.config import StreamingConfig
    from fac_datasets.features.annotator import FeatureAnnotator
    from fac_datasets.features.streaming import RowSource, annotate_dataset

    torch.set_num_threads(2)
    base = alpaca_instructions()
    texts = [f"{base[i % len(base)]} ({i // len(base)})" if i >= len(base) else base[i] for i in range(args.rows)]
    dataset = datasets.Dataset.from_dict({"text": texts})
    config = StreamingConfig(shard_size=args.shard_size, batch_size=args.batch_size, counts_only=True)
    timings = {}
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        single = annotate_dataset(RowSource(dataset, "text"), Path(tmp) / "one", FeatureAnnotator(), config)
        timings["1 process, 2 threads"] = time.perf_counter() - start

        start = time.perf_counter()
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        started = time.perf_counter()
        try:
            on_ray = config.model_copy(update={"ray": "auto", "ray_workers": 2})
            remote = annotate_dataset(RowSource(dataset, "text"), Path(tmp) / "ray", FeatureAnnotator(), on_ray)
            timings["Ray, 2 actors x 1 thread (cluster running)"] = time.perf_counter() - started
            timings["Ray, 2 actors x 1 thread (incl. cluster start)"] = time.perf_counter() - start
        finally:
            ray.shutdown()
    assert remote.counts == single.counts, "Ray and single-process counts differ"
    n_tokens = single.counts.n_tokens
    report = {
        "rows": args.rows,
        "content_tokens": n_tokens,
        "shards": single.n_shards,
        "seconds": timings,
        "rows_per_second": {name: args.rows / s for name, s in timings.items()},
        "tokens_per_second": {name: n_tokens / s for name, s in timings.items()},
        "counts_equal": True,
    }
    for name, seconds in timings.items():
        print(f"{name:<48}{seconds:>8.1f} s {args.rows / seconds:>8.1f} rows/s {n_tokens / seconds:>8.0f} tok/s")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
