"""Distinct-n (Li et al., 2016) and n-gram entropy over word tokens.

Tokenizers (named, so a number can be traced back to how it was made):
- "word" (default): lowercase, then regex `\\w+|[^\\w\\s]` (runs of letters/digits/_ and each
  punctuation mark as its own token). Unicode-aware, language-agnostic, no model.
- "whitespace": `str.split()`, case kept: the tokenization of the `diversity` package (Shaib
  et al.), used for the cross-check.
N-grams never cross document boundaries: each text is tokenized, its n-grams are taken, and the
counts are pooled over the corpus.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from typing import Literal

from fac_datasets.errors import FacInputError
from fac_datasets.inputs import check_plain_texts

Tokenizer = Literal["word", "whitespace"]
Aggregate = Literal["corpus", "mean"]
_WORD = re.compile(r"\w+|[^\w\s]")


def tokenize(text: str, tokenizer: Tokenizer = "word") -> list[str]:
    """Split one text the way every n-gram metric here does."""
    if tokenizer == "word":
        return _WORD.findall(text.lower())
    if tokenizer == "whitespace":
        return text.split()
    raise FacInputError(f"Unknown tokenizer {tokenizer!r}: use 'word' or 'whitespace'.")


def ngrams(tokens: list[str], n: int) -> list[tuple[str, ...]]:
    """Contiguous n-grams of one token list (none if it is shorter than n)."""
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def _check_n(n: int) -> None:
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise FacInputError(f"n must be a positive integer, got {n!r}.")


def ngram_counts(token_lists: Iterable[list[str]], n: int) -> Counter:
    """Corpus-pooled n-gram counts; n-grams stay inside their document."""
    _check_n(n)
    counts: Counter = Counter()
    for tokens in token_lists:
        counts.update(ngrams(tokens, n))
    return counts


def _no_ngrams(n: int) -> FacInputError:
    return FacInputError(f"No {n}-grams: every text has fewer than {n} tokens, so distinct-{n} is undefined.")


def distinct_of_tokens(token_lists: list[list[str]], n: int, aggregate: Aggregate = "corpus") -> float:
    """Distinct-n of already tokenized documents (shared with POS distinct-n)."""
    _check_n(n)
    if aggregate == "corpus":
        counts = ngram_counts(token_lists, n)
        total = sum(counts.values())
        if total == 0:
            raise _no_ngrams(n)
        return len(counts) / total
    if aggregate == "mean":
        ratios = []
        for tokens in token_lists:
            grams = ngrams(tokens, n)
            if grams:
                ratios.append(len(set(grams)) / len(grams))
        if not ratios:
            raise _no_ngrams(n)
        return sum(ratios) / len(ratios)
    raise FacInputError(f"Unknown aggregate {aggregate!r}: use 'corpus' or 'mean'.")


def distinct_n(
    texts: Iterable[str], n: int = 2, *, tokenizer: Tokenizer = "word", aggregate: Aggregate = "corpus"
) -> float:
    """Distinct-n = unique n-grams / total n-grams (Li et al., 2016).

    aggregate="corpus" pools the n-grams of all texts (the paper's definition, in [0, 1]);
    "mean" averages the per-text ratio over texts that have at least one n-gram (texts shorter
    than n are skipped). Raises FacInputError if no text has n tokens.
    """
    items = check_plain_texts(texts)
    return distinct_of_tokens([tokenize(t, tokenizer) for t in items], n, aggregate)


def entropy_of_counts(counts: Counter, base: float = math.e) -> float:
    """Shannon entropy -sum p log p of the empirical distribution given by `counts`."""
    if not base > 0 or base == 1:
        raise FacInputError(f"Logarithm base must be positive and not 1, got {base!r}.")
    total = sum(counts.values())
    if total == 0:
        raise FacInputError("Entropy of an empty distribution is undefined.")
    value = -sum((c / total) * math.log(c / total) for c in counts.values())
    return max(0.0, value) / math.log(base)


def ngram_entropy(texts: Iterable[str], n: int = 2, *, tokenizer: Tokenizer = "word", base: float = math.e) -> float:
    """Shannon entropy of the corpus-pooled n-gram frequency distribution (nats by default).

    H_n = -sum_g p(g) log p(g), p(g) = count(g) / total n-grams (the "Ent-n" of Zhang et al.,
    2018). 0 when all n-grams are the same; log(total) when all are different.
    """
    items = check_plain_texts(texts)
    counts = ngram_counts([tokenize(t, tokenizer) for t in items], n)
    if not counts:
        raise FacInputError(
            f"No {n}-grams: every text has fewer than {n} tokens, so the {n}-gram entropy is undefined."
        )
    return entropy_of_counts(counts, base)
