"""fac-datasets: Feature Activation Coverage for LLM post-training data.

Importing the package stays cheap (no torch): heavy modules load when first used.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("fac-datasets")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+local"
