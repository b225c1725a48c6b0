"""Distinct-n and n-gram entropy: hand-computed values on fixed inputs, and the edge cases."""

from __future__ import annotations

import math

import pytest

from fac_datasets.diversity import check_plain_texts, distinct_n, ngram_entropy, tokenize
from fac_datasets.errors import FacInputError

THREE = ["The cat sat.", "The dog sat.", "A cat ran!"]


def test_word_tokenizer_lowercases_and_splits_punctuation():
    assert tokenize("The cat's  mat, OK?") == ["the", "cat", "'", "s", "mat", ",", "ok", "?"]
    assert tokenize("The cat's  mat, OK?", "whitespace") == ["The", "cat's", "mat,", "OK?"]


def test_distinct_2_of_three_sentences_by_hand():
    # Tokens: [the cat sat .] [the dog sat .] [a cat ran !]
    # Bigrams: the-cat cat-sat sat-. | the-dog dog-sat sat-. | a-cat cat-ran ran-!
    # 9 in total; sat-. appears twice -> 8 unique. Distinct-2 = 8/9.
    assert distinct_n(THREE, 2) == pytest.approx(8 / 9)
    # Unigrams: the x2, cat x2, sat x2, . x1, dog, a, ran, ! -> 12 tokens, 8 unique.
    assert distinct_n(THREE, 1) == pytest.approx(8 / 12)


def test_distinct_mean_aggregate_differs_from_corpus_pooling():
    texts = ["a b a b", "c d"]
    # corpus: bigrams ab ba ab | cd -> 4 total, 3 unique
    assert distinct_n(texts, 2) == pytest.approx(3 / 4)
    # mean: text 1 has 2 unique of 3, text 2 has 1 of 1 -> (2/3 + 1) / 2
    assert distinct_n(texts, 2, aggregate="mean") == pytest.approx((2 / 3 + 1) / 2)
    # mean skips texts shorter than n instead of counting them as 0 or 1
    assert distinct_n(["a b a b", "solo"], 2, aggregate="mean") == pytest.approx(2 / 3)


def test_ngrams_do_not_cross_text_boundaries():
    # joined, "a b a b" would give bigrams ab ba ab (2/3); per text it is ab, ab (1/2)
    assert distinct_n(["a b", "a b"], 2) == pytest.approx(0.5)


def test_whitespace_tokenizer_keeps_case_and_punctuation():
    assert distinct_n(["Cat cat", "cat."], 1, tokenizer="whitespace") == pytest.approx(1.0)
    assert distinct_n(["Cat cat", "cat."], 1) == pytest.approx(2 / 4)  # cat cat cat .


def test_entropy_by_hand():
    # unigrams of "a b a b": p(a) = p(b) = 1/2 -> 1 bit, ln 2 nats
    assert ngram_entropy(["a b a b"], 1, base=2) == pytest.approx(1.0)
    assert ngram_entropy(["a b a b"], 1) == pytest.approx(math.log(2))
    # bigrams of THREE: 9 bigrams, one twice -> H = -(7 * 1/9 ln 1/9 + 2/9 ln 2/9)
    expected = -(7 * (1 / 9) * math.log(1 / 9) + (2 / 9) * math.log(2 / 9))
    assert ngram_entropy(THREE, 2) == pytest.approx(expected)
    # all n-grams identical -> 0
    assert ngram_entropy(["x x x x"], 1) == 0.0


def test_one_text_is_a_valid_corpus():
    assert distinct_n(["to be or not to be"], 2) == pytest.approx(4 / 5)  # to-be twice among 5 bigrams
    assert ngram_entropy(["to be or not to be"], 1) > 0


@pytest.mark.parametrize("metric", [distinct_n, ngram_entropy])
def test_edge_cases_raise_clear_errors(metric):
    with pytest.raises(FacInputError, match="Got 0 texts"):
        metric([])
    with pytest.raises(FacInputError, match="Row 1 is empty or whitespace-only"):
        metric(["fine", "  \n\t "])
    with pytest.raises(FacInputError, match="Row 0 is None"):
        metric([None, "fine"])
    with pytest.raises(FacInputError, match=r"Row 1 is a int \('7'\)"):
        metric(["fine", 7])
    with pytest.raises(FacInputError, match="single string"):
        metric("not a list")
    with pytest.raises(FacInputError, match="No 3-grams"):
        metric(["one two", "three"], 3)
    with pytest.raises(FacInputError, match="n must be a positive integer"):
        metric(["one two"], 0)


def test_bad_options_are_named():
    with pytest.raises(FacInputError, match="tokenizer"):
        distinct_n(["a b"], 1, tokenizer="bpe")
    with pytest.raises(FacInputError, match="aggregate"):
        distinct_n(["a b"], 1, aggregate="median")
    with pytest.raises(FacInputError, match="base"):
        ngram_entropy(["a b"], 1, base=1)


def test_check_texts_returns_a_list_and_accepts_iterables():
    assert check_plain_texts(t for t in ["a", "b"]) == ["a", "b"]
    with pytest.raises(FacInputError, match="at least 2 texts"):
        check_plain_texts(["a"], min_count=2)
