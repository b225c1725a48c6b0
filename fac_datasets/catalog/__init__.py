"""The feature catalog: what each SAE feature means and which features a task needs.

Span mining (top-activating contexts, peak marked), explanations and their verification, and
task relevance (statistical enrichment, LLM judge, human labels); models are asked through the
shared `Generator` of `fac_datasets.generation`. Submodules import torch lazily where they can;
this file imports nothing.
"""
