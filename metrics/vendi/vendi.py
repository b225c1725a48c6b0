"""Vendi score as an evaluate measurement: a thin shim over fac_datasets.diversity.vendi."""

import evaluate

from fac_datasets.diversity.vendi import vendi_score
from fac_datasets.measurement_info import text_measurement_info

_CITATION = """\
@article{friedman2023vendi,
  title = {The Vendi Score: A Diversity Evaluation Metric for Machine Learning},
  author = {Friedman, Dan and Dieng, Adji Bousso},
  journal = {Transactions on Machine Learning Research},
  year = {2023}
}
"""

_DESCRIPTION = """\
Vendi score (Friedman & Dieng, 2023), order q = 1: VS = exp(-sum_i l_i log l_i), l_i the
eigenvalues of K / N with the cosine kernel K_ij = cos(e_i, e_j) on all-MiniLM-L6-v2
embeddings. The effective number of distinct texts: 1 when all embed identically, at most
min(N, 384).
"""

_KWARGS_DESCRIPTION = """\
Args:
    data (`list` of `str`): the texts (no empty or whitespace-only strings).
    model (`str`, default `"default"`): "default" (all-MiniLM-L6-v2) or a local sentence-transformers folder.

Returns:
    `vendi` (`float` >= 1).

Examples:
    >>> vendi = evaluate.load("vendi")
    >>> vendi.compute(data=["hello there", "hello there"])
    {'vendi': 1.0...}
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class Vendi(evaluate.Measurement):
    """Effective number of distinct texts in sentence-embedding space."""

    def _info(self):
        return text_measurement_info(_DESCRIPTION, _CITATION, _KWARGS_DESCRIPTION, ["https://arxiv.org/abs/2210.02410"])

    def _compute(self, data, model="default"):
        return {"vendi": vendi_score(data, model=model)}
