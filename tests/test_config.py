"""Typed configs: the one home of defaults; bad values are FacConfigErrors naming the field."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fac_datasets.config import AnnotatorConfig, BackboneConfig, CoverageConfig, ExtractorConfig, TrainSAEConfig
from fac_datasets.errors import FacConfigError

PACKAGE = Path(__file__).resolve().parents[1] / "fac_datasets"


def test_every_field_has_a_description():
    for config in (BackboneConfig, ExtractorConfig, AnnotatorConfig, CoverageConfig, TrainSAEConfig):
        for name, field in config.model_fields.items():
            assert field.description, f"{config.__name__}.{name} has no docstring"


def test_bad_values_name_the_field_and_the_value():
    with pytest.raises(
        FacConfigError, match=r"CoverageConfig.current_min_support: .*greater than or equal to 1 \(got 0\)"
    ):
        CoverageConfig(current_min_support=0)
    with pytest.raises(FacConfigError, match=r"ExtractorConfig.modle: Extra inputs are not permitted"):
        ExtractorConfig(modle="default")
    with pytest.raises(FacConfigError, match=r"BackboneConfig.dtype: .*'float32' or 'bfloat16' \(got 'float16'\)"):
        BackboneConfig(dtype="float16")
    assert BackboneConfig(dtype="bf16").dtype == "bfloat16"


def test_shared_defaults_are_written_once():
    assert TrainSAEConfig().max_length == BackboneConfig().max_length
    assert TrainSAEConfig().outlier_norm_factor == BackboneConfig().outlier_norm_factor
    assert ExtractorConfig().outlier_norm_factor is None  # None: the SAE's own factor


def test_no_default_number_is_restated_in_the_package():
    """The defaults that used to drift (layer 15, max_length 512, outlier 3.0, support 3) live in config.py only."""
    pattern = re.compile(r"(?<![\w.])(?:=\s*|\()(?:512|3\.0)\b|anchor_min_support=3|layer\s*=\s*15\b")
    offenders = [
        f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}"
        for path in PACKAGE.rglob("*.py")
        if path.name != "config.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []


def test_cli_help_comes_from_the_configs(fac):
    out = fac("coverage", "--help", env={"COLUMNS": "400"}).stdout
    flat = " ".join(out.replace("│", " ").split())
    assert "Anchor texts a feature must be active in to be relevant" in flat
    assert "[default: 3]" in flat
