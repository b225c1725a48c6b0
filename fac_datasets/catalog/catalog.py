"""`FeatureCatalog`: one row per SAE feature that fired, with its contexts and, later, its meaning.

A thin wrapper around a `datasets.Dataset` (so it is also an ordinary saved dataset) plus a
`catalog.json` sidecar recording which model, layer, SAE and threshold it describes: feature ids
mean nothing under another SAE, so `check_fits` refuses a catalog from another setup. Later stages
(explanations, verification, task relevance) fill their columns with `update`.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fac_datasets.constants import (
    CATALOG_CONTRAST_SPANS,
    CATALOG_DOC_FREQ,
    CATALOG_EXPLAINER,
    CATALOG_EXPLANATION,
    CATALOG_FEATURE_ID,
    CATALOG_FORMAT,
    CATALOG_FORMAT_VERSION,
    CATALOG_MAX_ACTIVATION,
    CATALOG_RANDOM_SPANS,
    CATALOG_RELEVANCE,
    CATALOG_SIDECAR,
    CATALOG_TOKEN_SUMMARY,
    CATALOG_TOP_SPANS,
    CATALOG_VERIFICATION_SCORE,
)
from fac_datasets.errors import FacInputError, FacSAEError
from fac_datasets.features.counts import FeatureCounts

if TYPE_CHECKING:
    from fac_datasets.catalog.spans import MinedSpans

# What identifies the feature space: a catalog only fits a setup that agrees on these.
FIT_KEYS = ("model", "layer", "sae")
# Columns later stages set per feature; JSON columns hold dicts as strings.
UPDATABLE = (CATALOG_EXPLANATION, CATALOG_EXPLAINER, CATALOG_VERIFICATION_SCORE, CATALOG_RELEVANCE)
_JSON_COLUMNS = (CATALOG_EXPLAINER, CATALOG_RELEVANCE)


def catalog_features():
    """The column types, fixed so empty lists and all-None columns keep their types on disk."""
    from datasets import Features, List, Value

    span = {
        "text": Value("string"),
        "tokens": List(Value("string")),
        "activations": List(Value("float32")),
        "peak_index": Value("int32"),
        "activation": Value("float32"),
        "text_index": Value("int64"),
    }
    return Features(
        {
            CATALOG_FEATURE_ID: Value("int64"),
            CATALOG_DOC_FREQ: Value("int64"),
            CATALOG_MAX_ACTIVATION: Value("float32"),
            CATALOG_TOP_SPANS: List(span),
            CATALOG_RANDOM_SPANS: List(span),
            CATALOG_CONTRAST_SPANS: List(Value("string")),
            CATALOG_TOKEN_SUMMARY: List({"token": Value("string"), "count": Value("int64")}),
            CATALOG_EXPLANATION: Value("string"),
            CATALOG_EXPLAINER: Value("string"),
            CATALOG_VERIFICATION_SCORE: Value("float64"),
            CATALOG_RELEVANCE: Value("string"),
        }
    )


def token_summary(spans: list, limit: int) -> list[dict]:
    """Most frequent peak tokens (whitespace-stripped), count desc then token: deterministic."""
    counts = Counter(span.peak_token.strip() or span.peak_token for span in spans)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return [{"token": token, "count": count} for token, count in ranked]


class FeatureCatalog:
    """One row per active feature; `provenance` names the model, layer, SAE and threshold."""

    def __init__(self, dataset, provenance: dict, info: dict | None = None) -> None:
        self._dataset = dataset
        self.provenance = dict(provenance)
        self.info = dict(info or {})
        ids = np.asarray(dataset[CATALOG_FEATURE_ID], dtype=np.int64)
        self._row_of = {int(feature): row for row, feature in enumerate(ids)}

    @classmethod
    def from_spans(
        cls, spans: MinedSpans, counts: FeatureCounts | None = None, provenance: dict | None = None
    ) -> FeatureCatalog:
        """A catalog of every feature active at least once in the mined texts."""
        from datasets import Dataset

        counts = counts if counts is not None else spans.counts
        provenance = dict(provenance if provenance is not None else counts.provenance)
        if counts.provenance and counts.provenance != provenance:
            raise FacInputError(f"The counts were made with {counts.provenance}, not with {provenance}.")
        ids = counts.active()
        if not len(ids):
            raise FacInputError(
                f"No feature was active in any of the {counts.n_docs} texts (threshold "
                f"{provenance.get('threshold')}): nothing to catalog. Check that the texts are not empty."
            )
        limit = spans.config.summary_tokens
        top = [spans.top.get(int(f), []) for f in ids]
        columns = {
            CATALOG_FEATURE_ID: ids.tolist(),
            CATALOG_DOC_FREQ: counts.doc_freq[ids].tolist(),
            CATALOG_MAX_ACTIVATION: counts.max_activation[ids].astype(float).tolist(),
            CATALOG_TOP_SPANS: [[s.to_dict() for s in row] for row in top],
            CATALOG_RANDOM_SPANS: [[s.to_dict() for s in spans.weak(int(f))] for f in ids],
            CATALOG_CONTRAST_SPANS: [spans.contrast(int(f)) for f in ids],
            CATALOG_TOKEN_SUMMARY: [token_summary(row, limit) for row in top],
            CATALOG_EXPLANATION: [None] * len(ids),
            CATALOG_EXPLAINER: [None] * len(ids),
            CATALOG_VERIFICATION_SCORE: [None] * len(ids),
            CATALOG_RELEVANCE: ["{}"] * len(ids),
        }
        info = {
            "d_sae": counts.d_sae,
            "n_docs": counts.n_docs,
            "n_tokens": counts.n_tokens,
            "span_config": spans.config.model_dump(),
        }
        return cls(Dataset.from_dict(columns, features=catalog_features()), provenance, info)

    # ------------------------------------------------------------ access
    @property
    def dataset(self):
        return self._dataset

    def __len__(self) -> int:
        return len(self._dataset)

    @property
    def feature_ids(self) -> list[int]:
        return list(self._row_of)

    def __contains__(self, feature_id: object) -> bool:
        return feature_id in self._row_of

    def _index(self, feature_id: int) -> int:
        try:
            return self._row_of[int(feature_id)]
        except KeyError:
            raise FacInputError(
                f"Feature {feature_id} is not in the catalog: it was never active in the mined texts."
            ) from None

    def row(self, feature_id: int) -> dict:
        """One feature's row; the JSON columns (explainer, relevance) come back as dicts."""
        row = dict(self._dataset[self._index(feature_id)])
        for name in _JSON_COLUMNS:
            row[name] = json.loads(row[name]) if row[name] is not None else None
        return row

    def describe(self, feature_ids: Sequence[int], spans: int = 3, tokens: int = 5) -> dict[int, dict]:
        """What a user needs to act on a feature: explanation, peak tokens, a few top spans (ids not here skipped)."""
        described = {}
        for feature in feature_ids:
            if feature not in self:
                continue
            row = self.row(feature)
            described[int(feature)] = {
                "explanation": row[CATALOG_EXPLANATION],
                "verification_score": row[CATALOG_VERIFICATION_SCORE],
                "peak_tokens": [f"{e['token']} ({e['count']})" for e in row[CATALOG_TOKEN_SUMMARY][:tokens]],
                "spans": [span["text"] for span in row[CATALOG_TOP_SPANS][:spans]],
            }
        return described

    def update(self, values: Mapping[int, Mapping[str, Any]]) -> FeatureCatalog:
        """A new catalog with some features' explanation/explainer/verification_score/relevance set.

        `relevance` is merged task by task into what the feature already has, so relevance
        stages for different tasks do not overwrite each other; the other columns are replaced.
        """
        touched = sorted({name for row in values.values() for name in row})
        unknown = [name for name in touched if name not in UPDATABLE]
        if unknown:
            raise FacInputError(f"Cannot update catalog column(s) {unknown}: only {list(UPDATABLE)} can be set.")
        columns = {name: list(self._dataset[name]) for name in touched}
        for feature_id, row_values in values.items():
            row = self._index(feature_id)
            for name, value in row_values.items():
                columns[name][row] = _cell(name, value, columns[name][row])
        dataset = self._dataset
        features = catalog_features()
        for name, column in columns.items():
            dataset = dataset.remove_columns(name).add_column(name, column, feature=features[name])
        return FeatureCatalog(dataset.select_columns(self._dataset.column_names), self.provenance, self.info)

    def check_fits(self, provenance: Mapping[str, Any]) -> None:
        """Raise FacSAEError unless `provenance` has this catalog's model, layer and SAE."""
        mine = {key: self.provenance.get(key) for key in FIT_KEYS}
        theirs = {key: provenance.get(key) for key in FIT_KEYS}
        if mine != theirs:
            different = ", ".join(
                f"{key} {mine[key]!r} vs {theirs[key]!r}" for key in FIT_KEYS if mine[key] != theirs[key]
            )
            raise FacSAEError(
                f"Catalog from another SAE/model/layer ({different}): its feature ids mean something else here. "
                "Build a catalog with this SAE, or use the SAE the catalog was built with."
            )

    # ------------------------------------------------------------ persistence
    @staticmethod
    def is_catalog(folder: str | Path) -> bool:
        return (Path(folder) / CATALOG_SIDECAR).is_file()

    def save(self, folder: str | Path) -> Path:
        """save_to_disk + the sidecar into a temporary folder, then renamed over `folder` (atomic)."""
        folder = Path(folder)
        if folder.exists() and not (folder.is_dir() and (self.is_catalog(folder) or not any(folder.iterdir()))):
            raise FacInputError(f"{folder} exists and is not a feature catalog: pass a new folder (nothing written).")
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = folder.with_name(f".{folder.name}.tmp-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        self._dataset.save_to_disk(str(tmp))
        sidecar = {
            "format": CATALOG_FORMAT,
            "version": CATALOG_FORMAT_VERSION,
            "provenance": self.provenance,
            "n_features": len(self),
            **self.info,
        }
        (tmp / CATALOG_SIDECAR).write_text(json.dumps(sidecar, indent=2))
        if folder.exists():
            old = folder.with_name(f".{folder.name}.old-{os.getpid()}")
            os.replace(folder, old)
            os.replace(tmp, folder)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, folder)
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> FeatureCatalog:
        """A saved catalog; a missing, foreign or empty folder is a FacInputError saying so."""
        from datasets import load_from_disk

        folder = Path(folder)
        if not folder.exists():
            raise FacInputError(
                f"{folder}: no such folder. Build a catalog first (FeatureCatalog.from_spans(...).save)."
            )
        if not cls.is_catalog(folder):
            raise FacInputError(f"{folder} is not a feature catalog (no {CATALOG_SIDECAR}); pass a catalog folder.")
        try:
            sidecar = json.loads((folder / CATALOG_SIDECAR).read_text())
        except (OSError, ValueError) as exc:
            raise FacInputError(f"{folder / CATALOG_SIDECAR} is not valid JSON ({exc}); rebuild the catalog.") from exc
        if not isinstance(sidecar, dict) or sidecar.get("format") != CATALOG_FORMAT:
            raise FacInputError(f"{folder / CATALOG_SIDECAR} is not a feature-catalog sidecar (format tag missing).")
        if int(sidecar.get("version", 0)) > CATALOG_FORMAT_VERSION:
            raise FacInputError(f"{folder} was written by a newer fac-datasets (format {sidecar['version']}); upgrade.")
        empty = FacInputError(f"{folder} is an empty feature catalog (no features); rebuild it from more texts.")
        if sidecar.get("n_features") == 0:
            raise empty  # datasets cannot even load a saved dataset without rows
        try:
            dataset = load_from_disk(str(folder))
        except Exception as exc:  # datasets raises several types for damaged folders
            raise FacInputError(f"Cannot read the catalog dataset in {folder}: {exc}; rebuild the catalog.") from exc
        missing = sorted(set(catalog_features()) - set(dataset.column_names))
        if missing:
            raise FacInputError(f"{folder} lacks catalog column(s) {missing}; rebuild the catalog.")
        if len(dataset) == 0:
            raise empty
        info = {k: v for k, v in sidecar.items() if k not in ("format", "version", "provenance", "n_features")}
        return cls(dataset, sidecar.get("provenance", {}), info)


def _cell(name: str, value: Any, current: Any) -> Any:
    """A value as stored: dicts as JSON for the JSON columns, relevance merged by task."""
    if name == CATALOG_RELEVANCE:
        if not isinstance(value, Mapping):
            raise FacInputError(
                f"relevance must be a mapping task -> {{decision, score, method, provenance}}, got {value!r}."
            )
        return json.dumps({**json.loads(current or "{}"), **value}, sort_keys=True)
    if name == CATALOG_EXPLAINER and value is not None and not isinstance(value, str):
        return json.dumps(value, sort_keys=True)
    if name == CATALOG_VERIFICATION_SCORE and value is not None:
        return float(value)
    return value
