"""Span-mining throughput and memory on the embedded default (SmolLM2-135M + the shipped SAE, default dtype).

    .venv/bin/python benchmarks/span_mining.py [--texts 100000] [--out-dir DIR]

Texts: Davidson tweets, AlpacaEval instructions and hh-rlhf dialogue turns from ../shared/data,
interleaved and cycled (with a " #k" suffix on later rounds) up to --texts; read at run time,
never copied into the repo. Reports mining texts/s and content tokens/s, the time to build and
save the catalog, the shard files' size, and peak RSS. With --out-dir a killed run resumes.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

import torch
from shared_data import alpaca_instructions, davidson_tweets, hh_all_turns

from fac_datasets.catalog.catalog import FeatureCatalog
from fac_datasets.catalog.spans import mine_spans
from fac_datasets.config import SpanConfig
from fac_datasets.features.extractor import load_extractor


def corpus(n: int) -> list[str]:
    """Round-robin over the three sources, then cycled with a suffix so every text is distinct."""
    sources = [davidson_tweets(), alpaca_instructions(), hh_all_turns()]
    base = [t for group in itertools.zip_longest(*sources) for t in group if t]
    return [base[i % len(base)] + (f" #{i // len(base)}" if i >= len(base) else "") for i in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--texts", type=int, default=100_000)
    parser.add_argument("--out-dir", type=Path, default=None, help="shard folder (kept; reruns resume)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "span_mining.json")
    args = parser.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    texts = corpus(args.texts)
    extractor = load_extractor()  # dtype "auto": fp32 on a CPU without native bf16 (recorded below)
    config = SpanConfig()
    work = args.out_dir or Path(tempfile.mkdtemp(prefix="span-mining-"))
    try:
        start = time.perf_counter()
        mined = mine_spans(extractor, texts, work / "shards", config)
        mining = time.perf_counter() - start
        start = time.perf_counter()
        catalog = FeatureCatalog.from_spans(mined, mined.counts, extractor.provenance)
        catalog.save(work / "catalog")
        building = time.perf_counter() - start
        shard_bytes = sum(p.stat().st_size for p in (work / "shards").iterdir())
        catalog_bytes = sum(p.stat().st_size for p in (work / "catalog").rglob("*") if p.is_file())
    finally:
        if args.out_dir is None:
            shutil.rmtree(work, ignore_errors=True)
    result = {
        "texts": len(texts),
        "content_tokens": mined.counts.n_tokens,
        "config": config.model_dump(),
        "torch_threads": torch.get_num_threads(),
        "setup": extractor.backbone.setup.to_dict(),
        "mining_seconds": mining,
        "texts_per_second": len(texts) / mining,
        "tokens_per_second": mined.counts.n_tokens / mining,
        "catalog_build_and_save_seconds": building,
        "catalog_features": len(catalog),
        "shard_files_mb": shard_bytes / 2**20,
        "catalog_mb": catalog_bytes / 2**20,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "note": "mining_seconds includes loading finished shards when resuming from --out-dir",
    }
    print(json.dumps(result, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
