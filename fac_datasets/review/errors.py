"""The review stage's own error: the Argilla side (a server or a stack component) is at fault, not the data."""

from __future__ import annotations

from fac_datasets.errors import FacError


class FacArgillaError(FacError):
    """An Argilla server cannot be reached or used, or a component of the local stack failed."""
