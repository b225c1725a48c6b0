"""Our annotation against the paths a user would otherwise take, side by side in one run.

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/peer_comparison.py [--texts 128] [--repeats 3]

Same texts, same model (embedded SmolLM2-135M-Instruct, fp32), same layer (15), same SAE, same
pooling (max over content tokens, sink token left out, activation > 0):
  ours         `FeatureExtractor.extract`: truncated backbone (15 blocks, hook), length-sorted
               token-budget batches, sparse TopK encode + max-pool.
  sae-lens     what a sae-lens user writes: TransformerLens' TransformerBridge around the same HF
               model, `run_with_cache(stop_at_layer=15, names_filter=hook)`, then sae-lens'
               `SAE.load_from_disk(...).encode` on the cached residual (dense [B, T, d_sae]) and a
               masked max over positions; batches of `--peer-batch` texts in input order, padded.
               (`HookedSAETransformer.from_pretrained` refuses the model: SmolLM2 is not among
               TransformerLens' official model names, and the legacy loader needs one.)
  reference    the FAC reference code's approach: one text per forward pass through the whole LM
               with its head and `output_hidden_states=True`, `hidden_states[15]`, then the SAE.
Texts: AlpacaEval instructions from ../shared/data. Each path's features are checked against
ours (mean Jaccard), so the speeds compare the same computation.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import torch
from shared_data import alpaca_instructions

from fac_datasets.features.extractor import load_extractor
from fac_datasets.features.model_spec import load_causal_lm, resolve_model
from fac_datasets.features.sae_spec import default_sae_dir


def timed(fn, repeats: int):
    result = fn()  # warm-up, and the result to check
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs), result


def pooled_sets(acts: torch.Tensor, content: torch.Tensor) -> list[list[int]]:
    """[B, T, d_sae] dense activations, [B, T] content mask -> active features per text."""
    masked = acts.masked_fill(~content.unsqueeze(-1), 0.0)
    pooled = masked.max(dim=1).values
    return [torch.nonzero(row > 0).flatten().tolist() for row in pooled]


def sae_lens_path(bridge, sae, backbone, texts: list[str], batch: int, layer: int) -> list[list[int]]:
    hook = f"blocks.{layer - 1}.hook_out"
    out: list[list[int]] = []
    for start in range(0, len(texts), batch):
        tokenized = [backbone.tokenize(t) for t in texts[start : start + batch]]
        width = max(len(t.input_ids) for t in tokenized)
        ids = torch.full((len(tokenized), width), backbone._pad_id)
        mask = torch.zeros_like(ids)
        content = torch.zeros_like(ids, dtype=torch.bool)
        for row, t in enumerate(tokenized):
            ids[row, : len(t.input_ids)] = torch.tensor(t.input_ids)
            mask[row, : len(t.input_ids)] = 1
            content[row, : len(t.content_mask)] = torch.tensor(t.content_mask)
        with torch.inference_mode():
            _, cache = bridge.run_with_cache(
                ids, attention_mask=mask, names_filter=lambda name, h=hook: name == h, stop_at_layer=layer
            )
            out += pooled_sets(sae.encode(cache[hook]), content)
    return out


def reference_path(full, sae, backbone, texts: list[str], layer: int) -> list[list[int]]:
    out: list[list[int]] = []
    for text in texts:
        t = backbone.tokenize(text)
        ids = torch.tensor([t.input_ids])
        with torch.inference_mode():
            hidden = full(input_ids=ids, output_hidden_states=True).hidden_states[layer]
            out += pooled_sets(sae.encode(hidden), torch.tensor([t.content_mask]))
    return out


def jaccard(a, b) -> float:
    sa, sb = set(a), set(b)
    return 1.0 if not sa and not sb else len(sa & sb) / len(sa | sb)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--texts", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--peer-batch", type=int, default=16)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "peer_comparison.json")
    args = parser.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sae_lens import SAE
    from transformer_lens.model_bridge import TransformerBridge

    texts = alpaca_instructions()[: args.texts]
    extractor = load_extractor(dtype="float32", outlier_norm_factor=1e9)  # peers have no outlier rule
    backbone, layer = extractor.backbone, extractor.backbone.layer
    n_tokens = sum(sum(backbone.tokenize(t).content_mask) for t in texts)
    resolved = resolve_model("default")
    tokenizer, full = load_causal_lm(resolved, "float32")
    bridge = TransformerBridge.boot_transformers(resolved.model_id, hf_model=full, tokenizer=tokenizer, device="cpu")
    peer_sae = SAE.load_from_disk(str(default_sae_dir()), device="cpu")
    _, reference_full = load_causal_lm(resolved, "float32")  # the bridge wraps (and may patch) its own copy

    seconds, results = {}, {}
    seconds["ours"], ours = timed(lambda: [r.features for r in extractor.extract(texts)], args.repeats)
    seconds["sae-lens (TransformerBridge)"], results["sae-lens (TransformerBridge)"] = timed(
        lambda: sae_lens_path(bridge, peer_sae, backbone, texts, args.peer_batch, layer), args.repeats
    )
    seconds["reference (full forward, all hidden states)"], results["reference (full forward, all hidden states)"] = (
        timed(lambda: reference_path(reference_full, peer_sae, backbone, texts, layer), args.repeats)
    )
    report = {
        "texts": len(texts),
        "content_tokens": n_tokens,
        "layer": layer,
        "threads": torch.get_num_threads(),
        "peer_batch": args.peer_batch,
        "tokens_per_second": {name: n_tokens / s for name, s in seconds.items()},
        "ours_speedup": {name: seconds[name] / seconds["ours"] for name in seconds},
        "mean_jaccard_vs_ours": {
            name: statistics.fmean(jaccard(a, b) for a, b in zip(ours, r, strict=True)) for name, r in results.items()
        },
    }
    print(f"{len(texts)} texts, {n_tokens} content tokens, layer {layer}, {torch.get_num_threads()} threads")
    for name, rate in report["tokens_per_second"].items():
        agreement = report["mean_jaccard_vs_ours"].get(name, 1.0)
        speedup = report["ours_speedup"][name]
        print(f"{name:<46}{rate:>9.0f} tok/s   ours/this {speedup:.2f}x   Jaccard vs ours {agreement:.3f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
