"""Per-sample feature lists in flat (CSR-style) form: what counts and rarefaction work on.

Annotated datasets hold `fac_features` as an Arrow list column; its flat values and offsets
come out without copying row by row, so a million rows cost one array, not a million lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from fac_datasets.constants import ACTIVATIONS_COLUMN, FEATURES_COLUMN, TOKENS_COLUMN
from fac_datasets.errors import FacInputError


@dataclass
class FeatureRows:
    """`features[offsets[i]:offsets[i+1]]` are the active features of sample i."""

    offsets: np.ndarray  # int64 [n_rows + 1]
    features: np.ndarray  # int64 [nnz]
    activations: np.ndarray  # float32 [nnz]
    n_tokens: np.ndarray  # int64 [n_rows]; -1 where unknown

    @property
    def n_rows(self) -> int:
        return len(self.offsets) - 1

    def row_ids(self) -> np.ndarray:
        """[nnz] the sample each flat entry belongs to."""
        return np.repeat(np.arange(self.n_rows), np.diff(self.offsets))

    def check_ids(self, d_sae: int, what: str = "features") -> None:
        if self.features.size and (self.features.min() < 0 or self.features.max() >= d_sae):
            bad = self.features[(self.features < 0) | (self.features >= d_sae)][:5].tolist()
            raise FacInputError(f"{what} contain ids outside 0..{d_sae - 1} (e.g. {bad}): was another SAE used?")

    @classmethod
    def from_lists(
        cls,
        features: Sequence[Sequence[int]],
        activations: Sequence[Sequence[float]] | None = None,
        n_tokens: Sequence[int] | None = None,
    ) -> FeatureRows:
        lengths = np.fromiter((len(f) for f in features), dtype=np.int64, count=len(features))
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        flat = np.fromiter((x for row in features for x in row), dtype=np.int64, count=int(offsets[-1]))
        if activations is None:
            acts = np.ones(flat.shape, dtype=np.float32)
        else:
            if [len(a) for a in activations] != lengths.tolist():
                raise FacInputError("features and activations are not aligned row by row.")
            acts = np.fromiter((x for row in activations for x in row), dtype=np.float32, count=int(offsets[-1]))
        tokens = (
            np.asarray(n_tokens, dtype=np.int64) if n_tokens is not None else np.full(len(features), -1, dtype=np.int64)
        )
        return cls(offsets, flat, acts, tokens)

    @classmethod
    def from_dataset(
        cls,
        dataset,
        features_column: str = FEATURES_COLUMN,
        activations_column: str = ACTIVATIONS_COLUMN,
        tokens_column: str = TOKENS_COLUMN,
    ) -> FeatureRows:
        """Read the annotator's columns straight from Arrow."""
        import pyarrow as pa

        missing = [c for c in (features_column,) if c not in dataset.column_names]
        if missing:
            raise FacInputError(
                f"The dataset has no {missing[0]!r} column (columns: {dataset.column_names}); "
                "annotate it first with FeatureAnnotator."
            )
        table = dataset.with_format("arrow")[:]  # honours select/shuffle indices
        feats = table.column(features_column).combine_chunks()
        if not pa.types.is_list(feats.type) and not pa.types.is_large_list(feats.type):
            raise FacInputError(f"Column {features_column!r} must hold lists of feature ids, got {feats.type}.")
        feats = feats.cast(pa.large_list(pa.int64()))
        offsets = feats.offsets.to_numpy().astype(np.int64)
        flat = feats.values.to_numpy(zero_copy_only=False).astype(np.int64)
        flat = flat[offsets[0] : offsets[-1]]
        offsets = offsets - offsets[0]
        if activations_column in table.column_names:
            acts_col = table.column(activations_column).combine_chunks().cast(pa.large_list(pa.float32()))
            acts_offsets = acts_col.offsets.to_numpy()
            acts = acts_col.values.to_numpy(zero_copy_only=False)[acts_offsets[0] : acts_offsets[-1]]
        else:
            acts = np.ones(flat.shape, dtype=np.float32)
        if tokens_column in table.column_names:
            tokens = table.column(tokens_column).to_numpy().astype(np.int64)
        else:
            tokens = np.full(len(offsets) - 1, -1, dtype=np.int64)
        return cls(offsets, flat, acts.astype(np.float32), tokens)

    def take(self, rows: np.ndarray) -> FeatureRows:
        """A subset of rows (used for rarefaction and shards)."""
        rows = np.asarray(rows, dtype=np.int64)
        starts, ends = self.offsets[rows], self.offsets[rows + 1]
        lengths = ends - starts
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        index = np.repeat(starts - offsets[:-1], lengths) + np.arange(offsets[-1])
        return FeatureRows(offsets, self.features[index], self.activations[index], self.n_tokens[rows])
