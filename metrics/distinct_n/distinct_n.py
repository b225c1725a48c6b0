"""Distinct-n as an evaluate measurement: a thin shim over fac_datasets.diversity.ngrams."""

import evaluate

from fac_datasets.diversity.ngrams import distinct_n
from fac_datasets.measurement_info import text_measurement_info

_CITATION = """\
@inproceedings{li-etal-2016-diversity,
  title = {A Diversity-Promoting Objective Function for Neural Conversation Models},
  author = {Li, Jiwei and Galley, Michel and Brockett, Chris and Gao, Jianfeng and Dolan, Bill},
  booktitle = {Proceedings of NAACL-HLT 2016},
  pages = {110--119},
  year = {2016},
  doi = {10.18653/v1/N16-1014}
}
"""

_DESCRIPTION = """\
Distinct-n (Li et al., 2016): number of unique n-grams divided by the total number of n-grams,
pooled over the whole corpus (n-grams do not cross text boundaries). Tokens: lowercase +
regex `\\w+|[^\\w\\s]` ("word", default) or `str.split()` ("whitespace").
"""

_KWARGS_DESCRIPTION = """\
Args:
    data (`list` of `str`): the texts (no empty or whitespace-only strings).
    n (`int` or `list` of `int`, default `[1, 2]`): n-gram sizes.
    tokenizer (`str`, default `"word"`): `"word"` or `"whitespace"`.
    aggregate (`str`, default `"corpus"`): `"corpus"` pools n-grams of all texts (Li et al.);
        `"mean"` averages the per-text ratio over texts with at least one n-gram.

Returns:
    `distinct_<n>` (`float` in [0, 1]) for each requested n.

Examples:
    >>> distinct = evaluate.load("distinct_n")
    >>> distinct.compute(data=["the cat sat", "the dog sat", "a cat ran"], n=2)
    {'distinct_2': 1.0}
    >>> distinct.compute(data=["the cat sat", "the cat sat"], n=[1, 2])
    {'distinct_1': 0.5, 'distinct_2': 0.5}
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class DistinctN(evaluate.Measurement):
    """Unique / total n-grams of a list of texts."""

    def _info(self):
        return text_measurement_info(
            _DESCRIPTION, _CITATION, _KWARGS_DESCRIPTION, ["https://aclanthology.org/N16-1014/"]
        )

    def _compute(self, data, n=(1, 2), tokenizer="word", aggregate="corpus"):
        sizes = [n] if isinstance(n, int) else list(n)
        return {f"distinct_{k}": distinct_n(data, k, tokenizer=tokenizer, aggregate=aggregate) for k in sizes}
