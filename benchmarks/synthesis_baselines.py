"""FAC synthesis against the baselines the paper compares with, at the same generator budget, in one run.

    .venv/bin/python benchmarks/synthesis_baselines.py [--budget 48] [--seeds 0] [--out DIR]
    .venv/bin/python benchmarks/synthesis_baselines.py --speed-only 8 16    # generation tok/s only

Setup = the demo's: anchor = the 80 MT-Bench questions, current = its writing/roleplay/humanities
questions, the embedded SmolLM2-135M-Instruct as the generator for every method, the shipped SAE.
Each method gets `--budget` generator calls:
- fac: `synthesize` (feature-targeted, SAE-filtered), every missing anchor feature in order;
- plain: "write one new question like these" with 5 random current questions per call;
- self_instruct, evol_instruct, magpie: distilabel's own tasks over the same generator
  (`FacGeneratorLLM`), seeded from the current questions (Magpie needs none).
Every method's output then passes the same novelty filter (word 3-gram Jaccard against anchor,
current and the method's earlier kept samples, SynthesisConfig's threshold); the kept samples are
added to the current set and FAC is measured three ways: the default rule (binary, no token
budget), the synthesis report's token-budget FAC (the current set's tokens), and the strict
per-feature threshold rule (activation_rule='quantile'). Also: generation tok/s batched vs single.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from pathlib import Path

import numpy as np
import torch

from fac_datasets.config import CoverageConfig, GenerationParams, RelevanceConfig, SynthesisConfig
from fac_datasets.coverage.compute import compute_coverage
from fac_datasets.demo_data import DEMO_CATEGORIES, mtbench_questions
from fac_datasets.features.counts import FeatureCounts
from fac_datasets.features.extractor import load_extractor
from fac_datasets.pipelines.llm import FacGeneratorLLM
from fac_datasets.synthesis.api import _concat_rows, synthesize
from fac_datasets.synthesis.novelty import NoveltyIndex

METHODS = ("fac", "plain", "self_instruct", "evol_instruct", "magpie")
MAX_NEW_TOKENS = 128  # as the demo: MT-Bench-like questions are short
PLAIN_PROMPT = (
    "Here are some questions users asked an AI assistant:\n{examples}\n\n"
    "Write one new question, different from these, that a user might ask. Reply with the question only."
)
MAGPIE_SYSTEM = "You are a helpful AI assistant. Users ask you questions and give you tasks of every kind."


def first_line(text: str | None) -> str | None:
    """A question from a free-form answer: its first non-empty line, without list markers or quotes."""
    for line in (text or "").splitlines():
        line = line.strip().lstrip("-*0123456789.) ").strip().strip('"').strip()
        if len(line.split()) >= 3:
            return line
    return None


def run_plain(llm: FacGeneratorLLM, current: list[str], budget: int, seed: int) -> list[str | None]:
    rng = random.Random(seed)
    conversations = []
    for _ in range(budget):
        shown = "\n".join(f"- {q}" for q in rng.sample(current, 5))
        conversations.append([{"role": "user", "content": PLAIN_PROMPT.format(examples=shown)}])
    outputs = llm.generate(conversations, max_new_tokens=MAX_NEW_TOKENS, temperature=_temperature(), seed=seed)
    return [first_line(o["generations"][0]) for o in outputs]


def _temperature() -> float:
    return SynthesisConfig.default_of("temperature")


def _seeds(current: list[str], budget: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [rng.choice(current) for _ in range(budget)]


def run_distilabel(task, rows: list[dict], column: str) -> list[str | None]:
    task.load()
    out: list[str | None] = []
    for batch in task.process(rows):
        for row in batch:
            value = row.get(column)
            out.extend(value if isinstance(value, list) else [value])
    return [first_line(v) if v else None for v in out]


def generation_kwargs(seed: int) -> dict:
    return {"max_new_tokens": MAX_NEW_TOKENS, "temperature": _temperature(), "seed": seed}


def run_method(name: str, llm, magpie_llm, anchor, current, budget, seed, extractor, out: Path) -> dict:
    from distilabel.steps.tasks import EvolInstruct, Magpie, SelfInstruct

    before = {**llm.stats}
    start = time.perf_counter()
    if name == "fac":
        config = SynthesisConfig(budget=budget, max_new_tokens=MAX_NEW_TOKENS, seed=seed, max_features=None)
        result = synthesize(
            anchor,
            current,
            "instruction_following",
            extractor=extractor,
            generator=llm.generator,
            config=config,
            out_dir=out / f"fac-budget{budget}-seed{seed}",
            resume=True,
            progress=True,
            relevance=RelevanceConfig(method="anchor-support"),
        )
        texts = list(result.accepted["sae_text"])
        produced = len(result.dataset)
        calls = result.report["calls"]["total"]
        kept = texts  # the loop already applied the novelty filter (and the SAE filter)
    else:
        if name == "plain":
            raw = run_plain(llm, current, budget, seed)
        elif name == "self_instruct":
            llm.generation_kwargs = generation_kwargs(seed)
            task = SelfInstruct(llm=llm, application_description="AI assistant answering user questions")
            raw = run_distilabel(task, [{"input": q} for q in _seeds(current, budget, seed)], "instructions")
        elif name == "evol_instruct":
            llm.generation_kwargs = generation_kwargs(seed)
            task = EvolInstruct(llm=llm, num_evolutions=1, seed=seed)
            raw = run_distilabel(
                task, [{"instruction": q} for q in _seeds(current, budget, seed)], "evolved_instruction"
            )
        elif name == "magpie":
            magpie_llm.generation_kwargs = generation_kwargs(seed)
            task = Magpie(llm=magpie_llm, only_instruction=True)
            raw = run_distilabel(task, [{"system_prompt": MAGPIE_SYSTEM}] * budget, "instruction")
        else:
            raise ValueError(name)
        calls = (llm.stats["calls"] + llm.stats["cache_hits"]) - (before["calls"] + before["cache_hits"])
        produced = sum(t is not None for t in raw)
        kept = novel_only([t for t in raw if t], anchor + current)
    return {
        "method": name,
        "seed": seed,
        "calls": calls,
        "produced": produced,
        "kept": kept,
        "seconds": round(time.perf_counter() - start, 1),
    }


def novel_only(texts: list[str], reference: list[str]) -> list[str]:
    """SynthesisConfig's novelty filter: drop texts too close to the reference or to an earlier kept one."""
    index = NoveltyIndex("ngram", SynthesisConfig.default_of("ngram_threshold"))
    index.add(reference, "reference")
    kept = []
    for text in texts:
        if not index.is_duplicate(text)[0]:
            kept.append(text)
            index.add([text], "accepted")
    return kept


def coverage_figures(extractor, anchor_rows, anchor_counts, current_rows, kept: list[str]) -> dict:
    """FAC of current + kept under the default rule, soft, at the current set's token budget, and strict."""
    rows = _concat_rows(current_rows, extractor.extract_rows(kept)) if kept else current_rows
    tokens = int(current_rows.n_tokens.sum())
    default = compute_coverage(anchor_counts, rows, None, CoverageConfig(token_budget=tokens), anchor_rows=anchor_rows)
    strict = compute_coverage(
        anchor_counts, rows, None, CoverageConfig(activation_rule="quantile"), anchor_rows=anchor_rows
    )
    return {
        "fac": default.fac,
        "fac_soft": default.variants["soft_fac"],
        "fac_token_budget": default.variants["token_budget"]["fac_mean"],
        "fac_strict": strict.fac,
    }


def generation_speed(llm: FacGeneratorLLM, prompts: list[str]) -> dict:
    """tok/s of the embedded generator for the same prompts in one batch vs one at a time (no cache)."""
    generator = llm.generator
    conversations = [[{"role": "user", "content": p}] for p in prompts]
    figures = {}
    for label, batch_size in (("batched", len(prompts)), ("single", 1)):
        generator.config = generator.config.model_copy(update={"batch_size": batch_size})
        params = GenerationParams(max_new_tokens=64, temperature=0.8, seed=12345 + batch_size)
        answers: list = []
        start = time.perf_counter()
        generator._run(conversations, params, lambda _i, answer, out=answers: out.append(answer))  # uncached backend
        seconds = time.perf_counter() - start
        figures[f"{label}_tok_s"] = round(sum(a.completion_tokens for a in answers) / seconds, 1)
    figures["batched_over_single"] = round(figures["batched_tok_s"] / figures["single_tok_s"], 2)
    figures["prompts"] = len(prompts)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=int, default=48, help="generator calls per method")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--out", type=Path, default=Path("runs/synthesis-baselines"))
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/synthesis_baselines.json"))
    parser.add_argument(
        "--speed-only",
        type=int,
        nargs="+",
        metavar="N",
        help="only measure generation tok/s, batched vs single, for N prompts each (e.g. 8 16), into --speed-json",
    )
    parser.add_argument("--speed-json", type=Path, default=Path("benchmarks/results/generation_speed.json"))
    args = parser.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    args.out.mkdir(parents=True, exist_ok=True)

    questions = mtbench_questions()
    anchor = [q["turns"][0] for q in questions]
    current = [q["turns"][0] for q in questions if q["category"] in DEMO_CATEGORIES]
    if args.speed_only:
        llm = FacGeneratorLLM(spec="default", generator_config={"cache_dir": str(args.out / "generations")})
        llm.load()
        speeds = [generation_speed(llm, current[:n]) for n in args.speed_only]
        print(json.dumps(speeds, indent=2))
        args.speed_json.parent.mkdir(parents=True, exist_ok=True)
        args.speed_json.write_text(json.dumps({"threads": torch.get_num_threads(), "runs": speeds}, indent=2))
        return
    extractor = load_extractor()
    anchor_rows = extractor.extract_rows(anchor)
    anchor_counts = FeatureCounts.from_rows(anchor_rows, extractor.sae.d_sae, extractor.provenance)
    current_rows = extractor.extract_rows(current)
    before = coverage_figures(extractor, anchor_rows, anchor_counts, current_rows, [])

    gen_config = {"cache_dir": str(args.out / "generations")}
    llm = FacGeneratorLLM(spec="default", generator_config=gen_config)
    llm.load()
    magpie_llm = FacGeneratorLLM(spec="default", generator_config=gen_config, use_magpie_template=True)
    magpie_llm._generator = llm.generator  # one model in memory; the cache key still tells the modes apart
    speed = generation_speed(llm, current[:8])
    llm.generator.config = llm.generator.config.model_copy(update={"batch_size": 8})

    results = []
    for seed in args.seeds:
        for name in args.methods:
            run = run_method(name, llm, magpie_llm, anchor, current, args.budget, seed, extractor, args.out)
            after = coverage_figures(extractor, anchor_rows, anchor_counts, current_rows, run["kept"])
            gains = {k: after[k] - before[k] for k in before}
            row = {
                **{k: v for k, v in run.items() if k != "kept"},
                "kept": len(run["kept"]),
                **{f"{k}_after": round(v, 4) for k, v in after.items()},
                **{f"{k}_gain_per_100_calls": round(100 * g / max(run["calls"], 1), 4) for k, g in gains.items()},
                **{
                    f"{k}_gain_per_100_kept": round(100 * g / len(run["kept"]), 4) if run["kept"] else None
                    for k, g in gains.items()
                },
                "examples": run["kept"][:3],
            }
            results.append(row)
            print(json.dumps(row), flush=True)

    summary = {"budget": args.budget, "seeds": args.seeds, "before": before, "generation_speed": speed, "runs": results}
    for name in args.methods:
        mine = [r for r in results if r["method"] == name]
        summary.setdefault("mean", {})[name] = {
            k: round(float(np.mean([r[k] for r in mine])), 4)
            for k in (
                "calls",
                "kept",
                "fac_after",
                "fac_token_budget_after",
                "fac_strict_after",
                "fac_gain_per_100_calls",
                "fac_strict_gain_per_100_calls",
            )
        }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(summary, indent=2))
    print(json.dumps({"before": before, "generation_speed": speed, "mean": summary["mean"]}, indent=2))


if __name__ == "__main__":
    main()
