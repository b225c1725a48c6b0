"""Open what users pass as data: a file, a saved dataset folder, or a Hub dataset id."""

from __future__ import annotations

from pathlib import Path

from fac_datasets.errors import FacInputError, FacOfflineError

FILE_BUILDERS = {".jsonl": "json", ".json": "json", ".csv": "csv", ".parquet": "parquet", ".tsv": "csv"}


def _builder(path: Path) -> tuple[str, dict]:
    suffixes = [s for s in path.suffixes if s not in (".gz", ".bz2", ".zst", ".xz")]
    suffix = suffixes[-1] if suffixes else ""
    if suffix not in FILE_BUILDERS:
        raise FacInputError(f"{path}: unsupported file type {suffix or '(none)'}; use .jsonl, .json, .csv, .tsv or .parquet.")
    return FILE_BUILDERS[suffix], ({"sep": "\t"} if suffix == ".tsv" else {})


def open_dataset(spec: str, split: str = "train"):
    """A `datasets.Dataset` from a data file, a `save_to_disk` folder, or a Hub dataset id."""
    import datasets

    path = Path(spec).expanduser()
    if path.is_dir() and (path / "dataset_info.json").is_file():
        return datasets.load_from_disk(str(path))
    if path.is_dir() and (path / "dataset_dict.json").is_file():
        splits = datasets.load_from_disk(str(path))
        if split in splits:
            return splits[split]
        if len(splits) == 1:
            return next(iter(splits.values()))
        raise FacInputError(f"{path}: a DatasetDict with splits {sorted(splits)}; save the split you mean.")
    if path.is_file():
        builder, options = _builder(path)
        try:
            return datasets.load_dataset(builder, data_files=str(path), split="train", **options)
        except Exception as exc:  # datasets raises many types for malformed files
            raise FacInputError(f"Cannot read {path} as {builder}: {exc}") from exc
    if path.exists():
        raise FacInputError(f"{path} is a folder but not a saved dataset (no dataset_info.json).")
    if "/" in spec and not spec.startswith((".", "/", "~")):
        try:
            return datasets.load_dataset(spec, split=split)
        except (ConnectionError, OSError) as exc:
            raise FacOfflineError(f"Cannot load Hub dataset {spec!r} (offline or not cached): {exc}") from exc
        except Exception as exc:
            raise FacInputError(f"Cannot load Hub dataset {spec!r}: {exc}") from exc
    raise FacInputError(f"{spec!r}: no such file or folder, and not a Hub dataset id 'org/name'.")


def pick_text_column(dataset, column: str | None, source: str = "dataset") -> str:
    """`column` if present; else a usual text column name; else the only string column; else an error."""
    columns = list(dataset.column_names)
    if column is not None:
        if column not in columns:
            raise FacInputError(f"{source}: no column {column!r}; columns are {columns}.")
        return column
    for candidate in ("text", "instruction", "prompt", "question", "messages", "tweet", "content"):
        if candidate in columns:
            return candidate
    strings = [name for name, feature in dataset.features.items() if getattr(feature, "dtype", None) in ("string", "large_string")]
    if len(strings) == 1:
        return strings[0]
    raise FacInputError(f"{source}: cannot tell which column holds the text; pass --text-column (columns: {columns}).")


def read_texts(dataset, column: str, source: str = "dataset") -> list:
    """The column's values, each checked to be a string or a list of chat messages."""
    from fac_datasets.inputs import check_item

    values = dataset[column]
    try:
        return [check_item(value, index) for index, value in enumerate(values)]
    except FacInputError as exc:
        raise FacInputError(f"{source}, column {column!r}: {exc}") from exc
