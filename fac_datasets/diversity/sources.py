"""Read one text column of one input, the way `fac diversity` is given data.

Opening files, saved folders and Hub ids is `fac_datasets.sources.open_dataset`, shared with
`fac coverage`; this module adds saved DatasetDict folders, a string-only column rule and
seeded sampling.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fac_datasets.diversity.texts import check_texts
from fac_datasets.errors import FacInputError


def dataset_name(path: str | Path) -> str:
    """A short label: the file name without data/compression suffixes, or the folder name."""
    name = Path(path).name
    for suffix in (".gz", ".bz2", ".xz", ".zst", ".jsonl", ".json", ".csv", ".tsv", ".parquet"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name or str(path)


def load_table(path: str | Path):
    """A `datasets.Dataset`: what `fac coverage` opens, plus saved DatasetDict folders ('train' or the only split)."""
    import datasets

    from fac_datasets.sources import open_dataset

    folder = Path(path).expanduser()
    if folder.is_dir() and (folder / "dataset_dict.json").is_file():
        loaded = datasets.load_from_disk(str(folder))
        if "train" in loaded:
            return loaded["train"]
        if len(loaded) == 1:
            return next(iter(loaded.values()))
        raise FacInputError(f"{path}: a DatasetDict with splits {sorted(loaded)}; save the split you mean.")
    return open_dataset(str(path))


def pick_column(table, path: str | Path, text_column: str | None) -> str:
    """`text_column` if present; else 'text'; else the only string column; else a clear error."""
    columns = list(table.column_names)
    if text_column is not None:
        if text_column not in columns:
            raise FacInputError(f"{path}: no column {text_column!r}; available columns: {', '.join(columns)}.")
        return text_column
    if "text" in columns:
        return "text"
    strings = [c for c, f in table.features.items() if getattr(f, "dtype", None) in ("string", "large_string")]
    if len(strings) == 1:
        return strings[0]
    raise FacInputError(f"{path}: pass --text-column; available columns: {', '.join(columns)}.")


def load_texts(
    path: str | Path, text_column: str | None = None, *, max_texts: int | None = None, seed: int = 0
) -> tuple[str, list[str]]:
    """(column, texts) of one input, optionally a seeded uniform sample of `max_texts` rows."""
    table = load_table(path)
    column = pick_column(table, path, text_column)
    try:
        texts = check_texts(table[column])
    except FacInputError as exc:  # row numbers refer to the file, before any sampling
        raise FacInputError(f"{path} column {column!r}: {exc}") from exc
    if max_texts is not None and len(texts) > max_texts:
        picked = np.sort(np.random.default_rng(seed).choice(len(texts), size=max_texts, replace=False))
        texts = [texts[i] for i in picked]
    return column, texts
