"""FeatureCounts merge and FAC on 1M synthetic sparse rows: time and peak memory.

    .venv/bin/python benchmarks/counts_scale.py [--rows 1000000] [--features-per-row 64] [--d-sae 65536] [--shards 8]

Rows are drawn with a Zipf-like feature popularity (a few features in most rows, a long tail),
like real SAE annotations. Timed: building per-shard counts, merging them, and FAC with the
rarefaction curve against an anchor. Memory: the process's max RSS (which includes generating the synthetic
rows) and the peak
of new allocations (tracemalloc) during counting/merge/FAC and during the rarefaction curve,
on top of the ~770 MB the 64M (feature, activation) pairs themselves take.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
import tracemalloc
from pathlib import Path

import numpy as np

from fac_datasets.coverage.compute import compute_coverage
from fac_datasets.features.counts import FeatureCounts
from fac_datasets.features.rows import FeatureRows


def synthetic_rows(n_rows: int, per_row: int, d_sae: int, seed: int, vocabulary: float = 1.0) -> FeatureRows:
    """`vocabulary` < 1 restricts rows to a random share of the latents (so FAC < 1)."""
    rng = np.random.default_rng(seed)
    lengths = rng.poisson(per_row, size=n_rows).clip(1, None)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    allowed = np.sort(rng.permutation(d_sae)[: int(d_sae * vocabulary)])
    popularity = 1.0 / np.arange(1, allowed.size + 1) ** 0.8
    features = allowed[rng.choice(allowed.size, size=int(offsets[-1]), p=popularity / popularity.sum())].astype(
        np.int64
    )
    activations = rng.gamma(2.0, 1.0, size=features.shape).astype(np.float32)
    return FeatureRows(offsets, features, activations, lengths.astype(np.int64) * 3)


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features-per-row", type=int, default=64)
    parser.add_argument("--d-sae", type=int, default=65_536)
    parser.add_argument("--shards", type=int, default=8)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "counts_scale.json")
    args = parser.parse_args()

    started = time.perf_counter()
    current = synthetic_rows(args.rows, args.features_per_row, args.d_sae, seed=0, vocabulary=0.8)
    anchor = synthetic_rows(args.rows // 10, args.features_per_row, args.d_sae, seed=1)
    generate_s = time.perf_counter() - started
    rss_after_rows = max_rss_mb()

    bounds = np.linspace(0, current.n_rows, args.shards + 1).astype(int)
    tracemalloc.start()  # numpy reports its buffers to tracemalloc: the peak of the counting phase
    t0 = time.perf_counter()
    shards = [
        FeatureCounts.from_rows(current.take(np.arange(a, b)), args.d_sae)
        for a, b in zip(bounds[:-1], bounds[1:], strict=True)
    ]
    t1 = time.perf_counter()
    merged = sum(shards[1:], shards[0])
    t2 = time.perf_counter()
    whole = FeatureCounts.from_rows(current, args.d_sae)
    t3 = time.perf_counter()
    assert merged == whole, "merged shard counts differ from counts of the whole"
    anchor_counts = FeatureCounts.from_rows(anchor, args.d_sae)
    t4 = time.perf_counter()
    report = compute_coverage(anchor_counts, merged)
    t5 = time.perf_counter()
    counting_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.reset_peak()
    with_curve = compute_coverage(anchor_counts, current)
    t6 = time.perf_counter()
    rarefaction_peak = tracemalloc.get_traced_memory()[1]

    result = {
        "rows": args.rows,
        "nnz": int(current.features.size),
        "d_sae": args.d_sae,
        "shards": args.shards,
        "seconds": {
            "generate_rows": round(generate_s, 2),
            "shard_counts": round(t1 - t0, 2),
            "merge": round(t2 - t1, 4),
            "counts_of_whole": round(t3 - t2, 2),
            "fac_from_counts": round(t5 - t4, 4),
            "fac_with_rarefaction": round(t6 - t5, 2),
            "counts_merge_fac_total": round((t2 - t0) + (t5 - t4), 2),
        },
        "peak_rss_mb": round(max_rss_mb(), 1),
        "peak_allocated_mb_counts_merge_fac": round(counting_peak / 2**20, 1),
        "peak_allocated_mb_rarefaction": round(rarefaction_peak / 2**20, 1),
        "rss_after_generating_rows_mb": round(rss_after_rows, 1),
        "fac": report.fac,
        "fac_with_rarefaction_equal": with_curve.fac == report.fac,
    }
    print(json.dumps(result, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
