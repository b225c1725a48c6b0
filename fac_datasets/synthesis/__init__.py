"""Synthesis: samples that fill the relevant features a dataset lacks, checked by the SAE.

missing features + catalog -> step 1 candidates (SAE-scored) -> contrastive pair -> step 2
feature-covered samples -> SAE filter + novelty filter -> synthesized Dataset + FAC before/after.
Tasks are data (`tasks/*.json` + `tasks/*.j2`); `synthesize` is the one entry point.
"""

from importlib import import_module

_LAZY = {
    "synthesize": "fac_datasets.synthesis.api",
    "SynthesisResult": "fac_datasets.synthesis.api",
    "load_task": "fac_datasets.synthesis.tasks",
    "SynthesisTask": "fac_datasets.synthesis.tasks",
    "SYNTHESIS_TASKS": "fac_datasets.synthesis.tasks",
    "FeatureRecord": "fac_datasets.synthesis.records",
    "select_pair": "fac_datasets.synthesis.pairs",
    "sae_filter": "fac_datasets.synthesis.sae_filter",
    "NoveltyIndex": "fac_datasets.synthesis.novelty",
}

__all__ = list(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
