"""Throughput of each baseline diversity metric on 10k texts, and how pair_cosdist's sampled
estimate behaves against the exact value on 2k texts.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/diversity_throughput.py [--texts 10000] [--exact-texts 2000]
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/diversity_throughput.py --newer [--texts 10000] [--g-vendi-texts 200]

`--newer` times only NovelSum, DCScore (embed + their own step, on --texts) and G-Vendi (a proxy
model's forward and backward per text, so measured on --g-vendi-texts texts) and writes
benchmarks/results/diversity_throughput_newer.json.

Texts: a seeded sample of tweets from ../shared/data/davidson_hate_offensive.csv.gz (column
`tweet`). Model loading is timed apart from computing. The three embedding metrics share one
embedding pass, so each is reported as embedding time + its own step, and the steps apart.
Writes benchmarks/results/diversity_throughput.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
from shared_data import DAVIDSON

from fac_datasets.config import GVendiConfig
from fac_datasets.diversity import ngrams
from fac_datasets.diversity.dcscore import dcscore_of_embeddings
from fac_datasets.diversity.embeddings import embed, load_embedder
from fac_datasets.diversity.g_vendi import g_vendi, load_proxy
from fac_datasets.diversity.novelsum import novelsum_of_embeddings
from fac_datasets.diversity.pairwise import mean_pairwise_cosine_distance, sample_indices
from fac_datasets.diversity.pos import load_tagger, pos_tags
from fac_datasets.diversity.semantic import semantic_entropy_of_embeddings
from fac_datasets.diversity.vendi import vendi_of_embeddings
from fac_datasets.inputs import read_texts

OUT = Path(__file__).resolve().parent / "results" / "diversity_throughput.json"


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    value = fn(*args, **kwargs)
    return value, time.perf_counter() - start


def throughput(texts: list[str]) -> dict:
    n = len(texts)
    _, load_tagger_s = timed(load_tagger)
    _, load_embedder_s = timed(load_embedder)
    rows = {}
    tokens, tok_s = timed(lambda: [ngrams.tokenize(t) for t in texts])
    d, d_s = timed(lambda: {k: ngrams.distinct_of_tokens(tokens, k) for k in (1, 2)})
    rows["distinct_n (1 and 2)"] = tok_s + d_s
    e, e_s = timed(lambda: ngrams.entropy_of_counts(ngrams.ngram_counts(tokens, 2)))
    rows["ngram_entropy (n=2)"] = tok_s + e_s
    tags, tag_s = timed(pos_tags, texts)
    p, p_s = timed(ngrams.distinct_of_tokens, tags, 2)
    rows["pos_distinct (n=2)"] = tag_s + p_s
    vectors, embed_s = timed(embed, texts)
    pc, pc_s = timed(mean_pairwise_cosine_distance, vectors)
    se, se_s = timed(semantic_entropy_of_embeddings, vectors)
    vs, vs_s = timed(vendi_of_embeddings, vectors)
    rows["pair_cosdist (exact, embed + O(nd))"] = embed_s + pc_s
    rows["semantic_entropy (embed + clustering)"] = embed_s + se_s
    rows["vendi (embed + eigendecomposition)"] = embed_s + vs_s
    return {
        "n_texts": n,
        "mean_word_tokens": sum(map(len, tokens)) / n,
        "load_seconds": {"spacy_tagger": load_tagger_s, "minilm": load_embedder_s},
        "metrics": {name: {"seconds": s, "texts_per_s": n / s} for name, s in rows.items()},
        "steps_seconds": {
            "word tokenize": tok_s,
            "spaCy tagging": tag_s,
            "MiniLM embedding": embed_s,
            "pairwise mean (given embeddings)": pc_s,
            "complete-linkage clustering (given embeddings)": se_s,
            "Vendi eigenvalues (given embeddings)": vs_s,
        },
        "values": {
            "distinct_1": d[1],
            "distinct_2": d[2],
            "entropy_2": e,
            "pos_distinct_2": p,
            "pair_cosdist": pc,
            "semantic_entropy": se.semantic_entropy,
            "meaning_clusters": se.n_clusters,
            "vendi": vs,
        },
        "embeddings": vectors,
    }


def newer_throughput(texts: list[str], g_vendi_texts: int) -> dict:
    """NovelSum (density against the texts themselves) and DCScore on all texts; G-Vendi on a prefix."""
    n = len(texts)
    _, load_embedder_s = timed(load_embedder)
    _, load_proxy_s = timed(load_proxy, GVendiConfig.default_of("model"))
    vectors, embed_s = timed(embed, texts)
    ns, ns_s = timed(novelsum_of_embeddings, vectors, vectors)
    dc, dc_s = timed(dcscore_of_embeddings, vectors)
    few = texts[:g_vendi_texts]
    gv, gv_s = timed(g_vendi, few)
    rows = {
        f"novelsum (embed + {n} x {n} ranked rows + kNN density)": (n, embed_s + ns_s),
        f"dcscore (embed + {n} x {n} row softmax)": (n, embed_s + dc_s),
        f"g_vendi (SmolLM2 forward + backward, last block; on {len(few)} texts)": (len(few), gv_s),
    }
    return {
        "n_texts": n,
        "g_vendi_texts": len(few),
        "load_seconds": {"minilm": load_embedder_s, "smollm2_proxy": load_proxy_s},
        "metrics": {name: {"n_texts": k, "seconds": s, "texts_per_s": k / s} for name, (k, s) in rows.items()},
        "steps_seconds": {
            "MiniLM embedding": embed_s,
            "NovelSum (given embeddings)": ns_s,
            "DCScore (given embeddings)": dc_s,
        },
        "values": {"novelsum": ns.novelsum, "dcscore": dc, "g_vendi": gv.g_vendi, "g_vendi_n_params": gv.n_params},
    }


def sampling_error(vectors: np.ndarray, sizes: list[int], seeds: int) -> dict:
    """Sampled estimates use exactly the texts pair_cosdist(sample_size=m, seed=s) would embed."""
    exact = mean_pairwise_cosine_distance(vectors)
    out = {"n_texts": len(vectors), "exact": exact, "seeds": seeds, "by_sample_size": {}}
    for m in sizes:
        estimates = [mean_pairwise_cosine_distance(vectors[sample_indices(len(vectors), m, s)]) for s in range(seeds)]
        errors = [abs(x - exact) for x in estimates]
        out["by_sample_size"][m] = {
            "mean_estimate": statistics.fmean(estimates),
            "bias": statistics.fmean(estimates) - exact,
            "std": statistics.stdev(estimates),
            "mean_abs_error": statistics.fmean(errors),
            "max_abs_error": max(errors),
            "max_rel_error": max(errors) / exact,
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=10_000)
    parser.add_argument("--exact-texts", type=int, default=2_000)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--newer", action="store_true", help="Time only NovelSum, DCScore and G-Vendi.")
    parser.add_argument("--g-vendi-texts", type=int, default=200)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    _, texts = read_texts(DAVIDSON, "tweet", chat=False, blank=False, max_texts=args.texts, seed=0)
    if args.newer:
        report_newer(texts, args.g_vendi_texts, torch.get_num_threads())
        return
    result = throughput(texts)
    vectors = result.pop("embeddings")
    sizes = [m for m in (50, 100, 200, 500, 1000) if m < args.exact_texts]
    sampling = sampling_error(vectors[: args.exact_texts], sizes, args.seeds)
    record = {
        "command": "OMP_NUM_THREADS=1 .venv/bin/python benchmarks/diversity_throughput.py",
        "data": f"{DAVIDSON.name} column 'tweet', seeded sample (seed 0)",
        "machine": {
            "cpus": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "python": platform.python_version(),
        },
        "throughput": result,
        "pair_cosdist_sampling": sampling,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(record, indent=2) + "\n")

    print(
        f"{result['n_texts']} tweets, {result['mean_word_tokens']:.1f} word tokens each; model load: "
        + ", ".join(f"{k} {v:.1f} s" for k, v in result["load_seconds"].items())
    )
    print(f"{'metric':<42} {'seconds':>9} {'texts/s':>10}")
    for name, row in result["metrics"].items():
        print(f"{name:<42} {row['seconds']:>9.2f} {row['texts_per_s']:>10.0f}")
    print("\nsteps: " + ", ".join(f"{k} {v:.2f} s" for k, v in result["steps_seconds"].items()))
    print(f"\npair_cosdist on {sampling['n_texts']} texts: exact {sampling['exact']:.4f}; {args.seeds} seeds per size")
    print(f"{'sample':>7} {'bias':>9} {'std':>8} {'mean|err|':>10} {'max|err|':>9} {'max rel':>8}")
    for m, row in sampling["by_sample_size"].items():
        print(
            f"{m:>7} {row['bias']:>+9.4f} {row['std']:>8.4f} {row['mean_abs_error']:>10.4f} "
            f"{row['max_abs_error']:>9.4f} {row['max_rel_error']:>8.2%}"
        )
    print(f"\nwrote {OUT}")


def report_newer(texts: list[str], g_vendi_texts: int, threads: int) -> None:
    result = newer_throughput(texts, g_vendi_texts)
    out = OUT.with_name("diversity_throughput_newer.json")
    record = {
        "command": "OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/diversity_throughput.py --newer "
        f"--texts {len(texts)} --g-vendi-texts {g_vendi_texts}",
        "data": f"{DAVIDSON.name} column 'tweet', seeded sample (seed 0); G-Vendi on its first {g_vendi_texts}",
        "machine": {"cpus": os.cpu_count(), "torch_threads": threads, "python": platform.python_version()},
        "throughput": result,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2) + "\n")
    print("model load: " + ", ".join(f"{k} {v:.1f} s" for k, v in result["load_seconds"].items()))
    print(f"{'metric':<72} {'texts':>6} {'seconds':>9} {'texts/s':>9}")
    for name, row in result["metrics"].items():
        print(f"{name:<72} {row['n_texts']:>6} {row['seconds']:>9.2f} {row['texts_per_s']:>9.2f}")
    print("steps: " + ", ".join(f"{k} {v:.2f} s" for k, v in result["steps_seconds"].items()))
    print(f"values: {result['values']}\nwrote {out}")


if __name__ == "__main__":
    main()
