"""c/b: what the SAE and pooling cost on top of the truncated backbone, per dtype, interleaved.

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/sae_overhead.py [--texts 64] [--repeats 3]

(b) `Backbone.iter_activations` and (c) `FeatureExtractor.extract` on the backbone benchmark's texts
(64 AlpacaEval outputs cut to 129 tokens), run alternately b, c, b, c... so both see the same
machine load (this machine is shared); median per step. In bf16 the SAE encodes in bf16 only where
bf16 is native (`features.extractor.encoder_for`); here (AVX2) it stays fp32.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import torch
from shared_data import alpaca_long_outputs

from fac_datasets.features.extractor import load_extractor


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--texts", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dtypes", nargs="+", default=["float32", "bfloat16"])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "sae_overhead.json")
    args = parser.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    texts = alpaca_long_outputs()[: args.texts]
    report = {"texts": len(texts), "threads": torch.get_num_threads(), "dtypes": {}}
    for dtype in args.dtypes:
        extractor = load_extractor(dtype=dtype, max_length=129)
        backbone = extractor.backbone
        n_tokens = sum(r.n_tokens for r in extractor.extract(texts))  # also the warm-up
        steps = {
            "b": lambda b=backbone: [None for _ in b.iter_activations(texts)],
            "c": lambda e=extractor: e.extract(texts),
        }
        seconds: dict[str, list[float]] = {"b": [], "c": []}
        for _ in range(args.repeats):
            for name, step in steps.items():
                start = time.perf_counter()
                step()
                seconds[name].append(time.perf_counter() - start)
        rates = {name: n_tokens / statistics.median(runs) for name, runs in seconds.items()}
        report["dtypes"][dtype] = {
            "b_tokens_per_second": rates["b"],
            "c_tokens_per_second": rates["c"],
            "c/b": rates["c"] / rates["b"],
            "sae_dtype": str(extractor.encoder.W_enc.dtype),
            "seconds": seconds,
        }
        print(f"{dtype:<9} (b) {rates['b']:7.0f} tok/s  (c) {rates['c']:7.0f} tok/s  c/b {rates['c'] / rates['b']:.3f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
