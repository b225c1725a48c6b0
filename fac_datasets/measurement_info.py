"""The `MeasurementInfo` every packaged text metric returns: one list of texts in, one place to say so."""

from __future__ import annotations

from collections.abc import Sequence


def text_measurement_info(description: str, citation: str, inputs_description: str, reference_urls: Sequence[str]):
    """evaluate's info of a measurement over one `data` column of strings (the diversity modules)."""
    import datasets
    import evaluate

    return evaluate.MeasurementInfo(
        module_type="measurement",
        description=description,
        citation=citation,
        inputs_description=inputs_description,
        features=datasets.Features({"data": datasets.Value("string")}),
        reference_urls=list(reference_urls),
    )
