"""Read one text column of one input, the way `fac diversity` is given data.

Opening inputs and picking the column is `fac_datasets.sources`, shared with `fac coverage`;
this module adds the string-only row check and seeded sampling.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fac_datasets.diversity.texts import check_texts
from fac_datasets.errors import FacInputError
from fac_datasets.sources import open_dataset, pick_text_column


def dataset_name(path: str | Path) -> str:
    """A short label: the file name without data/compression suffixes, or the folder name."""
    name = Path(path).name
    for suffix in (".gz", ".bz2", ".xz", ".zst", ".jsonl", ".json", ".csv", ".tsv", ".parquet"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name or str(path)


def load_texts(
    path: str | Path, text_column: str | None = None, *, max_texts: int | None = None, seed: int = 0
) -> tuple[str, list[str]]:
    """(column, texts) of one input, optionally a seeded uniform sample of `max_texts` rows."""
    table = open_dataset(str(path))
    column = pick_text_column(table, text_column, str(path))
    try:
        texts = check_texts(table[column])
    except FacInputError as exc:  # row numbers refer to the file, before any sampling
        raise FacInputError(f"{path} column {column!r}: {exc}") from exc
    if max_texts is not None and len(texts) > max_texts:
        picked = np.sort(np.random.default_rng(seed).choice(len(texts), size=max_texts, replace=False))
        texts = [texts[i] for i in picked]
    return column, texts
