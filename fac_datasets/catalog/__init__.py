"""The feature catalog: what each SAE feature means and which features a task needs.

Span mining (top-activating contexts, peak marked), the shared `Generator` (also used by
synthesis), explanations and their verification, and task relevance (statistical enrichment,
LLM judge, human labels). Submodules import torch lazily where they can; this file imports nothing.
"""
