"""fac-datasets: Feature Activation Coverage and baseline diversity metrics for post-training data."""

from importlib.metadata import PackageNotFoundError, version

from fac_datasets.evaluate_modules import install as _install_evaluate_modules
from fac_datasets.evaluate_modules import metric_path

try:
    __version__ = version("fac-datasets")
except PackageNotFoundError:  # a source tree that is not installed
    __version__ = "0.0.0+local"

# Bare-name `evaluate.load("distinct_n")` etc. for the packaged metrics/ modules; no heavy imports.
_install_evaluate_modules()

# Public names, imported on first use so `import fac_datasets` stays fast (no torch).
_LAZY = {
    "FeatureAnnotator": "fac_datasets.features.annotator",
    "FeatureCounts": "fac_datasets.features.counts",
    "FeatureRows": "fac_datasets.features.rows",
    "FeatureExtractor": "fac_datasets.features.extractor",
    "load_extractor": "fac_datasets.features.extractor",
    "Backbone": "fac_datasets.features.backbone",
    "resolve_model": "fac_datasets.features.model_spec",
    "resolve_sae": "fac_datasets.features.sae_spec",
    "TopKSAE": "fac_datasets.sae.model",
    "CoverageReport": "fac_datasets.coverage.compute",
    "compute_coverage": "fac_datasets.coverage.compute",
    "measure": "fac_datasets.coverage.measure",
    "resolve_relevance": "fac_datasets.relevance.resolve",
    "Relevance": "fac_datasets.relevance.resolve",
    "RelevanceConfig": "fac_datasets.config",
    "AnnotatorConfig": "fac_datasets.config",
    "BackboneConfig": "fac_datasets.config",
    "CoverageConfig": "fac_datasets.config",
    "ExtractorConfig": "fac_datasets.config",
    "TrainSAEConfig": "fac_datasets.config",
    "FacError": "fac_datasets.errors",
    "FeatureCatalog": "fac_datasets.catalog.catalog",
    "load_generator": "fac_datasets.generation",
    "synthesize": "fac_datasets.synthesis.api",
}


_RENAMED = {"resolve_relevance": "resolve"}  # public name -> name in its module

__all__ = ["metric_path", *_LAZY]


def __getattr__(name: str):  # noqa: ANN202 - module __getattr__
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), _RENAMED.get(name, name))
    raise AttributeError(f"module 'fac_datasets' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
