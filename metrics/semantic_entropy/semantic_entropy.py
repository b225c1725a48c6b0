"""Semantic entropy of a dataset as an evaluate measurement: a shim over fac_datasets.diversity.semantic."""

import evaluate

from fac_datasets.diversity.semantic import DEFAULT_THRESHOLD, semantic_entropy
from fac_datasets.measurement_info import text_measurement_info

_CITATION = """\
@article{farquhar2024detecting,
  title = {Detecting hallucinations in large language models using semantic entropy},
  author = {Farquhar, Sebastian and Kossen, Jannik and Kuhn, Lorenz and Gal, Yarin},
  journal = {Nature},
  volume = {630},
  pages = {625--630},
  year = {2024},
  doi = {10.1038/s41586-024-07421-0}
}
@inproceedings{kuhn2023semantic,
  title = {Semantic Uncertainty: Linguistic Invariances for Uncertainty Estimation in Natural Language Generation},
  author = {Kuhn, Lorenz and Gal, Yarin and Farquhar, Sebastian},
  booktitle = {International Conference on Learning Representations (ICLR)},
  year = {2023}
}
"""

_DESCRIPTION = """\
Semantic entropy of a corpus: SE = -sum_c p(c) log p(c) (nats), p(c) = |c| / N the fraction of
texts in meaning cluster c: the discrete semantic entropy of Farquhar et al. (2024). Clusters
are NOT formed by bidirectional NLI entailment as in the papers (O(N^2) NLI calls); at dataset
scale they come from complete-linkage agglomerative clustering of all-MiniLM-L6-v2 embeddings
under cosine distance, cut so that every pair inside a cluster has cosine similarity >= threshold
(default 0.75). One text gives 0.0; N texts in N clusters give log N.
"""

_KWARGS_DESCRIPTION = """\
Args:
    data (`list` of `str`): the texts (no empty or whitespace-only strings).
    threshold (`float`, default 0.75): cosine similarity every pair in a cluster must reach.
    model (`str`, default `"default"`): "default" (all-MiniLM-L6-v2) or a local sentence-transformers folder.

Returns:
    `semantic_entropy` (`float`, nats), `n_clusters`, `n_texts`, `threshold`.

Examples:
    >>> se = evaluate.load("semantic_entropy")
    >>> se.compute(data=["Give me a bread recipe.", "What is a recipe for bread?", "The stock market fell."])
    {'semantic_entropy': 0.636..., 'n_clusters': 2, 'n_texts': 3, 'threshold': 0.75}
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class SemanticEntropy(evaluate.Measurement):
    """Entropy of a dataset's distribution over meaning clusters."""

    def _info(self):
        return text_measurement_info(
            _DESCRIPTION,
            _CITATION,
            _KWARGS_DESCRIPTION,
            ["https://www.nature.com/articles/s41586-024-07421-0", "https://arxiv.org/abs/2302.09664"],
        )

    def _compute(self, data, threshold=DEFAULT_THRESHOLD, model="default"):
        return semantic_entropy(data, threshold=threshold, model=model).as_dict()
