"""Tiny synthetic downstream tasks whose answer is known (builders shared by tests/downstream)."""

from __future__ import annotations

import random

from fac_datasets.downstream.data import ABItem, InstructionPairs, LabelledTexts, PreferencePairs

WORDS = [
    "the",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "lazy",
    "dog",
    "write",
    "a",
    "short",
    "poem",
    "about",
    "night",
    "how",
    "do",
    "I",
    "reverse",
    "list",
    "in",
    "she",
    "sells",
    "sea",
    "shells",
    "by",
    "shore",
    "said",
    "teacher",
    "summarize",
    "report",
    "three",
    "bullet",
    "points",
    "for",
    "committee",
]
MARKER = "ocean"


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def marked_texts(n: int, seed: int, *, random_labels: bool = False) -> LabelledTexts:
    """Label-1 texts contain MARKER, label-0 texts never do; `random_labels` breaks that link (a control)."""
    rng = random.Random(seed)
    texts, labels = [], []
    for i in range(n):
        words = [rng.choice(WORDS) for _ in range(rng.randint(4, 9))]
        if i % 2:
            words.insert(rng.randint(0, len(words)), MARKER)
        texts.append(" ".join(words))
        labels.append(rng.randint(0, 1) if random_labels else i % 2)
    return LabelledTexts(texts, labels, f"synthetic-{seed}")


def marked_pairs(n: int, seed: int, context_words: int = 8) -> PreferencePairs:
    """HH-style transcripts sharing a context; the chosen final turn contains MARKER."""
    rng = random.Random(seed)
    chosen, rejected = [], []
    for _ in range(n):
        context = f"\n\nHuman: {sentence(rng, context_words)}\n\nAssistant: "
        start = sentence(rng, 4)
        chosen.append(f"{context}{start} {MARKER} {sentence(rng, 2)}")
        rejected.append(f"{context}{start} {sentence(rng, 3)}")
    return PreferencePairs(chosen, rejected, f"pairs-{seed}")


def ab_items(n: int, seed: int, matching: str = "A") -> list[ABItem]:
    """A/B questions whose matching answer is always `matching`: the vector plants that letter."""
    rng = random.Random(seed)
    other = "B" if matching == "A" else "A"
    return [
        ABItem(f"{sentence(rng, 10)}?\n (A) {sentence(rng, 2)}\n (B) {sentence(rng, 2)}", matching, other)
        for _ in range(n)
    ]


def instruction_pairs(n: int, seed: int) -> InstructionPairs:
    """Responses that always open with the same phrase: a fine-tune learns it, held-out NLL drops."""
    rng = random.Random(seed)
    return InstructionPairs(
        [sentence(rng, 6) for _ in range(n)], [f"{MARKER} sea shells {sentence(rng, 3)}" for _ in range(n)], "instr"
    )


def stable(result) -> dict:
    """A result without what legitimately varies between identical runs (time, memo hits)."""
    data = result.to_dict()
    data.pop("seconds")
    for key in ("test_states_cached", "encode_seconds", "vector_seconds"):
        data["details"].pop(key, None)
    return data
