"""Licences of the inputs a published artefact came from, and the one its card declares.

A derived artefact cannot be more open than what it was made from, and a card must not claim a
licence nobody checked: the declared licence is the user's (--license), else the inputs' common
licence, else 'other' when they differ, else 'unknown' when any input's licence is unknown.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

from fac_datasets.constants import HUB_LICENSES, KNOWN_LICENSES

UNKNOWN = "unknown"


@dataclass(frozen=True)
class InputLicense:
    """Attributes:
    role: what the input was for (source data, generator, backbone, explainer, training corpus).
    name: its id or description.
    license: a Hub licence id, or None when unknown.
    source: where the licence came from: known (shipped facts), hub (its card), given, or why it is unknown.
    hub_id: the Hub repo to look the licence up in, and its type (dataset/model); None when it is not on the Hub.
    """

    role: str
    name: str
    license: str | None = None
    source: str = "not recorded"
    hub_id: str | None = None
    hub_type: str = "model"


def looks_like_hub_id(name: str | None) -> bool:
    """owner/name and not a local path: worth asking the Hub about."""
    if not name or name.count("/") != 1 or os.path.exists(name):
        return False
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(name)
    except HFValidationError:
        return False
    return True


def model_input(role: str, model_id: str | None) -> InputLicense:
    """A model input (backbone, generator, explainer): its licence if shipped facts know it, else a Hub lookup."""
    name = model_id or "not recorded"
    if model_id in KNOWN_LICENSES:
        return InputLicense(role, name, KNOWN_LICENSES[model_id], "known (embedded default)")
    hub_id = model_id if looks_like_hub_id(model_id) else None
    return InputLicense(role, name, None, "not on the Hub" if hub_id is None else "not looked up", hub_id, "model")


def dataset_inputs(source_datasets: tuple[str, ...], role: str = "source data") -> list[InputLicense]:
    """One input per source dataset the user named; without any, one saying the source was not recorded."""
    if not source_datasets:
        return [InputLicense(role, "not recorded (pass --source-dataset)", None, "not recorded")]
    return [
        InputLicense(role, name, None, "not looked up", name if looks_like_hub_id(name) else None, "dataset")
        for name in source_datasets
    ]


def generator_model(generator_id: str | None) -> str | None:
    """The model behind a generator id ('transformers:MODEL@FILE', 'openai:MODEL@URL'); None if not a model id."""
    if not generator_id:
        return None
    backend, _, rest = generator_id.partition(":")
    model = rest.split("@", 1)[0] if rest else backend
    return model if backend == "transformers" else None


def generator_input(generator_id: str | None, role: str = "generator") -> InputLicense:
    """Served models (openai:...) cannot be looked up: their terms are the server's."""
    model = generator_model(generator_id)
    if model is None:
        return InputLicense(role, generator_id or "not recorded", None, "served model: check its terms")
    return replace(model_input(role, model), name=generator_id)


def hub_license(card_license: object) -> str | None:
    """A card's licence field as one Hub id (a list of one, or None)."""
    if isinstance(card_license, list) and len(card_license) == 1:
        card_license = card_license[0]
    if isinstance(card_license, str) and card_license.strip():
        value = card_license.strip().lower()
        return value if value != UNKNOWN else None
    return None


def declared_license(inputs: list[InputLicense], given: str | None) -> tuple[str, str]:
    """(licence id for the card metadata, one sentence saying why)."""
    if given:
        return given, f"`{given}`, as declared by the publisher."
    unknown = [f"{item.role} ({item.name})" for item in inputs if item.license is None]
    if unknown:
        return UNKNOWN, (
            f"unknown. No licence is known for: {'; '.join(unknown)}; so none can be claimed. Check the "
            "licences of the inputs below before reusing this (the publisher can declare one with --license)."
        )
    licenses = sorted({item.license for item in inputs})
    if len(licenses) == 1:
        return licenses[0], f"`{licenses[0]}`, the licence every input below shares."
    return "other", (
        f"other: the inputs carry different licences ({', '.join(licenses)}); every one of them applies, "
        "the most restrictive first."
    )


def is_hub_license(value: str) -> bool:
    return value in HUB_LICENSES


def lookup_licenses(api, inputs: list[InputLicense]) -> list[InputLicense]:
    """Fill unknown licences of Hub inputs from their cards; an input the Hub cannot show stays unknown."""
    found = []
    for item in inputs:
        if item.license is not None or item.hub_id is None:
            found.append(item)
            continue
        try:
            get_info = api.dataset_info if item.hub_type == "dataset" else api.model_info
            card_data = get_info(item.hub_id).card_data
        except Exception as exc:  # missing, gated, private or unreachable: not a reason to stop the push
            found.append(replace(item, source=f"Hub lookup failed ({type(exc).__name__})"))
            continue
        license_ = hub_license(getattr(card_data, "license", None) if card_data is not None else None)
        if license_ is None:
            found.append(replace(item, source="its Hub card names none"))
        elif is_hub_license(license_):
            found.append(replace(item, license=license_, source="its Hub card"))
        else:
            found.append(replace(item, license="other", source=f"its Hub card says {license_!r}"))
    return found
