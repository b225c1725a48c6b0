"""`FeatureCounts`: per-feature document frequency and max activation over a dataset.

Counts are additive, so shards annotated in different processes or on different machines merge
with `+` into exactly the counts of the whole.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fac_datasets.constants import COUNTS_FORMAT, COUNTS_FORMAT_VERSION
from fac_datasets.errors import FacInputError
from fac_datasets.features.rows import FeatureRows


@dataclass
class FeatureCounts:
    """Attributes:
    d_sae: number of SAE latents.
    n_docs: samples counted.
    n_tokens: content tokens over those samples (-1 if unknown).
    doc_freq: [d_sae] samples in which each feature is active.
    max_activation: [d_sae] largest pooled activation seen per feature.
    provenance: model, layer, SAE hash, threshold: counts only merge when these agree.
    """

    d_sae: int
    n_docs: int = 0
    n_tokens: int = 0
    doc_freq: np.ndarray = None  # type: ignore[assignment]
    max_activation: np.ndarray = None  # type: ignore[assignment]
    provenance: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.doc_freq is None:
            self.doc_freq = np.zeros(self.d_sae, dtype=np.int64)
        if self.max_activation is None:
            self.max_activation = np.zeros(self.d_sae, dtype=np.float32)

    @classmethod
    def from_rows(cls, rows: FeatureRows, d_sae: int, provenance: dict | None = None) -> FeatureCounts:
        rows.check_ids(d_sae)
        counts = cls(d_sae, provenance=dict(provenance or {}))
        counts.n_docs = rows.n_rows
        counts.n_tokens = (
            int(rows.n_tokens.sum()) if rows.n_rows and (rows.n_tokens >= 0).all() else (0 if not rows.n_rows else -1)
        )
        counts.doc_freq = np.bincount(rows.features, minlength=d_sae).astype(np.int64)
        np.maximum.at(counts.max_activation, rows.features, rows.activations)
        return counts

    @classmethod
    def from_dataset(cls, dataset, d_sae: int, provenance: dict | None = None, **columns) -> FeatureCounts:
        return cls.from_rows(FeatureRows.from_dataset(dataset, **columns), d_sae, provenance)

    def active(self, min_support: int = 1) -> np.ndarray:
        """Feature ids active in at least `min_support` samples."""
        return np.flatnonzero(self.doc_freq >= max(1, min_support))

    @property
    def mean_tokens(self) -> float | None:
        return self.n_tokens / self.n_docs if self.n_docs and self.n_tokens >= 0 else None

    def check_same_setup(self, other: FeatureCounts, action: str) -> None:
        """Counts only combine when made by the same SAE and setup (where both record one)."""
        if other.d_sae != self.d_sae:
            raise FacInputError(f"Cannot {action} counts over {self.d_sae} and {other.d_sae} features: different SAEs.")
        if self.provenance and other.provenance and not same_setup(self.provenance, other.provenance):
            raise FacInputError(
                f"Cannot {action} counts from different setups: {describe_setup(self.provenance)} vs "
                f"{describe_setup(other.provenance)}."
            )

    def check_setup(self, setup: dict, d_sae: int, source: str) -> None:
        """Refuse counts loaded from `source` unless the annotator's setup made them.

        Counts read from a file are checked strictly: a file that records no setup is refused too,
        since FAC against counts of another SAE or threshold is a wrong number with exit code 0.
        """
        if self.d_sae != d_sae:
            raise FacInputError(
                f"{source} counts {self.d_sae} features, but the SAE in use has {d_sae}: they come from another SAE. "
                "Recompute them with the same --model/--sae/--threshold."
            )
        if not self.provenance:
            raise FacInputError(
                f"{source} records no setup (model, layer, SAE, threshold), so it cannot be checked against "
                f"{describe_setup(setup)}. Recompute it with this version of fac-datasets."
            )
        if not same_setup(self.provenance, setup):
            raise FacInputError(
                f"{source} was made with {describe_setup(self.provenance)}, but this run uses "
                f"{describe_setup(setup)}. Recompute it with the same --model/--sae/--threshold."
            )

    def __add__(self, other: FeatureCounts) -> FeatureCounts:
        if not isinstance(other, FeatureCounts):
            return NotImplemented
        self.check_same_setup(other, "merge")
        tokens = self.n_tokens + other.n_tokens if self.n_tokens >= 0 and other.n_tokens >= 0 else -1
        return FeatureCounts(
            self.d_sae,
            self.n_docs + other.n_docs,
            tokens,
            self.doc_freq + other.doc_freq,
            np.maximum(self.max_activation, other.max_activation),
            self.provenance or other.provenance,
        )

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, FeatureCounts)
            and (self.d_sae, self.n_docs, self.n_tokens, self.provenance)
            == (other.d_sae, other.n_docs, other.n_tokens, other.provenance)
            and np.array_equal(self.doc_freq, other.doc_freq)
            and np.array_equal(self.max_activation, other.max_activation)
        )

    # ------------------------------------------------------------ persistence
    @staticmethod
    def is_counts_file(path: str | Path) -> bool:
        """True for a file `FeatureCounts.save` wrote (so a CLI input can be counts or data)."""
        path = Path(path)
        if not path.is_file():
            return False
        if path.suffix == ".safetensors":
            return True
        if path.suffix == ".json":
            with path.open(encoding="utf-8", errors="replace") as handle:
                return f'"{COUNTS_FORMAT}"' in handle.read(200)
        return False

    def to_dict(self) -> dict:
        """Sparse JSON form: only features that were ever active."""
        ids = np.flatnonzero(self.doc_freq)
        return {
            "format": COUNTS_FORMAT,
            "version": COUNTS_FORMAT_VERSION,
            "d_sae": self.d_sae,
            "n_docs": self.n_docs,
            "n_tokens": self.n_tokens,
            "provenance": self.provenance,
            "features": ids.tolist(),
            "doc_freq": self.doc_freq[ids].tolist(),
            "max_activation": self.max_activation[ids].astype(float).tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict) -> FeatureCounts:
        if data.get("format") != COUNTS_FORMAT:
            raise FacInputError("Not a fac-datasets feature-counts file (missing 'format').")
        counts = cls(
            int(data["d_sae"]), int(data["n_docs"]), int(data["n_tokens"]), provenance=data.get("provenance", {})
        )
        ids = np.asarray(data["features"], dtype=np.int64)
        counts.doc_freq[ids] = np.asarray(data["doc_freq"], dtype=np.int64)
        counts.max_activation[ids] = np.asarray(data["max_activation"], dtype=np.float32)
        return counts

    def save(self, path: str | Path) -> Path:
        """`.json` (sparse, readable) or `.safetensors` (dense, compact for wide SAEs)."""
        path = Path(path)
        if path.suffix == ".safetensors":
            import torch
            from safetensors.torch import save_file

            meta = {
                key: json.dumps(value)
                for key, value in self.to_dict().items()
                if key not in ("features", "doc_freq", "max_activation")
            }
            save_file(
                {"doc_freq": torch.from_numpy(self.doc_freq), "max_activation": torch.from_numpy(self.max_activation)},
                str(path),
                metadata=meta,
            )
        else:
            path.write_text(json.dumps(self.to_dict()))
        return path

    @classmethod
    def load(cls, path: str | Path) -> FeatureCounts:
        path = Path(path)
        try:
            if path.suffix == ".safetensors":
                from safetensors import safe_open

                with safe_open(str(path), framework="np") as f:
                    meta = {key: json.loads(value) for key, value in f.metadata().items()}
                    counts = cls(
                        int(meta["d_sae"]),
                        int(meta["n_docs"]),
                        int(meta["n_tokens"]),
                        provenance=meta.get("provenance", {}),
                    )
                    counts.doc_freq = f.get_tensor("doc_freq").astype(np.int64)
                    counts.max_activation = f.get_tensor("max_activation").astype(np.float32)
                return counts
            return cls.from_dict(json.loads(path.read_text()))
        except (OSError, ValueError, KeyError) as exc:
            raise FacInputError(f"Cannot read feature counts from {path}: {exc}") from exc


SETUP_KEYS = ("model", "layer", "sae", "threshold")
"""What identifies a feature setup (`features.extractor.provenance`); other recorded keys are notes."""


def same_setup(first: dict, second: dict) -> bool:
    """Two recorded setups agree on everything that decides which features fire."""
    return all(first.get(key) == second.get(key) for key in SETUP_KEYS)


def describe_setup(setup: dict) -> str:
    """One readable line: model, layer, SAE hash, threshold."""
    return ", ".join(f"{key} {setup.get(key, '?')}" for key in SETUP_KEYS)
