"""N-gram entropy as an evaluate measurement: a thin shim over fac_datasets.diversity.ngrams."""

import math

import evaluate

from fac_datasets.diversity.ngrams import ngram_entropy
from fac_datasets.measurement_info import text_measurement_info

_CITATION = """\
@inproceedings{zhang2018generating,
  title = {Generating Informative and Diverse Conversational Responses via Adversarial Information Maximization},
  author = {Zhang, Yizhe and Galley, Michel and Gao, Jianfeng and Gan, Zhe and Li, Xiujun and Brockett, Chris
            and Dolan, Bill},
  booktitle = {Advances in Neural Information Processing Systems 31 (NeurIPS 2018)},
  year = {2018}
}
"""

_DESCRIPTION = """\
Shannon entropy of the corpus-pooled n-gram frequency distribution:
H_n = -sum_g p(g) log p(g), p(g) = count(g) / total n-grams ("Ent-n", Zhang et al., 2018).
Natural log (nats) unless `base` is given. Same tokenizers as distinct_n.
"""

_KWARGS_DESCRIPTION = """\
Args:
    data (`list` of `str`): the texts (no empty or whitespace-only strings).
    n (`int` or `list` of `int`, default `2`): n-gram sizes.
    tokenizer (`str`, default `"word"`): `"word"` or `"whitespace"`.
    base (`float`, default e): logarithm base (2 for bits).

Returns:
    `entropy_<n>` (`float` >= 0) for each requested n.

Examples:
    >>> entropy = evaluate.load("ngram_entropy")
    >>> entropy.compute(data=["a b a b"], n=1, base=2)
    {'entropy_1': 1.0}
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class NgramEntropy(evaluate.Measurement):
    """Entropy of the n-gram distribution of a list of texts."""

    def _info(self):
        return text_measurement_info(_DESCRIPTION, _CITATION, _KWARGS_DESCRIPTION, ["https://arxiv.org/abs/1809.05972"])

    def _compute(self, data, n=2, tokenizer="word", base=math.e):
        sizes = [n] if isinstance(n, int) else list(n)
        return {f"entropy_{k}": ngram_entropy(data, k, tokenizer=tokenizer, base=base) for k in sizes}
