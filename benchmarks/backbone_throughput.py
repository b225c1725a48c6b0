"""Tokens/s of (a) the full LM-head model with output_hidden_states, (b) the truncated
backbone, (c) backbone + SAE encode + max pooling; fp32 and bf16, side by side in one run.

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/backbone_throughput.py [--texts N] [--repeats R]

Texts: AlpacaEval outputs from ../shared/data (truncated to --max-length tokens), or the demo
texts repeated when that folder is absent.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import torch
from shared_data import ALPACA_EVAL, alpaca_long_outputs

from fac_datasets.features.backbone import Backbone
from fac_datasets.features.extractor import FeatureExtractor
from fac_datasets.features.model_spec import load_causal_lm, resolve_model
from fac_datasets.features.sae_spec import resolve_sae


def load_texts(n: int) -> list[str]:
    if ALPACA_EVAL.is_file():
        texts = alpaca_long_outputs()
    else:
        from fac_datasets.demo_data import DEMO_TEXTS

        texts = [t * 20 for t in DEMO_TEXTS]
    return (texts * (n // len(texts) + 1))[:n]


def timed(fn, repeats: int) -> float:
    fn()  # warm-up
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def full_model_pass(backbone: Backbone, full, texts: list[str], layer: int) -> None:
    """Same tokenization and batching as the backbone, but the whole LM with its head."""
    tokenized = [backbone.tokenize(t) for t in texts]
    for batch in backbone.plan_batches([len(t.input_ids) for t in tokenized]):
        width = max(len(tokenized[i].input_ids) for i in batch)
        ids = torch.full((len(batch), width), backbone._pad_id)
        mask = torch.zeros_like(ids)
        for row, i in enumerate(batch):
            ids[row, : len(tokenized[i].input_ids)] = torch.tensor(tokenized[i].input_ids)
            mask[row, : len(tokenized[i].input_ids)] = 1
        with torch.inference_mode():
            full(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states[layer]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--texts", type=int, default=64)
    parser.add_argument("--max-length", type=int, default=129)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "backbone_throughput.json")
    args = parser.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    texts = load_texts(args.texts)
    sae = resolve_sae("default")
    layer = sae.cfg.layer
    results = {}
    for dtype in ("float32", "bfloat16"):
        _, full = load_causal_lm(resolve_model("default"), dtype)
        backbone = Backbone.load("default", layer, dtype, max_length=args.max_length)
        extractor = FeatureExtractor(backbone, sae)
        n_tokens = sum(sum(backbone.tokenize(t).content_mask) for t in texts)
        seconds = {
            "a_full_lm_head": timed(lambda b=backbone, f=full: full_model_pass(b, f, texts, layer), args.repeats),
            "b_truncated_backbone": timed(lambda b=backbone: [None for _ in b.iter_activations(texts)], args.repeats),
            "c_backbone_sae_pool": timed(lambda e=extractor: e.extract(texts), args.repeats),
        }
        results[dtype] = {name: n_tokens / s for name, s in seconds.items()}
        del full
    report = {
        "machine": {
            "cpu_threads": torch.get_num_threads(),
            "python": platform.python_version(),
            "torch": torch.__version__,
        },
        "setup": {
            "texts": args.texts,
            "max_length": args.max_length,
            "layer": layer,
            "d_sae": sae.d_sae,
            "k": sae.cfg.k,
            "repeats": args.repeats,
        },
        "tokens_per_second": results,
        "ratios": {
            dtype: {
                "c/b": r["c_backbone_sae_pool"] / r["b_truncated_backbone"],
                "b/a": r["b_truncated_backbone"] / r["a_full_lm_head"],
            }
            for dtype, r in results.items()
        },
        "bf16/fp32": {name: results["bfloat16"][name] / results["float32"][name] for name in results["float32"]},
    }
    print(f"{'dtype':<10}{'(a) full+head':>16}{'(b) truncated':>16}{'(c) +SAE+pool':>16}{'c/b':>8}{'b/a':>8}")
    for dtype, r in results.items():
        ratios = report["ratios"][dtype]
        print(
            f"{dtype:<10}{r['a_full_lm_head']:>16.0f}{r['b_truncated_backbone']:>16.0f}{r['c_backbone_sae_pool']:>16.0f}"
            f"{ratios['c/b']:>8.3f}{ratios['b/a']:>8.2f}"
        )
    print("bf16/fp32: " + ", ".join(f"{k} {v:.2f}" for k, v in report["bf16/fp32"].items()))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
