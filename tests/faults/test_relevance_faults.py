"""Issue 17 faults around relevance and the coverage report: each was a wrong or silent result.

- `--task toxicity` without a catalog or contrast set enriched against general text in silence (25 of 26
  "toxicity" features were Twitter form): the run now says so, names the top features' peak tokens,
  and suggests --contrast.
- `fac coverage --mmd` printed "-MMD^2 0.0015": a positive value under a minus sign.
- A text longer than max_length was cut with a bare UserWarning that never reached the report.
"""

from __future__ import annotations

import json
import warnings

import pytest
from helpers import GENERAL, SEA_POEMS, TEXTS

from fac_datasets.config import CoverageConfig, RelevanceConfig

ANCHOR = SEA_POEMS


@pytest.fixture()
def tiny_extractor(tiny_model_dir, tiny_sae_dir):
    from fac_datasets.features.extractor import load_extractor

    return load_extractor(model=str(tiny_model_dir), sae=str(tiny_sae_dir))


@pytest.fixture()
def general_reference(tmp_path, tiny_extractor):
    from fac_datasets.features.reference import build_reference

    return build_reference(tiny_extractor, GENERAL, corpus="general").save(tmp_path / "general.safetensors")


def _jsonl(path, texts):
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    return path


def test_a_task_without_catalog_or_contrast_says_genre_features_may_count(tiny_extractor, general_reference):
    from fac_datasets.coverage.measure import measure

    relevance = RelevanceConfig(reference=str(general_reference), min_z=0, min_support=2)
    report = measure(ANCHOR[:2], ANCHOR, relevance=relevance, task="poetry", features=tiny_extractor)
    loud = [note for note in report.notes if "against general text" in note]
    assert len(loud) == 1 and "Task 'poetry'" in loud[0] and "--contrast" in loud[0]
    assert "genre features" in loud[0] and "peaks on '" in loud[0]  # named by the token each peaks on
    assert str(report.enrichment["features"][0]) in loud[0]  # the strongest feature is named
    assert report.provenance["relevance"]["method"] == "enrichment" and report.provenance["task"] == "poetry"

    contrast = measure(
        ANCHOR[:2], ANCHOR, relevance=relevance, task="poetry", contrast=GENERAL, features=tiny_extractor
    )
    assert not any("against general text" in note for note in contrast.notes)
    assert "enriched vs contrast set" in contrast.relevance


def test_fac_coverage_prints_the_loud_note(fac, tmp_path, tiny, general_reference):
    anchor, current = _jsonl(tmp_path / "a.jsonl", ANCHOR), _jsonl(tmp_path / "c.jsonl", ANCHOR[:2])
    command = ["coverage", "--anchor", anchor, "--current", current, "--out", tmp_path / "o", *tiny.args]
    command += ["--task", "poetry", "--reference", general_reference, "--min-z", "0", "--enrichment-min-support", "2"]
    result = fac(*command)
    assert result.exit_code == 0, result.stderr[-3000:]
    assert (
        "note: Task 'poetry': relevance is statistical enrichment of the anchor against general text" in result.stderr
    )
    notes = json.loads((tmp_path / "o" / "coverage.json").read_text())["notes"]
    assert any("--contrast" in note for note in notes)


def test_fac_compute_with_a_task_no_longer_says_no_catalog_yet(tiny_model_dir, tiny_sae_dir):
    """No reference stats fit the tiny SAE: relevance falls back to anchor support, and says why."""
    import evaluate

    from fac_datasets.evaluate_modules import metric_path

    fac = evaluate.load(metric_path("fac"))
    result = fac.compute(data=TEXTS[:2], references=TEXTS, task="toxicity", model=str(tiny_model_dir),
                         sae=str(tiny_sae_dir), anchor_min_support=1)  # fmt: skip
    assert "no feature catalog yet" not in result["relevance"]
    assert any("no reference stats fit this SAE" in note and "contrast" in note for note in result["notes"])


def test_neg_mmd_is_printed_with_its_true_sign():
    from fac_datasets.coverage.compute import compute_coverage
    from fac_datasets.coverage.report import render_html, summary_line
    from fac_datasets.features.counts import FeatureCounts
    from fac_datasets.features.rows import FeatureRows

    rows = FeatureRows.from_lists([[1, 2], [2, 3]], [[1.0, 1.0], [1.0, 1.0]], [3, 4])
    report = compute_coverage(FeatureCounts.from_rows(rows, 8), rows, None, CoverageConfig(anchor_min_support=1))
    report.variants["neg_mmd"] = 0.0015  # the unbiased MMD^2 was -0.0015: the sets match
    assert "-MMD^2 to anchor +0.0015" in summary_line(report)
    report.variants["neg_mmd"] = -0.25
    assert "-MMD^2 to anchor -0.2500" in summary_line(report)
    html = render_html(report, b"")
    assert "-0.2500" in html and "higher = closer to the anchor" in html and "dips below 0" in html


def test_truncated_texts_become_a_report_note(tiny_model_dir, tiny_sae_dir):
    from fac_datasets.config import ExtractorConfig
    from fac_datasets.coverage.measure import measure
    from fac_datasets.features.backbone import TruncationWarning

    long = "Write a poem about the sea and the shore and the wind. " * 20
    features = ExtractorConfig(model=str(tiny_model_dir), sae=str(tiny_sae_dir), max_length=64)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = measure([long, "Hi"], [long, *TEXTS], features=features, config=CoverageConfig(anchor_min_support=1))
    assert not [w for w in caught if issubclass(w.category, TruncationWarning)]  # a note, not a stray warning
    cut = [note for note in report.notes if "max_length=64" in note]
    assert any(note.startswith("1 anchor texts were longer") for note in cut)
    assert any(note.startswith("1 current texts were longer") for note in cut)
