"""Cards built locally (no network): the shipped SAE's training card as a ModelCard, licence inheritance rules."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from fac_datasets.config import HubPushConfig
from fac_datasets.constants import DEFAULT_MODEL_ID
from fac_datasets.hub.bundle import build_bundle
from fac_datasets.hub.cards import render_card
from fac_datasets.hub.kinds import detect_kind
from fac_datasets.hub.licenses import InputLicense, declared_license, generator_input


def _card(folder: Path, staging: Path, config: HubPushConfig | None = None):
    config = config or HubPushConfig()
    bundle = build_bundle(detect_kind(folder), folder, staging, config)
    license_, sentence = declared_license(bundle.card.inputs, config.license)
    return bundle, render_card(bundle.card, "tester/x", "X", license_, sentence, bundle.card.inputs)


def test_shipped_sae_keeps_its_training_card_under_our_metadata(tmp_path):
    folder = Path(str(resources.files("fac_datasets") / "data" / "default_sae"))
    bundle, card = _card(folder, tmp_path, HubPushConfig(license="apache-2.0"))
    assert sorted(bundle.files) == ["cfg.json", "reference_stats.safetensors", "sae_weights.safetensors"]
    text = str(card)
    assert "held-out FVU" in text and "## Training corpus" in text  # hub_cards/sae_card.md, as `fac train-sae` wrote it
    assert "## Licences" in text and "## Limitations" in text and 'snapshot_download("tester/x")' in text
    assert card.data.license == "apache-2.0" and card.data.base_model == DEFAULT_MODEL_ID
    assert {"fac", "fac-sae", "sparse-autoencoder"} <= set(card.data.tags)
    assert text.count("\n---\n") == 1  # one front matter: ours replaced the template's


def test_synthesized_card_metadata_declares_both_configs(synthesized_dir, tmp_path):
    bundle, card = _card(synthesized_dir, tmp_path)
    configs = {c["config_name"]: c["data_files"][0]["path"] for c in card.data.configs}
    assert configs == {"default": "data/train-*", "all": "all/train-*"}
    assert "data/train-00000-of-00001.parquet" in bundle.files and "all/train-00000-of-00001.parquet" in bundle.files
    assert card.data.license == "unknown" and "No licence is known for: anchor / current data" in str(card)


@pytest.mark.parametrize(
    ("licenses", "given", "expected"),
    [
        (["apache-2.0", "apache-2.0"], None, "apache-2.0"),
        (["apache-2.0", "cc-by-4.0"], None, "other"),
        (["apache-2.0", None], None, "unknown"),
        (["apache-2.0", None], "mit", "mit"),
    ],
)
def test_declared_licence_is_inherited_never_guessed(licenses, given, expected):
    inputs = [InputLicense("input", f"in{i}", lic) for i, lic in enumerate(licenses)]
    assert declared_license(inputs, given)[0] == expected


def test_served_generators_have_no_licence_to_look_up():
    served = generator_input("openai:gpt-x@http://localhost:8000/v1")
    assert served.license is None and served.hub_id is None and "terms" in served.source
    local = generator_input("transformers:someone/model")
    assert local.hub_id == "someone/model" and local.name == "transformers:someone/model"
