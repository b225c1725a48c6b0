"""Span mining: one streaming pass that keeps, per SAE feature, the contexts that show what it means.

Per feature: the top-N contexts by peak activation, a seeded uniform sample of activating contexts
(the weak examples come from it), and, from a seeded sample of whole texts, contexts in which it
does not fire; plus `FeatureCounts` over the same pass, so the catalog needs no second one. Texts
go in shards saved to disk, so a killed run resumes; memory is bounded by the config, not the corpus.

A window is a run of content tokens (what the SAE saw) around the peak token; tokens dropped as
norm outliers are not in it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fac_datasets.catalog.tables import ContrastPool, TopTable, Windows, uniform
from fac_datasets.config import SpanConfig
from fac_datasets.constants import (
    PEAK_MARK_CLOSE,
    PEAK_MARK_OPEN,
    SPAN_SHARD_FORMAT,
    SPAN_SHARD_FORMAT_VERSION,
    SPAN_SHARD_PATTERN,
)
from fac_datasets.errors import FacInputError
from fac_datasets.features.backbone import ActivationBatch
from fac_datasets.features.counts import FeatureCounts
from fac_datasets.features.extractor import FeatureExtractor, pool_max
from fac_datasets.inputs import TextInput, open_text_dataset, pick_text_column

if TYPE_CHECKING:
    import torch

PEAK_MARK = (PEAK_MARK_OPEN, PEAK_MARK_CLOSE)
# A marked peak: the marks around a token that neither starts nor ends with whitespace (`mark_peak` keeps it outside).
_MARKED_PEAK = re.compile(re.escape(PEAK_MARK_OPEN) + r"(\S(?:[^\n]*?\S)??)" + re.escape(PEAK_MARK_CLOSE))
_CONTRAST_KEY = -1  # hash key of the contrast pool, apart from every feature id
_WINDOW_CHUNK = 4096  # candidates per vectorised window gather ([chunk, width, k] temporaries)


@dataclass(frozen=True)
class Span:
    """One context: a token window around the feature's peak in text `text_index`."""

    text_index: int
    activation: float
    peak_index: int
    tokens: list[str]
    activations: list[float]
    text: str

    @property
    def peak_token(self) -> str:
        return self.tokens[self.peak_index]

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class MinedSpans:
    """Decoded result of a mining run: what `FeatureCatalog.from_spans` reads."""

    top: dict[int, list[Span]]
    random: dict[int, list[Span]]
    contrast_texts: list[str]
    contrast_text_index: list[int]
    contrast_active: np.ndarray  # [pool size, d_sae] bool: feature fires somewhere in that text
    counts: FeatureCounts
    config: SpanConfig

    @property
    def provenance(self) -> dict:
        return self.counts.provenance

    def weak(self, feature: int) -> list[Span]:
        """Sampled contexts below the sample's median activation, strongest last."""
        sample = self.random.get(feature, [])
        if not sample:
            return []
        median = float(np.median([s.activation for s in sample]))
        return sorted((s for s in sample if s.activation < median), key=lambda s: (s.activation, s.text_index))

    def contrast_rows(self, feature: int) -> np.ndarray:
        """Pool rows of up to `contrast_per_feature` texts in which `feature` fires nowhere (seeded pick)."""
        eligible = np.flatnonzero(~self.contrast_active[:, feature])
        picked = np.random.default_rng([self.config.seed, feature]).permutation(eligible)
        return picked[: self.config.contrast_per_feature]

    def contrast(self, feature: int) -> list[str]:
        """The windows of those texts (their first content tokens)."""
        return [self.contrast_texts[i] for i in self.contrast_rows(feature)]


def split_peak(text: str) -> tuple[str, str, str] | None:
    """(before, peak token, after) of the first marked peak in `text`, or None when nothing is marked."""
    found = _MARKED_PEAK.search(text)
    if found is None:
        return None
    return text[: found.start()], found.group(1), text[found.end() :]


def strip_peak_marks(text: str) -> str:
    """`text` with every marked peak unmarked ("the <<sea>> shore" -> "the sea shore"); other << >> stay."""
    return _MARKED_PEAK.sub(r"\1", text)


def has_peak_mark(text: str) -> bool:
    """`text` holds a marked peak like <<this>> (a generator copied it from a prompt)."""
    return _MARKED_PEAK.search(text) is not None


def mark_peak(before: str, peak: str, after: str) -> str:
    """The window as text with the peak token marked; its surrounding whitespace stays outside."""
    core = peak.strip()
    if not core:
        return f"{before}{PEAK_MARK[0]}{peak}{PEAK_MARK[1]}{after}"
    lead, trail = peak[: len(peak) - len(peak.lstrip())], peak[len(peak.rstrip()) :]
    return f"{before}{lead}{PEAK_MARK[0]}{core}{PEAK_MARK[1]}{trail}{after}"


class SpanState:
    """Everything one pass keeps: mergeable with `+`, saved per shard, bounded by the config."""

    def __init__(self, d_sae: int, config: SpanConfig, provenance: dict | None = None) -> None:
        self.d_sae, self.config = d_sae, config
        self.width = config.window_before + config.window_after + 1
        self.top = TopTable(d_sae, config.top_n, self.width)
        self.random = TopTable(d_sae, config.random_per_feature, self.width)
        self.contrast = ContrastPool(config.contrast_reservoir, self.width)
        self.counts = FeatureCounts(d_sae, provenance=dict(provenance or {}))

    # ------------------------------------------------------------ one batch
    def update(
        self,
        batch: ActivationBatch,
        top_acts: torch.Tensor,
        top_indices: torch.Tensor,
        offset: int,
        threshold: float,
    ) -> None:
        """Add one activation batch; `offset` turns batch indices into corpus text indices."""
        n_samples = len(batch.indices)
        pooled = pool_max(batch.sample_ids, top_acts, top_indices, n_samples, self.d_sae).numpy()
        active = pooled > threshold
        counts = self.counts
        counts.n_docs += n_samples
        counts.n_tokens += sum(batch.n_content_tokens)
        counts.doc_freq += active.sum(axis=0)
        if n_samples:
            np.maximum(counts.max_activation, np.where(active, pooled, 0).max(axis=0), out=counts.max_activation)
        if not len(batch.sample_ids):
            return
        texts = offset + np.asarray(batch.indices, dtype=np.int64)
        acts, idx = top_acts.float().numpy(), top_indices.numpy().astype(np.int64)
        sample_ids = batch.sample_ids.numpy()
        starts = np.searchsorted(sample_ids, np.arange(n_samples), side="left")
        ends = np.searchsorted(sample_ids, np.arange(n_samples), side="right")

        # The peak of each active (text, feature): the earliest token holding the pooled max.
        k = acts.shape[1]
        flat_sample, flat_feature, flat_act = np.repeat(sample_ids, k), idx.ravel(), acts.ravel()
        is_peak = (flat_act > threshold) & (flat_act == pooled[flat_sample, flat_feature])
        candidates = np.flatnonzero(is_peak)
        _, first = np.unique(flat_sample[candidates] * self.d_sae + flat_feature[candidates], return_index=True)
        candidates = candidates[first]
        sample, feature, act = flat_sample[candidates], flat_feature[candidates], flat_act[candidates]
        token, text = candidates // k, texts[flat_sample[candidates]]

        top_in = self.top.admits(feature, act.astype(np.float64), text)
        random_score = uniform(self.config.seed, text, feature)
        random_in = self.random.admits(feature, random_score, text)
        need = top_in | random_in
        if need.any():
            windows = self._windows(
                batch, acts, idx, feature[need], token[need], starts[sample[need]], ends[sample[need]]
            )
            self.top.insert(feature[top_in], act[top_in].astype(np.float64), text[top_in], windows.take(top_in[need]))
            self.random.insert(
                feature[random_in], random_score[random_in], text[random_in], windows.take(random_in[need])
            )
        self._add_contrast(batch, texts, starts, ends, active)

    def _windows(
        self,
        batch: ActivationBatch,
        acts: np.ndarray,
        idx: np.ndarray,
        feature: np.ndarray,
        token: np.ndarray,
        start: np.ndarray,
        end: np.ndarray,
    ) -> Windows:
        """Token windows (clipped to the text's kept tokens, so the peak is always inside)."""
        lo = np.maximum(start, token - self.config.window_before)
        length = np.minimum(end, token + self.config.window_after + 1) - lo
        offsets = np.arange(self.width)
        valid = offsets < length[:, None]
        where = np.where(valid, lo[:, None] + offsets, token[:, None])
        window_acts = np.zeros(where.shape, dtype=np.float32)
        for begin in range(0, len(feature), _WINDOW_CHUNK):
            part = slice(begin, begin + _WINDOW_CHUNK)
            match = idx[where[part]] == feature[part, None, None]
            window_acts[part] = np.where(match, acts[where[part]], 0).max(axis=-1)
        window_acts[~valid] = 0
        tokens = np.where(valid, batch.token_ids.numpy()[where], -1).astype(np.int32)
        peak_acts = window_acts[np.arange(len(token)), token - lo]
        return Windows(peak_acts, (token - lo).astype(np.int32), length.astype(np.int32), tokens, window_acts)

    def _add_contrast(
        self, batch: ActivationBatch, texts: np.ndarray, starts: np.ndarray, ends: np.ndarray, active: np.ndarray
    ) -> None:
        samples = np.flatnonzero(ends > starts)  # a text with no kept token shows nothing
        score = uniform(self.config.seed, texts[samples], _CONTRAST_KEY)
        admitted = self.contrast.admits(score, texts[samples])
        if not admitted.any():
            return
        samples, score = samples[admitted], score[admitted]
        length = np.minimum(ends[samples] - starts[samples], self.width)
        offsets = np.arange(self.width)
        valid = offsets < length[:, None]
        where = np.where(valid, starts[samples, None] + offsets, starts[samples, None])
        tokens = np.where(valid, batch.token_ids.numpy()[where], -1).astype(np.int32)
        firing = [np.flatnonzero(active[s]).astype(np.int64) for s in samples]
        self.contrast.insert(score, texts[samples], length.astype(np.int32), tokens, firing)

    # ------------------------------------------------------------ combining
    def merge(self, other: SpanState) -> SpanState:
        """The state of one pass over both states' texts (top-N, samples and counts exactly)."""
        if other.config != self.config or other.d_sae != self.d_sae:
            raise FacInputError(
                f"Cannot merge span states mined with different settings: {self.config} vs {other.config}."
            )
        merged = SpanState(self.d_sae, self.config)
        merged.counts = self.counts + other.counts
        merged.top, merged.random = self.top.merge(other.top), self.random.merge(other.random)
        merged.contrast = self.contrast.merge(other.contrast)
        return merged

    __add__ = merge

    # ------------------------------------------------------------ persistence
    def save(self, path: str | Path, meta: dict | None = None) -> Path:
        """Atomic safetensors write (tmp + rename): a killed run never leaves a half shard."""
        from safetensors.numpy import save_file

        path = Path(path)
        arrays = {
            **self.top.to_arrays("top"),
            **self.random.to_arrays("random"),
            **self.contrast.to_arrays("contrast"),
            "counts.doc_freq": self.counts.doc_freq,
            "counts.max_activation": self.counts.max_activation,
        }
        header = {
            **(meta or {}),
            "format": SPAN_SHARD_FORMAT,
            "version": SPAN_SHARD_FORMAT_VERSION,
            "d_sae": self.d_sae,
            "config": self.config.model_dump(),
            "provenance": self.counts.provenance,
            "n_docs": self.counts.n_docs,
            "n_tokens": self.counts.n_tokens,
        }
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        save_file(arrays, str(tmp), metadata={key: json.dumps(value) for key, value in header.items()})
        os.replace(tmp, path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> tuple[SpanState, dict]:
        """(state, header) of a saved shard."""
        from safetensors import safe_open

        path = Path(path)
        try:
            with safe_open(str(path), framework="np") as handle:
                header = {key: json.loads(value) for key, value in (handle.metadata() or {}).items()}
                arrays = {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118
            if header.get("format") != SPAN_SHARD_FORMAT:
                raise ValueError("not a span shard (no format tag)")
            config = SpanConfig(**header["config"])
            d_sae = int(header["d_sae"])
        except Exception as exc:  # safetensors raises its own types for damaged files
            raise FacInputError(f"Cannot read span shard {path}: {exc}. Delete it to mine that shard again.") from exc
        state = cls(d_sae, config, header.get("provenance"))
        width = state.width
        state.top = TopTable.from_arrays(arrays, "top", d_sae, config.top_n, width)
        state.random = TopTable.from_arrays(arrays, "random", d_sae, config.random_per_feature, width)
        state.contrast = ContrastPool.from_arrays(arrays, "contrast", config.contrast_reservoir, width)
        state.counts.n_docs, state.counts.n_tokens = int(header["n_docs"]), int(header["n_tokens"])
        state.counts.doc_freq = arrays["counts.doc_freq"].astype(np.int64)
        state.counts.max_activation = arrays["counts.max_activation"].astype(np.float32)
        return state, header

    # ------------------------------------------------------------ decoding
    def decode(self, tokenizer) -> MinedSpans:
        """Token ids -> strings, once at the end (the state itself stays numeric and compact)."""
        pool = self.contrast
        windows = [row[:n].tolist() for row, n in zip(pool.tokens, pool.length, strict=True)]
        contrast_texts = _batch_decode(tokenizer, windows)
        contrast_active = np.zeros((len(pool.active), self.d_sae), dtype=bool)
        for row, firing in enumerate(pool.active):
            contrast_active[row, firing] = True
        return MinedSpans(
            top=_decode_table(self.top, tokenizer),
            random=_decode_table(self.random, tokenizer),
            contrast_texts=contrast_texts,
            contrast_text_index=pool.text.tolist(),
            contrast_active=contrast_active,
            counts=self.counts,
            config=self.config,
        )


def _batch_decode(tokenizer, sequences: list[list[int]]) -> list[str]:
    if not sequences:
        return []
    return tokenizer.batch_decode(sequences, skip_special_tokens=False, clean_up_tokenization_spaces=False)


def _decode_table(table: TopTable, tokenizer) -> dict[int, list[Span]]:
    """Spans per feature, in table order (best first); each distinct token is decoded once."""
    feature, _, text, windows = table.entries()
    if not len(feature):
        return {}
    ids = [row[:n].tolist() for row, n in zip(windows.tokens, windows.length, strict=True)]
    vocab = np.unique(windows.tokens[windows.tokens >= 0])
    pieces = dict(zip(vocab.tolist(), _batch_decode(tokenizer, [[int(i)] for i in vocab]), strict=True))
    segments = []
    for row, peak in zip(ids, windows.peak.tolist(), strict=True):
        segments.extend((row[:peak], row[peak : peak + 1], row[peak + 1 :]))
    decoded = _batch_decode(tokenizer, segments)
    spans: dict[int, list[Span]] = {}
    for i, row in enumerate(ids):
        before, peak, after = decoded[3 * i : 3 * i + 3]
        n = int(windows.length[i])
        spans.setdefault(int(feature[i]), []).append(
            Span(
                text_index=int(text[i]),
                activation=float(windows.activation[i]),
                peak_index=int(windows.peak[i]),
                tokens=[pieces[t] for t in row],
                activations=windows.acts[i, :n].astype(float).tolist(),
                text=mark_peak(before, peak, after),
            )
        )
    return spans


# ------------------------------------------------------------------ the run
def text_sequence(texts: Any, column: str | None = None) -> Sequence[TextInput]:
    """A sliceable sequence of texts from a list, a `datasets.Dataset`, or a file/folder/Hub id."""
    if isinstance(texts, str | Path):
        dataset, column = open_text_dataset(texts, column)
        return dataset[column]
    if hasattr(texts, "column_names"):  # a datasets.Dataset
        return texts[pick_text_column(texts, column)]
    if texts is None or not hasattr(texts, "__getitem__") or not hasattr(texts, "__len__"):
        raise FacInputError(
            f"Cannot mine spans from a {type(texts).__name__}: pass a list of texts, a Dataset or a path."
        )
    return texts


def mine_shard(
    extractor: FeatureExtractor, texts: Sequence[TextInput], start: int, config: SpanConfig, progress=None
) -> SpanState:
    """The state of texts[start : start + len(texts)] of a corpus (text indices count from `start`)."""
    state = SpanState(extractor.sae.d_sae, config, extractor.provenance)
    reference = extractor.sae.cfg.reference_norm
    for batch in extractor.backbone.iter_activations(texts, reference_norm=reference):
        top_acts, top_indices = extractor.sae.encode(batch.hidden)
        state.update(batch, top_acts, top_indices, start, extractor.threshold)
        if progress is not None:
            progress.update(len(batch.indices))
    return state


def _fingerprint(texts: Sequence[TextInput]) -> str:
    payload = json.dumps(list(texts), ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _check_shard(path: Path, header: dict, expected: dict, out_dir: Path) -> None:
    different = sorted(key for key, value in expected.items() if header.get(key) != value)
    if different:
        raise FacInputError(
            f"{path} was mined from other texts or with other settings (differs in: {', '.join(different)}). "
            f"Pass a new out_dir, or delete {out_dir} to start over."
        )


def mine_spans(
    extractor: FeatureExtractor,
    texts: Any,
    out_dir: str | Path,
    config: SpanConfig | None = None,
    *,
    column: str | None = None,
    progress: bool = True,
) -> MinedSpans:
    """Mine spans of every feature over `texts`, shard by shard; finished shards in `out_dir` are skipped.

    `texts`: a list of strings or chat message lists, a `datasets.Dataset` (with `column`), or a
    data file / saved dataset folder / Hub dataset id. Shards are checked against the texts and
    settings, so a folder from another run is an error, never silently mixed in.
    """
    from tqdm.auto import tqdm

    config = config or SpanConfig()
    items = text_sequence(texts, column)
    if len(items) == 0:
        raise FacInputError("No texts to mine spans from: pass at least one text.")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    provenance = extractor.provenance
    total: SpanState | None = None
    with tqdm(total=len(items), desc="Mining spans", unit="text", disable=not progress) as bar:
        for index, start in enumerate(range(0, len(items), config.shard_size)):
            chunk = list(items[start : start + config.shard_size])
            expected = {
                "start": start,
                "n_texts": len(chunk),
                "fingerprint": _fingerprint(chunk),
                "config": config.model_dump(),
                "provenance": provenance,
                "d_sae": extractor.sae.d_sae,
            }
            path = out_dir / SPAN_SHARD_PATTERN.format(index=index)
            if path.is_file():
                shard, header = SpanState.load(path)
                _check_shard(path, header, expected, out_dir)
                bar.update(len(chunk))
            else:
                shard = mine_shard(extractor, chunk, start, config, bar)
                shard.save(path, {key: expected[key] for key in ("start", "n_texts", "fingerprint")})
            total = shard if total is None else total.merge(shard)
    return total.decode(extractor.backbone.tokenizer)
