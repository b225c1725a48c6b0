"""Do bf16 and fp32 give the same features? Agreement on real text, and the FAC difference.

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/dtype_agreement.py [--per-source 200]

Texts (from ../shared/data, not part of the project): AlpacaEval instructions, Davidson tweets
and the first human turn of HH-RLHF harmless dialogues, `--per-source` of each (seeded sample).
Three setups on the embedded default (layer 15, default SAE, threshold 0):
  fp32                 backbone and SAE in float32 (the reference)
  bf16 (SAE fp32)      bfloat16 backbone, hidden states cast to float32 before the SAE
  bf16 (SAE bf16)      bfloat16 backbone and SAE (what `FeatureExtractor` runs in bf16)
Per text: Jaccard of the active feature sets against fp32. FAC: the `fac coverage` example
(anchor = all 805 AlpacaEval instructions, current = a seeded 5% of them), in each setup.
bf16 numerics are the same whether bf16 is native or emulated, so this runs on any CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from shared_data import alpaca_instructions, davidson_tweets, hh_first_human_turns

from fac_datasets.coverage.compute import compute_coverage
from fac_datasets.features.counts import FeatureCounts
from fac_datasets.features.extractor import load_extractor, pool_max
from fac_datasets.features.rows import FeatureRows


def load_sources(per_source: int, seed: int) -> dict[str, list[str]]:
    rng = random.Random(seed)
    alpaca, tweets, turns = alpaca_instructions(), davidson_tweets(), hh_first_human_turns()
    return {
        "alpaca_eval": rng.sample(alpaca, per_source),
        "davidson_tweets": rng.sample(tweets, per_source),
        "hh_rlhf_turns": rng.sample(turns, per_source),
    }


def features(extractor, texts: list[str], sae_dtype: torch.dtype) -> list[tuple[list[int], list[float]]]:
    """Per text (features, activations) with the SAE run in `sae_dtype` on the backbone's states."""
    sae = extractor.sae if sae_dtype == torch.float32 else _cast(extractor.sae, sae_dtype)
    out: list = [None] * len(texts)
    for batch in extractor.backbone.iter_activations(texts, reference_norm=extractor.sae.cfg.reference_norm):
        acts, ids = sae.encode(batch.hidden.to(sae_dtype))
        pooled = pool_max(batch.sample_ids, acts, ids, len(batch.indices), sae.d_sae).float()
        values, order = pooled.sort(dim=1, descending=True)
        n_active = (values > extractor.threshold).sum(dim=1).tolist()
        for row, index in enumerate(batch.indices):
            out[index] = (order[row, : n_active[row]].tolist(), values[row, : n_active[row]].tolist())
    return out


_CAST: dict = {}


def _cast(sae, dtype):
    import copy

    if dtype not in _CAST:
        _CAST[dtype] = copy.deepcopy(sae).to(dtype)
    return _CAST[dtype]


def jaccard(a: list[int], b: list[int]) -> float:
    sa, sb = set(a), set(b)
    return 1.0 if not sa and not sb else len(sa & sb) / len(sa | sb)


def fac_of(extractor, results, anchor_ids: list[int], current_ids: list[int]) -> float:
    def rows(ids):
        return FeatureRows.from_lists([results[i][0] for i in ids], [results[i][1] for i in ids])

    anchor = FeatureCounts.from_rows(rows(anchor_ids), extractor.sae.d_sae, extractor.provenance)
    return compute_coverage(anchor, rows(current_ids)).fac


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-source", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "dtype_agreement.json")
    args = parser.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    sources = load_sources(args.per_source, args.seed)
    alpaca_all = alpaca_instructions()
    current = sorted(random.Random(args.seed).sample(range(len(alpaca_all)), len(alpaca_all) // 20))
    texts = [t for group in sources.values() for t in group] + alpaca_all
    setups = {}
    started = time.perf_counter()
    fp32_extractor = load_extractor(dtype="float32")
    setups["fp32"] = features(fp32_extractor, texts, torch.float32)
    bf16_extractor = load_extractor(dtype="bfloat16")
    setups["bf16 (SAE fp32)"] = features(bf16_extractor, texts, torch.float32)
    setups["bf16 (SAE bf16)"] = features(bf16_extractor, texts, torch.bfloat16)
    reference = setups["fp32"]
    report: dict = {"per_source": args.per_source, "seed": args.seed, "setups": {}}
    n_sampled = sum(len(g) for g in sources.values())
    anchor_ids = list(range(n_sampled, len(texts)))
    current_ids = [n_sampled + i for i in current]
    fac_reference = fac_of(fp32_extractor, reference, anchor_ids, current_ids)
    for name, result in setups.items():
        entry: dict = {"sources": {}}
        offset = 0
        all_j = []
        for source, group in sources.items():
            scores = [jaccard(reference[offset + i][0], result[offset + i][0]) for i in range(len(group))]
            all_j += scores
            entry["sources"][source] = {
                "mean_jaccard": statistics.fmean(scores),
                "min_jaccard": min(scores),
                "p5_jaccard": float(np.percentile(scores, 5)),
                "mean_features": statistics.fmean(len(result[offset + i][0]) for i in range(len(group))),
            }
            offset += len(group)
        entry["mean_jaccard"] = statistics.fmean(all_j)
        entry["min_jaccard"] = min(all_j)
        entry["fac_example"] = fac_of(fp32_extractor, result, anchor_ids, current_ids)
        entry["fac_difference"] = entry["fac_example"] - fac_reference
        report["setups"][name] = entry
    report["seconds"] = time.perf_counter() - started
    print(f"{'setup':<18}{'mean J':>8}{'min J':>8}  per source (mean/min)" + " " * 40 + "FAC example   dFAC")
    for name, entry in report["setups"].items():
        per = "  ".join(f"{s} {v['mean_jaccard']:.3f}/{v['min_jaccard']:.3f}" for s, v in entry["sources"].items())
        print(
            f"{name:<18}{entry['mean_jaccard']:>8.3f}{entry['min_jaccard']:>8.3f}  {per}  "
            f"{entry['fac_example']:.4f}  {entry['fac_difference']:+.4f}"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
