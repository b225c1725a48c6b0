"""Soft coverage, token-budget FAC and activation rules on hand-made feature rows."""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import GENERAL, SEA_POEMS

from fac_datasets.config import CoverageConfig
from fac_datasets.coverage.compute import compute_coverage
from fac_datasets.coverage.variants import budget_rows, filter_rows, soft_coverage, token_budget_coverage
from fac_datasets.errors import FacInputError, FacSAEError
from fac_datasets.features.counts import FeatureCounts
from fac_datasets.features.reference import ReferenceStats
from fac_datasets.features.rows import FeatureRows

D = 8


def rows(lists, acts=None, tokens=None) -> FeatureRows:
    acts = acts or [[1.0] * len(r) for r in lists]
    return FeatureRows.from_lists(lists, acts, tokens or [10] * len(lists))


def anchor_of(lists, acts=None, provenance=None) -> FeatureCounts:
    return FeatureCounts.from_rows(rows(lists, acts), D, provenance)


def reference_stats(median: list[float], provenance: dict | None = None) -> ReferenceStats:
    counts = FeatureCounts(D, n_docs=10, n_tokens=100, provenance=provenance or {})
    counts.doc_freq[:] = 5
    return ReferenceStats(counts, (0.5,), np.asarray([median], dtype=np.float32), np.full(D, 5), {})


# ------------------------------------------------------------------ soft coverage
def test_soft_coverage_by_hand():
    anchor = anchor_of([[0, 1, 2, 3]])
    current = rows([[0, 1], [0], [0, 2], [0]])  # support: 0 -> 4, 1 -> 1, 2 -> 1, 3 -> 0
    report = compute_coverage(anchor, current, relevant=[0, 1, 2, 3])
    assert report.fac == 0.75
    v = report.variants
    assert v["soft_fac"] == pytest.approx((1 + 1 / 3 + 1 / 3 + 0) / 4)  # s = 3 by default
    assert v["binary_fac"] == report.fac and v["soft_support"] == 3 and v["token_budget"] is None
    assert soft_coverage(np.array([4, 1, 1, 0]), np.arange(4), 1) == 0.75  # s = 1 is binary FAC
    assert soft_coverage(np.array([4, 1, 1, 0]), np.arange(4), 2) == pytest.approx((1 + 0.5 + 0.5) / 4)


def test_default_report_keeps_todays_fields_and_value():
    anchor = anchor_of([[0, 1, 2], [0, 1, 3], [0, 2, 4]])
    report = compute_coverage(anchor, rows([[0, 5], [1]]), config=CoverageConfig(anchor_min_support=1))
    data = report.to_dict()
    assert data["fac"] == pytest.approx(2 / 5) and data["relevance"].startswith("anchor support >= 1")
    assert data["activation_rule"].startswith("any") and data["variants"]["neg_mmd"] is None
    assert {"covered", "missing", "rarefaction", "thresholds", "notes"} <= set(data)


# ------------------------------------------------------------------ token budget
def test_budget_takes_whole_rows_until_the_budget_is_reached():
    current = rows([[0], [1], [2], [3]], tokens=[10, 10, 10, 10])
    assert len(budget_rows(current, 20, seed=0)) == 2
    assert len(budget_rows(current, 25, seed=0)) == 3  # the row that reaches 25 is included
    assert len(budget_rows(current, 1000, seed=0)) == 4


def test_token_budget_fac_by_hand():
    anchor = anchor_of([[0, 1, 2, 3]])
    current = rows([[0], [1], [2], [3]], tokens=[10, 10, 10, 10])  # every subset of k rows covers k features
    config = CoverageConfig(token_budget=25, budget_seeds=4)
    budget = compute_coverage(anchor, current, relevant=[0, 1, 2, 3], config=config).variants["token_budget"]
    assert budget["fac_mean"] == 0.75 and budget["fac_std"] == 0.0
    assert budget["soft_fac_mean"] == pytest.approx(3 * (1 / 3) / 4)
    assert budget["rows_mean"] == 3 and budget["tokens_mean"] == 30 and budget["seeds"] == 4
    assert not budget["whole_set"]


def test_token_budget_matches_counting_each_seeded_subset():
    gen = np.random.default_rng(3)
    lists = [sorted(gen.choice(D, size=gen.integers(1, 4), replace=False).tolist()) for _ in range(30)]
    tokens = gen.integers(5, 50, size=30).tolist()
    current, relevant = rows(lists, tokens=tokens), np.arange(0, D, 2)
    config = CoverageConfig(token_budget=120, budget_seeds=3, current_min_support=2)
    expected = []
    for seed in range(3):
        order = np.random.default_rng(seed).permutation(30)
        n = int(np.argmax(np.cumsum(np.asarray(tokens)[order]) >= 120)) + 1
        subset = current.take(order[:n])
        expected.append((np.bincount(subset.features, minlength=D)[relevant] >= 2).mean())
    assert token_budget_coverage(current, relevant, D, config)["fac_mean"] == pytest.approx(np.mean(expected))


def test_token_budget_removes_the_length_effect():
    """Long texts with many features vs short texts with few, at the same features per token."""
    d = 1000
    long_texts = rows([list(range(10 * i, 10 * i + 10)) for i in range(100)], tokens=[100] * 100)
    short_texts = rows([[i] for i in range(100)], tokens=[10] * 100)
    anchor = FeatureCounts(d, n_docs=1, n_tokens=1)
    anchor.doc_freq[:] = 1
    plain = CoverageConfig(anchor_min_support=1)
    long_fac, short_fac = (compute_coverage(anchor, r, config=plain).fac for r in (long_texts, short_texts))
    assert long_fac == 1.0 and short_fac == 0.1  # plain FAC rewards length
    budget = CoverageConfig(anchor_min_support=1, token_budget=1000)
    at_budget = [compute_coverage(anchor, r, config=budget).variants["token_budget"] for r in (long_texts, short_texts)]
    assert at_budget[0]["fac_mean"] == at_budget[1]["fac_mean"] == pytest.approx(0.1)
    assert at_budget[0]["soft_fac_mean"] == at_budget[1]["soft_fac_mean"]


def test_token_budget_larger_than_the_set_uses_it_whole_with_a_note():
    anchor = anchor_of([[0, 1]])
    config = CoverageConfig(token_budget=100, anchor_min_support=1)
    report = compute_coverage(anchor, rows([[0]], tokens=[7]), config=config)
    assert report.variants["token_budget"]["whole_set"] and report.variants["token_budget"]["fac_mean"] == 0.5
    assert any("fewer than the token budget 100" in note for note in report.notes)


def test_token_budget_needs_rows_with_token_counts():
    anchor = anchor_of([[0, 1]])
    config = CoverageConfig(token_budget=10, anchor_min_support=1)
    with pytest.raises(FacInputError, match="FeatureRows"):
        compute_coverage(anchor, anchor_of([[0]]), config=config)
    unknown = FeatureRows.from_lists([[0]], [[1.0]])
    with pytest.raises(FacInputError, match="token count"):
        compute_coverage(anchor, unknown, config=config)


# ------------------------------------------------------------------ activation rules
def test_filter_rows_drops_activations_below_the_floor():
    current = rows([[0, 1], [0, 2]], [[1.0, 6.0], [3.0, 0.1]], tokens=[4, 5])
    kept = filter_rows(current, np.array([2.0, 5.0, np.nan, 0, 0, 0, 0, 0], dtype=np.float32))
    assert kept.offsets.tolist() == [0, 1, 3]
    assert kept.features.tolist() == [1, 0, 2] and kept.activations.tolist() == [6.0, 3.0, pytest.approx(0.1)]
    assert kept.n_tokens.tolist() == [4, 5]


def test_quantile_rule_by_hand_on_anchor_and_current():
    medians = [2.0, 5.0, np.nan, 1, 1, 1, 1, 1]
    anchor_lists, anchor_acts = [[0, 1], [0, 1, 2]], [[2.5, 4.0], [1.0, 5.0, 0.3]]
    anchor = anchor_of(anchor_lists, anchor_acts)
    current = rows([[0, 1]], [[1.0, 6.0]])
    plain = compute_coverage(anchor, current, config=CoverageConfig(anchor_min_support=1))
    assert plain.fac == pytest.approx(2 / 3)  # {0, 1} of {0, 1, 2}
    config = CoverageConfig(anchor_min_support=1, activation_rule="quantile")
    ruled = compute_coverage(
        anchor, current, config=config, anchor_rows=rows(anchor_lists, anchor_acts), reference=reference_stats(medians)
    )
    # anchor after the rule: row 0 keeps 0 (2.5 >= 2), row 1 keeps 1 (5 >= 5) and 2 (no quantile): all support 1
    # current keeps only 1 (6 >= 5; 1.0 < 2)
    assert ruled.n_relevant == 3 and ruled.covered == [1] and ruled.missing_ids == [0, 2]
    assert ruled.missing[0].anchor_support == 1
    assert ruled.activation_rule.startswith("quantile") and "1 features never active" in ruled.activation_rule
    assert ruled.variants["activation_rule"] == "quantile"


def test_quantile_rule_with_anchor_counts_filters_current_only_and_says_so():
    anchor = anchor_of([[0, 1]], [[2.5, 4.0]])
    config = CoverageConfig(anchor_min_support=1, activation_rule="quantile")
    report = compute_coverage(anchor, rows([[0, 1]], [[1.0, 6.0]]), config=config, reference=reference_stats([2.0] * D))
    assert report.covered == [1] and any("current set only" in note for note in report.notes)


def test_fraction_of_max_rule():
    anchor = anchor_of([[0, 1], [0]], [[4.0, 2.0], [1.0]])  # max: 0 -> 4, 1 -> 2
    config = CoverageConfig(anchor_min_support=1, activation_rule="fraction_of_max", activation_fraction=0.5)
    report = compute_coverage(anchor, rows([[0, 1]], [[1.9, 1.0]]), config=config)
    assert report.covered == [1] and report.missing_ids == [0]  # 1.9 < 2.0; 1.0 >= 1.0


def test_quantile_rule_refuses_stats_of_another_sae():
    anchor = anchor_of([[0, 1]], provenance={"sae": "mine"})
    config = CoverageConfig(activation_rule="quantile", anchor_min_support=1)
    with pytest.raises(FacSAEError, match="fac reference-counts"):
        compute_coverage(anchor, rows([[0]]), config=config, reference=reference_stats([1.0] * D, {"sae": "other"}))
    with pytest.raises(FacInputError, match="FeatureRows"):
        compute_coverage(
            anchor,
            anchor_of([[0]], provenance={"sae": "mine"}),
            config=config,
            reference=reference_stats([1.0] * D, {"sae": "mine"}),
        )


# ------------------------------------------------------------------ the CLI on the tiny model
ANCHOR_TEXTS = SEA_POEMS


def _jsonl(path, texts):
    import json

    path.write_text("".join(json.dumps({"prompt": t}) + "\n" for t in texts))
    return path


def _coverage_args(tmp_path, tiny) -> list:
    """`fac coverage` of part of the anchor and some general text against the anchor, on the tiny setup."""
    anchor = _jsonl(tmp_path / "anchor.jsonl", ANCHOR_TEXTS)
    current = _jsonl(tmp_path / "current.jsonl", ANCHOR_TEXTS[:2] + GENERAL[:2])
    return ["coverage", "--anchor", anchor, "--current", current, "--out", tmp_path / "report", "--json", *tiny.args]


def _report(result) -> dict:
    import json

    assert result.exit_code == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


@pytest.fixture()
def tiny_reference(tmp_path, tiny_model_dir, tiny_sae_dir):
    from fac_datasets.features.extractor import load_extractor
    from fac_datasets.features.reference import build_reference

    extractor = load_extractor(model=str(tiny_model_dir), sae=str(tiny_sae_dir))
    return build_reference(extractor, GENERAL, corpus="general").save(tmp_path / "ref.safetensors")


def test_coverage_cli_with_enrichment_budget_and_quantile_rule(fac, tmp_path, tiny, tiny_reference):
    options = ["--relevance", "enrichment", "--reference", str(tiny_reference), "--min-z", "0"]
    options += ["--enrichment-min-support", "2", "--activation-rule", "quantile", "--token-budget", "15"]
    options += ["--budget-seeds", "2", "--soft-support", "2", "--task", "poetry"]
    report = _report(fac(*_coverage_args(tmp_path, tiny), *options))
    assert report["relevance"].startswith(f"{report['n_relevant']} features enriched vs reference general")
    assert report["activation_rule"].startswith("quantile") and report["variants"]["activation_rule"] == "quantile"
    budget = report["variants"]["token_budget"]
    assert budget["tokens"] == 15 and budget["seeds"] == 2 and 0 <= budget["fac_mean"] <= 1
    assert report["variants"]["soft_support"] == 2 and report["variants"]["neg_mmd"] is None
    assert not any("relevance is anchor support" in note for note in report["notes"])
    assert any("statistical enrichment" in note for note in report["notes"])
    enrichment = json.loads((tmp_path / "report" / "enrichment.json").read_text())
    assert enrichment["features"] and min(enrichment["anchor_doc_freq"]) >= 2
    html = (tmp_path / "report" / "coverage.html").read_text()
    assert "token-budget FAC" in html and "soft FAC" in html


def test_coverage_cli_with_a_contrast_set(fac, tmp_path, tiny):
    contrast = _jsonl(tmp_path / "contrast.jsonl", GENERAL)
    options = ["--relevance", "enrichment", "--contrast", str(contrast), "--min-z", "0"]
    options += ["--enrichment-min-support", "2", "--reference", str(tmp_path / "never-read.safetensors")]
    report = _report(fac(*_coverage_args(tmp_path, tiny), *options))
    assert "enriched vs contrast set contrast" in report["relevance"] and report["activation_rule"].startswith("any")


def test_coverage_cli_refuses_the_default_reference_for_another_sae(fac, tmp_path, tiny):
    anchor = _jsonl(tmp_path / "anchor.jsonl", ANCHOR_TEXTS)
    command = ["coverage", "--anchor", anchor, "--current", anchor, "--out", tmp_path / "o", *tiny.args]
    result = fac(*command, "--activation-rule", "quantile")
    assert result.exit_code == 2 and "another feature setup" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
def test_coverage_cli_reports_neg_mmd(fac, tmp_path, tiny):
    report = _report(fac(*_coverage_args(tmp_path, tiny), "--mmd", "--anchor-min-support", "1"))
    assert report["variants"]["neg_mmd"] is not None and report["variants"]["neg_mmd"] < 0.5
