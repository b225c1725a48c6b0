"""Feature Activation Coverage (FAC) as an evaluate measurement: a thin shim over fac_datasets."""

import datasets
import evaluate

from fac_datasets.config import CoverageConfig, ExtractorConfig, RelevanceConfig
from fac_datasets.coverage.measure import measure
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
Relevant features come from `fac_datasets.relevance.resolve`, as in `fac coverage`: given ids, a
feature catalog's verdicts for a task, enrichment against a contrast set or (a task named) the
reference stats, else every feature active in >= anchor_min_support anchor texts. Reports tokens
per text too: coverage grows with length; soft, token-budget FAC and -MMD are there when asked.
"""

_KWARGS_DESCRIPTION = """
Args:
    data (list of str, or list of chat message lists): the current texts.
    references (list of str, optional): the anchor texts.
    anchor_counts (FeatureCounts, optional): precomputed anchor counts instead of references.
    task (str, optional): the task the relevant features are for (a catalog's verdicts, else enrichment).
    catalog (FeatureCatalog or its folder, optional): its verdicts for `task` decide relevance.
    contrast (list of str, FeatureCounts or a data file, optional): enrich against this set, not general text.
    relevant_features (list of int, optional): task-relevant feature ids.
    relevance (str, optional): force a method: auto (default), anchor-support, ids, enrichment, catalog.
    token_budget (int), soft_support (int), activation_rule (str), mmd (bool): the variants to add.
    Any field of ExtractorConfig (model, sae, layer, dtype, threshold, max_length, ...), CoverageConfig
    (anchor_min_support, current_min_support, budget_seeds, ...) or RelevanceConfig (reference, min_z,
    min_support, top_k, ...), with the defaults and meanings documented there (fac_datasets.config);
    e.g. model="default" is the embedded SmolLM2-135M-Instruct.
Returns:
    fac (float), n_relevant (int), n_covered (int), missing (list of int, by anchor support),
    current_mean_tokens (float), anchor_mean_tokens (float), relevance (str: where R came from),
    notes (list of str: what to know before trusting the number); when asked: soft_fac (soft_support),
    fac_at_budget (token_budget: mean binary FAC of current subsets of that many tokens), neg_mmd (mmd:
    -MMD^2 to the anchor, higher = closer), activation_rule (its description).
Examples:
    >>> import evaluate, fac_datasets
    >>> fac = evaluate.load("fac")
    >>> result = fac.compute(data=["Write a poem."], references=["Write a poem.", "Tell a joke."], anchor_min_support=1)
    >>> round(result["fac"], 2), result["n_relevant"], result["current_mean_tokens"]
    (0.66, 162, 4.0)
    >>> sorted(fac.compute(data=["Write a poem."], references=["Write a poem.", "Tell a joke."], anchor_min_support=1,
    ...                    soft_support=2, token_budget=4))
    ['anchor_mean_tokens', 'current_mean_tokens', 'fac', 'fac_at_budget', 'missing', 'n_covered', 'n_relevant',
     'notes', 'relevance', 'soft_fac']
"""

_CONFIGS = (ExtractorConfig, CoverageConfig, RelevanceConfig)


def _checked(name: str, texts):
    try:
        return check_texts(texts, min_count=1)
    except FacInputError as exc:
        raise FacInputError(f"fac.compute {name}: {exc}") from exc


def _split_options(options: dict) -> list[dict]:
    """Keyword options -> one dict of fields per config; an unknown name is one clear error."""
    options = dict(options)
    if "relevance" in options:
        options["method"] = options.pop("relevance")
    split = [{k: v for k, v in options.items() if k in config.model_fields} for config in _CONFIGS]
    unknown = sorted(set(options) - {k for part in split for k in part})
    if unknown:
        known = sorted({*(f for c in _CONFIGS for f in c.model_fields), "relevance"} - {"method"})
        raise FacConfigError(f"fac.compute got unknown option(s) {unknown}; known: {known}.")
    return split


def _catalog(catalog):
    if catalog is None or not isinstance(catalog, (str, bytes)) and not hasattr(catalog, "__fspath__"):
        return catalog
    from fac_datasets.catalog.catalog import FeatureCatalog

    return FeatureCatalog.load(catalog)


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

    def _compute(
        self,
        data,
        anchor_texts=None,
        anchor_counts=None,
        relevant_features=None,
        task=None,
        catalog=None,
        contrast=None,
        **options,
    ):
        extractor, coverage, relevance = _split_options(options)
        if (anchor_texts is None) == (anchor_counts is None):
            raise FacInputError("fac.compute: pass exactly one of references (anchor texts) or anchor_counts.")
        report = measure(
            data,
            anchor_texts if anchor_texts is not None else anchor_counts,
            relevance=RelevanceConfig(**relevance),
            config=CoverageConfig(**coverage),
            task=task,
            relevant_features=relevant_features,
            catalog=_catalog(catalog),
            contrast=contrast,
            features=ExtractorConfig(**extractor),
        )
        result = {
            "fac": report.fac,
            "n_relevant": report.n_relevant,
            "n_covered": report.n_covered,
            "missing": report.missing_ids,
            "current_mean_tokens": report.current_mean_tokens,
            "anchor_mean_tokens": report.anchor_mean_tokens,
            "relevance": report.relevance,
            "notes": report.notes,
        }
        variants = report.variants
        if "soft_support" in coverage:
            result["soft_fac"] = variants["soft_fac"]
        if variants.get("token_budget"):
            result["fac_at_budget"] = variants["token_budget"]["fac_mean"]
        if coverage.get("mmd"):
            result["neg_mmd"] = variants["neg_mmd"]
        if "activation_rule" in coverage:
            result["activation_rule"] = report.activation_rule
        return result
