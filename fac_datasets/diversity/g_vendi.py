"""G-Vendi (Jung et al., 2025, "Prismatic Synthesis", arXiv 2505.20161): diversity in gradient space.

For each text x_i the gradient g_i of a proxy model's loss on x_i is randomly projected to a few
thousand dimensions and unit-normalised; G-Vendi is the Vendi score of those vectors,
exp(-sum l log l) over the eigenvalues l of (1/N) sum_i g_i g_i^T: the effective number of
distinct gradient directions, from 1 (all texts push the model the same way) to min(N, dim).

On CPU (what differs from the paper, which projects the full gradient of a 0.5B proxy on GPU):
- proxy: the embedded SmolLM2-135M-Instruct (any causal LM folder works); loss: mean next-token
  NLL over the text's tokens after a sink token (plain texts have no prompt/response split);
- the gradient is restricted to the linear weights of the last `blocks` decoder blocks;
- per-text gradients come from one batched backward: for a linear layer, dL_i/dW = sum_t
  delta_t x_t^T over text i's tokens (inputs and output gradients captured by hooks), exact;
- projection: CountSketch (`sparse`, each weight to one seeded bucket with a seeded sign, an
  unbiased sparse JL transform costing O(params) per text) or a seeded dense Rademacher matrix
  generated in chunks (`dense`, the paper's kind, far slower on CPU). Each weight matrix has its
  own seed, so a weight projects the same whatever the subset.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from fac_datasets.config import GVendiConfig
from fac_datasets.errors import FacInputError, FacModelError
from fac_datasets.inputs import check_plain_texts

_DEFAULTS = GVendiConfig()


@dataclass(frozen=True)
class GVendi:
    """Result of `g_vendi`; `as_dict()` is what the evaluate module returns."""

    g_vendi: float  # in [1, min(n_texts, projection_dim)]
    n_texts: int
    model: str  # the proxy model's id
    blocks: int  # last decoder blocks whose linear weights the gradient covers
    n_params: int  # size of that restricted gradient
    projection: str
    projection_dim: int
    seed: int

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Proxy:
    """A causal LM with its tokenizer; `model_id` is recorded with every score."""

    tokenizer: Any
    model: Any
    model_id: str


@lru_cache(maxsize=2)
def load_proxy(model: str = _DEFAULTS.model) -> Proxy:
    """Tokenizer + causal LM in float32 on CPU, frozen, loaded once per process."""
    from fac_datasets.features.model_spec import load_causal_lm, resolve_model

    resolved = resolve_model(model)
    tokenizer, lm = load_causal_lm(resolved, "float32")
    lm.requires_grad_(False)
    return Proxy(tokenizer, lm, resolved.model_id)


def restricted_linears(model: Any, blocks: int) -> list[tuple[str, Any]]:
    """(name, nn.Linear) of the last `blocks` decoder blocks, in model order."""
    from torch import nn

    from fac_datasets.features.backbone import find_decoder_layers

    n_layers = int(model.config.num_hidden_layers)
    if blocks > n_layers:
        raise FacInputError(f"blocks={blocks} but the proxy model has only {n_layers} decoder blocks.")
    base = getattr(model, model.base_model_prefix, model)
    _, _, layers = find_decoder_layers(base, n_layers)
    out = []
    for index in range(n_layers - blocks, n_layers):
        for name, module in layers[index].named_modules():
            if isinstance(module, nn.Linear):
                out.append((f"layers.{index}.{name}", module))
    if not out:
        raise FacModelError(f"The last {blocks} decoder blocks of {type(model).__name__} have no linear layers.")
    return out


def _generator(seed: int, name: str, chunk: int = 0):
    import torch

    return torch.Generator().manual_seed(zlib.crc32(f"{seed}:{name}:{chunk}".encode()))


def project(grads, name: str, config: GVendiConfig):
    """[B, numel] per-text gradients of one weight matrix -> [B, projection_dim] (float64)."""
    import torch

    batch, numel = grads.shape
    k = config.projection_dim
    if config.projection == "sparse":
        gen = _generator(config.seed, name)
        buckets = torch.randint(0, k, (numel,), generator=gen)
        signs = torch.randint(0, 2, (numel,), generator=gen, dtype=torch.float64).mul_(2).sub_(1)
        out = torch.zeros(batch, k, dtype=torch.float64)
        return out.index_add_(1, buckets, grads.to(torch.float64) * signs)
    out = torch.zeros(batch, k, dtype=torch.float64)
    for chunk, start in enumerate(range(0, numel, config.chunk_params)):
        stop = min(numel, start + config.chunk_params)
        signs = torch.randint(0, 2, (stop - start, k), generator=_generator(config.seed, name, chunk), dtype=torch.int8)
        out += (grads[:, start:stop].float() @ signs.float().mul_(2).sub_(1)).to(torch.float64)
    return out / k**0.5


def _batch_tensors(proxy: Proxy, texts: Sequence[str], max_length: int):
    import torch

    tok = proxy.tokenizer
    sink = tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id
    pad = tok.pad_token_id if tok.pad_token_id is not None else 0
    rows = [[sink, *tok(t, add_special_tokens=False)["input_ids"]][:max_length] for t in texts]
    width = max(map(len, rows))
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = torch.tensor(row)
        mask[i, : len(row)] = 1
    return ids, mask


def per_text_loss(model: Any, ids, mask):
    """[B] mean next-token NLL of each text (padding excluded)."""
    import torch

    logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1].float()
    targets, valid = ids[:, 1:], mask[:, 1:].to(logits.dtype)
    nll = torch.nn.functional.cross_entropy(logits.transpose(1, 2), targets, reduction="none")
    return (nll * valid).sum(dim=1) / valid.sum(dim=1).clamp(min=1)


def _batch_gradients(proxy: Proxy, linears: list[tuple[str, Any]], texts: Sequence[str], config: GVendiConfig):
    """[B, projection_dim] projected per-text gradients of one batch."""
    import torch

    captured: dict[str, list] = {}
    handles = []

    def capture(name: str):
        def hook(_module, args, output):
            captured[name] = [args[0].detach(), None]
            output.register_hook(lambda grad: captured[name].__setitem__(1, grad.detach()))

        return hook

    for name, module in linears:
        handles.append(module.register_forward_hook(capture(name)))
    weights = [module.weight for _, module in linears]
    for weight in weights:
        weight.requires_grad_(True)
    try:
        ids, mask = _batch_tensors(proxy, texts, config.max_length)
        with torch.enable_grad():
            torch.autograd.grad(per_text_loss(proxy.model, ids, mask).sum(), weights)
    finally:
        for handle in handles:
            handle.remove()
        for weight in weights:
            weight.requires_grad_(False)
    out = torch.zeros(len(texts), config.projection_dim, dtype=torch.float64)
    for name, _ in linears:
        inputs, grad_out = captured.pop(name)
        per_text = torch.einsum("bto,bti->boi", grad_out, inputs)  # padding rows carry zero gradient
        out += project(per_text.reshape(len(texts), -1), name, config)
    return out


def projected_gradients(
    texts: Iterable[str], config: GVendiConfig = _DEFAULTS, proxy: Proxy | None = None
) -> tuple[np.ndarray, int]:
    """[N, projection_dim] projected (not normalised) loss gradients, and the restricted gradient's size."""
    items = check_plain_texts(texts, what="texts for g_vendi")
    proxy = proxy or load_proxy(config.model)
    linears = restricted_linears(proxy.model, config.blocks)
    n_params = sum(module.weight.numel() for _, module in linears)
    order = sorted(range(len(items)), key=lambda i: len(items[i]))  # similar lengths share a batch: less padding
    out = np.empty((len(items), config.projection_dim))
    for start in range(0, len(order), config.batch_size):
        picked = order[start : start + config.batch_size]
        out[picked] = _batch_gradients(proxy, linears, [items[i] for i in picked], config).numpy()
    return out, n_params


def g_vendi_of_gradients(gradients: np.ndarray) -> float:
    """Vendi score (q = 1) of unit-normalised gradient rows, via the d x d dual matrix."""
    from fac_datasets.diversity.vendi import vendi_of_embeddings

    norms = np.linalg.norm(gradients, axis=1)
    if np.any(norms == 0):
        raise FacInputError(f"Text {int(np.argmin(norms))} gives a zero gradient: G-Vendi is undefined for it.")
    return vendi_of_embeddings(gradients)


def g_vendi(texts: Iterable[str], *, config: GVendiConfig = _DEFAULTS, proxy: Proxy | None = None) -> GVendi:
    """G-Vendi of the texts under the proxy model; 1.0 for one text."""
    grads, n_params = projected_gradients(texts, config, proxy)
    model_id = (proxy or load_proxy(config.model)).model_id
    return GVendi(
        g_vendi_of_gradients(grads),
        len(grads),
        model_id,
        config.blocks,
        n_params,
        config.projection,
        config.projection_dim,
        config.seed,
    )
