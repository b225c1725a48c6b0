"""What users pass as data, read and checked one way for every command and API.

Inputs are data files (.jsonl/.json/.csv/.tsv/.parquet, compressed too), `save_to_disk` folders,
Hub dataset ids, or in-memory lists. A text is a string or, where the caller allows it, a list
of chat messages ({'role', 'content'}). Every bad row is reported by its number in the input.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from fac_datasets.constants import COMPRESSION_SUFFIXES, FILE_BUILDERS, TEXT_COLUMN_CANDIDATES
from fac_datasets.errors import FacInputError, FacOfflineError

Message = dict
TextInput = str | Sequence[Message]


# ------------------------------------------------------------------ validation
def check_text(item: Any, index: int, *, chat: bool = True, blank: bool = True) -> TextInput:
    """Return `item` if it is a usable text, else raise FacInputError naming row `index`.

    `chat` allows lists of chat messages; `blank` allows empty or whitespace-only strings (the
    feature extractor counts them as texts without features; the n-gram and embedding metrics
    cannot use them).
    """
    expected = "a string or a list of chat messages" if chat else "a string"
    if isinstance(item, str):
        if not blank and not item.strip():
            raise FacInputError(
                f"Row {index} is empty or whitespace-only: drop blank rows first "
                "(e.g. ds.filter(lambda r: r['text'].strip()))."
            )
        return item
    if item is None:
        raise FacInputError(f"Row {index} is None: expected {expected}.")
    if chat and isinstance(item, list | tuple) and all(isinstance(m, dict) for m in item):
        for turn, message in enumerate(item):
            if not isinstance(message.get("content"), str) or not isinstance(message.get("role"), str):
                raise FacInputError(
                    f"Row {index}, message {turn}: chat messages need string 'role' and 'content' "
                    f"keys, got {sorted(message)}."
                )
        return item
    raise FacInputError(
        f"Row {index} is a {type(item).__name__} ({str(item)[:60]!r}): expected {expected}. "
        "Check that you picked the text column."
    )


def check_texts(
    texts: Iterable[Any], *, chat: bool = True, blank: bool = True, min_count: int = 0, what: str = "texts"
) -> list:
    """Every item checked with `check_text`; at least `min_count` of them."""
    if isinstance(texts, str):
        raise FacInputError(f"{what} is a single string: pass a list of strings.")
    if texts is None:
        raise FacInputError(f"{what} is None: pass a list of texts.")
    items = list(texts)
    if len(items) < min_count:
        need = "at least one text" if min_count == 1 else f"at least {min_count} texts"
        raise FacInputError(f"Got {len(items)} {what}: {need} needed.")
    return [check_text(item, index, chat=chat, blank=blank) for index, item in enumerate(items)]


def check_column(
    values: Iterable[Any], source: str, column: str, *, start: int = 0, chat: bool = True, blank: bool = True
) -> list:
    """Every value of one column checked with `check_text`; an error names `source`, the column and the row.

    `start` is the input row of the first value (a shard's rows keep their numbers in the input).
    Every command reads its texts through here, so every command refuses the same rows the same way.
    """
    try:
        return [check_text(item, start + offset, chat=chat, blank=blank) for offset, item in enumerate(values)]
    except FacInputError as exc:
        raise FacInputError(f"{source} column {column!r}: {exc}") from exc


def decode_column(dataset, table, column: str) -> list:
    """The Python values of `column` in a pyarrow `table` read from `dataset`, decoded as `dataset[column]` would.

    A JSON file whose column mixes strings with numbers or nulls is stored as JSON text (the `Json`
    feature): read raw, the string "a" would be the text '"a"' and the number 5 the text '5'.
    """
    values = table.column(column).to_pylist()
    features = getattr(dataset, "features", None)
    if features is not None and column in features:
        return features.decode_column(values, column)
    return values


# ------------------------------------------------------------------ opening
_TEXT_BUILDERS = ("json", "csv")
_CHUNK_BYTES = 1 << 20


def check_utf8(path: Path) -> None:
    """FacInputError naming the byte offset (and line) of the first byte that is not UTF-8 in a text data file."""
    import codecs

    import fsspec

    decoder = codecs.getincrementaldecoder("utf-8")()
    consumed = lines = 0
    with fsspec.open(str(path), "rb", compression="infer") as handle:
        while chunk := handle.read(_CHUNK_BYTES):
            data = decoder.getstate()[0] + chunk  # the decoder's held-back bytes come first
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                offset = consumed - (len(data) - len(chunk)) + exc.start
                line = lines + data[: exc.start].count(b"\n") + 1
                where = " of the decompressed data" if path.suffix in COMPRESSION_SUFFIXES else ""
                raise FacInputError(
                    f"{path} is not UTF-8 text: byte {offset}{where} (0x{data[exc.start]:02x}, line {line}) cannot "
                    "be decoded. Re-encode the file as UTF-8 (e.g. iconv -f latin1 -t utf-8 IN > OUT)."
                ) from None
            consumed += len(chunk)
            lines += chunk.count(b"\n")
        held = len(decoder.getstate()[0])
        if held:
            raise FacInputError(
                f"{path} is not UTF-8 text: byte {consumed - held} starts a character the file cuts off. "
                "Re-encode the file as UTF-8."
            )


def _builder(path: Path) -> tuple[str, dict]:
    suffixes = [s for s in path.suffixes if s not in COMPRESSION_SUFFIXES]
    suffix = suffixes[-1] if suffixes else ""
    if suffix not in FILE_BUILDERS:
        raise FacInputError(
            f"{path}: unsupported file type {suffix or '(none)'}; use {', '.join(FILE_BUILDERS)} (compressed too)."
        )
    return FILE_BUILDERS[suffix], ({"sep": "\t"} if suffix == ".tsv" else {})


def _is_empty_file(path: Path) -> bool:
    if path.stat().st_size == 0:
        return True
    if path.suffix in COMPRESSION_SUFFIXES:
        import fsspec

        with fsspec.open(str(path), "rb", compression="infer") as handle:
            return not handle.read(1)
    return False


@contextmanager
def _quiet_datasets_errors() -> Iterator[None]:
    from datasets.utils import logging as datasets_logging

    previous = datasets_logging.get_verbosity()
    datasets_logging.set_verbosity(datasets_logging.CRITICAL)
    try:
        yield
    finally:
        datasets_logging.set_verbosity(previous)


def open_dataset(spec: str | Path, split: str = "train", *, streaming: bool = False):
    """A `datasets.Dataset` from a data file, a `save_to_disk` folder, or a Hub dataset id.

    `streaming=True` gives an `IterableDataset` read as it is iterated (nothing converted or
    downloaded up front); a saved folder is memory-mapped either way.
    """
    import datasets

    spec = str(spec)
    path = Path(spec).expanduser()
    if path.is_dir() and (path / "dataset_info.json").is_file():
        saved = datasets.load_from_disk(str(path))
        return saved.to_iterable_dataset() if streaming else saved
    if path.is_dir() and (path / "dataset_dict.json").is_file():
        splits = datasets.load_from_disk(str(path))
        if split in splits or len(splits) == 1:
            saved = splits[split] if split in splits else next(iter(splits.values()))
            return saved.to_iterable_dataset() if streaming else saved
        raise FacInputError(f"{path}: a DatasetDict with splits {sorted(splits)}; save the split you mean.")
    if path.is_file():
        builder, options = _builder(path)
        if _is_empty_file(path):
            raise FacInputError(f"{path} is empty: there are no rows to read.")
        if builder in _TEXT_BUILDERS:
            check_utf8(path)
        try:
            with _quiet_datasets_errors():  # our error below says the same in one line
                return datasets.load_dataset(
                    builder, data_files=str(path), split="train", streaming=streaming, **options
                )
        except Exception as exc:  # datasets raises many types for malformed files
            cause = exc.__cause__ or exc
            reason = str(cause).strip() or type(cause).__name__
            raise FacInputError(f"Cannot read {path} as {builder}: {reason}") from exc
    if path.exists():
        raise FacInputError(f"{path} is a folder but not a saved dataset (no dataset_info.json).")
    if "/" in spec and not spec.startswith((".", "/", "~")):
        try:
            return datasets.load_dataset(spec, split=split, streaming=streaming)
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
    for candidate in TEXT_COLUMN_CANDIDATES:
        if candidate in columns:
            return candidate
    strings = [
        name
        for name, feature in dataset.features.items()
        if getattr(feature, "dtype", None) in ("string", "large_string")
    ]
    if len(strings) == 1:
        return strings[0]
    raise FacInputError(f"{source}: cannot tell which column holds the text; pass --text-column (columns: {columns}).")


def dataset_name(path: str | Path) -> str:
    """A short label: the file name without data/compression suffixes, or the folder name."""
    name = Path(path).name
    for suffix in (*COMPRESSION_SUFFIXES, *FILE_BUILDERS):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name or str(path)


def open_text_dataset(
    spec: str | Path, column: str | None = None, *, chat: bool = True, blank: bool = True
) -> tuple[Any, str]:
    """(dataset, text column) with every row of the column checked before any model work."""
    dataset = open_dataset(spec)
    column = pick_text_column(dataset, column, str(spec))
    if len(dataset) == 0:
        raise FacInputError(f"{spec}: the dataset has no rows.")
    check_column(_column_values(dataset, column, spec), str(spec), column, chat=chat, blank=blank)
    return dataset, column


def _column_values(dataset, column: str, spec) -> list:
    """`dataset[column]`; a saved or Hub dataset can still hold bytes that are not UTF-8."""
    try:
        return list(dataset[column])
    except UnicodeDecodeError as exc:
        raise FacInputError(
            f"{spec} column {column!r} holds text that is not UTF-8 ({exc.reason} at byte {exc.start} of a value). "
            "Re-encode the data as UTF-8."
        ) from None


def read_texts(
    spec: str | Path,
    column: str | None = None,
    *,
    chat: bool = True,
    blank: bool = True,
    max_texts: int | None = None,
    seed: int = 0,
) -> tuple[str, list]:
    """(column, texts) of one input; row numbers in errors refer to the input, before sampling.

    `max_texts` takes a seeded uniform sample (in input order) of at most that many rows.
    """
    dataset, column = open_text_dataset(spec, column, chat=chat, blank=blank)
    texts = list(dataset[column])
    if max_texts is not None and len(texts) > max_texts:
        picked = np.sort(np.random.default_rng(seed).choice(len(texts), size=max_texts, replace=False))
        texts = [texts[i] for i in picked]
    return column, texts


def check_plain_texts(texts: Iterable[Any], *, min_count: int = 1, what: str = "texts") -> list[str]:
    """Non-blank strings only: what the n-gram and embedding metrics accept."""
    return check_texts(texts, chat=False, blank=False, min_count=min_count, what=what)


# ------------------------------------------------------------------ identity (what a resumed run must match)
_HEAD_BYTES = 1 << 20


def input_identity(spec: str | Path) -> dict:
    """What names an input across runs: its resolved path plus size, mtime and a hash of its head.

    A relative and an absolute path, or the same file reached from another cwd, give the same
    path; a file moved elsewhere keeps its size, mtime and head. A Hub id or any other name is
    kept as given.
    """
    import hashlib

    path = Path(spec).expanduser()
    if not path.exists():
        return {"name": str(spec)}
    resolved = path.resolve()
    if resolved.is_dir():
        files = sorted(f for f in resolved.rglob("*") if f.is_file())
        listing = [(str(f.relative_to(resolved)), f.stat().st_size) for f in files]
        head = hashlib.sha256(repr(listing).encode()).hexdigest()[:16]
        size = sum(n for _, n in listing)
        mtime = max((f.stat().st_mtime_ns for f in files), default=0)
    else:
        with resolved.open("rb") as handle:
            head = hashlib.sha256(handle.read(_HEAD_BYTES)).hexdigest()[:16]
        stat = resolved.stat()
        size, mtime = stat.st_size, stat.st_mtime_ns
    return {"path": str(resolved), "size": size, "mtime": mtime, "head": head}


def same_input(previous: dict | str | None, current: dict) -> bool:
    """True when `previous` (an `input_identity`, or a path string of older records) names the `current` input.

    The same resolved path is the same input (whether its rows changed is for the caller's row
    fingerprints to say); another path is the same input only if size, mtime and head all match.
    """
    if isinstance(previous, str):  # records before identities: the spec as typed
        previous = input_identity(previous) if Path(previous).expanduser().exists() else {"name": previous}
    if not isinstance(previous, dict):
        return False
    if "path" in previous and "path" in current:
        if previous["path"] == current["path"]:
            return True
        return all(previous.get(k) == current.get(k) for k in ("size", "mtime", "head"))
    return previous == current


def read_feature_ids(path: str | Path) -> list[int]:
    """A JSON file holding a list of feature ids (e.g. `--relevant-features`), checked."""
    import json

    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise FacInputError(f"{path}: no such file (expected a JSON list of feature ids).") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FacInputError(
            f"{path} is not valid JSON ({exc}); expected a list of feature ids like [12, 40, 7]."
        ) from exc
    if not isinstance(data, list) or not all(isinstance(x, int) and not isinstance(x, bool) for x in data):
        shown = json.dumps(data)[:80]
        raise FacInputError(f"{path} must hold a JSON list of integer feature ids like [12, 40, 7], got {shown}.")
    return data
