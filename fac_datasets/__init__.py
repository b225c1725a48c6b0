"""fac-datasets: Feature Activation Coverage and baseline diversity metrics for post-training data."""

from importlib.metadata import PackageNotFoundError, version

from fac_datasets.evaluate_modules import install as _install_evaluate_modules

try:
    __version__ = version("fac-datasets")
except PackageNotFoundError:  # a source tree that is not installed
    __version__ = "0.0.0+local"

# Bare-name `evaluate.load("distinct_n")` etc. for the packaged metrics/ modules; no heavy imports.
_install_evaluate_modules()

# Public names, imported on first use so `import fac_datasets` stays fast (no torch).
_LAZY = {
    "FeatureAnnotator": "fac_datasets.annotate",
    "FeatureCounts": "fac_datasets.counts",
    "FeatureRows": "fac_datasets.rows",
    "CoverageConfig": "fac_datasets.coverage",
    "CoverageReport": "fac_datasets.coverage",
    "compute_coverage": "fac_datasets.coverage",
    "measure_fac": "fac_datasets.fac",
    "load_extractor": "fac_datasets.loading",
    "FeatureExtractor": "fac_datasets.features",
    "Backbone": "fac_datasets.backbone",
    "TopKSAE": "fac_datasets.sae.model",
    "resolve_sae": "fac_datasets.saes",
    "resolve_model": "fac_datasets.models",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'fac_datasets' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
