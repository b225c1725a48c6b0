"""`FeatureAnnotator`: SAE features as columns, through `datasets.Dataset.map(batched=True)`.

The annotator pickles as its configuration plus the SAE's content hash, never the weights:
datasets fingerprints `map` functions by pickling them, so the cache key is cheap and stable,
and `num_proc` workers each load the model once, lazily, with one torch thread.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

from fac_datasets.config import AnnotatorConfig, StreamingConfig
from fac_datasets.constants import ACTIVATIONS_COLUMN, FEATURES_COLUMN, TOKENS_COLUMN
from fac_datasets.errors import FacInputError, FacSAEError


class FeatureAnnotator:
    """Callable for `ds.map(annotator, batched=True)` adding `fac_features`,
    `fac_activations` (aligned, strongest first) and `fac_n_tokens`.

    `column` holds strings or chat message lists (rendered with the model's chat template;
    only message contents count).
    """

    def __init__(self, config: AnnotatorConfig | None = None, /, **fields: Any) -> None:
        """Pass an `AnnotatorConfig` or its fields (`FeatureAnnotator(model="default", column="instruction")`)."""
        from fac_datasets.features.model_spec import resolve_model
        from fac_datasets.features.sae_spec import resolve_sae
        from fac_datasets.sae.io import content_hash

        self.config = AnnotatorConfig(**{**(config.model_dump() if config is not None else {}), **fields})
        loaded = resolve_sae(self.config.sae)  # small: hashing it pins the cache key to the weights
        self.sae_hash = content_hash(loaded)
        self.layer = self.config.layer or loaded.cfg.layer
        self.d_sae = loaded.d_sae
        self.model_id = resolve_model(self.config.model).model_id
        self._extractor = None

    # -------------------------------------------------------------- identity
    @property
    def fingerprint(self) -> str:
        """Stable id of what this annotator computes: a hash of the very state datasets pickles."""
        return hashlib.sha256(json.dumps(self.__getstate__(), sort_keys=True).encode()).hexdigest()[:16]

    @property
    def provenance(self) -> dict:
        """What FeatureCounts record, so counts from different setups never merge."""
        from fac_datasets.features.extractor import provenance

        return provenance(self.model_id, self.layer, self.sae_hash, self.config.threshold)

    def __getstate__(self) -> dict:
        """Config, SAE hash and package version, never weights: datasets' map cache key."""
        from fac_datasets import __version__

        return {
            "config": self.config.model_dump(),
            "sae_hash": self.sae_hash,
            "layer": self.layer,
            "model_id": self.model_id,
            "d_sae": self.d_sae,
            "version": __version__,
        }

    def __setstate__(self, state: dict) -> None:
        self.config = AnnotatorConfig(**state["config"])
        self.sae_hash = state["sae_hash"]
        self.layer = state["layer"]
        self.model_id = state["model_id"]
        self.d_sae = state["d_sae"]
        self._extractor = None

    def for_column(self, column: str) -> FeatureAnnotator:
        """The same annotator reading another column (no SAE reload)."""
        if column == self.config.column:
            return self
        state = self.__getstate__()
        state["config"] = {**state["config"], "column": column}
        other = FeatureAnnotator.__new__(FeatureAnnotator)
        other.__setstate__(state)
        return other

    # -------------------------------------------------------------- work
    @property
    def extractor(self):
        if self._extractor is None:
            import torch

            from fac_datasets.features.extractor import load_extractor
            from fac_datasets.sae.io import content_hash

            if _in_forked_worker():
                # A forked child must not enter the parent's OpenMP pool (it hangs in libgomp).
                torch.set_num_threads(1)
            extractor_fields = self.config.model_dump(exclude={"column"})
            self._extractor = load_extractor(**{**extractor_fields, "layer": self.layer})
            if content_hash(self._extractor.sae) != self.sae_hash:
                raise FacSAEError(
                    f"The SAE at {self.config.sae!r} changed since this annotator was created; create a new one."
                )
        return self._extractor

    def __call__(self, batch: dict[str, list]) -> dict[str, list]:
        if self.config.column not in batch:
            raise FacInputError(
                f"Column {self.config.column!r} not found; the dataset has columns {sorted(batch)}. "
                "Pass column=... to FeatureAnnotator."
            )
        results = self.extractor.extract(batch[self.config.column])
        return {
            FEATURES_COLUMN: [r.features for r in results],
            ACTIVATIONS_COLUMN: [r.activations for r in results],
            TOKENS_COLUMN: [r.n_tokens for r in results],
        }

    def annotate(self, dataset, **map_kwargs):
        """`dataset.map(self, batched=True)` with the input checked first and a clear cache key."""
        if self.config.column not in dataset.column_names:
            raise FacInputError(
                f"Column {self.config.column!r} not found; the dataset has columns {dataset.column_names}."
            )
        if len(dataset) == 0:
            raise FacInputError("The dataset is empty: there is nothing to annotate.")
        # Rows per call: the backbone sorts each call's rows by length, so more rows mean less padding.
        map_kwargs.setdefault("batch_size", StreamingConfig.default_of("batch_size"))
        map_kwargs.setdefault("desc", "SAE features")
        return dataset.map(self, batched=True, **map_kwargs)


_IMPORT_PID = os.getpid()


def _in_forked_worker() -> bool:
    """True in a process forked after this module was imported (datasets' num_proc workers).

    datasets forks through `multiprocess`, so the stdlib's current_process() cannot tell.
    """
    return os.getpid() != _IMPORT_PID
