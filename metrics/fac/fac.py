"""Feature Activation Coverage (FAC) as an evaluate measurement: a thin shim over fac_datasets."""

import datasets
import evaluate

from fac_datasets.config import CoverageConfig, ExtractorConfig
from fac_datasets.coverage.measure import measure_fac
from fac_datasets.errors import FacConfigError, FacInputError
from fac_datasets.inputs import check_texts

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
    task (str, optional): task name; until a feature catalog exists it is only recorded.
    Any field of ExtractorConfig (model, sae, layer, dtype, threshold, max_length, ...) or of
    CoverageConfig (anchor_min_support, current_min_support, ...), with the defaults and meanings
    documented there (fac_datasets.config); e.g. model="default" is the embedded SmolLM2-135M-Instruct.
Returns:
    fac (float), n_relevant (int), n_covered (int), missing (list of int, by anchor support),
    current_mean_tokens (float), anchor_mean_tokens (float), relevance (str: where R came from).
Examples:
    >>> import evaluate, fac_datasets
    >>> fac = evaluate.load("fac")
    >>> result = fac.compute(data=["Write a poem."], references=["Write a poem.", "Tell a joke."], anchor_min_support=1)
    >>> round(result["fac"], 2), result["n_relevant"], result["current_mean_tokens"]
    (0.66, 162, 4.0)
"""


def _checked(name: str, texts):
    try:
        return check_texts(texts, min_count=1)
    except FacInputError as exc:
        raise FacInputError(f"fac.compute {name}: {exc}") from exc


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

    def compute(self, *, data=None, references=None, **kwargs):
        """`references` are the anchor texts, not row-aligned labels, so they bypass evaluate's batching.

        Inputs are checked here, before evaluate's own batching turns a bad row into a bare
        IndexError or KeyError.
        """
        _checked("data (the current texts)", data)
        if references is not None:
            kwargs["anchor_texts"] = _checked("references (the anchor texts)", references)
        return super().compute(data=data, **kwargs)

    def _compute(self, data, anchor_texts=None, anchor_counts=None, relevant_features=None, task=None, **options):
        extractor_fields = {k: v for k, v in options.items() if k in ExtractorConfig.model_fields}
        coverage_fields = {k: v for k, v in options.items() if k in CoverageConfig.model_fields}
        unknown = sorted(set(options) - set(extractor_fields) - set(coverage_fields))
        if unknown:
            known = sorted({*ExtractorConfig.model_fields, *CoverageConfig.model_fields})
            raise FacConfigError(f"fac.compute got unknown option(s) {unknown}; known: {known}.")
        report = measure_fac(
            data,
            anchor_texts,
            anchor_counts=anchor_counts,
            relevant_features=relevant_features,
            extractor=ExtractorConfig(**extractor_fields),
            config=CoverageConfig(**coverage_fields),
        )
        return {
            "fac": report.fac,
            "n_relevant": report.n_relevant,
            "n_covered": report.n_covered,
            "missing": report.missing_ids,
            "current_mean_tokens": report.current_mean_tokens,
            "anchor_mean_tokens": report.anchor_mean_tokens,
            "relevance": report.relevance
            if relevant_features is not None or task is None
            else f"task {task!r} named, but no feature catalog yet: {report.relevance}",
        }
