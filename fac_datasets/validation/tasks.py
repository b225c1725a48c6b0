"""The study's tasks as data: a pool to draw training subsets from, an anchor, a contrast set, a test set.

Every split is disjoint and seeded, so subsets are index selections into one pool whose texts are
annotated once. Two tasks, chosen by CPU cost (both train a convex head on frozen states):
- toxicity: Davidson tweets; pool, anchor and test are half toxic (hate or offensive), half not.
  FAC's contrast set is the anchor's non-toxic half (label contrast: the same genre without the task).
- reward_modeling: HH-RLHF harmless pairs; the text FAC and the baselines read is the chosen
  transcript. The contrast set is AlpacaEval framed as Human/Assistant dialogues (the same frame,
  no red-teaming), so enrichment against it is about harm, not the dialogue format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fac_datasets.config import ValidationConfig
from fac_datasets.downstream.data import (
    DAVIDSON_NEITHER,
    LabelledTexts,
    PreferencePairs,
    davidson_labels,
    read_instruction_pairs,
    read_pairs,
)
from fac_datasets.downstream.reward import divergence
from fac_datasets.errors import FacInputError
from fac_datasets.inputs import open_dataset

DAVIDSON_FILE = "davidson_hate_offensive.csv.gz"
HH_FILE = "hh_rlhf_harmless_test.jsonl.gz"
ALPACA_FILE = "alpaca_eval_805.jsonl"
DAVIDSON_HATE = 0  # Davidson's class 0: hate speech


@dataclass
class TaskData:
    """One task's texts and splits; `pool_texts[i]` is what FAC and the baselines read for pool row i.

    Attributes:
        name: toxicity or reward_modeling.
        metric: the downstream metric (higher is better).
        pool_texts: texts of the pool rows (tweets; chosen transcripts).
        strata: [n_pool] class each subset is balanced over (toxic or not), or None.
        attributes: [n_pool] arrays class-conditional recipes select on (e.g. davidson_class, chosen_longer).
        anchor_texts: the target distribution FAC and -MMD are measured against.
        anchor_task_mask: anchor rows that carry the task (toxic tweets); None: all of them.
        contrast_texts: the contrast set of enrichment relevance; None: the anchor rows outside the task mask.
        pool_data / test_data: what the downstream model trains on (by pool row) and is scored on.
        sources: files and sizes, for the report.
    """

    name: str
    metric: str
    pool_texts: list[str]
    strata: np.ndarray | None
    attributes: dict[str, np.ndarray]
    anchor_texts: list[str]
    anchor_task_mask: np.ndarray | None
    contrast_texts: list[str] | None
    pool_data: LabelledTexts | PreferencePairs
    test_data: LabelledTexts | PreferencePairs
    sources: dict = field(default_factory=dict)


def _shared(data_dir: Path, name: str) -> Path:
    path = data_dir / name
    if not path.exists():
        raise FacInputError(f"{path}: not found. Pass --data-dir pointing at the folder with {name}.")
    return path


def _take(rows: np.ndarray, sizes: list[int], what: str) -> list[np.ndarray]:
    """Consecutive disjoint chunks of `rows` (already shuffled) of the given sizes."""
    if sum(sizes) > len(rows):
        raise FacInputError(f"{what}: {sum(sizes)} rows asked for, only {len(rows)} available; lower the sizes.")
    bounds = np.cumsum([0, *sizes])
    return [rows[bounds[i] : bounds[i + 1]] for i in range(len(sizes))]


def toxicity_task(data_dir: Path, config: ValidationConfig) -> TaskData:
    """Davidson tweets: balanced pool, anchor and test, disjoint, duplicates dropped."""
    path = _shared(data_dir, DAVIDSON_FILE)
    dataset = open_dataset(path)
    tweets, classes = list(dataset["tweet"]), np.asarray(dataset["class"], dtype=np.int64)
    first = {}
    for i, text in enumerate(tweets):
        if isinstance(text, str) and text.strip():
            first.setdefault(text, i)
    keep = np.fromiter(sorted(first.values()), dtype=np.int64)
    labels = np.asarray(davidson_labels(classes[keep].tolist()), dtype=np.int64)
    rng = np.random.default_rng([config.seed, 1])
    halves = [c // 2 for c in (config.toxicity_pool, config.toxicity_anchor, config.toxicity_test)]
    chunks = [_take(keep[rng.permutation(np.flatnonzero(labels == y))], halves, DAVIDSON_FILE) for y in (1, 0)]
    pool, anchor, test = (np.sort(np.concatenate([chunks[0][i], chunks[1][i]])) for i in range(3))

    def labelled(rows: np.ndarray) -> LabelledTexts:
        return LabelledTexts([tweets[i] for i in rows], davidson_labels(classes[rows].tolist()), str(path))

    pool_data, test_data = labelled(pool), labelled(test)
    anchor_labels = np.asarray(davidson_labels(classes[anchor].tolist()))
    anchor_texts = [tweets[i] for i in anchor]
    return TaskData(
        name="toxicity",
        metric="auprc",
        pool_texts=pool_data.texts,
        strata=np.asarray(pool_data.labels, dtype=np.int64),
        attributes={"davidson_class": classes[pool]},
        anchor_texts=anchor_texts,
        anchor_task_mask=anchor_labels == 1,
        contrast_texts=None,
        pool_data=pool_data,
        test_data=test_data,
        sources={
            "data": str(path),
            "pool": len(pool),
            "anchor": len(anchor),
            "test": len(test),
            "pool_hate_speech": int((classes[pool] == DAVIDSON_HATE).sum()),
            "pool_neither": int((classes[pool] == DAVIDSON_NEITHER).sum()),
            "contrast": "the anchor's non-toxic half (label contrast)",
        },
    )


def as_dialogue(instruction: str, response: str) -> str:
    """An instruction/response row in the HH-RLHF frame, so a contrast set differs in content, not format."""
    return f"\n\nHuman: {instruction}\n\nAssistant: {response}"


def reward_task(data_dir: Path, config: ValidationConfig) -> TaskData:
    """HH-RLHF harmless pairs (pool, anchor, test) and AlpacaEval dialogues (contrast)."""
    path = _shared(data_dir, HH_FILE)
    pairs = read_pairs(path)
    seen, usable = set(), []
    for i, (chosen, rejected) in enumerate(zip(pairs.chosen, pairs.rejected, strict=True)):
        if chosen != rejected and chosen not in seen:  # identical pairs teach nothing; duplicates would leak
            seen.add(chosen)
            usable.append(i)
    rng = np.random.default_rng([config.seed, 2])
    sizes = [config.reward_pool, config.reward_anchor, config.reward_test]
    pool, anchor, test = (np.sort(c) for c in _take(rng.permutation(np.asarray(usable)), sizes, HH_FILE))

    def subset(rows: np.ndarray) -> PreferencePairs:
        return PreferencePairs([pairs.chosen[i] for i in rows], [pairs.rejected[i] for i in rows], str(path))

    pool_data, test_data = subset(pool), subset(test)
    starts = divergence(pool_data.chosen, pool_data.rejected)
    chosen_len = np.asarray([len(c) - s for c, s in zip(pool_data.chosen, starts, strict=True)])
    rejected_len = np.asarray([len(r) - s for r, s in zip(pool_data.rejected, starts, strict=True)])
    alpaca = read_instruction_pairs(_shared(data_dir, ALPACA_FILE))
    rows = [i for i, r in enumerate(alpaca.responses) if r.strip()]
    picked = np.sort(rng.choice(rows, size=min(config.reward_contrast, len(rows)), replace=False))
    return TaskData(
        name="reward_modeling",
        metric="pair_accuracy",
        pool_texts=pool_data.chosen,
        strata=None,
        attributes={
            "chosen_longer": (chosen_len > rejected_len).astype(np.int64),
            "turns": np.asarray([c.count("\n\nHuman:") for c in pool_data.chosen], dtype=np.int64),
        },
        anchor_texts=[pairs.chosen[i] for i in anchor],
        anchor_task_mask=None,
        contrast_texts=[as_dialogue(alpaca.instructions[i], alpaca.responses[i]) for i in picked],
        pool_data=pool_data,
        test_data=test_data,
        sources={
            "data": str(path),
            "pool": len(pool),
            "anchor": len(anchor),
            "test": len(test),
            "contrast": f"{len(picked)} AlpacaEval rows framed as Human/Assistant dialogues ({ALPACA_FILE})",
        },
    )


TASK_BUILDERS = {"toxicity": toxicity_task, "reward_modeling": reward_task}


def subset_size(task: str, config: ValidationConfig) -> int:
    return config.toxicity_subset if task == "toxicity" else config.reward_subset


def load_task(name: str, data_dir: str | Path, config: ValidationConfig) -> TaskData:
    """The task's splits from the shared data folder; an unknown name is a FacInputError listing the known ones."""
    if name not in TASK_BUILDERS:
        raise FacInputError(f"Unknown validation task {name!r}; tasks are {', '.join(TASK_BUILDERS)}.")
    return TASK_BUILDERS[name](Path(data_dir), config)
