"""Reference statistics of an SAE on a general corpus: feature counts and activation quantiles.

Two later steps need to know how a feature behaves on ordinary text: enrichment (is a feature
more common in the task's anchor than in general text?) and per-feature activation thresholds
(does this sample activate the feature strongly, compared with its usual activations?). Both
are computed in one pass over the corpus and saved as one small safetensors file.

Quantiles are of each feature's nonzero pooled (per-text max) activations. They come from a
seeded bottom-k sample per feature (every entry draws a uniform key; the `reservoir_size`
smallest keys of each feature are kept), so memory is bounded by `d_sae * reservoir_size`
entries, and a feature seen in at most `reservoir_size` texts gets exact quantiles.
`n_sampled` records how many activations each feature's quantiles rest on.

The file is also a valid feature-counts file (`FeatureCounts.load` reads it), so it can be
passed wherever counts are accepted.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from fac_datasets.errors import FacConfigError, FacInputError, FacSAEError
from fac_datasets.features.counts import FeatureCounts
from fac_datasets.features.rows import FeatureRows
from fac_datasets.inputs import TextInput

REFERENCE_FORMAT = "fac-datasets/reference-stats"
REFERENCE_FORMAT_VERSION = 1
REFERENCE_FILENAME = "reference_stats.safetensors"
QUANTILE_LEVELS = (0.25, 0.5, 0.75, 0.9)
DEFAULT_RESERVOIR = 2048


def default_reference_path() -> Path:
    """The reference stats shipped next to the default SAE."""
    return Path(str(resources.files("fac_datasets") / "data" / "default_sae" / REFERENCE_FILENAME))


class ActivationReservoir:
    """Per-feature uniform sample (without replacement) of activations, bounded in size, seeded."""

    def __init__(self, d_sae: int, size: int = DEFAULT_RESERVOIR, seed: int = 0) -> None:
        if size < 1:
            raise FacConfigError(f"reservoir_size must be >= 1, got {size}.")
        self.d_sae, self.size = d_sae, size
        self._rng = np.random.default_rng(seed)
        self._features = [np.empty(0, dtype=np.int64)]
        self._activations = [np.empty(0, dtype=np.float32)]
        self._keys = [np.empty(0, dtype=np.float64)]
        self._pending = 0
        self._kept = 0

    def add(self, rows: FeatureRows) -> None:
        self._features.append(rows.features.astype(np.int64))
        self._activations.append(rows.activations.astype(np.float32))
        self._keys.append(self._rng.random(rows.features.size))
        self._pending += rows.features.size
        if self._pending > max(self._kept, self.d_sae * self.size):  # amortised: compact when doubled
            self._compact()

    def _compact(self) -> None:
        features, activations, keys = (np.concatenate(p) for p in (self._features, self._activations, self._keys))
        order = np.lexsort((keys, features))  # by feature, then key
        grouped = features[order]
        rank = np.arange(grouped.size) - np.searchsorted(grouped, grouped)
        keep = np.sort(order[rank < self.size])  # arrival order; the kept set never depends on timing
        self._features, self._activations, self._keys = [features[keep]], [activations[keep]], [keys[keep]]
        self._kept, self._pending = keep.size, 0

    def quantiles(self, levels: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
        """([len(levels), d_sae] quantiles (NaN where never active), [d_sae] sample sizes)."""
        self._compact()
        features, activations = self._features[0], self._activations[0]
        order = np.lexsort((activations, features))
        features, activations = features[order], activations[order]
        counts = np.bincount(features, minlength=self.d_sae)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        out = np.full((len(levels), self.d_sae), np.nan, dtype=np.float32)
        seen = counts > 0
        for i, q in enumerate(levels):  # numpy's default 'linear' quantile
            pos = q * (counts[seen] - 1)
            lo, frac = np.floor(pos).astype(np.int64), pos - np.floor(pos)
            hi = np.minimum(lo + 1, counts[seen] - 1)
            base = starts[seen]
            out[i, seen] = activations[base + lo] * (1 - frac) + activations[base + hi] * frac
        return out, counts.astype(np.int64)


@dataclass
class ReferenceStats:
    """Counts and per-feature activation quantiles of one SAE setup on a reference corpus.

    Attributes:
        counts: document frequencies, max activations, n_docs/n_tokens and provenance.
        levels: the quantile levels stored, e.g. (0.25, 0.5, 0.75, 0.9).
        quantiles: [len(levels), d_sae] quantiles of nonzero pooled activations (NaN: never active).
        n_sampled: [d_sae] activations each feature's quantiles rest on (= doc_freq when exact).
        meta: corpus description and how the stats were built (dtype, reservoir, seed, seconds).
    """

    counts: FeatureCounts
    levels: tuple[float, ...]
    quantiles: np.ndarray
    n_sampled: np.ndarray
    meta: dict = field(default_factory=dict)

    @property
    def provenance(self) -> dict:
        return self.counts.provenance

    @property
    def d_sae(self) -> int:
        return self.counts.d_sae

    def quantile(self, q: float) -> np.ndarray:
        """[d_sae] the stored q-quantile of each feature (NaN where never active on the reference)."""
        for i, level in enumerate(self.levels):
            if abs(level - q) < 1e-9:
                return self.quantiles[i]
        raise FacConfigError(
            f"activation_quantile={q} is not stored in these reference stats (stored: {list(self.levels)}); "
            f"pick one of them or rebuild with `fac reference-counts`."
        )

    def check_provenance(self, provenance: dict, where: str = "the reference stats") -> None:
        """FacSAEError unless these stats were made by the same model, layer, SAE and threshold."""
        mine = self.provenance
        diff = {
            k: (mine.get(k), provenance.get(k)) for k in set(mine) | set(provenance) if mine.get(k) != provenance.get(k)
        }
        if diff:
            shown = ", ".join(f"{k}: {a!r} (reference) vs {b!r} (yours)" for k, (a, b) in sorted(diff.items()))
            raise FacSAEError(
                f"{where} were built for another feature setup ({shown}). Build reference stats for your "
                "model/SAE with `fac reference-counts --corpus DATA --out FILE --model M --sae S` and pass that file."
            )

    # ------------------------------------------------------------ persistence
    def save(self, path: str | Path) -> Path:
        """One safetensors file: dense arrays + JSON metadata (readable by `FeatureCounts.load` too)."""
        import torch
        from safetensors.torch import save_file

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        c = self.counts
        meta = {
            "format": REFERENCE_FORMAT,
            "version": REFERENCE_FORMAT_VERSION,
            "d_sae": c.d_sae,
            "n_docs": c.n_docs,
            "n_tokens": c.n_tokens,
            "provenance": c.provenance,
            "levels": list(self.levels),
            "meta": self.meta,
        }
        tensors = {
            "doc_freq": torch.from_numpy(c.doc_freq.astype(np.int32)),
            "max_activation": torch.from_numpy(c.max_activation.astype(np.float32)),
            "quantiles": torch.from_numpy(np.ascontiguousarray(self.quantiles, dtype=np.float32)),
            "n_sampled": torch.from_numpy(self.n_sampled.astype(np.int32)),
        }
        save_file(tensors, str(path), metadata={k: json.dumps(v) for k, v in meta.items()})
        return path

    @classmethod
    def load(cls, path: str | Path) -> ReferenceStats:
        from safetensors import safe_open

        path = Path(path)
        if not path.is_file():
            raise FacInputError(f"{path}: no such reference-stats file; build one with `fac reference-counts`.")
        try:
            with safe_open(str(path), framework="np") as f:
                meta = {k: json.loads(v) for k, v in (f.metadata() or {}).items()}
                if meta.get("format") != REFERENCE_FORMAT:
                    raise FacInputError(
                        f"{path} is not a reference-stats file (format {meta.get('format')!r}); "
                        "build one with `fac reference-counts`."
                    )
                counts = FeatureCounts(
                    int(meta["d_sae"]), int(meta["n_docs"]), int(meta["n_tokens"]), provenance=meta["provenance"]
                )
                counts.doc_freq = f.get_tensor("doc_freq").astype(np.int64)
                counts.max_activation = f.get_tensor("max_activation").astype(np.float32)
                return cls(
                    counts,
                    tuple(float(q) for q in meta["levels"]),
                    f.get_tensor("quantiles").astype(np.float32),
                    f.get_tensor("n_sampled").astype(np.int64),
                    meta.get("meta", {}),
                )
        except (OSError, ValueError, KeyError) as exc:
            raise FacInputError(f"Cannot read reference stats from {path}: {exc}") from exc


class ReferenceBuilder:
    """Accumulates counts and activation samples batch by batch; `finish` gives the ReferenceStats.

    Rows must arrive in corpus order for a reproducible sample; how they are batched does not
    matter, so a long build can save each batch's rows and resume from them.
    """

    def __init__(
        self,
        d_sae: int,
        provenance: dict,
        *,
        levels: Sequence[float] = QUANTILE_LEVELS,
        reservoir_size: int = DEFAULT_RESERVOIR,
        seed: int = 0,
    ) -> None:
        if any(not 0 <= q <= 1 for q in levels):
            raise FacConfigError(f"Quantile levels must lie in [0, 1], got {list(levels)}.")
        self.counts = FeatureCounts(d_sae, provenance=dict(provenance))
        self.levels = tuple(float(q) for q in levels)
        self.reservoir = ActivationReservoir(d_sae, reservoir_size, seed)
        self.seed = seed

    def add(self, rows: FeatureRows) -> None:
        self.counts = self.counts + FeatureCounts.from_rows(rows, self.counts.d_sae, self.counts.provenance)
        self.reservoir.add(rows)

    def finish(self, corpus: str | dict, dtype: str, seconds: float) -> ReferenceStats:
        if self.counts.n_docs == 0:
            raise FacInputError("The reference corpus is empty: pass at least one text.")
        size = self.reservoir.size
        quantiles, n_sampled = self.reservoir.quantiles(self.levels)
        meta = {
            "corpus": corpus,
            "dtype": dtype,
            "quantile_method": (
                f"seeded bottom-k sample of <= {size} nonzero pooled activations per feature "
                f"(exact where doc_freq <= {size}); numpy 'linear' quantiles"
            ),
            "reservoir_size": size,
            "seed": self.seed,
            "n_exact_features": int(((self.counts.doc_freq <= size) & (self.counts.doc_freq > 0)).sum()),
            "seconds": round(seconds, 1),
        }
        return ReferenceStats(self.counts, self.levels, quantiles, n_sampled, meta)


def build_reference(
    extractor,
    texts: Sequence[TextInput],
    *,
    corpus: str | dict = "",
    levels: Sequence[float] = QUANTILE_LEVELS,
    reservoir_size: int = DEFAULT_RESERVOIR,
    seed: int = 0,
    batch_texts: int = 256,
    progress: bool = False,
) -> ReferenceStats:
    """Counts and activation quantiles of `extractor`'s features over `texts`, in one pass.

    `corpus` describes the texts (recorded in the file). Texts are extracted `batch_texts` at a
    time, so memory stays bounded by the reservoir, not the corpus.
    """
    if not texts:
        raise FacInputError("The reference corpus is empty: pass at least one text.")
    builder = ReferenceBuilder(
        extractor.sae.d_sae, extractor.provenance, levels=levels, reservoir_size=reservoir_size, seed=seed
    )
    start = time.perf_counter()
    for begin in range(0, len(texts), batch_texts):
        builder.add(extractor.extract_rows(texts[begin : begin + batch_texts]))
        if progress:
            done = min(begin + batch_texts, len(texts))
            elapsed = time.perf_counter() - start
            print(f"reference: {done}/{len(texts)} texts, {elapsed:.0f} s", file=sys.stderr, flush=True)
    return builder.finish(corpus, extractor_dtype(extractor), time.perf_counter() - start)


def extractor_dtype(extractor) -> str:
    """'float32' or 'bfloat16': the backbone dtype the features were computed in."""
    return str(getattr(extractor.backbone, "dtype", "unknown")).replace("torch.", "")


def load_reference(spec: str | Path = "default", provenance: dict | None = None) -> ReferenceStats:
    """Reference stats by spec ('default' = shipped for the default SAE, or a file path).

    With `provenance` (an extractor's or annotator's), a mismatch is a FacSAEError: stats of
    another SAE would silently mean other features.
    """
    path = default_reference_path() if str(spec) == "default" else Path(spec).expanduser()
    if str(spec) == "default" and not path.is_file():
        raise FacSAEError(f"The default reference stats are missing from the installation ({path}). Reinstall.")
    stats = ReferenceStats.load(path)
    if provenance is not None:
        stats.check_provenance(provenance, f"Reference stats {spec!s}")
    return stats


def default_corpus_texts() -> tuple[list, dict]:
    """The default SAE's training chunks (held-out chunks left out) and their description."""
    from fac_datasets.sae.corpus import default_corpus, describe_default_corpus

    chunks = default_corpus()
    texts = [chunk.content for chunk in chunks if not chunk.heldout]
    description = {
        "name": "default SAE training corpus",
        "split": f"training chunks only: {len(texts)} of {len(chunks)} (held-out chunks left out)",
        **describe_default_corpus(),
    }
    return texts, description
