"""The novelty filter: a sample that nearly copies an anchor, current or already accepted text adds nothing.

Generators asked for a feature happily return its real top span, or the good example, almost
verbatim. Two measures: word 3-gram Jaccard (no model; an inverted index keeps it fast on large
anchors) or MiniLM cosine (paraphrases too). The measure and threshold go into the report.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

from fac_datasets.inputs import TextInput

NEAR_DUPLICATE = "near_duplicate"
_WORD = re.compile(r"\w+")


def plain_text(item: TextInput) -> str:
    """A string for comparison: chat messages are joined by blank lines."""
    return item if isinstance(item, str) else "\n\n".join(str(m.get("content", "")) for m in item)


def shingles(text: str, n: int = 3) -> frozenset:
    """Word n-grams of the lower-cased text; a text shorter than n words is one shingle."""
    words = _WORD.findall(text.lower())
    if len(words) < n:
        return frozenset([tuple(words)]) if words else frozenset()
    return frozenset(tuple(words[i : i + n]) for i in range(len(words) - n + 1))


class NoveltyIndex:
    """Texts seen so far (anchor, current, accepted); `nearest(text)` = (highest similarity, its source)."""

    def __init__(self, method: str, threshold: float, embedder: str = "default") -> None:
        if method not in ("ngram", "minilm", "off"):
            raise ValueError(f"unknown novelty method {method!r}")
        self.method, self.threshold, self.embedder = method, threshold, embedder
        self._sources: list[str] = []
        self._sizes: list[int] = []
        self._postings: dict[tuple, list[int]] = {}
        self._vectors: list[np.ndarray] = []

    def __len__(self) -> int:
        return len(self._sources)

    def describe(self) -> dict:
        measure = {"ngram": "word 3-gram Jaccard", "minilm": "MiniLM cosine", "off": "none"}[self.method]
        return {"method": self.method, "measure": measure, "threshold": self.threshold, "texts_indexed": len(self)}

    def add(self, texts: Sequence[TextInput], source: str) -> None:
        """Index `texts` (from `source`: anchor, current or accepted)."""
        if self.method == "off" or not texts:
            return
        items = [plain_text(t) for t in texts]
        if self.method == "ngram":
            for text in items:
                doc = len(self._sources)
                grams = shingles(text)
                for gram in grams:
                    self._postings.setdefault(gram, []).append(doc)
                self._sizes.append(len(grams))
                self._sources.append(source)
            return
        kept = [text for text in items if text.strip()]
        if kept:
            self._vectors.append(self._embed(kept))
            self._sources.extend([source] * len(kept))

    def _embed(self, texts: list[str]) -> np.ndarray:
        from fac_datasets.diversity.embeddings import embed

        return embed(texts, model=self.embedder)

    def nearest(self, text: TextInput) -> tuple[float, str | None]:
        """(similarity to the most similar indexed text, its source); (0.0, None) when nothing is close."""
        text = plain_text(text)
        if self.method == "off" or not self._sources:
            return 0.0, None
        if self.method == "ngram":
            grams = shingles(text)
            overlap: Counter = Counter()
            for gram in grams:
                overlap.update(self._postings.get(gram, ()))
            best, where = 0.0, None
            for doc, shared in overlap.items():
                score = shared / (len(grams) + self._sizes[doc] - shared)
                if score > best:
                    best, where = score, self._sources[doc]
            return best, where
        if not text.strip():
            return 0.0, None
        matrix = np.concatenate(self._vectors)
        scores = matrix @ self._embed([text])[0]
        best = int(scores.argmax())
        return float(scores[best]), self._sources[best]

    def is_duplicate(self, text: TextInput) -> tuple[bool, float, str | None]:
        """(near-duplicate?, similarity, source of the nearest text)."""
        score, source = self.nearest(text)
        return score >= self.threshold and self.method != "off", score, source
