"""NovelSum as an evaluate measurement: a thin shim over fac_datasets.diversity.novelsum."""

import evaluate

from fac_datasets.config import NovelSumConfig
from fac_datasets.diversity.checks import checked_texts
from fac_datasets.diversity.novelsum import novelsum
from fac_datasets.measurement_info import text_measurement_info

_CITATION = """\
@inproceedings{yang2025measuring,
  title = {Measuring Data Diversity for Instruction Tuning: A Systematic Analysis and A Reliable Metric},
  author = {Yang, Yuming and Nan, Yang and Ye, Junjie and Dou, Shihan and Wang, Xiao and Li, Shuo and
            Lv, Huijie and Gui, Tao and Zhang, Qi and Huang, Xuanjing},
  booktitle = {Proceedings of the 63rd Annual Meeting of the Association for Computational
               Linguistics (ACL)},
  year = {2025}
}
"""

_DESCRIPTION = """\
NovelSum (Yang et al., 2025): each text's novelty is a proximity-weighted average of its cosine
distances to the texts (the r-th nearest weighs 1 / r^alpha), scaled by a density factor
1 / (mean squared L2 distance to its K nearest reference texts)^beta; NovelSum is the mean
novelty. all-MiniLM-L6-v2 embeddings. Without `references` the density factor is skipped (the
authors' advice when no reference distribution is at hand).
"""

_KWARGS_DESCRIPTION = """\
Args:
    data (`list` of `str`): at least 2 texts (no empty or whitespace-only strings).
    references (`list` of `str`, optional): reference texts for the density factor (e.g. the anchor data).
    neighbors (`int`, default 10), density_power (`float`, default 0.5), distance_power (`float`, default 1.0),
    include_self (`bool`, default True): the authors' parameters K, beta, alpha and self-distance choice.
    model (`str`, default `"default"`): "default" (all-MiniLM-L6-v2) or a local sentence-transformers folder.

Returns:
    `novelsum` (`float` >= 0), `n_texts`, `n_reference` (0 = density skipped), `neighbors`,
    `density_power` (0.0 when skipped), `distance_power`.

Examples:
    >>> novelsum = evaluate.load("novelsum")
    >>> result = novelsum.compute(data=["hello there", "hello there"])  # no references: density skipped
    >>> abs(result["novelsum"]) < 1e-6, result["n_reference"], result["density_power"]
    (True, 0, 0.0)
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class NovelSum(evaluate.Measurement):
    """Proximity-weighted, density-aware novelty of the texts in sentence-embedding space."""

    def _info(self):
        return text_measurement_info(
            _DESCRIPTION,
            _CITATION,
            _KWARGS_DESCRIPTION,
            ["https://arxiv.org/abs/2502.17184", "https://github.com/UmeanNever/NovelSum"],
        )

    def compute(self, *, data=None, references=None, **kwargs):
        """`references` are a reference set, not row-aligned labels, so they bypass evaluate's batching;
        rows are checked here (evaluate casts 3 to "3" and fails on None)."""
        data = checked_texts("novelsum.compute data", data, min_count=2)
        if references is not None:
            kwargs["reference_texts"] = checked_texts("novelsum.compute references", references)
        return super().compute(data=data, **kwargs)

    def _compute(
        self,
        data,
        reference_texts=None,
        neighbors=NovelSumConfig.default_of("neighbors"),
        density_power=NovelSumConfig.default_of("density_power"),
        distance_power=NovelSumConfig.default_of("distance_power"),
        include_self=NovelSumConfig.default_of("include_self"),
        model="default",
    ):
        config = NovelSumConfig(
            neighbors=neighbors, density_power=density_power, distance_power=distance_power, include_self=include_self
        )
        return novelsum(data, references=reference_texts, config=config, model=model).as_dict()
