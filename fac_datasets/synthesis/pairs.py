"""Contrastive pairs: what the feature looks like when it fires, and a sample where it does not.

Rules (the reference took the runner-up as the bad example, which fires too):
- good = the candidate with the strongest activation of the feature;
- bad = a candidate in which the feature does not fire, else the weakest other candidate;
- when no candidate fires, good = the feature's strongest real span from the catalog, flagged
  `fallback=True` (the prompt says it is real data), and bad = the weakest candidate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

from fac_datasets.catalog.verify import unmarked
from fac_datasets.synthesis.prompts import FeatureBrief, PairText


@dataclass(frozen=True)
class ContrastivePair:
    """Attributes:
    good: the good sample's text; good_marked: the same with the peak token marked (shown in prompts).
    good_activation: its pooled activation; good_source: 'candidate' or 'catalog'.
    bad: the bad sample (None when there was no other candidate); bad_activation: its activation.
    bad_fires: the feature fires in the bad sample too (every candidate fired).
    fallback: no candidate fired, so the good example is a real catalog span.
    """

    feature: int
    good: str
    good_marked: str
    good_activation: float
    good_source: str
    bad: str | None
    bad_activation: float
    bad_fires: bool
    fallback: bool

    def prompt_text(self) -> PairText:
        return PairText(self.good_marked, self.bad, self.bad_fires, self.fallback)

    def to_dict(self) -> dict:
        return asdict(self)


def select_pair(
    brief: FeatureBrief,
    texts: Sequence[str],
    activations: Sequence[float],
    threshold: float,
    mark: Callable[[str], str | None] | None = None,
) -> ContrastivePair | None:
    """The pair from scored candidates (`activations[i]` = the feature's pooled activation in `texts[i]`).

    `mark(text)` returns the text with its peak marked (None: leave it unmarked). None when there is
    neither a firing candidate nor a catalog span to show.
    """
    weakest_first = sorted(range(len(texts)), key=lambda i: (activations[i], i))
    fired = [i for i in range(len(texts)) if activations[i] > threshold]
    if fired:
        good = max(fired, key=lambda i: (activations[i], -i))  # strongest; the first one on ties
        silent = [i for i in range(len(texts)) if activations[i] <= threshold]
        others = [i for i in weakest_first if i != good]
        bad = silent[0] if silent else (others[0] if others else None)
        marked = (mark(texts[good]) if mark else None) or texts[good]
        return ContrastivePair(
            feature=brief.feature,
            good=texts[good],
            good_marked=marked,
            good_activation=float(activations[good]),
            good_source="candidate",
            bad=texts[bad] if bad is not None else None,
            bad_activation=float(activations[bad]) if bad is not None else 0.0,
            bad_fires=bad is not None and activations[bad] > threshold,
            fallback=False,
        )
    if brief.strongest_span is None:
        return None
    bad = weakest_first[0] if texts else None
    return ContrastivePair(
        feature=brief.feature,
        good=unmarked(brief.strongest_span),
        good_marked=brief.strongest_span,
        good_activation=brief.strongest_activation,
        good_source="catalog",
        bad=texts[bad] if bad is not None else None,
        bad_activation=float(activations[bad]) if bad is not None else 0.0,
        bad_fires=False,
        fallback=True,
    )
