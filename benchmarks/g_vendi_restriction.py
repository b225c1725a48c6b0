"""Does restricting G-Vendi's gradient to the last decoder block change how it ranks subsets?

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/g_vendi_restriction.py [--quick]

Subsets of Davidson tweets with graded diversity (a share of each subset repeats a few tweets;
seeded) are scored by G-Vendi under several gradient restrictions / projections; the Spearman
correlation of each restriction's ranking with the largest subset's ranking says how much the
CPU restriction costs. Per-text gradients are computed once per setting over the union of the
subsets' texts (G-Vendi of a subset only needs its rows). Writes
benchmarks/results/g_vendi_restriction.json (g_vendi_restriction_quick.json with --quick).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import time
from pathlib import Path

from scipy.stats import spearmanr
from shared_data import DAVIDSON, davidson_tweets

from fac_datasets.config import GVendiConfig
from fac_datasets.diversity.g_vendi import g_vendi_of_gradients, load_proxy, projected_gradients

RESULTS = Path(__file__).resolve().parent / "results"


def graded_subsets(pool: list[str], n_subsets: int, size: int, seed: int = 0) -> list[list[str]]:
    """Subset s repeats 3 tweets over a share s / n_subsets of its rows: diversity falls with s."""
    rng = random.Random(seed)
    subsets = []
    for s in range(n_subsets):
        rows = rng.sample(pool, size)
        few = rng.sample(pool, 3)
        repeated = round(size * s / n_subsets)
        subsets.append(rows[: size - repeated] + [few[i % 3] for i in range(repeated)])
    return subsets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 subsets of 6 tweets, blocks 1 vs 2: shows it runs.")
    parser.add_argument("--subsets", type=int, default=8)
    parser.add_argument("--size", type=int, default=40)
    parser.add_argument("--large-blocks", type=int, default=4, help="The larger parameter subset compared against.")
    parser.add_argument("--dense", action="store_true", help="Also score the 1-block subset with the dense projection.")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    n_subsets, size, large = (3, 6, 2) if args.quick else (args.subsets, args.size, args.large_blocks)
    dim = 256 if args.quick else GVendiConfig.default_of("projection_dim")
    subsets = graded_subsets(davidson_tweets(), n_subsets, size)
    texts = sorted({t for subset in subsets for t in subset})
    index = {t: i for i, t in enumerate(texts)}
    settings = {f"blocks={large} sparse": GVendiConfig(blocks=large, projection_dim=dim)}
    settings["blocks=1 sparse"] = GVendiConfig(blocks=1, projection_dim=dim)
    if args.dense:
        settings["blocks=1 dense"] = GVendiConfig(blocks=1, projection_dim=dim, projection="dense")
    start = time.perf_counter()
    proxy = load_proxy(GVendiConfig.default_of("model"))
    load_s = time.perf_counter() - start
    scores, seconds, params = {}, {}, {}
    for name, config in settings.items():
        start = time.perf_counter()
        grads, params[name] = projected_gradients(texts, config, proxy)
        seconds[name] = time.perf_counter() - start
        scores[name] = [g_vendi_of_gradients(grads[[index[t] for t in subset]]) for subset in subsets]
    reference = next(iter(settings))
    spearman = {name: float(spearmanr(scores[reference], values).statistic) for name, values in scores.items()}
    record = {
        "command": "OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/g_vendi_restriction.py"
        + (" --quick" if args.quick else ""),
        "data": f"{DAVIDSON.name} column 'tweet'; {n_subsets} subsets of {size}, subset s repeats 3 tweets "
        f"over s/{n_subsets} of its rows",
        "machine": {
            "cpus": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "python": platform.python_version(),
        },
        "n_unique_texts": len(texts),
        "proxy_load_seconds": load_s,
        "reference_setting": reference,
        "settings": {
            name: {
                "n_params": params[name],
                "seconds": seconds[name],
                "texts_per_s": len(texts) / seconds[name],
                "g_vendi": scores[name],
                "spearman_vs_reference": spearman[name],
            }
            for name in settings
        },
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / ("g_vendi_restriction_quick.json" if args.quick else "g_vendi_restriction.json")
    out.write_text(json.dumps(record, indent=2) + "\n")
    names = list(settings)
    print(f"{len(texts)} distinct tweets in {n_subsets} subsets of {size}; proxy load {load_s:.1f} s")
    print(f"{'subset (repeated share)':<24}" + "".join(f"{n:>20}" for n in names))
    for s in range(n_subsets):
        print(f"{s} ({s}/{n_subsets}){'':<17}"[:24] + "".join(f"{scores[n][s]:>20.3f}" for n in names))
    print(f"{'weights in gradient':<24}" + "".join(f"{params[n]:>20,}" for n in names))
    print(f"{'texts/s':<24}" + "".join(f"{len(texts) / seconds[n]:>20.2f}" for n in names))
    print(f"{'Spearman vs ' + reference:<24}"[:24] + "".join(f"{spearman[n]:>20.3f}" for n in names))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
