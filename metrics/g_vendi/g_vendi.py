"""G-Vendi as an evaluate measurement: a thin shim over fac_datasets.diversity.g_vendi."""

import evaluate

from fac_datasets.config import GVendiConfig
from fac_datasets.diversity.checks import checked_texts
from fac_datasets.diversity.g_vendi import g_vendi
from fac_datasets.measurement_info import text_measurement_info

_CITATION = """\
@article{jung2025prismatic,
  title = {Prismatic Synthesis: Gradient-based Data Diversification Boosts Generalization in LLM Reasoning},
  author = {Jung, Jaehun and Han, Seungju and Lu, Ximing and Hallinan, Skyler and Acuna, David and
            Prabhumoye, Shrimai and Patwary, Mostofa and Shoeybi, Mohammad and Catanzaro, Bryan and Choi, Yejin},
  journal = {arXiv preprint arXiv:2505.20161},
  year = {2025}
}
"""

_DESCRIPTION = """\
G-Vendi (Jung et al., 2025): the Vendi score of a proxy model's per-text loss gradients, randomly
projected and unit-normalised: exp(-sum l log l), l the eigenvalues of (1/N) sum_i g_i g_i^T.
The effective number of distinct directions in which the texts would move the model. On CPU the
proxy is the embedded SmolLM2-135M-Instruct, the gradient covers the linear weights of its last
`blocks` decoder blocks, and the projection is a seeded CountSketch (or a dense Rademacher matrix).
"""

_KWARGS_DESCRIPTION = """\
Args:
    data (`list` of `str`): the texts (no empty or whitespace-only strings).
    model (`str`, default `"default"`): proxy causal LM: "default" (SmolLM2-135M-Instruct), a local
        folder or a .gguf file.
    blocks (`int`, default 1): last decoder blocks whose linear weights the gradient covers.
    projection_dim (`int`, default 1024), projection (`"sparse"` or `"dense"`), seed (`int`, default 0).
    max_length (`int`, default 256), batch_size (`int`, default 8), chunk_params (`int`): see GVendiConfig.

Returns:
    `g_vendi` (`float` >= 1), `n_texts`, `model`, `blocks`, `n_params` (size of the restricted gradient),
    `projection`, `projection_dim`, `seed`.

Examples:
    >>> g_vendi = evaluate.load("g_vendi")
    >>> result = g_vendi.compute(data=["hello there", "hello there"])
    >>> round(result["g_vendi"], 6), result["n_params"], result["projection_dim"]
    (1.0, 3538944, 1024)
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class GVendi(evaluate.Measurement):
    """Effective number of distinct gradient directions of the texts under a proxy model."""

    def _info(self):
        return text_measurement_info(_DESCRIPTION, _CITATION, _KWARGS_DESCRIPTION, ["https://arxiv.org/abs/2505.20161"])

    def compute(self, *, data=None, **kwargs):
        """Rows are checked here, before evaluate's batching (which casts 3 to "3" and fails on None)."""
        return super().compute(data=checked_texts("g_vendi.compute data", data), **kwargs)

    def _compute(self, data, **options):
        return g_vendi(data, config=GVendiConfig(**options)).as_dict()
