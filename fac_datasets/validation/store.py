"""A disk cache of arrays computed once per text set (features, embeddings, tags, frozen states).

The study's cost is the backbone pass over its pools; everything after it takes seconds. Keys hash
everything that changes the arrays (what was computed, the model setup, the exact texts), so a rerun
with the same data and setup skips the backbone, and any change recomputes. Files are written to a
temporary name and renamed, so an interrupted run never leaves a half-written entry.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from fac_datasets.cache import cache_root
from fac_datasets.downstream.memo import digest


def cache_dir() -> Path:
    return cache_root() / "validation"


def cache_key(kind: str, setup: dict, texts: Sequence[str]) -> str:
    """A content hash of (kind, setup, texts)."""
    blob = json.dumps({"kind": kind, "setup": setup, "texts": digest(list(texts))}, sort_keys=True, default=str)
    return f"{kind}-{hashlib.sha256(blob.encode()).hexdigest()[:24]}"


def cached_arrays(
    key: str, compute: Callable[[], dict[str, np.ndarray]], *, enabled: bool
) -> tuple[dict[str, np.ndarray], bool]:
    """(arrays, was_cached): read `key` from the cache, else `compute()` and store it (when enabled)."""
    path = cache_dir() / f"{key}.npz"
    if enabled and path.is_file():
        with np.load(path, allow_pickle=False) as data:
            return {name: data[name] for name in data.files}, True
    arrays = compute()
    if enabled:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.npz")
        np.savez(tmp, **arrays)
        tmp.replace(path)
    return arrays, False
