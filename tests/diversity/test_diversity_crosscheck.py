"""Cross-checks against independent implementations, where the definitions coincide.

- `diversity` 0.3.1 (Shaib et al.): `ngram_diversity_score` sums unique/total n-grams for
  n = 1..4 over the whitespace tokens of the *joined* corpus; `remote_clique` averages cosine
  distances over all N^2 pairs including the zero diagonal.
- `vendi-score` 0.0.3 (Friedman & Dieng): the authors' Vendi score.
Where the definitions differ, the tests pin the difference instead of hiding it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from fac_datasets.diversity.ngrams import distinct_n
from fac_datasets.diversity.pairwise import mean_pairwise_cosine_distance
from fac_datasets.diversity.vendi import vendi_of_embeddings

pytestmark = pytest.mark.slow

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture(scope="module")
def diversity():
    # `import diversity` pulls its whole API (openai, rouge, nltk): import it once.
    import diversity

    return diversity


@pytest.fixture(scope="module")
def instructions() -> list[str]:
    rows = [json.loads(line) for line in (DATA / "alpaca_eval_805.jsonl").read_text().splitlines()]
    # `diversity` splits the joined corpus on single spaces: collapse other whitespace so that
    # both sides see the same tokens (str.split() and split(' ') then agree).
    return [" ".join(r["instruction"].split()) for r in rows[:200]]


def test_ngram_diversity_score_equals_our_per_n_distinct_on_the_joined_corpus(diversity, instructions):
    joined = [" ".join(instructions)]
    ours = [distinct_n(joined, n, tokenizer="whitespace") for n in (1, 2, 3, 4)]
    theirs = diversity.ngram_diversity_score(instructions, num_n=4)
    assert theirs == pytest.approx(sum(ours), abs=5e-4)  # they round to 3 decimals
    assert diversity.ngram_diversity_score(instructions, num_n=1) == pytest.approx(ours[0], abs=5e-4)
    assert diversity.ngram_diversity_score(instructions, num_n=2) == pytest.approx(ours[0] + ours[1], abs=5e-4)


def test_where_ngram_definitions_differ(diversity, instructions):
    # Joining creates n-grams across text boundaries: "a b" + "a b" -> "a b a b" has bigram "b a".
    assert diversity.ngram_diversity_score(["a b", "a b"], num_n=2) == pytest.approx(0.5 + 2 / 3, abs=5e-4)
    assert distinct_n(["a b", "a b"], 1) + distinct_n(["a b", "a b"], 2) == pytest.approx(0.5 + 1 / 2)
    # On real instructions the boundary n-grams are all new, so the joined score is higher.
    per_text = sum(distinct_n(instructions, n, tokenizer="whitespace") for n in (1, 2, 3, 4))
    assert diversity.ngram_diversity_score(instructions, num_n=4) > per_text


def test_remote_clique_is_pair_cosdist_with_the_diagonal(diversity, instructions):
    from fac_datasets.diversity.embeddings import embed, minilm_dir

    texts = instructions[:60]
    ours = mean_pairwise_cosine_distance(embed(texts))
    theirs = diversity.remote_clique(texts, model=str(minilm_dir()), verbose=False)
    n = len(texts)
    assert float(theirs) == pytest.approx(ours * (n - 1) / n, abs=6e-4)  # they round to 3 decimals
    assert abs(float(theirs) - ours) > 1e-3  # the diagonal really is a different definition


def test_vendi_matches_the_authors_package(instructions):
    from vendi_score import vendi

    from fac_datasets.diversity.embeddings import embed

    x = embed(instructions[:80]).astype(np.float64)
    ours = vendi_of_embeddings(x)
    assert vendi.score_dual(x) == pytest.approx(ours, rel=1e-9)
    assert vendi.score_K(x @ x.T) == pytest.approx(ours, rel=1e-6)  # the N x N route
    assert 1.0 < ours < 80
