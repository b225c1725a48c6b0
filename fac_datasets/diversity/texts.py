"""One rule for what every diversity metric accepts, so they fail alike and name the row."""

from __future__ import annotations

from typing import Any, Iterable

from fac_datasets.errors import FacInputError


def check_texts(texts: Iterable[Any], *, min_count: int = 1, what: str = "texts") -> list[str]:
    """Return `texts` as a list of non-blank strings, or raise FacInputError naming the bad row.

    Blank (empty or whitespace-only) texts are refused rather than counted: they carry no
    n-grams, and an embedding of "" is a real vector that would bias the distance metrics.
    """
    if isinstance(texts, str):
        raise FacInputError(f"{what} is a single string: pass a list of strings.")
    items = list(texts)
    if len(items) < min_count:
        need = "at least one text" if min_count == 1 else f"at least {min_count} texts"
        raise FacInputError(f"Got {len(items)} {what}: this metric needs {need}.")
    for index, item in enumerate(items):
        if item is None:
            raise FacInputError(f"Row {index} is None: expected a string.")
        if not isinstance(item, str):
            raise FacInputError(
                f"Row {index} is a {type(item).__name__} ({str(item)[:60]!r}): expected a string. "
                "Check that you picked the text column."
            )
        if not item.strip():
            raise FacInputError(
                f"Row {index} is empty or whitespace-only: drop blank rows first "
                "(e.g. ds.filter(lambda r: r['text'].strip()))."
            )
    return items
