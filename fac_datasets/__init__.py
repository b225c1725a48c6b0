"""fac-datasets: Feature Activation Coverage and baseline diversity metrics for post-training data."""

from importlib.metadata import PackageNotFoundError, version

from fac_datasets.evaluate_modules import install as _install_evaluate_modules

try:
    __version__ = version("fac-datasets")
except PackageNotFoundError:  # a source tree that is not installed
    __version__ = "0.0.0+local"

# Bare-name `evaluate.load("distinct_n")` etc. for the packaged metrics/ modules; no heavy imports.
_install_evaluate_modules()
