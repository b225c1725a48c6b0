"""Input checks of the evaluate shims, before evaluate's batching turns a bad row into a bare
ValueError (None) or silently casts it to a string (3 -> "3")."""

from __future__ import annotations

from typing import Any

from fac_datasets.errors import FacInputError
from fac_datasets.inputs import check_plain_texts


def checked_texts(where: str, texts: Any, min_count: int = 1) -> list[str]:
    """Non-blank strings, at least `min_count`; a FacInputError names `where` (e.g. 'dcscore.compute data')."""
    try:
        return check_plain_texts(texts, min_count=min_count)
    except FacInputError as exc:
        raise FacInputError(f"{where}: {exc}") from exc
