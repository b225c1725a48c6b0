"""DCScore as an evaluate measurement: a thin shim over fac_datasets.diversity.dcscore."""

import evaluate

from fac_datasets.config import DCScoreConfig
from fac_datasets.diversity.checks import checked_texts
from fac_datasets.diversity.dcscore import dcscore
from fac_datasets.measurement_info import text_measurement_info

_CITATION = """\
@inproceedings{zhu2025measuring,
  title = {Measuring Diversity in Synthetic Datasets},
  author = {Zhu, Yuchang and Zhang, Huizhe and Wu, Bingzhe and Li, Jintang and Zheng, Zibin and
            Zhao, Peilin and Chen, Liang and Bian, Yatao},
  booktitle = {International Conference on Machine Learning (ICML)},
  year = {2025}
}
"""

_DESCRIPTION = """\
DCScore (Zhu et al., 2025): diversity as classification, each text its own class.
DCScore = sum_i softmax_j(K_ij / tau)[i] = trace(softmax(K / tau)), K_ij = cos(e_i, e_j) on
all-MiniLM-L6-v2 embeddings. 1 when all texts embed identically; approaches N when they are
mutually dissimilar.
"""

_KWARGS_DESCRIPTION = """\
Args:
    data (`list` of `str`): at least 2 texts (no empty or whitespace-only strings).
    tau (`float`, default 1.0): softmax temperature.
    model (`str`, default `"default"`): "default" (all-MiniLM-L6-v2) or a local sentence-transformers folder.

Returns:
    `dcscore` (`float` in [1, N]), `n_texts`, `tau`.

Examples:
    >>> dcscore = evaluate.load("dcscore")
    >>> round(dcscore.compute(data=["hello there", "hello there"])["dcscore"], 6)  # one class
    1.0
    >>> result = dcscore.compute(data=["How do I bake bread?", "The stock market fell today."])
    >>> 1.0 < result["dcscore"] < 2.0, result["n_texts"], result["tau"]
    (True, 2, 1.0)
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class DCScore(evaluate.Measurement):
    """Trace of the row-softmax of the texts' cosine similarity matrix."""

    def _info(self):
        return text_measurement_info(
            _DESCRIPTION,
            _CITATION,
            _KWARGS_DESCRIPTION,
            ["https://arxiv.org/abs/2502.08512", "https://github.com/BlueWhaleLab/DCScore"],
        )

    def compute(self, *, data=None, **kwargs):
        """Rows are checked here, before evaluate's batching (which casts 3 to "3" and fails on None)."""
        return super().compute(data=checked_texts("dcscore.compute data", data, min_count=2), **kwargs)

    def _compute(self, data, tau=DCScoreConfig.default_of("tau"), model="default"):
        return dcscore(data, config=DCScoreConfig(tau=tau), model=model).as_dict()
