"""Reference stats: bounded per-feature activation samples, exact quantiles when small, file round trip,
provenance checks, `fac reference-counts`, and the file shipped for the default SAE."""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import TEXTS

from fac_datasets.errors import FacConfigError, FacInputError, FacSAEError
from fac_datasets.features.counts import FeatureCounts
from fac_datasets.features.extractor import load_extractor
from fac_datasets.features.reference import (
    ActivationReservoir,
    ReferenceStats,
    build_reference,
    default_reference_path,
    load_reference,
)
from fac_datasets.features.rows import FeatureRows

LEVELS = (0.25, 0.5, 0.75, 0.9)


def random_rows(n: int = 60, d: int = 6, seed: int = 1) -> FeatureRows:
    gen = np.random.default_rng(seed)
    lists = [sorted(gen.choice(d - 1, size=gen.integers(1, d - 1), replace=False).tolist()) for _ in range(n)]
    return FeatureRows.from_lists(lists, [gen.random(len(r)).tolist() for r in lists], [5] * n)


def fill(reservoir: ActivationReservoir, rows: FeatureRows, batch: int) -> ActivationReservoir:
    for start in range(0, rows.n_rows, batch):
        reservoir.add(rows.take(np.arange(start, min(rows.n_rows, start + batch))))
    return reservoir


def test_reservoir_quantiles_are_exact_when_everything_fits():
    rows = random_rows()
    quantiles, n_sampled = fill(ActivationReservoir(6, size=1000), rows, batch=7).quantiles(LEVELS)
    for f in range(5):
        values = rows.activations[rows.features == f]
        assert n_sampled[f] == values.size
        assert np.allclose(quantiles[:, f], np.quantile(values, LEVELS), atol=1e-6)
    assert n_sampled[5] == 0 and np.isnan(quantiles[:, 5]).all()  # never active: no quantile


def test_reservoir_is_bounded_seeded_and_independent_of_batching():
    rows = random_rows(n=200)
    small = fill(ActivationReservoir(6, size=10, seed=3), rows, batch=200).quantiles(LEVELS)
    assert (small[1][:5] == 10).all()
    again = fill(ActivationReservoir(6, size=10, seed=3), rows, batch=9).quantiles(LEVELS)
    assert np.array_equal(small[0], again[0], equal_nan=True)
    other = fill(ActivationReservoir(6, size=10, seed=4), rows, batch=200).quantiles(LEVELS)
    assert not np.array_equal(small[0], other[0], equal_nan=True)
    with pytest.raises(FacConfigError):
        ActivationReservoir(6, size=0)


def stats_with(provenance: dict) -> ReferenceStats:
    rows = random_rows()
    counts = FeatureCounts.from_rows(rows, 6, provenance)
    quantiles, n_sampled = fill(ActivationReservoir(6), rows, batch=60).quantiles(LEVELS)
    return ReferenceStats(counts, LEVELS, quantiles, n_sampled, {"corpus": {"name": "random"}})


def test_reference_stats_round_trip_and_read_as_counts(tmp_path):
    stats = stats_with({"model": "m", "layer": 2, "sae": "abc", "threshold": 0.0})
    path = stats.save(tmp_path / "ref.safetensors")
    loaded = ReferenceStats.load(path)
    assert loaded.counts == stats.counts and loaded.levels == LEVELS and loaded.meta == stats.meta
    assert np.array_equal(loaded.quantiles, stats.quantiles, equal_nan=True)
    assert np.array_equal(loaded.n_sampled, stats.n_sampled)
    assert np.array_equal(loaded.quantile(0.5), stats.quantiles[1], equal_nan=True)
    assert FeatureCounts.load(path) == stats.counts  # usable wherever counts are
    with pytest.raises(FacConfigError, match=r"stored: \[0.25, 0.5, 0.75, 0.9\]"):
        loaded.quantile(0.6)
    counts_only = stats.counts.save(tmp_path / "counts.safetensors")
    with pytest.raises(FacInputError, match="not a reference-stats file"):
        ReferenceStats.load(counts_only)


def test_load_reference_checks_provenance(tmp_path):
    mine = {"model": "m", "layer": 2, "sae": "abc", "threshold": 0.0}
    path = stats_with(mine).save(tmp_path / "ref.safetensors")
    assert load_reference(path, mine).provenance == mine
    with pytest.raises(FacSAEError, match=r"sae: 'abc' \(reference\) vs 'xyz' \(yours\).*fac reference-counts"):
        load_reference(path, {**mine, "sae": "xyz"})
    with pytest.raises(FacInputError, match="no such reference-stats file"):
        load_reference(tmp_path / "missing.safetensors")


def test_build_reference_on_the_tiny_model(tiny_model_dir, tiny_sae_dir):
    extractor = load_extractor(model=str(tiny_model_dir), sae=str(tiny_sae_dir), max_length=64)
    texts = TEXTS * 3
    stats = build_reference(extractor, texts, corpus="tiny texts", batch_texts=4)
    rows = extractor.extract_rows(texts)
    assert stats.counts == FeatureCounts.from_rows(rows, extractor.sae.d_sae, extractor.provenance)
    for f in np.unique(rows.features):
        assert np.allclose(stats.quantiles[:, f], np.quantile(rows.activations[rows.features == f], LEVELS), atol=1e-5)
    assert stats.meta["corpus"] == "tiny texts" and stats.meta["dtype"] == "float32"
    with pytest.raises(FacInputError, match="empty"):
        build_reference(extractor, [])


def test_reference_counts_cli(fac, tmp_path, tiny):
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps({"prompt": t}) + "\n" for t in TEXTS * 2))
    out = tmp_path / "ref.safetensors"
    result = fac("reference-counts", "--corpus", corpus, "--out", out, *tiny.args)
    assert result.exit_code == 0, result.stderr[-3000:]
    assert f"{len(TEXTS) * 2} texts" in result.stdout
    stats = ReferenceStats.load(out)
    assert stats.counts.n_docs == 12 and stats.meta["corpus"]["column"] == "prompt"
    assert stats.provenance["sae"] and stats.provenance["model"]
    bad = fac("reference-counts", "--corpus", corpus, "--out", tmp_path / "ref.json", *tiny.args)
    assert bad.exit_code == 2 and "must end in .safetensors" in bad.stderr


def test_shipped_reference_matches_the_default_sae():
    from fac_datasets.features.sae_spec import resolve_sae
    from fac_datasets.sae.io import content_hash

    path = default_reference_path()
    assert path.is_file() and path.stat().st_size < 600_000
    sae = resolve_sae("default")
    stats = load_reference("default")
    assert stats.provenance["sae"] == content_hash(sae) and stats.d_sae == sae.d_sae
    assert stats.provenance["layer"] == sae.cfg.layer and stats.provenance["threshold"] == 0.0
    # every 8th training chunk of the default corpus (1,089 texts; see docs/catalog.md)
    assert stats.counts.n_docs > 1000 and stats.meta["corpus"]["name"] == "default SAE training corpus"
    assert stats.levels == LEVELS
    active = stats.counts.doc_freq > 0
    assert np.isfinite(stats.quantiles[:, active]).all()
    assert (np.diff(stats.quantiles[:, active], axis=0) >= 0).all()  # quantiles rise with q
    with pytest.raises(FacSAEError):
        load_reference("default", {**stats.provenance, "sae": "0000000000000000"})
