"""Grammar-constrained decoding on the embedded model: llguidance, xgrammar and outlines-core against
unconstrained decoding, side by side in one run (issue 19, item 1).

    OMP_NUM_THREADS=2 nice -n 5 .venv/bin/python benchmarks/structured_output.py [--per-task 4] [--max-new-tokens 128]

Prompts: the synthesis request of 4 tasks (toxicity, instruction following, sycophancy, reward
modeling) for `--per-task` fixed feature briefs each (16 by default), asked for one sample each with
the task's answer schema (`fac_datasets.synthesis.schema.answer_schema`). Each task is one
`generate` call (batched like a synthesis round, one schema per call), sampled at the synthesis
defaults (temperature 0.8, top-p 0.95, seed 0); the modes take turns call by call, so a busy
machine slows them alike. Every mode applies its mask first, then temperature and top-p, the order
`fac_datasets.generation.constrained` uses. Grammar compilation is timed apart (once per schema;
the generator caches it). For each mode: generated tokens per second and its ratio to unconstrained
decoding (noisy: sample lengths differ and prefill is included), the mask's own time per decoding
step and its share of generate time (the overhead itself), answers that validate against the schema
(by cause when not), and answers the task parser keeps. A candidate that fails to import or run is
reported, not fatal.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

import torch

from fac_datasets.config import SynthesisConfig
from fac_datasets.features.model_spec import load_causal_lm, resolve_model
from fac_datasets.generation.schema import MALFORMED_CAUSES, AnswerSchema
from fac_datasets.synthesis.prompts import FeatureBrief, request_messages
from fac_datasets.synthesis.schema import answer_schema
from fac_datasets.synthesis.tasks import load_task

TASKS = ("toxicity", "instruction_following", "sycophancy", "reward_modeling")
BRIEFS = tuple(
    FeatureBrief(i, explanation, tokens, spans, None, 0.0)
    for i, (explanation, tokens, spans) in enumerate(
        [
            ("cooking and recipes", "bake (5), oven (3)", ("preheat the <<oven>> to", "<<bake>> for 20 minutes")),
            ("money and paying bills", "rent (4), pay (3)", ("I can't <<pay>> the", "my <<rent>> is due")),
            ("pets, especially dogs", "dog (6), puppy (2)", ("my <<dog>> keeps barking", "a new <<puppy>>")),
            ("travel by train", "train (4), ticket (2)", ("missed the <<train>> again", "a return <<ticket>>")),
            ("computer errors", "error (5), crash (2)", ("keeps giving an <<error>>", "the app <<crash>>es")),
            ("weather and rain", "rain (4), storm (2)", ("heavy <<rain>> all day", "a <<storm>> is coming")),
        ]
    )
)
CANDIDATES = ("unconstrained", "llguidance", "xgrammar", "outlines_core")
PACKAGES = {"llguidance": "llguidance", "xgrammar": "xgrammar", "outlines_core": "outlines"}


class Warpers:
    """Temperature then top-p, as the generator applies them after a mask."""

    def __init__(self, temperature: float, top_p: float) -> None:
        from transformers import TemperatureLogitsWarper, TopPLogitsWarper

        self.list = [TemperatureLogitsWarper(temperature), TopPLogitsWarper(top_p)]


def make_factory(mode: str, tokenizer: Any, model: Any, eos_ids: list[int]):
    """(compile(schema) -> handle, processor(handle, batch) -> logits processor or None) for a mode."""
    vocab = model.config.vocab_size
    if mode == "unconstrained":
        return (lambda schema: None), (lambda handle, batch: None)
    if mode == "llguidance":
        from fac_datasets.generation.constrained import SchemaConstraint, _MaskProcessor

        constraint = SchemaConstraint(tokenizer, vocab, eos_ids)
        return constraint.grammar, lambda grammar, batch: _MaskProcessor(constraint.tokenizer, grammar, batch, vocab)
    if mode == "xgrammar":
        import xgrammar as xgr
        import xgrammar.contrib.hf

        info = xgr.TokenizerInfo.from_huggingface(tokenizer, vocab_size=vocab, stop_token_ids=eos_ids)
        compiler = xgr.GrammarCompiler(info)

        def compile_xgr(schema: AnswerSchema):
            return compiler.compile_json_schema(schema.key, any_whitespace=False, separators=(", ", ": "))

        return compile_xgr, lambda compiled, batch: xgrammar.contrib.hf.LogitsProcessor(compiled)
    if mode == "outlines_core":
        import outlines
        from outlines.backends.outlines_core import OutlinesCoreBackend

        backend = OutlinesCoreBackend(outlines.from_transformers(model, tokenizer))

        def compile_outlines(schema: AnswerSchema):
            return backend.get_json_schema_logits_processor(schema.key)

        def fresh(processor, batch):
            processor.reset()
            return processor

        return compile_outlines, fresh
    raise ValueError(mode)


class Timed:
    """A logits processor with a stopwatch: the mask's own cost, apart from the model's forward pass."""

    def __init__(self, processor: Any, mode: Mode) -> None:
        self.processor, self.mode = processor, mode

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        start = time.perf_counter()
        out = self.processor(input_ids, scores)
        self.mode.mask_seconds += time.perf_counter() - start
        self.mode.mask_steps += 1
        return out


class Mode:
    """One decoding mode's factories and running totals."""

    def __init__(self, name: str, tokenizer: Any, model: Any, eos_ids: list[int]) -> None:
        self.name = name
        self.compile_schema, self.make_processor = make_factory(name, tokenizer, model, eos_ids)
        self.compile_seconds = self.gen_seconds = self.mask_seconds = 0.0
        self.mask_steps = 0
        self.new_tokens = self.valid = self.kept = self.answers = 0
        self.causes: Counter = Counter()
        self.examples: list[str] = []

    def run_call(self, task, schema: AnswerSchema, prompts, tokenizer, model, eos_ids, args) -> None:
        start = time.perf_counter()
        handle = self.compile_schema(schema)
        self.compile_seconds += time.perf_counter() - start
        width = max(len(p) for p in prompts)
        pad = tokenizer.pad_token_id
        ids = torch.full((len(prompts), width), pad, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for row, p in enumerate(prompts):
            ids[row, width - len(p) :] = torch.tensor(p)
            mask[row, width - len(p) :] = 1
        processor = self.make_processor(handle, len(prompts))
        processors = ([Timed(processor, self)] if processor is not None else []) + Warpers(
            args.temperature, args.top_p
        ).list
        torch.manual_seed(0)
        start = time.perf_counter()
        with torch.inference_mode():
            out = model.generate(
                input_ids=ids,
                attention_mask=mask,
                max_new_tokens=args.max_new_tokens,
                do_sample=True,
                temperature=None,
                top_p=None,
                top_k=None,
                logits_processor=processors,
                pad_token_id=pad,
                eos_token_id=eos_ids,
            )
        self.gen_seconds += time.perf_counter() - start
        for new in out[:, width:].tolist():
            end = next((i for i, t in enumerate(new) if t in eos_ids), None)
            n = len(new) if end is None else end + 1
            self.new_tokens += n
            text = tokenizer.decode(new[: n if end is None else end], skip_special_tokens=True)
            cause = schema.malformed(text, n, args.max_new_tokens)
            self.answers += 1
            self.valid += cause is None
            self.causes[cause or "valid"] += 1
            self.kept += task.parse(text).ok
            if len(self.examples) < 2:
                self.examples.append(text[:160])

    def result(self) -> dict:
        return {
            "compile_seconds": round(self.compile_seconds, 3),
            "generate_seconds": round(self.gen_seconds, 2),
            "new_tokens": self.new_tokens,
            "tokens_per_second": round(self.new_tokens / self.gen_seconds, 2),
            "mask_ms_per_step": round(1000 * self.mask_seconds / self.mask_steps, 2) if self.mask_steps else 0.0,
            "mask_share_of_generate": round(self.mask_seconds / self.gen_seconds, 3),
            "valid": f"{self.valid}/{self.answers}",
            "task_parser_kept": f"{self.kept}/{self.answers}",
            "by_cause": {c: self.causes[c] for c in ("valid", *MALFORMED_CAUSES) if self.causes[c]},
            "examples": self.examples,
        }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-task", type=int, default=4, help="prompts per task (one generate call per task)")
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--modes", nargs="+", default=list(CANDIDATES), choices=CANDIDATES)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "structured_output.json")
    args = parser.parse_args()
    config = SynthesisConfig()
    args.temperature, args.top_p = config.temperature, 0.95
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    tokenizer, model = load_causal_lm(resolve_model("default"), "float32")
    tokenizer.padding_side = "left"
    eos_ids = sorted({model.generation_config.eos_token_id, tokenizer.eos_token_id} - {None})
    calls = []
    for name in TASKS:
        task = load_task(name)
        prompts = []
        for i in range(args.per_task):
            messages = request_messages(task, [BRIEFS[i % len(BRIEFS)]], attempt=1 + i // len(BRIEFS))
            text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
            prompts.append(tokenizer(text, add_special_tokens=False)["input_ids"])
        calls.append((task, answer_schema(task, 1), prompts))
    results: dict[str, Any] = {}
    modes: dict[str, Mode] = {}
    for name in args.modes:
        try:
            modes[name] = Mode(name, tokenizer, model, eos_ids)
        except Exception as exc:  # a candidate that does not work here is a result, not a crash
            results[name] = {"error": f"{type(exc).__name__}: {str(exc)[:300]}"}
    for task, schema, prompts in calls:  # modes take turns per call, so the machine's load hits all alike
        for name, mode in list(modes.items()):
            try:
                mode.run_call(task, schema, prompts, tokenizer, model, eos_ids, args)
            except Exception as exc:
                results[name] = {"error": f"{type(exc).__name__}: {str(exc)[:300]}"}
                del modes[name]
    results.update({name: mode.result() for name, mode in modes.items()})
    results = {name: results[name] for name in args.modes}
    base = results.get("unconstrained", {}).get("tokens_per_second")
    for mode, result in results.items():
        if base and "tokens_per_second" in result:
            result["speed_vs_unconstrained"] = round(result["tokens_per_second"] / base, 3)
        package = PACKAGES.get(mode)
        if package:
            try:
                result["version"] = importlib.metadata.version(package)
            except importlib.metadata.PackageNotFoundError:
                result["version"] = "not installed"
    report = {"prompts": len(TASKS) * args.per_task, "max_new_tokens": args.max_new_tokens, "results": results}
    header = f"{'mode':<15}{'tok/s':>8}{'x unc.':>8}{'mask ms':>9}{'mask %':>8}{'compile s':>11}"
    print(header + f"{'valid':>7}{'parsed':>8}  causes")
    for mode, r in results.items():
        if "error" in r:
            print(f"{mode:<15}{'-':>8}{'-':>8}{'-':>9}{'-':>8}{'-':>11}{'-':>7}{'-':>8}  {r['error']}")
            continue
        print(
            f"{mode:<15}{r['tokens_per_second']:>8}{r.get('speed_vs_unconstrained', 1.0):>8}"
            f"{r['mask_ms_per_step']:>9}{100 * r['mask_share_of_generate']:>7.1f}%{r['compile_seconds']:>11}"
            f"{r['valid']:>7}{r['task_parser_kept']:>8}  {r['by_cause']}"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
