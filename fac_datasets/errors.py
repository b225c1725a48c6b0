"""Errors that name the input at fault and the fix, so users never have to read a torch traceback.

Every error a user can cause is a `FacError`; the CLI prints these as one line and exits 2.
"""

from __future__ import annotations


class FacError(Exception):
    """Base class for every error fac-datasets raises on purpose."""


class FacInputError(FacError, ValueError):
    """A text, column, file or dataset given by the user cannot be used as it is."""


class FacConfigError(FacError, ValueError):
    """An option or config value is out of range, of the wrong type, or unknown."""


class FacModelError(FacError):
    """A backbone or embedder spec cannot be resolved or loaded."""


class FacGeneratorError(FacModelError):
    """Every call of a round to a generator failed (server down or hung, deadline passed): the run stops."""


class FacSAEError(FacError):
    """An SAE spec cannot be resolved or loaded, or does not fit the backbone."""


class FacOfflineError(FacError):
    """Something needs the Hugging Face Hub, and the Hub cannot be reached."""


class FacServiceError(FacError):
    """A service we talk to (an Argilla server, a component of the local Argilla stack) cannot be reached or used."""
