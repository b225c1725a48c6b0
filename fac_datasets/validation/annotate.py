"""Everything the metrics read, computed once per text: SAE features, MiniLM embeddings, POS tags, words.

Subsets are index selections into the pool, so no subset ever runs the backbone, the embedder or
the tagger again. Results go through the study's disk cache (`store`), keyed by setup and texts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from fac_datasets.config import ExtractorConfig
from fac_datasets.diversity.ngrams import tokenize
from fac_datasets.features.extractor import FeatureExtractor, load_extractor
from fac_datasets.features.rows import FeatureRows
from fac_datasets.validation.store import cache_key, cached_arrays
from fac_datasets.validation.tasks import TaskData


@dataclass
class Annotations:
    """Per-text annotations of one task's pool, anchor and contrast set.

    Attributes:
        pool_rows, anchor_rows, contrast_rows: SAE features (max-pooled TopK) per text.
        task_anchor_rows: the anchor rows that carry the task (all of them unless the task has labels).
        pool_embeddings, anchor_embeddings: unit-norm MiniLM embeddings.
        pool_pos: Penn Treebank tags per pool text; pool_words: word tokens (the n-gram metrics' tokenizer).
        d_sae, provenance: the feature setup (model, layer, SAE hash, threshold).
        cached: which annotations came from the disk cache.
    """

    pool_rows: FeatureRows
    anchor_rows: FeatureRows
    contrast_rows: FeatureRows
    task_anchor_rows: FeatureRows
    pool_embeddings: np.ndarray
    anchor_embeddings: np.ndarray
    pool_pos: list[list[str]]
    pool_words: list[list[str]]
    d_sae: int
    provenance: dict
    cached: dict[str, bool] = field(default_factory=dict)


@lru_cache(maxsize=2)
def study_extractor(config: ExtractorConfig) -> FeatureExtractor:
    """One backbone + SAE per process and setup (a study annotates several sets with it)."""
    return load_extractor(config)


def _rows_to_arrays(rows: FeatureRows) -> dict[str, np.ndarray]:
    return {
        "offsets": rows.offsets,
        "features": rows.features,
        "activations": rows.activations,
        "n_tokens": rows.n_tokens,
    }


def _arrays_to_rows(arrays: dict[str, np.ndarray]) -> FeatureRows:
    return FeatureRows(
        arrays["offsets"].astype(np.int64),
        arrays["features"].astype(np.int64),
        arrays["activations"].astype(np.float32),
        arrays["n_tokens"].astype(np.int64),
    )


def feature_rows(
    extractor: FeatureExtractor, texts: Sequence[str], *, what: str, cache: bool
) -> tuple[FeatureRows, bool]:
    """SAE features of `texts` (cached on disk by setup and texts)."""
    backbone = extractor.backbone
    setup = {
        **extractor.provenance,
        "dtype": str(backbone.dtype),
        "max_length": backbone.max_length,
        "batch_tokens": backbone.batch_tokens,
        "outlier_norm_factor": backbone.outlier_norm_factor,
    }

    def compute() -> dict[str, np.ndarray]:
        print(f"validation: SAE features of {len(texts)} {what} texts", flush=True)
        return _rows_to_arrays(extractor.extract_rows(list(texts), progress=True))

    arrays, cached = cached_arrays(cache_key("features", setup, texts), compute, enabled=cache)
    return _arrays_to_rows(arrays), cached


def embeddings(texts: Sequence[str], *, cache: bool) -> tuple[np.ndarray, bool]:
    """MiniLM embeddings (the baselines' and -MMD's representation), cached on disk."""
    from fac_datasets.constants import DEFAULT_EMBEDDER, EMBEDDER_PIP
    from fac_datasets.diversity.embeddings import embed

    arrays, cached = cached_arrays(
        cache_key("minilm", {"model": DEFAULT_EMBEDDER, "package": EMBEDDER_PIP}, texts),
        lambda: {"embeddings": embed(list(texts))},
        enabled=cache,
    )
    return arrays["embeddings"], cached


def pos_tags(texts: Sequence[str], *, cache: bool) -> tuple[list[list[str]], bool]:
    """spaCy PTB tags per text (flat array + offsets on disk)."""
    from fac_datasets.constants import DEFAULT_SPACY_MODEL
    from fac_datasets.diversity.pos import pos_tags as tag

    def compute() -> dict[str, np.ndarray]:
        tags = tag(list(texts))
        offsets = np.concatenate([[0], np.cumsum([len(t) for t in tags])]).astype(np.int64)
        flat = np.asarray([x for t in tags for x in t], dtype=str) if offsets[-1] else np.zeros(0, dtype="<U1")
        return {"offsets": offsets, "tags": flat}

    arrays, cached = cached_arrays(cache_key("pos", {"model": DEFAULT_SPACY_MODEL}, texts), compute, enabled=cache)
    offsets, flat = arrays["offsets"], arrays["tags"].tolist()
    return [flat[offsets[i] : offsets[i + 1]] for i in range(len(offsets) - 1)], cached


def annotate_task(task: TaskData, extractor_config: ExtractorConfig, *, cache: bool = True) -> Annotations:
    """Features, embeddings, tags and words of the task's texts, each computed once."""
    extractor = study_extractor(extractor_config)
    cached: dict[str, bool] = {}
    pool_rows, cached["pool_features"] = feature_rows(extractor, task.pool_texts, what="pool", cache=cache)
    anchor_rows, cached["anchor_features"] = feature_rows(extractor, task.anchor_texts, what="anchor", cache=cache)
    if task.contrast_texts is None:
        mask = np.asarray(task.anchor_task_mask, dtype=bool)
        contrast_rows, task_anchor_rows = (
            anchor_rows.take(np.flatnonzero(~mask)),
            anchor_rows.take(np.flatnonzero(mask)),
        )
    else:
        contrast_rows, cached["contrast_features"] = feature_rows(
            extractor, task.contrast_texts, what="contrast", cache=cache
        )
        task_anchor_rows = anchor_rows
    pool_embeddings, cached["pool_embeddings"] = embeddings(task.pool_texts, cache=cache)
    anchor_embeddings, cached["anchor_embeddings"] = embeddings(task.anchor_texts, cache=cache)
    pool_pos, cached["pool_pos"] = pos_tags(task.pool_texts, cache=cache)
    return Annotations(
        pool_rows=pool_rows,
        anchor_rows=anchor_rows,
        contrast_rows=contrast_rows,
        task_anchor_rows=task_anchor_rows,
        pool_embeddings=pool_embeddings,
        anchor_embeddings=anchor_embeddings,
        pool_pos=pool_pos,
        pool_words=[tokenize(t) for t in task.pool_texts],
        d_sae=extractor.sae.d_sae,
        provenance=extractor.provenance,
        cached=cached,
    )
