"""Annotation throughput through `Dataset.map` (num_proc 1 and 2) relative to the bare
annotator loop, side by side in one run, on the embedded default.

    .venv/bin/python benchmarks/annotation_throughput.py [--texts 400]

Texts: AlpacaEval instructions from ../shared/data. Each map runs with
load_from_cache_file=False so it really computes. The bare loop calls the same annotator on the
same batches without datasets. num_proc workers use one torch thread each; the bare loop and
num_proc=1 use both cores.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import datasets
import torch
from shared_data import alpaca_instructions

from fac_datasets.features.annotator import FeatureAnnotator


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--texts", type=int, default=400)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "annotation_throughput.json")
    args = parser.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    dataset = datasets.Dataset.from_dict({"text": alpaca_instructions()[: args.texts]})
    annotator = FeatureAnnotator()
    annotator.extractor  # load once before timing  # noqa: B018

    def bare_loop():
        for start in range(0, len(dataset), args.batch_size):
            annotator(dataset[start : start + args.batch_size])

    def with_map(num_proc):
        return lambda: dataset.map(
            annotator, batched=True, batch_size=args.batch_size, num_proc=num_proc, load_from_cache_file=False
        )

    timings = {}
    for name, run in (("bare_loop", bare_loop), ("map_num_proc_1", with_map(None)), ("map_num_proc_2", with_map(2))):
        start = time.perf_counter()
        run()
        timings[name] = time.perf_counter() - start
    n_tokens = sum(annotator(dataset[:])["fac_n_tokens"])
    result = {
        "texts": len(dataset),
        "content_tokens": n_tokens,
        "texts_per_second": {k: len(dataset) / v for k, v in timings.items()},
        "relative_to_bare_loop": {k: timings["bare_loop"] / v for k, v in timings.items()},
        "seconds": timings,
    }
    print(json.dumps(result, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
