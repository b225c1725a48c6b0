"""A small TopK SAE for inference: sparse `encode`, `decode`, and FVU.

Numerically the same as sae-lens' TopKSAE (checked in the tests), but `encode` returns the
sparse (top_acts, top_indices) pair that maps directly onto feature counting, and importing it
does not pull in TransformerLens.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import nn

from fac_datasets.config import BackboneConfig


class SAEConfig(BaseModel):
    """What the SAE is and what it was trained on; serialised into sae-lens' cfg.json."""

    model_config = ConfigDict(extra="forbid")

    d_in: int = Field(gt=0)
    d_sae: int = Field(gt=0)
    k: int = Field(gt=0)
    apply_b_dec_to_input: bool = True
    rescale_acts_by_decoder_norm: bool = False
    model_name: str | None = None
    layer: int | None = Field(default=None, description="residual stream after this many blocks")
    reference_norm: float | None = Field(default=None, description="median token norm in training")
    outlier_norm_factor: float | None = Field(
        default=BackboneConfig.default_of("outlier_norm_factor"), description="outlier-token rule used in training"
    )
    training: dict[str, Any] = Field(default_factory=dict, description="corpus, tokens, metrics")


class EncoderOutput(NamedTuple):
    """Sparse SAE code of a batch of tokens."""

    top_acts: torch.Tensor
    """[N, k] activations of the k selected latents (ReLU applied, so some may be 0)."""

    top_indices: torch.Tensor
    """[N, k] latent ids of those activations."""


class TopKSAE(nn.Module):
    """x -> ReLU(TopK((x - b_dec) W_enc + b_enc)) -> W_dec + b_dec."""

    def __init__(self, cfg: SAEConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.W_enc = nn.Parameter(torch.zeros(cfg.d_in, cfg.d_sae))
        self.b_enc = nn.Parameter(torch.zeros(cfg.d_sae))
        self.W_dec = nn.Parameter(torch.zeros(cfg.d_sae, cfg.d_in))
        self.b_dec = nn.Parameter(torch.zeros(cfg.d_in))
        self.requires_grad_(False)

    @property
    def d_in(self) -> int:
        return self.cfg.d_in

    @property
    def d_sae(self) -> int:
        return self.cfg.d_sae

    def pre_acts(self, x: torch.Tensor) -> torch.Tensor:
        """Dense pre-activations [N, d_sae] (what the reference's 'dense ReLU' mode thresholds)."""
        x = x.to(self.W_enc.dtype)
        if self.cfg.apply_b_dec_to_input:
            x = x - self.b_dec
        pre = x @ self.W_enc + self.b_enc
        if self.cfg.rescale_acts_by_decoder_norm:
            pre = pre * self.W_dec.norm(dim=-1)
        return pre

    @torch.inference_mode()
    def encode(self, x: torch.Tensor) -> EncoderOutput:
        values, indices = self.pre_acts(x).topk(self.cfg.k, dim=-1, sorted=False)
        return EncoderOutput(values.relu(), indices)

    @torch.inference_mode()
    def decode(self, top_acts: torch.Tensor, top_indices: torch.Tensor) -> torch.Tensor:
        acts = top_acts
        if self.cfg.rescale_acts_by_decoder_norm:
            acts = acts / self.W_dec.norm(dim=-1)[top_indices]
        # Gather the k decoder rows per token instead of a dense [N, d_sae] product.
        return torch.einsum("nk,nkd->nd", acts, self.W_dec[top_indices]) + self.b_dec

    @torch.inference_mode()
    def fvu(self, x: torch.Tensor) -> float:
        """Fraction of variance unexplained: ||x - x_hat||^2 / ||x - mean(x)||^2 over the batch."""
        x = x.to(self.W_enc.dtype)
        x_hat = self.decode(*self.encode(x))
        residual = (x - x_hat).pow(2).sum()
        total = (x - x.mean(dim=0)).pow(2).sum()
        return float(residual / total)
