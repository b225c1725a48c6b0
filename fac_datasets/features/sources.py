"""Any input a FAC run takes -> its features: texts, datasets, data specs, rows or counts, checked alike.

One reader for the CLI, the Python API and the evaluate module, so a counts file is always
checked against the annotator's setup (`FeatureCounts.check_setup`: counts of another SAE or
threshold gave a wrong FAC with exit code 0), on every side (anchor, current, contrast).
Truncation warnings of the backbone are collected here and become report notes.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fac_datasets.config import AnnotatorConfig, ExtractorConfig
from fac_datasets.errors import FacInputError
from fac_datasets.features.backbone import TruncationWarning
from fac_datasets.features.counts import FeatureCounts
from fac_datasets.features.rows import FeatureRows

FeatureSpec = Any  # FeatureAnnotator | FeatureExtractor | ExtractorConfig | None (the embedded default)


@dataclass
class FeatureInput:
    """One side of a FAC run as features.

    Attributes:
        counts: its FeatureCounts (always).
        rows: per-text features, or None when it was given as counts.
        texts: its texts, or None when it was given as rows or counts (-MMD and peak tokens need them).
        name: a short label for notes and reports.
        truncated: texts cut at max_length tokens while computing its features.
    """

    counts: FeatureCounts
    rows: FeatureRows | None
    texts: list | None
    name: str
    truncated: int = 0
    max_length: int | None = field(default=None, repr=False)

    def truncation_note(self) -> str | None:
        if not self.truncated:
            return None
        return (
            f"{self.truncated} {self.name} texts were longer than max_length={self.max_length} tokens and were "
            "truncated: their features come from the first max_length tokens only. Raise max_length "
            "(--max-length) or split the long texts."
        )


class Featurizer:
    """Texts -> features with one setup: an annotator (datasets.map, cached) or a loaded extractor."""

    def __init__(self, spec: FeatureSpec = None) -> None:
        from fac_datasets.features.annotator import FeatureAnnotator
        from fac_datasets.features.extractor import FeatureExtractor

        self.annotator, self._extractor = None, None
        if isinstance(spec, FeatureExtractor):
            self._extractor = spec
        elif isinstance(spec, FeatureAnnotator):
            self.annotator = spec
        else:
            fields = spec.model_dump() if isinstance(spec, ExtractorConfig) else {}
            self.annotator = FeatureAnnotator(AnnotatorConfig(**fields))

    @property
    def extractor(self):
        return self._extractor if self._extractor is not None else self.annotator.extractor

    @property
    def provenance(self) -> dict:
        return self._extractor.provenance if self._extractor is not None else self.annotator.provenance

    @property
    def d_sae(self) -> int:
        return self._extractor.sae.d_sae if self._extractor is not None else self.annotator.d_sae

    def rows_of_texts(self, texts: Sequence, progress: bool = False) -> FeatureRows:
        return self.extractor.extract_rows(texts, progress=progress)

    def rows_of_dataset(self, dataset, column: str, num_proc: int | None = None) -> FeatureRows:
        if self.annotator is None:
            return self.extractor.extract_rows(dataset[column])
        return FeatureRows.from_dataset(self.annotator.for_column(column).annotate(dataset, num_proc=num_proc))


@contextmanager
def truncations() -> Iterator[list[TruncationWarning]]:
    """Collect the backbone's truncation warnings (they become notes); other warnings pass through."""
    found: list[TruncationWarning] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", TruncationWarning)
        yield found
    for w in caught:
        if issubclass(w.category, TruncationWarning):
            found.append(w.message)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def read_features(
    source: Any,
    featurizer: Featurizer,
    *,
    column: str | None = None,
    num_proc: int | None = None,
    name: str = "input",
    min_count: int = 0,
    progress: bool = False,
) -> FeatureInput:
    """Features of `source`: FeatureCounts, FeatureRows, a datasets.Dataset, a list of texts, or a spec
    (data file, saved dataset, Hub id, or a feature-counts file). Counts are checked against the setup."""
    from fac_datasets.inputs import check_texts, dataset_name, open_text_dataset, pick_text_column

    setup, d_sae = featurizer.provenance, featurizer.d_sae
    if isinstance(source, FeatureCounts):
        source.check_setup(setup, d_sae, f"The {name} counts")
        return FeatureInput(source, None, None, name)
    if isinstance(source, FeatureRows):
        return FeatureInput(FeatureCounts.from_rows(source, d_sae, setup), source, None, name)
    if isinstance(source, (str, Path)):
        if FeatureCounts.is_counts_file(source):
            counts = FeatureCounts.load(source)
            counts.check_setup(setup, d_sae, f"The feature-counts file {source}")
            return FeatureInput(counts, None, None, f"{name} ({dataset_name(source)})")
        dataset, column = open_text_dataset(source, column)
    elif hasattr(source, "column_names") and hasattr(source, "map"):
        dataset, column = source, pick_text_column(source, column, name)
        check_texts(dataset[column], min_count=min_count, what=f"{name} texts")
    else:
        dataset = None
        texts = check_texts(source, min_count=min_count, what=f"{name} texts")
    with truncations() as cut:
        if dataset is not None:
            rows, texts = featurizer.rows_of_dataset(dataset, column, num_proc), list(dataset[column])
        else:
            rows = featurizer.rows_of_texts(texts, progress=progress)
    counts = FeatureCounts.from_rows(rows, d_sae, setup)
    truncated = sum(w.n_truncated for w in cut)
    max_length = cut[0].max_length if cut else None
    return FeatureInput(counts, rows, texts, name, truncated, max_length)


def require_texts(side: FeatureInput, why: str) -> list:
    """The texts of a side, or one line saying it was given as counts or rows."""
    if side.texts is None:
        raise FacInputError(f"{why} needs the {side.name} texts; the {side.name} was given as counts or rows.")
    return side.texts
