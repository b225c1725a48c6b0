"""`fac demo`, the main job, end to end on the embedded default (a small budget; `make demo` runs the full one)."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.slow


def test_demo_fills_missing_features_with_sae_verified_samples(fac, tmp_path):
    out = tmp_path / "demo"
    result = fac("demo", "--out", out, "--budget", "8", "--max-features", "2", process=True, timeout=1200)
    assert result.exit_code == 0, result.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())
    assert {"fac_before", "fac_after", "features", "wall_seconds"} <= set(report)
    assert report["fac_after"]["fac"] >= report["fac_before"]["fac"] and report["calls"]["total"] <= 8
    import datasets

    from fac_datasets.features.extractor import load_extractor

    samples = datasets.load_from_disk(str(out / "dataset"))
    accepted = samples.filter(lambda row: row["accepted"])
    fresh = load_extractor()  # an independent re-check of the SAE filter
    for row, features in zip(accepted, fresh.extract(accepted["sae_text"]), strict=True):
        assert row["target_feature"] in features.features
