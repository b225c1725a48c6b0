"""Targeted (FAC) vs untargeted synthesis at equal generator budget: FAC, soft FAC and a downstream score.

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/targeted_synthesis.py [--budget 24] [--seeds 0 1 2]

The validation study's part 4, on toxicity (the task whose downstream metric is cheapest to trust):
- data: Davidson tweets from ../shared/data (offensive + hate = toxic), read at run time;
  anchor = `--anchor` toxic tweets; relevance = their enrichment against as many clean tweets (the
  contrast set: enrichment against general text would pick up the Twitter genre, which clean tweets
  share); current = the `--current-toxic` *shortest* toxic tweets of another draw (a narrow slice of the
  anchor's toxicity) plus `--current-clean` clean ones; test = a held-out label-balanced set;
- targeted: `synthesize(..., "toxicity")` from the anchor and the current toxic tweets, i.e. missing
  relevant features, contrastive pairs, every sample SAE-verified;
- untargeted: "write one new message like these" with 5 random anchor tweets per call (the same
  information source, no targeting), every output kept as a toxic example;
- both: the embedded generator, `--budget` calls per seed, the same novelty filter (anchor, current and
  earlier kept samples), kept samples added to the current set with label 1;
- measured: FAC and soft FAC of the toxic class (current toxic + kept) over the same relevant features at
  the current toxic tweets' token budget, with the default and the strict (per-feature quantile) rule,
  and the AUPRC of the frozen-state toxicity probe (`fac eval-downstream`'s) trained on current + kept.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import random
import time
from pathlib import Path

import numpy as np
import torch
from shared_data import DAVIDSON
from synthesis_baselines import first_line, novel_only

from fac_datasets.catalog.build import catalog_from_texts, enrichment_relevance
from fac_datasets.config import CoverageConfig, GenerationParams, GeneratorConfig, SynthesisConfig
from fac_datasets.coverage.compute import compute_coverage
from fac_datasets.downstream.data import LabelledTexts, balanced_sample, read_davidson
from fac_datasets.downstream.toxicity import toxicity_probe
from fac_datasets.features.counts import FeatureCounts
from fac_datasets.features.extractor import load_extractor
from fac_datasets.generation import load_generator
from fac_datasets.relevance.rule import catalog_relevant
from fac_datasets.synthesis.api import synthesize

TASK = "toxicity"
MAX_NEW_TOKENS = 96  # tweets are short
FIGURES = (
    "fac",
    "fac_soft",
    "fac_token_budget",
    "fac_strict",
    "fac_soft_strict",
    "fac_token_budget_strict",
    "auprc",
)
PLAIN_PROMPT = (
    "Here are some toxic messages people posted online:\n{examples}\n\n"
    "Write one new toxic message, different from these, in the same style. Reply with the message only."
)


def split_data(n_anchor: int, n_current_toxic: int, n_current_clean: int, n_test: int, seed: int = 0):
    """Disjoint draws from the Davidson file: (anchor toxic, contrast clean, current toxic, current clean, test).

    The current toxic tweets are the shortest quarter of a draw: a narrow slice of the anchor's toxicity.
    """
    data = read_davidson(DAVIDSON)
    order = np.random.default_rng(seed).permutation(len(data.texts))
    toxic = [data.texts[i] for i in order if data.labels[i] == 1]
    clean = [data.texts[i] for i in order if data.labels[i] == 0]
    anchor, contrast = toxic[:n_anchor], clean[:n_anchor]
    pool = toxic[n_anchor : n_anchor + 4 * n_current_toxic]
    current_toxic = sorted(pool, key=len)[:n_current_toxic]
    current_clean = clean[n_anchor : n_anchor + n_current_clean]
    rest_toxic, rest_clean = toxic[n_anchor + 4 * n_current_toxic :], clean[n_anchor + n_current_clean :]
    held_out = LabelledTexts(rest_toxic + rest_clean, [1] * len(rest_toxic) + [0] * len(rest_clean), "davidson")
    return anchor, contrast, current_toxic, current_clean, balanced_sample(held_out, n_test // 2, seed)


def untargeted(generator, anchor: list[str], budget: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    conversations = [
        [{"role": "user", "content": PLAIN_PROMPT.format(examples="\n".join(f"- {t}" for t in rng.sample(anchor, 5)))}]
        for _ in range(budget)
    ]
    params = GenerationParams(
        max_new_tokens=MAX_NEW_TOKENS, temperature=SynthesisConfig.default_of("temperature"), seed=seed
    )
    return [t for t in (first_line(a.text) for a in generator.generate(conversations, params)) if t]


def figures(extractor, anchor_rows, anchor_counts, relevant, positives, kept, negatives, test) -> dict:
    """FAC of the toxic class (current positives + kept) at the positives' token budget, default and strict
    rule, and the probe's AUPRC trained on positives + kept (1) and the current clean tweets (0)."""
    rows = extractor.extract_rows(positives + kept)
    tokens = int(extractor.extract_rows(positives).n_tokens.sum())
    out = {}
    for name, rule in (("", "any"), ("_strict", "quantile")):
        config = CoverageConfig(token_budget=tokens, activation_rule=rule)
        report = compute_coverage(anchor_counts, rows, relevant, config, anchor_rows=anchor_rows)
        out[f"fac{name}"], out[f"fac_soft{name}"] = report.fac, report.variants["soft_fac"]
        out[f"fac_token_budget{name}"] = report.variants["token_budget"]["fac_mean"]
    train = LabelledTexts(positives + kept + negatives, [1] * (len(positives) + len(kept)) + [0] * len(negatives))
    out["auprc"] = toxicity_probe(train, test).value
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=int, default=24, help="generator calls per method and seed")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument(
        "--anchor", type=int, default=1000, help="toxic anchor tweets (and as many clean contrast ones)"
    )
    parser.add_argument("--current-toxic", type=int, default=20)
    parser.add_argument("--current-clean", type=int, default=60)
    parser.add_argument("--test", type=int, default=400)
    parser.add_argument("--out", type=Path, default=Path("runs/targeted-synthesis"))
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/targeted_synthesis.json"))
    args = parser.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    start = time.perf_counter()

    anchor, contrast, positives, negatives, test = split_data(
        args.anchor, args.current_toxic, args.current_clean, args.test
    )
    extractor = load_extractor()
    catalog, mined = catalog_from_texts(extractor, anchor, args.out / "anchor-spans")
    anchor_counts, anchor_rows = mined.counts, extractor.extract_rows(anchor)
    contrast_counts = FeatureCounts.from_rows(
        extractor.extract_rows(contrast), extractor.sae.d_sae, extractor.provenance
    )
    catalog, _ = enrichment_relevance(catalog, anchor_counts, contrast_counts, TASK, reference_name="clean tweets")
    relevant = catalog_relevant(catalog, TASK)
    generator = load_generator("default", GeneratorConfig(cache_dir=str(args.out / "generations")))
    measure = functools.partial(figures, extractor, anchor_rows, anchor_counts, relevant, positives)
    before = measure([], negatives, test)
    print(json.dumps({"relevant": len(relevant), "before": before}), flush=True)

    runs, kept_texts = [], {}
    for seed in args.seeds:
        for method in ("targeted", "untargeted"):
            calls_before = generator.stats.calls + generator.stats.cache_hits
            if method == "targeted":
                config = SynthesisConfig(budget=args.budget, max_new_tokens=MAX_NEW_TOKENS, seed=seed)
                result = synthesize(
                    anchor,
                    positives,
                    TASK,
                    extractor=extractor,
                    generator=generator,
                    catalog=catalog,
                    config=config,
                    out_dir=args.out / f"targeted-seed{seed}",
                    resume=True,
                )
                kept = list(result.accepted["sae_text"])  # SAE- and novelty-filtered by the loop
                calls = result.report["calls"]["total"]  # a resumed run's calls include the earlier ones
            else:
                kept = novel_only(untargeted(generator, anchor, args.budget, seed), anchor + positives)
                calls = generator.stats.calls + generator.stats.cache_hits - calls_before
            row = {"method": method, "seed": seed, "calls": calls, "kept": len(kept)}
            row.update(measure(kept, negatives, test))
            row["examples"] = kept[:3]
            runs.append(row)
            kept_texts[f"{method}-seed{seed}"] = kept
            print(json.dumps(row), flush=True)

    mean = {
        method: {
            key: round(float(np.mean([r[key] for r in runs if r["method"] == method])), 4)
            for key in ("calls", "kept", *FIGURES)
        }
        for method in ("targeted", "untargeted")
    }
    summary = {
        "task": TASK,
        "budget": args.budget,
        "seeds": args.seeds,
        "sizes": {
            "anchor": len(anchor),
            "contrast": len(contrast),
            "current_toxic": len(positives),
            "current_clean": len(negatives),
            "test": len(test.texts),
        },
        "relevance": "enrichment of the anchor against the contrast clean tweets",
        "relevant_features": len(relevant),
        "before": before,
        "runs": runs,
        "mean": mean,
        "seconds": round(time.perf_counter() - start, 1),
    }
    (args.out / "kept.json").write_text(json.dumps(kept_texts, indent=1, ensure_ascii=False))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(summary, indent=2))
    print(json.dumps({k: summary[k] for k in ("before", "mean", "seconds")}, indent=2))


if __name__ == "__main__":
    main()
