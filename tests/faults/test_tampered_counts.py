"""A counts file made with another SAE or threshold must be refused, never turned into a FAC (issue 17.1)."""

from __future__ import annotations

import json

import pytest
from helpers import TEXTS

from fac_datasets.errors import FacInputError
from fac_datasets.features.counts import FeatureCounts


@pytest.fixture()
def texts_file(tmp_path):
    path = tmp_path / "texts.jsonl"
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in TEXTS))
    return path


@pytest.fixture()
def anchor_counts(fac, tmp_path, texts_file, tiny):
    out = tmp_path / "first"
    result = fac(
        "coverage", "--anchor", texts_file, "--current", texts_file, "--out", out, *tiny.args,
        "--anchor-min-support", "1",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return out / "anchor_counts.json"


@pytest.fixture()
def second(tmp_path, texts_file, tiny) -> list:
    """The options of a second `fac coverage` of the texts (into tmp_path/second), given an --anchor."""
    return ["--current", texts_file, "--out", tmp_path / "second", *tiny.args, "--anchor-min-support", "1"]


def test_the_same_setup_is_accepted(fac, tmp_path, anchor_counts, second):
    result = fac("coverage", "--anchor", anchor_counts, *second)
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "second" / "coverage.json").read_text())["fac"] == 1.0


def test_counts_of_another_threshold_are_refused(fac, tmp_path, anchor_counts, second):
    result = fac("coverage", "--anchor", anchor_counts, *second, "--threshold", "0.5")
    result.error_line(str(anchor_counts), "threshold 0.0", "threshold 0.5")
    assert not (tmp_path / "second" / "coverage.json").exists()


def test_counts_of_another_sae_are_refused(fac, tmp_path, anchor_counts, second):
    data = json.loads(anchor_counts.read_text())
    data["provenance"]["sae"] = "0123456789abcdef"
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(data))
    line = fac("coverage", "--anchor", tampered, *second).error_line("sae 0123456789abcdef")
    assert "Recompute" in line


def test_counts_over_another_width_are_refused(fac, tmp_path, anchor_counts, second):
    data = json.loads(anchor_counts.read_text())
    data["d_sae"] = data["d_sae"] * 2
    wider = tmp_path / "wider.json"
    wider.write_text(json.dumps(data))
    fac("coverage", "--anchor", wider, *second).error_line("another SAE")


def test_counts_that_record_no_setup_are_refused(fac, tmp_path, anchor_counts, second):
    data = json.loads(anchor_counts.read_text())
    data["provenance"] = {}
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps(data))
    fac("coverage", "--anchor", bare, *second).error_line("records no setup")


def test_a_contrast_counts_file_is_checked_too(fac, tmp_path, anchor_counts, texts_file, second):
    data = json.loads(anchor_counts.read_text())
    data["provenance"]["layer"] = 99
    contrast = tmp_path / "contrast.json"
    contrast.write_text(json.dumps(data))
    result = fac("coverage", "--anchor", texts_file, *second, "--relevance", "enrichment", "--contrast", contrast)
    result.error_line(str(contrast), "layer 99")


def test_the_python_api_checks_anchor_counts(anchor_counts, tiny_model_dir, tiny_sae_dir):
    from fac_datasets.coverage.measure import measure
    from fac_datasets.features.extractor import load_extractor

    extractor = load_extractor(model=str(tiny_model_dir), sae=str(tiny_sae_dir), threshold=0.5)
    with pytest.raises(FacInputError, match="threshold 0.0.*threshold 0.5"):
        measure(TEXTS, FeatureCounts.load(anchor_counts), features=extractor)
