"""Errors that name the input at fault, so users never have to read a torch traceback."""

from __future__ import annotations


class FacError(Exception):
    """Base class for every error fac-datasets raises on purpose."""


class FacInputError(FacError, ValueError):
    """A text, column or dataset given by the user cannot be used as it is."""


class FacModelError(FacError):
    """A backbone spec cannot be resolved or loaded."""


class FacSAEError(FacError):
    """An SAE spec cannot be resolved or loaded, or does not fit the backbone."""


class FacOfflineError(FacError):
    """Something needs the Hugging Face Hub, and the Hub cannot be reached."""
