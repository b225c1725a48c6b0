"""Bounded, mergeable per-feature selections of contexts, as numpy arrays.

A `TopTable` keeps, per feature, the `capacity` entries with the highest score, ties broken by the
smaller text index. That order is total (a text holds one entry per feature), so the table of a
corpus equals the merge of the tables of its shards. With the activation as score it is the top-N;
with a seeded hash of (text, feature) as score it is a uniform sample without replacement
(bottom-k sampling), which merges exactly too. `ContrastPool` is the same idea for whole texts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fac_datasets.errors import FacInputError

_EMPTY = np.iinfo(np.int64).max  # text index of an empty slot: sorts after every real text
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a fixed, platform-independent hash of uint64 arrays."""
    x = x + _GOLDEN
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def uniform(seed: int, *keys: np.ndarray) -> np.ndarray:
    """Seeded uniform [0, 1) value per key tuple: the same for a text whichever shard or batch holds it."""
    shape = np.broadcast_shapes(*(np.shape(k) for k in keys))
    h = _mix(np.full(shape, seed & 0xFFFFFFFFFFFFFFFF, dtype=np.uint64))
    for key in keys:
        h = _mix(h ^ np.asarray(key, dtype=np.int64).astype(np.uint64))
    return (h >> np.uint64(11)).astype(np.float64) * 2.0**-53


def rank_within(groups: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Rank of each element inside its group, for elements visited in `order` (groups sorted)."""
    sorted_groups = groups[order]
    ranks = np.empty(len(groups), dtype=np.int64)
    ranks[order] = np.arange(len(groups)) - np.searchsorted(sorted_groups, sorted_groups, side="left")
    return ranks


@dataclass
class Windows:
    """What a table stores per entry besides its sort keys: the token window around the peak."""

    activation: np.ndarray  # [m] float32 peak activation of the feature in the text
    peak: np.ndarray  # [m] int32 index of the peak token inside the window
    length: np.ndarray  # [m] int32 tokens in the window
    tokens: np.ndarray  # [m, width] int32 token ids, -1 past `length`
    acts: np.ndarray  # [m, width] float32 the feature's activation per window token

    def take(self, index: np.ndarray) -> Windows:
        return Windows(*(getattr(self, name)[index] for name in _WINDOW_FIELDS))

    @staticmethod
    def concat(parts: list[Windows]) -> Windows:
        return Windows(*(np.concatenate([getattr(p, name) for p in parts]) for name in _WINDOW_FIELDS))


_WINDOW_FIELDS = ("activation", "peak", "length", "tokens", "acts")


class TopTable:
    """Per feature, the `capacity` best (score desc, text index asc) entries with their windows."""

    def __init__(self, d_sae: int, capacity: int, width: int) -> None:
        self.d_sae, self.capacity, self.width = d_sae, capacity, width
        self.score = np.full((d_sae, capacity), -np.inf)
        self.text = np.full((d_sae, capacity), _EMPTY, dtype=np.int64)
        self.windows = Windows(
            np.zeros((d_sae, capacity), np.float32),
            np.zeros((d_sae, capacity), np.int32),
            np.zeros((d_sae, capacity), np.int32),
            np.full((d_sae, capacity, width), -1, np.int32),
            np.zeros((d_sae, capacity, width), np.float32),
        )

    def admits(self, feature: np.ndarray, score: np.ndarray, text: np.ndarray) -> np.ndarray:
        """Which candidates would enter: best `capacity` of the batch per feature, and better than the last kept."""
        if self.capacity == 0 or not len(feature):
            return np.zeros(len(feature), dtype=bool)
        in_batch = rank_within(feature, np.lexsort((text, -score, feature))) < self.capacity
        last_score, last_text = self.score[feature, -1], self.text[feature, -1]
        better = (score > last_score) | ((score == last_score) & (text < last_text))
        return in_batch & better

    def insert(self, feature: np.ndarray, score: np.ndarray, text: np.ndarray, windows: Windows) -> None:
        """Add entries; each feature keeps its best `capacity`, sorted best first."""
        if self.capacity == 0 or not len(feature):
            return
        touched = np.unique(feature)
        held = self.text[touched] != _EMPTY
        old_feature = np.repeat(touched, self.capacity).reshape(len(touched), self.capacity)[held]
        all_feature = np.concatenate([old_feature, feature])
        all_score = np.concatenate([self.score[touched][held], score])
        all_text = np.concatenate([self.text[touched][held], text])
        all_windows = Windows.concat([self.windows.take(touched).take(held), windows])
        order = np.lexsort((all_text, -all_score, all_feature))
        ranks = rank_within(all_feature, order)
        keep = ranks < self.capacity
        self.score[touched], self.text[touched] = -np.inf, _EMPTY
        self.windows.tokens[touched], self.windows.acts[touched] = -1, 0.0
        rows, slots = all_feature[keep], ranks[keep]
        self.score[rows, slots], self.text[rows, slots] = all_score[keep], all_text[keep]
        for name in _WINDOW_FIELDS:
            getattr(self.windows, name)[rows, slots] = getattr(all_windows, name)[keep]

    def entries(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, Windows]:
        """(feature, score, text, windows) of every filled slot, best first per feature."""
        rows, slots = np.nonzero(self.text != _EMPTY)
        return rows, self.score[rows, slots], self.text[rows, slots], self.windows.take((rows, slots))

    def merge(self, other: TopTable) -> TopTable:
        """A new table: exactly what one pass over both tables' texts would have kept."""
        if (other.d_sae, other.capacity, other.width) != (self.d_sae, self.capacity, self.width):
            raise FacInputError("Cannot merge span tables of different shapes: the shards used different settings.")
        merged = TopTable(self.d_sae, self.capacity, self.width)
        merged.insert(*self.entries())
        merged.insert(*other.entries())
        return merged

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        feature, score, text, windows = self.entries()
        arrays = {"feature": feature.astype(np.int64), "score": score, "text": text}
        arrays.update({name: getattr(windows, name) for name in _WINDOW_FIELDS})
        return {f"{prefix}.{name}": np.ascontiguousarray(value) for name, value in arrays.items()}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], prefix: str, d_sae: int, capacity: int, width: int) -> TopTable:
        table = cls(d_sae, capacity, width)
        get = lambda name: arrays[f"{prefix}.{name}"]  # noqa: E731
        table.insert(get("feature"), get("score"), get("text"), Windows(*(get(name) for name in _WINDOW_FIELDS)))
        return table


class ContrastPool:
    """A seeded uniform sample of whole texts, each with the set of features active in it."""

    def __init__(self, size: int, width: int) -> None:
        self.size, self.width = size, width
        self.score = np.zeros(0)
        self.text = np.zeros(0, dtype=np.int64)
        self.length = np.zeros(0, dtype=np.int32)
        self.tokens = np.zeros((0, width), dtype=np.int32)
        self.active: list[np.ndarray] = []

    def admits(self, score: np.ndarray, text: np.ndarray) -> np.ndarray:
        """Which candidates would be among the best `size` of the pool plus the candidates."""
        all_score, all_text = np.concatenate([self.score, score]), np.concatenate([self.text, text])
        kept = np.zeros(len(all_score), dtype=bool)
        kept[np.lexsort((all_text, -all_score))[: self.size]] = True
        return kept[len(self.score) :]

    def insert(
        self, score: np.ndarray, text: np.ndarray, length: np.ndarray, tokens: np.ndarray, active: list[np.ndarray]
    ) -> None:
        all_score, all_text = np.concatenate([self.score, score]), np.concatenate([self.text, text])
        order = np.lexsort((all_text, -all_score))[: self.size]
        all_active = [*self.active, *active]
        self.score, self.text = all_score[order], all_text[order]
        self.length = np.concatenate([self.length, length])[order]
        self.tokens = np.concatenate([self.tokens, tokens])[order]
        self.active = [all_active[i] for i in order]

    def merge(self, other: ContrastPool) -> ContrastPool:
        merged = ContrastPool(self.size, self.width)
        merged.insert(self.score, self.text, self.length, self.tokens, self.active)
        merged.insert(other.score, other.text, other.length, other.tokens, other.active)
        return merged

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        sizes = np.array([len(a) for a in self.active], dtype=np.int64)
        flat = np.concatenate(self.active).astype(np.int64) if self.active else np.zeros(0, dtype=np.int64)
        arrays = {
            "score": self.score,
            "text": self.text,
            "length": self.length,
            "tokens": self.tokens,
            "active_sizes": sizes,
            "active": flat,
        }
        return {f"{prefix}.{name}": np.ascontiguousarray(value) for name, value in arrays.items()}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], prefix: str, size: int, width: int) -> ContrastPool:
        pool = cls(size, width)
        get = lambda name: arrays[f"{prefix}.{name}"]  # noqa: E731
        active = np.split(get("active"), np.cumsum(get("active_sizes"))[:-1]) if len(get("active_sizes")) else []
        pool.insert(get("score"), get("text"), get("length"), get("tokens"), list(active))
        return pool
