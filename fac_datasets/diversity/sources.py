"""Read one text column from a file or a saved dataset, the way `fac diversity` is given data."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fac_datasets.diversity.texts import check_texts
from fac_datasets.errors import FacInputError

_BUILDERS = {".jsonl": "json", ".json": "json", ".csv": "csv", ".parquet": "parquet"}


def dataset_name(path: str | Path) -> str:
    """A short label: the file name without data/compression suffixes, or the folder name."""
    name = Path(path).name
    for suffix in (".gz", ".bz2", ".xz", ".zst", ".jsonl", ".json", ".csv", ".parquet"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name or str(path)


def _builder(path: Path) -> str:
    suffixes = [s for s in path.suffixes if s not in (".gz", ".bz2", ".xz", ".zst")]
    builder = _BUILDERS.get(suffixes[-1] if suffixes else "")
    if builder is None:
        raise FacInputError(
            f"{path}: unsupported file type; use .jsonl, .json, .csv, .parquet (optionally .gz) or a "
            "folder written by Dataset.save_to_disk."
        )
    return builder


def load_table(path: str | Path):
    """A `datasets.Dataset` from a data file or a `save_to_disk` folder (a DatasetDict's 'train' split)."""
    import datasets

    path = Path(path)
    if not path.exists():
        raise FacInputError(f"{path}: no such file or folder.")
    if path.is_dir():
        try:
            loaded = datasets.load_from_disk(str(path))
        except FileNotFoundError as exc:
            raise FacInputError(f"{path}: not a folder written by Dataset.save_to_disk ({exc}).") from exc
        if isinstance(loaded, datasets.DatasetDict):
            if "train" in loaded:
                return loaded["train"]
            if len(loaded) == 1:
                return next(iter(loaded.values()))
            raise FacInputError(f"{path}: a DatasetDict with splits {sorted(loaded)}; save the split you mean.")
        return loaded
    builder = _builder(path)
    try:
        return datasets.load_dataset(builder, data_files=str(path), split="train")
    except Exception as exc:  # datasets raises many types for unreadable files
        raise FacInputError(f"{path}: could not be read as {builder}: {exc}") from exc


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
