"""Cards rendered from the hub_cards templates into huggingface_hub's DatasetCard / ModelCard, checked locally.

The local check runs before any network call, so a bad field (a licence the Hub does not know, a
blank tag) fails at once with its name; the Hub's own validation runs later in the preflight.
"""

from __future__ import annotations

from typing import Any

from fac_datasets.constants import HUB_LICENSES
from fac_datasets.errors import FacConfigError
from fac_datasets.hub.card_data import CardPlan, cell
from fac_datasets.hub.licenses import InputLicense

_SIZE = {"n<1K", "1K<n<10K", "10K<n<100K", "100K<n<1M", "n>1M"}


def field_error(name: str, problem: str, value: Any, fix: str) -> FacConfigError:
    return FacConfigError(f"card field '{name}': {problem} (got {value!r}). {fix}")


def _strings(name: str, value: Any, fix: str) -> None:
    if not isinstance(value, list) or not value:
        raise field_error(name, "must be a non-empty list of strings", value, fix)
    for item in value:
        if not isinstance(item, str) or not item.strip() or "\n" in item or len(item) > 200:
            raise field_error(
                name, "every entry must be a non-blank one-line string of at most 200 characters", item, fix
            )


def check_metadata(metadata: dict[str, Any]) -> None:
    """Raise FacConfigError naming the first card field the Hub would reject (or that reads badly)."""
    license_ = metadata.get("license")
    if not isinstance(license_, str) or license_ not in HUB_LICENSES:
        raise field_error(
            "license",
            "is not a licence id the Hub knows",
            license_,
            "Pass --license with an id from https://huggingface.co/docs/hub/repositories-licenses "
            "(e.g. apache-2.0, cc-by-4.0, mit), or 'other' and name it in the card.",
        )
    _strings("tags", metadata.get("tags"), "Tags are single words like 'synthetic'.")
    for name in ("source_datasets", "datasets"):
        if metadata.get(name) is not None:
            _strings(name, metadata[name], "Pass --source-dataset with a Hub dataset id (owner/name) or a short name.")
    pretty = metadata.get("pretty_name")
    if pretty is not None and (
        not isinstance(pretty, str) or not pretty.strip() or "\n" in pretty or len(pretty) > 200
    ):
        raise field_error(
            "pretty_name",
            "must be one non-blank line of at most 200 characters",
            pretty,
            "Pass a shorter --pretty-name.",
        )
    for size in metadata.get("size_categories") or []:
        if size not in _SIZE:
            raise field_error("size_categories", "is not a Hub size category", size, "This is a bug: report it.")
    names = [c.get("config_name") for c in metadata.get("configs") or []]
    if len(names) != len(set(names)):
        raise field_error("configs", "config names must be unique", names, "This is a bug: report it.")


def input_rows(inputs: list[InputLicense]) -> list[dict]:
    return [
        {
            "role": cell(i.role),
            "name": cell(i.name, 200),
            "license": cell(i.license or "unknown"),
            "source": cell(i.source),
        }
        for i in inputs
    ]


def render_card(plan: CardPlan, repo_id: str, title: str, license_: str, license_sentence: str, inputs: list):
    """The card (DatasetCard or ModelCard) of `plan`, its metadata checked; FacConfigError names a bad field."""
    from huggingface_hub import DatasetCard, DatasetCardData, ModelCard, ModelCardData

    from fac_datasets.hub_cards import render

    metadata = {**plan.metadata, "license": license_}
    if plan.repo_type == "dataset":
        metadata["pretty_name"] = title
    check_metadata(metadata)
    metadata = {key: value for key, value in metadata.items() if value is not None}
    data_class, card_class = (
        (DatasetCardData, DatasetCard) if plan.repo_type == "dataset" else (ModelCardData, ModelCard)
    )
    try:
        data = data_class(**metadata)
    except (ValueError, TypeError) as exc:
        raise FacConfigError(f"card metadata is invalid: {exc}") from exc
    values = {
        **plan.values,
        "repo_id": repo_id,
        "title": title,
        "license_sentence": license_sentence,
        "inputs": input_rows(inputs),
        "card_data": data.to_yaml(),
    }
    text = plan.body if plan.body is not None else render(plan.template, **values)
    for section in plan.sections:
        text = text.rstrip("\n") + "\n" + render(section, **values)
    try:
        card = card_class(text)
    except ValueError as exc:  # the front matter does not parse as YAML
        raise FacConfigError(f"card front matter is not valid YAML: {exc}") from exc
    card.data = data  # ours wins over a training card's own front matter
    return card
