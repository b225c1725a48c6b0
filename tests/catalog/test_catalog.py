"""FeatureCatalog: built from mined spans, saved and loaded, updated, and refused when it does not fit."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest
from helpers import CORPUS

from fac_datasets.catalog.catalog import FeatureCatalog
from fac_datasets.catalog.spans import mine_spans
from fac_datasets.config import SpanConfig
from fac_datasets.constants import CATALOG_SIDECAR
from fac_datasets.errors import FacInputError, FacSAEError
from fac_datasets.features.extractor import load_extractor

TEXTS = [*CORPUS, "Write a poem about the sea.", CORPUS[1], "Hi", ""]
CONFIG = SpanConfig(top_n=4, window_before=3, window_after=1, random_per_feature=5, contrast_reservoir=8, shard_size=3)


@pytest.fixture(scope="module")
def extractor(tiny_model_dir, tiny_sae_dir):
    return load_extractor(model=str(tiny_model_dir), sae=str(tiny_sae_dir), max_length=64)


@pytest.fixture(scope="module")
def mined(extractor, tmp_path_factory):
    return mine_spans(extractor, TEXTS, tmp_path_factory.mktemp("spans"), CONFIG, progress=False)


@pytest.fixture(scope="module")
def catalog(mined, extractor):
    return FeatureCatalog.from_spans(mined, mined.counts, extractor.provenance)


def test_rows_are_the_active_features_with_their_spans(catalog, mined):
    counts = mined.counts
    assert catalog.feature_ids == counts.active().tolist() and len(catalog) == len(counts.active())
    for feature in catalog.feature_ids:
        row = catalog.row(feature)
        assert row["doc_freq"] == counts.doc_freq[feature] > 0
        assert row["max_activation"] == pytest.approx(counts.max_activation[feature])
        top = mined.top[feature]
        assert [s["text_index"] for s in row["top_spans"]] == [s.text_index for s in top]
        assert row["top_spans"][0]["activation"] == pytest.approx(row["max_activation"])
        assert [s["text_index"] for s in row["random_spans"]] == [s.text_index for s in mined.weak(feature)]
        assert row["contrast_spans"] == mined.contrast(feature)
        peaks = Counter(s["tokens"][s["peak_index"]].strip() or s["tokens"][s["peak_index"]] for s in row["top_spans"])
        summary = row["token_summary"]
        assert summary and all(entry["count"] == peaks[entry["token"]] for entry in summary)
        assert sum(entry["count"] for entry in summary) == len(row["top_spans"])  # few distinct tokens here
        assert [(-e["count"], e["token"]) for e in summary] == sorted((-e["count"], e["token"]) for e in summary)
        assert row["explanation"] is None and row["verification_score"] is None and row["relevance"] == {}
    with pytest.raises(FacInputError, match="Feature 999 is not in the catalog"):
        catalog.row(999)


def test_save_load_round_trip_and_update(catalog, extractor, tmp_path):
    folder = catalog.save(tmp_path / "catalog")
    sidecar = json.loads((folder / CATALOG_SIDECAR).read_text())
    assert sidecar["format"] == "fac-datasets/feature-catalog" and sidecar["provenance"] == extractor.provenance
    loaded = FeatureCatalog.load(folder)
    assert loaded.provenance == catalog.provenance and loaded.info["n_docs"] == len(TEXTS)
    assert loaded.dataset.to_list() == catalog.dataset.to_list()
    loaded.check_fits(extractor.provenance)

    first = loaded.feature_ids[0]
    verdict = {"decision": "relevant", "score": 2.5, "method": "enrichment", "provenance": {"anchor": "x"}}
    updated = loaded.update({first: {"explanation": "sea words", "explainer": {"model": "m", "prompt_version": 1}}})
    updated = updated.update({first: {"relevance": {"safety": verdict}, "verification_score": 0.75}})
    updated = updated.update({first: {"relevance": {"poems": {**verdict, "decision": "irrelevant"}}}})
    row = updated.row(first)
    assert row["explanation"] == "sea words" and row["verification_score"] == 0.75
    assert row["explainer"] == {"model": "m", "prompt_version": 1}
    assert row["relevance"] == {"safety": verdict, "poems": {**verdict, "decision": "irrelevant"}}
    assert loaded.row(first)["explanation"] is None  # update returns a new catalog
    assert updated.row(loaded.feature_ids[1])["relevance"] == {}
    updated.save(folder)  # over the catalog it was loaded from
    assert FeatureCatalog.load(folder).row(first)["relevance"]["safety"] == verdict
    with pytest.raises(FacInputError, match="only .*explanation"):
        loaded.update({first: {"doc_freq": 3}})
    with pytest.raises(FacInputError, match="not in the catalog"):
        loaded.update({999: {"explanation": "x"}})


def test_catalog_from_another_sae_is_refused(catalog, extractor):
    other = {**extractor.provenance, "sae": "0123456789abcdef"}
    with pytest.raises(FacSAEError, match="Catalog from another SAE.*sae '.*' vs '0123456789abcdef'"):
        catalog.check_fits(other)
    with pytest.raises(FacSAEError, match="layer 2 vs 3"):
        catalog.check_fits({**extractor.provenance, "layer": 3})
    catalog.check_fits({**extractor.provenance, "threshold": 0.5})  # same features, other threshold: fits


def test_bad_catalog_folders_give_clear_errors(catalog, extractor, tmp_path):
    with pytest.raises(FacInputError, match="no such folder"):
        FeatureCatalog.load(tmp_path / "missing")
    catalog.dataset.save_to_disk(str(tmp_path / "plain"))
    with pytest.raises(FacInputError, match="not a feature catalog"):
        FeatureCatalog.load(tmp_path / "plain")
    with pytest.raises(FacInputError, match="exists and is not a feature catalog"):
        catalog.save(tmp_path / "plain")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / CATALOG_SIDECAR).write_text('{"format": "something else"}')
    with pytest.raises(FacInputError, match="not a feature-catalog sidecar"):
        FeatureCatalog.load(tmp_path / "bad")
    empty = FeatureCatalog(catalog.dataset.select([]), catalog.provenance, catalog.info)
    empty.save(tmp_path / "empty")
    with pytest.raises(FacInputError, match="empty feature catalog"):
        FeatureCatalog.load(tmp_path / "empty")


def test_blank_texts_give_no_catalog(extractor, tmp_path):
    mined = mine_spans(extractor, ["", ""], tmp_path, CONFIG, progress=False)
    assert mined.counts.n_docs == 2 and not mined.top and not np.any(mined.counts.doc_freq)
    with pytest.raises(FacInputError, match="No feature was active in any of the 2 texts"):
        FeatureCatalog.from_spans(mined)
