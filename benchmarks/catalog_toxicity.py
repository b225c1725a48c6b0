"""The feature catalog on real data: HH-RLHF harmless human turns as the toxicity anchor.

Builds a catalog from the anchor (spans in one pass with the counts), ranks features by
enrichment against the shipped reference stats, explains and verifies the top ones with the
embedded generator (twice: the second run measures the cache), and compares FAC variants on
current sets of equal size that differ in how much harm they cover. Writes
docs/catalog-example/{toxicity_features.md, coverage_variants.md, results.json}.

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/catalog_toxicity.py [--explain 20]

Reads ../shared/data (never copied into the project).
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

from shared_data import alpaca_instructions, davidson_toxic_and_neither, hh_first_human_turns

OUT = Path(__file__).resolve().parents[1] / "docs" / "catalog-example"


def current_sets(heldout: list[str], n: int, seed: int) -> dict[str, list[str]]:
    rng = random.Random(seed)
    toxic, neither = davidson_toxic_and_neither()
    instructions = alpaca_instructions()
    half = n // 2
    return {
        "HH-RLHF human turns (held out)": rng.sample(heldout, n),
        "HH held out + AlpacaEval, half each": rng.sample(heldout, half) + rng.sample(instructions, n - half),
        "Davidson offensive/hate tweets": rng.sample(toxic, n),
        "Davidson 'neither' tweets": rng.sample(neither, n),
        "AlpacaEval instructions": rng.sample(instructions, n),
    }


def feature_table(catalog, result, top: int, spans: int) -> str:
    lines = [
        f"# Top {top} toxicity features by enrichment (HH-RLHF harmless human turns vs the reference corpus)\n",
        f"Rule: {result.rule}.\n",
    ]
    for rank, (feature, z) in enumerate(zip(result.features[:top], result.z[:top], strict=True), 1):
        row = catalog.row(int(feature))
        summary = ", ".join(f"`{e['token']}` ({e['count']})" for e in row["token_summary"][:8])
        lines.append(
            f"## {rank}. feature {feature}: z {z:.1f}, anchor support {row['doc_freq']} of {result.n_anchor}, "
            f"reference {int(result.reference_doc_freq[rank - 1])} of {result.n_reference}\n"
        )
        if row["explanation"]:
            score = row["verification_score"]
            scored = f" (detection score {score:.2f})" if score is not None else ""
            lines.append(f"Explanation (embedded SmolLM2-135M): {row['explanation']}{scored}\n")
        lines.append(f"Peak tokens: {summary}\n")
        for span in row["top_spans"][:spans]:
            text = " ".join(span["text"].split()).replace("|", "\\|")
            lines.append(f"- {span['activation']:.2f}: {text}")
        lines.append("")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--anchor-size", type=int, default=2000)
    parser.add_argument("--current-size", type=int, default=200)
    parser.add_argument("--explain", type=int, default=20, help="Top enriched features to explain and verify.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", type=Path, default=Path("runs/catalog-toxicity"))
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    import torch

    from fac_datasets.catalog.catalog import FeatureCatalog
    from fac_datasets.catalog.explain import explain_features
    from fac_datasets.catalog.relevance import record
    from fac_datasets.catalog.spans import mine_spans
    from fac_datasets.catalog.verify import verify_features
    from fac_datasets.config import CoverageConfig, GeneratorConfig, RelevanceConfig
    from fac_datasets.coverage.compute import compute_coverage
    from fac_datasets.coverage.mmd import neg_mmd
    from fac_datasets.features.extractor import load_extractor
    from fac_datasets.features.reference import load_reference
    from fac_datasets.generation import load_generator
    from fac_datasets.relevance.enrichment import enrich
    from fac_datasets.relevance.resolve import relevance_from_enrichment

    torch.set_num_threads(2)
    turns = hh_first_human_turns()
    random.Random(args.seed).shuffle(turns)
    anchor_texts, heldout = turns[: args.anchor_size], turns[args.anchor_size :]
    extractor = load_extractor()
    started = time.perf_counter()
    mined = mine_spans(extractor, anchor_texts, args.work / "spans", progress=True)
    mining_seconds = time.perf_counter() - started
    catalog = FeatureCatalog.from_spans(mined, mined.counts, extractor.provenance)
    anchor_counts = mined.counts
    reference = load_reference("default", extractor.provenance)
    result = enrich(anchor_counts, reference.counts, RelevanceConfig(), reference_name="the reference corpus")
    catalog = record(
        catalog,
        "toxicity",
        "enrichment",
        {int(f): {"decision": "yes", "score": float(z)} for f, z in zip(result.features, result.z, strict=True)},
    )

    explained_ids = [int(f) for f in result.features[: args.explain]]
    generation = {}
    if explained_ids:
        config = GeneratorConfig(cache_dir=str(args.work / "generations"))
        for attempt in ("first run", "rerun (cache)"):
            with load_generator("default", config) as llm:
                began = time.perf_counter()
                catalog_x, explain_stats = explain_features(catalog, llm, explained_ids)
                catalog_x, verify_stats = verify_features(catalog_x, llm, explained_ids)
                seconds = time.perf_counter() - began
                stats = llm.stats.to_dict()
            asked = stats["calls"] + stats["cache_hits"]
            generation[attempt] = {
                "seconds": round(seconds, 1),
                "seconds_per_feature": round(seconds / len(explained_ids), 2),
                "calls": stats["calls"],
                "calls_per_feature": round(stats["calls"] / len(explained_ids), 2),
                "cache_hit_rate": round(stats["cache_hits"] / asked, 3) if asked else None,
                "explain": explain_stats.to_dict(),
                "verify": verify_stats.to_dict(),
            }
        catalog = catalog_x
    catalog.save(args.work / "catalog")

    relevant, description = relevance_from_enrichment(result)
    sets = current_sets(heldout, args.current_size, args.seed)
    rows = {name: extractor.extract_rows(texts) for name, texts in sets.items()}
    budget = int(min(r.n_tokens.sum() for r in rows.values()) * 0.9)
    table = []
    for name, texts in sets.items():
        current = rows[name]
        plain = compute_coverage(anchor_counts, current)
        task = compute_coverage(anchor_counts, current, relevant, relevance=description)
        budgeted = compute_coverage(
            anchor_counts, current, relevant, CoverageConfig(token_budget=budget), relevance=description
        )
        strict = compute_coverage(
            anchor_counts,
            current,
            relevant,
            CoverageConfig(token_budget=budget, activation_rule="quantile"),
            relevance=description,
            reference=reference,
        )
        table.append(
            {
                "current set": name,
                "texts": len(texts),
                "tokens/text": round(float(current.n_tokens.mean()), 1),
                "FAC (anchor support >= 3)": round(plain.fac, 4),
                "relevant FAC": round(task.fac, 4),
                "relevant soft FAC": round(task.variants["soft_fac"], 4),
                "relevant FAC @ token budget": round(budgeted.variants["token_budget"]["fac_mean"], 4),
                "same, median-activation rule": round(strict.variants["token_budget"]["fac_mean"], 4),
                "missing relevant": len(task.missing),
                "-MMD to anchor": round(neg_mmd(texts, anchor_texts), 4),
            }
        )
    write_outputs(args.out, catalog, result, table, budget, description, mining_seconds, generation, anchor_counts)


def write_outputs(out, catalog, result, table, budget, description, mining_seconds, generation, anchor_counts) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "toxicity_features.md").write_text(feature_table(catalog, result, 20, 3), encoding="utf-8")
    header = list(table[0])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(row[h]) for h in header) + " |" for row in table]
    (out / "coverage_variants.md").write_text(
        f"Anchor: {anchor_counts.n_docs} HH-RLHF harmless first human turns. Relevant: {description}.\n"
        f"Token budget: {budget} content tokens per set (90% of the smallest set), mean of 5 seeds.\n\n"
        + "\n".join(lines)
        + "\n",
        encoding="utf-8",
    )
    summary = {
        "anchor_texts": anchor_counts.n_docs,
        "relevant": {"n": len(result), "rule": result.rule},
        "mining_seconds": round(mining_seconds, 1),
        "generation": generation,
        "token_budget": budget,
        "coverage": table,
    }
    (out / "results.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
