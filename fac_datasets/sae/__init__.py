"""Sparse autoencoders: inference model, sae-lens folder I/O, converters, training."""

from fac_datasets.sae.model import EncoderOutput, SAEConfig, TopKSAE

__all__ = ["EncoderOutput", "SAEConfig", "TopKSAE"]
