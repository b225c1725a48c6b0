"""The core steps on the planted SAE: SAE scoring and filter, peak marking, pair rules, novelty filter."""

# ruff: noqa: F811 - the planted-setup fixtures are imported from synth_setup by name

from __future__ import annotations

from synth_setup import ANCHOR, CURRENT, neutral_text, planted, planted_catalog, planted_extractor  # noqa: F401

from fac_datasets.synthesis.novelty import NoveltyIndex
from fac_datasets.synthesis.pairs import select_pair
from fac_datasets.synthesis.prompts import FeatureBrief, feature_brief
from fac_datasets.synthesis.sae_filter import effective_threshold, sae_filter
from fac_datasets.synthesis.scoring import peak_marked, score_texts

BRIEF = FeatureBrief(9, "the sea", "sea (3)", ("by the <<sea>> shore",), "by the <<sea>> shore", 2.7)


def test_sae_filter_accepts_exactly_the_samples_with_the_planted_token(planted, planted_extractor):
    sea, shore, dog = planted.ids["sea"], planted.ids["shore"], planted.ids["dog"]
    texts = [neutral_text(i, insert=("sea", None, "shore", "sea and a dog")[i % 4]) for i in range(24)]
    scores = score_texts(planted_extractor, texts)
    verdicts = sae_filter(scores, [sea], planted_extractor.threshold, {sea, shore, dog})
    assert [v.accepted for v in verdicts] == [" sea" in t for t in texts]
    for text, verdict in zip(texts, verdicts, strict=True):
        assert verdict.target == sea and (verdict.activation > 0) == verdict.accepted
        assert verdict.reason == (None if verdict.accepted else "target_not_fired")
        expected = {f for word, f in planted.ids.items() if f" {word}" in text}
        assert set(verdict.fired_missing) == expected  # every missing feature it fires, not only the target
    strict = sae_filter(scores, [sea], 100.0, {sea})
    assert not any(v.accepted for v in strict)  # a configurable threshold above every activation
    assert effective_threshold(None, 0.25) == 0.25 and effective_threshold(0.1, 0.25) == 0.25
    co_targeted = sae_filter(scores[2:3], [sea, shore], 0.0, {sea, shore})[0]
    assert co_targeted.accepted and co_targeted.target == shore  # the targeted feature that fired


def test_peak_is_marked_where_the_feature_fires(planted, planted_extractor):
    text = "The lazy cat walked to the sea at night."
    assert "<<sea>>" in peak_marked(planted_extractor, text, planted.ids["sea"])
    assert peak_marked(planted_extractor, text, planted.ids["dog"]) is None


def test_pair_rules():
    texts = ["a", "b", "c", "d"]
    pair = select_pair(BRIEF, texts, [0.5, 2.0, 0.0, 1.0], 0.0, mark=lambda t: f"<<{t}>>")
    assert (pair.good, pair.good_marked, pair.good_activation, pair.good_source) == ("b", "<<b>>", 2.0, "candidate")
    assert (pair.bad, pair.bad_fires, pair.fallback) == ("c", False, False)  # a candidate where it does not fire
    every = select_pair(BRIEF, texts, [0.5, 2.0, 0.3, 1.0], 0.0)
    assert (every.bad, every.bad_activation, every.bad_fires) == ("c", 0.3, True)  # else the weakest
    above = select_pair(BRIEF, texts, [0.5, 2.0, 0.3, 1.0], 0.4)  # the filter threshold decides "fires"
    assert above.bad == "c" and not above.bad_fires
    none_fire = select_pair(BRIEF, texts, [0.0, 0.0, 0.0, 0.0], 0.0)
    assert none_fire.fallback and none_fire.good_source == "catalog"
    assert (none_fire.good, none_fire.good_marked) == ("by the sea shore", "by the <<sea>> shore")
    assert none_fire.good_activation == 2.7 and none_fire.bad == "a"
    assert select_pair(BRIEF, [], [], 0.0).bad is None
    nothing = FeatureBrief(9, None, "", (), None, 0.0)
    assert select_pair(nothing, texts, [0.0] * 4, 0.0) is None


def test_brief_from_the_catalog_shows_real_marked_spans(planted, planted_catalog):
    brief = feature_brief(planted_catalog, planted.ids["sea"], 3)
    assert brief.explanation is None and brief.tokens.startswith("sea (")
    assert "<<sea>>" in brief.strongest_span and brief.strongest_activation > 0
    assert len(brief.spans) <= 3 and brief.description.startswith("(not explained")


def test_novelty_filter_rejects_copies_of_anchor_and_accepted_texts():
    index = NoveltyIndex("ngram", 0.5)
    index.add(ANCHOR, "anchor")
    index.add(CURRENT, "current")
    assert index.is_duplicate(ANCHOR[0]) == (True, 1.0, "anchor")
    edited, score, source = index.is_duplicate("the sea is calm and blue tonight!!")
    assert edited and source == "anchor" and score == 1.0  # case and punctuation do not make it new
    fresh = neutral_text(1, insert="sea")
    assert not index.is_duplicate(fresh)[0]
    index.add([fresh], "accepted")
    assert index.is_duplicate(fresh)[:3:2] == (True, "accepted")
    assert index.describe() == {
        "method": "ngram",
        "measure": "word 3-gram Jaccard",
        "threshold": 0.5,
        "texts_indexed": len(ANCHOR) + len(CURRENT) + 1,
    }
    off = NoveltyIndex("off", 0.5)
    off.add(ANCHOR, "anchor")
    assert off.is_duplicate(ANCHOR[0])[0] is False


def test_minilm_novelty_catches_a_paraphrase():
    index = NoveltyIndex("minilm", 0.8)
    index.add(ANCHOR, "anchor")
    assert index.is_duplicate("Tonight the sea is blue and calm.")[0]
    assert not index.is_duplicate("How do I reverse a list in Python?")[0]
