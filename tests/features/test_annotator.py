"""FeatureAnnotator with datasets.map on the tiny model: columns, cache, num_proc, bad input."""

from __future__ import annotations

import datasets
import pytest
from helpers import TEXTS

from fac_datasets.coverage.measure import measure
from fac_datasets.errors import FacInputError
from fac_datasets.features.annotator import FeatureAnnotator
from fac_datasets.features.counts import FeatureCounts
from fac_datasets.features.rows import FeatureRows


@pytest.fixture()
def annotator(tiny_model_dir, tiny_sae_dir):
    return FeatureAnnotator(model=str(tiny_model_dir), sae=str(tiny_sae_dir))


@pytest.fixture()
def disk_dataset(tmp_path):
    """An Arrow-backed dataset: the kind whose map results datasets caches."""
    datasets.Dataset.from_dict({"text": TEXTS, "id": list(range(len(TEXTS)))}).save_to_disk(tmp_path / "ds")
    return datasets.load_from_disk(str(tmp_path / "ds"))


def test_map_adds_aligned_columns(annotator, disk_dataset):
    out = disk_dataset.map(annotator, batched=True, batch_size=4)
    assert {"fac_features", "fac_activations", "fac_n_tokens"} <= set(out.column_names)
    for features, activations, n in zip(out["fac_features"], out["fac_activations"], out["fac_n_tokens"], strict=True):
        assert len(features) == len(activations)
        assert (n == 0) == (features == [])
    direct = annotator.extractor.extract(TEXTS)
    assert out["fac_features"] == [r.features for r in direct]


def test_second_map_with_an_equal_annotator_hits_the_cache(tiny_model_dir, tiny_sae_dir, disk_dataset):
    first = FeatureAnnotator(model=str(tiny_model_dir), sae=str(tiny_sae_dir)).annotate(disk_dataset)
    again = FeatureAnnotator(model=str(tiny_model_dir), sae=str(tiny_sae_dir))
    second = again.annotate(disk_dataset)
    assert again._extractor is None, "the model was loaded: the cache was missed"
    assert second["fac_features"] == first["fac_features"]
    assert second.cache_files == first.cache_files


def test_different_threshold_misses_the_cache(tiny_model_dir, tiny_sae_dir, disk_dataset):
    a = FeatureAnnotator(model=str(tiny_model_dir), sae=str(tiny_sae_dir))
    b = FeatureAnnotator(model=str(tiny_model_dir), sae=str(tiny_sae_dir), threshold=0.5)
    assert a.fingerprint != b.fingerprint
    assert a.annotate(disk_dataset).cache_files != b.annotate(disk_dataset).cache_files


def test_num_proc_2_gives_the_same_annotations(annotator, disk_dataset):
    single = disk_dataset.map(annotator, batched=True, batch_size=2, load_from_cache_file=False)
    double = disk_dataset.map(annotator, batched=True, batch_size=2, num_proc=2, load_from_cache_file=False)
    assert double["fac_features"] == single["fac_features"]
    for a, b in zip(double["fac_activations"], single["fac_activations"], strict=True):
        assert a == pytest.approx(b, rel=1e-5, abs=1e-6)


def test_chat_column(annotator):
    ds = datasets.Dataset.from_dict({"messages": [[{"role": "user", "content": "Write a poem."}]]})
    annotator.config = annotator.config.model_copy(update={"column": "messages"})
    out = annotator.annotate(ds)
    assert out["fac_n_tokens"][0] == len(annotator.extractor.backbone.tokenizer("Write a poem.")["input_ids"])


def test_missing_column_names_the_columns(annotator, disk_dataset):
    annotator.config = annotator.config.model_copy(update={"column": "prompt"})
    with pytest.raises(FacInputError, match=r"Column 'prompt' not found; the dataset has columns \['text', 'id'\]"):
        annotator.annotate(disk_dataset)


def test_non_string_rows_and_empty_dataset(annotator):
    with pytest.raises(FacInputError, match="Row 1 is None"):
        annotator.annotate(datasets.Dataset.from_dict({"text": ["ok", None]}))
    with pytest.raises(FacInputError, match="Row 0 is a int"):
        annotator.annotate(datasets.Dataset.from_dict({"text": [5]}))
    with pytest.raises(FacInputError, match="empty"):
        annotator.annotate(datasets.Dataset.from_dict({"text": []}))


def test_counts_from_annotated_dataset_match_lists(annotator, disk_dataset):
    out = annotator.annotate(disk_dataset)
    rows = FeatureRows.from_dataset(out.select([5, 0, 2]))
    expected = FeatureRows.from_lists([out["fac_features"][i] for i in (5, 0, 2)])
    assert rows.features.tolist() == expected.features.tolist()
    whole = FeatureCounts.from_dataset(out, 64)
    halves = FeatureCounts.from_dataset(out.select(range(3)), 64) + FeatureCounts.from_dataset(
        out.select(range(3, 6)), 64
    )
    assert halves == whole


def test_measure_on_texts(annotator):
    report = measure(TEXTS[:3], TEXTS, features=annotator.extractor)
    assert 0 < report.fac <= 1
    full = measure(TEXTS, TEXTS, features=annotator.extractor)
    assert full.fac == 1.0
    with pytest.raises(FacInputError, match="measure needs the anchor"):
        measure(TEXTS, features=annotator.extractor)


def test_num_proc_workers_do_not_hang_after_a_multithreaded_parent(tiny_model_dir, tiny_sae_dir, tmp_path):
    """Forked workers must not reuse the parent's OpenMP pool (a libgomp hang, seen with 2 threads)."""
    import subprocess
    import sys

    script = f"""
import torch, datasets
torch.set_num_threads(2)
from fac_datasets.features.annotator import FeatureAnnotator
annotator = FeatureAnnotator(model={str(tiny_model_dir)!r}, sae={str(tiny_sae_dir)!r})
ds = datasets.Dataset.from_dict({{"text": {TEXTS!r} * 4}})
single = ds.map(annotator, batched=True, batch_size=4)          # parent runs torch with 2 threads
double = ds.map(annotator, batched=True, batch_size=4, num_proc=2, load_from_cache_file=False)
assert double["fac_features"] == single["fac_features"]
print("ok")
"""
    env = {**__import__("os").environ, "OMP_NUM_THREADS": "2"}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=240, env=env, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("ok")
