"""bf16 and fp32 features agree on real sentences (the measurement behind `--dtype auto`).

The full measurement (600 texts from AlpacaEval, Davidson tweets and HH-RLHF, and the FAC
difference) is `benchmarks/dtype_agreement.py`; this guards the bar on a fixed set of sentences
of the same three kinds, written for this test.
"""

from __future__ import annotations

import statistics

import pytest

from fac_datasets.features.extractor import load_extractor

pytestmark = pytest.mark.slow

MEAN_JACCARD_BAR = 0.9  # no user-visible number moves above it (BENCHMARKS.md, "bf16 against fp32")
MIN_JACCARD_BAR = 0.75

SENTENCES = [
    # instructions
    "Write a short story about a lighthouse keeper who finds a message in a bottle.",
    "Explain the difference between a stack and a queue, with an example of each.",
    "What are some good ways to stay focused when working from home?",
    "Give me three ideas for a vegetarian dinner that takes less than thirty minutes.",
    "Translate the following sentence into French: the train leaves at seven tomorrow morning.",
    "Summarize the main causes of the First World War in a single paragraph.",
    "How do I convert a string to a date in Python?",
    "Suggest a name for a bakery that specializes in sourdough bread.",
    # tweets
    "cant believe the game got cancelled again smh #rainout",
    "just finished my first half marathon and my legs are jelly lol",
    "this traffic is ridiculous i have been sitting here for an hour",
    "happy birthday to my little sister, love you to the moon and back",
    "why does my phone always die when i need it the most",
    "new coffee shop downtown is actually amazing, go try the cold brew",
    "nobody asked for your opinion, keep scrolling",
    "monday again already? the weekend went by way too fast",
    # dialogue turns
    "Can you help me figure out why my tomato plants have yellow leaves?",
    "I think my neighbor is stealing my packages. What should I do?",
    "What's the best way to apologize to a friend I hurt?",
    "My boss keeps taking credit for my work. How do I handle that?",
    "Is it safe to eat eggs past the date on the carton?",
    "How can I get my toddler to sleep through the night?",
    "What would happen if I stopped paying my credit card bill?",
    "Tell me something interesting about octopuses.",
]


def jaccard(a: list[int], b: list[int]) -> float:
    sa, sb = set(a), set(b)
    return 1.0 if not sa and not sb else len(sa & sb) / len(sa | sb)


def test_bf16_features_agree_with_fp32_above_the_bar():
    fp32 = load_extractor(dtype="float32").extract(SENTENCES)
    bf16 = load_extractor(dtype="bfloat16").extract(SENTENCES)
    scores = [jaccard(a.features, b.features) for a, b in zip(fp32, bf16, strict=True)]
    assert statistics.fmean(scores) >= MEAN_JACCARD_BAR, scores
    assert min(scores) >= MIN_JACCARD_BAR, scores
    assert [a.n_tokens for a in fp32] == [b.n_tokens for b in bf16]
