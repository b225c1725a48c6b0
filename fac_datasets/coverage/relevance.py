"""Relevant ids for `compute_coverage` from a relevance method, with the line the report shows."""

from __future__ import annotations

from fac_datasets.errors import FacInputError


def relevance_from_enrichment(result) -> tuple[list[int], str]:
    """(relevant ids, description) from an `EnrichmentResult`; an empty result is an error with the fix."""
    if len(result) == 0:
        raise FacInputError(
            f"No feature passed the enrichment rule ({result.rule}). Lower min_z or min_support, "
            "use a larger anchor set, or pick another reference or contrast set."
        )
    return result.features.tolist(), f"{len(result)} features {result.rule}"
