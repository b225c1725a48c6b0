"""Feature Activation Coverage (FAC) as an evaluate measurement: a thin shim over fac_datasets."""

import datasets
import evaluate

from fac_datasets.coverage import CoverageConfig
from fac_datasets.fac import measure_fac

_CITATION = """\
@article{less_is_enough_2026,
  title   = {Less is Enough: Synthesizing Diverse Data in Feature Space of LLMs},
  journal = {arXiv preprint arXiv:2602.10388},
  year    = {2026}
}
"""

_DESCRIPTION = """\
FAC = |relevant anchor features active in the current data| / |relevant anchor features|, where
features are a sparse autoencoder's TopK latents max-pooled over each text's content tokens.
Relevant features are given ids, or else every feature active in >= anchor_min_support anchor
texts. Reports tokens per text too: coverage grows with length.
"""

_KWARGS_DESCRIPTION = """
Args:
    data (list of str, or list of chat message lists): the current texts.
    references (list of str, optional): the anchor texts.
    anchor_counts (FeatureCounts, optional): precomputed anchor counts instead of references.
    relevant_features (list of int, optional): task-relevant feature ids.
    model (str): backbone spec, default "default" (the embedded SmolLM2-135M-Instruct).
    sae (str): SAE spec, default "default" (the SAE shipped with fac-datasets).
    layer (int, optional): residual stream after this many blocks; default: the SAE's.
    threshold (float): minimum pooled activation that counts, default 0.
    anchor_min_support (int): anchor texts a feature needs to be relevant, default 3.
    current_min_support (int): current texts a feature needs to count as covered, default 1.
    task (str, optional): task name; until a feature catalog exists it is only recorded.
Returns:
    fac (float), n_relevant (int), n_covered (int), missing (list of int, by anchor support),
    current_mean_tokens (float), anchor_mean_tokens (float), relevance (str: where R came from).
Examples:
    >>> import evaluate, fac_datasets
    >>> fac = evaluate.load("fac")
    >>> fac.compute(data=["Write a poem."], references=["Write a poem.", "Tell a joke."], anchor_min_support=1)["fac"]
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class Fac(evaluate.Measurement):
    def _info(self):
        return evaluate.MeasurementInfo(
            module_type="measurement",
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=[
                datasets.Features({"data": datasets.Value("string")}),
                datasets.Features({"data": [{"role": datasets.Value("string"), "content": datasets.Value("string")}]}),
            ],
            reference_urls=["https://arxiv.org/abs/2602.10388"],
        )

    def compute(self, *, references=None, **kwargs):
        """`references` are the anchor texts, not row-aligned labels, so they bypass evaluate's batching."""
        if references is not None:
            kwargs["anchor_texts"] = references
        return super().compute(**kwargs)

    def _compute(
        self,
        data,
        anchor_texts=None,
        anchor_counts=None,
        relevant_features=None,
        model="default",
        sae="default",
        layer=None,
        threshold=0.0,
        anchor_min_support=3,
        current_min_support=1,
        task=None,
    ):
        report = measure_fac(
            data,
            anchor_texts,
            anchor_counts=anchor_counts,
            relevant_features=relevant_features,
            model=model,
            sae=sae,
            layer=layer,
            threshold=threshold,
            config=CoverageConfig(anchor_min_support=anchor_min_support, current_min_support=current_min_support),
        )
        return {
            "fac": report.fac,
            "n_relevant": report.n_relevant,
            "n_covered": report.n_covered,
            "missing": report.missing_ids,
            "current_mean_tokens": report.current_mean_tokens,
            "anchor_mean_tokens": report.anchor_mean_tokens,
            "relevance": report.relevance if relevant_features is not None or task is None else
            f"task {task!r} named, but no feature catalog yet: {report.relevance}",
        }
