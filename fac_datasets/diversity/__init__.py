"""Baseline text-diversity metrics computed next to FAC (distinct-n, n-gram entropy, POS
distinct-n, pairwise cosine distance, semantic entropy, Vendi score, NovelSum, DCScore, and
G-Vendi over a proxy model's projected loss gradients).

Each submodule has one job; heavy libraries (spaCy, sentence-transformers) load only inside
the functions that need them, so importing this package stays cheap.
"""

from fac_datasets.diversity.ngrams import distinct_n, ngram_entropy, tokenize
from fac_datasets.inputs import check_plain_texts

__all__ = ["check_plain_texts", "distinct_n", "ngram_entropy", "tokenize"]
