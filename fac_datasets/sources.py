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
    raise FacInputError(f"{spec!r} is not an existing file or folder, nor a Hub dataset id 'org/name'.")


def pick_text_column(dataset, column: str | None, source: str = "dataset") -> str:
    """The column to read texts from; guesses only when exactly one obvious candidate exists."""
    if column is not None:
        if column not in dataset.column_names:
            raise FacInputError(f"{source}: no column {column!r}; columns are {dataset.column_names}.")
        return column
    for candidate in ("text", "instruction", "prompt", "question", "messages", "tweet", "content"):
        if candidate in dataset.column_names:
            return candidate
    raise FacInputError(f"{source}: cannot tell which column holds the text; pass --text-column (columns: {dataset.column_names}).")


def read_texts(dataset, column: str, source: str = "dataset") -> list:
    """The column's values, each checked to be a string or a list of chat messages."""
    from fac_datasets.inputs import check_item

    values = dataset[column]
    try:
        return [check_item(value, index) for index, value in enumerate(values)]
    except FacInputError as exc:
        raise FacInputError(f"{source}, column {column!r}: {exc}") from exc
